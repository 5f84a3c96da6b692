"""Statistics over seeds: interquartile means, probability of improvement and learning curves
with stratified-bootstrap confidence intervals, after Agarwal et al. 2021, "Deep Reinforcement
Learning at the Edge of the Statistical Precipice" (NeurIPS), through their library ``rliable``.

A handful of seeds cannot carry a mean ± standard deviation or a t-test: the distribution of
final scores is skewed, and one lucky seed moves the mean. The paper's remedy, used here:

- **IQM** (interquartile mean): the mean of the middle 50% of the runs (25% trimmed mean), robust
  to outlier seeds yet less noisy than the median. ``aggregate`` reports it with the mean and
  median, each with a percentile confidence interval from a *stratified bootstrap*: seeds are
  resampled with replacement within each task, ``reps`` times.
- **Probability of improvement** P(X > Y): the chance that a run of X beats a run of Y on the same
  task (the Mann-Whitney U statistic over all pairs of runs, ties counting one half), averaged
  over tasks; 0.5 means no difference. ``probability_of_improvement`` bootstraps the runs of X and
  Y independently. A claim "X beats Y" needs the interval's lower end above 0.5.
- **IQM learning curves**: the IQM at each evaluation step with its interval (``curves``).

Scores are arrays of shape ``(n_seeds,)`` (one task, e.g. % of a test set mastered) or
``(n_seeds, n_tasks)``. ``plot_interval_estimates``, ``plot_probability_of_improvement`` and
``plot_curves`` write the paper's three pictures as PNGs.

``rliable`` is optional (``pip install "teachgym[stats]"``) and imported only when a function
runs. Its bootstrap draws its resampling indices from NumPy's *global* random state, whatever
``random_state`` it is given; every function here therefore takes an explicit ``seed``, seeds the
global state with it for the duration of the call and restores the caller's state afterwards
(same seed, same intervals; the caller's global stream is left as it was). This is not
thread-safe: do not run these functions concurrently in threads of one process.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

from teachgym import state_io

__all__ = [
    "aggregate",
    "curves",
    "curves_figure",
    "interval_estimates_figure",
    "plot_curves",
    "plot_interval_estimates",
    "plot_probability_of_improvement",
    "probability_of_improvement",
    "probability_of_improvement_figure",
]

_INSTALL = 'pip install "teachgym[stats]"'
_DPI = 110


# ---------------------------------------------------------------------------- statistics


def aggregate(
    scores: Mapping[str, Any],
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """IQM, mean and median of each method's scores with stratified-bootstrap intervals.

    Args:
        scores: ``{name: scores}``, each of shape ``(n_seeds,)`` or ``(n_seeds, n_tasks)``, all
            with the same number of tasks (the number of seeds may differ between names).
        reps: Bootstrap resamples.
        confidence: Coverage of the intervals, in (0, 1).
        seed: Seed of the bootstrap (see the module docstring).

    Returns:
        ``{name: {"iqm", "iqm_ci": (lo, hi), "mean", "mean_ci", "median", "median_ci",
        "n_seeds"}}`` with plain floats, in the order of ``scores``.

    Raises:
        ValueError: no names, an empty, non-finite or wrongly shaped array, task counts that
            differ, ``reps`` < 1, ``confidence`` outside (0, 1), a negative seed.
        ImportError: ``rliable`` is not installed.
    """
    _check_options(reps, confidence, seed)
    matrices = _score_matrices(scores, "scores")
    library, metrics = _rliable()

    def statistics(matrix: np.ndarray) -> np.ndarray:
        return np.array(
            [
                metrics.aggregate_iqm(matrix),
                metrics.aggregate_mean(matrix),
                # Over all scores, as the IQM is: rliable's aggregate_median is the median over
                # tasks of per-task means, which for one task is the mean.
                np.median(matrix),
            ]
        )

    with _seeded_global_numpy(seed):
        points, intervals = library.get_interval_estimates(
            matrices, statistics, reps=reps, confidence_interval_size=confidence
        )
    results: dict[str, dict[str, Any]] = {}
    for name, matrix in matrices.items():
        point, interval = np.asarray(points[name], float), np.asarray(intervals[name], float)
        results[name] = {"n_seeds": int(matrix.shape[0])}
        for index, statistic in enumerate(("iqm", "mean", "median")):
            results[name][statistic] = float(point[index])
            results[name][f"{statistic}_ci"] = (
                float(interval[0, index]),
                float(interval[1, index]),
            )
    return results


def probability_of_improvement(
    scores_x: Any,
    scores_y: Any,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int,
) -> dict[str, Any]:
    """P(X > Y): the probability that a run of X scores above a run of Y on the same task.

    Args:
        scores_x: Scores of X, shape ``(n_seeds_x,)`` or ``(n_seeds_x, n_tasks)``.
        scores_y: Scores of Y, shape ``(n_seeds_y,)`` or ``(n_seeds_y, n_tasks)``: the same
            number of tasks as X; the number of seeds may differ.
        reps: Bootstrap resamples (the runs of X and Y are resampled independently).
        confidence: Coverage of the interval, in (0, 1).
        seed: Seed of the bootstrap (see the module docstring).

    Returns:
        ``{"p": float, "ci": (lo, hi)}``; 0.5 is "no difference".

    Raises:
        ValueError: as ``aggregate``; also X and Y with different task counts.
        ImportError: ``rliable`` is not installed.
    """
    _check_options(reps, confidence, seed)
    matrices = _score_matrices({"scores_x": scores_x, "scores_y": scores_y}, "")
    library, metrics = _rliable()

    def improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.array([metrics.probability_of_improvement(x, y)])

    with _seeded_global_numpy(seed):
        points, intervals = library.get_interval_estimates(
            {"x,y": [matrices["scores_x"], matrices["scores_y"]]},
            improvement,
            reps=reps,
            confidence_interval_size=confidence,
        )
    interval = np.asarray(intervals["x,y"], float).reshape(2)
    return {
        "p": float(np.asarray(points["x,y"]).reshape(())),
        "ci": (float(interval[0]), float(interval[1])),
    }


def curves(
    steps: Any,
    scores: Mapping[str, Any],
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int,
) -> dict[str, dict[str, np.ndarray]]:
    """IQM learning curves: the IQM across seeds at every evaluation step, with an interval.

    Args:
        steps: Evaluation steps, shape ``(n_points,)``.
        scores: ``{name: scores}``, each of shape ``(n_seeds, n_points)`` (seed-major: row ``i``
            is the curve of seed ``i``).
        reps: Bootstrap resamples.
        confidence: Coverage of the intervals, in (0, 1).
        seed: Seed of the bootstrap (see the module docstring).

    Returns:
        ``{name: {"iqm", "lo", "hi"}}``, each an array of shape ``(n_points,)``.

    Raises:
        ValueError: no names, empty or non-finite arrays, a score array that is not 2-D or
            whose number of points is not ``len(steps)``, and the option errors of ``aggregate``.
        ImportError: ``rliable`` is not installed.
    """
    _check_options(reps, confidence, seed)
    step_array = _finite_array(steps, "steps")
    if step_array.ndim != 1:
        raise ValueError(f"steps: expected shape (n_points,); got shape {step_array.shape}")
    if not scores:
        raise ValueError("scores: expected at least one name; got an empty mapping")
    matrices: dict[str, np.ndarray] = {}
    for name, value in scores.items():
        array = _finite_array(value, f"scores[{name!r}]")
        if array.ndim != 2 or array.shape[1] != len(step_array):
            raise ValueError(
                f"scores[{name!r}]: expected shape (n_seeds, {len(step_array)}) (one column per "
                f"step); got shape {array.shape}"
            )
        # rliable's layout (runs, tasks, points): one task, and each point a separate statistic.
        matrices[name] = array[:, None, :]
    library, metrics = _rliable()

    def iqm_per_point(matrix: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_iqm(matrix[..., point]) for point in range(n_points)])

    n_points = len(step_array)
    with _seeded_global_numpy(seed):
        points, intervals = library.get_interval_estimates(
            matrices, iqm_per_point, reps=reps, confidence_interval_size=confidence
        )
    return {
        name: {
            "iqm": np.asarray(points[name], float),
            "lo": np.asarray(intervals[name], float)[0],
            "hi": np.asarray(intervals[name], float)[1],
        }
        for name in matrices
    }


# ---------------------------------------------------------------------------- figures


def interval_estimates_figure(
    results: Mapping[str, Mapping[str, Any]],
    *,
    statistics: Sequence[str] = ("iqm", "mean"),
    xlabel: str = "score",
    title: str = "",
) -> Figure:
    """One panel per statistic, one horizontal bar per method spanning its interval, with a tick
    at the point estimate (the layout of the paper's Fig. 1).

    Args:
        results: ``aggregate``'s output.
        statistics: Which of ``"iqm"``, ``"mean"``, ``"median"`` to draw, one panel each.
        xlabel: What the scores are.
        title: Figure title.
    """
    names = list(results)
    figure = Figure(
        figsize=(2.0 + 2.8 * len(statistics), 0.9 + 0.45 * len(names)),
        dpi=_DPI,
        layout="constrained",
    )
    axes = figure.subplots(1, len(statistics), squeeze=False)[0]
    colors = [f"C{index % 10}" for index in range(len(names))]
    for axis, statistic in zip(axes, statistics, strict=True):
        for row, name in enumerate(names):
            low, high = results[name][f"{statistic}_ci"]
            axis.barh(row, high - low, left=low, height=0.6, color=colors[row], alpha=0.75)
            point = results[name][statistic]
            axis.vlines(point, row - 0.3, row + 0.3, color="k")
        axis.set_yticks(range(len(names)))
        axis.set_yticklabels(names if axis is axes[0] else [""] * len(names))
        axis.set_ylim(len(names) - 0.5, -0.5)
        axis.set_title(statistic.upper() if statistic == "iqm" else statistic.capitalize())
        axis.set_xlabel(xlabel)
        axis.grid(True, axis="x", alpha=0.25)
    if title:
        figure.suptitle(title, fontsize=10)
    return figure


def plot_interval_estimates(
    results: Mapping[str, Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    statistics: Sequence[str] = ("iqm", "mean"),
    xlabel: str = "score",
    title: str = "",
) -> Path:
    """``interval_estimates_figure(...)`` written to the PNG ``path``."""
    figure = interval_estimates_figure(results, statistics=statistics, xlabel=xlabel, title=title)
    return state_io.save_figure(figure, path)


def probability_of_improvement_figure(
    improvements: Mapping[tuple[str, str], Mapping[str, Any]],
    *,
    title: str = "",
) -> Figure:
    """One row per pair (X, Y): a bar spanning the interval of P(X > Y), a tick at the estimate,
    X named on the left and Y on the right, and a dashed line at 0.5 (the paper's Fig. 8).

    Args:
        improvements: ``{(x, y): probability_of_improvement(x_scores, y_scores, ...)}``.
        title: Figure title.
    """
    pairs = list(improvements)
    figure = Figure(figsize=(5.0, 0.9 + 0.45 * len(pairs)), dpi=_DPI, layout="constrained")
    axis = figure.subplots()
    for row, pair in enumerate(pairs):
        low, high = improvements[pair]["ci"]
        axis.barh(row, high - low, left=low, height=0.6, color=f"C{row % 10}", alpha=0.75)
        # A marker as well as the tick: at P = 0 or 1 the interval is often a single point.
        axis.plot(improvements[pair]["p"], row, marker="o", color="k", markersize=4)
        axis.vlines(improvements[pair]["p"], row - 0.3, row + 0.3, color="k")
    axis.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    axis.set_xlim(-0.03, 1.03)
    axis.set_yticks(range(len(pairs)))
    axis.set_yticklabels([x for x, _ in pairs])
    axis.set_ylim(len(pairs) - 0.5, -0.5)
    axis.set_ylabel("algorithm X")
    right = axis.twinx()
    right.set_ylim(axis.get_ylim())
    right.set_yticks(range(len(pairs)))
    right.set_yticklabels([y for _, y in pairs])
    right.set_ylabel("algorithm Y")
    axis.set_xlabel("P(X > Y)")
    axis.grid(True, axis="x", alpha=0.25)
    if title:
        axis.set_title(title, fontsize=10)
    return figure


def plot_probability_of_improvement(
    improvements: Mapping[tuple[str, str], Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    title: str = "",
) -> Path:
    """``probability_of_improvement_figure(...)`` written to the PNG ``path``."""
    return state_io.save_figure(probability_of_improvement_figure(improvements, title=title), path)


def curves_figure(
    steps: Any,
    curve_results: Mapping[str, Mapping[str, np.ndarray]],
    *,
    n_seeds: Mapping[str, int] | None = None,
    ylabel: str = "score",
    title: str = "",
    confidence: float = 0.95,
) -> Figure:
    """IQM learning curves with their intervals shaded (points with error bars when a curve has
    a single step).

    Args:
        steps: Evaluation steps, shape ``(n_points,)``.
        curve_results: ``curves``' output.
        n_seeds: Seeds per name, shown in the legend.
        ylabel: What the scores are.
        title: Figure title (the statistic and coverage are appended).
        confidence: Coverage the intervals were computed with (for the title).
    """
    step_array = np.asarray(steps, dtype=np.float64)
    figure = Figure(figsize=(6.4, 4.2), dpi=_DPI, layout="constrained")
    axis = figure.subplots()
    for name, curve in curve_results.items():
        label = name if n_seeds is None else f"{name} (n={n_seeds[name]})"
        iqm, low, high = curve["iqm"], curve["lo"], curve["hi"]
        if len(step_array) == 1:  # a line of one point draws nothing
            (line,) = axis.plot(step_array, iqm, marker="o", linestyle="none", label=label)
            axis.errorbar(
                step_array, iqm, yerr=[iqm - low, high - iqm], fmt="none",
                ecolor=line.get_color(), capsize=4,
            )  # fmt: skip
        else:
            (line,) = axis.plot(step_array, iqm, label=label)
            axis.fill_between(step_array, low, high, color=line.get_color(), alpha=0.2)
    axis.set_xlabel("training steps")
    axis.xaxis.set_major_formatter(EngFormatter())
    axis.set_ylabel(ylabel)
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize=8)
    heading = f"IQM, {confidence:.0%} stratified-bootstrap CI"
    axis.set_title(f"{title}\n{heading}" if title else heading, fontsize=10)
    return figure


def plot_curves(
    steps: Any,
    curve_results: Mapping[str, Mapping[str, np.ndarray]],
    path: str | os.PathLike[str],
    *,
    n_seeds: Mapping[str, int] | None = None,
    ylabel: str = "score",
    title: str = "",
    confidence: float = 0.95,
) -> Path:
    """``curves_figure(...)`` written to the PNG ``path``."""
    figure = curves_figure(
        steps, curve_results, n_seeds=n_seeds, ylabel=ylabel, title=title, confidence=confidence
    )
    return state_io.save_figure(figure, path)


# ---------------------------------------------------------------------------- helpers


def _rliable() -> tuple[ModuleType, ModuleType]:
    """``rliable.library`` and ``rliable.metrics``, or an ImportError with the install command."""
    try:
        from rliable import library, metrics
    except ImportError as error:
        raise ImportError(
            f"teachgym.bench.stats needs rliable ({error}); install it with: {_INSTALL}"
        ) from error
    except Exception as error:  # an installed but broken dependency, e.g. arch 7 on pandas 3
        raise ImportError(
            f"rliable is installed but fails to import ({type(error).__name__}: {error}); "
            f"rliable 1.2 needs arch < 8, which needs pandas < 3: {_INSTALL} 'pandas<3'"
        ) from error
    return library, metrics


@contextlib.contextmanager
def _seeded_global_numpy(seed: int) -> Iterator[None]:
    """NumPy's global random state seeded with ``seed`` inside the block, restored after it
    (rliable's bootstrap draws its indices from the global state; see the module docstring)."""
    saved = np.random.get_state()  # noqa: NPY002 (rliable reads the global state)
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(saved)  # noqa: NPY002


def _check_options(reps: int, confidence: float, seed: int) -> None:
    """Validate the options every statistic takes."""
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps: expected an integer ≥ 1 (bootstrap resamples); got {reps!r}")
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, (int, float, np.floating))
        or not math.isfinite(confidence)
        or not 0.0 < confidence < 1.0
    ):
        raise ValueError(
            f"confidence: expected a coverage strictly between 0 and 1 (e.g. 0.95); "
            f"got {confidence!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"seed: expected an integer in [0, 2**32); got {seed!r}")


def _finite_array(value: Any, what: str) -> np.ndarray:
    """``value`` as a non-empty, finite float array, or a ValueError naming ``what``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what}: expected an array of numbers; got {value!r} ({error})") from None
    if array.size == 0:
        raise ValueError(f"{what}: expected at least one score; got an empty array {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = array[~np.isfinite(array)][0]
        raise ValueError(f"{what}: expected finite scores; got {bad} in {array.tolist()}")
    return array


def _score_matrices(scores: Mapping[str, Any], what: str) -> dict[str, np.ndarray]:
    """Each score array as a ``(n_seeds, n_tasks)`` matrix, with one task count for all."""
    if not scores:
        raise ValueError(f"{what}: expected at least one name; got an empty mapping")
    matrices: dict[str, np.ndarray] = {}
    label: Callable[[str], str] = (lambda name: f"{what}[{name!r}]") if what else str
    for name, value in scores.items():
        array = _finite_array(value, label(name))
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise ValueError(
                f"{label(name)}: expected shape (n_seeds,) or (n_seeds, n_tasks); got shape "
                f"{array.shape}"
            )
        matrices[name] = array
    tasks = {name: matrix.shape[1] for name, matrix in matrices.items()}
    if len(set(tasks.values())) > 1:
        raise ValueError(
            f"{what or 'scores'}: expected the same number of tasks (columns) for every array; "
            f"got {tasks}"
        )
    return matrices
