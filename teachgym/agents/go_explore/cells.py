"""Cell representations for Go-Explore: which states count as "the same place".

Go-Explore (Ecoffet et al. 2019, "Go-Explore: a New Approach for Hard-Exploration Problems";
2021, "First return, then explore") keeps one archive entry per *cell*, a coarse summary of a
state. A cell function maps the observation just returned by ``step`` (and the env, for
domain-knowledge cells that read its internals) to a hashable key.

- ``DownscaledCell``: the domain-agnostic default. The grey frame is area-averaged to about
  11 × 8 pixels and quantised to 8 intensity levels (2019, section 2.1). With
  ``refit_interval`` it re-chooses width, height and levels from recent frames, as the 2021 paper
  does, so that the archive keeps a useful number of cells.
- ``MiniGridCell``: agent position, carried object, door and box states (2019's domain-knowledge
  idea applied to MiniGrid).
- ``MontezumaCell``: level, room, keys, ``x // 16``, ``y // 16`` read from the Atari RAM (2019,
  section 3.1).

Keys are tuples of ints or ``bytes`` so that a saved archive is plain data (JSON), never pickle.

A custom cell function subclasses ``CellFn`` and implements ``__call__``; ``bind(env)`` is
called after every ``reset(seed=env_seed)``, for functions that cache something about the
episode's layout (``MiniGridCell`` caches where the doors and boxes are). It is not called after
a restore: restores stay within the episode that reset began, and re-reading the restored grid
would shift the box bits once a box has been opened.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Hashable
from typing import Any

import gymnasium as gym
import numpy as np

from teachgym.checks import check_int, check_optional_int

__all__ = [
    "CellFn",
    "CellKey",
    "DownscaledCell",
    "MiniGridCell",
    "MontezumaCell",
    "grey_frame",
    "make_cell_fn",
]

#: A cell key: a tuple of ints (domain cells) or the bytes of a downscaled frame.
CellKey = Hashable


class CellFn:
    """Maps a state to its cell. Subclasses implement ``__call__``."""

    #: Name used in saved configs (``make_cell_fn(name)`` rebuilds it).
    name: str = "custom"

    def bind(self, env: gym.Env) -> None:
        """Called after each reset (not after restores), before the next ``__call__``."""

    def __call__(self, obs: Any, env: gym.Env) -> CellKey:
        """The cell of the state whose observation ``step`` (or ``reset``) just returned."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """Constructor arguments, for saving (JSON-ready)."""
        return {}

    def observe(self, obs: Any, env: gym.Env) -> None:
        """Hook for cell functions that learn from what exploration sees (``DownscaledCell``
        with ``refit_interval``). Called once per exploration with its last observation."""

    def wants_refit(self) -> bool:
        """Whether the representation changed since the archive was last keyed by it."""
        return False

    def state_dict(self) -> dict[str, Any]:
        """Learned state to save beside the archive (JSON-ready)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict``."""


# --------------------------------------------------------------------------------------------
# Domain-agnostic: downscaled grey frames.
#
# Keys must be exactly reproducible: ``GoExplore.load`` replays every cell's actions and checks
# that it lands in the same cell, possibly on another machine. So frames are integer grey levels,
# box sums are exact (integers, added in floating point only while below 2**24 or 2**53, where
# any summation order gives the same result) and quantisation is an exact floor division.

# ITU-R 601 luma weights, scaled to integers so that ``R·299 + G·587 + B·114`` is exact.
_LUMA = np.array([299.0, 587.0, 114.0], dtype=np.float32)
# The re-fit's search space (2021 paper: a random search over width, height and levels).
_REFIT_WIDTHS = range(6, 17)
_REFIT_HEIGHTS = range(6, 17)
_REFIT_LEVELS = (2, 4, 8, 16)


def grey_frame(frame: np.ndarray) -> np.ndarray:
    """A ``uint8`` grey image (H, W) from an RGB (H, W, 3) or grey (H, W) frame.

    RGB is converted with ITU-R 601 luma, rounded to the nearest integer, as most Atari
    preprocessing (and the 2019 code's OpenCV conversion) does.
    """
    if frame.ndim == 3 and frame.shape[2] == 3:
        # Exact in float32: the weighted sum is an integer below 2**24. float32(0.001) is a
        # little above 0.001, so truncating the product rounds to nearest with no error (and
        # a multiplication is many times faster than numpy's floating floor division).
        luma_1000 = frame.astype(np.float32) @ _LUMA + np.float32(500.0)
        return (luma_1000 * np.float32(0.001)).astype(np.uint8)
    if frame.ndim == 2:
        return frame if frame.dtype == np.uint8 else np.clip(frame, 0, 255).astype(np.uint8)
    raise ValueError(f"expected an (H, W) or (H, W, 3) frame; got shape {frame.shape}")


@functools.lru_cache(maxsize=256)
def _box_matrix(size: int, bins: int) -> np.ndarray:
    """``(bins, size)`` 0/1 matrix summing consecutive runs of ``size / bins`` pixels; read-only."""
    edges = np.linspace(0, size, bins + 1).astype(np.int64)
    matrix = np.zeros((bins, size), dtype=np.float32)
    for row, (start, stop) in enumerate(itertools.pairwise(edges)):
        matrix[row, start:stop] = 1.0
    matrix.flags.writeable = False
    return matrix


@functools.lru_cache(maxsize=1024)
def _level_scale(shape: tuple[int, int], height: int, width: int, levels: int) -> np.ndarray:
    """``levels / (256 · pixels)`` for each box of a ``height × width`` downscaling of a
    ``shape`` frame: a box's sum times this is its mean's level before flooring."""
    rows, cols = _box_matrix(shape[0], height), _box_matrix(shape[1], width)
    pixels = np.outer(rows.sum(axis=1), cols.sum(axis=1)).astype(np.float64)
    scale = levels / (256.0 * pixels)
    scale.flags.writeable = False
    return scale


def _quantise(sums: np.ndarray, shape: tuple[int, int], levels: int) -> np.ndarray:
    """``floor(mean · levels / 256)`` of each box, exactly, from its (integer) pixel sum.

    A product with a rounded reciprocal is off by at most ~1e-13, while a mean that is not
    exactly on a level boundary is at least ``1 / (256 · pixels)`` (~1e-7) away from it; the
    1e-9 nudge keeps exact boundaries on the right side. Numpy's floor division would give the
    same levels at a tenth of the speed, which the re-fit (hundreds of candidates) would feel.
    """
    scale = _level_scale(shape, sums.shape[-2], sums.shape[-1], levels)
    return (sums.astype(np.float64) * scale + 1e-9).astype(np.uint8)


def downscale(grey: np.ndarray, width: int, height: int, levels: int) -> np.ndarray:
    """Area-average a grey frame to ``height × width`` and quantise to ``levels`` intensities.

    Args:
        grey: An (H, W) frame with values in [0, 255] (``grey_frame``'s output).
        width: Columns of the result.
        height: Rows of the result.
        levels: Intensity levels: a box of mean ``m`` gets level ``floor(m · levels / 256)``.

    Returns:
        A ``uint8`` array of shape ``(height, width)``.
    """
    if height > grey.shape[0] or width > grey.shape[1]:
        raise ValueError(f"cannot downscale a {grey.shape} frame to {height} × {width}")
    rows = _box_matrix(grey.shape[0], height)
    cols = _box_matrix(grey.shape[1], width)
    # float32 sums of 0..255 integers are exact up to 2**24 / 255 ≈ 65,000 pixels per box.
    dtype = np.float32 if grey.size <= 65_000 else np.float64
    sums = rows.astype(dtype, copy=False) @ grey.astype(dtype) @ cols.T.astype(dtype, copy=False)
    return _quantise(sums, grey.shape[:2], levels)


class DownscaledCell(CellFn):
    """The grey frame, downscaled to ``width × height`` with ``levels`` intensity levels.

    Frames come from the observation when it is an image (Atari), otherwise from
    ``env.render()`` (make the env with ``render_mode="rgb_array"``). For an ALE env whose
    observation is its screen, the emulator's grey screen is read instead: the same rounded
    ITU-R 601 luma, computed in C++ at a fraction of numpy's cost, which phase 1 pays every step
    (phase 1 should run at 90% of the env's own speed).

    Args:
        width: Columns of the downscaled frame (2019: 11).
        height: Rows (2019: 8).
        levels: Intensity levels (2019: 8).
        refit_interval: Every this many explorations, re-choose ``width``, ``height`` and
            ``levels`` from a sample of recent frames (2021 paper, "dynamic representation");
            ``None`` keeps the fixed 2019 representation.
        target_cells: The number of distinct cells the re-fit aims for among ``sample_size``
            frames (scaled down while the sample fills up).
        sample_size: How many recent frames the re-fit keeps: each exploration's last frame
            is added, replacing a random one once the sample is full.
        seed: Seeds which sampled frame a new one replaces.
    """

    name = "downscaled"

    def __init__(
        self,
        width: int = 11,
        height: int = 8,
        levels: int = 8,
        refit_interval: int | None = None,
        target_cells: int = 50,
        sample_size: int = 1000,
        seed: int = 0,
    ) -> None:
        self.width = check_int("width", width, minimum=1)
        self.height = check_int("height", height, minimum=1)
        # Grey frames have 256 levels.
        self.levels = check_int("levels", levels, minimum=2, maximum=256)
        self.refit_interval = check_optional_int("refit_interval", refit_interval, minimum=1)
        self.target_cells = check_int("target_cells", target_cells, minimum=2)
        self.sample_size = check_int("sample_size", sample_size, minimum=2)
        self.seed = check_int("seed", seed)
        self._rng = np.random.default_rng(seed)
        self._frames: list[np.ndarray] = []
        self._observed = 0
        self._changed = False

    def frame(self, obs: Any, env: gym.Env) -> np.ndarray:
        """The ``uint8`` grey frame of the current state."""
        if isinstance(obs, np.ndarray) and obs.ndim in (2, 3) and obs.shape[0] > 16:
            ale = getattr(getattr(env, "unwrapped", None), "ale", None)
            if ale is not None and obs.ndim == 3 and obs.shape[:2] == self._ale_shape(ale):
                return np.asarray(ale.getScreenGrayscale())
            return grey_frame(obs)
        image = env.render()
        if not isinstance(image, np.ndarray):
            raise TypeError(
                "DownscaledCell needs image observations or an env made with "
                f"render_mode='rgb_array'; {env.unwrapped!r} rendered {type(image).__name__}"
            )
        return grey_frame(image)

    @staticmethod
    def _ale_shape(ale: Any) -> tuple[int, int]:
        height, width = ale.getScreenDims()
        return int(height), int(width)

    def __call__(self, obs: Any, env: gym.Env) -> CellKey:
        return self.key_of_frame(self.frame(obs, env))

    def key_of_frame(self, grey: np.ndarray) -> bytes:
        """The cell of a grey frame (``frame``'s output) under the current representation."""
        return downscale(grey, self.width, self.height, self.levels).tobytes()

    def config(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "levels": self.levels,
            "refit_interval": self.refit_interval,
            "target_cells": self.target_cells,
            "sample_size": self.sample_size,
            "seed": self.seed,
        }

    def observe(self, obs: Any, env: gym.Env) -> None:
        if self.refit_interval is None:
            return
        grey = self.frame(obs, env)
        if len(self._frames) < self.sample_size:
            self._frames.append(grey)
        else:
            self._frames[int(self._rng.integers(self.sample_size))] = grey
        self._observed += 1
        if self._observed % self.refit_interval == 0:
            self.refit()

    def refit(self) -> None:
        """Re-choose width, height and levels from the sampled frames.

        The 2021 paper (Methods) scores a representation by how evenly the sampled frames
        spread over its cells, penalised by the distance of their number ``n`` from a target
        ``T``: ``normalised entropy / sqrt(|n / T - 1| + 1)``. It searches the parameters at
        random; this space is small enough to try all of it (about a second for 1,000 frames,
        so keep ``refit_interval`` in the hundreds of explorations or more).
        """
        if len(self._frames) < 2:
            return
        frames = self._frames
        shape = (frames[0].shape[0], frames[0].shape[1])
        target = self.target_cells * len(frames) / self.sample_size
        best: tuple[float, int, tuple[int, int, int]] | None = None
        for height in _REFIT_HEIGHTS:
            rows = _box_matrix(shape[0], height)
            row_sums = np.empty((len(frames), height, shape[1]), dtype=np.float32)
            for frame, out in zip(frames, row_sums, strict=True):
                np.matmul(rows, frame.astype(np.float32), out=out)  # one cache-sized copy
            for width in _REFIT_WIDTHS:
                cols = _box_matrix(shape[1], width)
                sums = row_sums @ cols.T
                for levels in _REFIT_LEVELS:
                    cells = _quantise(sums, shape, levels).reshape(len(frames), -1)
                    score = _representation_score(cells, target)
                    candidate = (score, width * height * levels, (width, height, levels))
                    if best is None or candidate[:2] > best[:2]:  # ties: the finer one
                        best = candidate
        assert best is not None
        choice = best[2]
        if choice != (self.width, self.height, self.levels):
            self.width, self.height, self.levels = choice
            self._changed = True

    def wants_refit(self) -> bool:
        changed, self._changed = self._changed, False
        return changed

    def state_dict(self) -> dict[str, Any]:
        # The frame sample itself is not saved (it would dwarf the archive): after a load the
        # next re-fit looks at frames seen since, on the same schedule and RNG stream.
        return {
            "width": self.width,
            "height": self.height,
            "levels": self.levels,
            "observed": self._observed,
            "rng": self._rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.width, self.height, self.levels = (
            int(state["width"]),
            int(state["height"]),
            int(state["levels"]),
        )
        self._observed = int(state.get("observed", 0))
        if "rng" in state:
            self._rng.bit_generator.state = state["rng"]


def _representation_score(cells: np.ndarray, target: float) -> float:
    """The 2021 paper's objective for a representation: rows of ``cells`` are the sampled
    frames' keys; ``target`` the wanted number of distinct keys."""
    keys = np.ascontiguousarray(cells).view(np.dtype((np.void, cells.shape[1]))).ravel()
    _, counts = np.unique(keys, return_counts=True)
    if len(counts) < 2:
        return 0.0
    share = counts / counts.sum()
    normalised_entropy = float(-(share * np.log(share)).sum() / np.log(len(counts)))
    return normalised_entropy / float(np.sqrt(abs(len(counts) / target - 1.0) + 1.0))


# --------------------------------------------------------------------------------------------
# Domain knowledge: MiniGrid.


class MiniGridCell(CellFn):
    """Agent position, carried object, door states and which boxes are still closed.

    The key is ``(x, y, carried type, carried colour, door bits, box bits)``: one pair of bits
    per door (open, locked) and one bit per box present, in a fixed order of grid positions.
    The agent's direction is left out, as the 2019 paper leaves out Panama Joe's facing.
    """

    name = "minigrid"

    def __init__(self) -> None:
        self._doors: list[tuple[int, int]] = []
        self._boxes: list[tuple[int, int]] = []

    def bind(self, env: gym.Env) -> None:
        grid = env.unwrapped.grid  # type: ignore[attr-defined]
        doors, boxes = [], []
        for index, obj in enumerate(grid.grid):
            if obj is None:
                continue
            position = (index % grid.width, index // grid.width)
            if obj.type == "door":
                doors.append(position)
            elif obj.type == "box":
                boxes.append(position)
        self._doors, self._boxes = doors, boxes

    def __call__(self, obs: Any, env: gym.Env) -> CellKey:
        base = env.unwrapped
        grid = base.grid  # type: ignore[attr-defined]
        door_bits = 0
        for x, y in self._doors:
            door = grid.get(x, y)
            door_bits = (door_bits << 2) | (int(door.is_open) << 1) | int(door.is_locked)
        box_bits = 0
        for x, y in self._boxes:
            box = grid.get(x, y)
            box_bits = (box_bits << 1) | int(box is not None and box.type == "box")
        carrying = base.carrying  # type: ignore[attr-defined]
        x, y = base.agent_pos  # type: ignore[attr-defined]
        if carrying is None:
            return (int(x), int(y), -1, -1, door_bits, box_bits)
        return (int(x), int(y), _OBJECT_INDEX[carrying.type], _COLOR_INDEX[carrying.color],
                door_bits, box_bits)  # fmt: skip


try:
    from minigrid.core.constants import COLOR_TO_IDX as _COLOR_INDEX
    from minigrid.core.constants import OBJECT_TO_IDX as _OBJECT_INDEX
except ImportError:  # pragma: no cover - grid extra missing
    _COLOR_INDEX, _OBJECT_INDEX = {}, {}


# --------------------------------------------------------------------------------------------
# Domain knowledge: Montezuma's Revenge.

# RAM addresses of Montezuma's Revenge (Atari 2600), as used by the 2019 paper's domain cells.
# Checked on ale-py 0.12 (tests/agents/test_go_explore_atari.py): RAM 42 is Panama Joe's left
# edge in screen pixels, RAM 43 his height (the sprite's top row is 310 - RAM 43), RAM 3 the room
# (1 at the start), RAM 57 the level (0 at the start).
_RAM_ROOM, _RAM_X, _RAM_Y, _RAM_LEVEL, _RAM_INVENTORY = 3, 42, 43, 57, 65
# RAM 65 holds one bit per inventory item: 0x01 a mallet-shaped item (the 2019 code's name),
# 0x02 / 0x04 / 0x08 / 0x10 up to four keys, 0x20 / 0x40 two swords, 0x80 the torch.
# Setting each bit alone draws that item's icon (a key is a 40-pixel icon), and in phase 1 the
# first key sets 0x02 (+100 points), opening a door clears it (+300), the sword sets 0x20.
_KEY_BITS = (0x02, 0x04, 0x08, 0x10)


class MontezumaCell(CellFn):
    """``(level, room, keys, x // 16, y // 16)`` from the RAM of Montezuma's Revenge.

    Args:
        cell_size: Pixel size of a position bin (2019: 16).
    """

    name = "montezuma"

    def __init__(self, cell_size: int = 16) -> None:
        self.cell_size = check_int("cell_size", cell_size, minimum=1)

    def __call__(self, obs: Any, env: gym.Env) -> CellKey:
        ram = env.unwrapped.ale.getRAM()  # type: ignore[attr-defined]
        return montezuma_features(ram, self.cell_size)

    def config(self) -> dict[str, Any]:
        return {"cell_size": self.cell_size}


def montezuma_features(ram: np.ndarray, cell_size: int = 16) -> tuple[int, int, int, int, int]:
    """``(level, room, keys, x // cell_size, y // cell_size)`` from a Montezuma RAM dump."""
    inventory = int(ram[_RAM_INVENTORY])
    keys = sum(1 for bit in _KEY_BITS if inventory & bit)
    return (
        int(ram[_RAM_LEVEL]),
        int(ram[_RAM_ROOM]),
        keys,
        int(ram[_RAM_X]) // cell_size,
        int(ram[_RAM_Y]) // cell_size,
    )


_CELL_FNS: dict[str, type[CellFn]] = {
    "downscaled": DownscaledCell,
    "minigrid": MiniGridCell,
    "montezuma": MontezumaCell,
}


def make_cell_fn(name: str, **kwargs: Any) -> CellFn:
    """Build a cell function by name (``downscaled``, ``minigrid``, ``montezuma``)."""
    if name not in _CELL_FNS:
        raise ValueError(f"unknown cell function {name!r}; expected one of {sorted(_CELL_FNS)}")
    return _CELL_FNS[name](**kwargs)
