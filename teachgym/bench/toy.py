"""The toy testbed of Portelas et al. 2019 (§4, "toy environment"): a simulated student on a grid.

The student's parameter space is the unit cube [0, 1]^D. Only the first ``nb_dims`` dimensions
matter; they are cut into ``cells`` bins each, and every cell holds a competence counter from 0
to ``max_competence`` (100). An episode in a cell raises its counter by one if the cell is
*unlocked*: the origin cell always is, any other cell only once one of its lower neighbours has
reached 75% of the maximum. A cell counts as mastered above 75%, so progress spreads from the
origin outwards and a teacher that samples where the student is learning (absolute learning
progress) masters cells much faster than uniform sampling.

Reference: flowersteam/teachDeepRL, ``teachDRL/toy_env/toy_env.py`` (re-implemented here).

- ``ToyStudent`` — the simulated student.
- ``run_toy`` — one teacher, one seed: % of cells mastered every ``checkpoint_every`` episodes.
- ``bench_toy`` — several teachers × seeds (optionally in worker processes) → a JSON-able dict.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from teachgym import teachers
from teachgym.checks import check_int
from teachgym.spaces import ParamSpace

#: Teachers compared in the paper's toy experiment (§4), the benchmark's default line-up.
DEFAULT_TEACHERS: tuple[str, ...] = ("random", "alp-gmm", "covar-gmm", "riac")

# Fraction of ``max_competence`` at which a cell unlocks its upper neighbours (>=) and counts
# as mastered (>), as in the reference implementation.
_UNLOCK_FRACTION = 0.75


class ToyStudent:
    """A simulated student whose competence spreads over a grid of cells from the origin.

    Args:
        nb_dims: Number of dimensions that matter (the grid's dimensions).
        cells: Number of cells along each relevant dimension (10 → 100 cells in 2-D).
        useless_dims: Extra parameter dimensions the student ignores (distractors that a
            teacher must learn to disregard).
        max_competence: Competence cap of each cell. A cell unlocks its upper neighbours at
            ``0.75 * max_competence`` and is mastered strictly above it (with 100: 75 and 76).

    Example:
        >>> student = ToyStudent()
        >>> student.episode([0.05, 0.05])  # the origin cell always learns
        0.01
        >>> student.episode([0.15, 0.05])  # locked until the origin cell reaches 75
        0.0
    """

    def __init__(
        self,
        nb_dims: int = 2,
        cells: int = 10,
        useless_dims: int = 0,
        max_competence: int = 100,
    ) -> None:
        self.nb_dims = check_int("nb_dims", nb_dims, minimum=1)
        self.cells = check_int("cells", cells, minimum=1)
        self.useless_dims = check_int("useless_dims", useless_dims, minimum=0)
        self.max_competence = check_int("max_competence", max_competence, minimum=1)
        self.unlock_threshold = _UNLOCK_FRACTION * self.max_competence
        self.mastery_threshold = self.unlock_threshold
        self.grid_shape = (self.cells,) * self.nb_dims
        self.n_cells = self.cells**self.nb_dims
        self._param_dim = self.nb_dims + self.useless_dims
        # The offsets from a cell to its upper neighbours: every 0/1 vector but the zero one
        # (diagonals included). A cell's lower neighbours are the cells it is an upper one of.
        self._neighbour_offsets = np.array(
            list(itertools.product((0, 1), repeat=self.nb_dims))[1:], dtype=np.intp
        ).reshape(-1, self.nb_dims)
        self.competence = np.zeros(self.n_cells, dtype=np.int64)
        self.n_episodes = 0
        # ``_unlocked[c]`` caches "the origin, or some lower neighbour has >= unlock_threshold".
        # Competence never decreases, so it is updated when a cell crosses the threshold and an
        # episode is O(1) instead of a scan of up to 2^nb_dims - 1 neighbours.
        self._unlocked = np.zeros(self.n_cells, dtype=bool)
        self._recompute_unlocked()

    # ------------------------------------------------------------------ public API
    @property
    def param_space(self) -> ParamSpace:
        """The unit cube [0, 1]^(nb_dims + useless_dims) the teacher samples from."""
        return ParamSpace.unit(self._param_dim)

    def competence_grid(self) -> np.ndarray:
        """A copy of the competence counters, shaped ``(cells,) * nb_dims``."""
        return self.competence.reshape(self.grid_shape).copy()

    def cell_of(self, params: Sequence[float] | np.ndarray) -> tuple[int, ...]:
        """The grid index of the cell ``params`` falls in (useless dimensions dropped).

        Cell ``i`` along a dimension covers ``[i / cells, (i + 1) / cells)``; the value 1.0
        belongs to the last cell.

        Raises:
            ValueError: ``params`` is not a vector of ``nb_dims + useless_dims`` values in [0, 1].
        """
        return tuple(int(i) for i in np.unravel_index(self._flat_cell(params), self.grid_shape))

    def episode(self, params: Sequence[float] | np.ndarray) -> float:
        """Run one episode with ``params`` and return its score: the competence of the cell
        ``params`` falls in, after this episode's learning, divided by ``max_competence``.

        Raises:
            ValueError: ``params`` is not a vector of ``nb_dims + useless_dims`` values in [0, 1].
        """
        cell = self._flat_cell(params)
        competence = int(self.competence[cell])
        if self._unlocked[cell] and competence < self.max_competence:
            competence += 1
            self.competence[cell] = competence
            if competence >= self.unlock_threshold > competence - 1:
                self._unlock_upper_neighbours(cell)
        self.n_episodes += 1
        return competence / self.max_competence

    def mastered_percent(self) -> float:
        """Percentage (0–100, as the paper reports it) of cells with competence strictly above
        ``0.75 * max_competence``."""
        mastered = int(np.count_nonzero(self.competence > self.mastery_threshold))
        return 100.0 * mastered / self.n_cells

    def state_dict(self) -> dict[str, Any]:
        """The student's configuration and counters as plain (JSON-able) data."""
        return {
            "nb_dims": self.nb_dims,
            "cells": self.cells,
            "useless_dims": self.useless_dims,
            "max_competence": self.max_competence,
            "n_episodes": self.n_episodes,
            "competence": self.competence_grid().tolist(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore counters saved by ``state_dict`` into a student of the same configuration.

        Raises:
            ValueError: the state is from a differently configured student or is malformed.
        """
        for key in ("nb_dims", "cells", "useless_dims", "max_competence"):
            if key not in state:
                raise ValueError(f"not a ToyStudent state: missing key {key!r}")
            if state[key] != getattr(self, key):
                raise ValueError(
                    f"state has {key}={state[key]!r}; this student has {getattr(self, key)!r}"
                )
        competence = np.asarray(state.get("competence"))
        if competence.shape != self.grid_shape or competence.dtype.kind not in "iu":
            raise ValueError(
                f"competence must be an integer array of shape {self.grid_shape}; got "
                f"{competence.dtype} of shape {competence.shape}"
            )
        if competence.size and (competence.min() < 0 or competence.max() > self.max_competence):
            raise ValueError(f"competence values must lie in [0, {self.max_competence}]")
        n_episodes = check_int("n_episodes", state.get("n_episodes", 0), minimum=0)
        self.competence = competence.astype(np.int64).reshape(-1)
        self.n_episodes = n_episodes
        self._recompute_unlocked()

    def __repr__(self) -> str:
        return (
            f"ToyStudent(nb_dims={self.nb_dims}, cells={self.cells}, "
            f"useless_dims={self.useless_dims}, max_competence={self.max_competence})"
        )

    # ------------------------------------------------------------------ internals
    def _flat_cell(self, params: Sequence[float] | np.ndarray) -> int:
        try:
            values = np.asarray(params, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"params must be {self._param_dim} numbers in [0, 1]; got {params!r}"
            ) from None
        if values.shape != (self._param_dim,):
            raise ValueError(
                f"params must be a vector of {self._param_dim} values ({self.nb_dims} relevant "
                f"+ {self.useless_dims} useless); got shape {values.shape}"
            )
        # Plain floats: for a handful of values this is several times faster than numpy ops.
        flat = 0
        for dim, value in enumerate(values.tolist()):
            if not 0.0 <= value <= 1.0:  # also rejects NaN
                raise ValueError(f"params[{dim}] = {value} is outside [0, 1]")
            if dim < self.nb_dims:
                flat = flat * self.cells + min(int(value * self.cells), self.cells - 1)
        return flat

    def _unlock_upper_neighbours(self, flat_cell: int) -> None:
        index = np.array(np.unravel_index(flat_cell, self.grid_shape), dtype=np.intp)
        neighbours = index + self._neighbour_offsets
        neighbours = neighbours[np.all(neighbours < self.cells, axis=1)]
        if len(neighbours):
            self._unlocked[np.ravel_multi_index(tuple(neighbours.T), self.grid_shape)] = True

    def _recompute_unlocked(self) -> None:
        """Rebuild the unlock cache from the counters (after a state load)."""
        unlocking = self.competence.reshape(self.grid_shape) >= self.unlock_threshold
        unlocked = np.zeros(self.grid_shape, dtype=bool)
        unlocked[(0,) * self.nb_dims] = True
        for offset in self._neighbour_offsets:
            # Cell c is unlocked by c - offset: shift ``unlocking`` up by ``offset``.
            target = tuple(slice(int(o), None) for o in offset)
            source = tuple(slice(None, self.cells - int(o)) for o in offset)
            unlocked[target] |= unlocking[source]
        self._unlocked = unlocked.reshape(-1)


# ---------------------------------------------------------------------------------- one run
@dataclass
class ToyRunResult:
    """The outcome of ``run_toy``: one teacher, one seed."""

    teacher: str
    """Registry name of the teacher."""
    seed: int
    """Seed the teacher was built with."""
    episodes: int
    """Number of episodes run."""
    checkpoints: list[int]
    """Episode counts at which mastery was measured: 0, ``checkpoint_every``, …, ``episodes``."""
    mastered: list[float]
    """% of cells mastered after each checkpoint's number of episodes."""
    teacher_cpu_s: float
    """Process CPU seconds spent inside ``teacher.sample`` and ``teacher.update``."""


def toy_checkpoints(episodes: int, checkpoint_every: int) -> list[int]:
    """0, ``checkpoint_every``, 2 × ``checkpoint_every`` …, always ending at ``episodes``."""
    checkpoints = list(range(0, episodes + 1, checkpoint_every))
    if checkpoints[-1] != episodes:
        checkpoints.append(episodes)
    return checkpoints


def run_toy(
    teacher_name: str,
    *,
    seed: int,
    episodes: int = 20000,
    nb_dims: int = 2,
    cells: int = 10,
    useless_dims: int = 0,
    checkpoint_every: int = 1000,
    teacher_kwargs: Mapping[str, Any] | None = None,
    on_checkpoint: Callable[[int], None] | None = None,
) -> ToyRunResult:
    """Let one teacher train a fresh ``ToyStudent`` and record its mastery over time.

    Each episode: ``params = teacher.sample()``, ``score = student.episode(params)``,
    ``teacher.update(params, score)``. The student is deterministic and the teacher is seeded
    with ``seed``, so the same arguments always give the same result.

    Args:
        teacher_name: A name from ``teachgym.teachers.available()``.
        seed: The teacher's seed.
        episodes: Number of episodes.
        nb_dims: Relevant dimensions of the student.
        cells: Cells per relevant dimension.
        useless_dims: Dimensions the student ignores.
        checkpoint_every: Episodes between two mastery measurements.
        teacher_kwargs: Hyperparameters passed to ``teachgym.teachers.make``.
        on_checkpoint: Called with the episode count after each measurement (progress bars).

    Returns:
        The checkpoints, the % mastered at each and the teacher's CPU time.

    Raises:
        ValueError: unknown teacher or hyperparameter, or a non-positive count.
    """
    check_int("seed", seed, minimum=0)
    check_int("episodes", episodes, minimum=1)
    check_int("checkpoint_every", checkpoint_every, minimum=1)
    student = ToyStudent(nb_dims=nb_dims, cells=cells, useless_dims=useless_dims)
    teacher = teachers.make(
        teacher_name, student.param_space, seed=seed, **dict(teacher_kwargs or {})
    )
    checkpoints = toy_checkpoints(episodes, checkpoint_every)
    mastered = [student.mastered_percent()]
    if on_checkpoint is not None:
        on_checkpoint(0)
    teacher_cpu_s = 0.0
    clock = time.process_time
    done = 0
    for checkpoint in checkpoints[1:]:
        for _ in range(checkpoint - done):
            start = clock()
            params = teacher.sample()
            teacher_cpu_s += clock() - start
            score = student.episode(params)
            start = clock()
            teacher.update(params, score)
            teacher_cpu_s += clock() - start
        done = checkpoint
        mastered.append(student.mastered_percent())
        if on_checkpoint is not None:
            on_checkpoint(checkpoint)
    return ToyRunResult(
        teacher=teacher_name,
        seed=seed,
        episodes=episodes,
        checkpoints=checkpoints,
        mastered=mastered,
        teacher_cpu_s=teacher_cpu_s,
    )


# ---------------------------------------------------------------------------------- benchmark
@dataclass
class ToyBenchConfig:
    """Configuration of ``bench_toy`` (and of ``teachgym bench toy``).

    Construction validates the numbers and teacher names; ``check()`` additionally builds
    every teacher once, so bad hyperparameters fail before any run starts.
    """

    teachers: list[str] = field(default_factory=lambda: list(DEFAULT_TEACHERS))
    """Registry names of the teachers to compare (``teachgym.teachers.available()``)."""
    seeds: int = 5
    """Number of seeds per teacher; the seeds are 0, 1, …, ``seeds - 1``."""
    episodes: int = 20000
    """Episodes per run (the paper: 20,000 on the 2-D, 10 × 10 grid)."""
    nb_dims: int = 2
    """Relevant dimensions of the toy student."""
    cells: int = 10
    """Cells per relevant dimension."""
    useless_dims: int = 0
    """Extra dimensions the student ignores."""
    checkpoint_every: int = 1000
    """Episodes between two measurements of the % of mastered cells."""
    jobs: int = 1
    """Worker processes; 1 runs everything in this process."""
    teacher_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Hyperparameters per teacher name, e.g. ``{"alp-gmm": {"fit_rate": 100}}``."""

    def __post_init__(self) -> None:
        if isinstance(self.teachers, str) or not isinstance(self.teachers, Sequence):
            raise ValueError(f"teachers must be a list of names; got {self.teachers!r}")
        self.teachers = list(self.teachers)
        if not self.teachers:
            raise ValueError("teachers must name at least one teacher")
        available = teachers.available()
        for name in self.teachers:
            if name not in available:
                raise ValueError(
                    f"unknown teacher {name!r}; available teachers: {', '.join(available)}"
                )
        repeated = sorted({name for name in self.teachers if self.teachers.count(name) > 1})
        if repeated:
            raise ValueError(f"teachers are listed more than once: {', '.join(repeated)}")
        for name in ("seeds", "episodes", "nb_dims", "cells", "checkpoint_every", "jobs"):
            setattr(self, name, check_int(name, getattr(self, name), minimum=1))
        self.useless_dims = check_int("useless_dims", self.useless_dims, minimum=0)
        if not isinstance(self.teacher_kwargs, dict):
            raise ValueError(f"teacher_kwargs must be a dict; got {self.teacher_kwargs!r}")
        for name, kwargs in self.teacher_kwargs.items():
            if name not in self.teachers:
                raise ValueError(
                    f"hyperparameters given for {name!r}, which is not among the benchmarked "
                    f"teachers ({', '.join(self.teachers)})"
                )
            if not isinstance(kwargs, dict):
                raise ValueError(f"teacher_kwargs[{name!r}] must be a dict; got {kwargs!r}")
            try:
                json.dumps(kwargs)
            except (TypeError, ValueError):
                # The config is saved beside the results; catch this before the runs, not after.
                raise ValueError(
                    f"teacher_kwargs[{name!r}] must be JSON-able (numbers, strings, lists, "
                    f"dicts); got {kwargs!r}"
                ) from None
        self.teacher_kwargs = {name: dict(kwargs) for name, kwargs in self.teacher_kwargs.items()}

    def check(self) -> None:
        """Build each teacher once on the benchmark's space, so an unknown hyperparameter or a
        bad value raises ``ValueError`` now rather than in the middle of the benchmark."""
        space = ToyStudent(self.nb_dims, self.cells, self.useless_dims).param_space
        for name in self.teachers:
            teachers.make(name, space, seed=0, **self.teacher_kwargs.get(name, {}))

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON-able data."""
        return asdict(self)


def bench_toy(config: ToyBenchConfig, progress: bool = True) -> dict[str, Any]:
    """Run every teacher of ``config`` with seeds 0 … ``seeds - 1`` on the toy student.

    Args:
        config: What to run.
        progress: Show a progress bar on stderr (only when stderr is a terminal).

    Returns:
        ``{"config": {...}, "results": {teacher: {"checkpoints": [...], "mastered":
        [[% per checkpoint] per seed], "teacher_cpu_s_per_1k": float}}}``, JSON-able, with
        identical numbers (CPU time aside) whatever ``jobs`` is.

    Raises:
        ValueError: a teacher cannot be built with its hyperparameters (before any run).
        RuntimeError: a run failed; the message names the teacher and seed.
    """
    config.check()
    runs = [(name, seed) for name in config.teachers for seed in range(config.seeds)]
    with _ProgressReporter(
        enabled=progress, total=len(runs) * config.episodes, description="toy benchmark"
    ) as reporter:
        if config.jobs == 1 or len(runs) == 1:
            results = [
                _run_one(config, name, seed, reporter.callback(index))
                for index, (name, seed) in enumerate(runs)
            ]
        else:
            results = _run_in_pool(config, runs, reporter)
    by_teacher: dict[str, Any] = {}
    for name in config.teachers:
        own = [result for result in results if result.teacher == name]
        cpu_s = sum(result.teacher_cpu_s for result in own)
        by_teacher[name] = {
            "checkpoints": list(own[0].checkpoints),
            "mastered": [list(result.mastered) for result in own],
            "teacher_cpu_s_per_1k": 1000.0 * cpu_s / (config.episodes * len(own)),
        }
    return {"config": config.to_dict(), "results": by_teacher}


def _run_one(
    config: ToyBenchConfig,
    name: str,
    seed: int,
    on_checkpoint: Callable[[int], None] | None = None,
) -> ToyRunResult:
    try:
        return run_toy(
            name,
            seed=seed,
            episodes=config.episodes,
            nb_dims=config.nb_dims,
            cells=config.cells,
            useless_dims=config.useless_dims,
            checkpoint_every=config.checkpoint_every,
            teacher_kwargs=config.teacher_kwargs.get(name),
            on_checkpoint=on_checkpoint,
        )
    except Exception as error:
        raise RuntimeError(
            f"toy run of teacher {name!r} with seed {seed} failed: {type(error).__name__}: {error}"
        ) from error


# -- worker processes -----------------------------------------------------------------------
_worker_progress_queue: Any = None


def _init_worker(progress_queue: Any, registered: dict[str, type[teachers.Teacher]]) -> None:
    """Pin BLAS to one thread per worker and make the parent's teachers available."""
    global _worker_progress_queue
    # Libraries loaded later read these; threadpoolctl limits the ones already loaded (the
    # GMM fits were 40× slower with several BLAS threads per process on 2 cores: see
    # docs/design.md, "Teachers").
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    _worker_progress_queue = progress_queue
    # Teachers a user registered in the parent (e.g. in a script) are unknown to a freshly
    # spawned interpreter; the classes themselves travel by reference.
    for name, cls in registered.items():
        if name not in teachers.available():
            teachers.register(name, cls)


def _worker_run(config: ToyBenchConfig, index: int, name: str, seed: int) -> ToyRunResult:
    callback = None
    if _worker_progress_queue is not None:
        queue = _worker_progress_queue

        def callback(checkpoint: int) -> None:
            queue.put((index, checkpoint))

    return _run_one(config, name, seed, callback)


def _run_in_pool(
    config: ToyBenchConfig, runs: list[tuple[str, int]], reporter: _ProgressReporter
) -> list[ToyRunResult]:
    # "spawn" works the same on Linux, macOS and Windows and never forks a process that holds
    # BLAS or rich threads.
    context = multiprocessing.get_context("spawn")
    progress_queue = context.Queue() if reporter.enabled else None
    registered = {name: teachers.get_class(name) for name in config.teachers}
    results: list[ToyRunResult | None] = [None] * len(runs)
    executor = concurrent.futures.ProcessPoolExecutor(
        max_workers=min(config.jobs, len(runs)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(progress_queue, registered),
    )
    try:
        futures = {
            executor.submit(_worker_run, config, index, name, seed): index
            for index, (name, seed) in enumerate(runs)
        }
        pending = set(futures)
        while pending:
            done, pending = concurrent.futures.wait(
                pending, timeout=0.2, return_when=concurrent.futures.FIRST_COMPLETED
            )
            reporter.drain(progress_queue)
            for future in done:
                results[futures[future]] = future.result()
                reporter.finish_run(futures[future], config.episodes)
    except BaseException:
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
    return [result for result in results if result is not None]


class _ProgressReporter:
    """One rich progress bar over all episodes of all runs, fed per run and checkpoint."""

    def __init__(self, *, enabled: bool, total: int, description: str) -> None:
        self._progress: Any = None
        self._task: Any = None
        self._done: dict[int, int] = {}
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            console = Console(stderr=True)
            if console.is_terminal:
                self._progress = Progress(
                    TextColumn("[progress.description]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("episodes"),
                    TimeElapsedColumn(),
                    TimeRemainingColumn(),
                    console=console,
                )
                self._task = self._progress.add_task(description, total=total)

    @property
    def enabled(self) -> bool:
        return self._progress is not None

    def __enter__(self) -> _ProgressReporter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, run_index: int, episodes_done: int) -> None:
        if self._progress is None or episodes_done <= self._done.get(run_index, 0):
            return
        self._progress.advance(self._task, episodes_done - self._done.get(run_index, 0))
        self._done[run_index] = episodes_done

    def finish_run(self, run_index: int, episodes: int) -> None:
        self.update(run_index, episodes)

    def callback(self, run_index: int) -> Callable[[int], None] | None:
        if self._progress is None:
            return None
        return lambda episodes_done: self.update(run_index, episodes_done)

    def drain(self, queue: Any) -> None:
        if queue is None:
            return
        while True:
            try:
                run_index, episodes_done = queue.get_nowait()
            except Exception:  # queue.Empty, or a queue closed at shutdown
                return
            self.update(run_index, episodes_done)
