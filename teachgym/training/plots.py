"""Pictures of a run (``docs/design.md``, "Runs and evaluation"): where the teacher sampled, the
learning curve, the mastery map, and teacher comparisons with confidence bands.

Figures are drawn on matplotlib's Agg canvas directly (``matplotlib.figure.Figure``), never
through ``pyplot``: no global figure state, no GUI backend, safe in worker processes and tests.
``write_run_plots(run_dir)`` redraws every picture of a run folder from its files, so a user can
re-plot a run (or a killed one) without training. Each picture has a ``*_figure`` function that
returns the ``Figure`` (to show, restyle or test) and a ``plot_*`` function that writes it.
"""

from __future__ import annotations

import itertools
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse
from matplotlib.ticker import EngFormatter

from teachgym import state_io
from teachgym.spaces import ParamSpace
from teachgym.training.evaluation import EvalResult
from teachgym.training.runs import RunDir

__all__ = [
    "default_pairs",
    "learning_curve_figure",
    "mastery_curves_figure",
    "mastery_map_figure",
    "mean_confidence_band",
    "plot_learning_curve",
    "plot_mastery_curves",
    "plot_mastery_map",
    "plot_teacher_samples",
    "run_figures",
    "teacher_samples_figure",
    "write_run_plots",
]

_DPI = 110
#: Pairs the samples figure shows by default: every pair up to this many, else consecutive ones.
_MAX_DEFAULT_PAIRS = 6


def default_pairs(space: ParamSpace) -> list[tuple[str, str]]:
    """The parameter pairs ``teacher_samples_figure`` shows unless told: every pair when there
    are at most six (spaces of up to 4 parameters), else consecutive pairs that show each
    parameter once (``(p0, p1), (p2, p3), …``; an odd last one pairs with its predecessor)."""
    names = space.names
    if space.dim < 2:
        return []
    pairs = list(itertools.combinations(names, 2))
    if len(pairs) <= _MAX_DEFAULT_PAIRS:
        return pairs
    starts = list(range(0, space.dim - 1, 2))
    if space.dim % 2:
        starts.append(space.dim - 2)
    return [(names[i], names[i + 1]) for i in starts]


def teacher_samples_figure(
    params: np.ndarray,
    scores: np.ndarray,
    space: ParamSpace,
    *,
    mixture: Mapping[str, Any] | None = None,
    panels: int = 4,
    pairs: Sequence[tuple[str, str]] | None = None,
    title: str = "Where the teacher sampled",
) -> Figure:
    """Scatter of the episodes' params over time, coloured by their score.

    The history is cut into ``panels`` consecutive windows of episodes, one column each, so the
    curriculum's drift is visible; each row shows one pair of parameters. A 1-D space shows its
    parameter against the episode.

    Args:
        params: ``(n, dim)`` episode params in ``space`` units, in episode order.
        scores: ``(n,)`` normalised returns the teacher received.
        space: The parameter space (names and bounds for the axes).
        mixture: An ALP-GMM mixture (``weights``, ``means``, ``covariances`` over the unit
            cube ⊕ ALP, as in its state) drawn on each row's last panel as the 2-σ ellipses of
            its marginal over that pair, coloured by the ALP of each mean (the quantity ALP-GMM
            samples by). Ignored unless it has ``dim + 1`` columns.
        panels: Number of time windows.
        pairs: ``(x, y)`` parameter names, one row each; ``None``: ``default_pairs(space)``.
        title: Figure title (wrapped to the figure's width).

    Raises:
        ValueError: a pair names an unknown parameter or the same one twice.
    """
    params = np.asarray(params, dtype=np.float64).reshape(-1, space.dim)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    rows = _pair_indices(space, default_pairs(space) if pairs is None else pairs)
    count = len(params)
    panels = max(1, min(panels, count)) if count else 1
    norm = Normalize(vmin=0.0, vmax=1.0)
    side = 3.6 if len(rows) <= 1 else 3.0
    width = side * panels + 1.0
    figure = Figure(figsize=(width, side * max(1, len(rows)) + 0.4), dpi=_DPI, layout="constrained")
    grid = figure.subplots(max(1, len(rows)), panels, squeeze=False)
    windows = np.array_split(np.arange(count), panels) if count else [np.arange(0)]
    for row, axes in enumerate(grid):
        for column, (axis, window) in enumerate(zip(axes, windows, strict=True)):
            if not rows:  # 1-D: the parameter over the episodes
                axis.scatter(
                    window, params[window, 0], c=scores[window], cmap="viridis", norm=norm, s=6
                )
                axis.set_xlabel("episode")
                axis.set_ylabel(space.names[0])
                axis.set_ylim(space.low[0], space.high[0])
            else:
                x, y = rows[row]
                axis.scatter(
                    params[window, x], params[window, y], c=scores[window], cmap="viridis",
                    norm=norm, s=6, alpha=0.8,
                )  # fmt: skip
                axis.set_xlim(space.low[x], space.high[x])
                axis.set_ylim(space.low[y], space.high[y])
                axis.set_xlabel(space.names[x])
                if column == 0:
                    axis.set_ylabel(space.names[y])
            span = (
                f"episodes {window[0] + 1}–{window[-1] + 1}" if len(window) else "no episodes yet"
            )
            axis.set_title(span, fontsize=9)
        if mixture is not None and rows:
            _draw_mixture(axes[-1], mixture, space, rows[row])
    colorbar = figure.colorbar(
        ScalarMappable(norm=norm, cmap="viridis"),
        ax=grid.ravel().tolist(),
        shrink=1.0 if len(rows) <= 2 else 2.0 / len(rows),  # about two rows tall
    )
    colorbar.set_label("score (normalised return)")
    shown = {index for pair in rows for index in pair}
    suffix = f" ({len(shown)} of {space.dim} params)" if rows and len(shown) < space.dim else ""
    figure.suptitle(_fit(title + suffix, width, 11), fontsize=11)
    return figure


