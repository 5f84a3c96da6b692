"""``BatchedNoisyRooms``'s lazy noise: what the agent sees follows the per-step colour chain.

A live tile moves at every step, with probability ``p``, to one of the five other colours
uniformly; over ``k`` steps it keeps its colour with probability ``1/6 + 5/6·(1 − 6p/5)^k``, else
shows one of the five others uniformly. The env draws a tile only when it is in view, catching up
the steps since it was last drawn; these tests check the observed colours against that law:
consecutive observations of a tile in view, a tile seen again after ``k`` steps out of view, the
independence of the two, and ``sync_noise`` of tiles never seen. Fixed seeds; tolerances of 4.5
standard errors (and chi-square p-values above 1e-4), so the tests are deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from teachgym.envs.batched.base import BOX, FLOOR, GREY, WALL, YELLOW
from teachgym.envs.batched.noisy_rooms import BatchedNoisyRooms, change_probabilities

SIZE = 28
LEFT, RIGHT, DONE = 0, 1, 6
#: The agent stands at (13, 13) facing +x; the tracked tile (16, 14) is 3 ahead and 1 to the
#: right: image column 4, row 3. Facing -y or -x (after one or two left turns) it is behind.
AGENT, TILE, VIEW_CELL = (13, 13), (16, 14), (4, 3)


def open_room(
    num_envs: int, noise_prob: float, seed: int, max_steps: int = 1000
) -> BatchedNoisyRooms:
    """Envs of one walled 26 × 26 room of floor tiles of random colours, with a closed box in a
    corner (so every tile is live), the agent in the middle facing +x."""
    rng = np.random.default_rng(seed)
    grid = np.zeros((num_envs, SIZE, SIZE, 3), dtype=np.int64)
    grid[...] = (WALL, GREY, 0)
    grid[:, 1:-1, 1:-1, 0] = FLOOR
    grid[:, 1:-1, 1:-1, 1] = rng.integers(0, 6, (num_envs, SIZE - 2, SIZE - 2))
    grid[:, 1:-1, 1:-1, 2] = 0
    grid[:, 1, 1] = (BOX, YELLOW, 0)
    env = BatchedNoisyRooms(num_envs, seed=seed)
    env.load_layouts(
        np.arange(num_envs),
        grid,
        np.tile(AGENT, (num_envs, 1)),
        np.zeros(num_envs, dtype=np.int64),
        np.full(num_envs, max_steps),
        np.tile([1.0, 4.0, 1.0, noise_prob], (num_envs, 1)),
    )
    assert bool(
        env.noise_live.view(num_envs, SIZE, SIZE)[:, 1:-1, 1:-1].sum(dim=(1, 2)).eq(675).all()
    )
    return env


def seen(obs: dict[str, torch.Tensor]) -> np.ndarray:
    """The tracked tile's colour in every env's image (asserting that the image shows it)."""
    image = obs["image"].numpy()
    assert (image[:, VIEW_CELL[0], VIEW_CELL[1], 0] == FLOOR).all()
    return image[:, VIEW_CELL[0], VIEW_CELL[1], 1].astype(np.int64)


def act(env: BatchedNoisyRooms, action: int) -> dict[str, torch.Tensor]:
    obs, _, terminated, truncated, _ = env.step(torch.full((env.num_envs,), action))
    assert not bool((terminated | truncated).any())
    return obs


def change_law(noise_prob: float, steps: int) -> float:
    """The chain's probability of another colour after ``steps`` steps (closed form)."""
    return 5 / 6 * (1 - (1 - 6 * noise_prob / 5) ** steps)


def check_changes(before: np.ndarray, after: np.ndarray, expected: float) -> None:
    """The share of changed colours is ``expected``; changes are uniform over the five others."""
    changed = after != before
    count = changed.size
    sigma = math.sqrt(max(expected * (1 - expected), 1e-12) / count)
    assert abs(changed.mean() - expected) <= 4.5 * sigma + 1e-9, (changed.mean(), expected)
    shifts = ((after - before) % 6)[changed]
    if len(shifts) >= 100:
        histogram = np.bincount(shifts, minlength=6)
        assert histogram[0] == 0
        assert stats.chisquare(histogram[1:]).pvalue > 1e-4, histogram


def test_change_probabilities_are_the_chain_powers() -> None:
    """The tabulated law equals the 6 × 6 transition matrix's powers, p = 0 and 1 included."""
    probs = torch.tensor([0.0, 1e-6, 0.3, 5 / 6, 0.9, 1.0], dtype=torch.float64)
    table = change_probabilities(probs, 40).double()
    for row, p in enumerate(probs.tolist()):
        step = (1 - p) * np.eye(6) + p / 5 * (np.ones((6, 6)) - np.eye(6))
        power = np.eye(6)
        for k in range(40):
            np.testing.assert_allclose(table[row, k], 1 - power[0, 0], rtol=1e-6, atol=1e-7)
            others = power[0, 1:]
            np.testing.assert_allclose(others, others.mean(), atol=1e-12)  # uniform
            power = power @ step
    assert table[0].abs().max() == 0  # p = 0: never
    assert table[-1, 1] == 1  # p = 1: always, after one step


@pytest.mark.parametrize("noise_prob", [0.0, 0.25, 0.7, 1.0])
def test_a_tile_in_view_changes_at_each_step_with_the_chain_law(noise_prob: float) -> None:
    """Watched at every step (the agent does nothing): each step's change has probability
    ``p``, lands uniformly on another colour, and changes at consecutive steps are
    independent."""
    env = open_room(2048, noise_prob, seed=1)
    colours = [seen(env.observe())]
    for _ in range(12):
        colours.append(seen(act(env, DONE)))
    sequence = np.stack(colours)  # (13, envs)
    check_changes(sequence[:-1], sequence[1:], noise_prob)
    moves = sequence[1:] != sequence[:-1]
    both = (moves[1:] & moves[:-1]).mean()
    count = moves[1:].size
    sigma = math.sqrt(max(noise_prob**2 * (1 - noise_prob**2), 1e-12) / count)
    assert abs(both - noise_prob**2) <= 4.5 * sigma + 1e-9


