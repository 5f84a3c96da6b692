"""Coverage metrics of exploration on teachgym's room-chain grids.

What Adversarial Surprise should show (Fickinger et al. 2021, §5): it covers more of a stochastic
world than curiosity methods and learns to tame the noise it can control, instead of staring at
noise it cannot. ``CoverageMonitor`` measures both per episode, reading the env's own state:

- ``rooms_visited``: distinct rooms whose interior the agent stood in (``NoisyRooms`` and
  ``NoisyTVRooms`` list their rooms in ``env.rooms``; a doorway belongs to no room);
- ``cells_visited``: distinct grid cells the agent stood on;
- ``noisy_frozen_fraction``: of the episode's noisy rooms, the fraction whose box the agent
  opened (``NoisyRooms.noise_frozen``);
- ``tv_adjacent_fraction``: fraction of steps the agent spent next to a TV ball (within one
  cell, diagonals included, or carrying it) in ``NoisyTVRooms``;
- ``tv_in_view_fraction``: fraction of steps with a TV in the agent's view (what makes the TV a
  source of surprise: its colour changes are only observed there);
- ``tv_switch_fraction``: fraction of steps spent on the TV action (``done``) in
  ``NoisyTVRooms``.

A metric that does not apply to the env is ``nan`` (``None`` in ``as_dict``). The monitor also
puts the summary in ``info["coverage"]`` on an episode's last step, for stable-baselines3
training (``CoverageLoggerCallback``). ``evaluate_coverage`` runs any policy with SB3's
``predict`` signature for a number of seeded episodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, SupportsFloat

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from teachgym.checks import check_int

__all__ = [
    "METRIC_NAMES",
    "CoverageLoggerCallback",
    "CoverageMonitor",
    "EpisodeCoverage",
    "Predictor",
    "RandomPolicy",
    "evaluate_coverage",
    "find_coverage_monitor",
    "mean_coverage",
    "room_index",
]

#: The per-episode metrics averaged in reports, in display order.
METRIC_NAMES: tuple[str, ...] = (
    "rooms_visited",
    "cells_visited",
    "noisy_frozen_fraction",
    "tv_adjacent_fraction",
    "tv_in_view_fraction",
    "tv_switch_fraction",
)

_TV_ACTION = 6  # MiniGrid's ``done``; teachgym.envs.grids.noisy_tv.TV_ACTION
_BALL = 6  # minigrid.core.constants.OBJECT_TO_IDX["ball"]


@dataclass(frozen=True)
class EpisodeCoverage:
    """What one episode covered. Metrics that do not apply to the env are ``nan``."""

    steps: int
    """Env steps taken."""
    cells_visited: int
    """Distinct cells the agent stood on (the start cell included)."""
    rooms_visited: float
    """Distinct rooms entered (the start room included); ``nan`` without ``env.rooms``."""
    num_rooms: float
    """Rooms in the layout; ``nan`` without ``env.rooms``."""
    noisy_rooms: float
    """Noisy rooms in the layout (``NoisyRooms``), else ``nan``."""
    noisy_frozen_fraction: float
    """Fraction of the noisy rooms whose box was opened; ``nan`` without noisy rooms."""
    tv_adjacent_fraction: float
    """Fraction of steps next to (or carrying) a TV ball; ``nan`` without TVs."""
    tv_in_view_fraction: float
    """Fraction of steps with a TV in the agent's view (after the step); ``nan`` without TVs."""
    tv_switch_fraction: float
    """Fraction of steps spent on the TV action; ``nan`` without TVs."""

    def as_dict(self) -> dict[str, float | int | None]:
        """JSON-ready: ``nan`` becomes ``None``."""
        return {
            key: (None if isinstance(value, float) and math.isnan(value) else value)
            for key, value in asdict(self).items()
        }


def room_index(rooms: Sequence[Any], cell: tuple[int, int]) -> int | None:
    """Index of the room whose interior holds ``cell`` (walls and doorways are in none).

    Args:
        rooms: Objects with ``top`` (the top-left wall corner) and ``size`` (outer side), as
            ``teachgym.envs.grids.noisy_rooms.Room``.
        cell: ``(x, y)``.
    """
    x, y = int(cell[0]), int(cell[1])
    for index, room in enumerate(rooms):
        x0, y0 = room.top
        if x0 < x < x0 + room.size - 1 and y0 < y < y0 + room.size - 1:
            return index
    return None