def plot_teacher_samples(
    params: np.ndarray,
    scores: np.ndarray,
    space: ParamSpace,
    path: str | os.PathLike[str],
    *,
    mixture: Mapping[str, Any] | None = None,
    panels: int = 4,
    pairs: Sequence[tuple[str, str]] | None = None,
    title: str = "Where the teacher sampled",
) -> Path:
    """``teacher_samples_figure(...)`` written to the PNG ``path``."""
    figure = teacher_samples_figure(
        params, scores, space, mixture=mixture, panels=panels, pairs=pairs, title=title
    )
    return _save(figure, path)


def _pair_indices(space: ParamSpace, pairs: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
    indices = []
    for pair in pairs:
        for name in pair:
            if name not in space.names:
                raise ValueError(
                    f"pairs: unknown parameter {name!r}; expected names from "
                    f"{', '.join(space.names)}"
                )
        x, y = (space.names.index(name) for name in pair)
        if x == y:
            raise ValueError(f"pairs: {pair!r} must name two different parameters")
        indices.append((x, y))
    return indices


def _fit(text: str, width_inches: float, fontsize: float) -> str:
    """``text`` wrapped so that it fits ``width_inches`` at ``fontsize`` points (a long run
    label over one narrow panel would be cut at the figure's edges)."""
    characters = max(20, int(width_inches * 72 / (0.6 * fontsize)))
    return textwrap.fill(text, characters)


def _draw_mixture(
    axis: Axes, mixture: Mapping[str, Any], space: ParamSpace, pair: tuple[int, int]
) -> None:
    means = np.asarray(mixture["means"], dtype=np.float64)
    covariances = np.asarray(mixture["covariances"], dtype=np.float64)
    if means.ndim != 2 or means.shape[1] != space.dim + 1:
        return
    index = list(pair)
    span = (space.high - space.low)[index]
    low = space.low[index]
    alps = means[:, -1]
    alp_norm = Normalize(vmin=0.0, vmax=max(float(alps.max()), 1e-9))
    for mean, covariance, alp in zip(means, covariances, alps, strict=True):
        # A Gaussian's marginal over the pair is its mean's and covariance's (pair, pair) block.
        # Unit cube → the space's units: centre shifted and scaled, covariance scaled twice.
        centre = low + mean[index] * span
        block = covariance[np.ix_(index, index)] * np.outer(span, span)
        eigenvalues, eigenvectors = np.linalg.eigh(block)
        eigenvalues = np.clip(eigenvalues, 0.0, None)
        angle = float(np.degrees(np.arctan2(eigenvectors[1, 1], eigenvectors[0, 1])))
        width, height = 2 * 2 * np.sqrt(eigenvalues[::-1])  # 2 σ on each side
        colour = ScalarMappable(norm=alp_norm, cmap="magma").to_rgba(alp)
        axis.add_patch(
            Ellipse(
                (float(centre[0]), float(centre[1])), float(width), float(height), angle=angle,
                fill=False, edgecolor=colour, linewidth=1.5,
            )
        )  # fmt: skip
    axis.set_title(axis.get_title() + " + GMM (2σ, colour: ALP)", fontsize=9)


def learning_curve_figure(
    eval_rows: Sequence[Mapping[str, float]],
    *,
    episode_steps: np.ndarray | None = None,
    episode_returns: np.ndarray | None = None,
    mastery_threshold: float | None = None,
    title: str = "Learning curve",
) -> Figure:
    """% of the test set mastered, and returns, over training steps (engineering notation:
    ``150k``, so long runs' tick labels stay apart).

    Args:
        eval_rows: ``eval.csv`` rows (``step``, ``mastered_pct``, ``mean_return``).
        episode_steps: Step each training episode ended at (for the right panel).
        episode_returns: Raw return of each training episode (smoothed over 100 episodes).
        mastery_threshold: Drawn as a dashed line on the returns panel.
        title: Figure title.
    """
    figure = Figure(figsize=(10, 3.8), dpi=_DPI, layout="constrained")
    mastery_axis, return_axis = figure.subplots(1, 2)
    steps = np.array([row["step"] for row in eval_rows], dtype=np.float64)
    if len(steps):
        mastery_axis.plot(steps, [row["mastered_pct"] for row in eval_rows], marker="o")
        return_axis.plot(
            steps, [row["mean_return"] for row in eval_rows], marker="o", label="test set (greedy)"
        )
    else:
        mastery_axis.text(
            0.5, 0.5, "no evaluation yet", ha="center", transform=mastery_axis.transAxes
        )
    mastery_axis.set_ylim(-2, 102)
    mastery_axis.set_ylabel("% of test set mastered")
    if episode_steps is not None and episode_returns is not None and len(episode_returns):
        smoothed = _moving_average(np.asarray(episode_returns, dtype=np.float64), 100)
        return_axis.plot(
            np.asarray(episode_steps), smoothed, alpha=0.8, label="training episodes (mean of 100)"
        )
    if mastery_threshold is not None:
        return_axis.axhline(
            mastery_threshold, linestyle="--", color="grey", label="mastery threshold"
        )
    return_axis.set_ylabel("episode return")
    if return_axis.get_legend_handles_labels()[0]:
        return_axis.legend(fontsize=8)
    for axis in (mastery_axis, return_axis):
        _steps_axis(axis)
    figure.suptitle(_fit(title, 10, 11), fontsize=11)
    return figure


def plot_learning_curve(
    eval_rows: Sequence[Mapping[str, float]],
    path: str | os.PathLike[str],
    *,
    episode_steps: np.ndarray | None = None,
    episode_returns: np.ndarray | None = None,
    mastery_threshold: float | None = None,
    title: str = "Learning curve",
) -> Path:
    """``learning_curve_figure(...)`` written to the PNG ``path``."""
    figure = learning_curve_figure(
        eval_rows,
        episode_steps=episode_steps,
        episode_returns=episode_returns,
        mastery_threshold=mastery_threshold,
        title=title,
    )
    return _save(figure, path)


def _steps_axis(axis: Axes) -> None:
    """x = training steps, in engineering notation (``25k``, ``1.5M``)."""
    axis.set_xlabel("training steps")
    axis.xaxis.set_major_formatter(EngFormatter(sep=""))


def plot_mastery_map(
    tasks: np.ndarray,
    task_returns: np.ndarray,
    space: ParamSpace,
    mastery_threshold: float,
    path: str | os.PathLike[str],
    *,
    title: str = "Mastery map",
) -> Path:
    """``mastery_map_figure(...)`` written to the PNG ``path``."""
    figure = mastery_map_figure(tasks, task_returns, space, mastery_threshold, title=title)
    return _save(figure, path)


def mastery_map_figure(
    tasks: np.ndarray,
    task_returns: np.ndarray,
    space: ParamSpace,
    mastery_threshold: float,
    *,
    title: str = "Mastery map",
) -> Figure:
    """Heat map of the returns on the 10 × 10 test grid of a 2-D space; mastered cells framed.

    Args:
        tasks: ``(side², 2)`` cell centres as ``teachgym.envs.test_set(..., kind="grid")``
            orders them (first parameter slowest).
        task_returns: Each cell's return.
        space: The 2-D parameter space.
        mastery_threshold: Cells above it are mastered.
        title: Figure title.

    Raises:
        ValueError: the space is not 2-D or the tasks are not a square grid.
    """
    tasks = np.asarray(tasks, dtype=np.float64)
    values = np.asarray(task_returns, dtype=np.float64).reshape(-1)
    side = round(float(np.sqrt(len(values))))
    if space.dim != 2 or side * side != len(values) or tasks.shape != (len(values), 2):
        raise ValueError(
            f"a mastery map needs a square grid over a 2-D space; got {tasks.shape} tasks "
            f"in a {space.dim}-D space"
        )
    grid = values.reshape(side, side)  # [first param index, second param index]
    figure = Figure(figsize=(5.2, 4.4), dpi=_DPI, layout="constrained")
    axis = figure.subplots()
    extent = (space.low[0], space.high[0], space.low[1], space.high[1])
    image = axis.imshow(grid.T, origin="lower", extent=extent, aspect="auto", cmap="viridis")
    cell = (space.high - space.low) / side
    for i in range(side):
        for j in range(side):
            if grid[i, j] > mastery_threshold:
                corner = (space.low[0] + i * cell[0], space.low[1] + j * cell[1])
                axis.add_patch(_rectangle(corner, float(cell[0]), float(cell[1])))
    colorbar = figure.colorbar(image, ax=axis)
    colorbar.set_label("return")
    axis.set_xlabel(space.names[0])
    axis.set_ylabel(space.names[1])
    mastered = float(100.0 * (values > mastery_threshold).mean())
    axis.set_title(
        f"{title}: {mastered:.0f}% mastered (framed: return > {mastery_threshold:g})", fontsize=10
    )
    return figure


def _rectangle(corner: tuple[float, float], width: float, height: float) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(corner, width, height, fill=False, edgecolor="white", linewidth=1.2)


def mean_confidence_band(
    curves: Sequence[np.ndarray], confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and Student-t confidence interval across seeds, pointwise.

    Args:
        curves: One ``(n_points,)`` curve per seed (same points).
        confidence: Coverage of the interval.

    Returns:
        ``(mean, low, high)``; with one seed the band is the curve itself.
    """
    from scipy import stats

    data = np.asarray(curves, dtype=np.float64)
    mean = data.mean(axis=0)
    if len(data) < 2:
        return mean, mean.copy(), mean.copy()
    half = stats.t.ppf(0.5 + confidence / 2, len(data) - 1) * stats.sem(data, axis=0)
    return mean, mean - half, mean + half


def mastery_curves_figure(
    curves: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]],
    *,
    confidence: float = 0.95,
    title: str = "% of test set mastered",
) -> Figure:
    """Mean mastery curve per teacher with a confidence band across seeds.

    Args:
        curves: ``{teacher: [(steps, mastered_pct) per seed]}``. Seeds are interpolated onto the
            first seed's steps (runs of one config evaluate at the same steps anyway). Curves
            of one evaluation (only the final one) are drawn as points with error bars.
        confidence: Coverage of the band (Student t across seeds).
        title: Figure title.
    """
    figure = Figure(figsize=(6.4, 4.2), dpi=_DPI, layout="constrained")
    axis = figure.subplots()
    for name, runs in curves.items():
        if not runs:
            continue
        steps = np.asarray(runs[0][0], dtype=np.float64)
        aligned = [np.interp(steps, np.asarray(s, float), np.asarray(v, float)) for s, v in runs]
        mean, low, high = mean_confidence_band(aligned, confidence)
        low, high = np.clip(low, 0.0, 100.0), np.clip(high, 0.0, 100.0)  # a % stays in [0, 100]
        label = f"{name} (n={len(runs)})"
        if len(steps) == 1:  # a line of one point draws nothing
            (line,) = axis.plot(steps, mean, marker="o", linestyle="none", label=label)
            axis.errorbar(
                steps, mean, yerr=[mean - low, high - mean], fmt="none",
                ecolor=line.get_color(), capsize=4,
            )  # fmt: skip
        else:
            (line,) = axis.plot(steps, mean, label=label)
            axis.fill_between(steps, low, high, color=line.get_color(), alpha=0.2)
    _steps_axis(axis)
    axis.set_ylabel("% mastered")
    axis.set_ylim(-2, 102)
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize=8)
    axis.set_title(_fit(f"{title} (mean, {confidence:.0%} CI)", 6.4, 10), fontsize=10)
    return figure


def plot_mastery_curves(
    curves: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]],
    path: str | os.PathLike[str],
    *,
    confidence: float = 0.95,
    title: str = "% of test set mastered",
) -> Path:
    """``mastery_curves_figure(...)`` written to the PNG ``path``."""
    return _save(mastery_curves_figure(curves, confidence=confidence, title=title), path)


def run_figures(run_dir: str | os.PathLike[str]) -> dict[Path, Figure]:
    """Every picture a run folder's files allow, keyed by the ``RunDir`` path it belongs at:
    where the teacher sampled (``curriculum.npz``, with the final mixture of a GMM teacher),
    the learning curve (``eval.csv`` and the training episodes) and, for a 2-D space with a
    grid evaluation, the mastery map."""
    run = RunDir.open(run_dir)
    stored = run.read_config()
    space = ParamSpace.from_json(stored["resolved"]["param_space"])
    threshold = float(stored["resolved"]["mastery_threshold"])
    config = stored["config"]
    label = f"{config['env_id']} · {config['teacher']} · {config['algorithm']}"
    figures: dict[Path, Figure] = {}
    history = state_io.load(run.curriculum_file) if run.curriculum_file.is_file() else None
    mixture = None
    if run.teacher_file.is_file():
        algorithm_state = state_io.load(run.teacher_file).get("algorithm", {})
        mixture = algorithm_state.get("mixture") if isinstance(algorithm_state, dict) else None
    if history is not None:
        figures[run.teacher_samples_plot] = teacher_samples_figure(
            history["params"], history["scores"], space, mixture=mixture,
            title=f"Where the teacher sampled — {label}",
        )  # fmt: skip
    figures[run.learning_curve_plot] = learning_curve_figure(
        run.read_eval_rows(),
        episode_steps=None if history is None else history["steps"],
        episode_returns=None if history is None else history["returns"],
        mastery_threshold=threshold, title=f"Learning curve — {label}",
    )  # fmt: skip
    if run.mastery_grid_json.is_file() and space.dim == 2:
        grid = EvalResult.read_json(run.mastery_grid_json)
        figures[run.mastery_map_plot] = mastery_map_figure(
            grid.tasks, grid.task_returns, space, grid.mastery_threshold, title="Mastery map"
        )
    return figures


def write_run_plots(run_dir: str | os.PathLike[str]) -> list[Path]:
    """Draw every picture a run folder's files allow (``run_figures``) into ``RUN_DIR/plots``.

    Returns:
        The PNGs written.
    """
    return [_save(figure, path) for path, figure in run_figures(run_dir).items()]


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over up to ``window`` values (shorter at the start)."""
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    index = np.arange(1, len(values) + 1)
    start = np.maximum(0, index - window)
    return np.asarray((cumulative[index] - cumulative[start]) / (index - start))


def _save(figure: Figure, path: str | os.PathLike[str]) -> Path:
    from teachgym.state_io import save_figure

    return save_figure(figure, path)
