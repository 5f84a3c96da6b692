"""Go-Explore on Atari: ALE snapshots, Montezuma's Revenge RAM cells, downscaled frames,
same-seed phase 1, and the phase 1 plots.

Atari tests skip without ale-py (``pip install "teachgym[atari]"``); the plot tests run on MiniGrid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from matplotlib.figure import Figure

from teachgym.agents.go_explore import (
    DownscaledCell,
    GoExplore,
    MiniGridCell,
    MontezumaCell,
    make_go_explore_env,
)
from teachgym.agents.go_explore import plots as go_explore_plots
from teachgym.agents.go_explore.cells import downscale, grey_frame, montezuma_features
from teachgym.agents.go_explore.plots import (
    montezuma_room_position,
    plot_cell_map,
    plot_progress,
    plot_rooms,
)
from teachgym.envs.snapshots import AtariSnapshotWrapper, with_snapshots
from teachgym.state_io import save_figure

MONTEZUMA = "ALE/MontezumaRevenge-v5"
NOOP, RIGHT, LEFT, DOWN = 0, 3, 4, 5  # Montezuma's full action set
# Where the inventory is drawn, and the size in pixels of each item's icon there.
INVENTORY_ROWS, INVENTORY_COLS = slice(25, 45), slice(55, 110)
KEY_ICON_PIXELS = 40


@pytest.fixture(scope="module")
def montezuma() -> gym.Env:
    pytest.importorskip("ale_py")
    return make_go_explore_env(MONTEZUMA)


@pytest.fixture(scope="module")
def explored() -> tuple[GoExplore, GoExplore]:
    """Two agents with the same seed after 2,000 steps of phase 1 on Montezuma."""
    pytest.importorskip("ale_py")
    return tuple(  # type: ignore[return-value]
        GoExplore(MONTEZUMA, cell_fn=MontezumaCell(), seed=3, log_interval=500).explore(2000)
        for _ in range(2)
    )


def ram(env: gym.Env) -> np.ndarray:
    return env.unwrapped.ale.getRAM()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Snapshots.


def test_atari_snapshot_round_trip(montezuma: gym.Env) -> None:
    env = with_snapshots(montezuma)
    assert isinstance(env, AtariSnapshotWrapper)
    env.reset(seed=0)
    for _ in range(10):
        env.step(DOWN)
    state = env.get_state()
    actions = np.random.default_rng(0).integers(env.action_space.n, size=60)  # type: ignore[attr-defined]

    def future() -> tuple[list[np.ndarray], list[float], list[np.ndarray]]:
        frames, rewards, rams = [], [], []
        for action in actions:
            obs, reward, terminated, _, _ = env.step(int(action))
            frames.append(obs)
            rewards.append(float(reward))
            rams.append(ram(env).copy())
            if terminated:
                break
        return frames, rewards, rams

    first = future()
    for _ in range(2):  # a snapshot stays reusable
        assert env.set_state(state) is None, "no valid frame until the next step"
        again = future()
        for expected, got in zip(first, again, strict=True):
            assert len(expected) == len(got)
            assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True))


# --------------------------------------------------------------------------------------------
# Montezuma cells.


def test_montezuma_cell_at_reset_and_moving(montezuma: gym.Env) -> None:
    cell = MontezumaCell()
    obs, info = montezuma.reset(seed=0)
    level, room, keys, x, y = cell(obs, montezuma)
    assert (level, room, keys) == (0, 1, 0), "level 0, the first room, no key"
    assert (x, y) == (ram(montezuma)[42] // 16, ram(montezuma)[43] // 16)
    assert info["lives"] == 6
    # RAM 42 is Panama Joe's x (left edge, in pixels) and RAM 43 his height: walking right
    # raises x, climbing down the ladder lowers y.
    start_x, start_y = int(ram(montezuma)[42]), int(ram(montezuma)[43])
    for _ in range(5):
        montezuma.step(RIGHT)
    assert int(ram(montezuma)[42]) > start_x
    montezuma.reset(seed=0)
    for _ in range(5):
        montezuma.step(DOWN)
    assert int(ram(montezuma)[42]) == start_x and int(ram(montezuma)[43]) < start_y
    assert MontezumaCell(cell_size=8)(obs, montezuma)[3:] != cell(obs, montezuma)[3:]


def test_montezuma_key_bits_are_the_keys_the_game_draws(montezuma: gym.Env) -> None:
    """Each bit of RAM 65 puts one item in the inventory row: a key is a 40-pixel icon, the
    mallet 50, swords 37, the torch 42. ``MontezumaCell`` counts exactly the key bits."""
    montezuma.reset(seed=0)
    ale = montezuma.unwrapped.ale  # type: ignore[attr-defined]
    for bit in range(8):
        ale.setRAM(65, 1 << bit)
        obs, *_ = montezuma.step(NOOP)
        icon_pixels = int(np.count_nonzero(obs[INVENTORY_ROWS, INVENTORY_COLS, 0]))
        counted = montezuma_features(ram(montezuma))[2]
        assert counted == int(icon_pixels == KEY_ICON_PIXELS), f"bit {bit}: {icon_pixels} px"
    every_item = np.zeros(128, dtype=np.uint8)
    every_item[65] = 0xFF
    assert montezuma_features(every_item)[2] == 4


def test_montezuma_cell_checks_its_argument() -> None:
    with pytest.raises(ValueError, match="cell_size"):
        MontezumaCell(cell_size=0)


# --------------------------------------------------------------------------------------------
# Downscaled cells.


def test_downscaled_cell_on_atari_frames(montezuma: gym.Env) -> None:
    montezuma.reset(seed=0)
    obs, *_ = montezuma.step(DOWN)
    key = DownscaledCell()(obs, montezuma)
    assert isinstance(key, bytes) and len(key) == 11 * 8
    assert max(key) < 8 and max(key) > 0
    # The ALE's grey screen (the fast path) is the frame's rounded luma, pixel for pixel.
    ale_grey = montezuma.unwrapped.ale.getScreenGrayscale()  # type: ignore[attr-defined]
    assert np.array_equal(ale_grey, grey_frame(obs))
    assert key == downscale(grey_frame(obs), 11, 8, 8).tobytes()
    coarse = DownscaledCell(width=5, height=4, levels=2)(obs, montezuma)
    assert len(coarse) == 20 and set(coarse) <= {0, 1}


def test_grey_frame_is_rounded_luma() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    exact = (pixels.astype(np.int64) @ np.array([299, 587, 114]) + 500) // 1000
    assert np.array_equal(grey_frame(pixels), exact)
    assert grey_frame(pixels).dtype == np.uint8


def test_downscaled_refit_aims_for_the_target() -> None:
    """Frames of a bright square at one of 40 places: the re-fit should choose a representation
    that splits them into about ``target_cells`` cells rather than the default's count."""
    rng = np.random.default_rng(0)
    cell = DownscaledCell(refit_interval=200, target_cells=10, sample_size=200)
    for _ in range(200):
        frame = np.zeros((210, 160), dtype=np.uint8)
        row, col = rng.integers(0, 8) * 26, rng.integers(0, 5) * 32
        frame[row : row + 26, col : col + 32] = 255
        cell.observe(frame, None)  # type: ignore[arg-type]
    assert cell.wants_refit() and not cell.wants_refit(), "reported once"
    assert (cell.width, cell.height, cell.levels) != (11, 8, 8)
    restored = DownscaledCell(refit_interval=200, target_cells=10, sample_size=200)
    restored.load_state_dict(json.loads(json.dumps(cell.state_dict())))
    assert (restored.width, restored.height, restored.levels) == (cell.width, cell.height,
                                                                   cell.levels)  # fmt: skip
    assert restored.state_dict() == cell.state_dict(), "schedule and sampling RNG restored too"


