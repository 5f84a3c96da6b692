"""Go-Explore (Ecoffet et al. 2019, 2021): archive rules, cells, phase 1 determinism and restore,
save/load, phase 2's backward algorithm. Tiny budgets; the benchmarks are scripts."""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym
import minigrid  # noqa: F401  (registers MiniGrid-* ids)
import numpy as np
import pytest
import torch

from teachgym.agents.go_explore import Archive, CellFn, GoExplore, MiniGridCell, make_cell_fn
from teachgym.agents.go_explore.archive import key_from_json, key_to_json
from teachgym.agents.go_explore.cells import DownscaledCell, downscale

# Tiny nets: one thread avoids oversubscribing the CI machine's two cores (as test_training).
torch.set_num_threads(1)

EMPTY = "MiniGrid-Empty-5x5-v0"
DOORKEY = "MiniGrid-DoorKey-5x5-v0"


def _archive_signature(agent: GoExplore) -> list[tuple[Any, float, int, list[int]]]:
    archive = agent.archive
    return [
        (
            archive.keys[i],
            float(archive.score[i]),
            int(archive.length[i]),
            archive.actions[i].tolist(),
        )
        for i in range(len(archive))
    ]


# --------------------------------------------------------------------------------------------
# Archive.


def test_offer_adds_and_replaces_by_score_then_length() -> None:
    archive = Archive()
    assert archive.offer((1,), 0.0, 10, np.arange(10), "a")
    assert not archive.offer((1,), 0.0, 12, np.arange(12), "b"), "longer, same score: kept"
    assert archive.snapshots[0] == "a"
    assert archive.offer((1,), 0.0, 8, np.arange(8), "c"), "shorter, same score: replaces"
    assert archive.offer((1,), 1.0, 30, np.arange(30), "d"), "higher score: replaces"
    assert not archive.offer((1,), 0.5, 2, np.arange(2), "e"), "lower score: kept"
    assert not archive.offer((1,), 1.0, 30, np.arange(30), "f"), "same score and length: kept"
    assert len(archive) == 1
    assert (archive.score[0], archive.length[0], archive.snapshots[0]) == (1.0, 30, "d")


def test_improvement_resets_chosen_since_new() -> None:
    archive = Archive()
    archive.offer((1,), 0.0, 5, np.arange(5), None)
    archive.chosen_since_new[0] = 7
    archive.offer((1,), 1.0, 5, np.arange(5), None)
    assert archive.chosen_since_new[0] == 0


def test_selection_weights_2021_and_2019() -> None:
    archive = Archive("2021")
    for i in range(3):
        archive.offer((i,), 0.0, 1, np.zeros(1, dtype=np.int64), None, terminal=i == 2)
    archive.seen[:3] = [0, 3, 8]
    assert archive.weights() == pytest.approx([1.0, 0.5, 0.0])
    old = Archive("2019")
    old.offer((0,), 0.0, 1, np.zeros(1, dtype=np.int64), None)
    old.chosen[0], old.seen[0] = 4, 9
    expected = 1 + (0.1 / np.sqrt(4.001) + 1e-5) + (0.0 / np.sqrt(0.001) + 1e-5)
    expected += 0.3 / np.sqrt(9.001) + 1e-5
    assert old.weights() == pytest.approx([expected])


def test_choose_follows_weights() -> None:
    archive = Archive()
    for i in range(2):
        archive.offer((i,), 0.0, 0, np.zeros(0, dtype=np.int64), None)
    archive.seen[:2] = [0, 99]  # weights 1 and 0.1
    rng = np.random.default_rng(0)
    picks = np.bincount([archive.choose(rng) for _ in range(2000)], minlength=2)
    assert picks[0] / picks.sum() == pytest.approx(1 / 1.1, abs=0.03)


