"""Reward scaling by a running standard deviation of discounted returns.

Intrinsic rewards have no natural scale: a sum of 147 categorical log-probabilities ranges over
hundreds of nats, an RND prediction error over whatever the networks output. Both Adversarial
Surprise's Control reward (the authors' code, ``NormalizedReturn``) and RND's intrinsic reward
(Burda et al. 2018, §2.4) are divided by a running estimate of the standard deviation of the
discounted return ``R ← γ R + r``, which keeps PPO's value targets near unit scale without
centring the reward (centring would change which behaviour is optimal). Stable-Baselines3's
``VecNormalize`` does the same for env rewards; this is the same arithmetic, reusing its
``RunningMeanStd``, for rewards computed outside a ``VecEnv``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from stable_baselines3.common.running_mean_std import RunningMeanStd

from teachgym.checks import check_int, check_probability

__all__ = ["ReturnNormalizer"]


class ReturnNormalizer:
    """Divide a batch of reward streams by the running std of their discounted returns.

    Args:
        batch_size: Parallel reward streams (one per env).
        gamma: Discount of the tracked return, in [0, 1].
        epsilon: Added to the variance before the square root.

    Raises:
        ValueError: a batch size below 1 or a discount outside [0, 1].
    """

    def __init__(self, batch_size: int, gamma: float = 0.99, epsilon: float = 1e-8) -> None:
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.gamma = check_probability("gamma", gamma)
        self.epsilon = float(epsilon)
        self.returns = np.zeros(self.batch_size, dtype=np.float64)
        self.return_stats = RunningMeanStd(shape=())

    @property
    def std(self) -> float:
        """The current divisor."""
        return float(np.sqrt(self.return_stats.var + self.epsilon))

    def __call__(self, rewards: ArrayLike) -> np.ndarray:
        """Track ``rewards`` (one per stream) in the returns and return them scaled."""
        values = np.asarray(rewards, dtype=np.float64).reshape(self.batch_size)
        self.returns = self.returns * self.gamma + values
        self.return_stats.update(self.returns)
        return values / self.std

    def reset(self, mask: ArrayLike | None = None) -> None:
        """Start the selected streams' returns from zero (their episodes ended)."""
        if mask is None:
            self.returns[:] = 0.0
        else:
            self.returns[np.asarray(mask, dtype=bool)] = 0.0

    def state_dict(self) -> dict[str, Any]:
        """The running statistics as plain numbers (JSON-able)."""
        return {
            "mean": float(self.return_stats.mean),
            "var": float(self.return_stats.var),
            "count": float(self.return_stats.count),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned.

        Raises:
            ValueError: missing keys or a non-positive count or variance.
        """
        try:
            mean, var, count = float(state["mean"]), float(state["var"]), float(state["count"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"bad normalizer state {state!r}: {error}") from None
        if not (var > 0 and count > 0):
            raise ValueError(f"bad normalizer state {state!r}: var and count must be positive")
        self.return_stats.mean = np.array(mean)
        self.return_stats.var = np.array(var)
        self.return_stats.count = count
