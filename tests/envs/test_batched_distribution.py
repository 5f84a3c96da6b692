"""Layouts generated in batch follow the MiniGrid-based generators' distribution (issue 13, item 4).

The batched envs draw from a torch generator, not MiniGrid's, so a (seed, params) pair gives a
different layout; what must match is the distribution of layouts at each params point. For a grid
of params per family (easy, centre and hard corners), each test generates ``SAMPLES`` layouts with
the MiniGrid-based env (varied seeds) and with the batched env (params set through
``set_next_params``), then compares statistics:

- quantities the family's rules fix given the params (room size, goal distance, wall and lava
  counts, solvability, doors, key rooms, distractor count, step limit) must be *equal*, layout
  for layout;
- random quantities (positions, directions, colours, kinds, rooms, reachable area …) must pass a
  two-sample chi-square test on their value counts and a difference-of-means test within 4
  standard errors (``assert_same_distribution``). The samples are seeded, so the tests are
  deterministic.

Where the batched generator documents a difference (``BatchedGridKeyDoor`` places objects on a
fixed pattern of room cells), the test asserts the documented relationship instead.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from scipy.stats import chi2_contingency

import teachgym  # noqa: F401  (registers the env ids)
from teachgym.envs.batched import BatchedGridEnv, BatchedGridKeyDoor, BatchedGridNavigation
from teachgym.envs.batched.base import (
    BALL,
    BOX,
    DOOR,
    EMPTY,
    GOAL,
    KEY,
    LAVA,
    LOCKED,
    WALL,
)

SAMPLES = 300
#: Significance level of each two-sample test; ~100 tests per run keep a false alarm near 1 %.
ALPHA = 1e-4
ROOM_PITCH = 6  # GridKeyDoor: a room adds 5 cells and a wall


# ---------------------------------------------------------------------------- helpers
def generate_minigrid(env_id: str, params: list[float], seed: int) -> dict[str, np.ndarray]:
    """``SAMPLES`` layouts of the MiniGrid-based env at ``params``, seeds from ``seed`` on."""
    env: Any = gym.make(env_id).unwrapped
    grids, positions, directions, limits = [], [], [], []
    for offset in range(SAMPLES):
        env.reset(seed=seed + offset, options={"params": np.array(params)})
        grids.append(env.grid.encode())
        positions.append(tuple(env.agent_pos))
        directions.append(env.agent_dir)
        limits.append(env.max_steps)
    env.close()
    return {
        "grid": np.stack(grids).astype(np.int64),
        "agent_pos": np.array(positions, dtype=np.int64),
        "agent_dir": np.array(directions, dtype=np.int64),
        "max_steps": np.array(limits, dtype=np.int64),
    }


def generate_batched(
    family: type[BatchedGridEnv], params: list[float], seed: int
) -> dict[str, np.ndarray]:
    """``SAMPLES`` layouts of the batched env at ``params`` (one reset of ``SAMPLES`` envs)."""
    env = family(SAMPLES, seed=seed)
    env.set_next_params(np.arange(SAMPLES), np.tile(params, (SAMPLES, 1)))
    env.reset()
    return {
        "grid": env.grid.permute(0, 2, 3, 1).numpy().astype(np.int64),  # [env, x, y, channel]
        "agent_pos": env.agent_pos.numpy().copy(),
        "agent_dir": env.agent_dir.numpy().copy(),
        "max_steps": env.max_steps.numpy().copy(),
    }


def bfs(objects: np.ndarray, start: tuple[int, int], passable: tuple[int, ...]) -> np.ndarray:
    """Moves from ``start`` to every cell over cells whose object is in ``passable`` (4-connected;
    the start cell counts as passable); -1 where unreachable. ``objects`` is ``[x, y]``."""
    width, height = objects.shape
    distance = np.full((width, height), -1, dtype=np.int64)
    distance[start] = 0
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            inside = 0 <= nx < width and 0 <= ny < height
            if inside and distance[nx, ny] < 0 and objects[nx, ny] in passable:
                distance[nx, ny] = distance[x, y] + 1
                queue.append((nx, ny))
    return distance


def assert_equal_per_layout(name: str, reference: Any, batched: Any) -> None:
    """A quantity the rules fix given the params: the same value in every layout of both."""
    reference, batched = np.asarray(reference), np.asarray(batched)
    values = np.unique(np.concatenate([reference.ravel(), batched.ravel()]))
    assert len(values) == 1, f"{name}: expected one value in both generators, got {values}"


def assert_same_distribution(name: str, reference: Any, batched: Any) -> None:
    """Two samples of a discrete quantity from the same distribution: a chi-square test on the
    value counts (adjacent sparse values pooled so each pooled bin holds at least 10) and the
    means within 4 standard errors."""
    reference = np.asarray(reference, dtype=np.float64).ravel()
    batched = np.asarray(batched, dtype=np.float64).ravel()
    values = np.union1d(reference, batched)
    counts = np.array([[np.sum(sample == v) for v in values] for sample in (reference, batched)])
    pooled: list[np.ndarray] = []
    current = np.zeros(2, dtype=np.int64)
    for column in counts.T:
        current = current + column
        if current.sum() >= 10:
            pooled.append(current)
            current = np.zeros(2, dtype=np.int64)
    if current.sum():
        if pooled:
            pooled[-1] = pooled[-1] + current
        else:
            pooled.append(current)
    table = np.array(pooled).T
    if table.shape[1] >= 2:
        p_value = chi2_contingency(table).pvalue
        assert p_value > ALPHA, f"{name}: chi-square p = {p_value:.2g}, counts {counts.tolist()}"
    error = np.sqrt(reference.var(ddof=1) / len(reference) + batched.var(ddof=1) / len(batched))
    gap = abs(reference.mean() - batched.mean())
    assert gap <= 4 * error + 1e-12, (
        f"{name}: means {reference.mean():.3f} vs {batched.mean():.3f} differ by more than "
        f"4 standard errors ({error:.3f})"
    )


# ---------------------------------------------------------------------------- GridNavigation
NAVIGATION_POINTS = {
    "easy": [5.0, 0.0, 0.0, 0.0],
    "small": [7.0, 0.5, 0.2, 0.1],
    "centre": [10.0, 0.5, 0.25, 0.3],
    "wide-walls": [12.0, 0.2, 0.4, 0.0],
    "far-open": [15.0, 1.0, 0.0, 0.0],
    "far-dense": [15.0, 0.7, 0.5, 0.4],
    "sealed": [9.0, 0.3, 0.1, 0.5],
    "hardest": [15.0, 1.0, 0.5, 0.6],
}


def navigation_statistics(layouts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per layout: what the rules fix (``fixed_*``) and what is drawn (the rest)."""
    stats: dict[str, list[float]] = {}
    for grid, (ax, ay), direction in zip(
        layouts["grid"], layouts["agent_pos"], layouts["agent_dir"], strict=True
    ):
        objects = grid[..., 0]
        ((gx, gy),) = np.argwhere(objects == GOAL)
        walkable = np.argwhere(objects != WALL)
        room_size = int(walkable.max()) + 2 if len(walkable) else 0
        interior = objects[1:-1, 1:-1]
        safe = bfs(objects, (ax, ay), (EMPTY, GOAL))
        near_agent = [objects[ax + dx, ay + dy] for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))]
        near_goal = [objects[gx + dx, gy + dy] for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))]
        rows = {
            "fixed_manhattan": abs(gx - ax) + abs(gy - ay),
            "fixed_goal_distance": safe[gx, gy],  # shortest safe path; -1 when none
            "fixed_solvable": float(safe[gx, gy] >= 0),
            "walls": int((interior == WALL).sum()),
            "lava": int((interior == LAVA).sum()),
            "room_size": room_size,
            "agent_x": ax,
            "agent_y": ay,
            "goal_x": gx,
            "goal_y": gy,
            "agent_dir": direction,
            "reachable_cells": int((safe >= 0).sum()),
            "walls_next_to_agent": sum(code == WALL for code in near_agent),
            "lava_next_to_goal": sum(code == LAVA for code in near_goal),
        }
        for key, value in rows.items():
            stats.setdefault(key, []).append(float(value))
    return {key: np.array(values) for key, values in stats.items()}