def test_archive_arrays_round_trip() -> None:
    archive = Archive()
    archive.offer((1, 2), 0.5, 3, np.array([0, 1, 2]), None, parent=-1)
    archive.offer(b"\x00\x07", 1.0, 1, np.array([2]), None, terminal=True, parent=0)
    archive.seen[:2] = [4, 5]
    archive.chosen[:2] = [3, 1]  # the 2019 selection weights read these two as well
    archive.chosen_since_new[:2] = [2, 0]
    arrays, keys = archive.to_arrays()
    copy = Archive.from_arrays(arrays, keys, selection="2019")
    assert copy.keys == archive.keys
    assert [a.tolist() for a in copy.actions] == [[0, 1, 2], [2]]
    assert copy.seen[:2].tolist() == [4, 5]
    assert copy.chosen[:2].tolist() == [3, 1]
    assert copy.chosen_since_new[:2].tolist() == [2, 0]
    assert copy.score[:2].tolist() == [0.5, 1.0] and copy.length[:2].tolist() == [3, 1]
    assert copy.terminal[:2].tolist() == [False, True]
    assert key_from_json(json.loads(json.dumps(key_to_json(b"\x01")))) == b"\x01"
    with pytest.raises(TypeError, match="tuples of ints or bytes"):
        key_to_json(("a",))


# --------------------------------------------------------------------------------------------
# Cells.


def test_minigrid_cell_tracks_position_carrying_and_doors() -> None:
    env = gym.make(DOORKEY)
    env.reset(seed=3)
    cell = MiniGridCell()
    cell.bind(env)
    base = env.unwrapped
    key = cell(None, env)
    assert key[:2] == tuple(int(v) for v in base.agent_pos)
    assert key[2:4] == (-1, -1)
    assert key[4] == 0b01, "one door, closed and locked"
    base.carrying = base.grid.get(
        *next(
            (x, y)
            for x in range(5)
            for y in range(5)
            if base.grid.get(x, y) is not None and base.grid.get(x, y).type == "key"
        )
    )
    door_pos = next(
        (x, y)
        for x in range(5)
        for y in range(5)
        if base.grid.get(x, y) is not None and base.grid.get(x, y).type == "door"
    )
    door = base.grid.get(*door_pos)
    door.is_locked, door.is_open = False, True
    key = cell(None, env)
    assert key[2] == 5 and key[4] == 0b10, "carrying a key (type 5), door open and unlocked"


def test_downscaled_cell_bins_and_levels() -> None:
    frame = np.zeros((16, 16, 3), dtype=np.uint8)
    frame[:8, :8] = 255
    grey = downscale(frame[..., 0].astype(np.float32), 2, 2, 8)
    assert grey.tolist() == [[7, 0], [0, 0]]
    cell = DownscaledCell(width=11, height=8, levels=8)
    key = cell(np.full((210, 160, 3), 128, dtype=np.uint8), None)  # type: ignore[arg-type]
    assert isinstance(key, bytes) and len(key) == 88 and set(key) == {4}
    with pytest.raises(ValueError, match="levels"):
        DownscaledCell(levels=1)
    with pytest.raises(ValueError, match="unknown cell function 'nope'"):
        make_cell_fn("nope")


# --------------------------------------------------------------------------------------------
# Phase 1.


def test_phase1_finds_the_goal_and_counts_steps() -> None:
    agent = GoExplore(DOORKEY, cell_fn=MiniGridCell(), seed=0, repeat_action_prob=0.0)
    agent.explore(20_000, callback=lambda a: a.stats.first_success_step is None)
    stats = agent.stats
    assert stats.first_success_step is not None and stats.first_success_step <= 20_000
    assert agent.best_score > 0
    assert stats.num_timesteps == stats.first_success_step, "stopped right after the success"
    assert stats.num_timesteps_from_reset > stats.num_timesteps, "returns count their length"
    best = agent.archive.best()
    assert agent.archive.terminal[best], "the goal ends the episode: archived, never chosen"
    assert agent.archive.weights()[best] == 0.0
    # The best trajectory replays from the true reset to the goal.
    env = gym.make(DOORKEY)
    env.reset(seed=agent.env_seed)
    total = sum(env.step(int(a))[1] for a in agent.best_trajectory())
    assert total == pytest.approx(agent.best_score)


def test_phase1_stops_exactly_at_the_budget() -> None:
    agent = GoExplore(EMPTY, cell_fn="minigrid", seed=1)
    agent.explore(1234)
    assert agent.stats.num_timesteps == 1234
    agent.explore(100)
    assert agent.stats.num_timesteps == 1334
    assert agent.stats.history[-1][0] <= 1334 and agent.stats.iterations > 0


