"""``check_teacher``: does a teacher keep the ``Teacher`` contract?

It runs fresh copies of the teacher (same class, space and hyperparameters) on a synthetic
score stream long enough to pass the paper's 250-episode bootstrap and a few model refits, and
raises ``AssertionError`` naming the first broken promise and how to keep it:

0. the constructor takes ``seed`` and calls ``super().__init__(param_space, seed=seed)``;
1. every vector ``_sample`` returns is finite and inside the bounds (``sample`` would clip it,
   but silently clipped samples pile up on the faces of the space);
2. the same seed and the same scores give the same sample sequence;
3. ``state_dict`` → a fresh teacher with another seed → ``load_state_dict`` continues the
   identical sequence, also after a round trip through ``teachgym.state_io`` files;
4. bad ``update`` input (NaN, inf, wrong length, out of range, non-finite score) raises
   ``ValueError`` and leaves the state exactly as it was;
5. the batch API agrees with the one-at-a-time one: ``sample_batch(n)`` gives the rows of ``n``
   calls of ``sample()`` and ``update_batch`` the state of one ``update`` per row (a teacher
   that overrides ``_sample_batch`` or ``_update_batch`` must keep this);
6. ``sample_levels(n)`` gives the params ``sample_batch(n)`` would, with seeds in
   ``[-1, 2**63 - 1]``, and updates with level seeds are deterministic like the rest.

A teacher that reads per-episode statistics (``episode_statistics``) is given synthetic ones
beside each score (the score itself), and must reject an update without them (step 4).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from teachgym import state_io
from teachgym.teachers.base import SampleOutOfBoundsWarning, Teacher, constructor_problem


def synthetic_score(unit_params: np.ndarray, episode: int) -> float:
    """A deterministic, spatially varied score in [0, 1] that drifts with time."""
    phase = 3.0 * float(np.sum(unit_params)) + 0.01 * episode
    return 0.5 + 0.5 * float(np.sin(phase))


def _stats(teacher: Teacher, score: float) -> dict[str, float] | None:
    """Synthetic values of the statistics ``teacher`` reads (``None`` if it reads none)."""
    return {name: score for name in teacher.episode_statistics} or None


def _fresh(teacher: Teacher, seed: int) -> Teacher:
    return type(teacher)(teacher.param_space, seed=seed, **teacher.hyperparameters)


def _run(teacher: Teacher, episodes: int, offset: int = 0) -> np.ndarray:
    """Sample and update ``episodes`` times; scores as if the run started at ``offset``.

    Raises:
        AssertionError: ``_sample`` returned a value outside the bounds (``sample`` warned).
    """
    samples = np.empty((episodes, teacher.param_space.dim))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SampleOutOfBoundsWarning)
        try:
            for i in range(episodes):
                params = teacher.sample()
                samples[i] = params
                score = synthetic_score(teacher.param_space.normalize(params), offset + i)
                teacher.update(params, score, stats=_stats(teacher, score))
        except SampleOutOfBoundsWarning as warning:
            raise AssertionError(str(warning)) from None
    return samples


def _run_chunks(teacher: Teacher, episodes: int, chunk: int, *, batched: bool) -> np.ndarray:
    """Sample ``chunk`` episodes' params, then update with their scores, chunk after chunk:
    through ``sample_batch`` / ``update_batch`` (``batched``) or one call per row."""
    samples = np.empty((episodes, teacher.param_space.dim))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SampleOutOfBoundsWarning)
        try:
            for begin in range(0, episodes, chunk):
                count = min(chunk, episodes - begin)
                if batched:
                    rows = teacher.sample_batch(count)
                else:
                    rows = np.array([teacher.sample() for _ in range(count)])
                samples[begin : begin + count] = rows
                scores = [
                    synthetic_score(teacher.param_space.normalize(params), begin + i)
                    for i, params in enumerate(rows)
                ]
                if batched:
                    stats = {name: np.asarray(scores) for name in teacher.episode_statistics}
                    teacher.update_batch(rows, np.asarray(scores), stats=stats or None)
                else:
                    for params, score in zip(rows, scores, strict=True):
                        teacher.update(params, score, stats=_stats(teacher, score))
        except SampleOutOfBoundsWarning as warning:
            raise AssertionError(str(warning)) from None
    return samples


def _states_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a_arr, b_arr = np.asarray(a), np.asarray(b)
        return a_arr.shape == b_arr.shape and np.array_equal(a_arr, b_arr, equal_nan=True)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_states_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_states_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return bool(a == b)


def check_teacher(teacher: Teacher, episodes: int = 600, seed: int = 12345) -> None:
    """Check that ``teacher``'s class keeps the ``Teacher`` contract.

    ``teacher`` serves as a template (class, space, hyperparameters); it is not modified.

    Args:
        teacher: Any ``Teacher`` instance.
        episodes: Length of each simulated run; the default passes the GMM teachers' bootstrap
            (250 episodes) and two refits.
        seed: Seed of the copies that are compared.

    Raises:
        AssertionError: naming the broken promise.
    """
    assert isinstance(teacher, Teacher), f"{teacher!r} is not a teachgym Teacher"
    # 0: the constructor, before anything that builds a copy or reads a base attribute.
    problem = constructor_problem(type(teacher))
    assert problem is None, problem
    try:
        teacher._check_initialised()
    except AttributeError as error:  # super().__init__ was skipped
        raise AssertionError(str(error)) from None
    space = teacher.param_space

    # 1 + 2: bounds and same-seed determinism.
    first = _run(_fresh(teacher, seed), episodes)
    assert np.all(np.isfinite(first)), "a sample was not finite"
    assert np.all((first >= space.low) & (first <= space.high)), "a sample left the bounds"
    second = _run(_fresh(teacher, seed), episodes)
    assert np.array_equal(first, second), "the same seed and scores gave different samples"

    # 3: state round trip, in memory and through a file, continues the same sequence.
    half = episodes // 2
    original = _fresh(teacher, seed)
    _run(original, half)
    state = original.state_dict()
    restored = _fresh(teacher, seed + 1)
    restored.load_state_dict(state)
    with tempfile.TemporaryDirectory() as folder:
        path = state_io.save(state, Path(folder) / "teacher")
        from_file = _fresh(teacher, seed + 2)
        from_file.load_state_dict(state_io.load(path))
    rest = episodes - half
    expected = _run(original, rest, half)
    assert np.array_equal(expected, _run(restored, rest, half)), (
        "load_state_dict did not continue the saved teacher's sequence"
    )
    assert np.array_equal(expected, _run(from_file, rest, half)), (
        "a state saved to and loaded from a file did not continue the same sequence"
    )

    # 4: bad input is rejected and changes nothing.
    probe = _fresh(teacher, seed)
    _run(probe, min(episodes, 300))
    before = probe.state_dict()
    good = space.sample(np.random.default_rng(0))
    bad_calls: list[tuple[Any, Any]] = [
        (np.full(space.dim, np.nan), 0.5),
        (np.full(space.dim, np.inf), 0.5),
        (np.append(good, good[0]), 0.5),
        (good[:-1] if space.dim > 1 else [], 0.5),
        (space.high + (space.high - space.low), 0.5),
        (good, float("nan")),
        (good, float("inf")),
        (good, "high"),
        ({"no_such_parameter": 1.0}, 0.5),
    ]
    for params, score in bad_calls:
        try:
            probe.update(params, score, stats=_stats(probe, 0.5))
        except ValueError:
            pass
        else:
            raise AssertionError(f"update({params!r}, {score!r}) was accepted; expected ValueError")
        assert _states_equal(before, probe.state_dict()), (
            f"the rejected update({params!r}, {score!r}) changed the teacher's state"
        )
    for name in probe.episode_statistics:
        partial = {other: 0.5 for other in probe.episode_statistics if other != name}
        for stats in (partial, {**partial, name: float("nan")}):
            try:
                probe.update(good, 0.5, stats=stats)
            except ValueError:
                pass
            else:
                raise AssertionError(
                    f"update with statistics {stats} was accepted; {type(probe).__name__} reads "
                    f"{name!r}, so expected ValueError"
                )
            assert _states_equal(before, probe.state_dict()), (
                f"the rejected update with statistics {stats} changed the teacher's state"
            )

    # 5: the batch API is the one-at-a-time API, row for row, for the same interleaving of
    # samples and updates (chunks of 7, which straddle the refits).
    one_at_a_time = _fresh(teacher, seed)
    expected = _run_chunks(one_at_a_time, episodes, 7, batched=False)
    batched = _fresh(teacher, seed)
    got = _run_chunks(batched, episodes, 7, batched=True)
    assert np.array_equal(expected, got), (
        "sample_batch/update_batch gave other samples than sample/update one at a time; an "
        "override of _sample_batch or _update_batch must keep the same results"
    )
    assert _states_equal(one_at_a_time.state_dict(), batched.state_dict()), (
        "update_batch left another state than one update per row"
    )

    # 6: levels. sample_levels' params are sample_batch's; seeds are in range; a run that
    # updates with the level seeds it was given is deterministic and survives a state round trip.
    as_batch, as_levels = _fresh(teacher, seed), _fresh(teacher, seed)
    _run_levels(as_batch, half)
    _run_levels(as_levels, half)
    rows = as_batch.sample_batch(13)
    level_rows, seeds = as_levels.sample_levels(13)
    assert np.array_equal(rows, level_rows), "sample_levels gave other params than sample_batch"
    assert seeds.dtype == np.int64 and (seeds >= -1).all(), f"bad level seeds {seeds!r}"
    first_run = _fresh(teacher, seed)
    first_levels = _run_levels(first_run, half)
    second_levels = _run_levels(_fresh(teacher, seed), half)
    assert all(np.array_equal(a, b) for a, b in zip(first_levels, second_levels, strict=True)), (
        "the same seed and scores gave different levels"
    )
    copy = _fresh(teacher, seed + 3)
    copy.load_state_dict(first_run.state_dict())
    assert all(
        np.array_equal(a, b)
        for a, b in zip(_run_levels(first_run, 50), _run_levels(copy, 50), strict=True)
    ), "load_state_dict did not continue the saved teacher's levels"


def _run_levels(teacher: Teacher, episodes: int, chunk: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Like ``_run_chunks(batched=True)`` through ``sample_levels``, updating with the seeds."""
    all_rows, all_seeds = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("error", SampleOutOfBoundsWarning)
        for begin in range(0, episodes, chunk):
            rows, seeds = teacher.sample_levels(min(chunk, episodes - begin))
            scores = np.array(
                [
                    synthetic_score(teacher.param_space.normalize(params), begin + i)
                    for i, params in enumerate(rows)
                ]
            )
            stats = {name: scores for name in teacher.episode_statistics}
            teacher.update_batch(rows, scores, level_seeds=seeds, stats=stats or None)
            all_rows.append(rows)
            all_seeds.append(seeds)
    return np.concatenate(all_rows), np.concatenate(all_seeds)