class CoverageMonitor(gym.Wrapper):
    """Track one MiniGrid episode's coverage (see the module docstring for the metrics).

    Wrap the raw env (before any observation wrapper); ``summary()`` gives the episode so far,
    and ``info["coverage"]`` holds it (as a dict) on the step that terminates or truncates.

    Args:
        env: A MiniGrid env (``env.unwrapped`` has ``agent_pos``); room, noise and TV metrics
            come from ``rooms``, ``layout.noisy_rooms``/``noise_frozen`` and ``tv_balls`` when
            the env has them.

    Raises:
        ValueError: the env is not a MiniGrid env.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        if not hasattr(env.unwrapped, "agent_pos"):
            raise ValueError(f"CoverageMonitor needs a MiniGrid env; got {env.unwrapped}")
        self._cells: set[tuple[int, int]] = set()
        self._rooms: set[int] = set()
        self._steps = 0
        self._tv_adjacent = 0
        self._tv_in_view = 0
        self._tv_switches = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._cells, self._rooms = set(), set()
        self._steps = self._tv_adjacent = self._tv_in_view = self._tv_switches = 0
        self._record_position()
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._steps += 1
        self._record_position()
        base = self.env.unwrapped
        balls = getattr(base, "tv_balls", None)
        if balls:
            self._tv_switches += int(int(action) == _TV_ACTION)
            self._tv_adjacent += int(self._next_to_tv(base, balls))
            self._tv_in_view += int(self._tv_seen(base, balls, obs))
        if terminated or truncated:
            info["coverage"] = self.summary().as_dict()
        return obs, reward, terminated, truncated, info

    def summary(self) -> EpisodeCoverage:
        """The coverage of the episode so far."""
        base: Any = self.env.unwrapped
        nan = math.nan
        rooms = getattr(base, "rooms", None)
        layout = getattr(base, "layout", None)
        noisy = getattr(layout, "noisy_rooms", None)
        frozen = getattr(base, "noise_frozen", None)
        noisy_count, frozen_fraction = nan, nan
        if noisy is not None and frozen is not None:
            noisy_count = float(len(noisy))
            if noisy:
                frozen_fraction = float(np.mean([bool(frozen[i]) for i in noisy]))
        has_tv = bool(getattr(base, "tv_balls", None))
        steps = max(self._steps, 1)
        return EpisodeCoverage(
            steps=self._steps,
            cells_visited=len(self._cells),
            rooms_visited=float(len(self._rooms)) if rooms else nan,
            num_rooms=float(len(rooms)) if rooms else nan,
            noisy_rooms=noisy_count,
            noisy_frozen_fraction=frozen_fraction,
            tv_adjacent_fraction=self._tv_adjacent / steps if has_tv else nan,
            tv_in_view_fraction=self._tv_in_view / steps if has_tv else nan,
            tv_switch_fraction=self._tv_switches / steps if has_tv else nan,
        )

    def _record_position(self) -> None:
        base: Any = self.env.unwrapped
        cell = (int(base.agent_pos[0]), int(base.agent_pos[1]))
        self._cells.add(cell)
        rooms = getattr(base, "rooms", None)
        if rooms:
            index = room_index(rooms, cell)
            if index is not None:
                self._rooms.add(index)

    @staticmethod
    def _tv_seen(base: Any, balls: Sequence[Any], obs: Any) -> bool:
        image = obs.get("image") if isinstance(obs, dict) else None
        if image is None:
            image = base.gen_obs()["image"]
        for ball in balls:
            if base.carrying is ball:
                return True  # MiniGrid shows what the agent carries in its own view cell
            position = getattr(ball, "cur_pos", None)
            if position is None:
                continue
            view_cell = base.relative_coords(int(position[0]), int(position[1]))
            # A cell hidden behind a wall reads "unseen" in the image, not "ball".
            if view_cell is not None and image[view_cell[0], view_cell[1], 0] == _BALL:
                return True
        return False

    @staticmethod
    def _next_to_tv(base: Any, balls: Sequence[Any]) -> bool:
        x, y = int(base.agent_pos[0]), int(base.agent_pos[1])
        for ball in balls:
            if base.carrying is ball:
                return True
            position = getattr(ball, "cur_pos", None)
            if position is None:
                continue
            if max(abs(int(position[0]) - x), abs(int(position[1]) - y)) <= 1:
                return True
        return False


def find_coverage_monitor(env: gym.Env) -> CoverageMonitor:
    """The ``CoverageMonitor`` in ``env``'s wrapper chain.

    Raises:
        ValueError: there is none.
    """
    current: Any = env
    while isinstance(current, gym.Wrapper):
        if isinstance(current, CoverageMonitor):
            return current
        current = current.env
    raise ValueError(f"no CoverageMonitor in the wrappers of {env}")


def mean_coverage(episodes: Sequence[EpisodeCoverage | dict[str, Any]]) -> dict[str, float]:
    """Mean of each metric in ``METRIC_NAMES`` over episodes, ignoring ``nan``/``None``
    (``nan`` when no episode has the metric)."""
    means: dict[str, float] = {}
    for name in METRIC_NAMES:
        values = []
        for episode in episodes:
            value = episode.get(name) if isinstance(episode, dict) else getattr(episode, name)
            if value is not None and not math.isnan(float(value)):
                values.append(float(value))
        means[name] = float(np.mean(values)) if values else math.nan
    return means


class Predictor(Protocol):
    """Anything with stable-baselines3's ``predict``: SB3 models, ``AdversarialSurprise``,
    ``RandomPolicy``."""

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[Any, Any]: ...


class RandomPolicy:
    """Uniformly random actions, with SB3's ``predict`` signature (the random baseline).

    Args:
        action_space: The env's action space.
        seed: Seed of the action draws.
    """

    def __init__(self, action_space: gym.spaces.Space[Any], seed: int | None = None) -> None:
        self.action_space = action_space
        self.action_space.seed(seed)

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[Any, Any]:
        """A random action (``observation`` and ``deterministic`` are ignored)."""
        return self.action_space.sample(), state


def evaluate_coverage(
    policy: Predictor,
    make_env: Callable[[], gym.Env],
    episodes: int,
    seed: int = 0,
    deterministic: bool = False,
) -> list[EpisodeCoverage]:
    """Run ``policy`` for ``episodes`` episodes and return each one's coverage.

    Episode ``k`` is reset with seed ``seed + k``, so every method meets the same layouts.

    Args:
        policy: Has SB3's ``predict``; gets ``episode_start=True`` on each episode's first step.
        make_env: Builds the env the policy acts in, with a ``CoverageMonitor`` in its wrappers.
        episodes: Number of episodes (at least 1).
        seed: Seed of the first episode.
        deterministic: Passed to ``predict``.

    Raises:
        ValueError: ``episodes`` below 1, or no ``CoverageMonitor`` in the env.
    """
    episodes = check_int("episodes", episodes, minimum=1)
    env = make_env()
    monitor = find_coverage_monitor(env)
    results = []
    try:
        for k in range(int(episodes)):
            obs, _ = env.reset(seed=int(seed) + k)
            state, start, done = None, True, False
            while not done:
                action, state = policy.predict(
                    obs, state=state, episode_start=np.array([start]), deterministic=deterministic
                )
                obs, _, terminated, truncated, _ = env.step(np.asarray(action).reshape(-1)[0])
                start, done = False, terminated or truncated
            results.append(monitor.summary())
    finally:
        env.close()
    return results


class CoverageLoggerCallback(BaseCallback):
    """Log the mean coverage of the episodes finished in each rollout (SB3 callback).

    Reads ``info["coverage"]`` (from a ``CoverageMonitor`` inside each sub-env) and records
    ``coverage/<metric>`` in the model's logger; ``history`` keeps ``(num_timesteps, means)``
    per rollout for plots.
    """

    def __init__(self, verbose: int = 0) -> None:
        super().__init__(verbose)
        self._episodes: list[dict[str, Any]] = []
        self.history: list[tuple[int, dict[str, float]]] = []

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            if "coverage" in info:
                self._episodes.append(info["coverage"])
        return True

    def _on_rollout_end(self) -> None:
        if not self._episodes:
            return
        means = mean_coverage(self._episodes)
        for name, value in means.items():
            if not math.isnan(value):
                self.logger.record(f"coverage/{name}", value)
        self.history.append((int(self.num_timesteps), means))
        self._episodes = []
