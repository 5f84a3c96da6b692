"""Pictures of a Go-Explore phase 1 run: progress curves and maps of the archive.

- ``plot_progress``: archive size and best score against env steps, for one run or several
  (seeds, cell functions) — the two curves the 2019 paper shows for Montezuma's Revenge (fig. 3).
- ``plot_cell_map``: how many cells the archive holds at each grid position of a MiniGrid (or
  teachgym grid) env, over the env's rendered start layout.
- ``plot_rooms``: cells and best score per room of Montezuma's Revenge, laid out as the
  pyramid of the game's first level (2019, fig. 4 draws the same map).

Figures are drawn on matplotlib's Agg canvas directly, never through ``pyplot`` (no GUI backend),
and written by ``teachgym.state_io.save_figure``. Only the type annotations name ``GoExplore``:
this module reads an agent's archive and env but does not import ``agent`` at run time.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from teachgym.state_io import save_figure

if TYPE_CHECKING:
    from teachgym.agents.go_explore.agent import GoExplore
    from teachgym.agents.go_explore.cells import CellKey

__all__ = ["montezuma_room_position", "plot_cell_map", "plot_progress", "plot_rooms"]

_DPI = 110

#: One ``ExploreStats.history`` row: (num_timesteps, num_timesteps_from_reset, cells, best).
HistoryRow = tuple[int, int, int, float]
History = Sequence[HistoryRow]
StepAxis = Literal["num_timesteps", "num_timesteps_from_reset"]

# Rooms of Montezuma's Revenge per floor of the pyramid, top floor first, and the column of each
# floor's leftmost room in a 9-room-wide layout (the bottom floor is 9 rooms wide).
_PYRAMID_FLOORS = ((0, 1, 2), (3, 4, 5, 6, 7), (8, 9, 10, 11, 12, 13, 14), tuple(range(15, 24)))
_PYRAMID_WIDTH = 9


def _labelled(runs: History | Sequence[tuple[str, History]]) -> list[tuple[str, np.ndarray]]:
    """Normalise one history or ``(label, history)`` pairs to labelled ``(n, 4)`` arrays."""
    items = list(runs)
    if items and isinstance(items[0][0], str):
        pairs = [(str(label), history) for label, history in items]  # type: ignore[misc]
    else:
        pairs = [("", items)]  # type: ignore[list-item]
    labelled = []
    for label, history in pairs:
        rows = np.asarray(history, dtype=np.float64).reshape(-1, 4)
        labelled.append((label, rows))
    return labelled


def plot_progress(
    runs: History | Sequence[tuple[str, History]],
    path: str | os.PathLike[str],
    *,
    steps: StepAxis = "num_timesteps",
    title: str = "Go-Explore phase 1",
) -> Path:
    """Archive size and best score against env steps, one line per run (two panels).

    Args:
        runs: One ``GoExplore.stats.history`` (rows ``(num_timesteps,
            num_timesteps_from_reset, cells, best score)``), or a list of ``(label, history)``
            pairs to compare runs.
        path: The PNG to write.
        steps: ``"num_timesteps"`` (steps executed) or ``"num_timesteps_from_reset"`` (also
            counting the steps each return skipped by restoring: the 2019 paper's frame count).
        title: Figure title.

    Returns:
        ``path``.
    """
    if steps not in ("num_timesteps", "num_timesteps_from_reset"):
        raise ValueError(
            f"steps must be 'num_timesteps' or 'num_timesteps_from_reset'; got {steps!r}"
        )
    column = 0 if steps == "num_timesteps" else 1
    figure = Figure(figsize=(10.0, 3.8), dpi=_DPI, layout="constrained")
    cells_axis, score_axis = figure.subplots(1, 2)
    labelled = _labelled(runs)
    for label, rows in labelled:
        # History rows are snapshots of running totals: draw them as steps, not slopes.
        x = rows[:, column]
        cells_axis.plot(x, rows[:, 2], drawstyle="steps-post", label=label or None)
        score_axis.plot(x, rows[:, 3], drawstyle="steps-post", label=label or None)
    xlabel = "env steps" if column == 0 else "env steps, counting returns from reset"
    cells_axis.set(xlabel=xlabel, ylabel="cells in archive", title="Archive size")
    score_axis.set(xlabel=xlabel, ylabel="best score", title="Best score")
    for axis in (cells_axis, score_axis):
        axis.grid(alpha=0.3)
        axis.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    if any(label for label, _ in labelled):
        score_axis.legend(fontsize=8)
    figure.suptitle(title)
    return save_figure(figure, path)


def _minigrid_position(key: CellKey) -> tuple[int, int]:
    if not (isinstance(key, tuple) and len(key) >= 2):
        raise TypeError(
            f"plot_cell_map reads (x, y) from the first two fields of a cell key (MiniGridCell); "
            f"got {key!r}: pass position="
        )
    return int(key[0]), int(key[1])


def plot_cell_map(
    agent: GoExplore,
    path: str | os.PathLike[str],
    *,
    position: Callable[[CellKey], tuple[int, int]] | None = None,
    title: str | None = None,
) -> Path:
    """Number of archive cells at each position of a grid env, over its start layout.

    A position holds several cells when the agent reached it carrying different objects or
    with doors and boxes in different states, so high counts show where the task's stages
    happen (e.g. the key room of a KeyCorridor).

    Args:
        agent: A ``GoExplore`` agent that explored a MiniGrid or teachgym grid env.
        path: The PNG to write.
        position: Maps a cell key to its ``(x, y)`` grid position; default the first two
            fields (``MiniGridCell`` keys ``(x, y, carried type, carried colour, door bits,
            box bits)``).
        title: Figure title (default: the env id and the number of cells).

    Returns:
        ``path``.
    """
    position = position or _minigrid_position
    env = agent.make_env()  # a fresh env, so the agent's own env keeps its state
    env.reset(seed=agent.env_seed)
    base = env.unwrapped
    width, height = int(base.width), int(base.height)  # type: ignore[attr-defined]
    counts = np.zeros((height, width))
    for key in agent.archive.keys:
        x, y = position(key)
        counts[y, x] += 1
    layout = base.get_frame(highlight=False, tile_size=16, agent_pov=False)  # type: ignore[attr-defined]
    env.close()

    figure = Figure(figsize=(5.2, 4.6), dpi=_DPI, layout="constrained")
    axis = figure.subplots()
    extent = (0.0, float(width), float(height), 0.0)
    axis.imshow(layout, extent=extent, interpolation="nearest")
    shown = axis.imshow(
        np.ma.masked_equal(counts, 0), extent=extent, cmap="viridis", alpha=0.7,
        interpolation="nearest", vmin=1,
    )  # fmt: skip
    if width * height <= 400:  # numbers stay legible up to 20 × 20
        for y, x in zip(*np.nonzero(counts), strict=True):
            axis.text(x + 0.5, y + 0.5, str(int(counts[y, x])), ha="center", va="center",
                      fontsize=7, color="white")  # fmt: skip
    figure.colorbar(shown, ax=axis, label="cells at this position")
    axis.set(xticks=[], yticks=[])
    name = agent.env_id or type(base).__name__
    axis.set_title(title or f"{name}: {len(agent.archive)} cells")
    return save_figure(figure, path)


def montezuma_room_position(room: int) -> tuple[int, int]:
    """``(floor, column)`` of a room of Montezuma's Revenge in the pyramid (floor 0 on top)."""
    for floor, rooms in enumerate(_PYRAMID_FLOORS):
        if room in rooms:
            offset = (_PYRAMID_WIDTH - len(rooms)) // 2
            return floor, offset + rooms.index(room)
    raise ValueError(f"Montezuma's Revenge has rooms 0 to 23; got {room!r}")


def plot_rooms(agent: GoExplore, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Cells and best score per room of Montezuma's Revenge, laid out as the pyramid.

    Reads ``MontezumaCell`` keys ``(level, room, keys, x, y)``; rooms of every level are
    counted together (levels repeat the same pyramid).

    Args:
        agent: A ``GoExplore`` agent that explored with ``MontezumaCell``.
        path: The PNG to write.
        title: Figure title (default: rooms found, cells and best score).

    Returns:
        ``path``.
    """
    archive = agent.archive
    cells: Counter[int] = Counter()
    best: defaultdict[int, float] = defaultdict(float)
    for slot, key in enumerate(archive.keys):
        if not (isinstance(key, tuple) and len(key) == 5):
            raise TypeError(
                f"plot_rooms needs MontezumaCell keys (level, room, keys, x, y); got {key!r}"
            )
        room = int(key[1])
        cells[room] += 1
        best[room] = max(best[room], float(archive.score[slot]))
    grid = np.full((len(_PYRAMID_FLOORS), _PYRAMID_WIDTH), np.nan)
    for room, count in cells.items():
        grid[montezuma_room_position(room)] = count

    figure = Figure(figsize=(8.0, 4.0), dpi=_DPI, layout="constrained")
    axis = figure.subplots()
    shown = axis.imshow(grid, cmap="viridis", interpolation="nearest")
    for rooms in _PYRAMID_FLOORS:
        for room in rooms:
            floor, column = montezuma_room_position(room)
            found = room in cells
            text = f"room {room}\n{cells[room]} cells\nbest {best[room]:g}" if found else f"{room}"
            # Dark text on the bright end of viridis, light text elsewhere.
            bright = found and cells[room] > 0.6 * max(cells.values())
            colour = ("black" if bright else "white") if found else "grey"
            axis.text(column, floor, text, ha="center", va="center", fontsize=7, color=colour)
            if not found:
                axis.add_patch(Rectangle((column - 0.5, floor - 0.5), 1.0, 1.0, fill=False,
                                         edgecolor="lightgrey"))  # fmt: skip
    figure.colorbar(shown, ax=axis, label="cells in room")
    axis.set(xticks=[], yticks=[])
    axis.set_title(
        title
        or f"Montezuma's Revenge: {len(cells)} rooms, {len(archive)} cells, "
        f"best score {agent.best_score:g}"
    )
    return save_figure(figure, path)
