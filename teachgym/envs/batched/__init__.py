"""Batched, device-native versions of teachgym's grid families, in torch.

A batched env holds every sub-env's state as tensors of shape ``(num_envs, …)`` on one device and
steps all of them with a few tensor operations. ``BatchedGridEnv`` (``base.py``) holds the state,
the MiniGrid dynamics, the observation, autoreset and the per-env params; a family subclasses it
and implements ``_generate``. This package imports only torch, numpy and Gymnasium (never
MiniGrid), so it loads fast and runs on CPU or GPU.

Faces: a ``BatchedGridEnv`` is itself a Gymnasium ``VectorEnv`` of torch tensors (autoreset
``same_step``); ``BatchedNumpyVectorEnv`` is the same env returning NumPy arrays; and
``teachgym.envs.batched.sb3.BatchedSB3VecEnv`` (imported from its module: it needs the ``train``
extra) is a stable-baselines3 ``VecEnv`` with ``GridFlatObs``-equal observations.

``gymnasium.make_vec(id, num_envs, vectorization_mode="vector_entry_point", device=...)``
builds them for the four grid ids (``entry_points.py``).
"""

from __future__ import annotations

from teachgym.envs.batched.base import BatchedGridEnv
from teachgym.envs.batched.grid_key_door import GRID_KEY_DOOR_PARAM_SPACE, BatchedGridKeyDoor
from teachgym.envs.batched.grid_navigation import (
    GRID_NAVIGATION_PARAM_SPACE,
    BatchedGridNavigation,
)
from teachgym.envs.batched.noisy_rooms import NOISY_ROOMS_PARAM_SPACE, BatchedNoisyRooms
from teachgym.envs.batched.noisy_tv import NOISY_TV_ROOMS_PARAM_SPACE, BatchedNoisyTVRooms
from teachgym.envs.batched.numpy_vector import BatchedNumpyVectorEnv

__all__ = [
    "GRID_KEY_DOOR_PARAM_SPACE",
    "GRID_NAVIGATION_PARAM_SPACE",
    "NOISY_ROOMS_PARAM_SPACE",
    "NOISY_TV_ROOMS_PARAM_SPACE",
    "BatchedGridEnv",
    "BatchedGridKeyDoor",
    "BatchedGridNavigation",
    "BatchedNoisyRooms",
    "BatchedNoisyTVRooms",
    "BatchedNumpyVectorEnv",
]
