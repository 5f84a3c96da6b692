"""``BatchedNoisyRooms``: conformance with the MiniGrid-based env, noise law, rules, bad input."""

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
from teachgym.envs.batched.base import BOX, CLOSED, DOOR, EMPTY, FLOOR, GOAL, WALL, YELLOW
from teachgym.envs.batched.noisy_rooms import NOISY_ROOMS_PARAM_SPACE, BatchedNoisyRooms

NOISY_ROOMS = "teachgym/NoisyRooms-v0"
SIZE = 28
CELLS = SIZE * SIZE
LEFT, RIGHT, TOGGLE = 0, 1, 5


def live_tiles(env: Any) -> np.ndarray:
    """The MiniGrid-based env's live noisy tiles as a flat ``x * 28 + y`` mask."""
    live = np.zeros(CELLS, dtype=bool)
    for tile in env.floor_tiles:
        x, y = tile.cur_pos
        live[x * SIZE + y] = True
    return live


class ConditionedNoise(BatchedNoisyRooms):
    """The batched env with its noise replaced, in rows ``inject_rows``, by given colours: a tile
    drawn at a step takes its ``inject`` colour, the MiniGrid-based env's at that step."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inject = torch.zeros(self.num_envs, CELLS, dtype=torch.long)
        self.inject_rows = torch.zeros(self.num_envs, dtype=torch.bool)

    def _advance_colours(
        self, rows: torch.Tensor, cells: torch.Tensor, colours: torch.Tensor, steps: torch.Tensor
    ) -> torch.Tensor:
        own = super()._advance_colours(rows, cells, colours, steps)
        injected = torch.gather(self.inject.index_select(0, rows), 1, cells.long())
        use = self.inject_rows.index_select(0, rows)[:, None] & (steps > 0)
        return torch.where(use, injected.to(torch.uint8), own)


def test_param_space_and_books_equal_the_minigrid_family() -> None:
    env = check_books(BatchedNoisyRooms, NOISY_ROOMS, NOISY_ROOMS_PARAM_SPACE)
    batched = BatchedNoisyRooms(1, seed=0)
    batched.reset()
    assert int(batched.max_steps[0]) == env.unwrapped.max_steps == 120
    env.close()


def _biased_actions(rng: np.random.Generator, count: int) -> np.ndarray:
    # Lean on forward and toggle so that doors and boxes are opened and goals reached.
    weights = np.array([0.16, 0.16, 0.38, 0.05, 0.05, 0.16, 0.04])
    return rng.choice(7, size=count, p=weights / weights.sum())


def test_dynamics_match_minigrid_step_for_step_with_the_noise_conditioned() -> None:
    """Layouts of the MiniGrid-based env, loaded into the batched env, play identically when the
    batched env's noise takes the MiniGrid-based env's colours (its live tiles must agree)."""
    num_envs = 100
    rng = np.random.default_rng(0)
    params = NOISY_ROOMS_PARAM_SPACE.sample_many(rng, num_envs)
    # Mostly small chains so random play opens doors and boxes and reaches goals; noise off,
    # full and in between.
    params[:70, 0] = rng.uniform(1.0, 2.4, 70)
    params[:70, 1] = rng.uniform(4.0, 6.4, 70)
    params[:, 3] = rng.choice([0.0, 1.0, 0.3, 0.6, 0.9], num_envs)
    references = []
    for i in range(num_envs):
        env: Any = gym.make(NOISY_ROOMS).unwrapped
        obs, _ = env.reset(seed=i, options={"params": params[i]})
        env.max_steps = int(rng.integers(30, 90))
        references.append((env, obs))
    batched = ConditionedNoise(num_envs, seed=0)
    load_references(batched, references, params, walled_encoding)
    for i, (env, _) in enumerate(references):
        np.testing.assert_array_equal(batched.noise_live[i].numpy(), live_tiles(env))

    live = np.ones(num_envs, dtype=bool)
    counts = {"goal": 0, "truncated": 0, "doors": 0, "boxes": 0, "noisy_steps": 0}
    for _ in range(max(env.max_steps for env, _ in references)):
        if not live.any():
            break
        actions = _biased_actions(rng, num_envs)
        results = {}
        inject = batched.inject.clone()
        for i in np.flatnonzero(live):
            env = references[i][0]
            front = env.grid.get(*env.front_pos)
            opened = front is not None and front.type == "box" and actions[i] == TOGGLE
            swung = front is not None and front.type == "door" and actions[i] == TOGGLE
            counts["boxes"] += int(opened)
            counts["doors"] += int(swung)
            counts["noisy_steps"] += int(len(env.floor_tiles) > 0 and env.noise_prob > 0)
            # The tiles live before the step (a box opened now freezes its room after the noise).
            cells = [tile.cur_pos for tile in env.floor_tiles]
            results[i] = env.step(int(actions[i]))
            tiles = [x * SIZE + y for x, y in cells]
            inject[i, tiles] = torch.tensor([env.grid.get(*c).encode()[1] for c in cells]).long()
        batched.inject = inject
        batched.inject_rows = torch.as_tensor(live)
        step = batched.step(torch.as_tensor(actions))
        for i, ref_step in results.items():
            env = references[i][0]
            if check_step(i, step, ref_step, params):
                live[i] = False
                counts["goal" if ref_step[2] else "truncated"] += 1
            else:
                assert batched.agent_pos[i].tolist() == list(env.agent_pos)
                np.testing.assert_array_equal(batched.noise_live[i].numpy(), live_tiles(env))
    assert not live.any()
    # Goals, truncation, doors and boxes opened, noise on: all exercised.
    assert min(counts.values()) >= 5, counts


def _colour_changes(colours: list[np.ndarray], live: list[np.ndarray]) -> tuple[int, int, list]:
    """Changes of live tiles between consecutive snapshots: (changed, total, shifts)."""
    changed = total = 0
    shifts: list[int] = []
    for before, after, mask in zip(colours, colours[1:], live, strict=False):
        moved = (after != before) & mask
        changed += int(moved.sum())
        total += int(mask.sum())
        shifts += ((after[moved].astype(int) - before[moved]) % 6).tolist()
    return changed, total, shifts


@pytest.mark.parametrize("noise_prob", [0.15, 0.6])
def test_noise_rate_and_shifts_match_the_minigrid_family(noise_prob: float) -> None:
    """Turning in place (no box opened): each live tile changes with probability ``noise_prob``
    per step, to one of the five other colours uniformly, in both envs."""
    params = [3.0, 6.0, 1.0, noise_prob]
    steps = 60
    num_envs = 64
    batched = BatchedNoisyRooms(num_envs, seed=1, max_steps=1000)
    batched.set_next_params(np.arange(num_envs), [params] * num_envs)
    batched.reset()
    colours, masks = [batched.grid[:, 1].reshape(num_envs, -1).numpy().copy()], []
    for step in range(steps):
        masks.append(batched.noise_live.numpy().copy())
        batched.step(torch.full((num_envs,), LEFT if step % 2 else RIGHT))
        batched.sync_noise()  # every live tile drawn up to now: grid's colours have the law
        colours.append(batched.grid[:, 1].reshape(num_envs, -1).numpy().copy())
    assert all((mask == masks[0]).all() for mask in masks)
    changed, total, shifts = _colour_changes(colours, masks)

    ref_changed = ref_total = 0
    ref_shifts: list[int] = []
    for seed in range(8):
        env: Any = gym.make(NOISY_ROOMS, max_steps=1000).unwrapped
        env.reset(seed=seed, options={"params": np.array(params)})
        snapshots = [env.grid.encode()[:, :, 1].reshape(-1).copy()]
        live = [live_tiles(env)] * steps
        for step in range(steps):
            env.step(LEFT if step % 2 else RIGHT)
            snapshots.append(env.grid.encode()[:, :, 1].reshape(-1).copy())
        c, t, s = _colour_changes(snapshots, live)
        ref_changed, ref_total, ref_shifts = ref_changed + c, ref_total + t, ref_shifts + s

    rate, ref_rate = changed / total, ref_changed / ref_total
    sigma = math.sqrt(noise_prob * (1 - noise_prob) * (1 / total + 1 / ref_total))
    assert abs(rate - ref_rate) < 4 * sigma, (rate, ref_rate)
    assert abs(rate - noise_prob) < 4 * math.sqrt(noise_prob * (1 - noise_prob) / total)
    for values in (shifts, ref_shifts):
        histogram = np.bincount(values, minlength=6)
        assert histogram[0] == 0  # a change always lands on another colour
        expected = len(values) / 5
        assert (np.abs(histogram[1:] - expected) < 5 * math.sqrt(expected)).all(), histogram


def test_frozen_rooms_never_change_and_plain_tiles_never_move() -> None:
    num_envs = 128
    env = BatchedNoisyRooms(num_envs, seed=2, max_steps=1000)
    rng = np.random.default_rng(2)
    params = NOISY_ROOMS_PARAM_SPACE.sample_many(rng, num_envs)
    params[:, 0] = rng.uniform(1.0, 2.4, num_envs)
    params[:, 1] = 4.0
    params[:, 2] = 1.0
    params[:, 3] = 1.0  # every live tile changes on every step
    env.set_next_params(np.arange(num_envs), params)
    env.reset()
    start_live = env.noise_live.clone()
    frozen_cells = 0
    for _ in range(150):
        env.set_next_params(np.arange(num_envs), params)  # for the envs that reset
        env.sync_noise()
        before = env.grid.reshape(num_envs, 3, -1).clone()
        live_before = env.noise_live.clone()
        _, _, terminated, truncated, _ = env.step(torch.as_tensor(_biased_actions(rng, num_envs)))
        env.sync_noise()
        after = env.grid.reshape(num_envs, 3, -1)
        same = ~(terminated | truncated)
        if not bool(same.any()):
            continue
        rows = same.nonzero().squeeze(1)
        # Colour changes of cells that kept their object (an opened box turns empty).
        kept = after[:, 0] == before[:, 0]
        moved = ((after[:, 1] != before[:, 1]) & kept).index_select(0, rows)
        was_live = live_before.index_select(0, rows)
        # Live tiles all moved (noise_prob 1), nothing else did, the box's room included.
        assert torch.equal(moved, was_live)
        # Liveness only ever shrinks, a whole room at a time.
        now_live = env.noise_live.index_select(0, rows)
        assert not bool((now_live & ~was_live).any())
        frozen_cells += int((start_live.index_select(0, rows) & ~now_live).sum())
        start_live = torch.where(same[:, None], start_live, env.noise_live)
    assert frozen_cells > 100


def _rooms(env: BatchedNoisyRooms, i: int) -> dict[int, set[tuple[int, int]]]:
    room_map = env.room_map[i].view(SIZE, SIZE).numpy()
    rooms: dict[int, set[tuple[int, int]]] = {}
    for x, y in np.argwhere(room_map >= 0):
        rooms.setdefault(int(room_map[x, y]), set()).add((int(x), int(y)))
    return rooms


def _reachable(objects: np.ndarray, start: tuple[int, int]) -> set[tuple[int, int]]:
    passable = (objects != WALL) & (objects != BOX)
    seen, queue = {start}, deque([start])
    while queue:
        x, y = queue.popleft()
        for cell in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if passable[cell] and cell not in seen:
                seen.add(cell)
                queue.append(cell)
    return seen


def test_generated_layouts_follow_the_family_rules() -> None:
    num_envs = 300
    env = BatchedNoisyRooms(num_envs, seed=3)
    params = NOISY_ROOMS_PARAM_SPACE.sample_many(np.random.default_rng(3), num_envs)
    env.set_next_params(np.arange(num_envs), params)
    _, info = env.reset()
    np.testing.assert_array_equal(info["params"].numpy(), params)
    seen_rooms = set()
    for i in range(num_envs):
        num_rooms = math.floor(params[i, 0] + 0.5)
        size = math.floor(params[i, 1] + 0.5)
        num_noisy = math.floor(params[i, 2] * num_rooms + 0.5)
        objects, colours, states = (env.grid[i, c].numpy().astype(int) for c in range(3))
        assert int(env.max_steps[i]) == 120
        assert (objects[0] == WALL).all() and (objects[:, 0] == WALL).all()
        rooms = _rooms(env, i)
        assert sorted(rooms) == list(range(num_rooms))
        seen_rooms.add(num_rooms)
        for cells in rooms.values():  # a square interior of side size - 2, walled
            xs, ys = zip(*cells, strict=True)
            assert len(cells) == (size - 2) ** 2
            assert max(xs) - min(xs) == max(ys) - min(ys) == size - 3
            for x in (min(xs) - 1, max(xs) + 1):
                assert all(objects[x, y] in (WALL, DOOR) for y in range(min(ys), max(ys) + 1))
        # Doors: one between each pair of consecutive rooms, closed, colours differ in a row.
        doors = [tuple(cell) for cell in np.argwhere(objects == DOOR)]
        assert len(doors) == num_rooms - 1
        room_map = env.room_map[i].view(SIZE, SIZE).numpy()
        joined = {}
        for x, y in doors:
            assert states[x, y] == CLOSED
            sides = {int(room_map[c]) for c in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1))}
            sides.discard(-1)
            assert len(sides) == 2
            low = min(sides)
            assert sides == {low, low + 1}
            joined[low] = colours[x, y]
        assert sorted(joined) == list(range(num_rooms - 1))
        assert all(joined[j] != joined[j + 1] for j in range(num_rooms - 2))
        assert (states[objects != DOOR] == 0).all()
        # Agent in the first room, the goal in the last, elsewhere.
        ax, ay = env.agent_pos[i].tolist()
        assert (ax, ay) in rooms[0] and objects[ax, ay] in (EMPTY, FLOOR)
        goals = [tuple(cell) for cell in np.argwhere(objects == GOAL)]
        assert len(goals) == 1 and goals[0] in rooms[num_rooms - 1] and goals[0] != (ax, ay)
        # Noisy rooms: a yellow box each and floor on every other free cell; plain rooms bare.
        noisy = [r for r, cells in rooms.items() if any(objects[c] == FLOOR for c in cells)]
        assert len(noisy) == num_noisy
        for room, cells in rooms.items():
            boxes = [c for c in cells if objects[c] == BOX]
            if room in noisy:
                assert len(boxes) == 1 and colours[boxes[0]] == YELLOW
                assert all(objects[c] in (FLOOR, BOX, GOAL) for c in cells)
                if size >= 6:  # room to spare: the box stands off every doorway
                    x, y = boxes[0]
                    assert not {(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)} & set(doors)
            else:
                assert boxes == [] and all(objects[c] in (EMPTY, GOAL) for c in cells)
        live = env.noise_live[i].view(SIZE, SIZE).numpy()
        np.testing.assert_array_equal(live, objects == FLOOR)
        # Solvable: the goal is reachable through the (openable) doors, around the boxes.
        assert goals[0] in _reachable(objects, (ax, ay))
    assert seen_rooms == set(range(1, 7))


def _play(env: BatchedNoisyRooms, seed: int, steps: int) -> list[torch.Tensor]:
    rng = np.random.default_rng(123)
    return play(
        env,
        seed,
        steps,
        lambda n: torch.as_tensor(_biased_actions(rng, n)),
        lambda env, info: env.noise_live,
    )


def test_same_seed_same_episodes() -> None:
    check_seeding(lambda seed: BatchedNoisyRooms(48, seed=seed), _play)


def test_bad_input_is_rejected_and_leaves_state_unchanged() -> None:
    check_constructor_rejects(BatchedNoisyRooms)
    for max_steps in (0, 1.5, "120"):
        with pytest.raises(ValueError, match="max_steps"):
            BatchedNoisyRooms(2, max_steps=max_steps)  # type: ignore[arg-type]

    env = BatchedNoisyRooms(3, seed=1)
    env.reset()
    extra = ("carrying", "pending_params", "has_pending", "room_map", "noise_live")
    with state_unchanged(env, (*STATE_NAMES, *extra)):
        _reject_bad_input(env)


def _reject_bad_input(env: BatchedNoisyRooms) -> None:
    check_bad_actions(env, (np.array([0, -1, 1]), r"0\.\.6"))
    check_bad_params(
        env,
        [
            ([0], [[1.0, 4.0, 0.0]], "shape"),
            ([0], [[7.0, 4.0, 0.0, 0.0]], "num_rooms"),
            ([1], [[1.0, 11.0, 0.0, 0.0]], "room_size"),
            ([2], [[1.0, 4.0, -0.1, 0.0]], "noisy_fraction"),
            ([2], [[1.0, 4.0, 0.0, float("nan")]], "noise_prob"),
            ([3], [[1.0, 4.0, 0.0, 0.0]], "indices"),
        ],
    )
    grid = walled_empty_grid(SIZE)
    check_bad_grids(
        env,
        [
            (np.where(np.arange(3) == 0, 6, grid), "objects"),  # balls are not of this family
            (np.where(np.arange(3) == 0, 9, grid), "objects"),  # nor lava
            (np.ones((1, 31, 7, 3), dtype=int), "shape"),
            (np.where(np.arange(3) == 1, 6, grid), "colours"),
        ],
    )
    with pytest.raises(ValueError, match="agent_pos"):
        env.load_layouts([0], grid, [[27, 1]], [0], [100])
    with pytest.raises(ValueError, match="max_steps"):
        env.load_layouts([0], grid, [[1, 1]], [0], [0])
