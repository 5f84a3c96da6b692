"""RIAC: region ALP, splits, discards, sampling modes, state and the Teacher contract."""

from __future__ import annotations

import numpy as np
import pytest

from teachgym import state_io
from teachgym.spaces import ParamSpace
from teachgym.teachers import RIAC, available, check_teacher, make


def reference_alp(scores: list[float], window: int) -> float:
    """The reference's region ALP, written out with numpy slicing."""
    if len(scores) <= 2:
        return 0.0
    width = min(len(scores), window)
    half = width // 2
    history = np.asarray(scores)
    return abs(history[-width:-half].mean() - history[-half:].mean())


def stored_pairs(teacher: RIAC, region: int) -> tuple[np.ndarray, np.ndarray]:
    """A region's stored (unit params, scores), oldest first, read from the public state."""
    state = teacher.state_dict()["algorithm"]
    offsets = np.concatenate([[0], np.cumsum(state["counts"])])
    stored = slice(offsets[region], offsets[region + 1])
    return state["unit_params"][stored], state["scores"][stored]


def feed(teacher: RIAC, params: np.ndarray, scores: np.ndarray) -> None:
    for point, score in zip(params, scores, strict=True):
        teacher.update(point, float(score))


def contrast_history(
    rng: np.random.Generator, n: int, progress_dim: int
) -> tuple[np.ndarray, np.ndarray]:
    """Episodes alternating between the lower half of ``progress_dim``, whose score ramps
    from 0 to 1 (high ALP), and its upper half, whose score stays 0.5 (no ALP)."""
    params = rng.random((n, 2))
    lower = np.arange(n) % 2 == 0
    params[:, progress_dim] = np.where(lower, 0.0, 0.5) + 0.5 * params[:, progress_dim]
    scores = np.where(lower, np.arange(n) / n, 0.5)
    return params, scores


# ---------------------------------------------------------------------------- ALP
def test_alp_of_a_hand_made_region() -> None:
    teacher = RIAC(ParamSpace.unit(2), seed=0, max_region_size=50, alp_window_size=6)
    scores = [0.1, 0.9, 0.3, 0.5, 0.2, 0.8, 0.4, 0.7, 0.6, 0.0]
    points = np.random.default_rng(0).random((len(scores), 2))
    for seen, (point, score) in enumerate(zip(points, scores, strict=True), start=1):
        teacher.update(point, score)
        assert teacher.region_alps[0] == pytest.approx(reference_alp(scores[:seen], 6), abs=1e-12)
        if seen == 4:  # window 4, halves [0.1, 0.9] and [0.3, 0.5]
            assert teacher.region_alps[0] == pytest.approx(0.1)
        if seen == 5:  # window 5: older [0.1, 0.9, 0.3], newer [0.5, 0.2]
            assert teacher.region_alps[0] == pytest.approx(abs(1.3 / 3 - 0.35))
        if seen == 10:  # window 6: older [0.2, 0.8, 0.4], newer [0.7, 0.6, 0.0]
            assert teacher.region_alps[0] == pytest.approx(abs(1.4 / 3 - 1.3 / 3))
    assert reference_alp(scores[:2], 6) == 0.0


def test_regions_keep_their_most_recent_pairs_and_alp_follows_them() -> None:
    rng = np.random.default_rng(1)
    teacher = RIAC(ParamSpace.unit(2), seed=1, max_region_size=10)
    params, scores = rng.random((57, 2)), rng.random(57)
    feed(teacher, params, scores)
    assert teacher.n_regions > 1
    root_params, root_scores = stored_pairs(teacher, 0)
    np.testing.assert_array_equal(root_scores, scores[-11:])
    np.testing.assert_allclose(root_params, params[-11:])
    assert teacher.region_alps[0] == pytest.approx(reference_alp(list(scores), 10), abs=1e-12)
    for region in range(teacher.n_regions):
        _, region_scores = stored_pairs(teacher, region)
        expected = reference_alp(list(region_scores), 10)
        assert teacher.region_alps[region] == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------------------- splits
