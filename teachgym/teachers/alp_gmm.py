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

from teachgym.checks import check_int, check_optional_int
from teachgym.spaces import ParamSpace
from teachgym.teachers._history import GrowableArray
from teachgym.teachers._knn import NearestNeighbourHistory
from teachgym.teachers.gmm import GMMTeacher, MixtureFit

# Episodes enter the KD-tree index in batches of this size (a fixed size keeps the index
# layout a function of the episode count alone).
_INDEX_BATCH = 256


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
        self.history_size = check_optional_int("history_size", history_size, minimum=1)
        self.alp_min_history = check_int("alp_min_history", alp_min_history, minimum=1)
        dim = self.param_space.dim
        # Columns: unit params, score, ALP (NaN until computed). Rows older than the window
        # are trimmed when history_size is set.
        self._history = GrowableArray(dim + 2)
        self._first_episode = 0  # global index of the history's first row
        self._n_alp = 0  # episodes [0, _n_alp) have their ALP computed
        self._n_indexed = 0  # episodes [0, _n_indexed) are in the neighbour index
        self._neighbours = NearestNeighbourHistory(dim, window=self.history_size)

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
        if self._episodes() - self._n_indexed >= _INDEX_BATCH:
            self._index_batch()
        if self.history_size is not None and len(self._history) > 2 * self._kept_rows():
            self._trim_history()

    def _record_many(self, unit_params: np.ndarray, scores: np.ndarray) -> None:
        """``_record`` on each row, in blocks that end where ``_record`` would index or trim.

        The neighbour index and the trimmed history depend on the episode count at which
        those happen, so each block stops at the next such count and does it there.
        """
        count = len(scores)
        rows = np.empty((count, self.param_space.dim + 2))
        rows[:, :-2], rows[:, -2], rows[:, -1] = unit_params, scores, np.nan
        done = 0
        while done < count:
            episodes = self._episodes()
            stop = min(count, done + self._n_indexed + _INDEX_BATCH - episodes)
            if self.history_size is not None:
                until_trim = self._first_episode + 2 * self._kept_rows() + 1 - episodes
                stop = min(stop, done + max(until_trim, 1))
            self._history.extend(rows[done:stop])
            done = stop
            if self._episodes() - self._n_indexed >= _INDEX_BATCH:
                self._index_batch()
            if self.history_size is not None and len(self._history) > 2 * self._kept_rows():
                self._trim_history()

    def _fit_rows(self) -> np.ndarray:
        self._compute_pending_alps()
        rows = self._history.view()[-self.fit_rate :]
        return np.column_stack([rows[:, :-2], rows[:, -1]])

    def _interest(self, mixture: MixtureFit) -> np.ndarray:
        return mixture.means[:, -1]  # the ALP coordinate of each component's mean

    # ------------------------------------------------------------------ ALP
    def _episodes(self) -> int:
        return self._first_episode + len(self._history)

    def _rows_from(self, episode: int) -> np.ndarray:
        return self._history.view()[episode - self._first_episode :]

    def _compute_pending_alps(self) -> None:
        """Compute the ALP of every episode that has none yet, in one batched query.

        ALP values are only read at fit time, so batching them changes nothing but the cost.
        Episodes enter the KD-tree index in fixed batches of ``_INDEX_BATCH`` (see
        ``_record``), so the index layout, and with it the choice between exactly equidistant
        neighbours, never depends on when ALPs happen to be read.
        """
        total = self._episodes()
        if self._n_alp == total:
            return
        unindexed = self._rows_from(self._n_indexed)
        neighbour_scores = self._neighbours.query(unindexed[:, :-2], unindexed[:, -2])
        new = slice(self._n_alp - self._n_indexed, None)
        alp = np.abs(unindexed[new, -2] - neighbour_scores[new])
        alp[(np.arange(self._n_alp, total) < self.alp_min_history) | np.isnan(alp)] = 0.0
        unindexed[new, -1] = alp
        self._n_alp = total

    def _index_batch(self) -> None:
        self._compute_pending_alps()
        batch = self._rows_from(self._n_indexed)[:_INDEX_BATCH]
        self._neighbours.insert(batch[:, :-2], batch[:, -2])
        self._n_indexed += len(batch)

    def _kept_rows(self) -> int:
        assert self.history_size is not None
        return max(self.history_size, self.fit_rate)

    def _trim_history(self) -> None:
        # Keep the rows the index's live levels were built from, so a saved state can
        # rebuild exactly the same levels.
        starts = self._neighbours.level_starts
        keep_from = min(self._episodes() - self._kept_rows(), self._n_indexed, *starts)
        if keep_from > self._first_episode:
            self._history.keep_last(self._episodes() - keep_from)
            self._first_episode = keep_from

    # ------------------------------------------------------------------ state
    def _state_dict(self) -> dict[str, Any]:
        self._compute_pending_alps()
        history = self._history.view()
        dim = self.param_space.dim
        return {
            "first_episode": self._first_episode,
            "n_indexed": self._n_indexed,
            "index_level_starts": self._neighbours.level_starts,
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
        first_episode, n_indexed = int(state["first_episode"]), int(state["n_indexed"])
        starts = [int(start) for start in state["index_level_starts"]]
        # The KD-tree levels are derived data: rebuild the saved layout from the history.
        neighbours = NearestNeighbourHistory(
            dim, window=self.history_size, first_index=starts[0] if starts else n_indexed
        )
        indexed = slice(
            (starts[0] if starts else n_indexed) - first_episode, n_indexed - first_episode
        )
        neighbours.restore(unit_params[indexed], scores[indexed], starts)
        self._load_gmm_state(state, dim + 1)
        self._history = GrowableArray.from_rows(np.column_stack([unit_params, scores, alps]))
        self._first_episode = first_episode
        self._n_indexed = n_indexed
        self._n_alp = first_episode + len(scores)
        self._neighbours = neighbours

    def _metrics(self) -> dict[str, float]:
        metrics = super()._metrics()
        recent = self.alps[-self.fit_rate :]
        metrics["mean_alp"] = float(recent.mean()) if len(recent) else 0.0
        return metrics
