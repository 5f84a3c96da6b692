"""The Teacher contract, the registry, and every registered teacher's conformance."""

import numpy as np
import pytest
from gymnasium import spaces

import teachgym.teachers as teachers
from teachgym import ParamSpace, state_io
from teachgym.teachers import Teacher, check_teacher

SPACES = {
    "unit-2d": ParamSpace.unit(2),
    "mixed-3d": ParamSpace(["height", "spacing", "offset"], [0, 0, -1], [3, 6, 1]),
}


@pytest.mark.parametrize("space_name", sorted(SPACES))
@pytest.mark.parametrize("name", teachers.available())
def test_every_registered_teacher_conforms(name, space_name):
    check_teacher(teachers.make(name, SPACES[space_name], seed=3))


@pytest.mark.parametrize("name", teachers.available())
def test_teachers_accept_a_gymnasium_box(name):
    teacher = teachers.make(name, spaces.Box(0.0, 2.0, shape=(2,)), seed=0)
    params = teacher.sample()
    assert params.shape == (2,) and np.all((params >= 0) & (params <= 2))


@pytest.mark.parametrize("name", teachers.available())
def test_different_seeds_differ(name):
    a = teachers.make(name, SPACES["unit-2d"], seed=1)
    b = teachers.make(name, SPACES["unit-2d"], seed=2)
    assert not np.array_equal(a.sample(), b.sample())


def test_unknown_teacher_lists_available():
    with pytest.raises(ValueError, match="unknown teacher 'alpgmm'; available teachers: alp-gmm"):
        teachers.make("alpgmm", SPACES["unit-2d"])


def test_unknown_hyperparameter_lists_accepted():
    with pytest.raises(ValueError, match=r"no hyperparameter\(s\) \['fitrate'\].*fit_rate"):
        teachers.make("alp-gmm", SPACES["unit-2d"], fitrate=10)


@pytest.mark.parametrize(
    ("name", "hyperparameters", "message"),
    [
        ("alp-gmm", {"fit_rate": 1}, "fit_rate must be an integer >= 2; got 1"),
        ("alp-gmm", {"random_ratio": 1.5}, r"random_ratio must be a finite number in \[0, 1\]"),
        ("alp-gmm", {"criterion": "aicc"}, r"unknown criterion 'aicc'; expected one of \['aic'"),
        ("alp-gmm", {"history_size": 0}, "history_size must be a positive integer"),
        ("alp-gmm", {"min_components": 5, "max_components": 3}, "min_components ≤ max_components"),
        ("covar-gmm", {"gmm_init": "best"}, "unknown gmm_init 'best'; expected one of"),
        ("oracle", {"directions": [1]}, r"directions must hold \+1 or -1 for each of the 2"),
        ("oracle", {"window_fraction": 0}, "window_fraction"),
    ],
)
def test_invalid_hyperparameters_fail_at_construction(name, hyperparameters, message):
    with pytest.raises(ValueError, match=message):
        teachers.make(name, SPACES["unit-2d"], **hyperparameters)


def test_invalid_seed():
    with pytest.raises(ValueError, match="seed must be an integer >= 0 or None; got -1"):
        teachers.make("random", SPACES["unit-2d"], seed=-1)


def test_seedless_teacher_records_a_reproducible_seed():
    first = teachers.make("random", SPACES["unit-2d"])
    again = teachers.make("random", SPACES["unit-2d"], seed=first.seed)
    np.testing.assert_array_equal(first.sample(), again.sample())


def test_update_accepts_dicts_and_rejects_bad_scores():
    teacher = teachers.make("alp-gmm", SPACES["mixed-3d"], seed=0)
    teacher.update({"height": 1.0, "spacing": 2.0, "offset": 0.0}, np.float32(0.5))
    teacher.update([1.0, 2.0, 0.0], np.array(0.25))
    assert teacher.n_updates == 2
    for score in [None, "0.5", [0.5], np.array([0.5]), True, float("nan"), -np.inf]:
        with pytest.raises(ValueError, match="score must be a finite real number"):
            teacher.update([1.0, 2.0, 0.0], score)
    with pytest.raises(ValueError, match=r"'height' = 4 is outside its range \[0, 3\]"):
        teacher.update([4.0, 2.0, 0.0], 0.5)
    assert teacher.n_updates == 2


