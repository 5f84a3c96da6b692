"""Mechanics of ALP-GMM and Covar-GMM (Portelas et al. 2019, §4)."""

import numpy as np
import pytest

from teachgym import ParamSpace
from teachgym.teachers import ALPGMM, CovarGMM


def test_alp_is_distance_to_nearest_earlier_params_score():
    teacher = ALPGMM(ParamSpace.unit(2), seed=0, fit_rate=1000, alp_min_history=2)
    history = [
        ([0.10, 0.10], 0.2),
        ([0.90, 0.90], 0.5),
        ([0.12, 0.10], 0.7),  # nearest earlier: (0.10, 0.10) → |0.7 − 0.2|
        ([0.88, 0.90], 0.5),  # nearest earlier: (0.90, 0.90) → 0
        ([0.60, 0.62], 0.9),  # nearest earlier: (0.88, 0.90) → |0.9 − 0.5|
    ]
    for params, score in history:
        teacher.update(params, score)
    alps = teacher.alps
    assert alps[0] == 0 and alps[1] == 0  # fewer than alp_min_history earlier episodes
    assert alps[2] == pytest.approx(0.5)
    assert alps[3] == pytest.approx(0.0)
    assert alps[4] == pytest.approx(0.4)


def test_alp_uses_normalised_distances():
    # In raw units (0.0, 53) is nearest to (0.5, 52); on the unit square it is nearest to (0, 50).
    space = ParamSpace(["a", "b"], [0, 0], [1, 100])
    teacher = ALPGMM(space, seed=0, fit_rate=1000, alp_min_history=1)
    teacher.update([0.0, 50.0], 0.1)
    teacher.update([0.5, 52.0], 0.9)
    teacher.update([0.0, 53.0], 0.3)
    assert teacher.alps[2] == pytest.approx(0.2)


def test_first_alps_are_zero_as_in_the_reference():
    teacher = ALPGMM(ParamSpace.unit(2), seed=0, fit_rate=1000)
    rng = np.random.default_rng(0)
    for _ in range(10):
        teacher.update(rng.random(2), rng.random())
    alps = teacher.alps
    assert np.all(alps[:6] == 0) and np.all(alps[6:] > 0)


def test_bootstrap_then_fit_every_fit_rate():
    teacher = ALPGMM(ParamSpace.unit(2), seed=0, fit_rate=50, bootstrap_episodes=100)
    rng = np.random.default_rng(1)
    fits = []
    for _ in range(250):
        teacher.update(teacher.sample(), rng.random())
        fits.append(teacher.n_fits)
    assert fits[98] == 0 and fits[99] == 1  # the first fit is at episode 100
    assert fits[148] == 1 and fits[149] == 2 and fits[249] == 4
    assert teacher.mixture is not None
    assert 2 <= len(teacher.mixture.weights) <= 10
    assert teacher.mixture.means.shape[1] == 3  # params ⊕ ALP


def _alp_region_history(teacher, rng, episodes):
    """Scores flip at random for x < 0.3 (high ALP) and are constant elsewhere (ALP 0)."""
    for _ in range(episodes):
        params = rng.random(2)
        score = rng.integers(0, 2) if params[0] < 0.3 else 0.5
        teacher.update(params, float(score))


def test_alp_gmm_samples_where_progress_is():
    teacher = ALPGMM(ParamSpace.unit(2), seed=0, random_ratio=0.0)
    _alp_region_history(teacher, np.random.default_rng(0), 250)
    samples = np.array([teacher.sample() for _ in range(2000)])
    assert np.mean(samples[:, 0] < 0.35) > 0.85  # the high-ALP strip is 30% of the space


def test_random_ratio_one_is_uniform():
    teacher = ALPGMM(ParamSpace.unit(2), seed=0, random_ratio=1.0)
    _alp_region_history(teacher, np.random.default_rng(0), 250)
    samples = np.array([teacher.sample() for _ in range(4000)])
    assert np.mean(samples[:, 0] < 0.3) == pytest.approx(0.3, abs=0.03)


