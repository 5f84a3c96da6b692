"""Go-Explore phase 2 on its own: ``robustify`` from a hand-built ``Demonstrations`` value, with
no phase-1 agent anywhere (the backward algorithm of Salimans & Chen 2018, as Ecoffet et al. 2019,
section 2.2, use it)."""

from __future__ import annotations

import pickle
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from teachgym.agents.go_explore import Demonstrations, GoExplore
from teachgym.envs import env_factory

# Tiny nets: one thread avoids oversubscribing the CI machine's two cores (as test_go_explore).
torch.set_num_threads(1)

EMPTY = "MiniGrid-Empty-5x5-v0"
# Empty-5x5 starts at (1, 1) facing right with the goal at (3, 3): forward, forward, turn right,
# forward, forward. MiniGrid's reward is 1 - 0.9 * steps / max_steps = 1 - 0.9 * 5 / 100.
FORWARD, RIGHT = 2, 1
SOLUTION = [FORWARD, FORWARD, RIGHT, FORWARD, FORWARD]
SOLUTION_SCORE = 0.955
TINY_PPO = {"n_steps": 64, "batch_size": 64, "n_epochs": 4, "learning_rate": 1e-3}


def _demonstrations(**overrides: Any) -> Demonstrations:
    settings: dict[str, Any] = {
        "env_factory": env_factory(EMPTY, obs="flat"),
        "env_seed": 0,
        "trajectories": ((SOLUTION, SOLUTION_SCORE),),
        "seed": 0,
        "device": "cpu",
    }
    return Demonstrations(**(settings | overrides))


def test_the_hand_written_solution_solves_empty_room() -> None:
    env = _demonstrations().make_env()
    env.reset(seed=0)
    rewards = [env.step(action)[1] for action in SOLUTION]
    assert sum(rewards) == pytest.approx(SOLUTION_SCORE)


def test_robustify_from_hand_built_demonstrations_solves_empty_room() -> None:
    from teachgym.agents.go_explore.robustify import robustify

    model, stats = robustify(
        _demonstrations(),
        30_000,
        n_envs=2,
        window=10,
        threshold=0.2,
        eval_interval=1_000,
        ppo_kwargs=TINY_PPO,
    )
    assert stats["demo_lengths"] == [len(SOLUTION)]
    assert stats["demo_scores"] == [pytest.approx(SOLUTION_SCORE)]
    assert len(stats["start_moves"]) > 1, "the start point moved back"
    assert stats["reached_reset_at"] is not None
    assert stats["final_success_from_reset"] == 1.0
    env = _demonstrations().make_env()
    obs, _ = env.reset(seed=0)
    score, done = 0.0, False
    while not done:
        action, _ = model.predict(obs, deterministic=True)
        obs, reward, terminated, truncated, _ = env.step(int(action))
        score += float(reward)
        done = terminated or truncated
    assert score > 0


def test_same_demonstrations_same_policy() -> None:
    from teachgym.agents.go_explore.robustify import robustify

    def weights() -> list[np.ndarray]:
        model, _ = robustify(
            _demonstrations(), 512, n_envs=2, window=5, stop_on_success=False, ppo_kwargs=TINY_PPO
        )
        return [value.cpu().numpy() for value in model.policy.state_dict().values()]

    for first, second in zip(weights(), weights(), strict=True):
        np.testing.assert_array_equal(first, second)


def test_plain_ppo_needs_no_demonstration_and_no_restore() -> None:
    from teachgym.agents.go_explore.robustify import robustify

    nothing = _demonstrations(trajectories=(), restorable=False)
    model, stats = robustify(nothing, 256, n_envs=2, backward=False, ppo_kwargs=TINY_PPO)
    assert stats["backward"] is False and stats["demo_lengths"] == []
    assert model.num_timesteps >= 256


def test_robustify_refuses_what_it_cannot_use() -> None:
    from teachgym.agents.go_explore.robustify import robustify

    with pytest.raises(ValueError, match="backward=False"):
        robustify(_demonstrations(restorable=False), 256)
    with pytest.raises(RuntimeError, match="explore longer"):
        robustify(_demonstrations(success_score=1.0), 256)
    raw = _demonstrations(env_factory=env_factory(EMPTY, obs="none"))
    with pytest.raises(TypeError, match="Box observation space"):
        robustify(raw, 256)
    with pytest.raises(ValueError, match="total_timesteps must be a positive integer; got 0"):
        robustify(_demonstrations(), 0)
    with pytest.raises(TypeError, match="Demonstrations"):
        robustify([(SOLUTION, SOLUTION_SCORE)], 256)  # type: ignore[arg-type]


