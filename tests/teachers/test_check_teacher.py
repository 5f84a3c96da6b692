"""``check_teacher`` and the registry teach: a broken rule fails with the rule and its fix, not
with a stray ``AttributeError`` or ``TypeError`` from deep inside (``docs/design.md``,
"Teachers")."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from teachgym import ParamSpace, teachers
from teachgym.teachers import Teacher, check_teacher
from teachgym.teachers.base import SampleOutOfBoundsWarning

SPACE = ParamSpace(["height", "spacing"], [0.0, 0.0], [3.0, 6.0])


class Overshooting(Teacher):
    """Steps past the upper bound of ``spacing`` every time (and relies on clipping)."""

    def _sample(self) -> np.ndarray:
        return np.array([1.0, 6.5])

    def _update(self, params: np.ndarray, score: float) -> None:
        pass


class NoSuperInit(Teacher):
    """Forgets ``super().__init__``: no ``rng``, no counters, no seed."""

    def __init__(self, param_space, *, seed=None, spread: float = 0.1):  # type: ignore[no-untyped-def]
        self.param_space = ParamSpace.coerce(param_space)
        self.spread = spread

    def _sample(self) -> np.ndarray:
        return self.param_space.sample(self.rng)

    def _update(self, params: np.ndarray, score: float) -> None:
        pass


class NoSeedKeyword(Teacher):
    """Its constructor has no ``seed`` keyword, so ``make`` and ``check_teacher`` cannot seed it."""

    def __init__(self, param_space, spread: float = 0.1):  # type: ignore[no-untyped-def]
        super().__init__(param_space)
        self.spread = spread

    def _sample(self) -> np.ndarray:
        return self.param_space.sample(self.rng)

    def _update(self, params: np.ndarray, score: float) -> None:
        pass


# ------------------------------------------------------------------------ samples out of bounds
def test_check_teacher_fails_on_out_of_bounds_samples_and_names_the_fix() -> None:
    with pytest.raises(AssertionError) as failure:
        check_teacher(Overshooting(SPACE, seed=0))
    message = str(failure.value)
    assert "Overshooting._sample()" in message
    assert "spacing=6.5" in message and "[0, 6]" in message
    assert "self.param_space.clip(" in message  # the fix


def test_sample_warns_once_per_teacher_and_still_clips() -> None:
    teacher = Overshooting(SPACE, seed=0)
    with pytest.warns(SampleOutOfBoundsWarning, match=r"Overshooting.*spacing=6\.5") as record:
        first = teacher.sample()
    assert issubclass(record[0].category, UserWarning)
    np.testing.assert_array_equal(first, [1.0, 6.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning from the same teacher would raise
        np.testing.assert_array_equal(teacher.sample(), [1.0, 6.0])
    assert teacher.n_samples == 2
    with pytest.warns(SampleOutOfBoundsWarning):  # another teacher warns again
        Overshooting(SPACE, seed=0).sample()


def test_rounding_at_a_bound_is_not_out_of_bounds() -> None:
    class AtTheEdge(Overshooting):
        def _sample(self) -> np.ndarray:
            return self.param_space.denormalize(np.array([1.0, 1.0])) * (1 + 1e-15)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_teacher(AtTheEdge(SPACE, seed=0), episodes=20)


# ------------------------------------------------------------------------ constructors
def test_check_teacher_names_a_missing_super_init() -> None:
    teacher = NoSuperInit(SPACE)
    with pytest.raises(AssertionError, match=r"NoSuperInit\.__init__ did not call super\(\)"):
        check_teacher(teacher)
    # Used anyway, the teacher says the same instead of "no attribute 'rng'".
    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(param_space, seed=seed\)"):
        teacher.sample()


def test_check_teacher_register_and_make_name_a_missing_seed_keyword() -> None:
    fix = r"NoSeedKeyword\.__init__ must take the keyword argument seed"
    with pytest.raises(AssertionError, match=fix):
        check_teacher(NoSeedKeyword(SPACE))
    with pytest.raises(ValueError, match=fix):
        teachers.register("no-seed", NoSeedKeyword)
    assert "no-seed" not in teachers.available()
    teachers.registry._REGISTRY["no-seed"] = NoSeedKeyword  # registered before the check existed
    try:
        with pytest.raises(ValueError, match=fix + r".*super\(\)\.__init__\(param_space, seed"):
            teachers.make("no-seed", SPACE, seed=0)
    finally:
        teachers.registry._REGISTRY.pop("no-seed", None)


def test_a_constructor_that_passes_keywords_on_may_register() -> None:
    class Thin(Overshooting):
        def __init__(self, param_space, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(param_space, **kwargs)

    teachers.register("thin", Thin)
    try:
        assert teachers.make("thin", SPACE, seed=3).seed == 3
    finally:
        teachers.registry._REGISTRY.pop("thin", None)


# ------------------------------------------------------------------------ the batch API
class SloppyBatch(Teacher):
    """A uniform teacher whose fast ``_sample_batch`` draws in another order than ``_sample``."""

    def _sample(self) -> np.ndarray:
        return self.param_space.sample(self.rng)

    def _sample_batch(self, n: int) -> np.ndarray:
        unit = self.rng.random((self.param_space.dim, n)).T  # column-major: other rows
        return self.param_space.low + unit * (self.param_space.high - self.param_space.low)

    def _update(self, params: np.ndarray, score: float) -> None:
        pass


def test_check_teacher_fails_when_the_batch_api_disagrees_with_one_at_a_time() -> None:
    with pytest.raises(AssertionError, match="sample_batch/update_batch gave other samples"):
        check_teacher(SloppyBatch(SPACE, seed=0), episodes=60)
