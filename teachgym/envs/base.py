"""The parameterized-env contract (``docs/design.md``, "Parameterized envs").

``ParameterizedEnv`` is a mixin placed *before* the Gymnasium base class::

    class StumpTracks(ParameterizedEnv, BipedalWalker): ...
    class NavigationGrid(ParameterizedGridEnv): ...     # MiniGrid families, see minigrid_base.py

It owns the parameter bookkeeping so an env only says what its parameters mean:

- ``reset(seed=..., options={"params": p})`` takes a full or partial dict, or a vector. Without
  ``params`` the episode uses the pending params (``pending_params``, set by assignment, by
  ``set_next_params`` or by a vector env's ``set_attr("pending_params", [...])``: how a teacher
  reaches a sub-env that auto-resets inside a vector env), else params drawn uniformly with the
  env's own ``np_random`` (domain randomization), so a plain ``gymnasium.make`` is a meaningful
  env. ``choose_params`` is that rule, written once for every env and wrapper.
- ``reset(options={"params": p, "level_seed": s})`` plays *level* ``s`` of ``p``: the episode's
  randomness (layout, positions, colours, noise) comes from a generator seeded with ``s`` instead
  of the env's own stream, so the same ``(p, s)`` gives the same episode under the same actions,
  whatever the env played before: what level-replay teachers (Jiang et al. 2021, "Prioritized
  Level Replay") need. ``set_next_params(p, level_seed=s)`` queues a level in the pending slot.
  The episode's infos then carry ``info["level_seed"]``; an episode without one draws from the
  env's own stream, exactly as before, and its infos have no ``level_seed`` key.
- ``options`` keys other than ``reset_options`` (``{"params", "level_seed"}``) and params that
  are not numbers (text such as ``"1.5"``, bools) raise ``ValueError``: Gymnasium leaves such
  checks to the env, and a misspelt key would otherwise be ignored. The chosen params are
  validated (``ValueError`` naming the parameter, never clipped) *before* anything changes, then
  handed to the subclass hook ``_apply_params(params)`` and the base env's ``reset`` builds the
  episode.
- ``info["params"]`` is the episode's parameter vector (float64, in ``param_space.names``
  order; a fresh copy each call, as Gymnasium's checker asks) in the reset info and in every
  step info, so the last step of an episode says which params produced its return even after a
  vector env has auto-reset.
- A teacher sees returns mapped into [0, 1] by ``normalize_return(raw, env.return_range)``, the one
  function the env's method and the curriculum wrappers (which score episodes in the main process,
  away from the sub-envs) both call.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np

from teachgym.spaces import ParamsLike, ParamSpace

__all__ = [
    "MAX_LEVEL_SEED",
    "ParameterizedEnv",
    "caller_params",
    "check_level_seed",
    "check_reset_options",
    "choose_params",
    "normalize_return",
]

#: Level seeds are integers in ``[0, MAX_LEVEL_SEED]`` (they fit an int64 on every path).
MAX_LEVEL_SEED = 2**63 - 1


def check_level_seed(value: Any) -> int | None:
    """``value`` as a level seed (``None`` stays ``None``).

    Raises:
        ValueError: ``value`` is not an integer in ``[0, MAX_LEVEL_SEED]`` (bools and floats
            included).
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"a level seed must be an integer in [0, 2**63 - 1]; got {value!r}")
    if not 0 <= int(value) <= MAX_LEVEL_SEED:
        raise ValueError(f"a level seed must be an integer in [0, 2**63 - 1]; got {value!r}")
    return int(value)


def normalize_return(raw: float, return_range: Sequence[float]) -> float:
    """Map a raw episode return into [0, 1] through ``return_range = (low, high)``, clipped.

    What a teacher is told about an episode (Portelas et al. 2019 map Stump Tracks' [-150, 350]
    to [0, 1]). Envs choose the mapping through their ``return_range`` only: the curriculum
    wrappers call this function in the main process with each sub-env's range.

    Raises:
        ValueError: ``return_range`` is not two finite numbers with ``low < high``.
    """
    try:
        low, high = (float(bound) for bound in return_range)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            "return_range must be two finite numbers (low, high) with low < high; "
            f"got {return_range!r}"
        )
    return min(max((float(raw) - low) / (high - low), 0.0), 1.0)