def test_a_full_leaf_splits_into_a_partition_of_itself() -> None:
    rng = np.random.default_rng(3)
    teacher = RIAC(ParamSpace.unit(2), seed=3, max_region_size=20)
    params, scores = rng.random((21, 2)), rng.random(21)
    feed(teacher, params[:20], scores[:20])
    assert teacher.n_regions == 1
    teacher.update(params[20], float(scores[20]))
    assert teacher.n_regions == 3

    state = teacher.state_dict()["algorithm"]
    np.testing.assert_array_equal(state["children"], [[1, 2], [-1, -1], [-1, -1]])
    np.testing.assert_array_equal(state["parent"], [-1, 0, 0])
    dim, threshold = int(state["split_dim"][0]), float(state["split_threshold"][0])
    low, high = teacher.region_bounds
    expected_left_high, expected_right_low = np.ones(2), np.zeros(2)
    expected_left_high[dim] = expected_right_low[dim] = threshold
    np.testing.assert_array_equal(low[1], [0, 0])
    np.testing.assert_array_equal(high[1], expected_left_high)
    np.testing.assert_array_equal(low[2], expected_right_low)
    np.testing.assert_array_equal(high[2], [1, 1])
    assert np.all(high[1:] - low[1:] >= 1 / 15)

    goes_left = params[:, dim] < threshold
    for child, side in ((1, goes_left), (2, ~goes_left)):
        child_params, child_scores = stored_pairs(teacher, child)
        assert len(child_scores) >= 1  # min_region_fraction * max_region_size
        np.testing.assert_allclose(child_params, params[side])
        np.testing.assert_array_equal(child_scores, scores[side])
        # Each child's ALP is its own (the reference copies the last attempt's).
        expected = reference_alp(list(child_scores), 20)
        assert teacher.region_alps[child] == pytest.approx(expected, abs=1e-12)
    np.testing.assert_array_equal(stored_pairs(teacher, 0)[1], scores)  # parent keeps all

    # The next episode is recorded in the root and exactly one child.
    point = np.where(np.arange(2) == dim, threshold / 2, 0.5)
    teacher.update(point, 0.5)
    counts = teacher.state_dict()["algorithm"]["counts"]
    np.testing.assert_array_equal(counts, [21, goes_left.sum() + 1, (~goes_left).sum()])


@pytest.mark.parametrize("progress_dim", [0, 1])
@pytest.mark.parametrize("seed", range(4))
def test_split_cuts_the_dimension_with_the_alp_contrast(progress_dim: int, seed: int) -> None:
    params, scores = contrast_history(np.random.default_rng(seed), 201, progress_dim)
    teacher = RIAC(ParamSpace.unit(2), seed=seed)
    feed(teacher, params, scores)
    state = teacher.state_dict()["algorithm"]
    assert teacher.n_regions == 3
    assert state["split_dim"][0] == progress_dim
    assert 0.35 < state["split_threshold"][0] < 0.65
    low, _ = teacher.region_bounds
    alps = teacher.region_alps
    # The low side holds the ramp, so it is the child with the larger ALP.
    assert alps[1] > alps[2] + 0.1
    assert low[2][progress_dim] == state["split_threshold"][0]


def test_no_valid_split_discards_the_oldest_pairs() -> None:
    rng = np.random.default_rng(4)
    # Children must span half of each range: no random cut is ever valid.
    teacher = RIAC(ParamSpace.unit(2), seed=4, max_region_size=40, min_range_fraction=0.5)
    params, scores = rng.random((51, 2)), rng.random(51)
    feed(teacher, params[:41], scores[:41])
    assert teacher.n_regions == 1
    stored_params, stored_scores = stored_pairs(teacher, 0)
    np.testing.assert_array_equal(stored_scores, scores[10:41])  # dropped int(40 / 4) = 10
    np.testing.assert_allclose(stored_params, params[10:41])
    assert teacher.region_alps[0] == pytest.approx(reference_alp(list(scores[10:41]), 40))
    feed(teacher, params[41:], scores[41:])  # 41 stored again: discard again
    assert teacher.n_regions == 1
    np.testing.assert_array_equal(stored_pairs(teacher, 0)[1], scores[20:51])


