"""GridNavigation and GridKeyDoor: layouts follow their cards, are solvable or impossible where the
cards say so, and are reproducible from (seed, params)."""

from __future__ import annotations

import itertools
import math
import warnings
from collections import deque
from collections.abc import Callable, Iterable

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

import teachgym  # noqa: F401  (registers the ids)
from teachgym.envs.grids import grid_key_door
from teachgym.envs.grids.grid_key_door import GridKeyDoor
from teachgym.envs.grids.grid_navigation import GridNavigation

NAV = "teachgym/GridNavigation-v0"
KEY_DOOR = "teachgym/GridKeyDoor-v0"
FAMILIES = (NAV, KEY_DOOR)
LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE = range(6)
DIRECTIONS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # MiniGrid's agent_dir order

Cell = tuple[int, int]


def nearest(value: float) -> int:
    return math.floor(value + 0.5)


def params_dict(env: gym.Env) -> dict[str, float]:
    return env.unwrapped.params_dict


def all_cells(base) -> Iterable[Cell]:
    return itertools.product(range(base.width), range(base.height))


def kind(base, cell: Cell) -> str | None:
    obj = base.grid.get(*cell)
    return None if obj is None else obj.type


def bfs(start: Cell, passable: Callable[[Cell], bool]) -> dict[Cell, int]:
    """Distances (in cells, 4-connected) from ``start`` over cells where ``passable`` holds."""
    distances = {start: 0}
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        for dx, dy in DIRECTIONS:
            cell = (x + dx, y + dy)
            if cell not in distances and passable(cell):
                distances[cell] = distances[(x, y)] + 1
                queue.append(cell)
    return distances


def corners_centre_and_random(space, count: int, seed: int = 0) -> np.ndarray:
    corners = np.array(list(itertools.product([0.0, 1.0], repeat=space.dim)))
    unit = np.vstack([corners, np.full(space.dim, 0.5)])
    return np.vstack(
        [space.denormalize(unit), space.sample_many(np.random.default_rng(seed), count)]
    )


