"""Teachers: algorithms that choose each episode's parameters from the student's progress.

Build one by name with ``make("alp-gmm", param_space, seed=0)``; add your own with
``register("mine", MyTeacher)``; check it with ``check_teacher(MyTeacher(space))``.
"""

from teachgym.teachers.alp_gmm import ALPGMM
from teachgym.teachers.base import Teacher
from teachgym.teachers.conformance import check_teacher
from teachgym.teachers.covar_gmm import CovarGMM
from teachgym.teachers.oracle import OracleTeacher
from teachgym.teachers.random_teacher import RandomTeacher
from teachgym.teachers.registry import available, get_class, make, register
from teachgym.teachers.riac import RIAC

register("alp-gmm", ALPGMM)
register("covar-gmm", CovarGMM)
register("riac", RIAC)
register("random", RandomTeacher)
register("oracle", OracleTeacher)

__all__ = [
    "ALPGMM",
    "RIAC",
    "CovarGMM",
    "OracleTeacher",
    "RandomTeacher",
    "Teacher",
    "available",
    "check_teacher",
    "get_class",
    "make",
    "register",
]
