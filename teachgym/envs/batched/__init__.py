"""Batched, device-native versions of teachgym's grid families (issue 13), in torch.

A batched env holds every sub-env's state as tensors of shape ``(num_envs, …)`` on one device and
steps all of them with a few tensor operations. This package imports only torch and numpy (never
MiniGrid), so it loads fast and runs on CPU or GPU.
"""

from __future__ import annotations

from teachgym.envs.batched.grid_navigation import (
    GRID_NAVIGATION_PARAM_SPACE,
    BatchedGridNavigation,
)

__all__ = ["GRID_NAVIGATION_PARAM_SPACE", "BatchedGridNavigation"]
