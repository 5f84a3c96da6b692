"""Adversarial Surprise: the round schedule, the density models against hand-computed
log-probabilities, reward placement and signs for both players on a scripted env, per-episode
model resets, determinism, save/load, ``predict`` and bad inputs.

Mechanics run on ``StepCounterEnv``, a tiny deterministic env whose observation is a function of
the step count only, so every log-probability can be worked out by hand. Budgets and networks
are tiny: these tests check behaviour, not learning.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

import teachgym  # noqa: F401  (registers the ids)
from teachgym.agents.adversarial_surprise import (
    CONTROL,
    EXPLORE,
    AdversarialSurprise,
    CategoricalDensity,
    GaussianDensity,
    MiniGridAdapter,
    ReturnNormalizer,
    RoundSchedule,
    SMiRL,
    available_density_models,
    make_density_model,
)
from teachgym.envs.wrappers import GridFlatObs

torch.set_num_threads(1)

ROOMS = "teachgym/NoisyRooms-v0"
ROOM_PARAMS = {"num_rooms": 2, "room_size": 5, "noisy_fraction": 0.5, "noise_prob": 1.0}
LOG3 = math.log(3.0)
LOG_FLOOR = math.log(1e-3)


class StepCounterEnv(gym.Env):
    """Observation ``[t mod 3, 1]`` after ``t`` steps, whatever the actions; never ends unless
    ``end_after`` is set (then it terminates on that step)."""

    observation_space = spaces.Box(0, 2, shape=(2,), dtype=np.int64)
    action_space = spaces.Discrete(3)

    def __init__(self, end_after: int | None = None) -> None:
        self.end_after = end_after
        self.t = 0
        self.steps_taken = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.t % 3, 1], dtype=np.int64)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action: Any):
        assert self.action_space.contains(int(action))
        self.t += 1
        self.steps_taken += 1
        terminated = self.end_after is not None and self.t >= self.end_after
        return self._obs(), 0.0, terminated, False, {}


# T = 16 in 4 rounds of 4 (E C E C); Control's steps 2-3 of each round are scored: steps 6, 7, 14
# and 15, which lead to observations [1, 1], [2, 1], [0, 1] and [1, 1].
TINY = {
    "episode_length": 16,
    "num_rounds": 4,
    "density": "categorical",
    "batch_size": 8,
    "n_epochs": 1,
    "net_arch": [8],
}
# log p of those four observations under the model fitted so far (categorical, floor 1e-3):
# empty model -> 1/3 each; then v0 = 2 was never seen -> floor; then v0 = 0 never seen -> floor;
# then v0 = 1 seen once in three.
HAND_LOG_PROBS = [-2 * LOG3, LOG_FLOOR, LOG_FLOOR, -LOG3]


def tiny_agent(cls: type[AdversarialSurprise] = AdversarialSurprise, **overrides: Any) -> Any:
    settings = {**TINY, "n_envs": 2, **overrides}
    if cls is SMiRL:
        for key in ("num_rounds",):
            settings.pop(key, None)
    return cls(StepCounterEnv, seed=0, device="cpu", **settings)


def phase(observations: np.ndarray, length: int = 16) -> np.ndarray:
    """Episode step of stored player observations (the first time feature)."""
    return np.rint(observations[..., -(4 + 4)] * length).astype(int)


# ---------------------------------------------------------------------------------- schedule
def test_default_schedule_is_four_rounds_of_32_explore_first() -> None:
    schedule = RoundSchedule()
    players = [schedule.player_at(t) for t in range(128)]
    assert players == [EXPLORE] * 32 + [CONTROL] * 32 + [EXPLORE] * 32 + [CONTROL] * 32
    assert [t for t in range(128) if schedule.is_round_end(t)] == [31, 63, 95, 127]
    assert [t for t in range(128) if schedule.is_scored(t)] == [*range(48, 64), *range(112, 128)]
    assert schedule.player_steps(EXPLORE) == schedule.player_steps(CONTROL) == 64
    assert schedule.first_step(CONTROL) == 32
    assert [schedule.explore_charged_round(r) for r in (0, 2)] == [1, 3]


def test_schedule_control_first_and_single_round() -> None:
    schedule = RoundSchedule(12, 3, CONTROL, 0.0)
    assert [schedule.player_at(t) for t in (0, 3, 4, 7, 8, 11)] == [CONTROL] * 2 + [EXPLORE] * 2 + [
        CONTROL
    ] * 2
    assert schedule.explore_charged_round(1) == 2
    assert all(schedule.is_scored(t) for t in (0, 1, 2, 3, 8, 11))
    smirl = RoundSchedule(8, 1, CONTROL, 0.0)
    assert smirl.player_steps(EXPLORE) == 0 and smirl.first_step(EXPLORE) is None


def test_schedule_features() -> None:
    schedule = RoundSchedule(16, 4)
    features = schedule.features([0, 6, 15])
    assert features.shape == (3, schedule.feature_size) == (3, 8)
    np.testing.assert_allclose(features[:, 0], [0, 6 / 16, 15 / 16])
    np.testing.assert_allclose(features[:, 1], [0, 2 / 4, 3 / 4])
    np.testing.assert_array_equal(features[:, 2:6].argmax(axis=1), [0, 1, 3])
    np.testing.assert_array_equal(features[:, 6], [0, 1, 1])  # Control's turn
    np.testing.assert_array_equal(features[:, 7], [0, 1, 1])  # scored


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_rounds": 3}, "num_rounds=3 does not divide episode_length=128"),
        ({"num_rounds": 0}, "num_rounds must be a positive integer; got 0"),
        ({"episode_length": 0}, "episode_length must be a positive integer; got 0"),
        ({"first_player": "alice"}, "unknown first_player 'alice'; expected one of"),
        ({"control_reward_start": 1.0}, "control_reward_start must be a finite number in"),
        ({"control_reward_start": -0.1}, "control_reward_start must be a finite number in"),
        ({"control_reward_start": 0.99}, "leave at least one scored step"),
        ({"num_rounds": 1}, "no Control round"),
    ],
)
def test_schedule_rejects_bad_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RoundSchedule(**kwargs)


# ---------------------------------------------------------------------------------- density
def test_categorical_log_probs_match_hand_computed_values() -> None:
    model = CategoricalDensity([3, 2], floor=1e-3)
    assert model.log_prob([[0, 1]])[0] == pytest.approx(-LOG3 - math.log(2))  # empty: uniform
    model.update([[0, 1]])
    model.update([[0, 0]])
    # v0: {0: 2}, v1: {0: 1, 1: 1}
    assert model.log_prob([[0, 1]])[0] == pytest.approx(math.log(0.5))
    assert model.log_prob([[2, 0]])[0] == pytest.approx(LOG_FLOOR + math.log(0.5))
    model.update([[1, 1]])
    assert model.log_prob([[1, 1]])[0] == pytest.approx(math.log(1 / 3) + math.log(2 / 3))
    np.testing.assert_allclose(model.statistics()[0], [2 / 3, 1 / 3, 0, 1 / 3, 2 / 3])
    assert model.counts.tolist() == [3]


def test_categorical_batch_masks_and_resets_are_per_env() -> None:
    model = CategoricalDensity([2, 2], batch_size=2)
    model.update([[1, 1], [0, 0]], mask=[True, False])
    assert model.counts.tolist() == [1, 0]
    np.testing.assert_allclose(model.statistics(), [[0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]])
    np.testing.assert_allclose(model.log_prob([[1, 1], [1, 1]]), [0.0, 2 * math.log(0.5)])
    model.update([[0, 0], [0, 0]])
    model.reset(mask=[True, False])
    assert model.counts.tolist() == [0, 1]
    np.testing.assert_allclose(model.log_prob([[0, 0], [0, 0]]), [2 * math.log(0.5), 0.0])


def test_categorical_from_space_uses_bounds_as_value_sets() -> None:
    model = make_density_model("categorical", spaces.Box(-1, 1, shape=(2,), dtype=np.int64))
    assert model.statistics_size == 6
    model.update([[-1, 1]])
    assert model.log_prob([[-1, 1]])[0] == pytest.approx(0.0)
    assert model.log_prob([[0, 1]])[0] == pytest.approx(LOG_FLOOR)


def test_gaussian_log_probs_match_hand_computed_values() -> None:
    model = GaussianDensity(1, min_std=0.1)
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    assert model.log_prob([[1.0]])[0] == pytest.approx(-0.5 - half_log_2pi)  # N(0, 1)
    model.update([[1.0]])  # one point: std floored at 0.1
    assert model.log_prob([[1.0]])[0] == pytest.approx(-math.log(0.1) - half_log_2pi)
    model.update([[3.0]])  # mean 2, population variance 1
    assert model.log_prob([[2.0]])[0] == pytest.approx(-half_log_2pi)
    assert model.log_prob([[4.0]])[0] == pytest.approx(-2.0 - half_log_2pi)
    np.testing.assert_allclose(model.statistics()[0], [2.0, 1.0])
    model.reset()
    np.testing.assert_allclose(model.statistics()[0], [0.0, 1.0])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: CategoricalDensity([3], floor=-0.1),
            "floor must be a finite number in \\(0, 1\\)",
        ),
        (lambda: CategoricalDensity([3], floor=0.0), "floor must be"),
        (lambda: CategoricalDensity([3], floor=1.0), "floor must be"),
        (lambda: CategoricalDensity([0, 2]), "num_values must be integers of at least 1"),
        (lambda: GaussianDensity(2, min_std=0.0), "min_std must be a finite number > 0; got 0.0"),
        (lambda: make_density_model("kde", spaces.Box(0, 1, (2,))), "unknown density model 'kde'"),
        (
            lambda: make_density_model("categorical", spaces.Box(0.0, 1.0, (2,))),
            "needs discrete observations",
        ),
        (
            lambda: make_density_model("gaussian", spaces.Box(0, 1, (2,)), floor=0.1),
            "bad density_kwargs",
        ),
    ],
)
def test_density_models_reject_bad_arguments(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_density_models_reject_bad_observations() -> None:
    model = CategoricalDensity([3, 3])
    with pytest.raises(
        ValueError, match=r"value 3 of variable 1 \(env 0\) is outside its value set 0…2"
    ):
        model.log_prob([[0, 3]])
    with pytest.raises(ValueError, match="expected 1 observation"):
        model.update([[0, 1, 2]])
    with pytest.raises(ValueError, match="must be integers"):
        model.update([[0.5, 1.0]])
    assert available_density_models() == ["categorical", "gaussian"]


def test_return_normalizer_divides_by_running_return_std() -> None:
    normalizer = ReturnNormalizer(2, gamma=0.5)
    first = normalizer([2.0, 4.0])  # returns [2, 4]
    assert normalizer.returns.tolist() == [2.0, 4.0]
    np.testing.assert_allclose(first, np.array([2.0, 4.0]) / normalizer.std)
    normalizer([0.0, 0.0])
    assert normalizer.returns.tolist() == [1.0, 2.0]
    normalizer.reset(mask=[True, False])
    assert normalizer.returns.tolist() == [0.0, 2.0]
    restored = ReturnNormalizer(2, gamma=0.5)
    restored.load_state_dict(normalizer.state_dict())
    assert restored.std == pytest.approx(normalizer.std)


# ---------------------------------------------------------------------------------- the game
def test_each_player_acts_in_its_own_rounds_only() -> None:
    agent = tiny_agent(normalize_control_reward=False)
    agent.collect_rollout()
    explore = agent.players[EXPLORE].rollout_buffer
    control = agent.players[CONTROL].rollout_buffer
    assert explore.buffer_size == control.buffer_size == 8
    for env in range(2):
        assert phase(explore.observations[:, env]).tolist() == [0, 1, 2, 3, 8, 9, 10, 11]
        assert phase(control.observations[:, env]).tolist() == [4, 5, 6, 7, 12, 13, 14, 15]
    # Each player's first step of the episode is its episode start; nothing else is.
    assert explore.episode_starts[:, 0].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert control.episode_starts[:, 0].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    # The stored actions and log-probabilities are the acting player's own.
    for player, buffer in ((EXPLORE, explore), (CONTROL, control)):
        policy = agent.players[player].policy
        obs = torch.as_tensor(buffer.observations.reshape(16, -1))
        actions = torch.as_tensor(buffer.actions.reshape(16))
        with torch.no_grad():
            _, log_probs, _ = policy.evaluate_actions(obs, actions)
        np.testing.assert_allclose(log_probs.numpy(), buffer.log_probs.reshape(16), atol=1e-5)


def test_rewards_sit_where_the_paper_puts_them_with_hand_computed_values() -> None:
    agent = tiny_agent(normalize_control_reward=False)
    metrics = agent.collect_rollout()
    control = agent.players[CONTROL].rollout_buffer.rewards
    explore = agent.players[EXPLORE].rollout_buffer.rewards
    # Control: unscored first half of each round, then log p before the update.
    expected_control = [0, 0, HAND_LOG_PROBS[0], HAND_LOG_PROBS[1], 0, 0, *HAND_LOG_PROBS[2:]]
    for env in range(2):
        np.testing.assert_allclose(control[:, env], expected_control, rtol=1e-6)
    # Explore: only on the last step of each of its rounds, minus the next Control round's return.
    expected_explore = [0, 0, 0, -sum(HAND_LOG_PROBS[:2]), 0, 0, 0, -sum(HAND_LOG_PROBS[2:])]
    for env in range(2):
        np.testing.assert_allclose(explore[:, env], expected_explore, rtol=1e-6)
    assert (control <= 0).all() and (explore >= 0).all()
    assert metrics["control_log_prob"] == pytest.approx(np.mean(HAND_LOG_PROBS))
    assert metrics["explore_return"] == pytest.approx(-metrics["control_return"])


def test_normalised_rewards_keep_places_and_signs_and_explore_mirrors_control() -> None:
    agent = tiny_agent()
    agent.collect_rollout()
    control = agent.players[CONTROL].rollout_buffer.rewards
    explore = agent.players[EXPLORE].rollout_buffer.rewards
    scored = np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=bool)
    assert (control[~scored] == 0).all() and (control[scored] < 0).all()
    np.testing.assert_allclose(explore[3], -control[0:4].sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(explore[7], -control[4:8].sum(axis=0), rtol=1e-6)
    assert (np.delete(explore, [3, 7], axis=0) == 0).all()
    # The scale is not the raw one: log p of the first scored step divided by the return std.
    assert not np.allclose(control[2], HAND_LOG_PROBS[0])


def test_explore_gets_nothing_for_a_last_round_without_control_after_it() -> None:
    agent = tiny_agent(num_rounds=2, first_player=CONTROL, normalize_control_reward=False)
    agent.collect_rollout()
    assert (agent.players[EXPLORE].rollout_buffer.rewards == 0).all()


def test_density_model_resets_at_every_episode() -> None:
    agent = tiny_agent(normalize_control_reward=False, episodes_per_rollout=2, n_envs=1)
    agent.collect_rollout()
    control = agent.players[CONTROL].rollout_buffer
    expected = [0, 0, HAND_LOG_PROBS[0], HAND_LOG_PROBS[1], 0, 0, *HAND_LOG_PROBS[2:]]
    np.testing.assert_allclose(control.rewards[:, 0], expected * 2, rtol=1e-6)
    assert control.episode_starts[:, 0].tolist() == [1] + [0] * 7 + [1] + [0] * 7
    # Both episodes' first Explore observations carry the empty (uniform) model's statistics.
    explore = agent.players[EXPLORE].rollout_buffer.observations[:, 0]
    stats = slice(2, 2 + 6)
    np.testing.assert_allclose(explore[0, stats], [1 / 3] * 6)
    np.testing.assert_allclose(explore[8, stats], [1 / 3] * 6)
    # ...while Explore's second round sees the model fitted on Control's first round.
    np.testing.assert_allclose(explore[4, stats], [0, 0.5, 0.5, 0, 1, 0])


def test_env_that_ends_early_is_absorbing_until_the_game_ends() -> None:
    made: list[StepCounterEnv] = []

    def factory() -> StepCounterEnv:
        made.append(StepCounterEnv(end_after=5))
        return made[-1]

    settings = {**TINY, "n_envs": 1, "normalize_control_reward": False}
    agent = AdversarialSurprise(factory, seed=0, device="cpu", **settings)
    metrics = agent.collect_rollout()
    assert made[0].steps_taken == 5
    assert metrics["task_ended"] == 1.0
    # After step 5 the observation stays [2, 1]: scored log p as the model learns it is constant.
    rewards = agent.players[CONTROL].rollout_buffer.rewards[:, 0]
    assert rewards[2] == pytest.approx(-2 * LOG3)
    np.testing.assert_allclose(rewards[[3, 6, 7]], 0.0, atol=1e-9)


def test_minigrid_players_see_gridflatobs_codes_model_statistics_and_time() -> None:
    env = gym.make(ROOMS)
    obs, _ = env.reset(seed=3, options={"params": ROOM_PARAMS})
    adapter = MiniGridAdapter(env.observation_space)
    features = adapter.policy_features([obs])[0]
    np.testing.assert_array_equal(features, GridFlatObs(env).observation(obs))
    assert adapter.model_inputs([obs]).shape == (1, 7, 7, 3)
    agent = AdversarialSurprise(
        ROOMS, env_params=ROOM_PARAMS, seed=0, device="cpu", **{**TINY, "n_envs": 1}
    )
    assert agent.game.observation_size == 984 + 980 + 8
    assert agent.game.density.statistics_size == 49 * (11 + 6 + 3)


# ---------------------------------------------------------------------------------- training
def test_same_seed_same_first_episodes_and_update() -> None:
    def run(seed: int) -> tuple[np.ndarray, np.ndarray, list[torch.Tensor]]:
        agent = AdversarialSurprise(
            ROOMS, env_params=ROOM_PARAMS, seed=seed, device="cpu", **{**TINY, "n_envs": 2}
        )
        agent.learn(32)  # one rollout (the first two episodes) and one update per player
        buffer = agent.players[CONTROL].rollout_buffer
        actions, rewards = buffer.actions.copy(), buffer.rewards.copy()
        params = [p.detach().clone() for m in agent.players.values() for p in m.policy.parameters()]
        return actions, rewards, params

    first, again, other = run(7), run(7), run(8)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert all(torch.equal(a, b) for a, b in zip(first[2], again[2], strict=True))
    assert not np.array_equal(first[0], other[0])


def test_learn_on_noisy_rooms_logs_coverage_and_tensorboard(tmp_path: Path) -> None:
    seen: list[dict[str, float]] = []
    agent = AdversarialSurprise(
        ROOMS,
        env_params=ROOM_PARAMS,
        seed=0,
        device="cpu",
        tensorboard_log=str(tmp_path),
        **{**TINY, "n_envs": 2},
    )
    agent.learn(40, callback=lambda _, metrics: seen.append(metrics))
    assert agent.num_timesteps == 64  # two rollouts of 2 envs x 16 steps
    assert len(seen) == 2 and agent.metrics_history == seen
    metrics = seen[-1]
    assert 1 <= metrics["rooms_visited"] <= 2 and metrics["cells_visited"] >= 1
    assert 0 <= metrics["noisy_frozen_fraction"] <= 1 and math.isnan(
        metrics["tv_adjacent_fraction"]
    )
    run = tmp_path / "AdversarialSurprise_1"
    for part in ("game", "explore", "control"):
        assert list((run / part).glob("events.out.tfevents.*")), part
    assert agent.players[CONTROL]._n_updates == 2  # SB3's PPO update, once per rollout


class NoiseSwitchEnv(gym.Env):
    """Action 0 shows a blank observation; the others show random noise."""

    observation_space = spaces.Box(0, 3, shape=(4,), dtype=np.int64)
    action_space = spaces.Discrete(3)

    def reset(self, *, seed: int | None = None, options: Any = None):
        super().reset(seed=seed)
        return np.zeros(4, dtype=np.int64), {}

    def step(self, action: Any):
        quiet = int(action) == 0
        obs = np.zeros(4, dtype=np.int64) if quiet else self.np_random.integers(0, 4, size=4)
        return obs, 0.0, False, False, {}


def test_control_learns_to_silence_the_noise_it_controls() -> None:
    agent = AdversarialSurprise(
        NoiseSwitchEnv,
        seed=0,
        device="cpu",
        **{**TINY, "n_envs": 4, "batch_size": 32, "n_epochs": 4, "net_arch": [16]},
        learning_rate=1e-3,
    )
    agent.learn(5_000)
    agent.collect_rollout()
    buffer = agent.players[CONTROL].rollout_buffer
    observations = torch.as_tensor(buffer.observations.reshape(-1, buffer.obs_shape[0]))
    scored = observations[:, -1] > 0.5
    with torch.no_grad():
        distribution = agent.players[CONTROL].policy.get_distribution(observations[scored])
    assert distribution.distribution.probs[:, 0].mean() > 0.8  # type: ignore[union-attr]
    # Optimal: the empty model's cost (4 variables of 4 values) once, then certainty.
    assert agent.metrics_history[-1]["control_log_prob"] > -2.5


class TrapEnv(gym.Env):
    """A corridor ``x = 0 … 3`` (action 1 steps right, 0 left); reaching ``x = 3`` springs a trap
    that fills the rest of the episode's observations with noise. Observation ``[x, trapped,
    noise, noise, noise]``."""

    observation_space = spaces.Box(0, 3, shape=(5,), dtype=np.int64)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: Any = None):
        super().reset(seed=seed)
        self.x, self.trapped = 0, False
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        noise = self.np_random.integers(0, 4, size=3) if self.trapped else np.zeros(3, np.int64)
        return np.array([self.x, int(self.trapped), *noise], dtype=np.int64)

    def step(self, action: Any):
        self.x = min(3, self.x + 1) if int(action) == 1 else max(0, self.x - 1)
        self.trapped |= self.x == 3
        return self._obs(), 0.0, False, False, {}


def test_explore_learns_to_hand_control_a_noise_it_cannot_escape() -> None:
    # Only Explore's reward (minus Control's next-round return) pays for springing the trap:
    # a random Explore springs it in its first round in 3 of 16 episodes.
    agent = AdversarialSurprise(
        TrapEnv,
        seed=0,
        device="cpu",
        **{**TINY, "n_envs": 8, "batch_size": 32, "n_epochs": 4, "net_arch": [16]},
        learning_rate=1e-3,
    )

    def trapped_when_control_starts() -> float:
        agent.collect_rollout()
        first_control_obs = agent.players[CONTROL].rollout_buffer.observations[0]
        return float((first_control_obs[:, 1] > 0).mean())

    assert trapped_when_control_starts() < 0.5
    agent.learn(6_000)
    assert trapped_when_control_starts() > 0.9


def test_callback_returning_false_stops_learning() -> None:
    agent = tiny_agent()
    agent.learn(10_000, callback=lambda *_: False)
    assert agent.num_timesteps == 32


def test_save_load_round_trip_and_resume(tmp_path: Path) -> None:
    straight = tiny_agent().learn(64)
    first = tiny_agent().learn(32)
    first.save(tmp_path / "agent")
    loaded = AdversarialSurprise.load(tmp_path / "agent", env=StepCounterEnv, device="cpu")
    assert loaded.config == first.config and loaded.num_timesteps == 32
    for player, model in first.players.items():
        for a, b in zip(
            model.policy.parameters(), loaded.players[player].policy.parameters(), strict=True
        ):
            assert torch.equal(a, b)
    # Loading restores the optimisers, reward scale and generators: training goes on as if
    # the agent had never been saved.
    loaded.learn(32)
    for player, model in straight.players.items():
        for a, b in zip(
            model.policy.parameters(), loaded.players[player].policy.parameters(), strict=True
        ):
            assert torch.allclose(a, b, atol=1e-6)


def test_load_errors_name_the_bad_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        AdversarialSurprise.load(tmp_path / "nowhere", env=StepCounterEnv)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"agent\.json is missing"):
        AdversarialSurprise.load(tmp_path / "empty", env=StepCounterEnv)
    tiny_agent().save(tmp_path / "as")
    (tmp_path / "as" / "control.zip").unlink()
    with pytest.raises(FileNotFoundError, match=r"control\.zip is missing"):
        AdversarialSurprise.load(tmp_path / "as", env=StepCounterEnv)
    tiny_agent(SMiRL).save(tmp_path / "smirl")
    with pytest.raises(ValueError, match="holds a 'SMiRL' agent, not 'AdversarialSurprise'"):
        AdversarialSurprise.load(tmp_path / "smirl", env=StepCounterEnv)
    with pytest.raises(ValueError, match="pass env= to load it"):
        SMiRL.load(tmp_path / "smirl")
    assert list(SMiRL.load(tmp_path / "smirl", env=StepCounterEnv).players) == [CONTROL]


def test_save_load_from_env_id_needs_no_env(tmp_path: Path) -> None:
    agent = AdversarialSurprise(
        ROOMS, env_params=ROOM_PARAMS, seed=0, device="cpu", **{**TINY, "n_envs": 1}
    )
    agent.save(tmp_path / "rooms")
    loaded = AdversarialSurprise.load(tmp_path / "rooms")
    assert loaded.config.env_id == ROOMS and loaded.config.env_params == ROOM_PARAMS


def test_predict_plays_the_game_round_by_round() -> None:
    agent = tiny_agent()
    env = StepCounterEnv()
    obs, _ = env.reset()
    state = None
    turns = []
    for t in range(17):
        action, state = agent.predict(obs, state=state, episode_start=[t == 0])
        assert env.action_space.contains(int(action))
        turns.append(bool(state.game.control_turn()[0]))
        if t == 15:  # Control's scored steps 6, 7 and 14 were fitted; step 15's not yet
            assert state.game.density.counts.tolist() == [3]
        obs, *_ = env.step(action)
    # 16 steps of E E E E C C C C E E E E C C C C, then a new game starts with Explore.
    assert turns == [False] * 4 + [True] * 4 + [False] * 4 + [True] * 4 + [False]
    assert state.game.steps.tolist() == [0] and state.game.density.counts.tolist() == [0]
    batch, state = agent.predict([obs, obs, obs])
    assert batch.shape == (3,)
    deterministic = [agent.predict(obs, deterministic=True)[0] for _ in range(3)]
    assert len(set(np.asarray(deterministic).tolist())) == 1


def test_predict_on_minigrid_observations() -> None:
    agent = AdversarialSurprise(
        ROOMS, env_params=ROOM_PARAMS, seed=0, device="cpu", **{**TINY, "n_envs": 1}
    )
    env = agent.envs[0]  # MiniGrid's step limit was set to the game's 16 steps
    obs, _ = env.reset(seed=1)
    state, start = None, True
    for _ in range(20):
        action, state = agent.predict(obs, state=state, episode_start=[start])
        obs, _, terminated, truncated, _ = env.step(action)
        start = terminated or truncated
        if start:
            obs, _ = env.reset()
    assert state.game.steps.tolist() == [3]


def test_smirl_is_one_control_round_scoring_every_step() -> None:
    agent = tiny_agent(SMiRL, normalize_control_reward=False)
    assert list(agent.players) == [CONTROL]
    agent.collect_rollout()
    rewards = agent.players[CONTROL].rollout_buffer.rewards[:, 0]
    assert rewards.shape == (16,) and (rewards < 0).all()
    assert rewards[0] == pytest.approx(-2 * LOG3)  # observation [1, 1] under the empty model
    agent.learn(32)
    with pytest.raises(ValueError, match="SMiRL fixes \\['num_rounds'\\]"):
        SMiRL(StepCounterEnv, num_rounds=4)


# ---------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("env", "kwargs", "message"),
    [
        ("teachgym/NoSuchEnv-v0", {}, "cannot make env 'teachgym/NoSuchEnv-v0'"),
        (StepCounterEnv, {"num_rounds": 5}, "num_rounds=5 does not divide episode_length=16"),
        (StepCounterEnv, {"batch_size": 64}, "batch_size=64 is larger than the 8 samples"),
        (StepCounterEnv, {"n_envs": 0}, "n_envs must be a positive integer; got 0"),
        (StepCounterEnv, {"gamma": 1.5}, "gamma must be a finite number in \\[0, 1\\]; got 1.5"),
        (StepCounterEnv, {"net_arch": [0]}, "net_arch\\[0\\] must be a positive integer; got 0"),
        (StepCounterEnv, {"net_arch": 64}, "net_arch must be a list of positive ints"),
        (StepCounterEnv, {"density": "kde"}, "unknown density model 'kde'"),
        (StepCounterEnv, {"density_kwargs": {"floor": -1.0}}, "floor must be a finite number"),
        (StepCounterEnv, {"rounds": 4}, "unknown argument\\(s\\) \\['rounds'\\]"),
        (StepCounterEnv(), {"n_envs": 2}, "an env instance plays one game at a time"),
        (
            ROOMS,
            {"env_params": {"num_rooms": 9}},
            "num_rooms",
        ),
        (42, {}, "env must be an env id, a function returning an env, or an env"),
    ],
)
def test_bad_inputs_raise_value_errors_naming_them(env: Any, kwargs: Any, message: str) -> None:
    settings = {**TINY, "n_envs": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        AdversarialSurprise(env, device="cpu", **settings)


def test_bad_learn_and_predict_calls() -> None:
    agent = tiny_agent()
    with pytest.raises(ValueError, match="total_timesteps must be a positive integer; got 0"):
        agent.learn(0)
    with pytest.raises(ValueError, match="expected observations of shape \\(2,\\)"):
        agent.predict(np.zeros(5))


def test_gaussian_model_for_continuous_observations() -> None:
    class Drift(gym.Env):
        observation_space = spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float32)
        action_space = spaces.Discrete(2)

        def reset(self, *, seed: int | None = None, options: Any = None):
            super().reset(seed=seed)
            self.x = np.zeros(3, dtype=np.float32)
            return self.x.copy(), {}

        def step(self, action: Any):
            self.x += float(action) - 0.5
            return self.x.copy(), 0.0, False, False, {}

    agent = AdversarialSurprise(
        Drift, seed=0, device="cpu", **{**TINY, "density": "auto", "n_envs": 2}
    )
    assert isinstance(agent.game.density, GaussianDensity)
    assert agent.game.observation_size == 3 + 6 + 8
    agent.learn(16)
