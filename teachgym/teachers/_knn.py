"""Exact nearest-neighbour lookup over a growing history of (params, score) points.

ALP-GMM needs, for every new episode, the score of the nearest *earlier* parameter vector
(Portelas et al. 2019, §4: ALP = |score − score of the nearest previous params|). The history
grows without bound (10⁶ episodes and more), so a linear scan per episode grows with it, and
rebuilding one KD-tree per episode is worse. This index keeps the history in a few static
``scipy.spatial.cKDTree`` levels of geometrically growing size (a log-structured merge: each new
batch becomes a small tree, and equal-sized neighbours are merged), so an insertion costs
O(log² n) amortised and a query O(log n) trees.

Points are queried and inserted in batches (ALP-GMM only needs the ALP values when it refits,
so it computes them lazily). Within a batch, point j's neighbour is searched among all points
before it: the trees plus the batch's points 0…j−1, found with a masked distance matrix.

With ``window`` set, only the most recent ``window`` points before each query are candidates
(ALP-GMM's bounded-history option); whole levels that fall out of the window are dropped, so
memory stays within a small multiple of the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy.spatial import cKDTree

# Batch queries are processed in blocks of this many rows, keeping distance matrices small.
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
        """Global index of the next point to insert (inserted so far, including dropped)."""
        return self._size

    @property
    def level_starts(self) -> list[int]:
        """Global index of each level's first point, oldest level first (saved in states)."""
        return [level.start for level in self._levels]

    def query(self, points: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Neighbour values for a batch of points that would be inserted next, in order.

        Point j of the batch (global index ``len(self) + j``) is matched against the inserted
        points and the batch's points before it. Returns ``nan`` where there is no candidate.
        Nothing is inserted.
        """
        points = np.asarray(points, dtype=np.float64).reshape(-1, self.dim)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        count = len(points)
        query_index = self._size + np.arange(count)
        # Oldest global index each query may use.
        oldest = np.zeros(count, dtype=np.int64)
        if self.window is not None:
            oldest = np.maximum(query_index - self.window, 0)

        best_distance = np.full(count, np.inf)
        best_value = np.full(count, np.nan)
        for level in self._levels:
            distance, position = level.tree.query(points, k=1)
            if np.any(level.start + position < oldest):
                distance, position = self._requery_in_window(
                    level, points, oldest, distance, position
                )
            better = distance < best_distance
            best_distance[better] = distance[better]
            best_value[better] = level.values[position[better]]

        # Earlier points of the same batch, a block at a time: a masked distance matrix.
        for begin in range(1, count, _CHUNK):
            rows = slice(begin, min(begin + _CHUNK, count))
            block = points[rows]
            squared = ((block[:, None, :] - points[None, : rows.stop, :]) ** 2).sum(axis=2)
            candidate = np.arange(rows.stop)[None, :]
            allowed = (candidate < query_index[rows, None] - self._size) & (
                candidate + self._size >= oldest[rows, None]
            )
            squared[~allowed] = np.inf
            position = squared.argmin(axis=1)
            distance = np.sqrt(squared[np.arange(len(block)), position])
            block_distance, block_value = best_distance[rows], best_value[rows]  # views
            better = distance < block_distance
            block_distance[better] = distance[better]
            block_value[better] = values[position[better]]
        return best_value

    def insert(self, points: np.ndarray, values: np.ndarray) -> None:
        """Insert a batch as a new level, merging levels so their sizes grow geometrically.

        Each level is a static KD-tree, so a point is rebuilt O(log n) times over its life and
        a query visits O(log n) trees. The layout depends only on the batch sizes, which makes
        tie-breaking between equidistant points reproducible.
        """
        points = np.asarray(points, dtype=np.float64).reshape(-1, self.dim)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if not len(points):
            return
        start = self._size
        self._size += len(points)
        self._levels.append(_Level(cKDTree(points), values.copy(), start))
        while len(self._levels) > 1 and self._should_merge(*self._levels[-2:]):
            newer = self._levels.pop()
            older = self._levels.pop()
            merged_points = np.concatenate([older.tree.data, newer.tree.data])
            merged_values = np.concatenate([older.values, newer.values])
            self._levels.append(_Level(cKDTree(merged_points), merged_values, older.start))
        if self.window is not None:
            horizon = self._size - self.window
            self._levels = [level for level in self._levels if level.end > horizon]

    def _should_merge(self, older: _Level, newer: _Level) -> bool:
        if len(older.values) > 2 * len(newer.values):
            return False
        # With a window, levels stay no larger than it, so whole levels age out of it and
        # memory stays within about twice the window.
        return self.window is None or len(older.values) + len(newer.values) <= self.window

    def restore(self, points: np.ndarray, values: np.ndarray, level_starts: list[int]) -> None:
        """Rebuild saved levels. ``points`` run from ``level_starts[0]`` to the saved size."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, self.dim)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if not level_starts:
            return
        first = level_starts[0]
        bounds = [*level_starts, first + len(points)]
        if first != self._size or any(b >= e for b, e in pairwise(bounds)):
            raise ValueError(
                f"level starts {level_starts} do not fit {len(points)} points from {self._size}"
            )
        for begin, end in pairwise(bounds):
            part = slice(begin - first, end - first)
            self._levels.append(_Level(cKDTree(points[part]), values[part].copy(), begin))
        self._size = bounds[-1]

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