def test_phase1_with_refit_rekeys_the_archive() -> None:
    pytest.importorskip("ale_py")
    cell = DownscaledCell(refit_interval=10, target_cells=20, sample_size=30)
    agent = GoExplore(MONTEZUMA, cell_fn=cell, seed=0, explore_steps=20)
    agent.explore(600)
    size = cell.width * cell.height
    assert (cell.width, cell.height, cell.levels) != (11, 8, 8), "the re-fit chose another size"
    # Every key, the start cell's included, is re-made under the new representation.
    assert all(len(key) == size for key in agent.archive.keys)  # type: ignore[arg-type]
    slots = range(len(agent.archive))
    assert any(agent.archive.parent[s] >= 0 for s in slots), "parent links survive re-keying"


# --------------------------------------------------------------------------------------------
# Phase 1.


def test_phase1_is_deterministic_for_a_seed(explored: tuple[GoExplore, GoExplore]) -> None:
    first, second = explored
    assert first.stats.num_timesteps == 2000
    assert len(first.archive) > 5, "2,000 steps find a few places in the first room"
    assert first.archive.keys == second.archive.keys
    n = len(first.archive)
    assert np.array_equal(first.archive.score[:n], second.archive.score[:n])
    assert np.array_equal(first.archive.length[:n], second.archive.length[:n])
    assert all(
        np.array_equal(a, b)
        for a, b in zip(first.archive.actions, second.archive.actions, strict=True)
    )
    assert first.stats.history == second.stats.history
    assert {key[1] for key in first.archive.keys} == {1}  # type: ignore[index]


# --------------------------------------------------------------------------------------------
# Plots.


