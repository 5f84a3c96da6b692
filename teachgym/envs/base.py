"""The parameterized-env contract (../shared/DESIGN.md, "Parameterized envs").

``ParameterizedEnv`` is a mixin placed *before* the Gymnasium base class::

    class StumpTracks(ParameterizedEnv, BipedalWalker): ...
    class NavigationGrid(ParameterizedGridEnv): ...     # MiniGrid families, see minigrid_base.py

It owns the parameter bookkeeping so an env only says what its parameters mean:

- ``reset(seed=..., options={"params": p})`` takes a full or partial dict, or a vector. Without
  ``params`` the episode uses the pending params set by ``set_next_params`` (how a teacher reaches
  a sub-env that auto-resets inside a vector env), else params drawn uniformly with the env's own
  ``np_random`` (domain randomization), so a plain ``gymnasium.make`` is a meaningful env.
- The chosen params are validated (``ValueError`` naming the parameter, never clipped) *before*
  anything changes, then handed to the subclass hook ``_apply_params(params)`` and the base env's
  ``reset`` builds the episode.
- ``info["params"]`` is the episode's parameter vector (float64, in ``param_space.names``
  order; a fresh copy each call, as Gymnasium's checker asks) in the reset info and in every
  step info, so the last step of an episode says which params produced its return even after a
  vector env has auto-reset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np

from teachgym.spaces import ParamsLike, ParamSpace

__all__ = ["ParameterizedEnv"]


class ParameterizedEnv:
    """Mixin giving a ``gymnasium.Env`` subclass the teachgym parameter contract.

    Subclasses set ``self.param_space`` in ``__init__`` (before the first reset) and implement
    ``_apply_params``. Class attributes declare how teachers and evaluation read returns.

    Attributes:
        param_space: The env's parameter space.
        return_range: Returns a teacher should map to [0, 1] (``normalize_return``).
        mastery_threshold: A test-set episode counts as mastered when its return is above this.
    """

    param_space: ParamSpace
    return_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    mastery_threshold: ClassVar[float] = 0.5

    _pending_params: np.ndarray | None = None
    _episode_params: np.ndarray | None = None

    # ------------------------------------------------------------------ public API
    def set_next_params(self, params: ParamsLike) -> None:
        """Store params for the next ``reset`` that is not given params of its own.

        Validated now, so a bad value fails at the caller (the teacher's side) with the pending
        slot unchanged.
        """
        vector = self.param_space.to_vector(params)
        vector.flags.writeable = False
        self._pending_params = vector

    @property
    def pending_params(self) -> np.ndarray | None:
        """The params waiting for the next reset, or ``None``."""
        return self._pending_params

    @property
    def params(self) -> np.ndarray:
        """The current episode's parameter vector (read-only)."""
        if self._episode_params is None:
            raise RuntimeError("the env has no params yet: call reset() first")
        return self._episode_params

    @property
    def params_dict(self) -> dict[str, float]:
        """The current episode's params as ``{name: value}``."""
        return self.param_space.to_dict(self.params)

    def normalize_return(self, episode_return: float) -> float:
        """Map a raw return into [0, 1] through ``return_range`` (clipped), for teachers."""
        low, high = self.return_range
        return float(np.clip((float(episode_return) - low) / (high - low), 0.0, 1.0))

    # ------------------------------------------------------------------ Gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode with params from ``options["params"]``, the pending slot or a draw."""
        if seed is not None:
            # Seed np_random first: a uniform draw of params must come from the seeded stream.
            gym.Env.reset(self, seed=seed)  # type: ignore[arg-type]
        params = self._choose_params(options)
        self._apply_params(params)
        self._episode_params = params
        obs, info = super().reset(seed=None, options=options)  # type: ignore[misc]
        info["params"] = params.copy()
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """The base env's step, with ``info["params"]`` added."""
        obs, reward, terminated, truncated, info = super().step(action)  # type: ignore[misc]
        info["params"] = self._episode_params.copy()  # type: ignore[union-attr]
        return obs, reward, terminated, truncated, info

    # ------------------------------------------------------------------ hooks
    def _apply_params(self, params: np.ndarray) -> None:
        """Configure the next episode from a validated parameter vector (``param_space`` order).

        Called by ``reset`` before the base env builds the episode; use ``self.np_random`` for
        any randomness so episodes are reproducible from (seed, params).
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ internals
    def _choose_params(self, options: Mapping[str, Any] | None) -> np.ndarray:
        if options is not None and options.get("params") is not None:
            vector = self.param_space.to_vector(options["params"])
        elif self._pending_params is not None:
            vector = np.array(self._pending_params)
            self._pending_params = None
        else:
            vector = self.param_space.sample(self.np_random)  # type: ignore[attr-defined]
        vector.flags.writeable = False
        return vector
