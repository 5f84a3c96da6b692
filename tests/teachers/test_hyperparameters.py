"""Hyperparameters are written once: constructor arguments stored as attributes, listed from the
signature (as scikit-learn's ``get_params`` does)."""

import inspect

import numpy as np
import pytest

import teachgym.teachers as teachers
from teachgym import ParamSpace, state_io
from teachgym.checks import check_probability, check_real
from teachgym.teachers import ALPGMM, GMMTeacher, Teacher, check_teacher
from teachgym.teachers.gmm import MixtureFit

SPACE = ParamSpace(["height", "spacing"], [0, 0], [3, 6])


class NearBest(Teacher):
    """Sample near the best params so far; two hyperparameters, each written once."""

    def __init__(self, param_space, *, seed=None, spread: float = 0.1, random_ratio=0.2):
        super().__init__(param_space, seed=seed)
        self.spread = check_real("spread", spread, low=0.0)
        self.random_ratio = check_probability("random_ratio", random_ratio)
        self.best_params: np.ndarray | None = None
        self.best_score = -np.inf

    def _sample(self) -> np.ndarray:
        if self.best_params is None or self.rng.random() < self.random_ratio:
            return self.param_space.sample(self.rng)
        span = self.param_space.high - self.param_space.low
        draw = self.best_params + self.spread * span * self.rng.standard_normal(len(span))
        return self.param_space.clip(draw)  # a Gaussian draw must be kept inside the bounds

    def _update(self, params: np.ndarray, score: float) -> None:
        if score > self.best_score:
            self.best_params, self.best_score = params, score

    def _state_dict(self) -> dict:
        best = None if self.best_params is None else self.best_params.copy()
        return {"best_params": best, "best_score": self.best_score}

    def _load_state_dict(self, state: dict) -> None:
        best = state["best_params"]
        self.best_params = None if best is None else np.asarray(best, dtype=np.float64)
        self.best_score = float(state["best_score"])


@pytest.fixture
def registered_near_best():
    teachers.register("near-best", NearBest, overwrite=True)
    yield "near-best"
    teachers.registry._REGISTRY.pop("near-best", None)


def test_hyperparameters_come_from_the_signature_and_the_attributes():
    teacher = NearBest(SPACE, seed=0, spread=1, random_ratio=0.5)
    assert teacher.hyperparameters == {"spread": 1.0, "random_ratio": 0.5}
    assert type(teacher.hyperparameters["spread"]) is float  # the checked value is stored
    assert list(NearBest(SPACE).hyperparameters) == ["spread", "random_ratio"]  # signature order
    teacher.spread = 0.3  # an attribute is the one place a hyperparameter lives
    assert teacher.hyperparameters["spread"] == 0.3
    assert repr(teacher) == f"NearBest({SPACE!r}, seed=0, spread=0.3, random_ratio=0.5)"
    with pytest.raises(AttributeError):
        teacher.hyperparameters = {}  # type: ignore[misc]


def test_a_custom_teacher_round_trips_through_make_and_state_dict(registered_near_best, tmp_path):
    teacher = teachers.make(registered_near_best, SPACE, seed=1, spread=0.05)
    assert teacher.hyperparameters == {"spread": 0.05, "random_ratio": 0.2}
    check_teacher(teacher)
    for _ in range(40):
        params = teacher.sample()
        teacher.update(params, -float(np.sum((params - [1.0, 2.0]) ** 2)))
    state = teacher.state_dict()
    assert state["hyperparameters"] == {"spread": 0.05, "random_ratio": 0.2}
    path = state_io.save(state, tmp_path / "near-best")
    rebuilt = teachers.make(registered_near_best, SPACE, seed=9, **teacher.hyperparameters)
    rebuilt.load_state_dict(state_io.load(path))
    for _ in range(20):
        np.testing.assert_array_equal(rebuilt.sample(), teacher.sample())
    with pytest.raises(ValueError, match="saved with hyperparameters"):
        teachers.make(registered_near_best, SPACE, spread=0.5).load_state_dict(state)
    with pytest.raises(
        ValueError, match=r"no hyperparameter\(s\) \['sprad'\].*spread, random_ratio"
    ):
        teachers.make(registered_near_best, SPACE, sprad=0.5)


def test_a_constructor_argument_that_is_not_stored_is_named_with_the_fix():
    class Forgetful(NearBest):
        def __init__(self, param_space, *, seed=None, spread=0.1, patience: int = 3):
            super().__init__(param_space, seed=seed, spread=spread)
            self._patience = patience  # stored under another name: cannot be read back

    teacher = Forgetful(SPACE, seed=0)
    message = r"takes the hyperparameter 'patience' but does not store it: assign self\.patience"
    with pytest.raises(TypeError, match=message):
        teacher.hyperparameters  # noqa: B018
    with pytest.raises(TypeError, match=message):
        teacher.state_dict()
    with pytest.raises(TypeError, match=message):
        check_teacher(teacher)


