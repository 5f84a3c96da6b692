"""The Go-Explore cell archive: one entry per cell, and how cells are chosen.

Each entry keeps the best score reached in the cell, the length of the trajectory that reached it,
the action sequence from reset (so the cell can be rebuilt by replaying, and serves as a
demonstration in phase 2), an in-memory snapshot to return to it, and three counters: times seen,
times chosen, times chosen since it last led to progress.

Counters live in numpy arrays so that the selection weights of tens of thousands of cells cost a
few vector operations per exploration: bookkeeping must not slow phase 1, whose speed is the
point of returning by restore (Ecoffet et al. 2021, "First return, then explore").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from teachgym.agents.go_explore.cells import CellKey
from teachgym.checks import check_choice

__all__ = ["Archive", "CellView", "key_from_json", "key_to_json"]

Selection = Literal["2021", "2019"]

# The 2019 paper's count subscores (section 2.1, appendix): weight and epsilons per counter.
_WEIGHT_CHOSEN, _WEIGHT_CHOSEN_SINCE_NEW, _WEIGHT_SEEN = 0.1, 0.0, 0.3
_EPSILON_1, _EPSILON_2 = 0.001, 0.00001


def key_to_json(key: CellKey) -> Any:
    """A JSON-ready form of a cell key (tuples of ints, or bytes as hex)."""
    if isinstance(key, bytes):
        return {"hex": key.hex()}
    if isinstance(key, tuple) and all(isinstance(v, (int, np.integer)) for v in key):
        return [int(v) for v in key]
    raise TypeError(f"cell keys must be tuples of ints or bytes to be saved; got {key!r}")


def key_from_json(value: Any) -> CellKey:
    """Inverse of ``key_to_json``."""
    if isinstance(value, dict) and "hex" in value:
        return bytes.fromhex(value["hex"])
    if isinstance(value, list):
        return tuple(int(v) for v in value)
    raise ValueError(f"not a saved cell key: {value!r}")


@dataclass(frozen=True)
class CellView:
    """A read-only view of one archive entry."""

    key: CellKey
    score: float
    length: int
    actions: np.ndarray
    seen: int
    chosen: int
    chosen_since_new: int
    terminal: bool


class Archive:
    """Cells, their best trajectories and counters.

    Args:
        selection: ``"2021"`` weighs a cell by ``1 / sqrt(seen + 1)`` (2021 paper);
            ``"2019"`` uses the 2019 paper's count subscores over times chosen, times chosen since
            new and times seen, plus one.
    """

    def __init__(self, selection: Selection = "2021") -> None:
        check_choice("selection", selection, ("2021", "2019"))
        self.selection: Selection = selection
        self.index: dict[CellKey, int] = {}
        self.keys: list[CellKey] = []
        self.actions: list[np.ndarray] = []
        self.snapshots: list[Any] = []
        # Extra per-cell data a cell function may need to re-key the archive (grey frames).
        self.frames: list[Any] = []
        self._capacity = 1024
        self.score = np.zeros(self._capacity)
        self.length = np.zeros(self._capacity, dtype=np.int64)
        self.seen = np.zeros(self._capacity, dtype=np.int64)
        self.chosen = np.zeros(self._capacity, dtype=np.int64)
        self.chosen_since_new = np.zeros(self._capacity, dtype=np.int64)
        self.terminal = np.zeros(self._capacity, dtype=bool)
        # Which cell's trajectory this one extended when it was last set (for fast rebuilds).
        self.parent = np.full(self._capacity, -1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: CellKey) -> bool:
        return key in self.index

    def _grow(self) -> None:
        self._capacity *= 2
        for name in ("score", "length", "seen", "chosen", "chosen_since_new", "terminal"):
            old = getattr(self, name)
            new = np.zeros(self._capacity, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)
        parent = np.full(self._capacity, -1, dtype=np.int64)
        parent[: len(self.parent)] = self.parent
        self.parent = parent

    def offer(
        self,
        key: CellKey,
        score: float,
        length: int,
        actions: np.ndarray,
        snapshot: Any,
        *,
        terminal: bool = False,
        parent: int = -1,
        frame: Any = None,
    ) -> bool:
        """Add the cell, or replace its entry if this trajectory is better: a higher score, or an
        equal score with a shorter trajectory. Returns whether the archive changed.

        ``actions`` and ``snapshot`` are stored as given (the caller passes fresh objects).
        """
        slot = self.index.get(key)
        if slot is None:
            slot = len(self.keys)
            if slot == self._capacity:
                self._grow()
            self.index[key] = slot
            self.keys.append(key)
            self.actions.append(actions)
            self.snapshots.append(snapshot)
            self.frames.append(frame)
        elif score > self.score[slot] or (score == self.score[slot] and length < self.length[slot]):
            self.actions[slot] = actions
            self.snapshots[slot] = snapshot
            self.frames[slot] = frame
            # A better way in makes the cell worth revisiting (2019: reset on improvement).
            self.chosen_since_new[slot] = 0
        else:
            return False
        self.score[slot] = score
        self.length[slot] = length
        self.terminal[slot] = terminal
        self.parent[slot] = parent
        return True

    def would_improve(self, key: CellKey, score: float, length: int) -> bool:
        """Whether ``offer`` with these values would change the archive (no side effects)."""
        slot = self.index.get(key)
        if slot is None:
            return True
        return bool(
            score > self.score[slot] or (score == self.score[slot] and length < self.length[slot])
        )

    def weights(self) -> np.ndarray:
        """Unnormalised selection weights; terminal cells (episode over) get zero."""
        n = len(self.keys)
        if self.selection == "2021":
            weights = 1.0 / np.sqrt(self.seen[:n] + 1.0)
        else:
            weights = 1.0 + sum(
                weight * (1.0 / np.sqrt(counts[:n] + _EPSILON_1)) + _EPSILON_2
                for weight, counts in (
                    (_WEIGHT_CHOSEN, self.chosen),
                    (_WEIGHT_CHOSEN_SINCE_NEW, self.chosen_since_new),
                    (_WEIGHT_SEEN, self.seen),
                )
            )
        return np.where(self.terminal[:n], 0.0, weights)

    def choose(self, rng: np.random.Generator) -> int:
        """Draw a cell index in proportion to its weight."""
        weights = self.weights()
        total = weights.sum()
        if total <= 0:
            raise RuntimeError("every cell in the archive is terminal: nothing left to explore")
        return int(np.searchsorted(np.cumsum(weights), rng.random() * total, side="right"))

    def best(self) -> int:
        """The cell with the highest score (ties: the shortest trajectory, then the oldest)."""
        n = len(self.keys)
        if n == 0:
            raise RuntimeError("the archive is empty")
        order = np.lexsort((np.arange(n), self.length[:n], -self.score[:n]))
        return int(order[0])

    def top(self, count: int) -> list[int]:
        """The ``count`` best cells by score (then shorter trajectory)."""
        n = len(self.keys)
        order = np.lexsort((np.arange(n), self.length[:n], -self.score[:n]))
        return [int(i) for i in order[:count]]

    def view(self, slot: int) -> CellView:
        return CellView(
            key=self.keys[slot],
            score=float(self.score[slot]),
            length=int(self.length[slot]),
            actions=self.actions[slot],
            seen=int(self.seen[slot]),
            chosen=int(self.chosen[slot]),
            chosen_since_new=int(self.chosen_since_new[slot]),
            terminal=bool(self.terminal[slot]),
        )

    # ----------------------------------------------------------------------------------------
    # Plain-data form (no snapshots, no pickle).

    def to_arrays(self) -> tuple[dict[str, np.ndarray], str]:
        """Numeric arrays (``.npz``-ready) and the keys as JSON text."""
        n = len(self.keys)
        lengths = np.array([len(a) for a in self.actions], dtype=np.int64)
        flat = np.concatenate(self.actions).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
        arrays = {
            "score": self.score[:n].copy(),
            "length": self.length[:n].copy(),
            "seen": self.seen[:n].copy(),
            "chosen": self.chosen[:n].copy(),
            "chosen_since_new": self.chosen_since_new[:n].copy(),
            "terminal": self.terminal[:n].copy(),
            "parent": self.parent[:n].copy(),
            "action_counts": lengths,
            "actions": flat,
        }
        return arrays, json.dumps([key_to_json(k) for k in self.keys])

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], keys_json: str, selection: Selection = "2021"
    ) -> Archive:
        """Rebuild an archive (without snapshots) from ``to_arrays``."""
        archive = cls(selection)
        keys = [key_from_json(k) for k in json.loads(keys_json)]
        ends = np.cumsum(arrays["action_counts"])
        starts = ends - arrays["action_counts"]
        for i, key in enumerate(keys):
            archive.offer(
                key,
                float(arrays["score"][i]),
                int(arrays["length"][i]),
                arrays["actions"][starts[i] : ends[i]].copy(),
                None,
                terminal=bool(arrays["terminal"][i]),
                parent=int(arrays["parent"][i]),
            )
        n = len(keys)
        if len(archive) != n:
            raise ValueError(f"saved archive repeats cell keys ({n} entries, {len(archive)} keys)")
        for name in ("seen", "chosen", "chosen_since_new"):
            getattr(archive, name)[:n] = arrays[name]
        return archive
