"""``BatchedGridKeyDoor``: conformance with the MiniGrid-based env, rules, seeding, bad input."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from batched_harness import (
    STATE_NAMES,
    check_bad_actions,
    check_bad_grids,
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
from teachgym.envs.batched import GRID_KEY_DOOR_PARAM_SPACE, BatchedGridKeyDoor
from teachgym.envs.batched.base import BALL, BOX, DOOR, EMPTY, GOAL, KEY, LOCKED, WALL

KEY_DOOR = "teachgym/GridKeyDoor-v0"
PICKUP, DROP, TOGGLE = 3, 4, 5


def test_param_space_and_books_equal_the_minigrid_family() -> None:
    env = check_books(BatchedGridKeyDoor, KEY_DOOR, GRID_KEY_DOOR_PARAM_SPACE)
    env.close()


def _biased_actions(rng: np.random.Generator, count: int) -> np.ndarray:
    # Lean on pick up and toggle so that keys are carried and doors unlocked within the test.
    weights = np.array([0.17, 0.17, 0.3, 0.12, 0.04, 0.16, 0.04])
    return rng.choice(7, size=count, p=weights / weights.sum())


def test_dynamics_match_minigrid_step_for_step() -> None:
    """Layouts of the MiniGrid-based env, loaded into the batched env, play identically."""
    num_envs = 100
    rng = np.random.default_rng(0)
    params = GRID_KEY_DOOR_PARAM_SPACE.sample_many(rng, num_envs)
    # Mostly one or two doors with keys close by, so random play unlocks some; the rest spans the
    # space (missing keys and four doors included).
    params[:60, 0] = rng.choice([0.0, 1.0, 1.0, 2.0], 60)
    params[:60, 1] = rng.uniform(0.0, 0.7, 60)
    references: list[tuple[Any, dict[str, Any]]] = []
    for i in range(num_envs):
        env: Any = gym.make(KEY_DOOR).unwrapped
        obs, _ = env.reset(seed=i, options={"params": params[i]})
        # A shorter limit, the same for both, so truncation happens within the test's steps.
        env.max_steps = int(rng.integers(150, 400))
        references.append((env, obs))
    batched = BatchedGridKeyDoor(num_envs, seed=0)
    load_references(batched, references, params)

    live = np.ones(num_envs, dtype=bool)
    counts = {"goal": 0, "truncated": 0, "unlocked": 0, "picked": 0, "dropped": 0, "boxes": 0}
    for _ in range(max(env.max_steps for env, _ in references)):
        if not live.any():
            break
        actions = _biased_actions(rng, num_envs)
        step = batched.step(torch.as_tensor(actions))
        for i in np.flatnonzero(live):
            env = references[i][0]
            front = env.grid.get(*env.front_pos)
            was_locked = front is not None and front.type == "door" and front.is_locked
            was_carrying = env.carrying is not None
            ref_step = env.step(int(actions[i]))
            counts["unlocked"] += was_locked and not front.is_locked
            counts["picked"] += not was_carrying and env.carrying is not None
            counts["dropped"] += was_carrying and env.carrying is None
            boxed = front is not None and front.type == "box" and actions[i] == TOGGLE
            counts["boxes"] += int(boxed)
            if check_step(i, step, ref_step, params):
                live[i] = False
                counts["goal" if ref_step[2] else "truncated"] += 1
            else:
                held = batched.carrying[i].tolist()
                assert held == (list(env.carrying.encode()) if env.carrying else [0, 0, 0])
    assert not live.any()
    # The test exercised goals, truncation, keys carried and dropped, doors unlocked, boxes opened.
    assert min(counts.values()) >= 3, counts


def _room(x: int) -> int:
    return (x - 1) // 6


def _connected(free: set[tuple[int, int]]) -> bool:
    start = next(iter(free))
    seen, queue = {start}, deque([start])
    while queue:
        x, y = queue.popleft()
        for cell in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if cell in free and cell not in seen:
                seen.add(cell)
                queue.append(cell)
    return len(seen) == len(free)


def test_generated_layouts_follow_the_family_rules() -> None:
    num_envs = 400
    env = BatchedGridKeyDoor(num_envs, seed=3)
    params = GRID_KEY_DOOR_PARAM_SPACE.sample_many(np.random.default_rng(3), num_envs)
    env.set_next_params(np.arange(num_envs), params)
    _, info = env.reset()
    np.testing.assert_array_equal(info["params"].numpy(), params)
    assert not env.has_pending.any()
    seen_missing = seen_solvable = 0
    for i in range(num_envs):
        num_locked, key_distance, num_distractors = params[i]
        locked = math.floor(num_locked + 0.5)
        distractors = math.floor(num_distractors + 0.5)
        objects, colours, states = (env.grid[i, c].numpy().astype(int) for c in range(3))
        used_width = 1 + 6 * (locked + 1)
        assert int(env.max_steps[i]) == 10 * used_width * 7
        assert (objects[used_width - 1 :, :] == WALL).all()
        assert (objects[:, 0] == WALL).all() and (objects[:, 6] == WALL).all()
        # Doors: one per wall between used rooms, locked, distinct colours.
        doors = sorted(map(tuple, np.argwhere(objects == DOOR)))
        assert [x for x, _ in doors] == [6 * (d + 1) for d in range(locked)]
        door_colours = [colours[x, y] for x, y in doors]
        assert len(set(door_colours)) == locked
        assert all(states[x, y] == LOCKED for x, y in doors)
        assert (states[objects != DOOR] == 0).all()
        # Keys: one per door, in room d - 1 - floor(key_distance * d), or none when missing.
        portable = np.isin(objects, (KEY, BALL, BOX))
        door_keys = [
            (x, y) for x, y in np.argwhere(objects == KEY) if colours[x, y] in door_colours
        ]
        missing = locked > 0 and key_distance >= 1.0
        if missing:
            assert door_keys == []
            seen_missing += 1
        else:
            assert len(door_keys) == locked
            for d, colour in enumerate(door_colours, start=1):
                (x, _y) = next((x, y) for x, y in door_keys if colours[x, y] == colour)
                assert _room(x) == d - 1 - math.floor(key_distance * d) < d  # before its door
        assert int(portable.sum()) == len(door_keys) + distractors
        # Agent in the start room on a free cell, one goal in the last room.
        ax, ay = env.agent_pos[i].tolist()
        assert _room(ax) == 0 and objects[ax, ay] == EMPTY
        assert env.carrying[i].tolist() == [0, 0, 0]
        goals = np.argwhere(objects == GOAL)
        assert len(goals) == 1 and _room(int(goals[0][0])) == locked
        # Each room: at most 6 objects, doorsteps free, free cells connected, objects reachable.
        doorsteps = {(x + dx, y) for x, y in doors for dx in (-1, 1)}
        for room in range(locked + 1):
            room_cells = {(6 * room + 1 + dx, 1 + dy) for dx in range(5) for dy in range(5)}
            taken = {cell for cell in room_cells if portable[cell]}
            assert len(taken) <= 6
            assert not taken & doorsteps
            free = room_cells - taken
            assert _connected(free)
            for x, y in taken:
                assert {(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)} & free
        # Rooms connected inside, doorsteps free, each key before its door: solvable.
        seen_solvable += not missing
    assert seen_missing > 20 and seen_solvable > 200


def _play(env: BatchedGridKeyDoor, seed: int, steps: int) -> list[torch.Tensor]:
    rng = np.random.default_rng(123)
    return play(
        env,
        seed,
        steps,
        lambda n: torch.as_tensor(_biased_actions(rng, n)),
        lambda env, info: info["params"],
    )


def test_same_seed_same_episodes() -> None:
    check_seeding(lambda seed: BatchedGridKeyDoor(64, seed=seed), _play)


def test_bad_input_is_rejected_and_leaves_state_unchanged() -> None:
    check_constructor_rejects(BatchedGridKeyDoor)

    env = BatchedGridKeyDoor(3, seed=1)
    env.reset()
    with state_unchanged(env, (*STATE_NAMES, "carrying", "pending_params", "has_pending")):
        _reject_bad_input(env)


def _reject_bad_input(env: BatchedGridKeyDoor) -> None:
    check_bad_actions(env)
    check_bad_params(
        env,
        [
            ([0], [[1.0, 0.0, 0.0, 0.0]], "shape"),
            ([0], [[5.0, 0.0, 0.0]], "num_locked_rooms"),
            ([1], [[1.0, 1.3, 0.0]], "key_distance"),
            ([2], [[1.0, 0.0, float("nan")]], "num_distractors"),
            ([3], [[1.0, 0.0, 0.0]], "indices"),
        ],
    )
    grid = np.ones((1, 31, 7, 3), dtype=int)
    grid[..., 1:] = 0
    check_bad_grids(
        env,
        [
            (np.full((1, 31, 7, 3), 9), "objects"),  # lava is not of this family
            (np.ones((1, 15, 15, 3), dtype=int), "shape"),
            (np.where(np.arange(3) == 1, 6, grid), "colours"),
            (np.where(np.arange(3) == 2, 3, grid), "states"),
        ],
    )
    with pytest.raises(ValueError, match="agent_pos"):
        env.load_layouts([0], grid, [[30, 1]], [0], [100])
    with pytest.raises(ValueError, match="carrying"):
        env.load_layouts([0], grid, [[1, 1]], [0], [100], carrying=[[DOOR, 0, 0]])
