"""Gymnasium ``vector_entry_point``s of the batched families.

``gymnasium.make_vec("teachgym/GridNavigation-v0", num_envs=4096,
vectorization_mode="vector_entry_point", device="cpu")`` lands here (``teachgym/envs/__init__.py``
registers one entry point per id that has a batched version). ``gymnasium.make`` of the same id
still builds the MiniGrid-based env, and ``vectorization_mode="sync"`` still vectorises it.

Options: ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"``), ``seed`` (the
``torch.Generator`` of layouts and random draws) and ``interface``: ``"torch"`` (default) returns
the batched env itself, whose ``step`` takes and returns tensors on ``device``; ``"numpy"``
returns ``BatchedNumpyVectorEnv``, the same env with NumPy arrays in and out.
"""

from __future__ import annotations

from typing import Any

from gymnasium.vector import VectorEnv

from teachgym.checks import check_choice
from teachgym.envs.batched.base import BatchedGridEnv
from teachgym.envs.batched.numpy_vector import BatchedNumpyVectorEnv

__all__ = [
    "INTERFACES",
    "grid_key_door",
    "grid_navigation",
    "make_batched",
    "noisy_rooms",
    "noisy_tv_rooms",
]

INTERFACES = ("torch", "numpy")


def make_batched(
    family: type[BatchedGridEnv],
    num_envs: int = 1,
    *,
    device: Any = "cpu",
    seed: int | None = None,
    interface: str = "torch",
    **unknown: Any,
) -> VectorEnv:
    """``family(num_envs, device=device, seed=seed)``, in the chosen interface.

    Raises:
        ValueError: an unknown ``interface`` or option, a bad ``num_envs`` or ``device``.
    """
    check_choice("interface", interface, INTERFACES)
    if unknown:
        raise ValueError(
            f"unknown option(s) {sorted(unknown)} for the batched {family.__name__}; expected "
            "num_envs, device, seed, interface"
        )
    env = family(num_envs, device=device, seed=seed)
    return env if interface == "torch" else BatchedNumpyVectorEnv(env)


def grid_navigation(num_envs: int = 1, **options: Any) -> VectorEnv:
    """The vector entry point of ``teachgym/GridNavigation-v0``."""
    from teachgym.envs.batched.grid_navigation import BatchedGridNavigation

    return make_batched(BatchedGridNavigation, num_envs, **options)


def grid_key_door(num_envs: int = 1, **options: Any) -> VectorEnv:
    """The vector entry point of ``teachgym/GridKeyDoor-v0``."""
    from teachgym.envs.batched.grid_key_door import BatchedGridKeyDoor

    return make_batched(BatchedGridKeyDoor, num_envs, **options)


def noisy_rooms(num_envs: int = 1, **options: Any) -> VectorEnv:
    """The vector entry point of ``teachgym/NoisyRooms-v0``."""
    from teachgym.envs.batched.noisy_rooms import BatchedNoisyRooms

    return make_batched(BatchedNoisyRooms, num_envs, **options)


def noisy_tv_rooms(num_envs: int = 1, **options: Any) -> VectorEnv:
    """The vector entry point of ``teachgym/NoisyTVRooms-v0``."""
    from teachgym.envs.batched.noisy_tv import BatchedNoisyTVRooms

    return make_batched(BatchedNoisyTVRooms, num_envs, **options)
