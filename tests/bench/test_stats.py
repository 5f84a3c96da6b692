"""Statistics over seeds (``teachgym.bench.stats``): rliable's IQM, probability of improvement
and IQM curves with stratified-bootstrap intervals, on data whose answer is known."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.stats
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

pytest.importorskip("rliable", reason='needs the stats extra: pip install "teachgym[stats]"')

from teachgym import state_io
from teachgym.bench import stats
from teachgym.state_io import save_figure

REPS = 200


def scores(seed: int, n_seeds: int = 8, location: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(location, 1.0, size=n_seeds)


# ---------------------------------------------------------------------------- aggregate


def test_iqm_is_the_25_percent_trimmed_mean_and_every_interval_holds_its_estimate() -> None:
    values = {"a": scores(0, 12), "b": scores(1, 8, location=3.0)}
    results = stats.aggregate(values, reps=REPS, seed=0)
    assert list(results) == ["a", "b"]
    for name, array in values.items():
        entry = results[name]
        assert entry["n_seeds"] == len(array)
        assert entry["iqm"] == pytest.approx(scipy.stats.trim_mean(array, 0.25))
        assert entry["mean"] == pytest.approx(array.mean())
        assert entry["median"] == pytest.approx(np.median(array))
        for statistic in ("iqm", "mean", "median"):
            low, high = entry[f"{statistic}_ci"]
            assert isinstance(low, float) and isinstance(high, float)
            assert low <= entry[statistic] <= high


def test_aggregate_takes_seeds_by_tasks_matrices() -> None:
    matrix = np.random.default_rng(3).uniform(size=(8, 3))
    entry = stats.aggregate({"a": matrix}, reps=REPS, seed=0)["a"]
    assert entry["n_seeds"] == 8
    assert entry["iqm"] == pytest.approx(scipy.stats.trim_mean(matrix, 0.25, axis=None))
    assert entry["mean"] == pytest.approx(matrix.mean())


def test_a_wider_confidence_gives_a_wider_interval() -> None:
    values = {"a": scores(0, 12)}
    narrow = stats.aggregate(values, reps=REPS, confidence=0.5, seed=0)["a"]["iqm_ci"]
    wide = stats.aggregate(values, reps=REPS, confidence=0.99, seed=0)["a"]["iqm_ci"]
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


def test_same_seed_same_intervals_and_the_callers_global_state_is_left_alone() -> None:
    values = {"a": scores(0, 10)}
    before = np.random.get_state(legacy=False)  # noqa: NPY002
    first = stats.aggregate(values, reps=REPS, seed=7)
    after = np.random.get_state(legacy=False)  # noqa: NPY002
    np.testing.assert_array_equal(after["state"]["key"], before["state"]["key"])
    assert after["state"]["pos"] == before["state"]["pos"]
    second = stats.aggregate(values, reps=REPS, seed=7)
    assert first == second
    others = [stats.aggregate(values, reps=REPS, seed=seed)["a"]["iqm_ci"] for seed in (8, 9)]
    assert any(ci != first["a"]["iqm_ci"] for ci in others)


# ---------------------------------------------------------------------------- improvement


def test_clearly_better_scores_improve_with_probability_one() -> None:
    better, worse = scores(0, location=10.0), scores(1)
    result = stats.probability_of_improvement(better, worse, reps=REPS, seed=0)
    assert result["p"] == pytest.approx(1.0)
    assert result["ci"][0] > 0.5
    reverse = stats.probability_of_improvement(worse, better, reps=REPS, seed=0)
    assert reverse["p"] == pytest.approx(0.0)
    assert reverse["ci"][1] < 0.5


def test_identical_scores_improve_with_probability_one_half() -> None:
    values = scores(2)
    result = stats.probability_of_improvement(values, values.copy(), reps=REPS, seed=0)
    assert result["p"] == pytest.approx(0.5)
    low, high = result["ci"]
    assert low <= 0.5 <= high


def test_probability_of_improvement_counts_pairs_and_allows_different_seed_counts() -> None:
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0])
    # Of the 6 pairs (x, y): wins (1, 0), (2, 0), (3, 0), (3, 2); a tie (2, 2) counts one half.
    result = stats.probability_of_improvement(x, y, reps=REPS, seed=0)
    assert result["p"] == pytest.approx((4 + 0.5) / 6)
    assert result["ci"][0] <= result["p"] <= result["ci"][1]
    again = stats.probability_of_improvement(x, y, reps=REPS, seed=0)
    assert again == result


# ---------------------------------------------------------------------------- curves


def test_iqm_curves_match_the_trimmed_mean_at_every_step() -> None:
    steps = np.array([0, 100, 200, 300])
    matrix = np.random.default_rng(4).uniform(0, 100, size=(8, 4))
    result = stats.curves(steps, {"a": matrix, "b": matrix + 50}, reps=REPS, seed=0)
    for name, shift in (("a", 0.0), ("b", 50.0)):
        curve = result[name]
        expected = scipy.stats.trim_mean(matrix + shift, 0.25, axis=0)
        np.testing.assert_allclose(curve["iqm"], expected)
        assert curve["lo"].shape == curve["hi"].shape == (4,)
        assert np.all(curve["lo"] <= curve["iqm"]) and np.all(curve["iqm"] <= curve["hi"])
    again = stats.curves(steps, {"a": matrix, "b": matrix + 50}, reps=REPS, seed=0)
    np.testing.assert_array_equal(again["a"]["lo"], result["a"]["lo"])


# ---------------------------------------------------------------------------- bad input


GOOD = {"a": np.arange(8.0)}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: stats.aggregate({}, seed=0), "at least one name"),
        (lambda: stats.aggregate({"a": []}, seed=0), "at least one score"),
        (lambda: stats.aggregate({"a": [1.0, np.nan]}, seed=0), "finite"),
        (lambda: stats.aggregate({"a": [1.0, np.inf]}, seed=0), "finite"),
        (lambda: stats.aggregate({"a": np.zeros((2, 2, 2))}, seed=0), "shape"),
        (
            lambda: stats.aggregate({"a": np.zeros((4, 2)), "b": np.zeros((4, 3))}, seed=0),
            "same number of tasks",
        ),
        (lambda: stats.aggregate({"a": ["x"]}, seed=0), "array of numbers"),
        (lambda: stats.aggregate(GOOD, reps=0, seed=0), "reps"),
        (lambda: stats.aggregate(GOOD, reps=1.5, seed=0), "reps"),  # type: ignore[arg-type]
        (lambda: stats.aggregate(GOOD, confidence=1.0, seed=0), "confidence"),
        (lambda: stats.aggregate(GOOD, confidence=0.0, seed=0), "confidence"),
        (lambda: stats.aggregate(GOOD, confidence=95, seed=0), "confidence"),
        (lambda: stats.aggregate(GOOD, seed=-1), "seed"),
        (
            lambda: stats.probability_of_improvement(np.zeros((4, 2)), np.zeros((4, 3)), seed=0),
            "same number of tasks",
        ),
        (lambda: stats.probability_of_improvement([], [1.0], seed=0), "scores_x"),
        (lambda: stats.probability_of_improvement([1.0], [np.nan], seed=0), "scores_y"),
        (lambda: stats.curves([0, 1, 2], {"a": np.zeros((4, 2))}, seed=0), "(n_seeds, 3)"),
        (lambda: stats.curves([0, 1], {"a": np.zeros(2)}, seed=0), "(n_seeds, 2)"),
        (lambda: stats.curves([[0, 1]], {"a": np.zeros((4, 2))}, seed=0), "steps"),
        (lambda: stats.curves([0, 1], {}, seed=0), "at least one name"),
        (lambda: stats.curves([0, np.nan], {"a": np.zeros((4, 2))}, seed=0), "steps"),
    ],
)
def test_bad_input_is_a_value_error_naming_it(call: Any, message: str) -> None:
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


def test_a_missing_rliable_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def without_rliable(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "rliable" or name.startswith("rliable."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_rliable)
    with pytest.raises(ImportError, match=r'pip install "teachgym\[stats\]"'):
        stats.aggregate(GOOD, reps=REPS, seed=0)


# ---------------------------------------------------------------------------- figures


def test_the_written_figures_show_the_results_passed_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved: dict[str, Figure] = {}

    def keep_and_save(figure: Figure, path: Any) -> Path:
        saved[Path(path).name] = figure
        return save_figure(figure, path)

    monkeypatch.setattr(state_io, "save_figure", keep_and_save)
    values = {"random": scores(0, 6, 20.0), "alp-gmm": scores(1, 6, 40.0)}
    results = stats.aggregate(values, reps=REPS, seed=0)
    improvements = {
        ("alp-gmm", "random"): stats.probability_of_improvement(
            values["alp-gmm"], values["random"], reps=REPS, seed=0
        )
    }
    steps = np.array([0, 1000, 2000])
    curve_scores = {name: np.outer(array, [0.0, 0.5, 1.0]) for name, array in values.items()}
    curve_results = stats.curves(steps, curve_scores, reps=REPS, seed=0)
    single = stats.curves([2000], {name: a[:, None] for name, a in values.items()}, seed=0)
    written = [
        stats.plot_interval_estimates(results, tmp_path / "intervals.png", xlabel="% mastered"),
        stats.plot_probability_of_improvement(improvements, tmp_path / "poi.png", title="P"),
        stats.plot_curves(
            steps, curve_results, tmp_path / "curves.png", n_seeds={"random": 6, "alp-gmm": 6}
        ),
        stats.plot_curves([2000], single, tmp_path / "single.png", title="one point"),
    ]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(saved) == sorted(path.name for path in written)

    iqm_panel, mean_panel = saved["intervals.png"].axes
    assert (iqm_panel.get_title(), mean_panel.get_title()) == ("IQM", "Mean")
    assert iqm_panel.get_xlabel() == "% mastered"
    for bar, name in zip(iqm_panel.patches, values, strict=True):
        low, high = results[name]["iqm_ci"]
        assert (bar.get_x(), bar.get_width()) == pytest.approx((low, high - low))

    improvement, right = saved["poi.png"].axes
    assert improvement.get_title() == "P" and improvement.get_xlabel() == "P(X > Y)"
    (bar,) = improvement.patches
    low, high = improvements[("alp-gmm", "random")]["ci"]
    assert (bar.get_x(), bar.get_width()) == pytest.approx((low, high - low))
    assert [label.get_text() for label in improvement.get_yticklabels()] == ["alp-gmm"]
    assert [label.get_text() for label in right.get_yticklabels()] == ["random"]

    (curves,) = saved["curves.png"].axes
    lines = curves.get_lines()
    assert [line.get_label() for line in lines] == ["random (n=6)", "alp-gmm (n=6)"]
    for line, name in zip(lines, values, strict=True):
        np.testing.assert_array_equal(line.get_xdata(), steps)
        np.testing.assert_allclose(line.get_ydata(), curve_results[name]["iqm"])
    assert len(curves.collections) == 2  # one shaded interval per curve
    assert curves.get_xlabel() == "training steps"

    (points,) = saved["single.png"].axes
    assert points.get_title().startswith("one point\n")
    dots = [line for line in points.get_lines() if line.get_marker() == "o"]  # not the caps
    for line, name in zip(dots, values, strict=True):
        np.testing.assert_array_equal(line.get_xdata(), [2000])
        np.testing.assert_allclose(line.get_ydata(), single[name]["iqm"])


def test_interval_figure_draws_one_bar_per_method_and_panel() -> None:
    values = {"a": scores(0, 6), "b": scores(1, 6), "c": scores(2, 6)}
    results = stats.aggregate(values, reps=REPS, seed=0)
    figure = stats.interval_estimates_figure(results, statistics=("iqm", "mean", "median"))
    assert len(figure.axes) == 3
    for axis, statistic in zip(figure.axes, ("iqm", "mean", "median"), strict=True):
        bars = axis.patches
        assert len(bars) == 3
        for bar, name in zip(bars, values, strict=True):
            low, high = results[name][f"{statistic}_ci"]
            assert isinstance(bar, Rectangle)
            assert bar.get_x() == pytest.approx(low)
            assert bar.get_width() == pytest.approx(high - low)
