"""Phase 2's input as plain data: trajectories from one start state, and how to rebuild the env.

Go-Explore's phase 2 (Ecoffet et al. 2019, "Go-Explore: a New Approach for Hard-Exploration
Problems", section 2.2) robustifies the trajectories phase 1 found with the backward algorithm
(Salimans & Chen 2018). It needs no archive and no explorer: only an env to build, the start state
the trajectories begin at, the trajectories themselves and the score that counts as success.
``GoExplore.demonstrations()`` builds a ``Demonstrations`` from its archive; a hand-written
action list, a planner or a human can build one just as well and hand it to
``teachgym.agents.go_explore.robustify.robustify``.

This module imports neither torch nor stable-baselines3, so phase 1 can build the value without
the ``train`` extra.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from teachgym.checks import check_int, check_real

__all__ = ["Demonstrations", "Trajectory"]

#: One demonstration: the actions from ``reset(seed=env_seed)`` and the score they reach.
Trajectory = tuple[np.ndarray, float]


@dataclass(frozen=True, eq=False)
class Demonstrations:
    """Trajectories from one start state, with what phase 2 needs to robustify them.

    Built once and never changed: ``__post_init__`` checks every field, copies each action
    sequence into a read-only ``int64`` array and each score into a ``float``. Equality is
    identity (arrays have no single truth value).

    Attributes:
        env_factory: Returns a fresh env of the kind the trajectories were recorded in; phase 2
            calls it once per PPO env and for each evaluation. Use a picklable callable (a
            module-level function, a ``functools.partial`` of one, ``teachgym.envs.env_factory``)
            so that the value can cross process boundaries.
        env_seed: ``reset(seed=env_seed)`` is the start state every trajectory begins at (the
            env must be deterministic from there, as Go-Explore's phase 1 assumes).
        trajectories: ``(actions, score)`` pairs, best first; ``actions`` are discrete actions
            from that start state.
        success_score: A score above this succeeds: only trajectories above it serve as
            demonstrations, and the policy succeeds from reset when its episode beats it.
        seed: Seeds phase 2's PPO, its envs' start-point draws and self-imitation batches.
        device: Torch device for PPO (``"auto"``: CUDA when present).
        restorable: Whether the env's states can be saved and restored
            (``teachgym.envs.snapshots.with_snapshots``): the backward algorithm starts episodes
            from restored demonstration states, so it needs this; ``False`` allows only plain PPO
            from reset (``robustify(..., backward=False)``).

    Raises:
        TypeError: ``env_factory`` is not callable.
        ValueError: a field has the wrong type or range, or an action sequence is not a 1-D
            sequence of non-negative integers.
    """

    env_factory: Callable[[], gym.Env]
    env_seed: int
    trajectories: tuple[Trajectory, ...]
    success_score: float = 0.0
    seed: int = 0
    device: str = "auto"
    restorable: bool = True

    def __post_init__(self) -> None:
        if not callable(self.env_factory):
            raise TypeError(f"env_factory must be callable; got {self.env_factory!r}")
        trajectories = []
        for index, (actions, score) in enumerate(self.trajectories):
            given = np.asarray(actions)
            integral = given.size == 0 or np.issubdtype(given.dtype, np.integer)
            if given.ndim != 1 or not integral or (given.size and int(given.min()) < 0):
                raise ValueError(
                    f"trajectories[{index}] must hold a 1-D sequence of non-negative integer "
                    f"actions; got {actions!r}"
                )
            array = given.astype(np.int64, copy=True)  # a copy: the caller's array stays theirs
            array.setflags(write=False)
            trajectories.append((array, check_real(f"trajectories[{index}] score", score)))
        if not isinstance(self.device, str):
            raise ValueError(f"device must be a string such as 'cpu'; got {self.device!r}")
        if not isinstance(self.restorable, (bool, np.bool_)):
            raise ValueError(f"restorable must be a bool; got {self.restorable!r}")
        # A frozen dataclass sets its own fields through object.__setattr__.
        object.__setattr__(self, "trajectories", tuple(trajectories))
        object.__setattr__(self, "env_seed", check_int("env_seed", self.env_seed))
        object.__setattr__(self, "success_score", check_real("success_score", self.success_score))
        object.__setattr__(self, "seed", check_int("seed", self.seed))
        object.__setattr__(self, "restorable", bool(self.restorable))

    def successful(self) -> tuple[Trajectory, ...]:
        """The trajectories scoring above ``success_score``, in order.

        Only these are demonstrations: one scoring nothing would count every episode started on
        it as a success and move the start point back for nothing.
        """
        return tuple(pair for pair in self.trajectories if pair[1] > self.success_score)

    def make_env(self) -> gym.Env:
        """A fresh env from ``env_factory``.

        Raises:
            TypeError: the factory returned something other than a ``gymnasium.Env``.
        """
        env = self.env_factory()
        if not isinstance(env, gym.Env):
            raise TypeError(f"the env factory returned {type(env).__name__}, not a gym.Env")
        return env
