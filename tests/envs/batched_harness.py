"""Shared harness of the batched grid families' tests (conformance, seeding, bad input).

Plain functions, imported by ``tests/envs/test_batched_*.py`` as ``from batched_harness import``;
no ``test_`` prefix, so pytest does not collect it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from teachgym.envs.batched.base import EMPTY, WALL

# The state every batched family keeps; families add their own (carrying, pending slots, ...).
STATE_NAMES = ("grid", "agent_pos", "agent_dir", "step_count", "max_steps", "params")


def walled_encoding(env: Any, size: int = 28) -> np.ndarray:
    """The MiniGrid-based env's ``grid.encode()`` with the cells outside every room made walls
    (they are empty there, never visible, and walls in the batched env)."""
    grid = env.grid.encode()
    inside = np.zeros((size, size), dtype=bool)
    for room in env.rooms:
        x0, y0 = room.top
        inside[x0 : x0 + room.size, y0 : y0 + room.size] = True
    grid[~inside] = (WALL, 5, 0)
    return grid


def check_books(batched_cls: Any, env_id: str, space: Any, *, num_actions: bool = True) -> Any:
    """The batched family's param space and books equal the MiniGrid-based env's; returns that
    env (open, for further checks; the caller closes it)."""
    env = gym.make(env_id)
    assert env.unwrapped.param_space == space
    np.testing.assert_array_equal(space.defaults, env.unwrapped.param_space.defaults)
    assert batched_cls.return_range == env.unwrapped.return_range
    assert batched_cls.mastery_threshold == env.unwrapped.mastery_threshold
    if num_actions:
        assert batched_cls.num_actions == env.action_space.n
    return env


def load_references(
    batched: Any,
    references: Sequence[tuple[Any, dict[str, Any]]],
    params: np.ndarray,
    encode: Callable[[Any], np.ndarray] = lambda env: env.grid.encode(),
) -> None:
    """Load the MiniGrid-based envs' layouts into ``batched`` (env ``i`` from ``references[i]``)
    and assert every initial observation equals the reference's."""
    num_envs = len(references)
    batched.load_layouts(
        np.arange(num_envs),
        np.stack([encode(env) for env, _ in references]),
        np.array([env.agent_pos for env, _ in references]),
        np.array([env.agent_dir for env, _ in references]),
        np.array([env.max_steps for env, _ in references]),
        params,
    )
    obs = batched.observe()
    for i, (_, reference_obs) in enumerate(references):
        np.testing.assert_array_equal(obs["image"][i].numpy(), reference_obs["image"])


def check_step(
    i: int, step: tuple[Any, ...], ref_step: tuple[Any, ...], params: np.ndarray
) -> bool:
    """Compare env ``i`` of a batched ``step`` (obs, reward, terminated, truncated, info) with
    the MiniGrid-based env's ``ref_step``; returns whether the reference episode ended."""
    obs, reward, terminated, truncated, info = step
    ref_obs, ref_reward, ref_terminated, ref_truncated, _ = ref_step
    final_image = info["final_obs"]["image"] if "final_obs" in info else obs["image"]
    done = ref_terminated or ref_truncated
    image = final_image[i] if done else obs["image"][i]
    np.testing.assert_array_equal(image.numpy(), ref_obs["image"], err_msg=f"env {i}")
    if not done:
        assert int(obs["direction"][i]) == int(ref_obs["direction"])
    assert float(reward[i]) == pytest.approx(float(ref_reward), abs=1e-6)
    assert bool(terminated[i]) == ref_terminated
    assert bool(truncated[i]) == ref_truncated
    if done:
        assert bool(info["_final_obs"][i])
        np.testing.assert_array_equal(info["final_params"][i].numpy(), params[i])
    return done


def play(
    env: Any,
    seed: int,
    steps: int,
    next_actions: Callable[[int], torch.Tensor],
    extra: Callable[[Any, dict[str, Any]], torch.Tensor],
    *,
    with_grid: bool = True,
) -> list[torch.Tensor]:
    """A determinism record: ``steps`` steps from ``reset(seed=seed)`` with actions from
    ``next_actions(num_envs)``; each step adds ``extra(env, info)`` to the record."""
    obs, info = env.reset(seed=seed)
    record = [obs["image"].clone(), info["params"].clone()]
    if with_grid:
        record.append(env.grid.clone())
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(next_actions(env.num_envs))
        record += [obs["image"].clone(), reward, terminated, truncated, extra(env, info).clone()]
    return record


def check_seeding(
    make: Callable[[int], Any], play_one: Callable[[Any, int, int], list[torch.Tensor]]
) -> None:
    """The same seed gives the same episodes whatever the constructor's seed; another differs."""
    first = play_one(make(5), 5, 150)
    second = play_one(make(99), 5, 150)
    other = play_one(make(5), 6, 150)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def check_constructor_rejects(batched_cls: Any, devices: Iterable[Any] = ("gpu",)) -> None:
    for num_envs in (0, -3, 2.5, True, "8"):
        with pytest.raises(ValueError, match="num_envs"):
            batched_cls(num_envs)
    for device in devices:
        with pytest.raises(ValueError, match="device"):
            batched_cls(2, device=device)


@contextmanager
def state_unchanged(env: Any, names: Iterable[str]) -> Iterator[None]:
    """Snapshot ``names`` of ``env``; on leaving, assert none of them changed."""
    snapshot = {name: getattr(env, name).clone() for name in names}
    yield
    for name, value in snapshot.items():
        assert torch.equal(getattr(env, name), value), name


def check_bad_actions(env: Any, *extra: tuple[Any, str]) -> None:
    """Wrong shape, dtype and range of actions for a three-env batch, plus ``extra`` cases."""
    for actions, message in [
        (torch.tensor([0, 1]), "shape"),
        (torch.tensor([0.0, 1.0, 2.0]), "dtype"),
        (torch.tensor([0, 7, 1]), r"0\.\.6"),
        *extra,
    ]:
        with pytest.raises(ValueError, match=message):
            env.step(actions)


def check_bad_params(env: Any, cases: Iterable[tuple[Any, Any, str]]) -> None:
    for indices, params, message in cases:
        with pytest.raises(ValueError, match=message):
            env.set_next_params(indices, params)


def check_bad_grids(env: Any, cases: Iterable[tuple[np.ndarray, str]]) -> None:
    for bad_grid, message in cases:
        with pytest.raises(ValueError, match=message):
            env.load_layouts([0], bad_grid, [[1, 1]], [0], [100])


def walled_empty_grid(size: int = 28) -> np.ndarray:
    """One ``(1, size, size, 3)`` layout: walls around an empty interior."""
    grid = np.zeros((1, size, size, 3), dtype=int)
    grid[...] = (WALL, 5, 0)
    grid[0, 1:-1, 1:-1] = (EMPTY, 0, 0)
    return grid