def caller_params(options: Mapping[str, Any] | None) -> Any | None:
    """The params a ``reset`` caller chose (``options["params"]``), or ``None`` if it chose none.

    ``options={"params": None}`` counts as no choice, so wrappers that fill in params (a fixed
    set, a teacher's sample) and the env agree on when the caller's params win.
    """
    if options is None:
        return None
    return options.get("params")


def check_reset_options(options: Any, known: Collection[str], env_name: str = "this env") -> None:
    """Raise ``ValueError`` unless ``options`` is ``None`` or a dict whose keys are in ``known``.

    Gymnasium leaves unknown options to the env; a teachgym env reads only ``known`` ones, so an
    unknown key is a caller's mistake (``{"param": ...}`` for ``{"params": ...}``), reported with
    the closest known key.
    """
    if options is None:
        return
    if not isinstance(options, Mapping):
        raise ValueError(f"reset options must be a dict such as {{'params': ...}}; got {options!r}")
    unknown = sorted(str(key) for key in options if key not in known)
    if unknown:
        close = difflib.get_close_matches(unknown[0], [str(key) for key in known], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"unknown reset option(s) {unknown} for {env_name}; it reads {sorted(known)}{hint}"
        )


def choose_params(
    param_space: ParamSpace,
    options: Mapping[str, Any] | None,
    pending: np.ndarray | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, bool]:
    """An episode's params: the caller's, else the pending slot's, else a uniform draw.

    Args:
        param_space: The env's space; the caller's params are validated against it.
        options: The ``reset`` options.
        pending: The env's pending params (already validated), or ``None``.
        rng: The env's seeded ``np_random``, for the uniform draw.

    Returns:
        The params as a read-only vector, and whether the pending slot was used (the env then
        empties it).

    Raises:
        ValueError: the caller's params are not valid in ``param_space`` (naming the parameter).
    """
    chosen = caller_params(options)
    used_pending = False
    if chosen is not None:
        vector = param_space.to_vector(chosen)
    elif pending is not None:
        vector = np.array(pending, dtype=np.float64)
        used_pending = True
    else:
        vector = param_space.sample(rng)
    vector.flags.writeable = False
    return vector, used_pending


