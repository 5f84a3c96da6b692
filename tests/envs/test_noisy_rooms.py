"""NoisyRooms and NoisyTVRooms: layouts follow their cards, the noise behaves as documented (where,
how often, what stops it), episodes are reproducible and solvable."""

from __future__ import annotations

import itertools
import warnings
from collections import deque

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from minigrid.core.world_object import Ball, Box, Door, Floor, Goal

import teachgym  # noqa: F401  (registers the ids)
from teachgym.envs.grids.noisy_rooms import GRID_SIZE, NoiseBox, NoisyFloor, NoisyRooms, Room
from teachgym.envs.grids.noisy_tv import NoisyTVRooms

ROOMS = "teachgym/NoisyRooms-v0"
TV = "teachgym/NoisyTVRooms-v0"
LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = range(7)
DIRECTIONS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # MiniGrid's agent_dir order
FLOOR_TYPE = 3


def make(env_id: str, **kwargs) -> gym.Env:
    return gym.make(env_id, **kwargs)


def reset(env: gym.Env, seed: int, **params: float):
    obs, _ = env.reset(seed=seed, options={"params": params})
    return obs, env.unwrapped


def in_room(room: Room, cell) -> bool:
    x0, y0 = room.top
    return x0 < cell[0] < x0 + room.size - 1 and y0 < cell[1] < y0 + room.size - 1


def room_of(base, cell) -> int | None:
    return next((k for k, room in enumerate(base.rooms) if in_room(room, cell)), None)


def plan_to_goal(base) -> list[int] | None:
    """Fewest actions to the goal (BFS over position, direction and what was opened).

    Closed doors and noise boxes are opened with ``toggle``; balls are obstacles (pickup is not
    modelled), so a plan found here is one the env must accept.
    """
    start = (int(base.agent_pos[0]), int(base.agent_pos[1]), int(base.agent_dir), frozenset())
    parents: dict = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        x, y, d, opened = state
        front = (x + DIRECTIONS[d][0], y + DIRECTIONS[d][1])
        cell = base.grid.get(*front)
        moves = [(LEFT, (x, y, (d - 1) % 4, opened)), (RIGHT, (x, y, (d + 1) % 4, opened))]
        if cell is None or front in opened or cell.can_overlap():
            moves.append((FORWARD, (*front, d, opened)))
            if isinstance(cell, Goal):
                actions = [FORWARD]
                while parents[state] is not None:
                    state, action = parents[state]
                    actions.append(action)
                return actions[::-1]
        elif isinstance(cell, Door | Box) and not getattr(cell, "is_locked", False):
            moves.append((TOGGLE, (x, y, d, opened | {front})))
        for action, nxt in moves:
            if nxt not in parents:
                parents[nxt] = (state, action)
                queue.append(nxt)
    return None


def corners_and_centre(space) -> list[dict[str, float]]:
    unit = [np.array(c, dtype=float) for c in itertools.product([0, 1], repeat=space.dim)]
    unit.append(np.full(space.dim, 0.5))
    return [space.to_dict(space.denormalize(u)) for u in unit]


def floor_cells(base) -> dict[tuple[int, int], NoisyFloor]:
    return {tuple(tile.cur_pos): tile for tile in base.floor_tiles}


# ---------------------------------------------------------------------- layout
@pytest.mark.parametrize(
    ("num_rooms", "room_size", "noisy_fraction"),
    [(1, 4, 1.0), (2.4, 5.6, 0.5), (3.5, 7.5, 0.34), (6, 10, 0.0), (6, 4, 1.0), (4.49, 8, 0.62)],
)
def test_rooms_layout_follows_the_card(num_rooms, room_size, noisy_fraction):
    env = make(ROOMS)
    for seed in range(5):
        _, base = reset(
            env, seed, num_rooms=num_rooms, room_size=room_size, noisy_fraction=noisy_fraction
        )
        rooms, size = int(np.floor(num_rooms + 0.5)), int(np.floor(room_size + 0.5))
        noisy = int(np.floor(noisy_fraction * rooms + 0.5))
        assert len(base.rooms) == rooms and all(room.size == size for room in base.rooms)
        assert len(base.layout.noisy_rooms) == noisy
        assert room_of(base, base.agent_pos) == 0
        assert room_of(base, base.goal_pos) == rooms - 1
        assert isinstance(base.grid.get(*base.goal_pos), Goal)
        boxes = {room_of(base, (x, y)): base.grid.get(x, y) for x, y in _cells(base, NoiseBox)}
        assert sorted(boxes) == list(base.layout.noisy_rooms)
        assert all(box.room_index == k for k, box in boxes.items())
        for k, room in enumerate(base.rooms):
            kinds = {type(base.grid.get(*cell)) for cell in room.interior()}
            if k in base.layout.noisy_rooms:  # every free cell is noisy floor
                assert kinds <= {NoisyFloor, NoiseBox, Goal}
            else:
                assert kinds <= {type(None), Goal}
        doors = _cells(base, Door)
        assert len(doors) == rooms - 1
        assert all(not base.grid.get(*cell).is_locked for cell in doors)


