"""Teachers: algorithms that choose each episode's parameters from the student's progress.

Build one by name with ``make("alp-gmm", param_space, seed=0)``; add your own with
``register("mine", MyTeacher)``; check it with ``check_teacher(MyTeacher(space))``. A teacher's
constructor stores each hyperparameter in the attribute of the same name; ``hyperparameters``
reads them back from the signature. ``GMMTeacher`` is the base of the Gaussian-mixture teachers.

Run a curriculum with ``TeacherWrapper`` (one env), ``CurriculumVectorEnv`` (Gymnasium vector
envs) or ``CurriculumVecEnv`` (stable-baselines3 VecEnvs, with ``TeacherLoggerCallback``); see
``teachgym.teachers.curriculum``. The SB3 names import stable-baselines3 on first use only.
"""

from typing import TYPE_CHECKING, Any

from teachgym.teachers.alp_gmm import ALPGMM
from teachgym.teachers.base import Teacher
from teachgym.teachers.conformance import check_teacher
from teachgym.teachers.covar_gmm import CovarGMM
from teachgym.teachers.curriculum import (
    CurriculumMismatchError,
    CurriculumVectorEnv,
    TeacherWrapper,
)
from teachgym.teachers.gmm import GMMTeacher
from teachgym.teachers.oracle import OracleTeacher
from teachgym.teachers.random_teacher import RandomTeacher
from teachgym.teachers.registry import available, get_class, make, register
from teachgym.teachers.riac import RIAC

if TYPE_CHECKING:
    from teachgym.teachers.curriculum_sb3 import CurriculumVecEnv, TeacherLoggerCallback

register("alp-gmm", ALPGMM)
register("covar-gmm", CovarGMM)
register("riac", RIAC)
register("random", RandomTeacher)
register("oracle", OracleTeacher)

__all__ = [
    "ALPGMM",
    "RIAC",
    "CovarGMM",
    "CurriculumMismatchError",
    "CurriculumVecEnv",
    "CurriculumVectorEnv",
    "GMMTeacher",
    "OracleTeacher",
    "RandomTeacher",
    "Teacher",
    "TeacherLoggerCallback",
    "TeacherWrapper",
    "available",
    "check_teacher",
    "get_class",
    "make",
    "register",
]

# stable-baselines3 (and torch) load only when an SB3 name is used: the "train" extra is optional.
_SB3_NAMES = ("CurriculumVecEnv", "TeacherLoggerCallback")


def __getattr__(name: str) -> Any:
    if name in _SB3_NAMES:
        from teachgym.teachers import curriculum_sb3

        return getattr(curriculum_sb3, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
