"""The one env factory: ``make_env(env_id, obs=..., env_kwargs=..., params=..., max_steps=...)``.

Trainers, evaluation, Go-Explore, Adversarial Surprise and the CLI all build their envs here, so
an id means the same env everywhere. It registers what an id needs before ``gymnasium.make``
(teachgym's ids always, MiniGrid's for ``MiniGrid-*``, ale-py's for ``ALE/*``), can pin the
params of every episode (``FixedParams``), set the episode length, and add the observation
wrapper a learner needs (``obs``; MiniGrid's ``Dict`` observations hold a text mission that
stable-baselines3's policies cannot read, see ``teachgym.envs.wrappers``).

``env_factory`` returns the same call as a picklable function, for vector envs whose workers
are other processes. Nothing here imports torch or stable-baselines3.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
from gymnasium import spaces
from gymnasium.envs.registration import load_env_creator

from teachgym._imports import import_recorded
from teachgym.checks import check_choice, check_optional_int
from teachgym.envs.base import caller_params
from teachgym.spaces import ParamsLike

__all__ = [
    "OBS_CHOICES",
    "FixedParams",
    "env_factory",
    "is_minigrid_style",
    "make_env",
    "register_ids",
    "resolve_obs",
    "wrap_obs",
]

#: Values of ``obs``: ``"auto"`` is ``"flat"`` for MiniGrid-style observations (a ``Dict`` with
#: ``image`` and ``direction``) and ``"none"`` (the env's own observations) otherwise.
OBS_CHOICES: tuple[str, ...] = ("auto", "none", "flat", "image", "rgb")


class FixedParams(gym.Wrapper):
    """Reset a teachgym parameterized env with the same params every episode.

    ``reset(options={"params": ...})`` from the caller still wins, so a teacher or a test can
    override them; automatic resets of vector envs (which pass no options) get the fixed params.

    Args:
        env: A teachgym parameterized env (its ``unwrapped`` has a ``param_space``).
        params: A full or partial ``{name: value}`` dict (partial dicts fill the rest from the
            env's defaults) or a full vector, validated now.

    Raises:
        ValueError: the env is not parameterized, or a bad parameter name or value.
    """

    def __init__(self, env: gym.Env, params: ParamsLike) -> None:
        super().__init__(env)
        space = getattr(env.unwrapped, "param_space", None)
        if space is None:
            raise ValueError(
                f"params given, but {env.unwrapped} is not a teachgym parameterized env "
                "(it has no param_space)"
            )
        self.params = space.to_dict(space.to_vector(params))

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if caller_params(options) is not None:
            return self.env.reset(seed=seed, options=options)
        return self.env.reset(seed=seed, options={**(options or {}), "params": self.params})


def is_minigrid_style(observation_space: spaces.Space[Any]) -> bool:
    """Whether observations are MiniGrid's ``Dict`` with ``image`` and ``direction``."""
    return (
        isinstance(observation_space, spaces.Dict)
        and "image" in observation_space.spaces
        and "direction" in observation_space.spaces
    )


def resolve_obs(observation_space: spaces.Space[Any], obs: str = "auto") -> str:
    """The observation wrapper ``obs`` means for this space: ``"none"``, ``"flat"``, ``"image"``
    or ``"rgb"``.

    Raises:
        ValueError: an unknown ``obs``, or a grid wrapper asked for a non-MiniGrid observation.
    """
    check_choice("obs", obs, OBS_CHOICES)
    minigrid_style = is_minigrid_style(observation_space)
    if obs == "auto":
        return "flat" if minigrid_style else "none"
    if obs != "none" and not minigrid_style:
        raise ValueError(
            f"obs {obs!r} is for MiniGrid-style observations (a Dict with 'image' and "
            f"'direction'); this env observes {observation_space}. Use 'none'."
        )
    return obs


def wrap_obs(env: gym.Env, obs: str = "auto") -> gym.Env:
    """``env`` inside the observation wrapper ``obs`` resolves to (unchanged for ``"none"``)."""
    wrapper = resolve_obs(env.observation_space, obs)
    if wrapper == "none":
        return env
    from teachgym.envs.wrappers import OBS_WRAPPERS  # imports MiniGrid

    return OBS_WRAPPERS[wrapper](env)


def make_env(
    env_id: str,
    *,
    obs: str = "auto",
    env_kwargs: Mapping[str, Any] | None = None,
    params: ParamsLike | None = None,
    max_steps: int | None = None,
    imports: Sequence[str] = (),
) -> gym.Env:
    """``gymnasium.make(env_id, **env_kwargs)``, ready for a learner.

    Args:
        env_id: A registered id: ``teachgym/…``, ``MiniGrid-…``, ``ALE/…`` or one that a module
            in ``imports`` registers.
        obs: One of ``OBS_CHOICES``; ``"auto"`` flattens MiniGrid observations for an MLP and
            leaves every other env's as they are. ``"none"`` keeps the raw observations.
        env_kwargs: Passed to ``gymnasium.make`` (constructor options, ``render_mode`` …).
        params: Params for every episode (``FixedParams``); ``None`` keeps the env's own choice
            (the pending slot, else a seeded uniform draw).
        max_steps: Episode length, unless ``env_kwargs`` sets one. MiniGrid envs get it as
            their own ``max_steps`` where their constructor takes it, others (and MiniGrid
            families whose limit follows their params) as ``max_episode_steps``.
        imports: Modules to import first (a user's own env registrations).

    Raises:
        ValueError: an unknown id, bad ``env_kwargs``, ``obs``, ``params`` or ``max_steps``.
        ImportError: the extra an id needs is not installed, with the install command.
    """
    kwargs = dict(env_kwargs or {})
    max_steps = check_optional_int("max_steps", max_steps, minimum=1)
    check_choice("obs", obs, OBS_CHOICES)  # before building anything
    register_ids(env_id, imports)
    env = _make_with_length(env_id, kwargs, max_steps)
    try:
        if params is not None:
            env = FixedParams(env, params)
        return wrap_obs(env, obs)
    except Exception:
        env.close()
        raise


def env_factory(env_id: str, **options: Any) -> Callable[[], gym.Env]:
    """A picklable function returning ``make_env(env_id, **options)``, for vector envs whose
    workers are other processes (``SubprocVecEnv``, ``AsyncVectorEnv``).

    Raises:
        ValueError: an option ``make_env`` does not take (the rest are checked when it runs).
    """
    unknown = sorted(set(options) - set(_MAKE_ENV_OPTIONS))
    if unknown:
        raise ValueError(
            f"make_env has no option(s) {unknown}; expected some of {list(_MAKE_ENV_OPTIONS)}"
        )
    if "params" in options and isinstance(options["params"], Mapping):
        options["params"] = dict(options["params"])
    if "env_kwargs" in options and options["env_kwargs"] is not None:
        options["env_kwargs"] = dict(options["env_kwargs"])
    return functools.partial(make_env, env_id, **options)


_MAKE_ENV_OPTIONS = tuple(inspect.signature(make_env).parameters)[1:]  # all but env_id


def register_ids(env_id: str, imports: Sequence[str] = ()) -> None:
    """Register what ``env_id`` needs: ``imports`` (a user's modules), teachgym's ids, and
    MiniGrid's or ale-py's for ``MiniGrid-``/``BabyAI-``/``ALE/`` ids (``ImportError`` naming the
    extra when it is missing)."""
    for module in imports:
        import_recorded(module)  # a module name, or a path recorded by resolve_imports
    import teachgym.envs  # noqa: F401  (registers the teachgym/ ids)

    if env_id.startswith("MiniGrid-") or env_id.startswith("BabyAI-"):
        try:
            import minigrid  # noqa: F401  (registers the MiniGrid-* ids)
        except ImportError as error:
            raise ImportError(f'{env_id} needs MiniGrid: pip install "teachgym[grid]"') from error
    elif env_id.startswith("ALE/"):
        try:
            import ale_py
        except ImportError as error:
            raise ImportError(
                f'{env_id} needs ale-py (it ships the ROMs): pip install "teachgym[atari]"'
            ) from error
        gym.register_envs(ale_py)


def _make(env_id: str, kwargs: dict[str, Any]) -> gym.Env:
    try:
        return gym.make(env_id, **kwargs)
    except gym.error.Error as error:
        known = sorted(name for name in gym.registry if name.startswith("teachgym/"))
        raise ValueError(
            f"cannot make env {env_id!r} ({error}); teachgym envs: {', '.join(known)}"
        ) from None
    except TypeError as error:
        raise ValueError(f"bad env_kwargs {kwargs} for {env_id}: {error}") from None


def _make_with_length(env_id: str, kwargs: dict[str, Any], max_steps: int | None) -> gym.Env:
    """``_make`` with episodes of ``max_steps`` steps, unless ``kwargs`` sets the length.

    A MiniGrid env gets it as its own ``max_steps`` where its constructor takes one: its reward
    (``1 - 0.9 * steps / max_steps``) and its truncation both count against it. Other envs, and
    MiniGrid families that set their own limit (``GridNavigation``'s follows its room size), get
    Gymnasium's ``TimeLimit`` (``max_episode_steps``).
    """
    if max_steps is None or "max_steps" in kwargs:
        return _make(env_id, kwargs)
    if _is_minigrid_id(env_id):
        try:
            return gym.make(env_id, **kwargs, max_steps=max_steps)
        except TypeError:
            pass  # no max_steps option (or a bad option in kwargs, which _make reports below)
    if "max_episode_steps" in kwargs:
        return _make(env_id, kwargs)
    return _make(env_id, {**kwargs, "max_episode_steps": max_steps})


def _is_minigrid_id(env_id: str) -> bool:
    """Whether ``env_id``'s entry point is a MiniGrid env class (no env is made)."""
    try:
        from minigrid.minigrid_env import MiniGridEnv

        entry_point = gym.spec(env_id).entry_point
        creator = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    except (ImportError, AttributeError, gym.error.Error):
        return False
    return isinstance(creator, type) and issubclass(creator, MiniGridEnv)
