"""A growable 2-D float array with amortised O(1) append and front trimming."""

from __future__ import annotations

import numpy as np


class GrowableArray:
    """Rows appended (singly or in blocks) into a doubling buffer; ``view()`` shows the live rows.

    Args:
        width: Number of columns.
        capacity: Initial number of rows allocated.
    """

    def __init__(self, width: int, capacity: int = 1024) -> None:
        self._data = np.empty((max(capacity, 1), width))
        self._begin = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._begin

    def append(self, row: np.ndarray) -> None:
        if self._end == len(self._data):
            self._compact(grow=True)
        self._data[self._end] = row
        self._end += 1

    def extend(self, rows: np.ndarray) -> None:
        """Append ``rows`` (``(k, width)``) in one copy; same live rows as ``k`` appends."""
        count = len(rows)
        if self._end + count > len(self._data):
            self._reserve(count)
        self._data[self._end : self._end + count] = rows
        self._end += count

    def _reserve(self, count: int) -> None:
        live = self.view()
        capacity = len(self._data)
        while len(live) + count > capacity // 2:
            capacity *= 2
        data = np.empty((capacity, self._data.shape[1]))
        data[: len(live)] = live
        self._data, self._begin, self._end = data, 0, len(live)

    def view(self) -> np.ndarray:
        """The live rows (a view: copy before keeping it across appends)."""
        return self._data[self._begin : self._end]

    def keep_last(self, count: int) -> None:
        """Forget all but the newest ``count`` rows."""
        self._begin = max(self._begin, self._end - count)

    def _compact(self, grow: bool) -> None:
        live = self.view()
        capacity = len(self._data)
        if grow and len(live) > capacity // 2:
            capacity *= 2
        data = np.empty((capacity, self._data.shape[1]))
        data[: len(live)] = live
        self._data, self._begin, self._end = data, 0, len(live)

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> GrowableArray:
        rows = np.asarray(rows, dtype=np.float64)
        array = cls(rows.shape[1], capacity=max(1024, 2 * len(rows)))
        array._data[: len(rows)] = rows
        array._end = len(rows)
        return array
