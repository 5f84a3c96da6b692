"""``BatchedGridNavigation``: conformance with the MiniGrid-based family, determinism, bad input."""

from __future__ import annotations

import sys
from collections import deque

import gymnasium as gym
import numpy as np
import pytest
import torch
from batched_harness import (
    STATE_NAMES,
    check_bad_actions,
    check_bad_params,
    check_books,
    check_constructor_rejects,
    check_seeding,
    check_step,
    load_references,
    play,
    state_unchanged,
)

import teachgym  # noqa: F401  (registers the env ids)
from teachgym.envs.batched import GRID_NAVIGATION_PARAM_SPACE, BatchedGridNavigation
from teachgym.envs.batched.grid_navigation import EMPTY, GOAL, LAVA, WALL

NAV = "teachgym/GridNavigation-v0"


def test_param_space_equals_the_minigrid_family() -> None:
    env = check_books(BatchedGridNavigation, NAV, GRID_NAVIGATION_PARAM_SPACE, num_actions=False)
    env.close()


def test_the_module_does_not_import_minigrid() -> None:
    import subprocess

    code = (
        "import sys; import teachgym.envs.batched; "
        "assert not any(m.startswith('minigrid') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dynamics_match_minigrid_step_for_step() -> None:
    """Layouts of the MiniGrid-based env, loaded into the batched env, play identically."""
    num_envs = 120
    rng = np.random.default_rng(0)
    # Params across the space, sealed corner included; half the envs in small rooms so that
    # truncation happens within the test's steps.
    params = GRID_NAVIGATION_PARAM_SPACE.sample_many(rng, num_envs)
    params[: num_envs // 2, 0] = rng.uniform(5.0, 6.4, num_envs // 2)
    params[: num_envs // 2, 3] = rng.uniform(0.0, 0.05, num_envs // 2)
    references = []
    for i in range(num_envs):
        env = gym.make(NAV).unwrapped
        obs, _ = env.reset(seed=i, options={"params": params[i]})
        references.append((env, obs))
    batched = BatchedGridNavigation(num_envs, seed=0)
    load_references(batched, references, params)

    live = np.ones(num_envs, dtype=bool)
    outcomes = {"goal": 0, "lava": 0, "truncated": 0}
    for _ in range(max(env.max_steps for env, _ in references)):
        if not live.any():
            break
        actions = rng.integers(0, 7, num_envs)
        # Lean forward a little so that goals and lava are reached within the test's steps.
        actions = np.where(rng.random(num_envs) < 0.3, 2, actions)
        step = batched.step(torch.as_tensor(actions))
        for i in np.flatnonzero(live):
            ref_step = references[i][0].step(int(actions[i]))
            _, ref_reward, _, ref_truncated, _ = ref_step
            if check_step(i, step, ref_step, params):
                live[i] = False
                if ref_truncated:
                    outcomes["truncated"] += 1
                elif ref_reward > 0:
                    outcomes["goal"] += 1
                else:
                    outcomes["lava"] += 1
    assert not live.any()
    # The test exercised every way an episode ends.
    assert min(outcomes.values()) >= 3, outcomes


def _play(env: BatchedGridNavigation, seed: int, steps: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(123)
    return play(
        env,
        seed,
        steps,
        lambda n: torch.randint(0, 7, (n,), generator=generator),
        lambda env, info: info["params"],
        with_grid=False,
    )


def test_same_seed_same_episodes() -> None:
    check_seeding(lambda seed: BatchedGridNavigation(64, seed=seed), _play)


def _shortest_safe_path(objects: np.ndarray, start: tuple[int, int]) -> int | None:
    queue, seen = deque([(start, 0)]), {start}
    while queue:
        (x, y), dist = queue.popleft()
        if objects[x, y] == GOAL:
            return dist
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if (nx, ny) not in seen and objects[nx, ny] in (EMPTY, GOAL):
                seen.add((nx, ny))
                queue.append(((nx, ny), dist + 1))
    return None


def test_generated_layouts_follow_the_family_rules() -> None:
    num_envs = 200
    env = BatchedGridNavigation(num_envs, seed=3)
    params = GRID_NAVIGATION_PARAM_SPACE.sample_many(np.random.default_rng(3), num_envs)
    env.set_next_params(np.arange(num_envs), params)
    _, info = env.reset()
    np.testing.assert_array_equal(info["params"].numpy(), params)
    assert not env.has_pending.any()
    for i in range(num_envs):
        room_size, goal_distance, wall_density, lava_density = params[i]
        n = int(np.floor(room_size + 0.5))
        sealed = lava_density >= 0.5
        objects = env.grid[i, 0].numpy()
        colours = env.grid[i, 1].numpy()
        assert int(env.max_steps[i]) == 4 * n * n
        assert (objects[n - 1 :, :] == WALL).all() and (objects[:, n - 1 :] == WALL).all()
        assert (objects[0, :] == WALL).all() and (objects[:, 0] == WALL).all()
        assert (objects == GOAL).sum() == 1
        assert (colours[objects == WALL] == 5).all() and (colours[objects == LAVA] == 0).all()
        ax, ay = env.agent_pos[i].tolist()
        assert objects[ax, ay] == EMPTY
        gx, gy = np.argwhere(objects == GOAL)[0]
        longest = 2 * (n - 3)
        distance = min(max(int(np.floor(goal_distance * longest + 0.5)), 1), longest)
        if sealed:
            distance = max(distance, 2)
        assert abs(gx - ax) + abs(gy - ay) == distance
        interior = objects[1 : n - 1, 1 : n - 1]
        walls, lava = int((interior == WALL).sum()), int((interior == LAVA).sum())
        if sealed:
            ring = [(gx + 1, gy), (gx - 1, gy), (gx, gy + 1), (gx, gy - 1)]
            ring = [(x, y) for x, y in ring if 1 <= x <= n - 2 and 1 <= y <= n - 2]
            assert all(objects[x, y] == LAVA for x, y in ring)
            assert _shortest_safe_path(objects, (ax, ay)) is None
            free = (n - 2) ** 2 - 2 - len(ring)
            lava -= len(ring)
        else:
            assert _shortest_safe_path(objects, (ax, ay)) == distance
            free = (n - 2) ** 2 - 1 - distance  # agent, path cells and goal excluded
        expected_walls = int(np.floor(wall_density * free + 0.5))
        assert walls == expected_walls
        assert lava == min(int(np.floor(lava_density * free + 0.5)), free - expected_walls)


def test_autoreset_is_same_step_and_uses_the_pending_slot() -> None:
    env = BatchedGridNavigation(4, seed=0)
    env.reset()
    easy = [[5.0, 0.0, 0.0, 0.0]] * 4
    # A 5 × 5 room, goal next to the agent; turn until it is ahead, then walk.
    env.set_next_params([0, 1, 2, 3], easy)
    env.step(torch.full((4,), 6))  # no-op action; pending kept until a reset
    assert env.has_pending.all()
    hard = [15.0, 1.0, 0.0, 0.0]
    env.set_next_params([2], [hard])
    env.reset()
    np.testing.assert_array_equal(env.params[0].numpy(), easy[0])
    np.testing.assert_array_equal(env.params[2].numpy(), hard)
    for _ in range(8):
        before = env.params.clone()
        obs, _, terminated, truncated, info = env.step(torch.tensor([2, 0, 1, 2]))
        done = terminated | truncated
        if done.any():
            assert torch.equal(info["_final_obs"], done)
            assert torch.equal(info["final_params"][done], before[done])
            assert (env.step_count[done] == 0).all()
            assert torch.equal(obs["direction"][done], env.agent_dir[done])


def test_bad_input_is_rejected_and_leaves_state_unchanged() -> None:
    check_constructor_rejects(BatchedGridNavigation, devices=("gpu", "cuda:x", 3))

    env = BatchedGridNavigation(3, seed=1)
    env.reset()
    with state_unchanged(env, (*STATE_NAMES, "pending_params", "has_pending")):
        _reject_bad_input(env)


def _reject_bad_input(env: BatchedGridNavigation) -> None:
    check_bad_actions(
        env,
        (torch.tensor([[0, 1, 2]]), "shape"),
        (np.array([True, False, True]), "dtype"),
        (np.array([-1, 0, 0]), r"0\.\.6"),
    )
    bad_params = [
        ([0], [[9.0, 0.5, 0.1]], "shape"),
        ([0], [9.0, 0.5, 0.1, 0.1], "shape"),
        ([0, 1], [[9.0, 0.5, 0.1, 0.1]], "shape"),
        ([0, 1], [[9.0, 0.5, 0.1, 0.1], [16.0, 0.5, 0.1, 0.1]], "room_size"),
        ([2], [[9.0, 0.5, 0.1, float("nan")]], "lava_density"),
        ([3], [[9.0, 0.5, 0.1, 0.1]], "indices"),
        ([1, 1], [[9.0, 0.5, 0.1, 0.1]] * 2, "distinct"),
        ([0.5], [[9.0, 0.5, 0.1, 0.1]], "indices"),
    ]
    check_bad_params(env, bad_params)
    with pytest.raises(ValueError, match="grids"):
        env.load_layouts([0], np.full((1, 15, 15, 3), 5), [[1, 1]], [0], [100])
    with pytest.raises(ValueError, match="agent_dir"):
        env.load_layouts([0], np.ones((1, 15, 15, 3), dtype=int), [[1, 1]], [4], [100])
