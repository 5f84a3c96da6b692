"""``BatchedNoisyTVRooms``: conformance with the MiniGrid-based env, TV law, rules, bad input."""

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
    walled_empty_grid,
    walled_encoding,
)

import teachgym  # noqa: F401  (registers the env ids)
from teachgym.envs.batched.base import BALL, BOX, CLOSED, DOOR, EMPTY, GOAL, WALL
from teachgym.envs.batched.noisy_tv import NOISY_TV_ROOMS_PARAM_SPACE, BatchedNoisyTVRooms

NOISY_TV = "teachgym/NoisyTVRooms-v0"
SIZE = 28
PICKUP, DROP, TOGGLE, DONE = 3, 4, 5, 6


class ConditionedTVs(BatchedNoisyTVRooms):
    """The batched env with its TV colours replaced, in rows ``inject_rows``, by given ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inject = torch.zeros(self.num_envs, SIZE, SIZE, dtype=torch.uint8)
        self.inject_hand = torch.zeros(self.num_envs, dtype=torch.uint8)
        self.inject_rows = torch.zeros(self.num_envs, dtype=torch.bool)
        self.pressed: list[int] = []

    def _switch_tvs(
        self, envs: torch.Tensor, cells: torch.Tensor, colours: torch.Tensor
    ) -> torch.Tensor:
        self.pressed += envs.tolist()
        own = super()._switch_tvs(envs, cells, colours)
        on_grid = self.inject.view(-1).index_select(0, envs * SIZE * SIZE + cells.clamp(min=0))
        injected = torch.where(cells >= 0, on_grid, self.inject_hand.index_select(0, envs))
        return torch.where(self.inject_rows.index_select(0, envs), injected, own)


def test_param_space_and_books_equal_the_minigrid_family() -> None:
    env = check_books(BatchedNoisyTVRooms, NOISY_TV, NOISY_TV_ROOMS_PARAM_SPACE)
    batched = BatchedNoisyTVRooms(1, seed=0)
    batched.reset()
    assert int(batched.max_steps[0]) == env.unwrapped.max_steps == 120
    env.close()


def _biased_actions(rng: np.random.Generator, count: int) -> np.ndarray:
    # Lean on forward, toggle, pick up and done: doors opened, TVs carried and switched.
    weights = np.array([0.15, 0.15, 0.3, 0.1, 0.06, 0.12, 0.12])
    return rng.choice(7, size=count, p=weights / weights.sum())


def test_dynamics_match_minigrid_step_for_step_with_the_tvs_conditioned() -> None:
    """Layouts of the MiniGrid-based env, loaded into the batched env, play identically when the
    batched env's TVs take the MiniGrid-based env's colours on ``done`` (and only then)."""
    num_envs = 100
    rng = np.random.default_rng(0)
    params = NOISY_TV_ROOMS_PARAM_SPACE.sample_many(rng, num_envs)
    params[:70, 0] = rng.uniform(1.0, 2.4, 70)
    params[:70, 1] = rng.uniform(4.0, 6.4, 70)
    params[:70, 2] = rng.uniform(0.5, 3.0, 70)
    references = []
    for i in range(num_envs):
        env: Any = gym.make(NOISY_TV).unwrapped
        obs, _ = env.reset(seed=i, options={"params": params[i]})
        env.max_steps = int(rng.integers(30, 90))
        references.append((env, obs))
    batched = ConditionedTVs(num_envs, seed=0)
    load_references(batched, references, params, walled_encoding)

    live = np.ones(num_envs, dtype=bool)
    counts = {"goal": 0, "truncated": 0, "switched": 0, "carried": 0, "switched_carried": 0}
    for _ in range(max(env.max_steps for env, _ in references)):
        if not live.any():
            break
        actions = _biased_actions(rng, num_envs)
        results = {}
        inject, hand = batched.inject.clone(), batched.inject_hand.clone()
        for i in np.flatnonzero(live):
            env = references[i][0]
            counts["switched"] += int(actions[i] == DONE and len(env.tv_balls) > 0)
            counts["switched_carried"] += int(actions[i] == DONE and env.carrying is not None)
            results[i] = env.step(int(actions[i]))
            counts["carried"] += int(env.carrying is not None)
            if actions[i] == DONE:
                inject[i] = torch.as_tensor(env.grid.encode()[:, :, 1])
                hand[i] = int(env.carrying.encode()[1]) if env.carrying else 0
        batched.inject, batched.inject_hand = inject, hand
        batched.inject_rows = torch.as_tensor(live)
        batched.pressed = []
        step = batched.step(torch.as_tensor(actions))
        assert set(batched.pressed) <= set(np.flatnonzero(actions == DONE).tolist())
        for i, ref_step in results.items():
            env = references[i][0]
            if check_step(i, step, ref_step, params):
                live[i] = False
                counts["goal" if ref_step[2] else "truncated"] += 1
            else:
                held = batched.carrying[i].tolist()
                assert held == (list(env.carrying.encode()) if env.carrying else [0, 0, 0])
                np.testing.assert_array_equal(
                    batched.grid[i].permute(1, 2, 0).numpy(), walled_encoding(env)
                )
    assert not live.any()
    assert min(counts.values()) >= 5, counts


def _tv_colours(grid: np.ndarray, hand: np.ndarray) -> tuple[np.ndarray, int]:
    """Ball colours on a ``(3, W, H)`` grid, and the carried ball's (-1 for none)."""
    return grid[1][grid[0] == BALL], int(hand[1]) if hand[0] == BALL else -1


