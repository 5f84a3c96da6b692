"""The Adversarial Surprise game: round schedule, player observations, Control's raw reward.

Fickinger et al. 2021 ("Explore and Control with Adversarial Surprise", §3, Fig. 1): one body,
two policies. An episode of ``T`` steps is split into rounds of equal length that alternate
between the players (by default 4 rounds of 32: Explore, Control, Explore, Control, as in the
authors' code). A density model is reset at the start of the episode and fitted to the
observations of Control's rounds; Control is rewarded with the log-probability of each of those
observations under the model *before* it is added; Explore, at the last step of each of its
rounds, receives minus Control's return in the round that follows.

This module holds the pieces without networks or envs, so they are tested on their own:

- ``RoundSchedule``: who plays at each step, which Control steps are scored, phase features.
- ``ObservationAdapter``: what the density model sees of an env observation and what the
  players see (``MiniGridAdapter`` for MiniGrid's symbolic view, ``BoxAdapter`` otherwise).
- ``SurpriseGame``: a batch of games in progress: step counters, the batched density model,
  player observations and Control's raw reward.

Scoring only the second half of each Control round (``control_reward_start=0.5``) follows the
authors' code (``--no-reward-time 0.5``): Control gets the first half of its round to reach a
predictable state, and only the observations of the scored half are fitted by the model, so the
model describes where Control settled rather than the path there.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import ArrayLike

from teachgym.agents.adversarial_surprise.density import DensityModel
from teachgym.checks import check_choice, check_int, check_real

__all__ = [
    "CONTROL",
    "EXPLORE",
    "PLAYERS",
    "BoxAdapter",
    "MiniGridAdapter",
    "ObservationAdapter",
    "RoundSchedule",
    "SurpriseGame",
    "make_adapter",
]

EXPLORE = "explore"
CONTROL = "control"
PLAYERS: tuple[str, str] = (EXPLORE, CONTROL)


@dataclass(frozen=True)
class RoundSchedule:
    """Who acts at each step of an episode, and which of Control's steps are scored.

    Steps are numbered ``0 … episode_length - 1``; step ``t`` is the action taken from the
    ``t``-th observation. Rounds alternate between the players, starting with ``first_player``.
    In each Control round, the steps from ``ceil(control_reward_start · round_length)`` on are
    *scored*: the observation that step leads to is scored by the density model (Control's reward)
    and then fitted.

    Attributes:
        episode_length: Steps per episode (``T``).
        num_rounds: Rounds per episode; must divide ``episode_length``.
        first_player: ``"explore"`` or ``"control"``.
        control_reward_start: Fraction of each Control round that goes unscored, in [0, 1); at
            least the last step of every Control round is scored.

    Raises:
        ValueError: any value outside the ranges above, or a schedule in which Control never
            plays (a single Explore round).
    """

    episode_length: int = 128
    num_rounds: int = 4
    first_player: str = EXPLORE
    control_reward_start: float = 0.5

    def __post_init__(self) -> None:
        check_int("episode_length", self.episode_length, minimum=1)
        check_int("num_rounds", self.num_rounds, minimum=1)
        if self.episode_length % self.num_rounds:
            length = self.episode_length
            divisors = [d for d in range(1, length + 1) if length % d == 0]
            raise ValueError(
                f"num_rounds={self.num_rounds} does not divide episode_length="
                f"{self.episode_length}; expected one of {divisors[:12]}"
            )
        check_choice("first_player", self.first_player, PLAYERS)
        if self.num_rounds == 1 and self.first_player == EXPLORE:
            raise ValueError(
                "a schedule of one Explore round has no Control round to score; use "
                "num_rounds >= 2 or first_player='control'"
            )
        check_real(
            "control_reward_start", self.control_reward_start, low=0.0, high=1.0, high_open=True
        )
        if self.first_scored_step > self.round_length - 1:
            raise ValueError(
                f"control_reward_start must be in [0, 1) and leave at least one scored step of "
                f"the {self.round_length}-step rounds; got {self.control_reward_start}"
            )

    # ------------------------------------------------------------------ sizes
    @property
    def round_length(self) -> int:
        """Steps per round."""
        return self.episode_length // self.num_rounds

    @property
    def first_scored_step(self) -> int:
        """Step within a Control round from which its steps are scored."""
        return math.ceil(float(self.control_reward_start) * self.round_length - 1e-9)

    def rounds_of(self, player: str) -> list[int]:
        """Indices of ``player``'s rounds."""
        first = 0 if player == self.first_player else 1
        return list(range(first, self.num_rounds, 2))

    def player_steps(self, player: str) -> int:
        """Steps ``player`` takes per episode."""
        return len(self.rounds_of(player)) * self.round_length

    def first_step(self, player: str) -> int | None:
        """``player``'s first step of an episode (``None`` if it never plays)."""
        rounds = self.rounds_of(player)
        return rounds[0] * self.round_length if rounds else None

    # ------------------------------------------------------------------ per step
    def round_of(self, step: int) -> int:
        """The round step ``step`` belongs to."""
        self._check_step(step)
        return step // self.round_length

    def step_in_round(self, step: int) -> int:
        """Position of ``step`` within its round."""
        self._check_step(step)
        return step % self.round_length

    def player_at(self, step: int) -> str:
        """Who acts at ``step``."""
        first_is_explore = self.first_player == EXPLORE
        return EXPLORE if (self.round_of(step) % 2 == 0) == first_is_explore else CONTROL

    def is_round_end(self, step: int) -> bool:
        """Whether ``step`` is the last of its round."""
        return self.step_in_round(step) == self.round_length - 1

    def is_scored(self, step: int) -> bool:
        """Whether ``step`` is a Control step whose resulting observation is scored and fitted."""
        in_scored_part = self.step_in_round(step) >= self.first_scored_step
        return in_scored_part and self.player_at(step) == CONTROL

    def explore_charged_round(self, explore_round: int) -> int | None:
        """The Control round whose return Explore's round ``explore_round`` is charged with (minus
        it, on that round's last step): the next round, or ``None`` for a last round."""
        following = explore_round + 1
        return following if following < self.num_rounds else None

    # ------------------------------------------------------------------ features
    @property
    def feature_size(self) -> int:
        """Length of ``features``."""
        return 4 + self.num_rounds

    def features(self, steps: ArrayLike) -> np.ndarray:
        """Time and phase features for a batch of step indices, ``(batch, feature_size)``.

        ``[t / T, position in round / round length, one-hot round, Control's turn, scored]``:
        enough for each player to know how long it has left and whose round comes next.
        """
        t = np.asarray(steps, dtype=np.int64).reshape(-1)
        if ((t < 0) | (t >= self.episode_length)).any():
            raise ValueError(f"steps must be in [0, {self.episode_length}); got {t.tolist()}")
        rounds = t // self.round_length
        position = t % self.round_length
        first_is_explore = self.first_player == EXPLORE
        control = ((rounds % 2 == 0) != first_is_explore).astype(np.float32)
        scored = control * (position >= self.first_scored_step)
        one_hot = np.eye(self.num_rounds, dtype=np.float32)[rounds]
        return np.concatenate(
            [
                (t / self.episode_length).astype(np.float32)[:, None],
                (position / self.round_length).astype(np.float32)[:, None],
                one_hot,
                control[:, None],
                scored[:, None],
            ],
            axis=1,
        )

    def _check_step(self, step: int) -> None:
        if not 0 <= step < self.episode_length:
            raise ValueError(f"step {step} is outside the episode [0, {self.episode_length})")


# ---------------------------------------------------------------------------- observations
class ObservationAdapter(ABC):
    """Turns a batch of env observations into what the density model and the players read.

    Attributes:
        model_space: Space of one env's density-model input (what ``make_density_model`` gets).
        feature_size: Length of one env's policy features.
    """

    model_space: spaces.Box
    feature_size: int

    def __init__(self, observation_space: spaces.Space[Any]) -> None:
        self.observation_space = observation_space

    @abstractmethod
    def model_inputs(self, observations: Sequence[Any]) -> np.ndarray:
        """``(batch, *model_space.shape)`` density-model inputs of a list of observations."""

    @abstractmethod
    def policy_features(self, observations: Sequence[Any]) -> np.ndarray:
        """``(batch, feature_size)`` float32 features of a list of observations."""

    @abstractmethod
    def as_list(self, observation: Any) -> tuple[list[Any], bool]:
        """A single observation, a list of them or a VecEnv batch as a list, and whether it was
        a single observation."""


class MiniGridAdapter(ObservationAdapter):
    """MiniGrid's ``Dict`` observation (``image``, ``direction``, ``mission``).

    The density model sees the symbolic ``image``: ``(view, view, 3)`` integer (object, colour,
    state) indices, each channel with its own value set (11, 6 and 3 values in MiniGrid 3).
    The players see the same view one-hot encoded per cell and channel (as
    ``teachgym.envs.wrappers.GridFlatObs``) and the one-hot direction; the mission is dropped
    (constant in teachgym's families).
    """

    def __init__(self, observation_space: spaces.Space[Any]) -> None:
        from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX, STATE_TO_IDX

        super().__init__(observation_space)
        image = _minigrid_image_space(observation_space)
        if image is None:
            raise ValueError(
                "MiniGridAdapter needs a Dict observation with an 'image' Box of shape "
                f"(view, view, 3) and 'direction'; got {observation_space}"
            )
        self.view_shape: tuple[int, int] = (int(image.shape[0]), int(image.shape[1]))
        self.channel_sizes = np.array(
            [len(OBJECT_TO_IDX), len(COLOR_TO_IDX), len(STATE_TO_IDX)], dtype=np.int64
        )
        high = np.broadcast_to(self.channel_sizes - 1, (*self.view_shape, 3))
        self.model_space = spaces.Box(0, high.copy(), shape=(*self.view_shape, 3), dtype=np.int64)
        # Column offsets of each (cell, channel) one-hot block in the flat feature vector.
        cell_size = int(self.channel_sizes.sum())
        channel_offsets = np.concatenate([[0], np.cumsum(self.channel_sizes)[:-1]])
        cells = self.view_shape[0] * self.view_shape[1]
        self._offsets = (np.arange(cells)[:, None] * cell_size + channel_offsets[None, :]).reshape(
            -1
        )
        self._view_features = cells * cell_size
        self.feature_size = self._view_features + 4

    def model_inputs(self, observations: Sequence[Any]) -> np.ndarray:
        return np.stack([np.asarray(obs["image"], dtype=np.int64) for obs in observations])

    def policy_features(self, observations: Sequence[Any]) -> np.ndarray:
        images = self.model_inputs(observations).reshape(len(observations), -1)
        limits = np.tile(self.channel_sizes, images.shape[1] // 3)
        if (images < 0).any() or (images >= limits).any():
            raise ValueError("a MiniGrid image holds an index outside MiniGrid's tables")
        features = np.zeros((len(observations), self.feature_size), dtype=np.float32)
        rows = np.arange(len(observations))[:, None]
        features[rows, self._offsets[None, :] + images] = 1.0
        directions = np.array([int(obs["direction"]) for obs in observations])
        features[np.arange(len(observations)), self._view_features + directions] = 1.0
        return features

    def as_list(self, observation: Any) -> tuple[list[Any], bool]:
        if isinstance(observation, dict):
            image = np.asarray(observation["image"])
            if image.ndim == 3:
                return [observation], True
            direction = np.asarray(observation["direction"]).reshape(-1)
            return [
                {"image": image[i], "direction": direction[i]} for i in range(image.shape[0])
            ], False
        return list(observation), False


class BoxAdapter(ObservationAdapter):
    """A ``Box`` observation: the density model sees it as is; the players see it flattened,
    scaled to [0, 1] when its bounds are finite (so pixel boxes reach the MLP at unit scale)."""

    def __init__(self, observation_space: spaces.Space[Any]) -> None:
        if not isinstance(observation_space, spaces.Box):
            raise ValueError(f"BoxAdapter needs a Box observation space; got {observation_space}")
        super().__init__(observation_space)
        self.model_space = observation_space
        self.feature_size = int(np.prod(observation_space.shape))
        low = np.asarray(observation_space.low, dtype=np.float64).reshape(-1)
        high = np.asarray(observation_space.high, dtype=np.float64).reshape(-1)
        finite = np.isfinite(low) & np.isfinite(high) & (high > low)
        self._low = np.where(finite, low, 0.0)
        self._scale = np.where(finite, 1.0 / np.where(finite, high - low, 1.0), 1.0)

    def model_inputs(self, observations: Sequence[Any]) -> np.ndarray:
        return np.stack([np.asarray(obs) for obs in observations])

    def policy_features(self, observations: Sequence[Any]) -> np.ndarray:
        flat = self.model_inputs(observations).reshape(len(observations), -1).astype(np.float64)
        return ((flat - self._low) * self._scale).astype(np.float32)

    def as_list(self, observation: Any) -> tuple[list[Any], bool]:
        array = np.asarray(observation)
        shape = tuple(self.observation_space.shape or ())
        if array.shape == shape:
            return [array], True
        if array.shape[1:] == shape:
            return list(array), False
        raise ValueError(
            f"expected observations of shape {shape} or (n, *{shape}); got {array.shape}"
        )


def _minigrid_image_space(space: spaces.Space[Any]) -> spaces.Box | None:
    if isinstance(space, spaces.Dict) and "direction" in space.spaces:
        image = space.spaces.get("image")
        if isinstance(image, spaces.Box) and len(image.shape) == 3 and image.shape[2] == 3:
            return image
    return None


def make_adapter(observation_space: spaces.Space[Any]) -> ObservationAdapter:
    """``MiniGridAdapter`` for MiniGrid-style ``Dict`` observations, ``BoxAdapter`` for ``Box``.

    Raises:
        ValueError: any other observation space.
    """
    if _minigrid_image_space(observation_space) is not None:
        return MiniGridAdapter(observation_space)
    if isinstance(observation_space, spaces.Box):
        return BoxAdapter(observation_space)
    raise ValueError(
        "Adversarial Surprise reads MiniGrid-style Dict observations ('image', 'direction') or "
        f"Box observations; got {observation_space}"
    )


# ---------------------------------------------------------------------------- game state
class SurpriseGame:
    """A batch of games in progress: what each player observes and Control's raw reward.

    Holds no networks and steps no env, so the training loop and ``predict`` share it. Each env
    of the batch has its own step counter (``steps``); training keeps them in lockstep, while
    ``predict`` may start envs at different times.

    A player's observation is one float32 vector: the adapter's policy features of the env
    observation, the density model's statistics θ, and the schedule's time/phase features.

    Args:
        schedule: The round schedule.
        adapter: Reads env observations.
        density: The batched density model (one fit per env), reset by ``start``.
    """

    def __init__(
        self, schedule: RoundSchedule, adapter: ObservationAdapter, density: DensityModel
    ) -> None:
        self.schedule = schedule
        self.adapter = adapter
        self.density = density
        self.batch_size = density.batch_size
        self.steps = np.zeros(self.batch_size, dtype=np.int64)
        self.observation_size = (
            adapter.feature_size + density.statistics_size + schedule.feature_size
        )
        self.observation_space = spaces.Box(
            -np.inf, np.inf, shape=(self.observation_size,), dtype=np.float32
        )

    def start(self, mask: ArrayLike | None = None) -> None:
        """Start new episodes in the selected envs: step 0, density model reset."""
        selected = (
            np.ones(self.batch_size, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        )
        self.steps[selected] = 0
        self.density.reset(selected)

    def control_turn(self) -> np.ndarray:
        """Whether each env's next step is Control's, ``(batch,)``."""
        return self.schedule.features(self.steps)[:, -2] > 0.5

    def player_observations(self, observations: Sequence[Any]) -> np.ndarray:
        """The players' view of each env at its current step, ``(batch, observation_size)``."""
        return np.concatenate(
            [
                self.adapter.policy_features(observations),
                self.density.statistics(),
                self.schedule.features(self.steps),
            ],
            axis=1,
        )

    def advance(
        self, next_observations: Sequence[Any], mask: ArrayLike | None = None
    ) -> np.ndarray:
        """Record that the selected envs took their step and saw ``next_observations``.

        Where that step was scored (a Control step past ``first_scored_step``), the
        observation's log-probability under the model so far is Control's raw reward, and the
        observation is then fitted. Returns the raw rewards, ``(batch,)`` (0 where unscored).

        Raises:
            ValueError: an env advanced past the end of its episode.
        """
        selected = (
            np.ones(self.batch_size, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        )
        if (self.steps[selected] >= self.schedule.episode_length).any():
            raise ValueError("an env advanced past the end of its episode; call start() first")
        features = self.schedule.features(np.minimum(self.steps, self.schedule.episode_length - 1))
        scored = selected & (features[:, -1] > 0.5)
        rewards = np.zeros(self.batch_size, dtype=np.float64)
        if scored.any():
            inputs = self.adapter.model_inputs(next_observations)
            rewards[scored] = self.density.log_prob(inputs)[scored]
            self.density.update(inputs, scored)
        self.steps[selected] += 1
        return rewards

    def finished(self) -> np.ndarray:
        """Whether each env has played all ``episode_length`` steps."""
        return self.steps >= self.schedule.episode_length