def test_tree_stays_a_partition_with_wide_enough_leaves() -> None:
    rng = np.random.default_rng(5)
    teacher = RIAC(ParamSpace.unit(2), seed=5, max_region_size=30)
    for episode in range(3000):
        point = teacher.sample()
        # Progress that moves across the space, so regions keep splitting.
        teacher.update(point, float(np.clip(episode / 3000 - point.sum() / 4, 0, 1)))
    assert teacher.n_regions > 15
    low, high = teacher.region_bounds
    leaves = teacher.leaf_indices
    assert np.all(high[leaves] - low[leaves] >= 1 / 15 - 1e-12)
    assert np.prod(high[leaves] - low[leaves], axis=1).sum() == pytest.approx(1.0)
    state = teacher.state_dict()["algorithm"]
    assert np.all(state["counts"] <= 31)
    probes = rng.random((500, 2))
    for probe in probes:  # every point lies in exactly one leaf (half-open boxes)
        inside = np.all((probe >= low[leaves]) & (probe < high[leaves]), axis=1)
        assert inside.sum() == 1


# ---------------------------------------------------------------------------- sampling
def trained_on_lower_half(**hyperparameters: object) -> RIAC:
    """A teacher that has split the unit square with all progress where x0 < ~0.5."""
    params, scores = contrast_history(np.random.default_rng(7), 201, progress_dim=0)
    teacher = RIAC(ParamSpace.unit(2), seed=7, **hyperparameters)  # type: ignore[arg-type]
    feed(teacher, params, scores)
    assert teacher.n_regions == 3
    return teacher


def test_random_ratio_one_samples_uniformly() -> None:
    uniform = trained_on_lower_half(random_ratio=1.0, worst_params_ratio=0.0)
    samples = np.array([uniform.sample() for _ in range(4000)])
    assert np.mean(samples[:, 0] < 0.5) == pytest.approx(0.5, abs=0.03)
    assert np.mean(samples[:, 1] < 0.5) == pytest.approx(0.5, abs=0.03)
    # The same tree with the paper's ratios favours the region with progress.
    default = trained_on_lower_half()
    samples = np.array([default.sample() for _ in range(4000)])
    assert np.mean(samples[:, 0] < 0.5) > 0.65


def test_region_sampling_is_proportional_to_alp() -> None:
    teacher = trained_on_lower_half(random_ratio=0.0, worst_params_ratio=0.0)
    threshold = teacher.state_dict()["algorithm"]["split_threshold"][0]
    alps = teacher.region_alps
    samples = np.array([teacher.sample() for _ in range(6000)])
    # Only the root (ALP share alps[0] / sum) can yield samples beyond the low child.
    beyond = np.mean(samples[:, 0] >= threshold)
    expected = alps[0] / alps.sum() * (1 - threshold) + alps[2] / alps.sum()
    assert beyond == pytest.approx(expected, abs=0.025)

    leaves_only = trained_on_lower_half(
        random_ratio=0.0, worst_params_ratio=0.0, sampling_in_leaves_only=True
    )
    samples = np.array([leaves_only.sample() for _ in range(2000)])
    leaf_alps = leaves_only.region_alps[1:]
    expected = leaf_alps[1] / leaf_alps.sum()
    assert np.mean(samples[:, 0] >= threshold) == pytest.approx(expected, abs=0.025)