def test_state_is_refused_by_a_different_teacher():
    alp = teachers.make("alp-gmm", SPACES["unit-2d"], seed=0)
    state = alp.state_dict()
    with pytest.raises(ValueError, match="state is from teacher 'alp-gmm'; this is 'covar-gmm'"):
        teachers.make("covar-gmm", SPACES["unit-2d"]).load_state_dict(state)
    with pytest.raises(ValueError, match="saved with hyperparameters"):
        teachers.make("alp-gmm", SPACES["unit-2d"], fit_rate=100).load_state_dict(state)
    with pytest.raises(ValueError, match="state is for ParamSpace"):
        teachers.make("alp-gmm", SPACES["mixed-3d"]).load_state_dict(state)
    with pytest.raises(ValueError, match="not a teacher state"):
        alp.load_state_dict({"teacher": "alp-gmm"})


class CountingTeacher(Teacher):
    """A ~20-line custom teacher: sample near the params of the best score so far."""

    def __init__(self, param_space, *, seed=None, spread: float = 0.1):
        super().__init__(param_space, seed=seed)
        self.spread = spread
        self.best_params: np.ndarray | None = None
        self.best_score = -np.inf

    def _sample(self):
        if self.best_params is None:
            return self.param_space.sample(self.rng)
        span = self.param_space.high - self.param_space.low
        noise = self.rng.standard_normal(self.param_space.dim)
        return self.param_space.clip(self.best_params + self.spread * span * noise)

    def _update(self, params, score):
        if score > self.best_score:
            self.best_params, self.best_score = params, score

    def _state_dict(self):
        best = None if self.best_params is None else self.best_params.copy()
        return {"best_params": best, "best_score": self.best_score}

    def _load_state_dict(self, state):
        best = state["best_params"]
        self.best_params = None if best is None else np.asarray(best, dtype=np.float64)
        self.best_score = float(state["best_score"])


def test_custom_teacher_registers_and_runs_by_name(tmp_path):
    teachers.register("best-neighbourhood", CountingTeacher, overwrite=True)
    try:
        assert "best-neighbourhood" in teachers.available()
        teacher = teachers.make("best-neighbourhood", SPACES["mixed-3d"], seed=0, spread=0.05)
        check_teacher(teacher)
        for _ in range(50):
            params = teacher.sample()
            teacher.update(params, -float(np.sum((params - [1.0, 1.0, 0.0]) ** 2)))
        path = state_io.save(teacher.state_dict(), tmp_path / "custom")
        restored = teachers.make("best-neighbourhood", SPACES["mixed-3d"], seed=9, spread=0.05)
        restored.load_state_dict(state_io.load(path))
        np.testing.assert_array_equal(restored.sample(), teacher.sample())
        with pytest.raises(ValueError, match="already registered"):
            teachers.register("best-neighbourhood", teachers.RandomTeacher)
    finally:
        teachers.registry._REGISTRY.pop("best-neighbourhood", None)


def test_register_rejects_non_teachers():
    with pytest.raises(ValueError, match="can only register Teacher subclasses"):
        teachers.register("bad", dict)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty string"):
        teachers.register("", teachers.RandomTeacher)


def test_check_teacher_catches_a_broken_teacher():
    class Forgetful(CountingTeacher):
        """Loses its state on load: the round-trip check must notice."""

        def _load_state_dict(self, state):
            pass

    with pytest.raises(AssertionError, match="did not continue"):
        check_teacher(Forgetful(SPACES["unit-2d"], seed=0))

    class GlobalRandom(CountingTeacher):
        """Uses numpy's global RNG, so the same seed does not give the same samples."""

        def _sample(self):
            return np.random.random(self.param_space.dim)  # noqa: NPY002

    with pytest.raises(AssertionError, match="same seed and scores gave different samples"):
        check_teacher(GlobalRandom(SPACES["unit-2d"], seed=0))


def test_no_teacher_touches_numpy_global_rng():
    np.random.seed(123)  # noqa: NPY002
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    for name in teachers.available():
        teacher = teachers.make(name, SPACES["unit-2d"], seed=0)
        for i in range(600):
            teacher.update(teacher.sample(), (i % 7) / 7)
    assert np.random.random() == expected  # noqa: NPY002