def _cells(base, kind) -> list[tuple[int, int]]:
    return [
        (x, y)
        for x in range(base.width)
        for y in range(base.height)
        if isinstance(base.grid.get(x, y), kind)
    ]


def test_tv_layout_follows_the_card():
    env = make(TV)
    for seed in range(5):
        _, base = reset(env, seed, num_rooms=3, room_size=6, num_tvs=2.6)
        assert len(base.tv_balls) == 3 and base.layout.tv_rooms == (0, 1, 2)
        for ball, k in zip(base.tv_balls, base.layout.tv_rooms, strict=True):
            assert base.grid.get(*ball.cur_pos) is ball and room_of(base, ball.cur_pos) == k
        _, base = reset(env, seed, num_rooms=1, room_size=4, num_tvs=3)
        assert base.layout.tv_rooms == (0,)  # a lone 2 x 2 interior keeps one free cell
        _, base = reset(env, seed, num_rooms=2, room_size=8, num_tvs=0.4)
        assert base.tv_balls == [] and not _cells(base, Ball)


# ---------------------------------------------------------------------- determinism
@pytest.mark.parametrize(
    ("env_id", "params"),
    [
        (ROOMS, {"num_rooms": 4, "room_size": 6, "noisy_fraction": 0.5, "noise_prob": 0.3}),
        (TV, {"num_rooms": 4, "room_size": 6, "num_tvs": 3}),
    ],
)
def test_same_seed_and_params_give_identical_100_step_rollouts(env_id, params):
    def rollout(seed: int) -> list:
        env = make(env_id)
        obs, _ = env.reset(seed=seed, options={"params": params})
        rng = np.random.default_rng(seed)
        trace = [(obs["image"], env.unwrapped.grid.encode())]
        for action in rng.integers(0, 7, size=100):
            obs, reward, terminated, truncated, _ = env.step(int(action))
            trace.append((obs["image"], env.unwrapped.grid.encode(), reward, terminated, truncated))
            if terminated or truncated:
                obs, _ = env.reset()
        return trace

    first, second, other = rollout(3), rollout(3), rollout(4)
    for a, b in zip(first, second, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(first, other, strict=True))


# ---------------------------------------------------------------------- noisy floor
def test_noise_changes_noisy_rooms_and_nothing_else():
    env = make(ROOMS)
    _, base = reset(env, 0, num_rooms=4, room_size=6, noisy_fraction=0.5, noise_prob=0.5)
    before = base.grid.encode()
    changed = np.zeros(before.shape[:2], dtype=bool)
    for _ in range(60):
        env.step(DONE)  # a no-op in NoisyRooms: only the noise moves
        after = base.grid.encode()
        changed |= (after != before).any(axis=2)
        before = after
    noisy = np.zeros_like(changed)
    for x, y in floor_cells(base):
        noisy[x, y] = True
    assert noisy.sum() > 0
    # P(a tile never changes in 60 steps at p=0.5) = 2**-60.
    np.testing.assert_array_equal(changed, noisy)
    assert {room_of(base, cell) for cell in floor_cells(base)} == set(base.layout.noisy_rooms)


def test_noise_rate_and_new_colours_follow_noise_prob():
    env = make(ROOMS)
    _, base = reset(env, 1, num_rooms=6, room_size=10, noisy_fraction=1, noise_prob=0.3)
    colours = [base.floor_colours.copy()]
    for _ in range(150):
        env.step(DONE)
        colours.append(base.floor_colours.copy())
    colours = np.array(colours, dtype=int)
    shifts = (colours[1:] - colours[:-1]) % 6
    assert shifts.size > 50_000
    assert abs((shifts > 0).mean() - 0.3) < 0.01  # std of the mean ~0.002
    counts = np.bincount(shifts[shifts > 0], minlength=6)[1:] / (shifts > 0).sum()
    np.testing.assert_allclose(counts, 0.2, atol=0.015)  # each other colour equally likely
    assert all(0 <= c < 6 for c in np.unique(colours))