@pytest.mark.parametrize("noise_prob", [0.0, 0.15, 0.6, 1.0])
@pytest.mark.parametrize("waits", [0, 3, 12])
def test_a_tile_seen_again_after_k_steps_follows_the_k_step_law(
    noise_prob: float, waits: int
) -> None:
    """Seen at step t, then out of view (the agent turns away, waits, turns back), seen again
    at step t + k: unchanged with probability ``1/6 + 5/6·(1 − 6p/5)^k``, else uniform over the
    other five; and independent of the change the tile made on the step before t."""
    env = open_room(2048, noise_prob, seed=2)
    act(env, DONE)
    first = seen(act(env, DONE))  # seen at steps 1 and 2
    second = seen(act(env, DONE))
    cell = TILE[0] * SIZE + TILE[1]
    seen_at = env.step_count.clone()
    for action in [LEFT, LEFT] + [DONE] * waits + [RIGHT]:
        act(env, action)
    # Out of view since: its colour was last drawn at step 3 (white box: the lazy state's clock).
    clock = env._noise[:, cell].long() >> 3
    assert torch.equal(clock, seen_at)
    third = seen(act(env, RIGHT))
    steps = 4 + waits
    check_changes(second, third, change_law(noise_prob, steps))
    # Independent increments: the step-2→3 change and the 3→3+k change.
    early, late = second != first, third != second
    expected = noise_prob * change_law(noise_prob, steps)
    sigma = math.sqrt(max(expected * (1 - expected), 1e-12) / len(early))
    assert abs((early & late).mean() - expected) <= 4.5 * sigma + 1e-9


@pytest.mark.parametrize("noise_prob", [0.0, 0.1, 1.0])
def test_sync_noise_draws_unseen_tiles_with_the_chain_law(noise_prob: float) -> None:
    """A tile the agent never looked at (behind it), drawn by ``sync_noise`` after k steps, has
    the k-step law; tiles in view are left as observed; frozen-free grids stay floor."""
    env = open_room(2048, noise_prob, seed=3)
    start = env.grid[:, 1, 5, 13].numpy().astype(np.int64)  # 8 behind the agent
    for _ in range(9):
        obs = act(env, DONE)
    in_view = seen(obs)
    env.sync_noise()
    check_changes(start, env.grid[:, 1, 5, 13].numpy().astype(np.int64), change_law(noise_prob, 9))
    np.testing.assert_array_equal(env.grid[:, 1, TILE[0], TILE[1]].numpy(), in_view)
    # A second sync at the same step draws nothing.
    before = env.grid.clone()
    env.sync_noise([0, 5])
    assert torch.equal(env.grid, before)
    assert bool((env.grid[:, 0, 1:-1, 1:-1] != WALL).all())


def test_opening_the_box_freezes_the_room_at_that_step() -> None:
    """Opening the box draws the room up to that step, then its tiles never change again."""
    env = open_room(256, 1.0, seed=4)
    # Face the box at (1, 1) from (2, 1): teleport by loading the same grid with the agent there.
    grid = env.grid.permute(0, 2, 3, 1).numpy().astype(np.int64)
    env.load_layouts(
        np.arange(256),
        grid,
        np.tile([2, 1], (256, 1)),
        np.full(256, 2),
        np.full(256, 1000),
    )
    for _ in range(5):
        act(env, DONE)
    act(env, 5)  # toggle: the box opens at step 6
    assert not bool(env.noise_live.any())
    frozen = env.grid.clone()
    for _ in range(5):
        act(env, DONE)
    env.sync_noise()
    assert torch.equal(env.grid, frozen)


def test_sync_noise_rejects_bad_indices() -> None:
    env = open_room(3, 0.5, seed=5)
    before = env.grid.clone()
    for indices in ([3], [0, 0], [[0]], [0.5]):
        with pytest.raises(ValueError, match="indices"):
            env.sync_noise(indices)
    assert torch.equal(env.grid, before)


def test_clocks_restart_in_long_episodes_and_keep_the_law() -> None:
    """Past 4094 steps (the int16 clocks' range) the clocks restart from a new origin, every
    tile drawn up to then: the colours keep the chain's law across the restart."""
    noise_prob, steps = 2e-4, 4100
    env = open_room(512, noise_prob, seed=6, max_steps=5000)
    start_hidden = env.grid[:, 1, 5, 13].numpy().astype(np.int64)
    start_seen = seen(env.observe())
    for _ in range(steps):
        obs = env.step(torch.full((env.num_envs,), DONE))[0]
    assert env._clock_origin.eq(4094).all()  # white box: restarted once
    law = change_law(noise_prob, steps)
    check_changes(start_seen, seen(obs), law)
    env.sync_noise()
    check_changes(start_hidden, env.grid[:, 1, 5, 13].numpy().astype(np.int64), law)


def test_render_draws_the_rendered_env_first() -> None:
    env = open_room(2, 1.0, seed=7)
    for _ in range(3):
        act(env, DONE)
    frame = env.render(np.int64(0))
    before = env.grid.clone()
    env.sync_noise([0])
    assert torch.equal(env.grid, before)  # env 0 was drawn up to now by render
    np.testing.assert_array_equal(env.render(0), frame)
    env.sync_noise([1])
    assert not torch.equal(env.grid[1], before[1])  # env 1 was not (p = 1: hidden tiles move)
