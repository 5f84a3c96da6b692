"""``BatchedCurriculum``: a teacher choosing the episodes of a batched env, on the env's device.

The on-device counterpart of ``CurriculumVectorEnv`` (``docs/design.md``, "Curriculum
plumbing") for the batched grid envs (``teachgym.envs.batched``), built for a learner that keeps
its whole loop on one device (``teachgym.agents.ppo``):

- **Params in batches.** The teacher is asked for params with ``sample_batch`` into a *pool* on
  the device, topped up once per rollout (``end_rollout``) to a little more than the last
  rollout's episode count; when an env's episode ends, the env's pending slot is refilled from the
  pool in order (``on_step``), so every env always has its next episode's params waiting. Only a
  pool running dry mid-rollout asks the teacher again (counted in ``metrics()["pool_refills"]``).
  Params therefore come from the teacher as it was at the start of the rollout in which they were
  drawn — one rollout of staleness at most, plus the time an env's running episode takes to end.
- **Returns in batches.** Each finished episode's params, return and length (the env reports them
  in ``info["final_params"]`` / ``final_return`` / ``final_length``) are gathered on the device,
  step by step, and handed to ``teacher.update_batch`` once per rollout (``end_rollout``), in the
  order the episodes ended (by step, then by env index), with the score
  ``teachgym.envs.base.normalize_return`` gives.
- **Exact pairing, checked.** The curriculum keeps its own books of the params it sent each env
  (``current``: the running episode's; ``pending``: the next one's) and compares them, on the
  device, with what the env reports when an episode ends and the next begins. Any difference
  (an env reset behind the curriculum's back) raises ``CurriculumMismatchError`` at the end of
  the rollout, before the teacher is updated.

The host sees the device only where the env already synchronises (the count of finished
episodes of a step) and once per rollout (the batch for the teacher).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from teachgym.checks import check_int
from teachgym.envs.base import normalize_return
from teachgym.teachers.base import Teacher
from teachgym.teachers.curriculum import CurriculumMismatchError, check_param_spaces

__all__ = ["BatchedCurriculum", "FinishedEpisodes"]


@dataclass
class FinishedEpisodes:
    """The episodes that ended during one rollout, in the order they ended (host arrays).

    Attributes:
        params: ``(m, dim)`` float64.
        returns: ``(m,)`` float64, raw undiscounted returns.
        scores: ``(m,)`` float64, the normalised returns the teacher was updated with.
        lengths: ``(m,)`` int64.
        steps: ``(m,)`` int64, the learner's step counter when each ended.
    """

    params: np.ndarray
    returns: np.ndarray
    scores: np.ndarray
    lengths: np.ndarray
    steps: np.ndarray

    def __len__(self) -> int:
        return len(self.returns)


class BatchedCurriculum:
    """A teacher configuring every episode of a batched env (see the module docstring).

    Args:
        env: A batched env (``teachgym.envs.batched.BatchedGridEnv``: ``param_space``,
            ``return_range``, ``set_next_params``, same-step autoreset with ``final_params``).
        teacher: Its ``param_space`` must be the env's.
        min_pool: Smallest number of params kept ready in the pool at a rollout's start;
            ``None``: ``num_envs // 4`` (at least 1).

    Raises:
        ValueError: the teacher's space differs from the env's, or a bad ``min_pool``.
    """

    def __init__(self, env: Any, teacher: Teacher, *, min_pool: int | None = None) -> None:
        check_param_spaces(teacher, [env.param_space])
        self.env = env
        self.teacher = teacher
        self.device = env.device
        self.num_envs = int(env.num_envs)
        self.min_pool = check_int(
            "min_pool", max(1, self.num_envs // 4) if min_pool is None else min_pool, minimum=1
        )
        low, high = (float(bound) for bound in env.return_range)
        normalize_return(low, (low, high))  # a bad range fails now
        self.return_range = (low, high)
        dim = teacher.param_space.dim
        self.dim = dim
        self._pool = torch.zeros(0, dim, dtype=torch.float64, device=self.device)
        self._cursor = 0
        self.current = torch.zeros(self.num_envs, dim, dtype=torch.float64, device=self.device)
        self.pending = torch.zeros_like(self.current)
        self._mismatch = torch.zeros((), dtype=torch.bool, device=self.device)
        self._finished: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, int, int]] = []
        self.episodes = 0
        self.pool_refills = 0
        self._last_batch = 0
        self._recent_scores = np.zeros(0)
        self._recent_returns = np.zeros(0)
        self._started = False

    # ------------------------------------------------------------------ the loop
    def reset(self, *, seed: int | None = None) -> dict[str, torch.Tensor]:
        """Start an episode in every env with the teacher's params and fill every pending
        slot; returns the first observations. Episodes running before are dropped unreported."""
        self._finished.clear()
        self._top_up(2 * self.num_envs)
        first = self._take(self.num_envs)
        obs, _ = self.env.reset(seed=seed, options={"params": first})
        self.current.copy_(first)
        self._refill(torch.arange(self.num_envs, device=self.device))
        self._started = True
        return obs

    def on_step(self, info: dict[str, Any], done: torch.Tensor, step: int) -> None:
        """Books for one env step: record the episodes that ended and refill their envs'
        pending slots. ``step`` is the learner's step counter after this step."""
        if not self._started:
            raise RuntimeError("call BatchedCurriculum.reset() before stepping the env")
        if "final_params" not in info:
            return
        index = done.nonzero().squeeze(1)
        count = len(index)
        if count == 0:
            return
        final_params = info["final_params"].index_select(0, index)
        expected = self.current.index_select(0, index)
        started = info["params"].index_select(0, index)
        sent = self.pending.index_select(0, index)
        self._mismatch |= (final_params != expected).any() | (started != sent).any()
        self._finished.append(
            (
                final_params,
                info["final_return"].index_select(0, index),
                info["final_length"].index_select(0, index),
                step,
                count,
            )
        )
        self.current.index_copy_(0, index, sent)
        self._refill(index)

    def end_rollout(self) -> FinishedEpisodes:
        """Check the pairing, update the teacher with the rollout's finished episodes (one
        ``update_batch``), top up the pool, and return the episodes.

        Raises:
            CurriculumMismatchError: an env started or finished an episode with params other
                than those the curriculum sent it (the teacher is not updated then).
        """
        if bool(self._mismatch):
            raise CurriculumMismatchError(
                "a batched env reported episode params that differ from those the curriculum "
                "sent it: it was reset (or its pending slot overwritten) behind the "
                "curriculum's back, so returns cannot be paired with params"
            )
        finished = self._gather()
        self._finished.clear()
        if len(finished):
            self.teacher.update_batch(finished.params, finished.scores)
            self.episodes += len(finished)
            self._recent_scores = finished.scores
            self._recent_returns = finished.returns
        self._last_batch = len(finished)
        self._top_up(max(self.min_pool, math.ceil(1.25 * len(finished))))
        return finished

    def metrics(self) -> dict[str, float]:
        """``teacher.metrics()`` plus ``episodes``, the last rollout's mean ``score`` and raw
        ``return`` (NaN when none ended), and ``pool_refills``."""
        numbers = dict(self.teacher.metrics())
        numbers["episodes"] = float(self.episodes)
        scores, returns = self._recent_scores, self._recent_returns
        numbers["mean_score"] = float(scores.mean()) if len(scores) else float("nan")
        numbers["mean_return"] = float(returns.mean()) if len(returns) else float("nan")
        numbers["pool_refills"] = float(self.pool_refills)
        return numbers

    def close(self) -> None:
        """Nothing to release (the env lives in this process); for the trainer's symmetry."""

    # ------------------------------------------------------------------ internals
    def _gather(self) -> FinishedEpisodes:
        if not self._finished:
            empty, none = np.zeros(0), np.zeros(0, dtype=np.int64)
            return FinishedEpisodes(np.zeros((0, self.dim)), empty, empty, none, none)
        params = torch.cat([entry[0] for entry in self._finished]).cpu().numpy()
        returns = torch.cat([entry[1] for entry in self._finished]).cpu().numpy()
        lengths = torch.cat([entry[2] for entry in self._finished]).cpu().numpy()
        steps = np.repeat(
            [entry[3] for entry in self._finished], [entry[4] for entry in self._finished]
        )
        low, high = self.return_range
        scores = np.clip((returns - low) / (high - low), 0.0, 1.0)
        return FinishedEpisodes(
            params.astype(np.float64),
            returns.astype(np.float64),
            scores,
            lengths.astype(np.int64),
            steps.astype(np.int64),
        )

    def _refill(self, index: torch.Tensor) -> None:
        """Give envs ``index`` their next episode's params from the pool."""
        rows = self._take(len(index))
        self.pending.index_copy_(0, index, rows)
        self.env.set_next_params(index, rows, check=False)

    def _take(self, count: int) -> torch.Tensor:
        if self._cursor + count > len(self._pool):
            self.pool_refills += 1
            self._top_up(max(count, self.min_pool))
        rows = self._pool[self._cursor : self._cursor + count]
        self._cursor += count
        return rows

    def _top_up(self, size: int) -> None:
        """Make the pool hold at least ``size`` unused params (new ones sampled after the
        unused ones, which keep their order)."""
        left = self._pool[self._cursor :]
        missing = size - len(left)
        if missing <= 0:
            return
        fresh = torch.as_tensor(
            self.teacher.sample_batch(missing), dtype=torch.float64, device=self.device
        )
        self._pool = torch.cat([left, fresh])
        self._cursor = 0
