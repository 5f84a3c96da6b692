"""Snapshots (``get_state`` / ``set_state``) of every teachgym MiniGrid env and of stock MiniGrid
envs through ``SnapshotWrapper``: a restore brings back the same future, RNG included, and keeps
the object identities the envs' success tests rely on."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import pickle
from collections import deque
from collections.abc import Callable

import gymnasium as gym
import minigrid  # noqa: F401  (registers the MiniGrid-* ids)
import numpy as np
import pytest
from minigrid.core.world_object import Ball, Box, Door, Key
from minigrid.minigrid_env import MiniGridEnv

import teachgym  # noqa: F401  (registers the teachgym ids)
from teachgym.envs import ENV_IDS
from teachgym.envs.snapshots import _NOT_STATE, SnapshotWrapper

# ObstructedMaze-Full-v0 is tested on purpose (the classic version, superseded by v1).
pytestmark = pytest.mark.filterwarnings("ignore:.*ObstructedMaze-Full-v0 is out of date")

LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = range(7)
DIRECTIONS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # MiniGrid's agent_dir order
Cell = tuple[int, int]


def _teachgym_minigrid_ids() -> list[str]:
    """teachgym ids whose class is a MiniGrid env, plus ids whose module is not written yet."""
    ids = []
    for env_id in ENV_IDS:
        module_name, _, class_name = gym.spec(env_id).entry_point.partition(":")
        if importlib.util.find_spec(module_name) is None:
            ids.append(env_id)  # skipped in the test until the module exists
            continue
        try:
            env_class = getattr(importlib.import_module(module_name), class_name)
        except ImportError:  # an optional dependency (Box2D) is missing: not a grid env anyway
            continue
        if issubclass(env_class, MiniGridEnv):
            ids.append(env_id)
    return ids


TEACHGYM_IDS = _teachgym_minigrid_ids()
STOCK_IDS = [
    "MiniGrid-DoorKey-16x16-v0",
    "MiniGrid-KeyCorridorS3R3-v0",
    "MiniGrid-KeyCorridorS6R3-v0",
    "MiniGrid-ObstructedMaze-2Dlh-v0",
    "MiniGrid-ObstructedMaze-Full-v0",
    "MiniGrid-MultiRoom-N6-v0",
]


def _make_teachgym(env_id: str) -> gym.Env:
    pytest.importorskip(gym.spec(env_id).entry_point.partition(":")[0])
    return gym.make(env_id)


def _snapshot_api(env: gym.Env) -> tuple[Callable, Callable]:
    """``get_state``/``set_state`` of a teachgym env (on the base env) or a SnapshotWrapper."""
    if isinstance(env, SnapshotWrapper):
        return env.get_state, env.set_state
    return env.unwrapped.get_state, env.unwrapped.set_state


def _record(env: gym.Env, step_result: tuple) -> tuple:
    """Everything a step shows, plus the hidden state a restore must bring back."""
    obs, reward, terminated, truncated, _ = step_result
    base = env.unwrapped
    return (
        obs["image"].copy(),
        int(obs["direction"]),
        float(reward),
        bool(terminated),
        bool(truncated),
        base.grid.encode(),  # every cell, seen or not: the noise of unseen rooms too
        (int(base.agent_pos[0]), int(base.agent_pos[1]), int(base.agent_dir)),
        None if base.carrying is None else base.carrying.encode(),
        base.step_count,
    )


def _branch(env: gym.Env, actions: np.ndarray) -> list[tuple]:
    trace = []
    for action in actions:
        trace.append(_record(env, env.step(int(action))))
        if trace[-1][3] or trace[-1][4]:
            break
    return trace


def _assert_same(first: list[tuple], second: list[tuple]) -> None:
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


def _check_same_future(env: gym.Env, seed: int, options: dict | None = None) -> None:
    get_state, set_state = _snapshot_api(env)
    env.reset(seed=seed, options=options)
    rng = np.random.default_rng(seed)
    _branch(env, rng.integers(0, 7, size=15))
    obs_at_snapshot = env.unwrapped.gen_obs()
    rng_at_snapshot = copy.deepcopy(env.unwrapped.np_random.bit_generator.state)
    state = get_state()
    future = rng.integers(0, 7, size=60)
    original = _branch(env, future)
    assert original, "the episode ended before the snapshot"

    for _ in range(2):  # restoring twice from one snapshot gives the same future twice
        obs = set_state(state)
        assert env.unwrapped.np_random.bit_generator.state == rng_at_snapshot
        for key in ("image", "direction", "mission"):
            np.testing.assert_array_equal(obs[key], obs_at_snapshot[key])
        _assert_same(_branch(env, future), original)


# ---------------------------------------------------------------------- same future
@pytest.mark.parametrize("env_id", TEACHGYM_IDS)
def test_teachgym_grid_envs_restore_the_same_future(env_id):
    env = _make_teachgym(env_id)
    space = env.unwrapped.param_space
    for seed, corner in enumerate((0.0, 0.5, 1.0)):
        params = space.denormalize(np.full(space.dim, corner))
        _check_same_future(env, seed, {"params": params})


@pytest.mark.parametrize("env_id", STOCK_IDS)
def test_stock_envs_restore_the_same_future_through_the_wrapper(env_id):
    env = SnapshotWrapper(gym.make(env_id))
    for seed in range(2):
        _check_same_future(env, seed)


def test_the_noise_rng_is_part_of_the_snapshot():
    env = _make_teachgym("teachgym/NoisyRooms-v0")
    base = env.unwrapped
    params = {"num_rooms": 3, "room_size": 6, "noisy_fraction": 1, "noise_prob": 0.5}
    env.reset(seed=0, options={"params": params})
    for _ in range(5):  # mid-way through a chunk of pre-drawn noise
        env.step(DONE)
    state = base.get_state()
    noise = []
    for _ in range(3):
        base.set_state(state)
        colours = []
        for _ in range(70):  # beyond the pre-drawn chunk: fresh draws from the restored RNG
            env.step(DONE)
            colours.append(base.floor_colours.copy())
        noise.append(np.array(colours))
        assert all(tile._colours is base.floor_colours for tile in base.floor_tiles)
        assert all(base.grid.get(*tile.cur_pos) is tile for tile in base.floor_tiles)
    np.testing.assert_array_equal(noise[0], noise[1])
    np.testing.assert_array_equal(noise[0], noise[2])
    assert len({row.tobytes() for row in noise[0]}) > 60  # the floor did move


def test_restored_tvs_are_the_balls_on_the_grid():
    env = _make_teachgym("teachgym/NoisyTVRooms-v0")
    base = env.unwrapped
    env.reset(seed=1, options={"params": {"num_rooms": 2, "room_size": 6, "num_tvs": 3}})
    state = base.get_state()
    env.step(DONE)
    base.set_state(state)
    for ball in base.tv_balls:
        assert base.grid.get(*ball.cur_pos) is ball
    colours = [ball.color for ball in base.tv_balls]
    env.step(DONE)  # the restored TVs, not stale copies, change colour
    assert all(
        base.grid.get(*ball.cur_pos).color == ball.color != before
        for ball, before in zip(base.tv_balls, colours, strict=True)
    )


def test_wrapper_restores_time_limit_counters():
    env = SnapshotWrapper(gym.make("MiniGrid-DoorKey-5x5-v0", max_episode_steps=30))
    env.reset(seed=0)
    for _ in range(10):
        env.step(LEFT)
    state = env.get_state()
    for _ in range(12):
        env.step(LEFT)
    env.set_state(state)
    for step in range(11, 31):
        *_, truncated, _ = env.step(LEFT)
        assert truncated == (step == 30)  # the TimeLimit's own 30, not MiniGrid's 250


def test_wrapper_set_state_returns_the_wrapped_observation():
    env = SnapshotWrapper(
        gym.wrappers.TransformObservation(
            gym.make("MiniGrid-Empty-5x5-v0"), lambda obs: obs["image"], None
        )
    )
    first, _ = env.reset(seed=0)
    state = env.get_state()
    env.step(FORWARD)
    np.testing.assert_array_equal(env.set_state(state), first)


@pytest.mark.parametrize("env_id", ["MiniGrid-ObstructedMaze-2Dlh-v0", "teachgym/NoisyRooms-v0"])
def test_a_pickled_snapshot_restores_into_another_env(env_id):
    # How a Go-Explore worker uses it: the archive's state travels to another process (pickle)
    # and is restored into that process's env, which has been reset once (gym.make's order
    # and passive checkers want a reset before the first step).
    first = SnapshotWrapper(gym.make(env_id))
    first.reset(seed=0)
    _branch(first, np.random.default_rng(0).integers(0, 7, size=10))
    state = pickle.dumps(first.get_state())
    future = np.random.default_rng(1).integers(0, 7, size=40)
    expected = _branch(first, future)
    other = SnapshotWrapper(gym.make(env_id))
    other.reset(seed=123)
    other.set_state(pickle.loads(state))
    _assert_same(_branch(other, future), expected)


def test_restored_params_stay_read_only():
    env = _make_teachgym("teachgym/NoisyRooms-v0")
    env.reset(seed=0)
    base = env.unwrapped
    assert not base.params.flags.writeable
    base.set_state(base.get_state())
    assert not base.params.flags.writeable


@pytest.mark.parametrize("env_id", ["MiniGrid-KeyCorridorS3R3-v0"])
def test_a_snapshot_restores_into_a_never_reset_env(env_id):
    """A Go-Explore worker may restore before ever calling reset: the order and passive checks
    and the episode statistics must come back with the snapshot."""
    source = SnapshotWrapper(gym.wrappers.RecordEpisodeStatistics(gym.make(env_id)))
    source.reset(seed=0)
    _branch(source, np.random.default_rng(0).integers(0, 7, size=10))
    state = source.get_state()
    future = np.random.default_rng(1).integers(0, 7, size=30)
    expected = _branch(source, future)
    fresh = SnapshotWrapper(gym.wrappers.RecordEpisodeStatistics(gym.make(env_id)))
    fresh.set_state(state)
    _assert_same(_branch(fresh, future), expected)
    assert fresh.env.episode_lengths == source.env.episode_lengths


def test_snapshot_rejects_foreign_states():
    env = SnapshotWrapper(gym.make("MiniGrid-Empty-5x5-v0"))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="wrappers"):
        env.set_state({"env": {}})
    with pytest.raises(ValueError, match="get_state"):
        env.set_state({"grid": None, "wrappers": [{}, {}]})


# ---------------------------------------------------------------------- reachability
# A scripted solver for "pick up the <colour> <type>" tasks (KeyCorridor, ObstructedMaze). It plans
# on the layout the env is in, whatever a random prefix left behind, and acts through env.step.
def _cells(base, kind: type) -> list[Cell]:
    return [
        (x, y)
        for x in range(base.width)
        for y in range(base.height)
        if isinstance(base.grid.get(x, y), kind)
    ]


def _near_door(base, cell: Cell) -> bool:
    return any(isinstance(base.grid.get(cell[0] + dx, cell[1] + dy), Door) for dx, dy in DIRECTIONS)


def _face_plan(base, wanted: Callable[[Cell], bool]) -> list[int] | None:
    """Fewest actions until the agent faces a cell where ``wanted`` holds, or ``None``.

    BFS over (cell, direction) on the current layout: empty and walk-over cells are passable,
    closed doors are opened on the way (``toggle``, ``forward``), locked ones too when the agent
    carries their key. Objects are obstacles.
    """
    key_color = base.carrying.color if isinstance(base.carrying, Key) else None
    start = (int(base.agent_pos[0]), int(base.agent_pos[1]), int(base.agent_dir))
    parents: dict = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        x, y, d = state
        front = (x + DIRECTIONS[d][0], y + DIRECTIONS[d][1])
        if wanted(front):
            actions: list[int] = []
            while parents[state] is not None:
                state, step_actions = parents[state]
                actions[:0] = step_actions
            return actions
        cell = base.grid.get(*front)
        moves = [([LEFT], (x, y, (d - 1) % 4)), ([RIGHT], (x, y, (d + 1) % 4))]
        if cell is None or cell.can_overlap():
            moves.append(([FORWARD], (*front, d)))
        elif isinstance(cell, Door) and (not cell.is_locked or cell.color == key_color):
            moves.append(([TOGGLE, FORWARD], (*front, d)))
        for step_actions, nxt in moves:
            if nxt not in parents:
                parents[nxt] = (state, step_actions)
                queue.append(nxt)
    return None


def _walkable_area(base, blocked: set[Cell]) -> set[Cell]:
    """Cells the agent can walk to (through unlocked doors), with ``blocked`` cells removed."""
    start = (int(base.agent_pos[0]), int(base.agent_pos[1]))
    area = {start}
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        for dx, dy in DIRECTIONS:
            cell = (x + dx, y + dy)
            obj = base.grid.get(*cell)
            if cell in area or cell in blocked:
                continue
            if obj is None or obj.can_overlap() or (isinstance(obj, Door) and not obj.is_locked):
                area.add(cell)
                queue.append(cell)
    return area


def solve_pickup(
    env: gym.Env, target_type: str, target_color: str, max_plans: int = 60
) -> tuple[float, bool, object]:
    """Pick up the first reachable object of the target's type and colour.

    Each round, in order: unlock a reachable locked door with the key in hand; else go for the
    target (hands emptied first); else move a ball that blocks a door, fetch a key for a
    reachable locked door, or open a box.

    Returns:
        ``(total reward, terminated, carried object)`` right after the final pickup.
    """
    base = env.unwrapped
    total = 0.0

    def run(actions: list[int]) -> bool:
        nonlocal total
        for action in actions:
            _, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            assert not truncated, "the solver ran out of steps"
            if terminated:
                return True
        return False

    def drop_away() -> None:
        # Never on a cell whose loss would cut off part of the area the agent can walk to, and
        # away from doors where there is room for it.
        area = _walkable_area(base, set())
        safe = {
            c
            for c in area
            if base.grid.get(*c) is None and len(_walkable_area(base, {c})) == len(area) - 1
        }
        plan = _face_plan(base, lambda c: c in safe and not _near_door(base, c))
        if plan is None:  # KeyCorridor's one-cell rooms: every cell touches a door
            plan = _face_plan(base, lambda c: c in safe)
        assert plan is not None, "nowhere to drop"
        run([*plan, DROP])

    def is_target(c: Cell) -> bool:
        obj = base.grid.get(*c)
        return obj is not None and (obj.type, obj.color) == (target_type, target_color)

    def kind_at(c: Cell, kind: type) -> bool:
        return isinstance(base.grid.get(*c), kind)

    for _ in range(max_plans):
        locked = {c for c in _cells(base, Door) if base.grid.get(*c).is_locked}
        reachable_locks = {
            base.grid.get(*c).color
            for c in locked
            if _face_plan(base, lambda cell, c=c: cell == c) is not None
        }
        carried_key = base.carrying.color if isinstance(base.carrying, Key) else None
        if carried_key in reachable_locks:  # first: the path to the target may need that key
            plan = _face_plan(
                base,
                lambda c, lock=locked, k=carried_key: c in lock and base.grid.get(*c).color == k,
            )
            run([*plan, TOGGLE])  # type: ignore[misc]
            continue
        plan = _face_plan(base, is_target)
        if plan is not None:
            if base.carrying is not None:
                drop_away()
                continue
            terminated = run([*plan, PICKUP])
            return total, terminated, base.carrying
        blocker = _face_plan(
            base, lambda c: kind_at(c, Ball) and not is_target(c) and _near_door(base, c)
        )
        key = _face_plan(
            base,
            lambda c, locks=reachable_locks: kind_at(c, Key) and base.grid.get(*c).color in locks,
        )
        box = _face_plan(base, lambda c: kind_at(c, Box))
        if (blocker is not None or key is not None) and base.carrying is not None:
            drop_away()
        elif blocker is not None:
            run([*blocker, PICKUP])
            drop_away()
        elif key is not None:
            run([*key, PICKUP])
        elif box is not None:
            run([*box, TOGGLE])
        else:
            raise AssertionError("the solver is stuck: nothing left to open or move")
    raise AssertionError("the solver did not finish")


def _separate_copies_snapshot(base) -> dict:
    """What a naive snapshot would do: one ``deepcopy`` per attribute (grid and obj apart)."""
    return {k: copy.deepcopy(v) for k, v in vars(base).items() if k not in _NOT_STATE}


def _separate_copies_restore(base, state: dict) -> None:
    for key, value in state.items():
        setattr(base, key, copy.deepcopy(value))


REACHABILITY_CASES = [
    ("MiniGrid-KeyCorridorS3R3-v0", 0),
    ("MiniGrid-KeyCorridorS6R3-v0", 1),
    ("MiniGrid-ObstructedMaze-2Dlh-v0", 2),
    ("MiniGrid-ObstructedMaze-Full-v0", 3),
    ("MiniGrid-ObstructedMaze-Full-v1", 4),
]


def _prefix(env: gym.Env, seed: int) -> np.random.Generator:
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for action in rng.integers(0, 6, size=30):  # no `done`: a random walk with interactions
        *_, terminated, truncated, _ = env.step(int(action))
        assert not (terminated or truncated)
    return rng


def _scramble(env: gym.Env, rng: np.random.Generator) -> None:
    for action in rng.integers(0, 6, size=30):
        *_, terminated, truncated, _ = env.step(int(action))
        if terminated or truncated:
            break


@pytest.mark.parametrize(("env_id", "seed"), REACHABILITY_CASES)
def test_goal_stays_reachable_after_a_restore(env_id, seed):
    env = SnapshotWrapper(gym.make(env_id))
    rng = _prefix(env, seed)
    state = env.get_state()
    _scramble(env, rng)
    env.set_state(state)
    base = env.unwrapped
    target = (base.obj.type, base.obj.color)
    assert any(base.grid.get(*c) is base.obj for c in _cells(base, type(base.obj)))
    total, terminated, carried = solve_pickup(env, *target)
    assert carried is base.obj
    assert terminated and total > 0


@pytest.mark.parametrize(("env_id", "seed"), REACHABILITY_CASES)
def test_copying_grid_and_obj_separately_would_break_the_task(env_id, seed):
    # The same scenario with a naive snapshot: the ball restored on the grid is a copy of
    # ``env.obj``, not ``env.obj`` itself, so picking it up never pays. The real
    # snapshot passes the test above; this shows that test can tell the two apart.
    env = SnapshotWrapper(gym.make(env_id))
    rng = _prefix(env, seed)
    base = env.unwrapped
    state = _separate_copies_snapshot(base)
    _scramble(env, rng)
    _separate_copies_restore(base, state)
    target = (base.obj.type, base.obj.color)
    total, terminated, carried = solve_pickup(env, *target)
    assert (carried.type, carried.color) == target  # it did pick up "the" ball...
    assert carried is not base.obj  # ...but a copy of it
    assert not terminated and total == 0


@pytest.mark.parametrize("env_id", ["teachgym/GridNavigation-v0", "teachgym/NoisyRooms-v0"])
def test_restoring_a_snapshot_keeps_the_params_queued_after_it(env_id: str) -> None:
    """The pending slot is the teacher's channel to the next episode, not episode state: a
    curriculum that queued params after a snapshot must not lose them when it is restored."""
    env = gym.make(env_id).unwrapped
    env.set_next_params(env.param_space.sample(np.random.default_rng(2)))
    env.reset(seed=0)  # uses the slot, which is now empty: the snapshot sees an empty slot
    state = env.get_state()
    queued = env.param_space.sample(np.random.default_rng(3))
    env.set_next_params(queued)
    env.step(2)
    env.set_state(state)
    _, info = env.reset(seed=1)
    np.testing.assert_array_equal(info["params"], queued)
