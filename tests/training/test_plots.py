"""Pictures (``teachgym.training.plots``), from synthetic data: no training needed.

Each figure is checked for what it shows (series, the data they hold, axis formatters, titles),
not only for being a PNG.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Rectangle
from matplotlib.ticker import EngFormatter

from teachgym import state_io
from teachgym.spaces import ParamSpace
from teachgym.training.plots import (
    default_pairs,
    learning_curve_figure,
    mastery_curves_figure,
    mastery_map_figure,
    mean_confidence_band,
    plot_learning_curve,
    plot_mastery_curves,
    plot_mastery_map,
    plot_teacher_samples,
    run_figures,
    teacher_samples_figure,
    write_run_plots,
)
from teachgym.training.runs import RunDir

SPACE = ParamSpace(["stump_height", "obstacle_spacing"], [0.0, 0.0], [3.0, 6.0])
GRID4 = ParamSpace(
    ["room_size", "goal_distance", "wall_density", "lava_density"],
    [5.0, 0.0, 0.0, 0.0],
    [15.0, 1.0, 0.5, 0.6],
)
MIXTURE = {
    "weights": np.array([0.5, 0.5]),
    "means": np.array([[0.2, 0.3, 0.1], [0.7, 0.8, 0.4]]),
    "covariances": np.stack([np.diag([0.01, 0.02, 0.001])] * 2),
}


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def drawn(figure: Figure) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()
    return figure


def inside_figure(figure: Figure, artist) -> bool:
    box = artist.get_window_extent()
    return box.x0 >= 0 and box.x1 <= figure.bbox.width and box.y1 <= figure.bbox.height


def scatter_offsets(axis) -> np.ndarray:
    (points,) = [c for c in axis.collections if isinstance(c, PathCollection)]
    return np.asarray(points.get_offsets())


def tick_labels_overlap(figure: Figure, axis) -> bool:
    drawn(figure)
    renderer = figure.canvas.get_renderer()
    boxes = [
        label.get_window_extent(renderer)
        for label in axis.get_xticklabels()
        if label.get_visible() and label.get_text()
    ]
    return any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))


# ---------------------------------------------------------------------------- teacher samples


def test_teacher_samples_2d_shows_each_window_of_episodes_and_the_mixture(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    params = SPACE.denormalize(rng.uniform(size=(300, 2)))
    figure = teacher_samples_figure(params, rng.uniform(size=300), SPACE, mixture=MIXTURE)
    panels = [axis for axis in figure.axes if axis.get_label() != "<colorbar>"]
    assert len(panels) == 4
    for axis, window in zip(panels, np.array_split(np.arange(300), 4), strict=True):
        np.testing.assert_array_equal(scatter_offsets(axis), params[window])
        assert axis.get_xlim() == (0.0, 3.0) and axis.get_ylim() == (0.0, 6.0)
        assert axis.get_xlabel() == "stump_height"
        assert axis.get_title().startswith(f"episodes {window[0] + 1}–{window[-1] + 1}")
    assert sum(isinstance(p, Ellipse) for p in panels[-1].patches) == 2
    assert panels[0].get_ylabel() == "obstacle_spacing"
    assert is_png(plot_teacher_samples(params, rng.uniform(size=300), SPACE, tmp_path / "s.png"))


def test_teacher_samples_of_a_4d_space_show_every_pair() -> None:
    rng = np.random.default_rng(1)
    params = GRID4.denormalize(rng.uniform(size=(120, 4)))
    mixture = {
        "weights": np.array([1.0]),
        "means": np.array([[0.5, 0.5, 0.5, 0.5, 0.2]]),
        "covariances": np.diag([0.01, 0.02, 0.03, 0.04, 0.001])[None],
    }
    figure = teacher_samples_figure(params, rng.uniform(size=120), GRID4, mixture=mixture)
    panels = [axis for axis in figure.axes if axis.get_label() != "<colorbar>"]
    pairs = list(itertools.combinations(range(4), 2))
    assert default_pairs(GRID4) == [(GRID4.names[i], GRID4.names[j]) for i, j in pairs]
    assert len(panels) == len(pairs) * 4  # one row per pair, one column per time window
    for row, (i, j) in enumerate(pairs):
        first, last = panels[row * 4], panels[row * 4 + 3]
        assert first.get_xlabel() == GRID4.names[i] and first.get_ylabel() == GRID4.names[j]
        assert first.get_xlim() == (GRID4.low[i], GRID4.high[i])
        np.testing.assert_array_equal(scatter_offsets(first), params[:30][:, [i, j]])
        assert sum(isinstance(p, Ellipse) for p in last.patches) == 1
    assert "first 2" not in figure.get_suptitle()


def test_teacher_samples_pairs_can_be_chosen_and_are_checked() -> None:
    params = GRID4.denormalize(np.full((8, 4), 0.5))
    figure = teacher_samples_figure(
        params, np.zeros(8), GRID4, pairs=[("lava_density", "room_size")], panels=2
    )
    panels = [axis for axis in figure.axes if axis.get_label() != "<colorbar>"]
    assert len(panels) == 2
    assert (panels[0].get_xlabel(), panels[0].get_ylabel()) == ("lava_density", "room_size")
    with pytest.raises(ValueError, match=r"unknown parameter 'lava'.*room_size"):
        teacher_samples_figure(params, np.zeros(8), GRID4, pairs=[("lava", "room_size")])
    with pytest.raises(ValueError, match="two different parameters"):
        teacher_samples_figure(params, np.zeros(8), GRID4, pairs=[("room_size", "room_size")])
    twelve = ParamSpace.unit(12)
    assert default_pairs(twelve) == [(f"param_{i}", f"param_{i + 1}") for i in range(0, 12, 2)]


def test_teacher_samples_1d_plots_the_parameter_over_episodes() -> None:
    space = ParamSpace.unit(1)
    params = np.linspace(0.0, 1.0, 40).reshape(-1, 1)
    figure = teacher_samples_figure(params, np.ones(40), space, panels=2)
    panels = [axis for axis in figure.axes if axis.get_label() != "<colorbar>"]
    assert len(panels) == 2
    np.testing.assert_array_equal(
        scatter_offsets(panels[1]), np.column_stack([np.arange(20, 40), params[20:, 0]])
    )
    assert (panels[0].get_xlabel(), panels[0].get_ylabel()) == ("episode", "param_0")


@pytest.mark.parametrize("dim", [1, 2, 4])
def test_teacher_samples_title_fits_when_no_episode_finished(dim: int) -> None:
    space = {1: ParamSpace.unit(1), 2: SPACE, 4: GRID4}[dim]
    title = "Where the teacher sampled — teachgym/GridNavigation-v0 · alp-gmm · ppo"
    figure = drawn(teacher_samples_figure(np.zeros((0, dim)), [], space, title=title))
    suptitle = figure._suptitle
    assert " ".join(suptitle.get_text().split()) == title
    assert inside_figure(figure, suptitle)
    panels = [axis for axis in figure.axes if axis.get_label() != "<colorbar>"]
    assert all(axis.get_title() == "no episodes yet" for axis in panels)


# ---------------------------------------------------------------------------- learning curve


def test_learning_curve_shows_the_evaluations_and_the_training_returns(tmp_path: Path) -> None:
    rows = [
        {"step": 0, "mastered_pct": 0.0, "mean_return": -50.0},
        {"step": 75_000, "mastered_pct": 20.0, "mean_return": 100.0},
        {"step": 150_000, "mastered_pct": 40.0, "mean_return": 150.0},
    ]
    steps = np.arange(1, 201) * 750
    returns = np.linspace(-100.0, 200.0, 200)
    figure = learning_curve_figure(
        rows, episode_steps=steps, episode_returns=returns, mastery_threshold=230.0,
        title="Learning curve — nav",
    )  # fmt: skip
    mastery, curve = figure.axes
    (mastered,) = mastery.get_lines()
    np.testing.assert_array_equal(mastered.get_xdata(), [0, 75_000, 150_000])
    np.testing.assert_array_equal(mastered.get_ydata(), [0, 20, 40])
    labels = [line.get_label() for line in curve.get_lines()]
    assert labels == ["test set (greedy)", "training episodes (mean of 100)", "mastery threshold"]
    test_set, training, threshold = curve.get_lines()
    np.testing.assert_array_equal(test_set.get_ydata(), [-50, 100, 150])
    np.testing.assert_array_equal(training.get_xdata(), steps)
    assert training.get_ydata()[-1] == pytest.approx(returns[-100:].mean())
    assert threshold.get_ydata()[0] == 230.0
    assert figure.get_suptitle() == "Learning curve — nav"
    for axis in (mastery, curve):
        assert isinstance(axis.xaxis.get_major_formatter(), EngFormatter)
        assert not tick_labels_overlap(figure, axis)
    assert "100k" in [label.get_text() for label in curve.get_xticklabels()]
    assert is_png(plot_learning_curve(rows, tmp_path / "c.png"))


def test_learning_curve_without_evaluations_says_so() -> None:
    figure = learning_curve_figure([])
    mastery, curve = figure.axes
    assert not mastery.get_lines() and not curve.get_lines()
    assert [text.get_text() for text in mastery.texts] == ["no evaluation yet"]


# ---------------------------------------------------------------------------- mastery map


def test_mastery_map_shows_the_grid_and_frames_the_mastered_cells(tmp_path: Path) -> None:
    centres = (np.arange(10) + 0.5) / 10
    first, second = np.meshgrid(centres, centres, indexing="ij")
    tasks = SPACE.denormalize(np.stack([first.ravel(), second.ravel()], axis=1))
    returns = 300.0 - 100.0 * tasks[:, 0]  # > 230 below stump 0.7: the first 2 of 10 rows
    figure = mastery_map_figure(tasks, returns, SPACE, 230.0)
    (axis,) = [axis for axis in figure.axes if axis.get_label() != "<colorbar>"]
    (image,) = axis.get_images()
    np.testing.assert_array_equal(image.get_array(), returns.reshape(10, 10).T)
    framed = [patch for patch in axis.patches if isinstance(patch, Rectangle)]
    assert len(framed) == int((returns > 230.0).sum()) == 20
    assert axis.get_title().startswith("Mastery map: 20% mastered")
    assert (axis.get_xlabel(), axis.get_ylabel()) == SPACE.names
    assert is_png(plot_mastery_map(tasks, returns, SPACE, 230.0, tmp_path / "m.png"))
    with pytest.raises(ValueError, match="square grid over a 2-D space"):
        mastery_map_figure(tasks[:50], returns[:50], SPACE, 230.0)


# ---------------------------------------------------------------------------- comparisons


def test_confidence_band() -> None:
    mean, low, high = mean_confidence_band([np.array([0.0, 10.0]), np.array([2.0, 14.0])])
    np.testing.assert_allclose(mean, [1.0, 12.0])
    # Two seeds: t(0.975, 1) = 12.706; sem = std / sqrt(2) = 1 and 2.
    np.testing.assert_allclose(high - mean, [12.706, 25.412], rtol=1e-3)
    np.testing.assert_allclose(mean - low, high - mean)
    single = mean_confidence_band([np.array([3.0, 4.0])])
    np.testing.assert_array_equal(single[1], single[2])


def test_mastery_curves_one_mean_and_band_per_teacher(tmp_path: Path) -> None:
    steps = np.array([0, 250_000, 500_000])
    curves = {
        "alp-gmm": [(steps, np.array([0, 10, 30])), (steps, np.array([0, 20, 40]))],
        "random": [(steps, np.array([0, 5, 10])), (steps + 2, np.array([0, 5, 12]))],
    }
    figure = mastery_curves_figure(curves)
    (axis,) = figure.axes
    lines = axis.get_lines()
    assert [line.get_label() for line in lines] == ["alp-gmm (n=2)", "random (n=2)"]
    np.testing.assert_array_equal(lines[0].get_xdata(), steps)
    np.testing.assert_allclose(lines[0].get_ydata(), [0, 15, 35])
    assert len(axis.collections) == 2  # one band each
    assert isinstance(axis.xaxis.get_major_formatter(), EngFormatter)
    assert not tick_labels_overlap(figure, axis)
    assert is_png(plot_mastery_curves(curves, tmp_path / "cmp.png"))


def test_mastery_curves_of_single_evaluations_are_drawn_as_points() -> None:
    """``compare_teachers.py --eval-interval 0``: one final evaluation per seed."""
    curves = {
        "alp-gmm": [(np.array([20_000]), np.array([30.0])), (np.array([20_000]), np.array([50.0]))],
        "random": [(np.array([20_000]), np.array([10.0]))],
    }
    figure = drawn(mastery_curves_figure(curves))
    (axis,) = figure.axes
    points = [
        line for line in axis.get_lines() if line.get_label() in ("alp-gmm (n=2)", "random (n=1)")
    ]
    assert len(points) == 2
    for line, mean in zip(points, (40.0, 10.0), strict=True):
        assert line.get_marker() not in ("None", "", None)
        np.testing.assert_array_equal(line.get_xdata(), [20_000])
        np.testing.assert_array_equal(line.get_ydata(), [mean])
    assert axis.get_legend() is not None
    assert axis.get_xlim()[0] < 20_000 < axis.get_xlim()[1]


# ---------------------------------------------------------------------------- a run folder


def test_run_figures_draw_the_run_folders_own_data(tmp_path: Path) -> None:
    run = RunDir.create(
        tmp_path / "run",
        {
            "config": {"env_id": "teachgym/StumpTracks-v0", "teacher": "alp-gmm",
                       "algorithm": "ppo"},
            "resolved": {"param_space": SPACE.to_json(), "mastery_threshold": 230.0},
        },
    )  # fmt: skip
    rng = np.random.default_rng(2)
    history = {
        "steps": np.arange(1, 41, dtype=np.int64) * 100,
        "params": SPACE.denormalize(rng.uniform(size=(40, 2))),
        "scores": rng.uniform(size=40),
        "returns": rng.uniform(-100, 300, size=40),
    }
    state_io.save(history, run.curriculum_file)
    run.write_eval_rows(
        [
            {"step": 0, "episodes": 0, "mastered_pct": 0.0, "mean_return": -20.0, "n_tasks": 50},
            {"step": 4000, "episodes": 40, "mastered_pct": 6.0, "mean_return": 80.0,
             "n_tasks": 50},
        ]
    )  # fmt: skip
    figures = run_figures(run.path)
    assert set(figures) == {run.teacher_samples_plot, run.learning_curve_plot}
    samples = figures[run.teacher_samples_plot]
    panels = [axis for axis in samples.axes if axis.get_label() != "<colorbar>"]
    np.testing.assert_array_equal(
        np.concatenate([scatter_offsets(axis) for axis in panels]), history["params"]
    )
    assert "teachgym/StumpTracks-v0 · alp-gmm · ppo" in samples.get_suptitle()
    mastery, curve = figures[run.learning_curve_plot].axes
    np.testing.assert_array_equal(mastery.get_lines()[0].get_xdata(), [0, 4000])
    np.testing.assert_array_equal(curve.get_lines()[1].get_xdata(), history["steps"])
    written = write_run_plots(run.path)
    assert sorted(written) == sorted(figures) and all(is_png(path) for path in written)


# ---------------------------------------------------------------------------- the example script


def test_compare_teachers_help_documents_every_option() -> None:
    script = Path(__file__).resolve().parents[2] / "examples" / "compare_teachers.py"
    result = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, check=True
    )
    text = " ".join(result.stdout.split())
    for option in ("--env", "--teachers", "--seeds", "--steps", "--eval-interval", "--jobs",
                   "--out", "--backend", "--report-only", "--reps"):  # fmt: skip
        assert option in text
    assert "(default: teachgym/GridNavigation-v0)" in text
    assert "(default: 5000)" in text
    assert "only the final evaluation" in text
    assert "{sb3,batched}" in text and "(default: sb3)" in text


def compare_teachers_module() -> Any:
    """``examples/compare_teachers.py`` imported as a module (to call its ``main``)."""
    script = Path(__file__).resolve().parents[2] / "examples" / "compare_teachers.py"
    spec = importlib.util.spec_from_file_location("compare_teachers_example", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def fake_run(folder: Path, teacher: str, seed: int, mastered: list[float]) -> None:
    """A run folder as training leaves it, with evaluations at steps 0, 1000, 2000 …"""
    run = RunDir.create(
        folder,
        {
            "config": {"env_id": "teachgym/GridNavigation-v0", "teacher": teacher, "seed": seed,
                       "algorithm": "ppo"},
            "resolved": {"param_space": SPACE.to_json(), "mastery_threshold": 0.5},
        },
    )  # fmt: skip
    run.write_eval_rows(
        [
            {"step": 1000 * index, "episodes": 10 * index, "mastered_pct": value,
             "mean_return": 0.0, "n_tasks": 50}
            for index, value in enumerate(mastered)
        ]
    )  # fmt: skip


def test_compare_teachers_report_only_reads_the_run_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("rliable")
    example = compare_teachers_module()
    saved: dict[str, Figure] = {}
    save_figure = state_io.save_figure

    def keep_and_save(figure: Figure, path: Any) -> Path:
        saved[Path(path).name] = figure
        return save_figure(figure, path)

    monkeypatch.setattr(state_io, "save_figure", keep_and_save)
    for seed in range(4):
        fake_run(tmp_path / f"random-s{seed}", "random", seed, [0.0, 4.0 + seed, 10.0 + seed])
        fake_run(tmp_path / f"alp-gmm-s{seed}", "alp-gmm", seed, [0.0, 20.0 + seed, 40.0 + seed])
    (tmp_path / "not-a-run").mkdir()
    RunDir.create(tmp_path / "untrained", {"config": {"teacher": "riac", "seed": 0}})
    example.main(["--report-only", "--out", str(tmp_path), "--reps", "200"])

    printed = capsys.readouterr()
    assert "skipped" in printed.err and "untrained" in printed.err
    assert "alp-gmm" in printed.out and "P(> random)" in printed.out
    results = json.loads((tmp_path / "results.json").read_text())
    statistics = results["statistics"]
    final = statistics["final_mastered_pct"]
    assert set(final) == {"random", "alp-gmm"}
    assert final["alp-gmm"]["n_seeds"] == 4
    assert final["alp-gmm"]["iqm"] == pytest.approx(41.5)  # middle two of 40, 41, 42, 43
    assert final["random"]["iqm"] == pytest.approx(11.5)
    improvement = statistics["improvement_over_random"]
    assert set(improvement) == {"alp-gmm"}
    assert improvement["alp-gmm"]["p"] == pytest.approx(1.0)
    assert improvement["alp-gmm"]["ci"][0] > 0.5
    curves = statistics["curves"]
    assert curves["step"] == [0, 1000, 2000]
    np.testing.assert_allclose(curves["alp-gmm"]["iqm"], [0.0, 21.5, 41.5])
    assert len(results["results"]["random"]["runs"]) == 4
    for name in ("final_mastered.png", "improvement_over_random.png", "mastery_curves.png"):
        assert is_png(tmp_path / name)
    # The pictures show these runs: final IQM bars, one IQM curve per teacher, P(> random).
    iqm_panel = saved["final_mastered.png"].axes[0]
    assert iqm_panel.get_xlabel() == "% of test set mastered"
    for bar, teacher in zip(iqm_panel.patches, final, strict=True):
        low, high = final[teacher]["iqm_ci"]
        assert (bar.get_x(), bar.get_width()) == pytest.approx((low, high - low))
    (axis,) = saved["mastery_curves.png"].axes
    by_label = {line.get_label(): line for line in axis.get_lines()}
    assert set(by_label) == {"random (n=4)", "alp-gmm (n=4)"}
    np.testing.assert_array_equal(by_label["alp-gmm (n=4)"].get_xdata(), [0, 1000, 2000])
    np.testing.assert_allclose(by_label["alp-gmm (n=4)"].get_ydata(), [0.0, 21.5, 41.5])
    (bar,) = saved["improvement_over_random.png"].axes[0].patches
    assert bar.get_x() + bar.get_width() == pytest.approx(improvement["alp-gmm"]["ci"][1])

    # The same folders give the same numbers (the bootstrap is seeded).
    example.main(["--report-only", "--out", str(tmp_path), "--reps", "200"])
    assert json.loads((tmp_path / "results.json").read_text())["statistics"] == statistics


def test_compare_teachers_report_only_without_runs_exits_2(tmp_path: Path) -> None:
    example = compare_teachers_module()
    with pytest.raises(SystemExit) as exit_info:
        example.main(["--report-only", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert not (tmp_path / "results.json").exists()


def test_compare_teachers_without_random_reports_no_improvement(tmp_path: Path) -> None:
    pytest.importorskip("rliable")
    example = compare_teachers_module()
    for seed in range(2):
        fake_run(tmp_path / f"riac-s{seed}", "riac", seed, [0.0, 5.0])
    example.main(["--report-only", "--out", str(tmp_path), "--reps", "200"])
    statistics = json.loads((tmp_path / "results.json").read_text())["statistics"]
    assert statistics["improvement_over_random"] == {}
    assert not (tmp_path / "improvement_over_random.png").exists()


@pytest.mark.slow
def test_compare_teachers_trains_and_reports_a_tiny_comparison(tmp_path: Path) -> None:
    pytest.importorskip("rliable")
    example = compare_teachers_module()
    example.main(
        ["--teachers", "random", "alp-gmm", "--seeds", "2", "--steps", "2048",
         "--eval-interval", "2048", "--n-envs", "2", "--reps", "200", "--out", str(tmp_path)]
    )  # fmt: skip
    results = json.loads((tmp_path / "results.json").read_text())
    for teacher in ("random", "alp-gmm"):
        assert results["statistics"]["final_mastered_pct"][teacher]["n_seeds"] == 2
        for seed in range(2):
            config = RunDir(tmp_path / f"{teacher}-s{seed}").read_config()["config"]
            assert config["backend"] == "sb3" and config["n_envs"] == 2
    assert results["statistics"]["curves"]["step"][0] == 0
    assert "alp-gmm" in results["statistics"]["improvement_over_random"]