def test_demonstrations_are_checked_frozen_copies() -> None:
    actions = np.array(SOLUTION)
    demonstrations = _demonstrations(trajectories=[(actions, np.float32(0.5))])
    stored, score = demonstrations.trajectories[0]
    assert isinstance(demonstrations.trajectories, tuple)
    assert stored.dtype == np.int64 and type(score) is float
    actions[0] = RIGHT
    assert stored[0] == FORWARD, "a copy: the caller's array stays theirs"
    with pytest.raises(ValueError, match="read-only"):
        stored[0] = RIGHT
    with pytest.raises(AttributeError):
        demonstrations.env_seed = 1  # type: ignore[misc]
    assert demonstrations.successful() == demonstrations.trajectories
    assert _demonstrations(success_score=1.0).successful() == ()


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"env_factory": EMPTY}, TypeError, "env_factory must be callable"),
        ({"env_seed": 1.5}, ValueError, "env_seed must be an integer"),
        ({"trajectories": (([0.5, 1], 1.0),)}, ValueError, r"trajectories\[0\]"),
        ({"trajectories": (([-1], 1.0),)}, ValueError, "non-negative"),
        ({"trajectories": (([0], float("nan")),)}, ValueError, "score"),
        ({"success_score": "high"}, ValueError, "success_score"),
        ({"device": None}, ValueError, "device"),
    ],
)
def test_bad_demonstrations_are_named(
    overrides: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        _demonstrations(**overrides)


def test_factory_must_return_an_env() -> None:
    with pytest.raises(TypeError, match=r"not a gym\.Env"):
        _demonstrations(env_factory=lambda: "env").make_env()


def test_go_explore_hands_phase_2_plain_picklable_data() -> None:
    agent = GoExplore(EMPTY, cell_fn="minigrid", seed=3, device="cpu", repeat_action_prob=0.0)
    agent.explore(2_000, callback=lambda a: a.stats.first_success_step is None)
    demonstrations = agent.demonstrations(2)
    assert (demonstrations.env_seed, demonstrations.seed) == (agent.env_seed, agent.seed)
    assert (demonstrations.device, demonstrations.restorable) == ("cpu", True)
    assert demonstrations.success_score == agent.success_score
    best_actions, best_score = demonstrations.trajectories[0]
    np.testing.assert_array_equal(best_actions, agent.best_trajectory())
    assert best_score == agent.best_score
    copy = pickle.loads(pickle.dumps(demonstrations))
    env = copy.make_env()
    assert isinstance(env.observation_space, gym.spaces.Box), "flat MiniGrid observations"
    env.reset(seed=copy.env_seed)
    total = sum(float(env.step(int(a))[1]) for a in copy.trajectories[0][0])
    assert total == pytest.approx(best_score)
    with pytest.raises(ValueError, match="count must be a positive integer"):
        agent.demonstrations(0)


@pytest.mark.parametrize("n_envs", [1, 3, 8])
def test_default_ppo_settings_split_every_rollout_evenly(n_envs: int, tmp_path: Any) -> None:
    """SB3 warns when ``batch_size`` does not divide ``n_steps * n_envs`` (a truncated
    mini-batch each epoch); robustify's own defaults must not, whatever ``n_envs``, nor must
    rebuilding the saved policy (one env)."""
    import warnings

    import torch as th

    from teachgym.agents.go_explore.robustify import DEFAULT_PPO_KWARGS, load_policy, robustify

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, stats = robustify(_demonstrations(), 1, n_envs=n_envs, stop_on_success=False)
        th.save(model.policy.state_dict(), tmp_path / "policy.pt")
        load_policy(_demonstrations(), tmp_path / "policy.pt", stats)
    assert not [str(w.message) for w in caught if "mini-batch" in str(w.message)]
    rollout = DEFAULT_PPO_KWARGS["n_steps"] * n_envs
    assert rollout % stats["ppo_kwargs"]["batch_size"] == 0
    assert model.num_timesteps == rollout  # one rollout