def test_bounded_history_limits_memory_and_search():
    window = 300
    teacher = ALPGMM(ParamSpace.unit(2), seed=0, history_size=window, alp_min_history=1)
    rng = np.random.default_rng(2)
    total = 6000
    params, scores = rng.random((total, 2)), rng.random(total)
    kept_sizes = []
    for i, (p, s) in enumerate(zip(params, scores, strict=True)):
        teacher.update(p, s)
        if i % 500 == 499:
            kept_sizes.append(len(teacher.alps))
    # The kept rows cover the window plus the KD-tree levels that still reach into it.
    assert max(kept_sizes) <= 3 * window + 2 * 256
    kept = teacher.alps
    first = total - len(kept)
    for j in range(first, total, 97):  # spot-check against a brute-force windowed search
        start = max(0, j - window)
        nearest = start + np.argmin(((params[start:j] - params[j]) ** 2).sum(axis=1))
        assert kept[j - first] == pytest.approx(abs(scores[j] - scores[nearest]))


def test_alp_gmm_state_restores_history_after_trimming():
    teacher = ALPGMM(ParamSpace.unit(2), seed=0, history_size=100, fit_rate=50)
    rng = np.random.default_rng(3)
    for _ in range(700):
        teacher.update(teacher.sample(), rng.random())
    clone = ALPGMM(ParamSpace.unit(2), seed=5, history_size=100, fit_rate=50)
    clone.load_state_dict(teacher.state_dict())
    for _ in range(300):
        params, score = teacher.sample(), rng.random()
        np.testing.assert_array_equal(clone.sample(), params)
        teacher.update(params, score)
        clone.update(params, score)
    np.testing.assert_array_equal(clone.alps, teacher.alps)


def test_covar_gmm_rows_hold_time_in_window():
    teacher = CovarGMM(ParamSpace.unit(2), seed=0, fit_rate=20)
    rng = np.random.default_rng(0)
    for i in range(45):
        teacher.update(rng.random(2), i / 100)
    rows = teacher._fit_rows()
    assert rows.shape == (20, 4)
    np.testing.assert_allclose(rows[:, 2], np.r_[np.arange(5, 20), np.arange(5)] / 20)
    np.testing.assert_allclose(rows[:, 3], np.arange(25, 45) / 100)


def test_covar_gmm_samples_where_score_rises_with_time():
    teacher = CovarGMM(ParamSpace.unit(2), seed=0, random_ratio=0.0)
    rng = np.random.default_rng(0)
    for i in range(250):
        params = rng.random(2)
        # Left strip improves over the window, right part gets worse.
        score = i / 250 if params[0] < 0.3 else 1 - i / 250
        teacher.update(params, score + 0.01 * rng.standard_normal())
    assert teacher.mixture is not None
    samples = np.array([teacher.sample() for _ in range(2000)])
    assert np.mean(samples[:, 0] < 0.35) > 0.85
    absolute = CovarGMM(ParamSpace.unit(2), seed=0, random_ratio=0.0, absolute_lp=True)
    rng = np.random.default_rng(0)
    for i in range(250):
        params = rng.random(2)
        score = i / 250 if params[0] < 0.3 else 1 - i / 250
        absolute.update(params, score + 0.01 * rng.standard_normal())
    samples = np.array([absolute.sample() for _ in range(2000)])
    assert np.mean(samples[:, 0] > 0.35) > 0.5  # the larger, worsening region now counts too


def test_failed_refits_warn_once_and_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """When every candidate mixture fails, the teacher says so (a warning, then a metric)
    instead of silently keeping what it had."""
    import teachgym.teachers.gmm as gmm_module
    from teachgym import ParamSpace, teachers

    space = ParamSpace.from_bounds({"a": (0.0, 1.0), "b": (0.0, 1.0)})
    teacher = teachers.make("alp-gmm", space, seed=0, fit_rate=20, max_components=3)
    monkeypatch.setattr(gmm_module, "fit_best_mixture", lambda *args, **kwargs: None)
    rng = np.random.default_rng(0)
    with pytest.warns(gmm_module.GMMFitWarning, match="failed to fit") as caught:
        for _ in range(400):
            teacher.update(teacher.sample(), float(rng.random()))
    assert len(caught) == 1
    metrics = teacher.metrics()
    assert metrics["failed_fits"] == metrics["n_fits"] > 1
    restored = teachers.make("alp-gmm", space, seed=1, fit_rate=20, max_components=3)
    restored.load_state_dict(teacher.state_dict())
    assert restored.metrics()["failed_fits"] == metrics["failed_fits"]
