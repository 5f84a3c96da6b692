"""Oracle teacher: a hand-made curriculum that slides a window from the easy corner.

Portelas et al. 2019, §5 ("Oracle"): sample uniformly in a window spanning 1/6 of each
parameter's range, starting at the env's easy corner; every 50 episodes, if the mean score of
those episodes is above the mastery threshold, move the window one step toward the hard
corner. It needs to know where "easy" is, which the other teachers must discover.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.checks import check_int, check_real
from teachgym.spaces import ParamSpace
from teachgym.teachers.base import Teacher


class OracleTeacher(Teacher):
    """Uniform sampling in a window that advances while the student masters it.

    Args:
        param_space: The parameter space.
        seed: Seed of ``self.rng``.
        directions: Per parameter, ``+1`` if difficulty grows with the value (the window
            starts at ``low`` and moves up) or ``-1`` if it shrinks (starts at ``high``, moves
            down). Default: ``+1`` for every parameter.
        step_fraction: How far the window moves at each advance, as a fraction of each range.
            The paper's Stump Tracks steps (0.1 of [0, 3] height, 0.2 of [0, 6] spacing) are 1/30.
        window_fraction: Window width as a fraction of each range (paper: 1/6).
        check_every: Episodes between two advance checks (paper: 50).
        mastery_threshold: Mean score (normalised return) above which the window advances.
            The default 0.76 is Stump Tracks' mastery return 230 on its [-150, 350] range.
    """

    def __init__(
        self,
        param_space: ParamSpace | spaces.Box,
        *,
        seed: int | None = None,
        directions: Sequence[int] | None = None,
        step_fraction: float = 1 / 30,
        window_fraction: float = 1 / 6,
        check_every: int = 50,
        mastery_threshold: float = 0.76,
    ) -> None:
        super().__init__(param_space, seed=seed)
        space = self.param_space
        if directions is None:
            directions = [1] * space.dim
        self.directions = [int(d) for d in directions]
        if len(self.directions) != space.dim or any(d not in (-1, 1) for d in self.directions):
            raise ValueError(
                f"directions must hold +1 or -1 for each of the {space.dim} parameters "
                f"{list(space.names)}; got {self.directions}"
            )
        self.step_fraction = check_real(
            "step_fraction", step_fraction, low=0.0, high=1.0, low_open=True
        )
        self.window_fraction = check_real(
            "window_fraction", window_fraction, low=0.0, high=1.0, low_open=True
        )
        self.check_every = check_int("check_every", check_every, minimum=1)
        self.mastery_threshold = check_real("mastery_threshold", mastery_threshold)
        self._directions = np.asarray(self.directions, dtype=np.float64)
        span = space.high - space.low
        self._window = self.window_fraction * span
        self._step = self.step_fraction * span * self._directions
        self._lowest_start = space.low
        self._highest_start = space.high - self._window
        self.window_low = np.where(self._directions > 0, self._lowest_start, self._highest_start)
        self._recent_scores: list[float] = []
        self.n_advances = 0

    def _sample(self) -> np.ndarray:
        return self.rng.uniform(self.window_low, self.window_low + self._window)

    def _update(self, params: np.ndarray, score: float) -> None:
        self._recent_scores.append(score)
        if len(self._recent_scores) < self.check_every:
            return
        if np.mean(self._recent_scores) > self.mastery_threshold:
            self.window_low = np.clip(
                self.window_low + self._step, self._lowest_start, self._highest_start
            )
            self.n_advances += 1
        self._recent_scores = []

    def _state_dict(self) -> dict[str, Any]:
        return {
            "window_low": self.window_low.copy(),
            "recent_scores": list(self._recent_scores),
            "n_advances": self.n_advances,
        }

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        window_low = np.asarray(state["window_low"], dtype=np.float64)
        if window_low.shape != (self.param_space.dim,):
            raise ValueError(
                f"window_low has shape {window_low.shape}; expected ({self.param_space.dim},)"
            )
        self.window_low = window_low.copy()
        self._recent_scores = [float(s) for s in state["recent_scores"]]
        self.n_advances = int(state["n_advances"])

    def _metrics(self) -> dict[str, float]:
        progress = self.param_space.normalize(self.window_low + self._window / 2)
        return {"n_advances": float(self.n_advances), "window_centre_mean": float(progress.mean())}