def test_deaths_are_not_archived() -> None:
    agent = GoExplore("MiniGrid-LavaGapS5-v0", cell_fn="minigrid", seed=0, repeat_action_prob=0.0)
    agent.explore(5_000)
    archive = agent.archive
    terminal_scores = archive.score[: len(archive)][archive.terminal[: len(archive)]]
    assert np.all(terminal_scores > 0), "only successful terminal states are cells"


def test_same_seed_same_archive_and_different_seed_differs() -> None:
    def run(seed: int) -> GoExplore:
        agent = GoExplore(DOORKEY, cell_fn=MiniGridCell(), seed=seed, repeat_action_prob=0.5)
        return agent.explore(3_000)

    first, second, other = run(4), run(4), run(5)
    assert _archive_signature(first) == _archive_signature(second)
    assert first.archive.seen[: len(first.archive)].tolist() == (
        second.archive.seen[: len(second.archive)].tolist()
    )
    assert _archive_signature(first) != _archive_signature(other)


def test_restoring_a_cell_reproduces_its_state() -> None:
    agent = GoExplore(DOORKEY, cell_fn=MiniGridCell(), seed=2, repeat_action_prob=0.0)
    agent.explore(3_000)
    env = gym.make(DOORKEY)
    cell = MiniGridCell()
    for slot in range(0, len(agent.archive), 3):
        if agent.archive.terminal[slot]:
            continue
        env.reset(seed=agent.env_seed)
        cell.bind(env)  # cell functions bind to the episode's layout at reset
        for action in agent.archive.actions[slot]:
            env.step(int(action))
        assert cell(None, env) == agent.archive.keys[slot]
        agent._return_to(slot)
        assert agent.cell_fn(None, agent.env) == agent.archive.keys[slot]
        assert agent.env.unwrapped.step_count == env.unwrapped.step_count


class _RoundedCartPole(CellFn):
    name = "custom"

    def __call__(self, obs: Any, env: gym.Env) -> tuple[int, ...]:
        return tuple(int(v) for v in np.round(obs * 4))


