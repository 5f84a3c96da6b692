"""``render_rgb``: frames of the batched envs equal the MiniGrid-based envs' ``render()``."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

import teachgym  # noqa: F401  (registers the env ids)
from teachgym.envs.batched import (
    GRID_KEY_DOOR_PARAM_SPACE,
    GRID_NAVIGATION_PARAM_SPACE,
    BatchedGridEnv,
    BatchedGridKeyDoor,
    BatchedGridNavigation,
)
from teachgym.envs.batched.render import render_rgb

FAMILIES = [
    ("teachgym/GridNavigation-v0", BatchedGridNavigation, GRID_NAVIGATION_PARAM_SPACE),
    ("teachgym/GridKeyDoor-v0", BatchedGridKeyDoor, GRID_KEY_DOOR_PARAM_SPACE),
]


def _load(batched: BatchedGridEnv, references: list[Any], params: np.ndarray) -> None:
    batched.load_layouts(
        np.arange(len(references)),
        np.stack([env.grid.encode() for env in references]),
        np.array([env.agent_pos for env in references]),
        np.array([env.agent_dir for env in references]),
        np.array([env.max_steps for env in references]),
        params,
    )


@pytest.mark.parametrize(("env_id", "batched_cls", "space"), FAMILIES)
def test_frames_equal_minigrid_render_along_episodes(
    env_id: str, batched_cls: type[BatchedGridEnv], space: Any
) -> None:
    """Loaded layouts render identically, at the start and after random steps (doors opened,
    keys carried, agents turned), for the default and a small tile size and without highlight."""
    num_envs = 6
    rng = np.random.default_rng(1)
    params = space.sample_many(rng, num_envs)
    references = []
    for i in range(num_envs):
        env: Any = gym.make(env_id, render_mode="rgb_array").unwrapped
        env.reset(seed=i, options={"params": params[i]})
        env.max_steps = 10_000  # no episode ends within the test, in either env
        references.append(env)
    batched = batched_cls(num_envs, seed=0)
    _load(batched, references, params)
    live = [True] * num_envs  # an env that stepped into lava or onto the goal starts afresh
    for step in range(8):
        for i, env in enumerate(references):
            if not live[i]:
                continue
            expected = env.render()
            frame = render_rgb(batched, i)
            assert frame.dtype == np.uint8 and frame.shape == expected.shape
            np.testing.assert_array_equal(frame, expected, err_msg=f"env {i}, step {step}")
        actions = rng.choice(7, size=num_envs, p=[0.2, 0.2, 0.3, 0.1, 0.05, 0.1, 0.05])
        batched.step(torch.as_tensor(actions))
        for i, (env, action) in enumerate(zip(references, actions, strict=True)):
            if live[i]:
                live[i] = not env.step(int(action))[2]
    assert sum(live) >= num_envs // 2
    first = live.index(True)
    env = references[first]
    np.testing.assert_array_equal(render_rgb(batched, first, tile_size=8), env.get_frame(True, 8))
    np.testing.assert_array_equal(
        render_rgb(batched, first, highlight=False), env.get_frame(False, 32)
    )


def test_bad_index_and_tile_size() -> None:
    batched = BatchedGridNavigation(3, seed=0)
    batched.reset()
    with pytest.raises(ValueError, match="index"):
        render_rgb(batched, 3)
    with pytest.raises(ValueError, match="index"):
        render_rgb(batched, -1)
    with pytest.raises(ValueError, match="tile_size"):
        render_rgb(batched, 0, tile_size=0)


def test_importing_render_does_not_import_minigrid() -> None:
    code = (
        "import sys; import teachgym.envs.batched.render; "
        "assert not any(m.startswith('minigrid') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
