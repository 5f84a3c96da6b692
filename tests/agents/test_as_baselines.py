"""The harness around Adversarial Surprise: coverage metrics read from the room-chain
envs, fixed params for every method, the RND baseline and the random policy."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.vec_env import DummyVecEnv

import teachgym  # noqa: F401  (registers the ids)
from teachgym.agents.adversarial_surprise import (
    CoverageLoggerCallback,
    CoverageMonitor,
    FixedParams,
    RandomPolicy,
    RNDRewardWrapper,
    build_rnd_ppo,
    env_factory,
    evaluate_coverage,
    make_coverage_env,
    mean_coverage,
)
from teachgym.agents.adversarial_surprise.metrics import room_index
from teachgym.envs.grids.noisy_rooms import Room
from teachgym.envs.wrappers import GridImageObs

torch.set_num_threads(1)

ROOMS = "teachgym/NoisyRooms-v0"
TV = "teachgym/NoisyTVRooms-v0"
LEFT, TV_ACTION = 0, 6
ROOM_PARAMS = {"num_rooms": 2, "room_size": 5, "noisy_fraction": 1.0}


def test_room_index_counts_interiors_only() -> None:
    rooms = [Room((0, 0), 5), Room((4, 0), 5)]
    assert room_index(rooms, (1, 1)) == 0
    assert room_index(rooms, (5, 3)) == 1
    assert room_index(rooms, (4, 2)) is None  # the shared wall (or its door)
    assert room_index(rooms, (0, 0)) is None


def test_coverage_monitor_on_noisy_rooms() -> None:
    env = CoverageMonitor(gym.make(ROOMS, max_steps=4))
    env.reset(seed=0, options={"params": ROOM_PARAMS})
    base = env.unwrapped
    start = env.summary()
    assert (start.rooms_visited, start.cells_visited, start.num_rooms) == (1, 1, 2)
    assert start.noisy_rooms == 2 and start.noisy_frozen_fraction == 0
    assert math.isnan(start.tv_adjacent_fraction) and start.as_dict()["tv_switch_fraction"] is None
    base.freeze_room_noise(0)  # what opening the first room's box does
    base.agent_pos = base.rooms[1].interior()[0]  # stand in the second room
    info: dict = {}
    for _ in range(4):
        *_, info = env.step(LEFT)
    assert info["coverage"]["steps"] == 4
    assert info["coverage"]["rooms_visited"] == 2 and info["coverage"]["cells_visited"] == 2
    assert info["coverage"]["noisy_frozen_fraction"] == 0.5


def test_coverage_monitor_times_the_agent_next_to_the_tv() -> None:
    env = CoverageMonitor(gym.make(TV, max_steps=8))
    env.reset(seed=0, options={"params": {"num_rooms": 1, "room_size": 5, "num_tvs": 1}})
    base = env.unwrapped
    (tv_x, tv_y) = base.tv_balls[0].cur_pos
    base.agent_pos = (tv_x + 1, tv_y + 1)  # diagonal neighbour
    env.step(TV_ACTION)
    env.step(LEFT)
    base.agent_pos = (tv_x + 2, tv_y)  # two cells away
    env.step(LEFT)
    env.step(LEFT)
    summary = env.summary()
    assert summary.tv_adjacent_fraction == 0.5 and summary.tv_switch_fraction == 0.25
    assert math.isnan(summary.noisy_frozen_fraction)


def test_tv_in_view_agrees_with_minigrid_agent_sees() -> None:
    env = CoverageMonitor(gym.make(TV, max_steps=64))
    env.reset(seed=0, options={"params": {"num_rooms": 2, "room_size": 5, "num_tvs": 2}})
    base = env.unwrapped
    rng = np.random.default_rng(0)
    seen = []
    for _ in range(64):
        env.step(int(rng.integers(3)))  # turn and walk
        seen.append(any(base.agent_sees(*ball.cur_pos) for ball in base.tv_balls))
    assert 0 < np.mean(seen) < 1
    assert env.summary().tv_in_view_fraction == pytest.approx(np.mean(seen))


def test_mean_coverage_skips_missing_metrics() -> None:
    episodes = [
        {"rooms_visited": 1, "cells_visited": 4, "noisy_frozen_fraction": None},
        {"rooms_visited": 3, "cells_visited": 8, "noisy_frozen_fraction": 0.5},
    ]
    means = mean_coverage(episodes)
    assert means["rooms_visited"] == 2 and means["noisy_frozen_fraction"] == 0.5
    assert math.isnan(means["tv_adjacent_fraction"])


def test_fixed_params_apply_to_every_reset_unless_overridden() -> None:
    env = FixedParams(gym.make(ROOMS), {"num_rooms": 3})
    env.reset(seed=0)
    assert env.unwrapped.layout.num_rooms == 3
    assert env.unwrapped.params_dict["room_size"] == 6  # the rest from defaults
    env.reset(options={"params": {"num_rooms": 1}})
    assert env.unwrapped.layout.num_rooms == 1
    with pytest.raises(ValueError, match="num_rooms"):
        FixedParams(gym.make(ROOMS), {"num_rooms": 40})
    with pytest.raises(ValueError, match="not a teachgym parameterized env"):
        FixedParams(gym.make("CartPole-v1"), {"x": 1.0})


def test_random_policy_evaluation_is_seeded() -> None:
    def make() -> gym.Env:
        return make_coverage_env(ROOMS, env_params=ROOM_PARAMS, episode_length=12, obs="auto")

    first = evaluate_coverage(RandomPolicy(make().action_space, seed=1), make, episodes=3, seed=5)
    again = evaluate_coverage(RandomPolicy(make().action_space, seed=1), make, episodes=3, seed=5)
    assert first == again and [episode.steps for episode in first] == [12, 12, 12]
    with pytest.raises(ValueError, match="episodes must be a positive integer; got 0"):
        evaluate_coverage(RandomPolicy(make().action_space), make, episodes=0)


def rnd_venv(seed: int) -> RNDRewardWrapper:
    factory = env_factory(ROOMS, {}, ROOM_PARAMS, 16, obs="auto")
    venv = DummyVecEnv([factory, factory])
    venv.seed(seed)
    return RNDRewardWrapper(venv, seed=seed, device="cpu", update_interval=4, batch_size=8)


def test_rnd_reward_is_the_normalised_prediction_error_and_is_seeded() -> None:
    def rollout(seed: int) -> tuple[np.ndarray, list[float]]:
        venv = rnd_venv(seed)
        venv.reset()
        rewards, raw = [], []
        for step in range(8):
            _, reward, _, infos = venv.step(np.array([step % 3, 2]))
            rewards.append(reward)
            raw.extend(info["intrinsic_reward"] for info in infos)
        return np.array(rewards), raw

    rewards, raw = rollout(0)
    again, _ = rollout(0)
    np.testing.assert_array_equal(rewards, again)
    assert (rewards > 0).all() and all(value > 0 for value in raw)
    assert not np.array_equal(rewards, rollout(1)[0])


def test_rnd_predictor_learns_what_it_sees() -> None:
    venv = rnd_venv(0)
    obs = venv.reset()
    before = venv.intrinsic_reward(obs).mean()
    for _ in range(10):
        venv._memory = [venv._whiten(np.asarray(obs, dtype=np.float32))] * 4
        venv._train_predictor()
    assert venv.intrinsic_reward(obs).mean() < before / 2


def test_rnd_rejects_observations_that_are_not_flat() -> None:
    venv = DummyVecEnv([lambda: GridImageObs(gym.make(ROOMS))])
    with pytest.raises(ValueError, match="RND needs flat Box observations"):
        RNDRewardWrapper(venv)


def test_rnd_ppo_trains_and_logs_coverage() -> None:
    model = build_rnd_ppo(
        ROOMS,
        n_envs=2,
        env_params=ROOM_PARAMS,
        episode_length=16,
        seed=0,
        device="cpu",
        ppo_kwargs={
            "n_steps": 16,
            "batch_size": 16,
            "n_epochs": 1,
            "policy_kwargs": {"net_arch": [8]},
        },
        rnd_kwargs={"update_interval": 8},
    )
    callback = CoverageLoggerCallback()
    model.learn(64, callback=callback)
    assert [steps for steps, _ in callback.history] == [32, 64]
    assert callback.history[-1][1]["rooms_visited"] >= 1
    assert not math.isnan(model.get_env().predictor_loss)  # type: ignore[union-attr]


def _bench_module() -> Any:
    """The benchmark script, imported from its path (benchmarks/ is not a package)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_adversarial_surprise.py"
    spec = importlib.util.spec_from_file_location("bench_adversarial_surprise", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(method: str, seed: int, rooms: float, frozen: float) -> dict[str, Any]:
    evaluation = {"rooms_visited": rooms, "cells_visited": 5.0, "noisy_frozen_fraction": frozen}
    return {"method": method, "seed": seed, "train_seconds": 60.0, "eval": evaluation, "curve": []}


def test_bench_claims_compare_means_with_a_welch_test() -> None:
    bench = _bench_module()
    runs = [
        _run("as", 0, 2.0, 0.1),
        _run("as", 1, 2.2, 0.3),
        _run("rnd", 0, 1.0, 0.15),
        _run("rnd", 1, 1.1, 0.25),
        _run("random", 0, 1.0, 0.45),
        _run("random", 1, 1.2, 0.55),
    ]
    summary = bench.summarise(runs, bench.FAMILIES["rooms"]["metrics"])
    assert summary["as"]["eval"]["rooms_visited"]["mean"] == pytest.approx(2.1)
    claims = bench.check_claims(runs, summary, "rooms")
    rooms = claims["as_visits_more_rooms_than_rnd_and_random"]
    assert rooms["holds"] is True
    assert rooms["against"]["rnd"]["means"] == pytest.approx([2.1, 1.05])
    assert 0 < rooms["against"]["rnd"]["p_welch_one_sided"] < 0.05
    assert rooms["significant_at_0.05"] is True
    frozen = claims["as_freezes_more_noisy_rooms_than_rnd_and_random"]
    assert frozen["holds"] is False  # AS's 0.2 against random's 0.5
    assert frozen["against"]["random"]["p_welch_one_sided"] > 0.5
    assert frozen["significant_at_0.05"] is False
    missing = bench.check_claims(runs[:2], summary, "rooms")
    assert missing["as_visits_more_rooms_than_rnd_and_random"]["holds"] is None


def test_bench_merge_joins_runs_of_one_setting_only(tmp_path: Path) -> None:
    bench = _bench_module()
    header = {"command": "merge", "date": "today", "machine": "here"}
    setting = {
        "env_id": ROOMS,
        "env_params": {"num_rooms": 4},
        "episode_length": 128,
        "n_envs": 8,
        "steps": 1000,
        "eval_episodes": 5,
        "eval_seed": 7,
    }
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({**setting, "runs": [_run("as", 0, 1.0, 0.0)]}))
    second.write_text(json.dumps({**setting, "runs": [_run("as", 1, 2.0, 0.0)]}))
    merged, runs = bench.merge_results([first, second], "rooms", header)
    assert [run["seed"] for run in runs] == [0, 1]
    assert merged["steps"] == 1000 and merged["merged_from"] == [str(first), str(second)]
    second.write_text(json.dumps({**setting, "steps": 2000, "runs": [_run("as", 1, 2.0, 0.0)]}))
    with pytest.raises(SystemExit, match="steps=2000"):
        bench.merge_results([first, second], "rooms", header)
    second.write_text(json.dumps({**setting, "runs": [_run("as", 0, 2.0, 0.0)]}))
    with pytest.raises(SystemExit, match="as seed 0 appears twice"):
        bench.merge_results([first, second], "rooms", header)
    with pytest.raises(SystemExit, match="not the 'tv' family"):
        bench.merge_results([first], "tv", header)