# ---------------------------------------------------------------------- scripted agents
def plan_to_face(base, targets: set[Cell], passable: Callable[[Cell], bool]) -> list[int]:
    """Fewest turn/forward actions that leave the agent facing one of ``targets``."""
    start = (*map(int, base.agent_pos), int(base.agent_dir))
    parents: dict[tuple[int, int, int], tuple | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        x, y, direction = state
        dx, dy = DIRECTIONS[direction]
        front = (x + dx, y + dy)
        if front in targets:
            actions = []
            while parents[state] is not None:
                state, action = parents[state]
                actions.append(action)
            return actions[::-1]
        moves = [((x, y, (direction - 1) % 4), LEFT), ((x, y, (direction + 1) % 4), RIGHT)]
        if passable(front):
            moves.append(((*front, direction), FORWARD))
        for successor, action in moves:
            if successor not in parents:
                parents[successor] = (state, action)
                queue.append(successor)
    raise AssertionError(f"no way to face any of {sorted(targets)}")


def act(env: gym.Env, actions: Iterable[int]) -> tuple[float, bool, bool]:
    reward, terminated, truncated = 0.0, False, False
    for action in actions:
        _, reward, terminated, truncated, _ = env.step(action)
        assert not truncated, "the scripted agent ran out of steps"
    return float(reward), terminated, truncated


def walkable(base) -> Callable[[Cell], bool]:
    def passable(cell: Cell) -> bool:
        obj = base.grid.get(*cell)
        return obj is None or (obj.type == "door" and obj.is_open)

    return passable


def solve_navigation(env: gym.Env) -> tuple[float, int]:
    """Walk the fewest actions to the goal; return the reward and the number of actions."""
    base = env.unwrapped
    plan = [*plan_to_face(base, {tuple(base.goal_pos)}, walkable(base)), FORWARD]
    reward, terminated, _ = act(env, plan)
    assert terminated
    return reward, len(plan)


def find(base, type_: str, color: str) -> Cell:
    cells = [
        c for c in all_cells(base) if kind(base, c) == type_ and base.grid.get(*c).color == color
    ]
    assert len(cells) == 1, f"expected one {color} {type_}, found {cells}"
    return cells[0]


def keeps_rooms_open(base, extra: Cell | None = None) -> bool:
    """Whether the free cells are connected (doors count as free), the doorsteps are free and
    every object is next to a free cell — with one more object at ``extra`` if given. This is
    the invariant GridKeyDoor promises: every object can be reached, picked up or walked round."""
    doorsteps = {(x + dx, y) for x, y in base.layout.door_cells for dx in (-1, 1)}
    if extra in doorsteps or any(kind(base, c) not in (None, "goal") for c in doorsteps):
        return False

    def free(cell: Cell) -> bool:
        return cell != extra and kind(base, cell) in (None, "door", "goal")

    cells = [c for c in all_cells(base) if free(c)]
    if len(bfs(cells[0], free)) != len(cells):
        return False
    objects = [c for c in all_cells(base) if kind(base, c) in ("key", "ball", "box")]
    objects += [extra] if extra is not None else []
    return all(any(free((x + dx, y + dy)) for dx, dy in DIRECTIONS) for x, y in objects)


def solve_key_door(env: gym.Env) -> float:
    """Fetch each key, unlock its door, drop the key out of the way; then walk to the goal."""
    base = env.unwrapped
    for color in base.layout.door_colors:
        act(env, [*plan_to_face(base, {find(base, "key", color)}, walkable(base)), PICKUP])
        assert base.carrying is not None and base.carrying.color == color
        door = find(base, "door", color)
        act(env, [*plan_to_face(base, {door}, walkable(base)), TOGGLE])
        assert base.grid.get(*door).is_open
        reach = bfs(tuple(base.agent_pos), walkable(base))
        spots = sorted(
            (distance, cell)
            for cell, distance in reach.items()
            if kind(base, cell) is None and keeps_rooms_open(base, cell)
        )
        act(env, [*plan_to_face(base, {spots[0][1]}, walkable(base)), DROP])
        assert base.carrying is None
    reward, terminated, _ = act(
        env, [*plan_to_face(base, {tuple(base.goal_pos)}, walkable(base)), FORWARD]
    )
    assert terminated
    return reward


def key_door_solvable(base) -> bool:
    """Reachability with keys: a locked door opens once a key of its colour is reachable.
    Exact here because every object stays reachable and movable (``keeps_rooms_open``)."""
    opened: set[Cell] = set()

    def passable(cell: Cell) -> bool:
        return kind(base, cell) in (None, "goal") or cell in opened

    while True:
        reach = bfs(tuple(base.agent_pos), passable)
        if tuple(base.goal_pos) in reach:
            return True
        keys = {
            base.grid.get(*c).color
            for c in all_cells(base)
            if kind(base, c) == "key"
            and any((c[0] + dx, c[1] + dy) in reach for dx, dy in DIRECTIONS)
        }
        newly = {
            cell
            for cell in base.layout.door_cells
            if cell not in opened
            and base.grid.get(*cell).color in keys
            and any((cell[0] + dx, cell[1] + dy) in reach for dx, dy in DIRECTIONS)
        }
        if not newly:
            return False
        opened |= newly


# ---------------------------------------------------------------------- layout checks
def check_navigation_layout(env: gym.Env) -> None:
    """Every statement of GridNavigation's card about the layout, for the current episode."""
    base, p = env.unwrapped, params_dict(env)
    layout = base.layout
    size = nearest(p["room_size"])
    sealed = p["lava_density"] >= 0.5
    assert (base.width, base.height) == (15, 15)
    assert layout.room_size == size and layout.sealed == sealed
    assert base.max_steps == layout.max_steps == 4 * size * size
    interior = {(x, y) for x in range(1, size - 1) for y in range(1, size - 1)}
    for cell in all_cells(base):
        if cell not in interior:
            assert kind(base, cell) == "wall", cell

    longest = 2 * (size - 3)
    distance = min(max(nearest(p["goal_distance"] * longest), 1), longest)
    distance = max(distance, 2) if sealed else distance
    agent, goal = tuple(map(int, base.agent_pos)), tuple(map(int, base.goal_pos))
    assert layout.goal_distance == distance
    assert abs(agent[0] - goal[0]) + abs(agent[1] - goal[1]) == distance
    assert agent in interior and base.grid.get(*agent) is None
    assert kind(base, goal) == "goal"

    walls = sum(kind(base, c) == "wall" for c in interior)
    lava = sum(kind(base, c) == "lava" for c in interior)
    assert (walls, lava) == (layout.num_walls, layout.num_lava)
    ring = [c for c in ((goal[0] + dx, goal[1] + dy) for dx, dy in DIRECTIONS) if c in interior]
    available = len(interior) - 2 - (len(ring) if sealed else distance - 1)
    assert walls == nearest(p["wall_density"] * available)
    placed_lava = lava - (len(ring) if sealed else 0)
    assert placed_lava == min(nearest(p["lava_density"] * available), available - walls)

    reach = bfs(agent, lambda c: kind(base, c) in (None, "goal"))
    if sealed:
        assert all(kind(base, c) == "lava" for c in ring)
        assert goal not in reach  # impossible, as documented
    else:
        assert reach.get(goal) == distance  # solvable, by a shortest path of length D


def check_key_door_layout(env: gym.Env) -> None:
    """Every statement of GridKeyDoor's card about the layout, for the current episode."""
    base, p = env.unwrapped, params_dict(env)
    layout = base.layout
    locked = nearest(p["num_locked_rooms"])
    used_width = 6 * locked + 7
    assert (base.width, base.height) == (31, 7)
    assert layout.num_locked_rooms == locked
    assert base.max_steps == layout.max_steps == 10 * 7 * used_width
    for x, y in all_cells(base):
        if x >= used_width - 1 or y in (0, 6) or x % 6 == 0:
            assert kind(base, (x, y)) in ("wall", "door"), (x, y)

    doors = sorted(c for c in all_cells(base) if kind(base, c) == "door")
    assert doors == sorted(layout.door_cells) and len(doors) == locked
    assert [x for x, _ in layout.door_cells] == [6 * (i + 1) for i in range(locked)]
    assert all(base.grid.get(*c).is_locked for c in doors)
    assert len(set(layout.door_colors)) == locked
    assert 1 <= base.agent_pos[0] <= 5  # start room
    assert kind(base, tuple(base.goal_pos)) == "goal" and base.goal_pos[0] > 6 * locked

    objects = [c for c in all_cells(base) if kind(base, c) in ("key", "ball", "box")]
    door_keys = [
        c
        for c in objects
        if kind(base, c) == "key" and base.grid.get(*c).color in layout.door_colors
    ]
    assert len(objects) - len(door_keys) == layout.num_distractors == nearest(p["num_distractors"])
    assert all(base.grid.get(*c).contains is None for c in objects if kind(base, c) == "box")

    missing = locked >= 1 and p["key_distance"] >= 1.0
    assert layout.keys_missing == missing
    if missing:
        assert door_keys == [] and layout.key_rooms == ()
    else:
        for door, color in enumerate(layout.door_colors, start=1):
            key = find(base, "key", color)
            room = door - 1 - math.floor(p["key_distance"] * door)
            assert layout.key_rooms[door - 1] == room
            assert 6 * room < key[0] < 6 * (room + 1) <= 6 * door  # before its door

    # Objects never block a door or cut a room; rooms connect only through doors.
    assert keeps_rooms_open(base)
    if locked:
        closed = bfs(tuple(base.agent_pos), lambda c: kind(base, c) in (None, "goal"))
        assert tuple(base.goal_pos) not in closed
    assert key_door_solvable(base) == (not missing)


CHECKS = {NAV: check_navigation_layout, KEY_DOOR: check_key_door_layout}


# ---------------------------------------------------------------------- tests
@pytest.mark.parametrize("env_id", FAMILIES)
def test_corners_centre_and_random_params_give_documented_layouts(env_id):
    env = gym.make(env_id)
    space = env.unwrapped.param_space
    for index, params in enumerate(corners_centre_and_random(space, 300)):
        obs, info = env.reset(seed=index, options={"params": params})
        np.testing.assert_array_equal(info["params"], params)
        assert obs["image"].shape == (7, 7, 3)
        CHECKS[env_id](env)
    env.close()


@pytest.mark.parametrize("env_id", FAMILIES)
def test_same_seed_and_params_reproduce_layout_and_rollout(env_id):
    def rollout(seed: int, params: np.ndarray) -> tuple[np.ndarray, list]:
        env = gym.make(env_id)
        obs, _ = env.reset(seed=seed, options={"params": params})
        layout = env.unwrapped.grid.encode()
        actions = np.random.default_rng(seed).integers(0, 7, size=100)
        trace = [(obs["image"].tobytes(), obs["direction"])]
        for action in actions:
            obs, reward, terminated, truncated, _ = env.step(action)
            trace.append((obs["image"].tobytes(), obs["direction"], reward, terminated, truncated))
            if terminated or truncated:
                obs, _ = env.reset()
                trace.append(("reset", obs["image"].tobytes()))
        return layout, trace

    space = gym.make(env_id).unwrapped.param_space
    params = space.denormalize(np.full(space.dim, 0.45))
    layout, trace = rollout(3, params)
    again_layout, again_trace = rollout(3, params)
    np.testing.assert_array_equal(layout, again_layout)
    assert trace == again_trace
    other_layout, _ = rollout(4, params)
    assert not np.array_equal(layout, other_layout)


def test_navigation_params_change_the_layout_as_documented():
    env = gym.make(NAV)
    base = env.unwrapped
    base_params = {"room_size": 9.0, "goal_distance": 0.5, "wall_density": 0.2}

    def layout(**params: float):
        env.reset(seed=0, options={"params": {**base_params, "lava_density": 0.1, **params}})
        return base.layout

    assert layout(room_size=5.49).room_size == 5
    assert layout(room_size=5.5).room_size == 6  # halves round up
    assert layout(room_size=15).max_steps == 900
    assert layout(goal_distance=0.0).goal_distance == 1
    assert layout(goal_distance=1.0).goal_distance == 12  # 2 (n - 3), the far corner
    assert [layout(room_size=15, goal_distance=g).goal_distance for g in (0, 0.5, 1)] == [1, 12, 24]
    assert layout(wall_density=0.0).num_walls == 0
    assert layout(wall_density=0.5).num_walls > layout(wall_density=0.25).num_walls > 0
    assert layout(lava_density=0.0).num_lava == 0
    assert not layout(lava_density=0.4999).sealed
    assert layout(lava_density=0.5).sealed
    sealed_next_to_agent = layout(goal_distance=0.0, lava_density=0.6)
    assert sealed_next_to_agent.goal_distance == 2  # a ring needs a gap to the agent


def test_key_door_params_change_the_layout_as_documented():
    env = gym.make(KEY_DOOR)
    base = env.unwrapped

    def layout(**params: float):
        env.reset(seed=0, options={"params": params})
        return base.layout

    assert [layout(num_locked_rooms=k).num_locked_rooms for k in (0, 0.49, 0.5, 2.5, 4)] == [
        0,
        0,
        1,
        3,
        4,
    ]
    four = {"num_locked_rooms": 4.0}
    assert layout(**four, key_distance=0.0).key_rooms == (0, 1, 2, 3)  # just before each door
    assert layout(**four, key_distance=0.5).key_rooms == (0, 0, 1, 1)
    assert layout(**four, key_distance=0.75).key_rooms == (0, 0, 0, 0)  # all in the start room
    assert layout(**four, key_distance=0.999).key_rooms == (0, 0, 0, 0)
    assert layout(**four, key_distance=1.0).keys_missing
    assert not layout(num_locked_rooms=0, key_distance=1.25).keys_missing  # nothing to unlock
    assert [layout(num_distractors=d).num_distractors for d in (0, 2.5, 6)] == [0, 3, 6]
    assert layout(num_locked_rooms=0).max_steps == 490
    assert layout(num_locked_rooms=4).max_steps == 2170


def test_crowded_key_door_rooms_stay_passable():
    # All four keys and all distractors in as few rooms as the params allow, many seeds.
    env = gym.make(KEY_DOOR)
    for seed in range(60):
        for locked in (0.0, 4.0):
            env.reset(
                seed=seed,
                options={"params": [locked, 0.9, 6.0]},
            )
            check_key_door_layout(env)


def test_key_door_fallback_pattern_keeps_rooms_passable(monkeypatch):
    # The random placement has never been seen to get stuck; force its fixed-pattern fallback.
    monkeypatch.setattr(grid_key_door, "_stays_passable", lambda cells, occupied: False)
    env = gym.make(KEY_DOOR)
    for seed in range(20):
        env.reset(seed=seed, options={"params": [float(seed % 5), 0.9, 6.0]})
        check_key_door_layout(env)
        assert key_door_solvable(env.unwrapped)


def test_navigation_is_solved_by_walking_its_shortest_path():
    env = gym.make(NAV)
    space = env.unwrapped.param_space
    rng = np.random.default_rng(1)
    for seed in range(25):
        params = space.sample(rng)
        params[3] = min(params[3], 0.49)  # the solvable part of the space
        env.reset(seed=seed, options={"params": params})
        reward, steps = solve_navigation(env)
        assert reward == pytest.approx(1 - 0.9 * steps / env.unwrapped.max_steps)


def test_key_door_is_solved_by_a_scripted_agent_within_its_budget():
    env = gym.make(KEY_DOOR)
    rng = np.random.default_rng(2)
    corners = [[4.0, 0.999, 6.0], [4.0, 0.0, 6.0], [0.0, 0.0, 0.0], [4.0, 0.999, 0.0]]
    random_params = [
        [rng.uniform(0, 4), rng.uniform(0, 0.999), rng.uniform(0, 6)] for _ in range(12)
    ]
    for seed, params in enumerate(corners + random_params):
        env.reset(seed=seed, options={"params": params})
        assert solve_key_door(env) > 0


def test_impossible_regions_never_pay_out():
    # Sealed goal / missing keys: no reachable goal (checked above) and no reward for random play.
    for env_id, params in ((NAV, [7.0, 0.3, 0.0, 0.5]), (KEY_DOOR, [1.0, 1.0, 0.0])):
        env = gym.make(env_id)
        env.reset(seed=0, options={"params": params})
        env.action_space.seed(0)
        for _ in range(2000):
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            assert reward == 0
            if terminated or truncated:
                env.reset(options={"params": params})


@pytest.mark.parametrize(
    ("env_id", "params", "limit"),
    [(NAV, {"room_size": 5.0, "lava_density": 0.0}, 100), (KEY_DOOR, {"num_locked_rooms": 0}, 490)],
)
def test_episodes_truncate_at_the_layout_step_budget(env_id, params, limit):
    env = gym.make(env_id)
    env.reset(seed=0, options={"params": params})
    for step in range(1, limit + 1):
        _, reward, terminated, truncated, _ = env.step(LEFT)  # turning never ends an episode
        assert (reward, terminated, truncated) == (0, False, step == limit)


@pytest.mark.parametrize("env_id", FAMILIES)
def test_snapshots_reproduce_trajectories(env_id):
    env = gym.make(env_id)
    space = env.unwrapped.param_space
    env.reset(seed=5, options={"params": space.denormalize(np.full(space.dim, 0.3))})
    actions = np.random.default_rng(5).integers(0, 7, size=150)
    for action in actions[:20]:
        env.step(action)
    state = env.unwrapped.get_state()
    snapshot_obs = env.unwrapped.gen_obs()

    def replay() -> list:
        trace = []
        for action in actions[20:]:
            obs, reward, terminated, truncated, _ = env.step(action)
            trace.append((obs["image"].tobytes(), obs["direction"], reward, terminated))
            if terminated or truncated:
                break
        return trace

    first = replay()
    obs = env.unwrapped.set_state(state)
    np.testing.assert_array_equal(obs["image"], snapshot_obs["image"])
    assert replay() == first
    env.unwrapped.set_state(state)  # a snapshot is reusable
    assert replay() == first


@pytest.mark.parametrize(("env_id", "shape"), [(NAV, (480, 480, 3)), (KEY_DOOR, (224, 992, 3))])
def test_rgb_render_keeps_one_shape_for_every_layout(env_id, shape):
    env = gym.make(env_id, render_mode="rgb_array")
    space = env.unwrapped.param_space
    for params in (space.low, space.high):
        env.reset(seed=0, options={"params": params})
        frame = env.render()
        assert frame.shape == shape and frame.dtype == np.uint8


@pytest.mark.parametrize("env_class", [GridNavigation, GridKeyDoor])
def test_gymnasium_env_checker_passes(env_class):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env_class(), skip_render_check=True)