@pytest.mark.parametrize("point", list(NAVIGATION_POINTS), ids=list(NAVIGATION_POINTS))
def test_grid_navigation_layouts_match_minigrid(point: str) -> None:
    """Goal distance (Manhattan and shortest safe path by BFS), solvability, the step limit (so the
    room size) and, unless sealed, the wall and lava counts are equal layout for layout;
    positions, direction, the walkable extent of the room, reachable area, the neighbourhoods of
    agent and goal and, when sealed, the wall and lava counts are equally distributed."""
    params = NAVIGATION_POINTS[point]
    seed = 1000 * list(NAVIGATION_POINTS).index(point)
    reference = generate_minigrid("teachgym/GridNavigation-v0", params, seed)
    batched = generate_batched(BatchedGridNavigation, params, seed)
    size = int(np.floor(params[0] + 0.5))
    assert_equal_per_layout("max_steps", reference["max_steps"], batched["max_steps"])
    assert int(batched["max_steps"][0]) == 4 * size * size
    ours, theirs = navigation_statistics(batched), navigation_statistics(reference)
    sealed = params[3] >= 0.5
    for name in theirs:
        # The wall and lava counts follow from the free cells, fixed unless a sealed goal's lava
        # ring is cut by the room's wall (then they depend on where the goal fell).
        if name.startswith("fixed_") or (name in ("walls", "lava") and not sealed):
            assert_equal_per_layout(name, theirs[name], ours[name])
        else:
            assert_same_distribution(name, theirs[name], ours[name])
    assert ours["fixed_solvable"][0] == float(params[3] < 0.5)
    assert (ours["room_size"] <= size).all() and (theirs["room_size"] <= size).all()


