"""ALP-GMM: sample where the student's absolute learning progress is high.

Portelas, Colas, Hofmann, Oudeyer 2019, "Teacher algorithms for curriculum learning of Deep RL
in continuously parameterized environments" (CoRL), §4. Each episode's ALP is the absolute
difference between its score and the score of the nearest previously seen parameters. Every
250 episodes a Gaussian mixture is fitted on the last 250 (params ⊕ ALP) rows; episodes are
then drawn from a component chosen in proportion to the ALP coordinate of its mean (20% stay
uniform, to notice progress elsewhere).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.spaces import ParamSpace
from teachgym.teachers._gmm import GMMTeacher, MixtureFit
from teachgym.teachers._history import GrowableArray
from teachgym.teachers._knn import NearestNeighbourHistory


class ALPGMM(GMMTeacher):
    """Absolute-learning-progress Gaussian mixture teacher.

    Parameters are normalised to [0, 1] before the neighbour search and the fits, so ranges of
    different sizes weigh the same (the reference code works in raw units; on the paper's
    unit-range toy the two coincide).

    Args:
        param_space: The parameter space.
        seed: Seed of ``self.rng`` (uniform draws, component choice, GMM initialisation).
        fit_rate: Episodes between two mixture fits; each fit uses the last ``fit_rate`` rows.
        bootstrap_episodes: Uniform episodes before the first fit (default: ``fit_rate``).
        random_ratio: Probability of a uniform sample after the bootstrap.
        min_components: Smallest number of Gaussians tried at each fit.
        max_components: Largest number of Gaussians tried at each fit.
        criterion: ``"aic"`` (paper) or ``"bic"``: which fitted mixture is kept.
        gmm_init: scikit-learn's ``init_params`` for each fit (``"kmeans"`` as in the paper).
        history_size: Neighbour search over the last ``history_size`` episodes only (bounded
            memory and time); ``None`` (paper) searches the whole history.
        alp_min_history: An episode's ALP is 0 until this many earlier episodes exist (the
            reference code starts at the 7th episode, i.e. 6 earlier ones).
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
        history_size: int | None = None,
        alp_min_history: int = 6,
    ) -> None:
        if history_size is not None and not (isinstance(history_size, int) and history_size >= 1):
            raise ValueError(f"history_size must be a positive integer or None; got {history_size!r}")
        if not (isinstance(alp_min_history, int) and alp_min_history >= 1):
            raise ValueError(f"alp_min_history must be an integer ≥ 1; got {alp_min_history!r}")
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
            history_size=history_size,
            alp_min_history=alp_min_history,
        )
        self.history_size = history_size
        self.alp_min_history = alp_min_history
        dim = self.param_space.dim
        # Columns: unit params, score, ALP (NaN until computed). Rows older than the window
        # are trimmed when history_size is set.
        self._history = GrowableArray(dim + 2)
        self._first_episode = 0  # global index of the history's first row
        self._n_alp = 0  # rows [0, _n_alp) of all episodes have their ALP computed
        self._neighbours = NearestNeighbourHistory(dim, window=history_size)

    # ------------------------------------------------------------------ public views
    @property
    def alps(self) -> np.ndarray:
        """ALP of each kept episode, oldest first (computed now if still pending)."""
        self._compute_pending_alps()
        return self._history.view()[:, -1].copy()

    # ------------------------------------------------------------------ GMMTeacher hooks
    def _record(self, unit_params: np.ndarray, score: float) -> None:
        row = np.empty(self.param_space.dim + 2)
        row[:-2], row[-2], row[-1] = unit_params, score, np.nan
        self._history.append(row)
        if self.history_size is not None and len(self._history) > 2 * self._kept_rows():
            self._compute_pending_alps()
            dropped = len(self._history) - self._kept_rows()
            self._history.keep_last(self._kept_rows())
            self._first_episode += dropped

    def _fit_rows(self) -> np.ndarray:
        self._compute_pending_alps()
        rows = self._history.view()[-self.fit_rate :]
        return np.column_stack([rows[:, :-2], rows[:, -1]])

    def _interest(self, mixture: MixtureFit) -> np.ndarray:
        return mixture.means[:, -1]  # the ALP coordinate of each component's mean

    # ------------------------------------------------------------------ ALP
    def _kept_rows(self) -> int:
        assert self.history_size is not None
        return max(self.history_size, self.fit_rate)

    def _compute_pending_alps(self) -> None:
        """Compute the ALP of every episode recorded since the last call, in one batch.

        ALP values are only read at fit time, so batching them changes nothing but the cost:
        one KD-tree query per level for the whole batch instead of one per episode.
        """
        total = self._first_episode + len(self._history)
        if self._n_alp == total:
            return
        rows = self._history.view()[self._n_alp - self._first_episode :]
        scores = rows[:, -2]
        neighbour_scores = self._neighbours.add(rows[:, :-2], scores)
        alp = np.abs(scores - neighbour_scores)
        earlier_episodes = np.arange(self._n_alp, total)
        alp[(earlier_episodes < self.alp_min_history) | np.isnan(alp)] = 0.0
        rows[:, -1] = alp
        self._n_alp = total

    # ------------------------------------------------------------------ state
    def _state_dict(self) -> dict[str, Any]:
        self._compute_pending_alps()
        history = self._history.view()
        dim = self.param_space.dim
        return {
            "first_episode": self._first_episode,
            "unit_params": history[:, :dim].copy(),
            "scores": history[:, dim].copy(),
            "alps": history[:, dim + 1].copy(),
            **self._gmm_state(),
        }

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        dim = self.param_space.dim
        unit_params = np.asarray(state["unit_params"], dtype=np.float64).reshape(-1, dim)
        scores = np.asarray(state["scores"], dtype=np.float64).reshape(-1)
        alps = np.asarray(state["alps"], dtype=np.float64).reshape(-1)
        if not len(unit_params) == len(scores) == len(alps):
            raise ValueError(
                f"ALP-GMM state has {len(unit_params)} params, {len(scores)} scores and "
                f"{len(alps)} ALP values; they must match"
            )
        first_episode = int(state["first_episode"])
        self._load_gmm_state(state, dim + 1)
        self._history = GrowableArray.from_rows(np.column_stack([unit_params, scores, alps]))
        self._first_episode = first_episode
        self._n_alp = first_episode + len(scores)
        # The KD-tree levels are derived data: rebuild them from the saved history.
        window_start = 0 if self.history_size is None else max(0, len(scores) - self.history_size)
        self._neighbours = NearestNeighbourHistory(
            dim, window=self.history_size, first_index=first_episode + window_start
        )
        self._neighbours.extend(unit_params[window_start:], scores[window_start:])

    def _metrics(self) -> dict[str, float]:
        metrics = super()._metrics()
        recent = self.alps[-self.fit_rate :]
        metrics["mean_alp"] = float(recent.mean()) if len(recent) else 0.0
        return metrics