def test_zero_alp_everywhere_picks_regions_uniformly() -> None:
    rng = np.random.default_rng(8)
    teacher = RIAC(
        ParamSpace.unit(2),
        seed=8,
        max_region_size=20,
        random_ratio=0.0,
        worst_params_ratio=0.0,
        sampling_in_leaves_only=True,
    )
    feed(teacher, rng.random((21, 2)), np.full(21, 0.3))
    assert teacher.n_regions == 3 and np.all(teacher.region_alps == 0)
    threshold = teacher.state_dict()["algorithm"]["split_threshold"][0]
    dim = teacher.state_dict()["algorithm"]["split_dim"][0]
    samples = np.array([teacher.sample() for _ in range(4000)])
    # Each leaf is picked half of the time whatever its size.
    assert np.mean(samples[:, dim] < threshold) == pytest.approx(0.5, abs=0.03)


def test_worst_params_mode_samples_near_the_worst_point() -> None:
    rng = np.random.default_rng(9)
    teacher = RIAC(ParamSpace.unit(2), seed=9, random_ratio=0.0, worst_params_ratio=1.0)
    first = teacher.sample()  # nothing seen yet: uniform
    assert np.all((first >= 0) & (first <= 1))
    params, scores = rng.random((60, 2)), 0.5 + 0.5 * rng.random(60)
    params[30], scores[30] = [0.3, 0.7], 0.1
    feed(teacher, params, scores)
    samples = np.array([teacher.sample() for _ in range(3000)])
    np.testing.assert_allclose(samples.mean(axis=0), [0.3, 0.7], atol=0.01)
    np.testing.assert_allclose(samples.std(axis=0), [0.1, 0.1], atol=0.01)


def test_worst_params_are_clipped_to_their_region() -> None:
    rng = np.random.default_rng(15)
    teacher = RIAC(
        ParamSpace.unit(2),
        seed=15,
        max_region_size=20,
        random_ratio=0.0,
        worst_params_ratio=1.0,
        worst_params_noise=1.0,
        sampling_in_leaves_only=True,
    )
    # Progress only where x0 < 0.3; constant scores (ALP 0) where x0 > 0.7.
    params = rng.random((21, 2))
    ramp = np.arange(21) % 2 == 0
    params[:, 0] = 0.3 * params[:, 0] + np.where(ramp, 0.0, 0.7)
    feed(teacher, params, np.where(ramp, np.arange(21) / 21, 0.0))
    state = teacher.state_dict()["algorithm"]
    assert state["split_dim"][0] == 0 and 0.3 <= state["split_threshold"][0] < 0.7
    assert teacher.region_alps[2] == 0.0 < teacher.region_alps[1]
    samples = np.array([teacher.sample() for _ in range(500)])
    assert np.all(samples[:, 0] < state["split_threshold"][0])  # never in the ALP-0 leaf


def test_worst_params_ties_go_to_the_oldest_and_stay_in_the_region() -> None:
    space = ParamSpace(["a", "b"], [0, -1], [10, 1])
    teacher = RIAC(space, seed=10, random_ratio=0.0, worst_params_ratio=1.0, worst_params_noise=0.0)
    teacher.update([2.0, 0.5], 0.9)
    teacher.update([4.0, -0.5], 0.2)
    teacher.update([6.0, 0.0], 0.2)
    for _ in range(20):
        np.testing.assert_allclose(teacher.sample(), [4.0, -0.5])

    narrow = RIAC(space, seed=11, random_ratio=0.0, worst_params_ratio=1.0, worst_params_noise=5)
    narrow.update([5.0, 0.0], 0.0)
    samples = np.array([narrow.sample() for _ in range(200)])
    assert np.all((samples >= space.low) & (samples <= space.high))
    assert np.mean(samples == space.high) > 0.2  # clipped to the (root) region's faces


# ---------------------------------------------------------------------------- contract
def test_conformance_on_the_unit_square() -> None:
    check_teacher(RIAC(ParamSpace.unit(2), seed=0))


def test_conformance_on_a_non_unit_space() -> None:
    check_teacher(RIAC(ParamSpace(["a", "b", "c"], [0, -1, 2], [3, 1, 5]), seed=0))


def test_conformance_with_small_regions_sampled_in_leaves() -> None:
    check_teacher(
        RIAC(ParamSpace.unit(2), seed=0, max_region_size=25, sampling_in_leaves_only=True)
    )


