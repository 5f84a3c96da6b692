"""Covar-GMM: sample where score and time covary within the recent window.

Moulin-Frier, Nguyen, Oudeyer 2014 ("Self-organization of early vocal development in infants
and machines"), as adapted by Portelas et al. 2019, §4: every 250 episodes, fit a Gaussian
mixture on the last 250 (params ⊕ time ⊕ score) rows, where time is the episode's position in
that window scaled to [0, 1); a component's learning progress is the covariance of time and
score in it, and components are chosen in proportion to its positive part.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.spaces import ParamSpace
from teachgym.teachers.gmm import GMMTeacher, MixtureFit


class CovarGMM(GMMTeacher):
    """Time–score covariance Gaussian mixture teacher.

    Args:
        param_space: The parameter space.
        seed: Seed of ``self.rng``.
        fit_rate: Episodes between two fits; each fit uses the last ``fit_rate`` rows.
        bootstrap_episodes: Uniform episodes before the first fit (default: ``fit_rate``).
        random_ratio: Probability of a uniform sample after the bootstrap.
        min_components: Smallest number of Gaussians tried at each fit.
        max_components: Largest number of Gaussians tried at each fit.
        criterion: ``"aic"`` or ``"bic"``.
        gmm_init: scikit-learn's ``init_params`` for each fit.
        absolute_lp: Use |covariance| (regions getting worse count too) instead of its
            positive part (paper default: positive part).
    """

    def __init__(
        self,
        param_space: ParamSpace | spaces.Box,
        *,
        seed: int | None = None,
        fit_rate: int = 250,
        bootstrap_episodes: int | None = None,
        random_ratio: float = 0.2,
        min_components: int = 2,
        max_components: int = 10,
        criterion: str = "aic",
        gmm_init: str = "kmeans",
        absolute_lp: bool = False,
    ) -> None:
        super().__init__(
            param_space,
            seed=seed,
            fit_rate=fit_rate,
            bootstrap_episodes=bootstrap_episodes,
            random_ratio=random_ratio,
            min_components=min_components,
            max_components=max_components,
            criterion=criterion,
            gmm_init=gmm_init,
        )
        self.absolute_lp = bool(absolute_lp)
        # Only the last fit_rate rows are ever fitted: a ring buffer of exactly that size.
        self._rows = np.zeros((self.fit_rate, self.param_space.dim + 2))
        self._n_recorded = 0

    def _record(self, unit_params: np.ndarray, score: float) -> None:
        slot = self._n_recorded % self.fit_rate
        self._rows[slot, :-2] = unit_params
        self._rows[slot, -2] = slot / self.fit_rate  # position in the current window
        self._rows[slot, -1] = score
        self._n_recorded += 1

    def _record_many(self, unit_params: np.ndarray, scores: np.ndarray) -> None:
        # Only the last fit_rate rows of a block survive in the ring; write those.
        count = len(scores)
        keep = min(count, self.fit_rate)
        slots = (self._n_recorded + np.arange(count - keep, count)) % self.fit_rate
        self._rows[slots, :-2] = unit_params[count - keep :]
        self._rows[slots, -2] = slots / self.fit_rate  # position in the current window
        self._rows[slots, -1] = scores[count - keep :]
        self._n_recorded += count

    def _fit_rows(self) -> np.ndarray:
        count = min(self._n_recorded, self.fit_rate)
        newest = self._n_recorded % self.fit_rate
        return np.roll(self._rows, -newest, axis=0)[-count:]

    def _interest(self, mixture: MixtureFit) -> np.ndarray:
        covariance = mixture.covariances[:, -2, -1]
        return np.abs(covariance) if self.absolute_lp else covariance

    def _state_dict(self) -> dict[str, Any]:
        return {"rows": self._rows.copy(), "n_recorded": self._n_recorded, **self._gmm_state()}

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        rows = np.asarray(state["rows"], dtype=np.float64)
        if rows.shape != self._rows.shape:
            raise ValueError(
                f"Covar-GMM state rows have shape {rows.shape}; expected {self._rows.shape}"
            )
        self._load_gmm_state(state, self.param_space.dim + 2)
        self._rows = rows.copy()
        self._n_recorded = int(state["n_recorded"])