def test_tvs_change_on_done_only_every_one_to_another_colour_uniformly() -> None:
    """Every ball, in view or not, on the grid or carried, moves to one of the five other colours
    on ``done``, uniformly; nothing else recolours a ball. The MiniGrid-based env's shifts have
    the same law."""
    num_envs = 64
    rng = np.random.default_rng(4)
    env = BatchedNoisyTVRooms(num_envs, seed=4)
    params = NOISY_TV_ROOMS_PARAM_SPACE.sample_many(rng, num_envs)
    params[:, 2] = 3.0
    env.set_next_params(np.arange(num_envs), params)
    env.reset()
    shifts: list[int] = []
    carried_switches = 0
    for _ in range(300):
        env.set_next_params(np.arange(num_envs), params)
        grid, hand = env.grid.numpy().astype(int), env.carrying.numpy().astype(int)
        actions = _biased_actions(rng, num_envs)
        _, _, terminated, truncated, _ = env.step(torch.as_tensor(actions))
        after, after_hand = env.grid.numpy().astype(int), env.carrying.numpy().astype(int)
        for i in np.flatnonzero(~(terminated | truncated).numpy()):
            if actions[i] == DONE:  # nothing moves; every ball changes colour
                assert (after[i, 0] == grid[i, 0]).all()
                balls = grid[i, 0] == BALL
                assert (after[i, 1][~balls] == grid[i, 1][~balls]).all()
                step = (after[i, 1][balls] - grid[i, 1][balls]) % 6
                shifts += step.tolist()
                if hand[i, 0] == BALL:
                    carried_switches += 1
                    shifts.append((after_hand[i, 1] - hand[i, 1]) % 6)
            else:  # the same multiset of TV colours, wherever the agent put them
                before_tvs, before_held = _tv_colours(grid[i], hand[i])
                after_tvs, after_held = _tv_colours(after[i], after_hand[i])
                colours = sorted([*before_tvs.tolist(), *[before_held][: before_held >= 0]])
                assert colours == sorted([*after_tvs.tolist(), *[after_held][: after_held >= 0]])
    assert carried_switches >= 5

    ref_shifts: list[int] = []
    for seed in range(10):
        ref: Any = gym.make(NOISY_TV).unwrapped
        ref.reset(seed=seed, options={"params": np.array([2.0, 6.0, 3.0])})
        for _ in range(100):
            before = [ball.color for ball in ref.tv_balls]
            ref.step(DONE)
            order = ["red", "green", "blue", "purple", "yellow", "grey"]
            after_colours = [ball.color for ball in ref.tv_balls]
            ref_shifts += [
                (order.index(b) - order.index(a)) % 6
                for a, b in zip(before, after_colours, strict=True)
            ]
    for values in (shifts, ref_shifts):
        histogram = np.bincount(values, minlength=6)
        assert histogram[0] == 0
        expected = len(values) / 5
        assert (np.abs(histogram[1:] - expected) < 5 * math.sqrt(expected)).all(), histogram
    # The two histograms agree within sampling error (a two-sample chi-square, 4 dof).
    a, b = np.bincount(shifts, minlength=6)[1:], np.bincount(ref_shifts, minlength=6)[1:]
    pooled = (a + b) / (a.sum() + b.sum())
    chi2 = (((a - pooled * a.sum()) ** 2) / (pooled * a.sum())).sum()
    chi2 += (((b - pooled * b.sum()) ** 2) / (pooled * b.sum())).sum()
    assert chi2 < 18.5  # p ≈ 0.001 at 4 dof


def _rooms(grid: np.ndarray) -> list[set[tuple[int, int]]]:
    """The rooms' interiors: regions of non-wall, non-door cells."""
    open_cells = (grid[0] != WALL) & (grid[0] != DOOR)
    seen: set[tuple[int, int]] = set()
    rooms = []
    for start in map(tuple, np.argwhere(open_cells)):
        if start in seen:
            continue
        region, queue = {start}, deque([start])
        while queue:
            x, y = queue.popleft()
            for cell in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                if open_cells[cell] and cell not in region:
                    region.add(cell)
                    queue.append(cell)
        seen |= region
        rooms.append(region)
    return rooms


