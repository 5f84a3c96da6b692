"""Parameterized environments. Every env id is registered here, in one place.

``import teachgym`` runs this module, so ``gymnasium.make("teachgym/StumpTracks-v0")`` works after
it, and ``gymnasium.make("teachgym:teachgym/StumpTracks-v0")`` works without any import.
Entry points are strings, so Box2D and MiniGrid load only when such an env is made.

=============================  ======  ==========================================================
id                             params  what it is
=============================  ======  ==========================================================
teachgym/StumpTracks-v0        2       Box2D walker over stumps (Portelas et al. 2019)
teachgym/HexagonTracks-v0      12      Box2D walker over deformed hexagons (Portelas et al. 2019)
teachgym/GridNavigation-v0     4       MiniGrid room with walls and lava, reach the goal
teachgym/GridKeyDoor-v0        3       MiniGrid chain of locked rooms with keys and distractors
teachgym/NoisyRooms-v0         4       MiniGrid rooms with noisy floors (Adversarial Surprise)
teachgym/NoisyTVRooms-v0       3       MiniGrid rooms with a noisy TV ball (RIDE)
=============================  ======  ==========================================================

Each env's class docstring is its card (parameters, spaces, reward, termination, versions).
``make_env`` (``teachgym.envs.factory``) is the one factory that trainers and agents build envs
with.
"""

from __future__ import annotations

import zlib
from typing import Any

import gymnasium as gym
import numpy as np

from teachgym.envs.factory import (
    OBS_CHOICES,
    FixedParams,
    env_factory,
    make_env,
    resolve_obs,
    wrap_obs,
)
from teachgym.spaces import ParamSpace

__all__ = [
    "ENV_IDS",
    "OBS_CHOICES",
    "FixedParams",
    "env_factory",
    "env_info",
    "make_env",
    "param_space",
    "resolve_obs",
    "test_set",
    "wrap_obs",
]

# (id, entry point, max_episode_steps, reward_threshold), as Gymnasium's specs carry them.
#
# max_episode_steps: the Box2D tracks end after 2,000 steps (TimeLimit). The grid families
# truncate themselves (MiniGrid's own max_steps, which also scales their reward) and have no one
# fixed limit: GridNavigation's and GridKeyDoor's follows the episode's params (room size, rooms),
# NoisyRooms' and NoisyTVRooms' is their `max_steps` constructor argument, which a spec limit
# would silently cut. So None.
# reward_threshold: the env's mastery threshold (returns above it count as mastered): 230 on the
# tracks (Portelas et al. 2019). A grid episode is mastered when its return is above 0 (the goal
# reached); as a spec threshold 0 would read as "solved" at any return, since tools compare the
# mean return with >= (SB3's StopTrainingOnRewardThreshold), so None; `mastery_threshold` says it.
_REGISTRY: tuple[tuple[str, str, int | None, float | None], ...] = (
    ("teachgym/StumpTracks-v0", "teachgym.envs.walkers.stump_tracks:StumpTracks", 2000, 230.0),
    (
        "teachgym/HexagonTracks-v0",
        "teachgym.envs.walkers.hexagon_tracks:HexagonTracks",
        2000,
        230.0,
    ),
    (
        "teachgym/GridNavigation-v0",
        "teachgym.envs.grids.grid_navigation:GridNavigation",
        None,
        None,
    ),
    ("teachgym/GridKeyDoor-v0", "teachgym.envs.grids.grid_key_door:GridKeyDoor", None, None),
    ("teachgym/NoisyRooms-v0", "teachgym.envs.grids.noisy_rooms:NoisyRooms", None, None),
    ("teachgym/NoisyTVRooms-v0", "teachgym.envs.grids.noisy_tv:NoisyTVRooms", None, None),
)

ENV_IDS: tuple[str, ...] = tuple(env_id for env_id, *_ in _REGISTRY)

