"""Exact nearest-neighbour lookup over a growing history of (params, score) points.

ALP-GMM needs, for every new episode, the score of the nearest *earlier* parameter vector
(Portelas et al. 2019, §4: ALP = |score − score of the nearest previous params|). The history
grows without bound (10⁶ episodes and more), so a linear scan per episode grows with it, and
rebuilding one KD-tree per episode is worse. This index keeps the history in a few static
``scipy.spatial.cKDTree`` levels of geometrically growing size (a log-structured merge: each new
batch becomes a small tree, and equal-sized neighbours are merged), so an insertion costs
O(log² n) amortised and a query O(log n) trees.

Points arrive in batches (ALP-GMM only needs the ALP values when it refits, every 250 episodes,
so it computes them lazily). Within a batch, point j's neighbour is searched among all points
before it: the trees plus the batch's points 0…j−1, found with one masked distance matrix.

With ``window`` set, only the most recent ``window`` points before each query are candidates
(ALP-GMM's bounded-history option); whole levels that fall out of the window are dropped, so
memory stays within a small multiple of the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

# Queries are processed in chunks of this size: the in-chunk distance matrix stays small.
_CHUNK = 256


@dataclass
class _Level:
    tree: cKDTree
    values: np.ndarray
    start: int  # global index of the level's first point; its points are contiguous

    @property
    def end(self) -> int:
        return self.start + len(self.values)


class NearestNeighbourHistory:
    """Exact 1-nearest-neighbour values over all earlier points (or the last ``window``).

    Args:
        dim: Dimension of the points.
        window: If given, a point's neighbour is searched among the ``window`` points added
            just before it only.
        first_index: Global index of the first point this index will hold (a restored
            history whose oldest points were already dropped starts later than 0).
    """

    def __init__(self, dim: int, window: int | None = None, first_index: int = 0) -> None:
        if window is not None and window < 1:
            raise ValueError(f"window must be a positive number of points; got {window}")
        self.dim = dim
        self.window = window
        self._levels: list[_Level] = []
        self._size = first_index

    def __len__(self) -> int:
        """Global index of the next point (points added so far, including dropped ones)."""
        return self._size

    def add(self, points: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Add points in order and return, for each, the value of its nearest earlier point
        (Euclidean; ``nan`` when it has no earlier point)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, self.dim)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        neighbour_values = np.empty(len(points))
        for begin in range(0, len(points), _CHUNK):
            chunk = slice(begin, begin + _CHUNK)
            neighbour_values[chunk] = self._add_chunk(points[chunk], values[chunk])
        return neighbour_values

    def extend(self, points: np.ndarray, values: np.ndarray) -> None:
        """Add points without querying (restoring a saved history)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, self.dim)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(points):
            self._insert(points, values)

    # ------------------------------------------------------------------ internals
    def _add_chunk(self, points: np.ndarray, values: np.ndarray) -> np.ndarray:
        count = len(points)
        query_index = self._size + np.arange(count)
        # Oldest index each query may use (window), or 0.
        oldest = np.zeros(count, dtype=np.int64)
        if self.window is not None:
            oldest = np.maximum(query_index - self.window, 0)

        best_distance = np.full(count, np.inf)
        best_value = np.full(count, np.nan)
        for level in self._levels:
            distance, position = level.tree.query(points, k=1)
            stale = level.start + position < oldest
            if np.any(stale):
                distance, position = self._requery_in_window(level, points, oldest, distance, position)
            better = distance < best_distance
            best_distance[better] = distance[better]
            best_value[better] = level.values[position[better]]

        # Earlier points of the same chunk: a strictly lower-triangular distance matrix.
        if count > 1:
            squared = ((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
            earlier = np.tril(np.ones((count, count), dtype=bool), k=-1)
            earlier &= query_index[None, :] >= oldest[:, None]
            squared[~earlier] = np.inf
            position = squared.argmin(axis=1)
            distance = np.sqrt(squared[np.arange(count), position])
            better = distance < best_distance
            best_distance[better] = distance[better]
            best_value[better] = values[position[better]]

        self._insert(points, values)
        return best_value

    def _requery_in_window(
        self,
        level: _Level,
        points: np.ndarray,
        oldest: np.ndarray,
        distance: np.ndarray,
        position: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Redo, by brute force over the level's in-window points, the queries whose nearest
        point in ``level`` is older than their window allows."""
        distance, position = distance.copy(), position.copy()
        data = level.tree.data
        for q in np.flatnonzero(level.start + position < oldest):
            first = int(oldest[q] - level.start)
            if first >= len(data):
                distance[q], position[q] = np.inf, 0
                continue
            squared = ((data[first:] - points[q]) ** 2).sum(axis=1)
            nearest = int(squared.argmin())
            distance[q], position[q] = np.sqrt(squared[nearest]), first + nearest
        return distance, position

    def _insert(self, points: np.ndarray, values: np.ndarray) -> None:
        start = self._size
        self._size += len(points)
        self._levels.append(_Level(cKDTree(points), values.copy(), start))
        # Merge while the previous level is not more than twice as large: level sizes then
        # grow geometrically, so there are O(log n) levels and each point is rebuilt O(log n)
        # times over its life.
        while len(self._levels) > 1 and len(self._levels[-2].values) <= 2 * len(
            self._levels[-1].values
        ):
            newer = self._levels.pop()
            older = self._levels.pop()
            merged_points = np.concatenate([older.tree.data, newer.tree.data])
            merged_values = np.concatenate([older.values, newer.values])
            self._levels.append(_Level(cKDTree(merged_points), merged_values, older.start))
        if self.window is not None:
            horizon = self._size - self.window
            self._levels = [level for level in self._levels if level.end > horizon]