@pytest.mark.parametrize("noise_prob", [0.0, 5e-324, 1e-300])
def test_zero_noise_prob_never_changes_a_tile(noise_prob):
    env = make(ROOMS)
    _, base = reset(env, 2, num_rooms=3, room_size=7, noisy_fraction=1, noise_prob=noise_prob)
    start = {cell: tile.color for cell, tile in floor_cells(base).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in the noise arithmetic
        for _ in range(100):
            env.step(DONE)
    assert {cell: tile.color for cell, tile in floor_cells(base).items()} == start


def test_every_tile_changes_every_step_at_noise_prob_one():
    env = make(ROOMS)
    _, base = reset(env, 3, num_rooms=2, room_size=5, noisy_fraction=1, noise_prob=1)
    for _ in range(40):
        before = base.floor_colours.copy()
        env.step(DONE)
        assert np.all(base.floor_colours != before)


def test_noise_is_visible_in_the_agent_view_and_in_renders():
    env = make(ROOMS, render_mode="rgb_array")
    obs, _ = reset(env, 4, num_rooms=1, room_size=10, noisy_fraction=1, noise_prob=1)
    frame = env.render()
    assert frame.shape == (GRID_SIZE * 32, GRID_SIZE * 32, 3)
    floor = obs["image"][:, :, 0] == FLOOR_TYPE
    assert floor.sum() >= 3  # the agent stands in a noisy room and sees its floor
    obs2, *_ = env.step(DONE)
    np.testing.assert_array_equal(obs2["image"][:, :, 0] == FLOOR_TYPE, floor)
    assert np.all(obs2["image"][floor, 1] != obs["image"][floor, 1])  # p = 1: all changed
    assert not np.array_equal(env.render(), frame)


def test_opening_the_box_freezes_that_room_only():
    env = make(ROOMS)
    _, base = reset(env, 5, num_rooms=2, room_size=6, noisy_fraction=1, noise_prob=1)
    (box_cell,) = [cell for cell in _cells(base, NoiseBox) if room_of(base, cell) == 0]
    # Stand next to the box, facing it (any free or floor cell of the room will do).
    for d, (dx, dy) in enumerate(DIRECTIONS):
        stand = (box_cell[0] - dx, box_cell[1] - dy)
        cell = base.grid.get(*stand)
        if room_of(base, stand) == 0 and (cell is None or cell.can_overlap()):
            base.agent_pos, base.agent_dir = stand, d
            break
    else:
        pytest.fail("no cell next to the box")
    room0 = [c for c in base.rooms[0].interior() if isinstance(base.grid.get(*c), NoisyFloor)]
    env.step(TOGGLE)
    assert base.grid.get(*box_cell) is None and base.noise_frozen.tolist() == [True, False]
    frozen = {cell: base.grid.get(*cell).encode() for cell in room0}
    assert all(type(base.grid.get(*cell)) is Floor for cell in room0)  # plain floor now
    live = base.floor_colours.copy()
    for _ in range(30):
        env.step(DONE)
        assert {cell: base.grid.get(*cell).encode() for cell in room0} == frozen
        assert np.all(base.floor_colours != live)  # the other room still changes every step
        live = base.floor_colours.copy()
    assert {room_of(base, cell) for cell in floor_cells(base)} == {1}


def test_toggling_doors_or_walking_does_not_freeze_noise():
    env = make(ROOMS)
    _, base = reset(env, 6, num_rooms=3, room_size=6, noisy_fraction=1, noise_prob=1)
    plan = plan_to_goal(base)
    assert plan is not None
    for action in plan:
        if isinstance(base.grid.get(*base.front_pos), NoiseBox):
            break
        env.step(action)
    assert not base.noise_frozen.any()


# ---------------------------------------------------------------------- noisy TV
def test_tv_changes_colour_on_done_and_only_then():
    env = make(TV)
    _, base = reset(env, 7, num_rooms=2, room_size=6, num_tvs=3)
    rng = np.random.default_rng(0)
    colours = [ball.color for ball in base.tv_balls]
    for step in range(300):
        if step % 10 == 0:
            grid_before = base.grid.encode()
            obs_before, *_ = env.step(LEFT)
            obs, *_ = env.step(DONE)
            new = [ball.color for ball in base.tv_balls]
            assert all(a != b for a, b in zip(colours, new, strict=True))
            colours = new
            # Nothing but the TVs changed (the agent only turned).
            diff = (base.grid.encode() != grid_before).any(axis=2)
            tv_cells = {tuple(b.cur_pos) for b in base.tv_balls if base.grid.get(*b.cur_pos)}
            assert {(int(x), int(y)) for x, y in zip(*np.nonzero(diff), strict=True)} <= tv_cells
            np.testing.assert_array_equal(obs["direction"], obs_before["direction"])
        else:
            _, _, terminated, truncated, _ = env.step(int(rng.integers(0, 6)))  # never done
            assert [ball.color for ball in base.tv_balls] == colours
            if terminated or truncated:
                break


def test_tv_change_is_seen_in_the_agent_view():
    env = make(TV)
    for seed in range(50):
        obs, _ = reset(env, seed, num_rooms=1, room_size=5, num_tvs=1)
        ball_seen = obs["image"][:, :, 0] == 6  # OBJECT_TO_IDX["ball"]
        if ball_seen.any():
            break
    else:
        pytest.fail("no seed puts the TV in view")
    obs2, *_ = env.step(DONE)
    assert np.all(obs2["image"][ball_seen, 1] != obs["image"][ball_seen, 1])


def test_a_carried_tv_still_changes():
    env = make(TV)
    _, base = reset(env, 8, num_rooms=1, room_size=6, num_tvs=1)
    (ball,) = base.tv_balls
    base.grid.set(*ball.cur_pos, None)
    base.carrying = ball
    before = ball.color
    obs, *_ = env.step(DONE)
    assert ball.color != before
    agent_cell = obs["image"][3, 6]  # what the agent carries is drawn at its own cell
    assert tuple(agent_cell[:2]) == ball.encode()[:2]


# ---------------------------------------------------------------------- solvability
@pytest.mark.parametrize("env_id", [ROOMS, TV])
def test_corners_and_centre_reset_and_are_solved_within_the_budget(env_id):
    env = make(env_id)
    space = env.unwrapped.param_space
    for k, params in enumerate(corners_and_centre(space)):
        for seed in range(3):
            _, base = reset(env, 10 * k + seed, **params)
            plan = plan_to_goal(base)
            assert plan is not None and len(plan) < base.max_steps, params
        total = 0.0
        for action in plan:
            _, reward, terminated, truncated, _ = env.step(action)
            total += reward
        assert terminated and not truncated
        assert total == pytest.approx(1 - 0.9 * len(plan) / base.max_steps)


def test_hard_corner_stays_within_the_default_budget():
    env = make(ROOMS)
    lengths = []
    for seed in range(15):
        _, base = reset(env, seed, num_rooms=6, room_size=10, noisy_fraction=1, noise_prob=1)
        plan = plan_to_goal(base)
        assert plan is not None
        lengths.append(len(plan))
    assert max(lengths) < 100 <= base.max_steps  # card: at most 83 over 100 seeds


def test_episode_truncates_at_max_steps():
    env = make(ROOMS, max_steps=25)
    reset(env, 0, num_rooms=6, room_size=10)
    for step in range(1, 26):
        _, reward, terminated, truncated, _ = env.step(DONE)
        assert not terminated and reward == 0
        assert truncated == (step == 25)


# ---------------------------------------------------------------------- Gymnasium
@pytest.mark.parametrize(("env_id", "env_class"), [(ROOMS, NoisyRooms), (TV, NoisyTVRooms)])
def test_gymnasium_env_checker_passes_without_warnings(env_id, env_class):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env_class(), skip_render_check=True)
        # The render check opens a human window, whose pygame font lookup warns on machines
        # without that font: not our warning; renders are checked below.
        gym_check_env(make(env_id).unwrapped, skip_render_check=True)


@pytest.mark.parametrize("env_id", [ROOMS, TV])
def test_rgb_render_keeps_one_shape_for_every_layout(env_id):
    env = make(env_id, render_mode="rgb_array")
    shapes = set()
    for params in corners_and_centre(env.unwrapped.param_space):
        env.reset(seed=0, options={"params": params})
        shapes.add(env.render().shape)
    assert shapes == {(GRID_SIZE * 32, GRID_SIZE * 32, 3)}