def test_the_old_relay_to_the_base_class_fails_loudly():
    class OldStyle(Teacher):
        def __init__(self, param_space, *, seed=None, spread=0.1):
            super().__init__(param_space, seed=seed, spread=spread)  # type: ignore[call-arg]

        def _sample(self) -> np.ndarray:
            return self.param_space.sample(self.rng)

        def _update(self, params: np.ndarray, score: float) -> None:
            pass

    with pytest.raises(TypeError, match="spread"):
        OldStyle(SPACE)


def test_star_args_cannot_be_recorded():
    class Positional(NearBest):
        def __init__(self, param_space, *args, seed=None):
            super().__init__(param_space, seed=seed)

    with pytest.raises(TypeError, match=r"Positional.__init__ takes \*args"):
        Positional(SPACE).hyperparameters  # noqa: B018


def test_a_subclass_passing_kwargs_on_lists_its_parents_hyperparameters_first():
    class Sticky(NearBest):
        def __init__(self, param_space, *, seed=None, stick: int = 2, **kwargs):
            super().__init__(param_space, seed=seed, **kwargs)
            self.stick = stick

    teacher = Sticky(SPACE, seed=0, stick=4, random_ratio=0.4)
    assert teacher.hyperparameters == {"spread": 0.1, "random_ratio": 0.4, "stick": 4}
    assert list(teacher.hyperparameters) == ["spread", "random_ratio", "stick"]
    teachers.register("sticky", Sticky)
    try:
        built = teachers.make("sticky", SPACE, seed=0, spread=0.2, stick=1)
        assert built.hyperparameters == {"spread": 0.2, "random_ratio": 0.2, "stick": 1}
        with pytest.raises(ValueError, match="it accepts: spread, random_ratio, stick"):
            teachers.make("sticky", SPACE, nope=1)
    finally:
        teachers.registry._REGISTRY.pop("sticky", None)


def test_a_teacher_without_a_constructor_has_no_hyperparameters():
    class Corner(Teacher):
        def _sample(self) -> np.ndarray:
            return self.param_space.low.copy()

        def _update(self, params: np.ndarray, score: float) -> None:
            pass

    teacher = Corner(SPACE, seed=2)
    assert teacher.hyperparameters == {}
    assert repr(teacher) == f"Corner({SPACE!r}, seed=2)"


@pytest.mark.parametrize("name", teachers.available())
def test_every_registered_teacher_lists_its_signature_and_rebuilds(name):
    teacher = teachers.make(name, SPACE, seed=5)
    parameters = inspect.signature(type(teacher).__init__).parameters
    expected = [key for key in parameters if key not in ("self", "param_space", "seed")]
    assert list(teacher.hyperparameters) == expected
    rebuilt = type(teacher)(teacher.param_space, seed=teacher.seed, **teacher.hyperparameters)
    assert rebuilt.hyperparameters == teacher.hyperparameters
    assert repr(rebuilt) == repr(teacher)


def test_resolved_defaults_and_converted_values_are_what_is_stored():
    teacher = ALPGMM(SPACE, seed=0, fit_rate=np.int64(40), random_ratio=0)
    assert teacher.hyperparameters["bootstrap_episodes"] == 40  # None means fit_rate
    assert type(teacher.hyperparameters["fit_rate"]) is int
    assert type(teacher.hyperparameters["random_ratio"]) is float
    assert teachers.make("riac", SPACE, max_region_size=30).alp_window_size == 30


class MeanScoreGMM(GMMTeacher):
    """A minimal public-base subclass: fit (params ⊕ score), prefer high-scoring components."""

    def __init__(self, param_space, *, seed=None, fit_rate=50, max_components=3):
        super().__init__(param_space, seed=seed, fit_rate=fit_rate, max_components=max_components)
        self._rows: list[np.ndarray] = []

    def _record(self, unit_params: np.ndarray, score: float) -> None:
        self._rows.append(np.append(unit_params, score))

    def _fit_rows(self) -> np.ndarray:
        return np.array(self._rows[-self.fit_rate :])

    def _interest(self, mixture: MixtureFit) -> np.ndarray:
        return mixture.means[:, -1]

    def _state_dict(self) -> dict:
        return {
            "rows": np.array(self._rows).reshape(-1, self.param_space.dim + 1),
            **self._gmm_state(),
        }

    def _load_state_dict(self, state: dict) -> None:
        self._load_gmm_state(state, self.param_space.dim + 1)
        self._rows = list(np.asarray(state["rows"], dtype=np.float64))


def test_gmm_teacher_is_a_public_base():
    teacher = MeanScoreGMM(SPACE, seed=0)
    assert teacher.hyperparameters == {"fit_rate": 50, "max_components": 3}
    assert teacher.bootstrap_episodes == 50 and teacher.criterion == "aic"
    check_teacher(teacher, episodes=300)
    assert issubclass(teachers.ALPGMM, GMMTeacher) and issubclass(teachers.CovarGMM, GMMTeacher)