def test_env_without_snapshots_needs_replay_opt_in() -> None:
    with pytest.raises(TypeError, match="return_mode='replay'"):
        GoExplore("CartPole-v1", cell_fn=_RoundedCartPole())
    agent = GoExplore("CartPole-v1", cell_fn=_RoundedCartPole(), return_mode="replay", seed=0)
    agent.explore(2_000)
    assert agent.stats.num_timesteps >= 2_000, "replayed steps are executed steps"
    assert agent.stats.num_timesteps == agent.stats.num_timesteps_from_reset
    assert agent.best_score > 20


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"explore_steps": 0}, "explore_steps"),
        ({"repeat_action_prob": 1.5}, "repeat_action_prob"),
        ({"return_mode": "teleport"}, "return_mode 'teleport'"),
        ({"selection": "2020"}, "selection '2020'"),
        ({"cell_fn": 3}, "cell_fn"),
    ],
)
def test_bad_settings_are_named(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        GoExplore(EMPTY, **kwargs)


def test_action_repeat_default_depends_on_the_domain() -> None:
    assert GoExplore(EMPTY, cell_fn="minigrid").repeat_action_prob == 0.0
    replay = GoExplore("CartPole-v1", cell_fn=_RoundedCartPole(), return_mode="replay")
    assert replay.repeat_action_prob == 0.95, "the 2019 paper's Atari setting elsewhere"


def test_continuous_actions_are_rejected() -> None:
    with pytest.raises(TypeError, match="discrete actions"):
        GoExplore("Pendulum-v1", return_mode="replay")


# --------------------------------------------------------------------------------------------
# Save / load.


def test_save_load_rebuilds_snapshots_and_continues_identically(tmp_path: Any) -> None:
    agent = GoExplore(DOORKEY, cell_fn=MiniGridCell(), seed=6, repeat_action_prob=0.0)
    agent.explore(4_000)
    agent.save(tmp_path / "agent")
    assert not list((tmp_path / "agent").glob("*.pkl"))
    loaded = GoExplore.load(tmp_path / "agent")
    assert _archive_signature(loaded) == _archive_signature(agent)
    assert loaded.stats == agent.stats
    agent.explore(3_000)
    loaded.explore(3_000)
    assert _archive_signature(loaded) == _archive_signature(agent)


def test_load_checks_the_env_and_the_path(tmp_path: Any) -> None:
    with pytest.raises(FileNotFoundError, match="no saved Go-Explore agent"):
        GoExplore.load(tmp_path / "missing")
    agent = GoExplore(DOORKEY, cell_fn=MiniGridCell(), seed=0, repeat_action_prob=0.0)
    agent.explore(2_000)
    agent.save(tmp_path / "agent")
    with pytest.raises(ValueError, match="not the one explored"):
        GoExplore.load(tmp_path / "agent", env_seed=agent.env_seed + 1)


# --------------------------------------------------------------------------------------------
# Phase 2.

TINY_PPO = {"n_steps": 64, "batch_size": 64, "n_epochs": 4, "learning_rate": 1e-3}


def test_demo_start_env_starts_on_the_demo() -> None:
    from teachgym.agents.go_explore.robustify import DemoStartEnv

    agent = GoExplore(DOORKEY, cell_fn=MiniGridCell(), seed=0, repeat_action_prob=0.0)
    agent.explore(20_000, callback=lambda a: a.stats.first_success_step is None)
    actions = agent.best_trajectory()
    env = DemoStartEnv(
        agent.make_env(), [(actions, agent.best_score)], agent.env_seed, steps_before_end=5
    )
    _, info = env.reset(seed=0)
    assert info["demo_start"] == len(actions) - 5
    reference = gym.make(DOORKEY)
    reference.reset(seed=agent.env_seed)
    for action in actions[: len(actions) - 5]:
        reference.step(int(action))
    assert tuple(env.unwrapped.agent_pos) == tuple(reference.unwrapped.agent_pos)
    assert env.unwrapped.step_count == reference.unwrapped.step_count
    for action in actions[len(actions) - 5 :]:
        _, _, terminated, _, info = env.step(int(action))
    assert terminated and info["demo_success"], "replaying the demo's end succeeds"
    env.set_steps_before_end(len(actions) + 10)
    _, info = env.reset()
    assert info["demo_start"] == 0 and env.unwrapped.step_count == 0


def test_robustify_moves_back_to_reset_and_solves_empty_room(tmp_path: Any) -> None:
    agent = GoExplore(EMPTY, cell_fn=MiniGridCell(), seed=0, repeat_action_prob=0.0, device="cpu")
    agent.explore(5_000, callback=lambda a: a.stats.first_success_step is None)
    agent.robustify(
        30_000, n_envs=2, window=10, threshold=0.2, eval_interval=1_000, ppo_kwargs=TINY_PPO
    )
    stats = agent.robustify_stats
    assert len(stats["start_moves"]) > 1, "the start point moved back"
    assert stats["final_success_from_reset"] == 1.0
    env = agent.make_env()
    obs, _ = env.reset(seed=agent.env_seed)
    action, _ = agent.predict(obs, deterministic=True)
    agent.save(tmp_path / "agent")
    loaded = GoExplore.load(tmp_path / "agent")
    assert loaded.predict(obs, deterministic=True)[0] == action
    assert loaded.robustify_stats["solved_at"] == stats["solved_at"]


def test_predict_before_robustify_is_an_error() -> None:
    agent = GoExplore(EMPTY, cell_fn="minigrid")
    with pytest.raises(RuntimeError, match="robustify"):
        agent.predict(np.zeros(984, dtype=np.float32))


def test_learn_runs_both_phases() -> None:
    agent = GoExplore(EMPTY, cell_fn="minigrid", seed=1, repeat_action_prob=0.0, device="cpu")
    agent.learn(8_000, explore_fraction=0.25, n_envs=2, window=10, ppo_kwargs=TINY_PPO)
    assert agent.stats.num_timesteps == 2_000
    assert agent.policy is not None and agent.robustify_stats["num_timesteps"] > 0


def test_self_imitation_raises_the_demo_actions_probability() -> None:
    from stable_baselines3 import PPO

    from teachgym.agents.go_explore.robustify import _demo_transitions, _self_imitation_update

    agent = GoExplore(DOORKEY, cell_fn=MiniGridCell(), seed=0)
    agent.explore(20_000, callback=lambda a: a.stats.first_success_step is None)
    demos = list(agent.demonstrations(1).trajectories)
    transitions = _demo_transitions(agent.make_env(), demos, agent.env_seed, gamma=0.99)
    assert len(transitions["actions"]) == len(demos[0][0])
    assert transitions["returns"][-1] == pytest.approx(agent.best_score), "last step's return"
    model = PPO("MlpPolicy", agent.make_env(), seed=0, device="cpu")
    obs = torch.as_tensor(transitions["observations"])
    actions = torch.as_tensor(transitions["actions"])

    def mean_log_prob() -> float:
        with torch.no_grad():
            return float(model.policy.evaluate_actions(obs, actions)[1].mean())

    before = mean_log_prob()
    _self_imitation_update(
        model, transitions, updates=200, batch_size=64, weight=1.0, rng=np.random.default_rng(0)
    )
    assert mean_log_prob() > before + 0.05


def test_robustify_with_self_imitation_runs() -> None:
    agent = GoExplore(EMPTY, cell_fn=MiniGridCell(), seed=0, device="cpu")
    agent.explore(5_000, callback=lambda a: a.stats.first_success_step is None)
    agent.robustify(1_000, n_envs=2, self_imitation=True, ppo_kwargs=TINY_PPO)
    assert agent.robustify_stats["num_timesteps"] >= 1_000


def test_box_bits_survive_restores_and_load(tmp_path: Any) -> None:
    # ObstructedMaze-2Dlh has two boxes: re-reading box positions from a restored grid where one
    # is opened would shift the bits, merge different states and break load's replay check.
    agent = GoExplore("MiniGrid-ObstructedMaze-2Dlh-v0", cell_fn=MiniGridCell(), seed=0)
    agent.explore(20_000)
    box_states = {key[5] for key in agent.archive.keys}
    assert box_states >= {0b11, 0b10} or box_states >= {0b11, 0b01}, "a box was opened"
    agent.save(tmp_path / "agent")
    loaded = GoExplore.load(tmp_path / "agent")
    assert _archive_signature(loaded) == _archive_signature(agent)


def test_robustify_checks_its_inputs() -> None:
    agent = GoExplore(EMPTY, cell_fn="minigrid", seed=0, device="cpu")
    agent.explore(500)
    with pytest.raises(ValueError, match="step_back must be a positive integer or None; got 0"):
        agent.robustify(1_000, step_back=0)
    with pytest.raises(ValueError, match="threshold"):
        agent.robustify(1_000, threshold=0.0)
    unscored = GoExplore(EMPTY, cell_fn="minigrid", seed=0, device="cpu")
    unscored.explore(5)  # too short to reach the goal: no demonstration to learn from
    assert unscored.best_score == 0
    with pytest.raises(RuntimeError, match=r"no demonstration scores above.*explore longer"):
        unscored.robustify(1_000)
    replay = GoExplore("CartPole-v1", cell_fn=_RoundedCartPole(), return_mode="replay")
    replay.explore(200)
    with pytest.raises(ValueError, match="backward=False"):
        replay.robustify(1_000)
    raw = GoExplore(gym.make(EMPTY), cell_fn="minigrid")
    raw.explore(200)
    with pytest.raises(TypeError, match="Box observation space"):
        raw.robustify(1_000)


def test_repr_names_the_env_cell_function_archive_and_steps() -> None:
    agent = GoExplore(EMPTY, cell_fn="minigrid", seed=1, repeat_action_prob=0.0)
    assert repr(agent) == (
        "GoExplore(env='MiniGrid-Empty-5x5-v0', cell_fn=MiniGridCell(), seed=1, cells=0, "
        "steps=0, best_score=0, policy=None)"
    )
    agent.explore(300)
    text = repr(agent)
    assert f"cells={len(agent.archive)}," in text and "steps=300," in text
    assert f"best_score={agent.best_score:g}," in text
    downscaled = GoExplore(gym.make("CartPole-v1", render_mode="rgb_array"), return_mode="replay")
    assert repr(downscaled).startswith(
        "GoExplore(env=<CartPole-v1>, cell_fn=DownscaledCell(width=11, height=8, levels=8"
    )