# Batched torch versions (teachgym.envs.batched): `gymnasium.make_vec(id, num_envs,
# vectorization_mode="vector_entry_point", device=...)`. `gymnasium.make(id)` is unchanged.
_VECTOR_ENTRY_POINTS: dict[str, str] = {
    "teachgym/GridNavigation-v0": "teachgym.envs.batched.entry_points:grid_navigation",
    "teachgym/GridKeyDoor-v0": "teachgym.envs.batched.entry_points:grid_key_door",
    "teachgym/NoisyRooms-v0": "teachgym.envs.batched.entry_points:noisy_rooms",
    "teachgym/NoisyTVRooms-v0": "teachgym.envs.batched.entry_points:noisy_tv_rooms",
}

for _env_id, _entry_point, _max_steps, _threshold in _REGISTRY:
    if _env_id not in gym.registry:  # importing twice (e.g. importlib.reload) must not warn
        gym.register(
            id=_env_id,
            entry_point=_entry_point,
            vector_entry_point=_VECTOR_ENTRY_POINTS.get(_env_id),
            max_episode_steps=_max_steps,
            reward_threshold=_threshold,
        )

# The test set is part of the benchmark definition: changing these changes every reported figure.
_TEST_SET_SEED = 20191016  # Portelas et al. 2019, arXiv v1 date
_TEST_SET_SIZE = 50
_GRID_SIDE = 10


def _check_env_id(env_id: str) -> str:
    if env_id.startswith("teachgym:"):
        env_id = env_id.split(":", 1)[1]
    if env_id not in ENV_IDS:
        raise ValueError(f"unknown teachgym env id {env_id!r}; expected one of {list(ENV_IDS)}")
    return env_id


def param_space(env_id: str, **env_kwargs: Any) -> ParamSpace:
    """The parameter space of ``gymnasium.make(env_id, **env_kwargs)``."""
    return env_info(env_id, **env_kwargs)["param_space"]


def env_info(env_id: str, **env_kwargs: Any) -> dict[str, Any]:
    """An env's ``param_space``, ``return_range`` and ``mastery_threshold`` (makes it once)."""
    env_id = _check_env_id(env_id)
    env = make_env(env_id, obs="none", env_kwargs=env_kwargs)
    try:
        base = env.unwrapped
        return {
            "param_space": base.param_space,  # type: ignore[attr-defined]
            "return_range": tuple(base.return_range),  # type: ignore[attr-defined]
            "mastery_threshold": float(base.mastery_threshold),  # type: ignore[attr-defined]
        }
    finally:
        env.close()


def test_set(env_id: str, kind: str = "uniform", **env_kwargs: Any) -> np.ndarray:
    """The env's fixed evaluation params, as an ``(n, dim)`` array in ``param_space`` units.

    Args:
        env_id: A teachgym env id.
        kind: ``"uniform"``: 50 params drawn uniformly with a seed fixed per env id (the paper's
            protocol); ``"grid"``: a 10 × 10 grid over a 2-D space, cell centres, as TeachMyAgent
            uses for its mastery maps.
        **env_kwargs: Constructor options that change the bounds (e.g. ``stump_height_range``);
            the same unit-cube draws are mapped into the env's bounds.

    Raises:
        ValueError: unknown env id or kind, or ``"grid"`` on a space that is not 2-D.
    """
    env_id = _check_env_id(env_id)
    space = param_space(env_id, **env_kwargs)
    if kind == "uniform":
        seed = np.random.SeedSequence([_TEST_SET_SEED, zlib.crc32(env_id.encode())])
        unit = np.random.default_rng(seed).uniform(size=(_TEST_SET_SIZE, space.dim))
    elif kind == "grid":
        if space.dim != 2:
            raise ValueError(
                f"kind='grid' needs a 2-D parameter space; {env_id} has {space.dim} parameters"
            )
        centres = (np.arange(_GRID_SIDE) + 0.5) / _GRID_SIDE
        first, second = np.meshgrid(centres, centres, indexing="ij")
        unit = np.stack([first.ravel(), second.ravel()], axis=1)
    else:
        raise ValueError(f"unknown test-set kind {kind!r}; expected 'uniform' or 'grid'")
    return space.denormalize(unit)
