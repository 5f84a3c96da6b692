"""The env every method of the Adversarial Surprise comparison plays, with coverage tracking.

Adversarial Surprise, SMiRL, the RND baseline, the random policy and the benchmark's evaluation
must see the same episodes: the same env, the same fixed params (e.g. 4 rooms, half of them noisy)
and the same episode length. All of them build it with ``teachgym.envs.make_env(env_id,
obs="none", params=..., max_steps=episode_length)``; the step limit at the game's episode length
keeps the env from ending inside an episode and makes the baselines' episodes as long. What this
module adds is the game's own piece: a ``CoverageMonitor`` on MiniGrid envs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from teachgym.envs import make_env, wrap_obs

__all__ = ["EnvSource", "env_factory", "make_coverage_env", "with_coverage"]

EnvSource = str | Callable[[], gym.Env] | gym.Env
"""An env id, a function returning a new env, or an env instance."""


def with_coverage(env: gym.Env) -> gym.Env:
    """``env`` inside a ``CoverageMonitor`` when it is a MiniGrid env, else unchanged."""
    from minigrid.minigrid_env import MiniGridEnv

    from teachgym.agents.adversarial_surprise.metrics import CoverageMonitor

    return CoverageMonitor(env) if isinstance(env.unwrapped, MiniGridEnv) else env


def make_coverage_env(
    env_id: str,
    env_kwargs: Mapping[str, Any] | None = None,
    env_params: Mapping[str, float] | None = None,
    episode_length: int | None = None,
    *,
    obs: str = "none",
) -> gym.Env:
    """``teachgym.envs.make_env(env_id, obs="none", ...)`` with ``with_coverage``, then the
    observation wrapper ``obs``.

    ``obs="none"`` is what the game's players see (raw observations, read by
    ``game.make_adapter``); ``obs="auto"`` is what a stable-baselines3 baseline needs
    (``GridFlatObs`` on MiniGrid). Coverage sits below the observation wrapper because it reads
    the env's own state.

    Args:
        env_id: A registered env id.
        env_kwargs: Passed to ``gymnasium.make``.
        env_params: Params for every episode of a teachgym parameterized env (``FixedParams``);
            ``None`` (or an empty dict) lets the env draw them.
        episode_length: The episode length (MiniGrid's own step limit, else a ``TimeLimit``);
            ``None`` keeps the env's.
        obs: An observation wrapper choice of ``teachgym.envs.make_env``.

    Raises:
        ValueError: unknown env id, bad kwargs, params, length or ``obs``.
    """
    params = dict(env_params) if env_params else None
    env = make_env(
        env_id, obs="none", env_kwargs=env_kwargs, params=params, max_steps=episode_length
    )
    return wrap_obs(with_coverage(env), obs)


def env_factory(
    env_id: str,
    env_kwargs: Mapping[str, Any] | None = None,
    env_params: Mapping[str, float] | None = None,
    episode_length: int | None = None,
    *,
    obs: str = "none",
) -> Callable[[], gym.Env]:
    """A picklable function returning ``make_coverage_env(env_id, ...)``, for vector envs and
    worker processes."""
    return functools.partial(
        make_coverage_env,
        env_id,
        dict(env_kwargs or {}),
        dict(env_params) if env_params else None,
        episode_length,
        obs=obs,
    )
