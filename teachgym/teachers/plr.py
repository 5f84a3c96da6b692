"""Prioritized Level Replay and ACCEL: teachers that keep a buffer of levels and replay the
ones the student still learns most from.

A *level* is a parameter vector and a level seed, which together fix an episode's layout
(``docs/design.md``, "Levels"). The teacher's buffer holds up to ``buffer_size`` levels, each
with a score and the tick at which it was last sampled:

- **Sampling** (Jiang, Grefenstette & Rocktäschel 2021, "Prioritized Level Replay", §3). Each
  episode either replays a level from the buffer (with probability ``replay_prob``, once the
  buffer holds ``replay_after`` levels) or plays a new one: uniform params (the domain
  randomisation the env would do) with a fresh level seed from the teacher's generator. A
  replayed level is drawn from ``(1 - staleness_coef) P_S + staleness_coef P_C``: ``P_S`` ranks
  the levels by score, ``h(S_i) = 1 / rank(S_i)``, ``P_S ∝ h^(1/temperature)``; ``P_C`` favours
  levels not sampled for long, ``P_C ∝ c - C_i`` (``c`` the levels sampled so far, ``C_i``
  that count when the level was last sampled or entered the buffer).
- **Scores**. The score of a level is the *positive value loss* of its last episode: the mean
  over the episode's steps of ``max(A_t, 0)``, ``A_t`` the learner's GAE advantage (the paper's
  best score for PPO), or the L1 value loss ``mean |A_t|`` (``score_function``). These are
  per-episode statistics the trainer computes (``episode_statistics``); the episode's return is
  not used. A replayed level's score is replaced by its new episode's.
- **Buffer** (Jiang et al. 2021b, "Replay-Guided Adversarial Environment Design", for levels
  drawn from an unbounded generator): a new level enters while the buffer has room; once full,
  it replaces the lowest-scoring level if it scores higher, else it is dropped.
- **ACCEL** (Parker-Holder et al. 2022, "Evolving Curricula with Regret-Based Environment
  Design"): each replayed level is queued for editing, and the next new-level draws are *edits*
  of queued levels instead of fresh ones, while any are queued: here an edit perturbs the
  parent's params by Gaussian noise of ``mutation_scale`` × each parameter's range (clipped to
  the bounds) and keeps its level seed, so the layout changes as the params do. ACCEL's edits of
  a layout's tiles have no counterpart in a parameter vector; perturbing the params is the
  issue's "small perturbations of the params".

Not here: Robust PLR's rule that the *policy* is updated on replayed levels only (PLR⊥) is a
rule for the learner, not the teacher; teachgym's trainers update on every episode.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.checks import check_choice, check_int, check_probability, check_real
from teachgym.spaces import ParamSpace
from teachgym.teachers.base import EPISODE_STATISTICS, MAX_LEVEL_SEED, Teacher

__all__ = ["ACCEL", "PrioritizedLevelReplay"]


class PrioritizedLevelReplay(Teacher):
    """Replays the buffered levels with the highest value loss (see the module docstring).

    Args:
        param_space: The parameter space.
        seed: Seed of ``self.rng`` (new levels, level seeds, replay draws).
        buffer_size: Levels kept (Jiang et al. 2021b: 4000).
        replay_prob: Probability that an episode replays a level once ``replay_after`` levels
            are buffered (Jiang et al. 2021b: 0.5).
        replay_after: Buffered levels needed before any replay (at least 1); ``None``: a full
            buffer.
        temperature: ``β`` of the rank prioritisation (Jiang et al. 2021a: 0.1).
        staleness_coef: ``ρ``, the weight of staleness in the replay distribution (Jiang et al.
            2021a: 0.1).
        score_function: ``"positive_value_loss"`` (Jiang et al. 2021a's choice for PPO) or
            ``"l1_value_loss"``.
        mutation_scale: ACCEL's edits, as a fraction of each parameter's range; 0 (PLR) makes no
            edits.
        edit_queue: Most replayed levels waiting to be edited (the oldest drop out).
    """

    def __init__(
        self,
        param_space: ParamSpace | spaces.Box,
        *,
        seed: int | None = None,
        buffer_size: int = 4000,
        replay_prob: float = 0.5,
        replay_after: int | None = None,
        temperature: float = 0.1,
        staleness_coef: float = 0.1,
        score_function: str = "positive_value_loss",
        mutation_scale: float = 0.0,
        edit_queue: int = 256,
    ) -> None:
        super().__init__(param_space, seed=seed)
        self.buffer_size = check_int("buffer_size", buffer_size, minimum=1)
        self.replay_prob = check_probability("replay_prob", replay_prob)
        self.replay_after = (
            None
            if replay_after is None
            else check_int("replay_after", replay_after, minimum=1, maximum=self.buffer_size)
        )
        self.temperature = check_real("temperature", temperature, low=0.0, low_open=True)
        self.staleness_coef = check_probability("staleness_coef", staleness_coef)
        self.score_function = check_choice("score_function", score_function, EPISODE_STATISTICS)
        self.mutation_scale = check_real("mutation_scale", mutation_scale, low=0.0)
        self.edit_queue = check_int("edit_queue", edit_queue, minimum=1)
        self.episode_statistics = (self.score_function,)
        dim = self.param_space.dim
        self._params = np.zeros((self.buffer_size, dim))
        self._seeds = np.zeros(self.buffer_size, dtype=np.int64)
        self._scores = np.zeros(self.buffer_size)
        self._last_sampled = np.zeros(self.buffer_size, dtype=np.int64)
        self._size = 0
        self._tick = 0
        self._slots: dict[tuple[int, bytes], int] = {}
        self._queue_params = np.zeros((0, dim))
        self._queue_seeds = np.zeros(0, dtype=np.int64)
        self._counts = {"replays": 0, "new": 0, "edits": 0, "inserted": 0, "dropped": 0}

    # ------------------------------------------------------------------ sampling
    def _sample(self) -> np.ndarray:
        return self._sample_levels(1)[0][0]

    def _sample_batch(self, n: int) -> np.ndarray:
        return self._sample_levels(n)[0]

    def _sample_levels(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.empty((n, self.param_space.dim))
        seeds = np.empty(n, dtype=np.int64)
        rank_weights = self._rank_weights() if self._replay_ready() else None
        for i in range(n):
            if rank_weights is not None and self.rng.random() < self.replay_prob:
                slot = self._draw_replay(rank_weights)
                self._last_sampled[slot] = self._tick + 1  # its staleness is 0 after this draw
                rows[i], seeds[i] = self._params[slot], self._seeds[slot]
                self._counts["replays"] += 1
                if self.mutation_scale > 0:
                    self._enqueue(rows[i], seeds[i])
            elif len(self._queue_seeds):
                rows[i], seeds[i] = self._edit()
                self._counts["edits"] += 1
            else:
                rows[i] = self.param_space.sample(self.rng)
                seeds[i] = self.rng.integers(0, MAX_LEVEL_SEED, endpoint=True)
                self._counts["new"] += 1
            self._tick += 1
        return rows, seeds

    def _replay_ready(self) -> bool:
        needed = self.buffer_size if self.replay_after is None else self.replay_after
        return self._size >= needed and self.replay_prob > 0

    def _rank_weights(self) -> np.ndarray:
        """``P_S`` over the buffered levels (fixed while no score changes)."""
        scores = self._scores[: self._size]
        order = np.argsort(-scores, kind="stable")
        ranks = np.empty(self._size)
        ranks[order] = np.arange(1, self._size + 1)
        # h^(1/β) with h = 1/rank, in logs: a small β would overflow otherwise.
        logits = -np.log(ranks) / self.temperature
        weights = np.exp(logits - logits.max())
        return weights / weights.sum()

    def _draw_replay(self, rank_weights: np.ndarray) -> int:
        staleness = (self._tick - self._last_sampled[: self._size]).astype(np.float64)
        total = staleness.sum()
        stale = staleness / total if total > 0 else np.full(self._size, 1.0 / self._size)
        p = (1.0 - self.staleness_coef) * rank_weights + self.staleness_coef * stale
        return int(self.rng.choice(self._size, p=p / p.sum()))

    def _enqueue(self, params: np.ndarray, seed: int) -> None:
        self._queue_params = np.vstack([self._queue_params, params])[-self.edit_queue :]
        self._queue_seeds = np.append(self._queue_seeds, seed)[-self.edit_queue :]

    def _edit(self) -> tuple[np.ndarray, int]:
        """An edit of the oldest queued level: its params plus Gaussian noise, its seed."""
        parent, seed = self._queue_params[0], int(self._queue_seeds[0])
        self._queue_params, self._queue_seeds = self._queue_params[1:], self._queue_seeds[1:]
        space = self.param_space
        noise = self.rng.normal(0.0, self.mutation_scale, space.dim) * (space.high - space.low)
        return space.clip(parent + noise), seed

    # ------------------------------------------------------------------ updates
    def _update(self, params: np.ndarray, score: float) -> None:
        # Never called: ``Teacher.update`` routes every update to ``_update_levels``.
        raise NotImplementedError("PrioritizedLevelReplay learns in _update_levels")

    def _update_levels(
        self,
        params: np.ndarray,
        scores: np.ndarray,
        level_seeds: np.ndarray,
        stats: dict[str, np.ndarray],
    ) -> None:
        values = stats[self.score_function]
        for vector, seed, value in zip(params, level_seeds.tolist(), values.tolist(), strict=True):
            key = (seed, vector.tobytes())
            slot = self._slots.get(key)
            if slot is not None:
                self._scores[slot] = value
                continue
            if self._size < self.buffer_size:
                slot = self._size
                self._size += 1
            else:
                slot = int(np.argmin(self._scores))
                if value <= self._scores[slot]:
                    self._counts["dropped"] += 1
                    continue
                old = (int(self._seeds[slot]), self._params[slot].tobytes())
                del self._slots[old]
            self._params[slot], self._seeds[slot], self._scores[slot] = vector, seed, value
            self._last_sampled[slot] = self._tick
            self._slots[key] = slot
            self._counts["inserted"] += 1

    # ------------------------------------------------------------------ state
    def _state_dict(self) -> dict[str, Any]:
        size = self._size
        return {
            "params": self._params[:size].copy(),
            "seeds": self._seeds[:size].copy(),
            "scores": self._scores[:size].copy(),
            "last_sampled": self._last_sampled[:size].copy(),
            "tick": self._tick,
            "queue_params": self._queue_params.copy(),
            "queue_seeds": self._queue_seeds.copy(),
            "counts": dict(self._counts),
        }

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        dim = self.param_space.dim
        params = np.asarray(state["params"], dtype=np.float64).reshape(-1, dim)
        size = len(params)
        seeds = np.asarray(state["seeds"], dtype=np.int64)
        scores = np.asarray(state["scores"], dtype=np.float64)
        last = np.asarray(state["last_sampled"], dtype=np.int64)
        queue_params = np.asarray(state["queue_params"], dtype=np.float64).reshape(-1, dim)
        queue_seeds = np.asarray(state["queue_seeds"], dtype=np.int64)
        if size > self.buffer_size or not (len(seeds) == len(scores) == len(last) == size):
            raise ValueError(
                f"PLR state holds {size} levels with {len(seeds)} seeds, {len(scores)} scores "
                f"and {len(last)} ticks; expected equal counts of at most {self.buffer_size}"
            )
        if len(queue_seeds) != len(queue_params):
            raise ValueError("PLR state's edit queue has unequal params and seeds")
        self._params[:size], self._seeds[:size] = params, seeds
        self._scores[:size], self._last_sampled[:size] = scores, last
        self._size = size
        self._tick = int(state["tick"])
        self._queue_params, self._queue_seeds = queue_params, queue_seeds
        self._counts = {key: int(value) for key, value in dict(state["counts"]).items()}
        self._slots = {
            (int(self._seeds[i]), self._params[i].tobytes()): i for i in range(self._size)
        }

    def _metrics(self) -> dict[str, float]:
        buffered = self._scores[: self._size]
        return {
            "buffer_levels": float(self._size),
            "buffer_mean_score": float(buffered.mean()) if self._size else float("nan"),
            **{key: float(value) for key, value in self._counts.items()},
        }

    @property
    def buffer(self) -> dict[str, np.ndarray]:
        """The buffered levels: ``params``, ``seeds``, ``scores``, ``last_sampled`` (copies)."""
        size = self._size
        return {
            "params": self._params[:size].copy(),
            "seeds": self._seeds[:size].copy(),
            "scores": self._scores[:size].copy(),
            "last_sampled": self._last_sampled[:size].copy(),
        }


class ACCEL(PrioritizedLevelReplay):
    """PLR whose new levels are edits of replayed ones (Parker-Holder et al. 2022); see the
    module docstring. Same arguments as ``PrioritizedLevelReplay``, with edits on by default
    (``mutation_scale`` 0.05 of each range) and ``replay_prob`` 0.8 (ACCEL's replay rate)."""

    def __init__(
        self,
        param_space: ParamSpace | spaces.Box,
        *,
        seed: int | None = None,
        mutation_scale: float = 0.05,
        replay_prob: float = 0.8,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            param_space,
            seed=seed,
            mutation_scale=mutation_scale,
            replay_prob=replay_prob,
            **kwargs,
        )