def test_registry_builds_riac() -> None:
    assert "riac" in available()
    space = ParamSpace.unit(3)
    teacher = make("riac", space, seed=1)
    assert isinstance(teacher, RIAC)
    assert teacher.seed == 1
    assert teacher.hyperparameters["alp_window_size"] == 200
    assert np.all((teacher.sample() >= 0) & (teacher.sample() <= 1))
    custom = make("riac", space, seed=1, max_region_size=50)
    assert custom.hyperparameters["alp_window_size"] == 50


@pytest.mark.parametrize(
    "hyperparameters",
    [
        {"max_region_size": 1},
        {"max_region_size": 20.5},
        {"max_region_size": True},
        {"alp_window_size": 1},
        {"n_split_attempts": 0},
        {"min_region_fraction": -0.1},
        {"min_region_fraction": 0.6},
        {"min_range_fraction": 0.7},
        {"discard_fraction": 1.5},
        {"discard_fraction": float("nan")},
        {"sampling_in_leaves_only": "yes"},
        {"random_ratio": -0.2},
        {"worst_params_ratio": 0.9},  # with random_ratio 0.2: more than 1
        {"worst_params_noise": -0.1},
        {"worst_params_noise": float("inf")},
    ],
)
def test_bad_hyperparameters_are_rejected(hyperparameters: dict[str, object]) -> None:
    name = next(iter(hyperparameters))
    with pytest.raises(ValueError, match=name):
        RIAC(ParamSpace.unit(2), **hyperparameters)  # type: ignore[arg-type]


def test_state_is_plain_data_and_round_trips_through_a_file(tmp_path) -> None:
    teacher = RIAC(ParamSpace.unit(2), seed=12, max_region_size=30)
    rng = np.random.default_rng(12)
    for _ in range(400):
        point = teacher.sample()
        teacher.update(point, float(rng.random() * point[0]))
    state = teacher.state_dict()
    path = state_io.save(state, tmp_path / "riac")
    restored = RIAC(ParamSpace.unit(2), seed=99, max_region_size=30)
    restored.load_state_dict(state_io.load(path))
    assert restored.n_regions == teacher.n_regions
    np.testing.assert_array_equal(restored.region_alps, teacher.region_alps)
    for _ in range(300):
        expected = teacher.sample()
        np.testing.assert_array_equal(restored.sample(), expected)
        score = float(rng.random())
        teacher.update(expected, score)
        restored.update(expected, score)
    metrics = restored.metrics()
    assert metrics["n_regions"] == restored.n_regions
    assert metrics["n_leaves"] == len(restored.leaf_indices)
    assert metrics["max_alp"] == pytest.approx(restored.region_alps.max())


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda s: s.pop("scores"),
        lambda s: s.__setitem__("counts", s["counts"] + 100),
        lambda s: s.__setitem__("children", np.zeros_like(s["children"])),
        lambda s: s["split_threshold"].__setitem__(0, s["split_threshold"][0] + 0.01),
        lambda s: s["alp"].__setitem__(0, np.nan),
        lambda s: s["unit_params"].__setitem__(0, 2.0),
    ],
)
def test_corrupt_states_are_rejected_without_changes(corrupt) -> None:
    source = RIAC(ParamSpace.unit(2), seed=13, max_region_size=20)
    rng = np.random.default_rng(13)
    feed(source, rng.random((100, 2)), rng.random(100))
    assert source.n_regions > 1
    state = source.state_dict()
    corrupt(state["algorithm"])
    target = RIAC(ParamSpace.unit(2), seed=14, max_region_size=20)
    target.update([0.5, 0.5], 0.5)
    before = target.state_dict()
    with pytest.raises(ValueError):
        target.load_state_dict(state)
    after = target.state_dict()
    assert after["n_updates"] == before["n_updates"] == 1
    np.testing.assert_array_equal(after["algorithm"]["scores"], before["algorithm"]["scores"])
    assert target.n_regions == 1
