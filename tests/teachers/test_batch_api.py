"""``sample_batch``/``update_batch`` are ``sample``/``update`` row by row, only faster
(``docs/design.md``, "Teachers"): the same seed and calls give the same rows and the same state,
across many refits, for the fast overrides (Random, ALP-GMM, Covar-GMM) and the default loop
(RIAC, a custom teacher); bad input is refused before any row is applied."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from teachgym import ParamSpace, teachers
from teachgym.teachers import Teacher, check_teacher
from teachgym.teachers.base import SampleOutOfBoundsWarning
from teachgym.teachers.conformance import synthetic_score
from teachgym.teachers.gmm import GMMTeacher

SPACE = ParamSpace(["height", "spacing", "tilt"], [0.0, 0.0, -1.0], [3.0, 6.0, 1.0])


class Drifting(Teacher):
    """A minimal custom teacher (default batch path) whose samples depend on its counters."""

    def __init__(self, param_space, *, seed=None, step: float = 0.1):  # type: ignore[no-untyped-def]
        super().__init__(param_space, seed=seed)
        self.step = step
        self.total = 0.0

    def _sample(self) -> np.ndarray:
        unit = (self.rng.random(self.param_space.dim) + self.step * self.n_samples) % 1.0
        return self.param_space.denormalize(unit)

    def _update(self, params: np.ndarray, score: float) -> None:
        self.total += score * (1 + self.n_updates) + float(params.sum())

    def _state_dict(self) -> dict[str, Any]:
        return {"total": self.total}

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.total = float(state["total"])


class Overshooting(Teacher):
    def _sample(self) -> np.ndarray:
        return np.array([1.0, 6.5, 0.0])

    def _update(self, params: np.ndarray, score: float) -> None:
        pass


SMALL_GMM = {"fit_rate": 20, "min_components": 1, "max_components": 3}
CASES = {
    "random": lambda seed: teachers.make("random", SPACE, seed=seed),
    "alp-gmm": lambda seed: teachers.make("alp-gmm", SPACE, seed=seed, **SMALL_GMM),
    "alp-gmm-window": lambda seed: teachers.make(
        "alp-gmm",
        SPACE,
        seed=seed,
        history_size=10,
        fit_rate=300,  # above the index batch: the trim point moves with each episode
        max_components=3,
    ),
    # One dimension: clipped draws repeat the bounds exactly (equidistant neighbours).
    "alp-gmm-line": lambda seed: teachers.make(
        "alp-gmm", ParamSpace(["x"], [0.0], [1.0]), seed=seed, history_size=100, **SMALL_GMM
    ),
    "covar-gmm": lambda seed: teachers.make(
        "covar-gmm", SPACE, seed=seed, bootstrap_episodes=45, **SMALL_GMM
    ),
    "riac": lambda seed: teachers.make("riac", SPACE, seed=seed, max_region_size=30),
    "custom": lambda seed: Drifting(SPACE, seed=seed),
}

#: Batch sizes that cross fits (every 20 updates), index batches (256) and trims.
CHUNKS = [1, 7, 64, 1024, 3, 300, 19, 20, 21, 513, 2]


def states_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(states_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(states_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def score_of(teacher: Teacher, params: np.ndarray, episode: int) -> float:
    return synthetic_score(teacher.param_space.normalize(params), episode)


def run_batched(teacher: Teacher, chunks: list[int]) -> np.ndarray:
    samples = []
    episode = 0
    for size in chunks:
        params = teacher.sample_batch(size)
        scores = [score_of(teacher, row, episode + i) for i, row in enumerate(params)]
        teacher.update_batch(params, np.array(scores))
        samples.append(params)
        episode += size
    return np.concatenate(samples)


def run_sequential(teacher: Teacher, chunks: list[int]) -> np.ndarray:
    samples = []
    episode = 0
    for size in chunks:
        params = [teacher.sample() for _ in range(size)]
        for i, row in enumerate(params):
            teacher.update(row, score_of(teacher, row, episode + i))
        samples.extend(params)
        episode += size
    return np.array(samples)


@pytest.mark.parametrize("case", CASES)
def test_batches_equal_one_at_a_time(case):
    batched, sequential = CASES[case](7), CASES[case](7)
    batch_rows = run_batched(batched, CHUNKS)
    single_rows = run_sequential(sequential, CHUNKS)
    assert batch_rows.shape == (sum(CHUNKS), batched.param_space.dim)
    np.testing.assert_array_equal(batch_rows, single_rows)
    assert states_equal(batched.state_dict(), sequential.state_dict())
    assert batched.n_samples == batched.n_updates == sum(CHUNKS)
    if isinstance(batched, GMMTeacher):
        assert batched.n_fits >= 5  # many fit boundaries were crossed inside batches
    # Both continue identically, one at a time and in a batch.
    np.testing.assert_array_equal(
        batched.sample_batch(50), [sequential.sample() for _ in range(50)]
    )


@pytest.mark.parametrize("case", CASES)
def test_samples_and_updates_may_interleave_unevenly(case):
    """Sampling ahead of the updates (a per-env queue) keeps batch and single calls equal."""
    batched, sequential = CASES[case](3), CASES[case](3)
    pending_b: list[np.ndarray] = []
    pending_s: list[np.ndarray] = []
    episode = 0
    for n_sample, n_update in [(100, 60), (30, 70), (500, 333), (1, 168), (400, 400)]:
        pending_b.extend(batched.sample_batch(n_sample))
        pending_s.extend(sequential.sample() for _ in range(n_sample))
        rows_b, pending_b = np.array(pending_b[:n_update]), pending_b[n_update:]
        rows_s, pending_s = pending_s[:n_update], pending_s[n_update:]
        np.testing.assert_array_equal(rows_b, rows_s)
        scores = [score_of(batched, row, episode + i) for i, row in enumerate(rows_b)]
        batched.update_batch(rows_b, scores)
        for row, score in zip(rows_s, scores, strict=True):
            sequential.update(row, score)
        episode += n_update
    assert states_equal(batched.state_dict(), sequential.state_dict())


@pytest.mark.parametrize("name", ["alp-gmm", "covar-gmm"])
def test_gmm_update_batch_is_vectorised(name, monkeypatch):
    teacher = teachers.make(name, SPACE, seed=0, **SMALL_GMM)

    def refuse(*args: Any) -> None:
        raise AssertionError("update_batch went through _update row by row")

    monkeypatch.setattr(teacher, "_update", refuse)
    params = teacher.sample_batch(100)
    teacher.update_batch(params, np.linspace(0, 1, 100))
    assert teacher.n_updates == 100 and teacher.n_fits == 5


def test_state_round_trip_between_batches():
    teacher = CASES["alp-gmm"](11)
    run_batched(teacher, [300, 77])
    clone = CASES["alp-gmm"](99)
    clone.load_state_dict(teacher.state_dict())
    np.testing.assert_array_equal(run_batched(teacher, [500]), run_batched(clone, [500]))
    assert states_equal(teacher.state_dict(), clone.state_dict())


def test_counters_and_empty_batches():
    teacher = CASES["alp-gmm"](0)
    empty = teacher.sample_batch(0)
    assert empty.shape == (0, SPACE.dim) and empty.dtype == np.float64
    teacher.update_batch(np.empty((0, SPACE.dim)), np.empty(0))
    teacher.update_batch([], [])
    assert teacher.n_samples == teacher.n_updates == 0
    rows = teacher.sample_batch(np.int64(5))
    assert rows.shape == (5, SPACE.dim) and rows.dtype == np.float64
    teacher.update_batch(rows[:3].tolist(), [0.1, 0.2, 0.3])
    assert (teacher.n_samples, teacher.n_updates) == (5, 3)
    assert teacher.metrics()["n_updates"] == 3.0


BAD_UPDATES = [
    (lambda good: good[:, :2], [0.5] * 8, r"shape \(8, 3\)"),
    (lambda good: good[0], [0.5], r"shape \(1, 3\)"),
    (lambda good: good, [0.5] * 7, r"shape \(7, 3\)"),
    (lambda good: np.vstack([good[:3], [[1.0, 9.0, 0.0]], good[4:]]), [0.5] * 8, "row 3"),
    (lambda good: np.vstack([good[:5], [[1.0, np.nan, 0.0]], good[6:]]), [0.5] * 8, "row 5"),
    (lambda good: [*good[:2].tolist(), [True, 1.0, 0.0], *good[3:].tolist()], [0.5] * 8, "row 2"),
    (lambda good: [["a", "b", "c"]] * 8, [0.5] * 8, "numbers"),
    (lambda good: good, [0.5, 0.5, np.nan, 0.5, 0.5, 0.5, 0.5, 0.5], r"scores\[2\]"),
    (lambda good: good, np.array([0.5] * 7 + [np.inf]), r"scores\[7\]"),
    (lambda good: good, [0.5] * 7 + [True], r"scores\[7\]"),
    (lambda good: good, [0.5] * 7 + ["high"], r"scores\[7\]"),
    (lambda good: good, 0.5, "scores"),
    (lambda good: good, np.full((8, 1), 0.5), "1-D"),
]


@pytest.mark.parametrize("case", ["alp-gmm", "covar-gmm", "random", "riac", "custom"])
@pytest.mark.parametrize(("make_params", "scores", "message"), BAD_UPDATES)
def test_bad_update_batch_is_refused_and_changes_nothing(case, make_params, scores, message):
    teacher = CASES[case](5)
    run_batched(teacher, [39])  # one row short of a fit: a wrongly applied row would refit
    good = teacher.sample_batch(8)
    before = teacher.state_dict()
    with pytest.raises(ValueError, match=message):
        teacher.update_batch(make_params(good), scores)
    assert states_equal(before, teacher.state_dict())


def test_out_of_bounds_row_error_names_value_and_range():
    teacher = CASES["random"](0)
    params = np.array([[1.0, 2.0, 0.0], [1.0, 7.5, 0.0]])
    with pytest.raises(ValueError, match=r"row 1: parameter 'spacing' = 7.5 .*\[0, 6\]"):
        teacher.update_batch(params, [0.1, 0.2])


@pytest.mark.parametrize("n", [-1, 2.0, True, "3", None])
def test_bad_n_is_refused(n):
    teacher = CASES["alp-gmm"](0)
    before = teacher.state_dict()
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        teacher.sample_batch(n)
    assert states_equal(before, teacher.state_dict())


def test_sample_batch_warns_once_and_clips_like_sample():
    teacher = Overshooting(SPACE, seed=0)
    with pytest.warns(SampleOutOfBoundsWarning, match="spacing=6.5"):
        rows = teacher.sample_batch(4)
    np.testing.assert_array_equal(rows, np.tile([1.0, 6.0, 0.0], (4, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SampleOutOfBoundsWarning)
        teacher.sample_batch(3)
        teacher.sample()
    assert teacher.n_samples == 8


def test_wrong_shape_from_a_custom_sample_batch_is_named():
    class Broken(Drifting):
        def _sample_batch(self, n: int) -> np.ndarray:
            return np.zeros((n, 2))

    with pytest.raises(RuntimeError, match=r"Broken._sample_batch\(4\).*\(4, 3\)"):
        Broken(SPACE, seed=0).sample_batch(4)


@pytest.mark.parametrize("name", teachers.available())
def test_registered_teachers_still_conform(name):
    check_teacher(teachers.make(name, SPACE, seed=0))