def test_generated_layouts_follow_the_family_rules() -> None:
    num_envs = 300
    env = BatchedNoisyTVRooms(num_envs, seed=3)
    params = NOISY_TV_ROOMS_PARAM_SPACE.sample_many(np.random.default_rng(3), num_envs)
    env.set_next_params(np.arange(num_envs), params)
    _, info = env.reset()
    np.testing.assert_array_equal(info["params"].numpy(), params)
    seen_tvs = set()
    skipped = 0
    for i in range(num_envs):
        num_rooms = math.floor(params[i, 0] + 0.5)
        size = math.floor(params[i, 1] + 0.5)
        num_tvs = math.floor(params[i, 2] + 0.5)
        grid = env.grid[i].numpy().astype(int)
        objects, _, states = grid
        assert int(env.max_steps[i]) == 120
        rooms = _rooms(grid)
        assert len(rooms) == num_rooms
        assert all(len(cells) == (size - 2) ** 2 for cells in rooms)
        doors = [tuple(cell) for cell in np.argwhere(objects == DOOR)]
        assert len(doors) == num_rooms - 1 and all(states[c] == CLOSED for c in doors)
        assert not (objects == BOX).any()
        # Chain order: from the agent's room through the doors to the goal's room.
        agent = tuple(env.agent_pos[i].tolist())
        goals = [tuple(cell) for cell in np.argwhere(objects == GOAL)]
        assert len(goals) == 1 and goals[0] != agent
        room_of = {cell: r for r, cells in enumerate(rooms) for cell in cells}
        order = [room_of[agent]]
        for _ in range(num_rooms - 1):
            nxt = set()
            for x, y in doors:
                sides = {room_of.get(c) for c in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1))}
                sides.discard(None)
                if order[-1] in sides:
                    nxt |= sides - set(order)
            assert len(nxt) == 1
            order.append(nxt.pop())
        assert room_of[goals[0]] == order[-1]
        # TVs: ball k in room k mod rooms, skipped when that room has fewer than 2 free cells.
        free = [len(rooms[r]) - (r == order[0]) - (r == order[-1]) for r in order]
        expected = [0] * num_rooms
        for k in range(num_tvs):
            if free[k % num_rooms] >= 2:
                free[k % num_rooms] -= 1
                expected[k % num_rooms] += 1
            else:
                skipped += 1
        balls = [tuple(cell) for cell in np.argwhere(objects == BALL)]
        assert [sum(room_of[b] == r for b in balls) for r in order] == expected
        seen_tvs.add(len(balls))
        if size >= 6:
            for x, y in balls:
                assert not {(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)} & set(doors)
        assert set(np.unique(objects)) <= {EMPTY, WALL, DOOR, BALL, GOAL}
        assert env.carrying[i].tolist() == [0, 0, 0]
    assert seen_tvs == {0, 1, 2, 3} and skipped > 0


def _play(env: BatchedNoisyTVRooms, seed: int, steps: int) -> list[torch.Tensor]:
    rng = np.random.default_rng(123)
    return play(
        env,
        seed,
        steps,
        lambda n: torch.as_tensor(_biased_actions(rng, n)),
        lambda env, info: env.carrying,
    )


def test_same_seed_same_episodes() -> None:
    check_seeding(lambda seed: BatchedNoisyTVRooms(48, seed=seed), _play)


def test_bad_input_is_rejected_and_leaves_state_unchanged() -> None:
    check_constructor_rejects(BatchedNoisyTVRooms)
    with pytest.raises(ValueError, match="max_steps"):
        BatchedNoisyTVRooms(2, max_steps=0)

    env = BatchedNoisyTVRooms(3, seed=1)
    env.reset()
    with state_unchanged(env, (*STATE_NAMES, "carrying")):
        _reject_bad_input(env)


def _reject_bad_input(env: BatchedNoisyTVRooms) -> None:
    check_bad_actions(env)
    check_bad_params(
        env,
        [
            ([0], [[1.0, 4.0]], "shape"),
            ([0], [[0.0, 4.0, 0.0]], "num_rooms"),
            ([1], [[1.0, 3.0, 0.0]], "room_size"),
            ([2], [[1.0, 4.0, 3.5]], "num_tvs"),
            ([3], [[1.0, 4.0, 0.0]], "indices"),
        ],
    )
    grid = walled_empty_grid(SIZE)
    check_bad_grids(
        env,
        [
            (np.where(np.arange(3) == 0, BOX, grid), "objects"),  # boxes are not of this family
            (np.ones((1, 31, 7, 3), dtype=int), "shape"),
            (np.where(np.arange(3) == 2, 3, grid), "states"),
        ],
    )
    with pytest.raises(ValueError, match="carrying"):
        env.load_layouts([0], grid, [[1, 1]], [0], [100], carrying=[[DOOR, 0, 0]])
