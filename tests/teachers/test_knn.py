import numpy as np
import pytest

from teachgym.teachers._knn import NearestNeighbourHistory


def _brute_force(points, values, window):
    expected = np.full(len(points), np.nan)
    for j in range(1, len(points)):
        first = 0 if window is None else max(0, j - window)
        squared = ((points[first:j] - points[j]) ** 2).sum(axis=1)
        expected[j] = values[first + squared.argmin()]
    return expected


@pytest.mark.parametrize("window", [None, 1, 37, 600])
def test_matches_brute_force_for_any_batching(window):
    rng = np.random.default_rng(5)
    points, values = rng.random((2500, 3)), rng.random(2500)
    index = NearestNeighbourHistory(3, window=window)
    found, start = [], 0
    while start < len(points):
        size = int(rng.integers(1, 700))
        batch = slice(start, start + size)
        found.append(index.query(points[batch], values[batch]))
        index.insert(points[batch], values[batch])
        start += size
    np.testing.assert_array_equal(
        np.concatenate(found), _brute_force(points, values, window), strict=True
    )
    assert len(index) == 2500


def test_levels_stay_logarithmic_and_window_bounds_memory():
    rng = np.random.default_rng(0)
    unbounded = NearestNeighbourHistory(2)
    bounded = NearestNeighbourHistory(2, window=1000)
    for _ in range(200):
        batch = rng.random((250, 2))
        unbounded.insert(batch, batch[:, 0])
        bounded.insert(batch, batch[:, 0])
    assert len(unbounded._levels) <= 12
    kept = sum(len(level.values) for level in bounded._levels)
    assert 1000 <= kept <= 4000


def test_restore_rebuilds_the_same_layout():
    rng = np.random.default_rng(1)
    points, values = rng.random((1500, 2)), rng.random(1500)
    original = NearestNeighbourHistory(2, window=400)
    for begin in range(0, 1200, 100):
        original.insert(points[begin : begin + 100], values[begin : begin + 100])
    starts = original.level_starts
    restored = NearestNeighbourHistory(2, window=400, first_index=starts[0])
    restored.restore(points[starts[0] : 1200], values[starts[0] : 1200], starts)
    assert restored.level_starts == starts and len(restored) == len(original) == 1200
    np.testing.assert_array_equal(
        restored.query(points[1200:], values[1200:]), original.query(points[1200:], values[1200:])
    )
    with pytest.raises(ValueError, match="do not fit"):
        NearestNeighbourHistory(2).restore(points[:10], values[:10], [5])


def test_ties_between_identical_points_resolve_the_same_after_restore():
    # Clipped samples can coincide exactly (box corners); layout-dependent tie-breaking
    # must not change results across save and load.
    corner = np.ones((600, 2))
    values = np.arange(600.0)
    original = NearestNeighbourHistory(2)
    for begin in range(0, 512, 256):
        original.insert(corner[begin : begin + 256], values[begin : begin + 256])
    restored = NearestNeighbourHistory(2)
    restored.restore(corner[:512], values[:512], original.level_starts)
    np.testing.assert_array_equal(
        restored.query(corner[512:], values[512:]), original.query(corner[512:], values[512:])
    )
