"""RIAC (placeholder until the real implementation lands in this session)."""

from __future__ import annotations

import numpy as np

from teachgym.teachers.base import Teacher


class RIAC(Teacher):
    def _sample(self) -> np.ndarray:
        raise NotImplementedError

    def _update(self, params: np.ndarray, score: float) -> None:
        raise NotImplementedError
