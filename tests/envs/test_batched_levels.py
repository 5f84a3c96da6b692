"""Levels on the batched path: an env's layout is a function of (params, level seed) whatever
the rest of the batch did before, the shared stream is left where it was, and envs without a
level are generated as before."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from teachgym.envs.batched.base import BatchedGridEnv
from teachgym.envs.batched.grid_key_door import BatchedGridKeyDoor
from teachgym.envs.batched.grid_navigation import BatchedGridNavigation
from teachgym.envs.batched.noisy_rooms import BatchedNoisyRooms
from teachgym.envs.batched.noisy_tv import BatchedNoisyTVRooms

FAMILIES = [BatchedGridNavigation, BatchedGridKeyDoor, BatchedNoisyRooms, BatchedNoisyTVRooms]
N = 6


def layout(env: BatchedGridEnv, i: int) -> tuple[Any, ...]:
    return (
        env.grid[i].clone(),
        env.agent_pos[i].clone(),
        int(env.agent_dir[i]),
        int(env.max_steps[i]),
    )


def same_layout(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return bool(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])) and a[2:] == b[2:]


def params_rows(env: BatchedGridEnv, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([env.param_space.sample(rng) for _ in range(env.num_envs)])


@pytest.mark.parametrize("family", FAMILIES)
def test_a_level_gives_the_same_layout_in_any_env_after_any_history(
    family: type[BatchedGridEnv],
) -> None:
    env = family(N, seed=0)
    params = params_rows(env, 1)
    levels = np.array([11, 12, 13, -1, 11, 14])
    env.reset(options={"params": params, "level_seed": levels})
    first = [layout(env, i) for i in range(N)]
    # Another history: other seeds, other params, random steps.
    env.reset(seed=5, options={"params": params_rows(env, 2)})
    for _ in range(7):
        env.step(torch.randint(7, (N,), generator=torch.Generator().manual_seed(3)))
    # Level 11 of row 0's params, now in env 2 (and by the pending slot in env 5).
    moved = params[[1, 0, 0, 3, 4, 0]]
    env.reset(options={"params": moved, "level_seed": np.array([12, 11, 11, -1, 11, 17])})
    assert same_layout(layout(env, 0), first[1])
    assert same_layout(layout(env, 1), first[0]) and same_layout(layout(env, 2), first[0])
    assert same_layout(layout(env, 4), first[4])
    assert env.level_seed.tolist() == [12, 11, 11, -1, 11, 17]
    distinct = [same_layout(first[0], first[i]) for i in (1, 2)]  # other levels, other layouts
    assert not all(distinct) or family is BatchedNoisyTVRooms


@pytest.mark.parametrize("family", FAMILIES)
def test_the_pending_slot_carries_levels_through_autoreset(family: type[BatchedGridEnv]) -> None:
    env = family(N, seed=0)
    params = params_rows(env, 3)
    levels = np.arange(100, 100 + N)
    env.reset(options={"params": params, "level_seed": levels})
    expected = [layout(env, i) for i in range(N)]
    env.reset(seed=9)
    env.set_next_params(np.arange(N), params, level_seeds=levels)
    env.reset()
    assert env.level_seed.tolist() == levels.tolist()
    assert all(same_layout(layout(env, i), expected[i]) for i in range(N))
    # Params without levels clear the queued levels.
    env.set_next_params([0], params[:1], level_seeds=[7])
    env.set_next_params([0], params[:1])
    assert int(env.pending_level_seed[0]) == -1


def test_final_level_seed_pairs_with_the_finished_episode() -> None:
    env = BatchedGridNavigation(4, seed=0)
    params = params_rows(env, 4)
    env.reset(options={"params": params, "level_seed": np.array([5, 6, -1, 8])})
    env.set_next_params(np.arange(4), params, level_seeds=np.array([50, 60, 70, 80]))
    rng = torch.Generator().manual_seed(0)
    for _ in range(400):
        _, _, terminated, truncated, info = env.step(torch.randint(7, (4,), generator=rng))
        done = terminated | truncated
        if bool(done.any()):
            finished = done.nonzero().squeeze(1).tolist()
            assert info["final_level_seed"][finished].tolist() == [
                [5, 6, -1, 8][i] for i in finished
            ]
            assert info["level_seed"][finished].tolist() == [[50, 60, 70, 80][i] for i in finished]
            return
    raise AssertionError("no episode ended")


def test_levels_leave_the_shared_stream_and_plain_envs_as_they_were() -> None:
    params = params_rows(BatchedGridNavigation(N), 5)
    levels = np.array([-1, 3, -1, 4, -1, -1])
    plain_rows = levels < 0
    # Without levels, the batch of the plain envs alone (the rows with a level are untouched).
    plain = BatchedGridNavigation(N, seed=0)
    plain.reset(options={"params": params, "reset_mask": plain_rows})
    with_levels = BatchedGridNavigation(N, seed=0)
    with_levels.reset(options={"params": params, "level_seed": levels})
    for i in np.flatnonzero(plain_rows).tolist():
        assert same_layout(layout(plain, i), layout(with_levels, i))
    assert torch.equal(plain.generator.get_state(), with_levels.generator.get_state())


def test_no_levels_no_level_keys() -> None:
    env = BatchedGridNavigation(2, seed=0)
    _, info = env.reset()
    assert "level_seed" not in info


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"level_seed": np.array([1, 2])}, "needs 'params' beside it"),
        ({"params": "P", "level_seed": np.array([1, -2])}, "got -2 at row 1"),
        ({"params": "P", "level_seed": np.array([1.0, 2.0])}, "must be integers"),
        ({"params": "P", "level_seed": np.array([1, 2, 3])}, "must have shape"),
    ],
)
def test_bad_levels_raise_and_change_nothing(options: dict[str, Any], message: str) -> None:
    env = BatchedGridNavigation(2, seed=0)
    params = params_rows(env, 6)
    env.reset(options={"params": params, "level_seed": np.array([1, 2])})
    before = [layout(env, i) for i in range(2)]
    state = env.generator.get_state()
    if options.get("params") == "P":
        options = {**options, "params": params}
    with pytest.raises(ValueError, match=message):
        env.reset(options=options)
    with pytest.raises(ValueError):
        env.set_next_params([0, 1], params, level_seeds=np.array([3, -5]))
    assert all(same_layout(layout(env, i), before[i]) for i in range(2))
    assert torch.equal(env.generator.get_state(), state)
    assert env.level_seed.tolist() == [1, 2] and not bool(env.has_pending.any())
