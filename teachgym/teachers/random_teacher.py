"""Random teacher: uniform sampling over the whole space (domain randomization).

The baseline every curriculum is compared with (Portelas et al. 2019, §5).
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from teachgym.spaces import ParamSpace
from teachgym.teachers.base import Teacher


class RandomTeacher(Teacher):
    """Samples each episode's parameters uniformly from the box and ignores the scores."""

    def __init__(self, param_space: ParamSpace | spaces.Box, *, seed: int | None = None) -> None:
        super().__init__(param_space, seed=seed)

    def _sample(self) -> np.ndarray:
        return self.param_space.sample(self.rng)

    def _sample_batch(self, n: int) -> np.ndarray:
        # One (n, dim) uniform draw consumes the generator's doubles in the order of n
        # one-row draws, so the rows equal n calls of _sample (tests/teachers/test_batch_api.py).
        return self.param_space.sample_many(self.rng, n)

    def _update(self, params: np.ndarray, score: float) -> None:
        pass

    def _update_batch(self, params: np.ndarray, scores: np.ndarray) -> None:
        pass