def _is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the plot functions hand to ``save_figure``, in order (still written)."""
    figures: list[Figure] = []

    def keep_and_save(figure: Figure, path: Any) -> Path:
        figures.append(figure)
        return save_figure(figure, path)

    monkeypatch.setattr(go_explore_plots, "save_figure", keep_and_save)
    return figures


@pytest.fixture(scope="module")
def grid_agent() -> GoExplore:
    agent = GoExplore("MiniGrid-Empty-5x5-v0", cell_fn=MiniGridCell(), seed=0,
                      repeat_action_prob=0.0, log_interval=50)  # fmt: skip
    return agent.explore(500)


def test_plot_progress_draws_archive_size_and_best_score_per_run(
    grid_agent: GoExplore, tmp_path: Path, saved: list[Figure]
) -> None:
    history = np.asarray(grid_agent.stats.history, dtype=np.float64)
    assert len(history) >= 5 and history[-1, 3] == grid_agent.best_score > 0
    assert _is_png(plot_progress(grid_agent.stats.history, tmp_path / "one.png"))
    cells_axis, score_axis = saved[-1].axes
    assert (cells_axis.get_title(), score_axis.get_title()) == ("Archive size", "Best score")
    assert (cells_axis.get_ylabel(), score_axis.get_ylabel()) == ("cells in archive", "best score")
    (cells,), (score,) = cells_axis.get_lines(), score_axis.get_lines()
    np.testing.assert_array_equal(cells.get_xdata(), history[:, 0])
    np.testing.assert_array_equal(cells.get_ydata(), history[:, 2])
    np.testing.assert_array_equal(score.get_ydata(), history[:, 3])
    assert score_axis.get_legend() is None  # one unlabelled run

    half = grid_agent.stats.history[: len(history) // 2]
    runs: list[tuple[str, Any]] = [("seed 0", grid_agent.stats.history), ("seed 1", half)]
    assert _is_png(plot_progress(runs, tmp_path / "two.png", steps="num_timesteps_from_reset"))
    cells_axis, score_axis = saved[-1].axes
    assert [line.get_label() for line in score_axis.get_lines()] == ["seed 0", "seed 1"]
    assert [len(line.get_xdata()) for line in cells_axis.get_lines()] == [
        len(history),
        len(history) // 2,
    ]
    np.testing.assert_array_equal(cells_axis.get_lines()[0].get_xdata(), history[:, 1])
    assert cells_axis.get_xlabel() == "env steps, counting returns from reset"
    assert score_axis.get_legend() is not None
    with pytest.raises(ValueError, match="steps"):
        plot_progress(history, tmp_path / "bad.png", steps="frames")  # type: ignore[arg-type]


def test_plot_cell_map_counts_every_archive_cell_at_its_position(
    grid_agent: GoExplore, tmp_path: Path, saved: list[Figure]
) -> None:
    state_before = grid_agent.env.unwrapped.agent_pos  # type: ignore[attr-defined]
    assert _is_png(plot_cell_map(grid_agent, tmp_path / "cells.png"))
    assert grid_agent.env.unwrapped.agent_pos == state_before, "drawn from a fresh env"  # type: ignore[attr-defined]
    axis = saved[-1].axes[0]
    _, counts = axis.get_images()  # the start layout, then the cell counts over it
    expected = np.zeros((5, 5))
    for key in grid_agent.archive.keys:
        expected[key[1], key[0]] += 1  # type: ignore[index]
    np.testing.assert_array_equal(counts.get_array().filled(0), expected)
    assert sum(int(text.get_text()) for text in axis.texts) == len(grid_agent.archive)
    assert axis.get_title() == f"MiniGrid-Empty-5x5-v0: {len(grid_agent.archive)} cells"


def test_plot_rooms_counts_the_cells_of_each_room(
    explored: tuple[GoExplore, GoExplore], tmp_path: Path, saved: list[Figure]
) -> None:
    agent = explored[0]
    assert _is_png(plot_rooms(agent, tmp_path / "rooms.png"))
    axis = saved[-1].axes[0]
    (image,) = axis.get_images()
    grid = np.asarray(image.get_array(), dtype=np.float64)
    rooms = {key[1] for key in agent.archive.keys}  # type: ignore[index]
    assert np.nansum(grid) == len(agent.archive)
    assert np.count_nonzero(~np.isnan(grid)) == len(rooms)
    for room in rooms:
        count = sum(key[1] == room for key in agent.archive.keys)  # type: ignore[index]
        assert grid[montezuma_room_position(room)] == count
    assert axis.get_title().startswith(f"Montezuma's Revenge: {len(rooms)} rooms")
    assert montezuma_room_position(1) == (0, 4), "the first room is the top of the pyramid"
    assert montezuma_room_position(15) == (3, 0)
    with pytest.raises(ValueError, match="rooms 0 to 23"):
        montezuma_room_position(24)