def test_mastery_and_return_range_follow_minigrid():
    for env_class in (GridNavigation, GridKeyDoor):
        assert env_class.return_range == (0.0, 1.0)
        assert env_class.mastery_threshold == 0.0


# ---------------------------------------------------------------------- one-pass agent view
@pytest.mark.parametrize(
    "env_id",
    [
        "teachgym/GridNavigation-v0",
        "teachgym/GridKeyDoor-v0",
        "teachgym/NoisyRooms-v0",
        "teachgym/NoisyTVRooms-v0",
    ],
)
@pytest.mark.parametrize("env_kwargs", [{}, {"see_through_walls": True, "agent_view_size": 5}])
def test_one_pass_agent_view_equals_minigrids(env_id, env_kwargs):
    """ParameterizedGridEnv.gen_obs_grid must see exactly what MiniGrid's slice-and-rotate sees,
    in every direction and at the grid's borders (where the view leaves the grid)."""
    from minigrid.minigrid_env import MiniGridEnv

    env = gym.make(env_id, **env_kwargs)
    base = env.unwrapped
    rng = np.random.default_rng(0)
    directions, border_views = set(), 0
    for episode in range(4):
        env.reset(seed=episode, options={"params": base.param_space.sample(rng)})
        for _ in range(150):
            ours_grid, ours_vis = base.gen_obs_grid()
            stock_grid, stock_vis = MiniGridEnv.gen_obs_grid(base)
            np.testing.assert_array_equal(ours_vis, stock_vis)
            np.testing.assert_array_equal(ours_grid.encode(ours_vis), stock_grid.encode(stock_vis))
            np.testing.assert_array_equal(ours_grid.encode(), stock_grid.encode())
            directions.add(base.agent_dir)
            top_x, top_y, bottom_x, bottom_y = base.get_view_exts()
            border_views += min(top_x, top_y) < 0 or bottom_x > base.width or bottom_y > base.height
            action = rng.choice([0, 1, 2, 2, 2, 3, 5])
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                break
    assert directions == {0, 1, 2, 3}
    assert border_views > 0
