"""Batched, device-native versions of teachgym's grid families (issue 13), in torch.

A batched env holds every sub-env's state as tensors of shape ``(num_envs, …)`` on one device and
steps all of them with a few tensor operations. ``BatchedGridEnv`` (``base.py``) holds the state,
the MiniGrid dynamics, the observation, autoreset and the per-env params; a family subclasses it
and implements ``_generate``. This package imports only torch and numpy (never MiniGrid), so it
loads fast and runs on CPU or GPU.
"""

from __future__ import annotations

from teachgym.envs.batched.base import BatchedGridEnv
from teachgym.envs.batched.grid_key_door import GRID_KEY_DOOR_PARAM_SPACE, BatchedGridKeyDoor
from teachgym.envs.batched.grid_navigation import (
    GRID_NAVIGATION_PARAM_SPACE,
    BatchedGridNavigation,
)

__all__ = [
    "GRID_KEY_DOOR_PARAM_SPACE",
    "GRID_NAVIGATION_PARAM_SPACE",
    "BatchedGridEnv",
    "BatchedGridKeyDoor",
    "BatchedGridNavigation",
]
