"""Env construction shared by Adversarial Surprise, SMiRL, the baselines and the benchmark.

Every method of the comparison must see the same episodes: the same env, the same fixed params
(e.g. 4 rooms, half of them noisy) and the same episode length. ``make_env`` builds that env
from an id; ``FixedParams`` gives every reset the same params, including the automatic resets of
stable-baselines3's vector envs, which pass no options (DESIGN.md, "Parameterized envs").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

__all__ = [
    "EnvSource",
    "FixedParams",
    "env_factory",
    "make_baseline_env",
    "make_env",
    "with_coverage",
]

EnvSource = str | Callable[[], gym.Env] | gym.Env
"""An env id, a function returning a new env, or an env instance."""


class FixedParams(gym.Wrapper):
    """Reset a teachgym parameterized env with the same params every episode.

    ``reset(options={"params": ...})`` from the caller still wins, so a teacher or a test can
    override them.

    Args:
        env: A teachgym parameterized env (its ``unwrapped`` has a ``param_space``).
        params: A full or partial ``{name: value}`` dict (partial dicts fill the rest from the
            env's defaults), validated now.

    Raises:
        ValueError: the env is not parameterized, or a bad parameter name or value.
    """

    def __init__(self, env: gym.Env, params: Mapping[str, float]) -> None:
        super().__init__(env)
        space = getattr(env.unwrapped, "param_space", None)
        if space is None:
            raise ValueError(
                f"env_params given, but {env.unwrapped} is not a teachgym parameterized env"
            )
        self.params = space.to_dict(space.to_vector(dict(params)))

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        merged = dict(options or {})
        merged.setdefault("params", self.params)
        return self.env.reset(seed=seed, options=merged)


def make_env(
    env_id: str,
    env_kwargs: Mapping[str, Any] | None = None,
    env_params: Mapping[str, float] | None = None,
    episode_length: int | None = None,
) -> gym.Env:
    """``gymnasium.make(env_id, **env_kwargs)`` with its raw observations, fixed params and, for
    MiniGrid envs, a step limit of ``episode_length`` unless ``env_kwargs`` sets ``max_steps``.

    Matching MiniGrid's own step limit to the game's episode length keeps the env from ending
    (truncating) inside an Adversarial Surprise episode and makes baselines' episodes as long.

    Raises:
        ValueError: unknown env id, bad kwargs or params.
    """
    from minigrid.minigrid_env import MiniGridEnv

    from teachgym.agents.sb3 import make_env as make_raw_env

    kwargs = dict(env_kwargs or {})
    env = make_raw_env(env_id, kwargs, obs_wrapper="none")
    if (
        episode_length is not None
        and "max_steps" not in kwargs
        and isinstance(env.unwrapped, MiniGridEnv)
        and env.unwrapped.max_steps != episode_length
    ):
        env.close()
        env = make_raw_env(env_id, {**kwargs, "max_steps": int(episode_length)}, obs_wrapper="none")
    if env_params:
        env = FixedParams(env, env_params)
    return env


def with_coverage(env: gym.Env) -> gym.Env:
    """``env`` inside a ``CoverageMonitor`` when it is a MiniGrid env, else unchanged."""
    from minigrid.minigrid_env import MiniGridEnv

    from teachgym.agents.adversarial_surprise.metrics import CoverageMonitor

    return CoverageMonitor(env) if isinstance(env.unwrapped, MiniGridEnv) else env


def make_baseline_env(
    env_id: str,
    env_kwargs: Mapping[str, Any] | None = None,
    env_params: Mapping[str, float] | None = None,
    episode_length: int | None = None,
) -> gym.Env:
    """The env a stable-baselines3 baseline (RND, random) plays: ``make_env`` with coverage
    tracking, then the observation wrapper SB3 needs (``GridFlatObs`` for MiniGrid)."""
    from teachgym.agents.sb3 import resolve_obs_wrapper
    from teachgym.envs.wrappers import OBS_WRAPPERS

    env = with_coverage(make_env(env_id, env_kwargs, env_params, episode_length))
    wrapper = resolve_obs_wrapper(env.observation_space, "auto")
    return env if wrapper == "none" else OBS_WRAPPERS[wrapper](env)


def env_factory(
    env_id: str,
    env_kwargs: Mapping[str, Any] | None = None,
    env_params: Mapping[str, float] | None = None,
    episode_length: int | None = None,
    *,
    baseline: bool = False,
) -> Callable[[], gym.Env]:
    """A picklable function making ``make_env(env_id, ...)`` (or ``make_baseline_env`` with
    ``baseline``), for vector envs and worker processes."""
    import functools

    return functools.partial(
        make_baseline_env if baseline else make_env,
        env_id,
        dict(env_kwargs or {}),
        dict(env_params) if env_params else None,
        episode_length,
    )
