"""The toy testbed: ToyStudent mechanics, run_toy, bench_toy."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import numpy as np
import pytest

from teachgym.bench import ToyBenchConfig, ToyStudent, bench_toy, run_toy, toy_checkpoints
from teachgym.spaces import ParamSpace
from teachgym.teachers import RandomTeacher, Teacher, registry


def centre(cell: tuple[int, ...], cells: int = 10, useless: int = 0) -> list[float]:
    """Params at the centre of ``cell``, plus ``useless`` extra values."""
    return [(index + 0.5) / cells for index in cell] + [0.5] * useless


def train(student: ToyStudent, cell: tuple[int, ...], times: int) -> float:
    score = 0.0
    for _ in range(times):
        score = student.episode(centre(cell, student.cells, student.useless_dims))
    return score


def reference_episode(competence: np.ndarray, cell: tuple[int, ...], maximum: int) -> None:
    """The rule as the paper states it, scanning the lower neighbours every time."""
    if any(cell):
        lower = itertools.product(*[sorted({index, max(0, index - 1)}) for index in cell])
        if not any(n != cell and competence[n] >= 0.75 * maximum for n in lower):
            return
    competence[cell] = min(competence[cell] + 1, maximum)


# ------------------------------------------------------------------ ToyStudent mechanics
def test_origin_always_learns_and_scores_competence() -> None:
    student = ToyStudent()
    assert student.episode([0.0, 0.0]) == pytest.approx(0.01)
    assert train(student, (0, 0), 9) == pytest.approx(0.10)
    assert student.competence_grid()[0, 0] == 10
    assert student.n_episodes == 10


def test_locked_cell_stays_at_zero() -> None:
    student = ToyStudent()
    train(student, (0, 0), 74)
    for cell in [(0, 1), (1, 0), (1, 1), (5, 5), (9, 9)]:
        assert train(student, cell, 20) == 0.0
        assert student.competence_grid()[cell] == 0


def test_unlock_at_75_but_mastery_needs_76() -> None:
    student = ToyStudent()
    train(student, (0, 0), 75)
    assert student.mastered_percent() == 0.0  # 75 is not > 75
    assert train(student, (0, 1), 1) == pytest.approx(0.01)  # ... but it unlocks (>= 75)
    train(student, (0, 0), 1)
    assert student.mastered_percent() == pytest.approx(1.0)  # 76 > 75: 1 cell of 100


def test_diagonal_neighbour_unlocks() -> None:
    student = ToyStudent()
    train(student, (0, 0), 75)
    assert train(student, (1, 1), 1) == pytest.approx(0.01)
    # (2, 2)'s lower neighbours are (1, 1), (1, 2), (2, 1); none is at 75 yet.
    assert train(student, (2, 2), 1) == 0.0
    train(student, (1, 1), 74)
    assert train(student, (2, 2), 1) == pytest.approx(0.01)
    # (2, 0)'s only lower neighbour is (1, 0), still at 0: (1, 1) does not unlock it.
    assert train(student, (2, 0), 1) == 0.0


def test_competence_caps_at_max() -> None:
    student = ToyStudent()
    assert train(student, (0, 0), 150) == 1.0
    assert student.competence_grid()[0, 0] == 100


def test_useless_dims_are_ignored() -> None:
    student = ToyStudent(useless_dims=3)
    assert student.param_space == ParamSpace.unit(5)
    rng = np.random.default_rng(0)
    for _ in range(80):
        student.episode([0.05, 0.05, *rng.uniform(0, 1, 3)])
    assert student.competence_grid()[0, 0] == 80
    assert student.competence_grid().sum() == 80
    assert student.cell_of([0.95, 0.35, 0.0, 1.0, 0.5]) == (9, 3)


def test_cell_indexing() -> None:
    student = ToyStudent()
    assert student.cell_of([1.0, 1.0]) == (9, 9)
    assert student.cell_of([0.0, 0.0999]) == (0, 0)
    assert student.cell_of([0.1, 0.95]) == (1, 9)
    assert student.cell_of(np.array([0.55, 0.999999])) == (5, 9)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([0.5], "vector of 2 values"),
        ([0.5, 0.5, 0.5], "vector of 2 values"),
        ([[0.5, 0.5]], "vector of 2 values"),
        ([0.5, 1.01], r"params\[1\] = 1.01 is outside \[0, 1\]"),
        ([-0.1, 0.5], r"params\[0\] = -0.1 is outside"),
        ([float("nan"), 0.5], r"params\[0\] = nan"),
        ([0.5, float("inf")], r"params\[1\] = inf"),
        (["a", 0.5], "2 numbers in"),
    ],
)
def test_bad_params_are_rejected(params: object, message: str) -> None:
    student = ToyStudent()
    with pytest.raises(ValueError, match=message):
        student.episode(params)  # type: ignore[arg-type]
    assert student.n_episodes == 0
    assert student.competence_grid().sum() == 0


def test_bad_configuration_is_rejected() -> None:
    with pytest.raises(ValueError, match="cells must be a positive integer"):
        ToyStudent(cells=0)
    with pytest.raises(ValueError, match="useless_dims must be an integer >= 0"):
        ToyStudent(useless_dims=-1)


def _ideal_order(nb_dims: int, cells: int) -> list[tuple[int, ...]]:
    # Lexicographic order: every cell but the origin comes after a lower neighbour.
    return list(itertools.product(range(cells), repeat=nb_dims))


def test_ideal_teacher_needs_exactly_7600_episodes_in_2d() -> None:
    student = ToyStudent()
    episodes = 0
    for cell in _ideal_order(2, 10):
        train(student, cell, 76)
        episodes += 76
        if episodes == 7600 - 76:
            # One short of the last cell's 76th visit: 99 cells mastered, not 100.
            train(student, (9, 9), 75)
            assert student.n_episodes == 7599
            assert student.mastered_percent() == pytest.approx(99.0)
            train(student, (9, 9), 1)
            break
    assert student.n_episodes == 7600
    assert student.mastered_percent() == 100.0
    # Every cell needs 76 episodes of its own, so no teacher can do it in fewer.
    assert (student.competence_grid() == 76).all()


def test_3d_student() -> None:
    student = ToyStudent(nb_dims=3, cells=4)
    assert student.param_space.dim == 3
    assert student.competence_grid().shape == (4, 4, 4)
    assert train(student, (1, 0, 0), 5) == 0.0
    train(student, (0, 0, 0), 75)
    assert train(student, (1, 1, 1), 1) == pytest.approx(0.01)  # the 3-D diagonal
    assert train(student, (2, 1, 1), 1) == 0.0
    for cell in _ideal_order(3, 4):
        train(student, cell, 100)
    assert student.mastered_percent() == 100.0


@pytest.mark.parametrize(("nb_dims", "cells"), [(2, 3), (3, 3), (1, 5)])
def test_matches_the_reference_rule(nb_dims: int, cells: int) -> None:
    # A small competence cap makes unlocking frequent, so many transitions are exercised.
    maximum = 4
    student = ToyStudent(nb_dims=nb_dims, cells=cells, max_competence=maximum)
    expected = np.zeros((cells,) * nb_dims, dtype=np.int64)
    rng = np.random.default_rng(1)
    for _ in range(600):
        params = rng.uniform(0, 1, nb_dims) ** 2  # biased toward the origin
        cell = tuple(min(int(value * cells), cells - 1) for value in params)
        reference_episode(expected, cell, maximum)
        assert student.episode(params) == expected[cell] / maximum
    np.testing.assert_array_equal(student.competence_grid(), expected)


def test_state_round_trip() -> None:
    rng = np.random.default_rng(2)
    student = ToyStudent(cells=3, max_competence=4)
    for _ in range(50):
        student.episode(rng.uniform(0, 1, 2) ** 2)
    state = json.loads(json.dumps(student.state_dict()))  # plain data survives JSON
    restored = ToyStudent(cells=3, max_competence=4)
    restored.load_state_dict(state)
    assert restored.n_episodes == 50
    for _ in range(100):
        params = rng.uniform(0, 1, 2)
        assert restored.episode(params) == student.episode(params)
    np.testing.assert_array_equal(restored.competence_grid(), student.competence_grid())
    with pytest.raises(ValueError, match="cells=3"):
        ToyStudent(cells=4, max_competence=4).load_state_dict(state)
    with pytest.raises(ValueError, match=r"\[0, 4\]"):
        restored.load_state_dict({**state, "competence": [[9] * 3] * 3})


# ------------------------------------------------------------------ run_toy
def test_checkpoints() -> None:
    assert toy_checkpoints(3000, 1000) == [0, 1000, 2000, 3000]
    assert toy_checkpoints(2500, 1000) == [0, 1000, 2000, 2500]
    assert toy_checkpoints(500, 1000) == [0, 500]


def test_run_toy_is_deterministic() -> None:
    kwargs: dict[str, Any] = {"seed": 3, "episodes": 3000, "checkpoint_every": 500, "cells": 4}
    first = run_toy("random", **kwargs)
    second = run_toy("random", **kwargs)
    assert first.checkpoints == [0, 500, 1000, 1500, 2000, 2500, 3000]
    assert first.mastered == second.mastered
    assert first.mastered[0] == 0.0
    assert first.mastered[-1] > 0.0  # 16 cells: random makes some progress
    assert first.episodes == 3000
    other_seed = run_toy("random", **{**kwargs, "seed": 4})
    assert other_seed.mastered != first.mastered


def test_teacher_cpu_time_counts_the_teachers_calls_and_not_the_students(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fake CPU clock that only the patched calls advance: 1 s per teacher sample, 10 s per
    # update, 1000 s per student episode. The measured total must be exactly the teacher's.
    clock = [0.0]

    def ticking(method: Any, seconds: float) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            clock[0] += seconds
            return method(*args, **kwargs)

        return call

    monkeypatch.setattr(time, "process_time", lambda: clock[0])
    monkeypatch.setattr(RandomTeacher, "sample", ticking(RandomTeacher.sample, 1.0))
    monkeypatch.setattr(RandomTeacher, "update", ticking(RandomTeacher.update, 10.0))
    monkeypatch.setattr(ToyStudent, "episode", ticking(ToyStudent.episode, 1000.0))
    result = run_toy("random", seed=0, episodes=50, checkpoint_every=20, cells=4)
    assert result.teacher_cpu_s == pytest.approx(50 * (1.0 + 10.0))


def test_run_toy_oracle_progresses_with_teacher_kwargs() -> None:
    result = run_toy(
        "oracle",
        seed=0,
        episodes=2000,
        teacher_kwargs={"mastery_threshold": 0.75},
    )
    assert result.mastered[-1] > 0.0
    assert result.mastered == sorted(result.mastered)  # mastery never decreases


def test_run_toy_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown teacher 'nope'"):
        run_toy("nope", seed=0, episodes=10)
    with pytest.raises(ValueError, match="episodes must be a positive integer"):
        run_toy("random", seed=0, episodes=0)


# ------------------------------------------------------------------ bench_toy
SMALL: dict[str, Any] = {"seeds": 2, "episodes": 1200, "checkpoint_every": 400, "cells": 4}


def check_schema(results: dict, config: ToyBenchConfig) -> None:
    assert set(results) == {"config", "results"}
    assert results["config"]["teachers"] == config.teachers
    assert results["config"]["seeds"] == config.seeds
    assert list(results["results"]) == config.teachers
    for entry in results["results"].values():
        assert set(entry) == {"checkpoints", "mastered", "teacher_cpu_s_per_1k"}
        assert entry["checkpoints"] == toy_checkpoints(config.episodes, config.checkpoint_every)
        assert len(entry["mastered"]) == config.seeds
        for per_seed in entry["mastered"]:
            assert len(per_seed) == len(entry["checkpoints"])
            assert all(isinstance(value, float) and 0 <= value <= 100 for value in per_seed)
        assert isinstance(entry["teacher_cpu_s_per_1k"], float)
    assert json.loads(json.dumps(results)) == results


def test_bench_toy_schema() -> None:
    config = ToyBenchConfig(
        teachers=["random", "oracle"],
        teacher_kwargs={"oracle": {"mastery_threshold": 0.75}},
        **SMALL,
    )
    results = bench_toy(config, progress=False)
    check_schema(results, config)
    assert results["config"]["teacher_kwargs"] == {"oracle": {"mastery_threshold": 0.75}}
    expected = run_toy(
        "oracle",
        seed=1,
        teacher_kwargs={"mastery_threshold": 0.75},
        **{key: SMALL[key] for key in ("episodes", "checkpoint_every", "cells")},
    )
    assert results["results"]["oracle"]["mastered"][1] == expected.mastered


def test_bench_toy_process_pool_matches_in_process() -> None:
    config = ToyBenchConfig(teachers=["random", "oracle"], jobs=1, **SMALL)
    in_process = bench_toy(config, progress=False)
    pooled = bench_toy(ToyBenchConfig(teachers=["random", "oracle"], jobs=2, **SMALL), False)
    check_schema(pooled, config)
    for name in ("random", "oracle"):
        assert pooled["results"][name]["mastered"] == in_process["results"][name]["mastered"]
        assert pooled["results"][name]["checkpoints"] == in_process["results"][name]["checkpoints"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"teachers": ["nope"]}, "unknown teacher 'nope'; available teachers: .*random"),
        ({"teachers": []}, "at least one teacher"),
        ({"teachers": ["random", "random"]}, "more than once: random"),
        ({"teachers": "random"}, "list of names"),
        ({"seeds": 0}, "seeds must be a positive integer"),
        ({"episodes": -5}, "episodes must be a positive integer"),
        ({"checkpoint_every": 0}, "checkpoint_every"),
        ({"jobs": 0}, "jobs"),
        ({"useless_dims": -1}, "useless_dims"),
        ({"cells": 2.5}, "cells"),
        ({"teacher_kwargs": {"oracle": {}}}, "not among the benchmarked teachers"),
        ({"teacher_kwargs": {"random": {"x": object()}}}, "must be JSON-able"),
    ],
)
def test_bench_config_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ToyBenchConfig(**{"teachers": ["random"], **kwargs})


def test_bench_toy_fails_before_running_on_bad_hyperparameters() -> None:
    config = ToyBenchConfig(teachers=["oracle"], teacher_kwargs={"oracle": {"nope": 1}})
    with pytest.raises(ValueError, match="no hyperparameter"):
        config.check()
    with pytest.raises(ValueError, match="no hyperparameter"):
        bench_toy(config, progress=False)


class FailingTeacher(Teacher):
    """Uniform, but its update raises for seed 1 (module level so workers can import it)."""

    def _sample(self) -> np.ndarray:
        return self.param_space.sample(self.rng)

    def _update(self, params: np.ndarray, score: float) -> None:
        if self.seed == 1 and self.n_updates == 10:
            raise ArithmeticError("boom")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_run_names_teacher_and_seed(jobs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # A user-registered teacher must also reach spawned workers (jobs=2).
    monkeypatch.setitem(registry._REGISTRY, "failing-test-teacher", FailingTeacher)
    config = ToyBenchConfig(teachers=["failing-test-teacher"], jobs=jobs, **SMALL)
    with pytest.raises(RuntimeError, match=r"'failing-test-teacher' with seed 1 failed.*boom"):
        bench_toy(config, progress=False)