class ParameterizedEnv:
    """Mixin giving a ``gymnasium.Env`` subclass the teachgym parameter contract.

    Subclasses set ``self.param_space`` in ``__init__`` (before the first reset) and implement
    ``_apply_params``. Class attributes declare how teachers and evaluation read returns.

    Attributes:
        param_space: The env's parameter space.
        return_range: Returns a teacher should map to [0, 1] (``normalize_return``); the one
            way an env says how its returns are scored.
        mastery_threshold: A test-set episode counts as mastered when its return is above this.
        reset_options: The ``reset`` option keys the env reads (``{"params", "level_seed"}``).
    """

    param_space: ParamSpace
    return_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    mastery_threshold: ClassVar[float] = 0.5
    #: The ``reset`` option keys the env reads; ``reset`` rejects any other (a misspelt
    #: ``"param"`` would otherwise be ignored and the episode drawn at random). An env that
    #: reads more options adds their keys.
    reset_options: ClassVar[frozenset[str]] = frozenset({"params", "level_seed"})

    _pending_params: np.ndarray | None = None
    _pending_level_seed: int | None = None
    _episode_params: np.ndarray | None = None
    _episode_level_seed: int | None = None
    #: The env's own generator, put aside while a level's generator is the episode's.
    _own_rng: np.random.Generator | None = None

    # ------------------------------------------------------------------ public API
    def set_next_params(self, params: ParamsLike, level_seed: int | None = None) -> None:
        """Store params (and, optionally, a level seed) for the next ``reset`` that is not given
        params of its own.

        ``env.pending_params = params`` with ``level_seed=None``, as a method for callers that can
        only call (stable-baselines3's ``VecEnv.env_method``).

        Raises:
            ValueError: bad params or level seed; the slot is unchanged.
        """
        seed = check_level_seed(level_seed)
        self.pending_params = params
        self._pending_level_seed = seed

    @property
    def pending_level_seed(self) -> int | None:
        """The level seed queued with the pending params (``set_next_params``), or ``None``."""
        return self._pending_level_seed

    @property
    def pending_params(self) -> np.ndarray | None:
        """The params waiting for the next reset that is not given params of its own, or ``None``.

        Assign a full or partial dict, a vector or ``None`` (empties the slot). The value is
        validated against ``param_space`` on assignment, so a bad value fails at the caller (the
        teacher's side) with a ``ValueError`` naming it, and the slot unchanged. A vector env sets
        every sub-env's slot in one call with ``set_attr("pending_params", [p_0, ..., p_n-1])``.
        """
        return self._pending_params

    @pending_params.setter
    def pending_params(self, params: ParamsLike | None) -> None:
        # A level seed belongs to the params it was queued with: new params drop it.
        if params is None:
            self._pending_params = None
            self._pending_level_seed = None
            return
        vector = self.param_space.to_vector(params)
        vector.flags.writeable = False
        self._pending_params = vector
        self._pending_level_seed = None

    @property
    def params(self) -> np.ndarray:
        """The current episode's parameter vector (read-only)."""
        if self._episode_params is None:
            raise RuntimeError("the env has no params yet: call reset() first")
        return self._episode_params

    @property
    def level_seed(self) -> int | None:
        """The current episode's level seed, or ``None`` (the env's own stream)."""
        return self._episode_level_seed

    @property
    def params_dict(self) -> dict[str, float]:
        """The current episode's params as ``{name: value}``."""
        return self.param_space.to_dict(self.params)

    def normalize_return(self, episode_return: float) -> float:
        """``normalize_return(episode_return, self.return_range)``: the score a teacher gets.

        Set ``return_range`` to change it; the curriculum wrappers do not call this method.
        """
        return normalize_return(episode_return, self.return_range)

    # ------------------------------------------------------------------ Gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode with params from ``options["params"]``, the pending slot or a draw,
        as level ``options["level_seed"]`` (or the pending slot's level) if one is given.

        Raises:
            ValueError: ``options`` is not a dict or has a key outside ``reset_options``, or the
                params or level seed are invalid; nothing has changed then.
        """
        check_reset_options(options, self.reset_options, type(self).__name__)
        asked_level = check_level_seed(None if options is None else options.get("level_seed"))
        if asked_level is not None and caller_params(options) is None:
            raise ValueError(
                "reset option 'level_seed' needs 'params' beside it: a level is a pair "
                f"(params, level seed); got options {options!r}"
            )
        asked_params = caller_params(options)
        if asked_params is not None:
            self.param_space.to_vector(asked_params)  # bad params fail before anything changes
        if self._own_rng is not None:
            # The last episode played a level: the env's own stream takes over again.
            self.np_random = self._own_rng
            self._own_rng = None
        if seed is not None:
            # Seed np_random first: a uniform draw of params must come from the seeded stream.
            gym.Env.reset(self, seed=seed)  # type: ignore[arg-type]
        pending_level = self._pending_level_seed
        params, used_pending = self._choose_params(options)
        level = asked_level if caller_params(options) is not None else None
        if used_pending:
            level = pending_level
        if level is not None:
            self._own_rng = self.np_random
            self.np_random = np.random.default_rng(level)
        self._apply_params(params)
        self._episode_params = params
        self._episode_level_seed = level
        obs, info = super().reset(seed=None, options=options)  # type: ignore[misc]
        info["params"] = params.copy()
        if level is not None:
            info["level_seed"] = level
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """The base env's step, with ``info["params"]`` added."""
        obs, reward, terminated, truncated, info = super().step(action)  # type: ignore[misc]
        info["params"] = self._episode_params.copy()  # type: ignore[union-attr]
        if self._episode_level_seed is not None:
            info["level_seed"] = self._episode_level_seed
        return obs, reward, terminated, truncated, info

    # ------------------------------------------------------------------ hooks
    def _apply_params(self, params: np.ndarray) -> None:
        """Configure the next episode from a validated parameter vector (``param_space`` order).

        Called by ``reset`` before the base env builds the episode; use ``self.np_random`` for
        any randomness so episodes are reproducible from (seed, params).
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ internals
    def _choose_params(self, options: Mapping[str, Any] | None) -> tuple[np.ndarray, bool]:
        rng = self.np_random  # type: ignore[attr-defined]
        vector, used_pending = choose_params(self.param_space, options, self._pending_params, rng)
        if used_pending:
            self._pending_params = None
            self._pending_level_seed = None
        return vector, used_pending