# ---------------------------------------------------------------------------- GridKeyDoor
KEY_DOOR_POINTS = {
    "trivial": [0.0, 0.0, 0.0],
    "one-room-cluttered": [0.0, 0.0, 6.0],
    "door-key": [1.0, 0.0, 0.0],
    "centre": [2.0, 0.625, 3.0],
    "four-doors-near-keys": [4.0, 0.0, 0.0],
    "keys-at-start": [4.0, 0.8, 6.0],
    "hardest-solvable": [4.0, 0.99, 6.0],
    "missing-keys": [2.0, 1.1, 4.0],
    "missing-keys-bare": [3.0, 1.2, 0.0],
}
#: Room-relative cells (x, y in 0..4) where ``BatchedGridKeyDoor`` puts objects: the family's
#: fallback pattern and its transpose (its documented difference).
PATTERN = {(x, y) for y in (1, 3) for x in (1, 2, 3)} | {(x, y) for x in (1, 3) for y in (1, 2, 3)}


def key_door_statistics(layouts: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per layout: what the rules fix (``fixed_*``), what is drawn, and object cells in rooms."""
    stats: dict[str, list[Any]] = {}
    for grid, (ax, ay), direction in zip(
        layouts["grid"], layouts["agent_pos"], layouts["agent_dir"], strict=True
    ):
        objects, colours, states = grid[..., 0], grid[..., 1], grid[..., 2]
        doors = sorted((int(x), int(y)) for x, y in np.argwhere(objects == DOOR))
        door_colours = [int(colours[x, y]) for x, y in doors]
        items = [(int(x), int(y)) for x, y in np.argwhere(np.isin(objects, (KEY, BALL, BOX)))]
        door_keys = [c for c in items if objects[c] == KEY and colours[c] in door_colours]
        distractors = [c for c in items if c not in door_keys]
        key_rooms = tuple(
            next((c[0] - 1) // ROOM_PITCH for c in door_keys if colours[c] == colour)
            if any(colours[c] == colour for c in door_keys)
            else -1
            for colour in door_colours
        )
        ((gx, gy),) = np.argwhere(objects == GOAL)
        # Doors open, objects in the way: the walk once every door is unlocked, and whether each
        # key touches a cell the agent can then reach (the family's solvability guarantee).
        walk = bfs(objects, (ax, ay), (EMPTY, GOAL, DOOR))
        keys_reachable = all(
            any(walk[x + dx, y + dy] >= 0 for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)))
            for x, y in door_keys
        )
        keys_before_doors = all(0 <= room < door for door, room in enumerate(key_rooms, start=1))
        solvable = walk[gx, gy] >= 0 and keys_reachable and keys_before_doors
        rows = {
            "fixed_locked_doors": sum(states[c] == LOCKED for c in doors),
            "fixed_doors": len(doors),
            "fixed_door_columns": hash(tuple(x for x, _ in doors)),
            "fixed_key_rooms": hash(key_rooms),
            "fixed_distractors": len(distractors),
            "fixed_solvable": float(solvable),
            "fixed_agent_room": (ax - 1) // ROOM_PITCH,
            "fixed_goal_room": (gx - 1) // ROOM_PITCH,
            "fixed_distractor_keys_of_door_colours": 0,  # by construction of door_keys
            "agent_dir": direction,
            "door_heights": [y for _, y in doors],
            "door_colours": door_colours,
            "distinct_door_colours": len(set(door_colours)) == len(door_colours),
            "distractor_kinds": [int(objects[c]) for c in distractors],
            "distractor_colours": [int(colours[c]) for c in distractors if objects[c] != KEY],
            "distractor_rooms": [(c[0] - 1) // ROOM_PITCH for c in distractors],
            "agent_cell": ax * 10 + ay,
            "goal_cell": ((gx - 1) % ROOM_PITCH) * 10 + gy,
            "walk": walk[gx, gy],
            "object_cells": [((x - 1) % ROOM_PITCH, y - 1) for x, y in items],
        }
        for key, value in rows.items():
            stats.setdefault(key, []).append(value)
    return stats


def _flat(values: list[Any]) -> list[Any]:
    return [v for row in values for v in (row if isinstance(row, list) else [row])]


@pytest.mark.parametrize("point", list(KEY_DOOR_POINTS), ids=list(KEY_DOOR_POINTS))
def test_grid_key_door_layouts_match_minigrid(point: str) -> None:
    """Doors, key rooms, distractor count, solvability, the agent's and goal's rooms and the step
    limit are equal layout for layout; door heights and colours, distractor kinds, colours and
    rooms and the start direction are equally distributed.

    Documented difference (``BatchedGridKeyDoor``'s docstring): objects take cells of the family's
    fallback pattern or its transpose, so here the test asserts that every batched object is on
    those cells, and compares the agent's and goal's cells and the walk from one to the other
    only where no object shares their rooms (elsewhere the free cells differ by construction);
    there, both generators must still give a walkable path (solvability is compared exactly)."""
    params = KEY_DOOR_POINTS[point]
    seed = 1000 * list(KEY_DOOR_POINTS).index(point)
    reference = generate_minigrid("teachgym/GridKeyDoor-v0", params, seed)
    batched = generate_batched(BatchedGridKeyDoor, params, seed)
    assert_equal_per_layout("max_steps", reference["max_steps"], batched["max_steps"])
    ours, theirs = key_door_statistics(batched), key_door_statistics(reference)
    for name in theirs:
        if name.startswith("fixed_"):
            assert_equal_per_layout(name, theirs[name], ours[name])
    locked = int(np.floor(params[0] + 0.5))
    keys_missing = locked > 0 and params[1] >= 1.0
    assert ours["fixed_locked_doors"][0] == locked
    assert ours["fixed_solvable"][0] == float(not keys_missing)
    assert all(ours["distinct_door_colours"]) and all(theirs["distinct_door_colours"])
    for name in ("agent_dir", "door_heights", "door_colours", "distractor_kinds"):
        if _flat(theirs[name]):
            assert_same_distribution(name, _flat(theirs[name]), _flat(ours[name]))
    for name in ("distractor_colours", "distractor_rooms"):
        if len(_flat(theirs[name])) >= 50:
            assert_same_distribution(name, _flat(theirs[name]), _flat(ours[name]))

    cells = _flat(ours["object_cells"])
    assert set(cells) <= PATTERN, "batched objects must stand on the pattern's cells"
    has_objects = bool(cells)
    if not has_objects:  # rooms hold nothing: agent, goal and the walk are drawn alike
        for name in ("agent_cell", "goal_cell", "walk"):
            assert_same_distribution(name, theirs[name], ours[name])
    elif params[2] == 0:  # objects only before the last room: the goal is drawn alike
        assert_same_distribution("goal_cell", theirs["goal_cell"], ours["goal_cell"])


def test_minigrid_objects_spread_beyond_the_batched_pattern() -> None:
    """The documented difference is real and one-sided: the MiniGrid-based env puts objects on
    cells outside the pattern (outer ring, centre), the batched env never does."""
    params = KEY_DOOR_POINTS["keys-at-start"]
    reference = key_door_statistics(generate_minigrid("teachgym/GridKeyDoor-v0", params, 7))
    batched = key_door_statistics(generate_batched(BatchedGridKeyDoor, params, 7))
    theirs, ours = _flat(reference["object_cells"]), _flat(batched["object_cells"])
    outside = np.mean([cell not in PATTERN for cell in theirs])
    assert outside > 0.2, outside
    assert all(cell in PATTERN for cell in ours)
    # The pattern is the fallback the MiniGrid-based env also uses, so its cells are a subset of
    # where that env can put objects.
    assert set(theirs) >= PATTERN


def test_uniform_params_draws_match_the_param_space() -> None:
    """Envs with an empty pending slot draw params uniformly within the bounds, per dimension."""
    for family in (BatchedGridNavigation, BatchedGridKeyDoor):
        env = family(2000, seed=11)
        _, info = env.reset()
        params = info["params"].numpy()
        low, high = env.param_space.low, env.param_space.high
        assert ((params >= low) & (params <= high)).all()
        uniform = (params - low) / (high - low)
        # Mean 1/2 and variance 1/12 of a uniform draw, within 4 standard errors.
        error = np.sqrt(1 / 12 / len(uniform))
        assert (np.abs(uniform.mean(axis=0) - 0.5) <= 4 * error).all()
        assert torch.equal(torch.as_tensor(params), env.params)
