"""The batched families behind ``gymnasium.make_vec(id, vectorization_mode="vector_entry_point")``,
with ``make`` and the other vectorisation modes unchanged."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import SyncVectorEnv

import teachgym  # noqa: F401  (registers the ids)
from teachgym.envs import batched
from teachgym.envs.grids.base import ParameterizedGridEnv

BATCHED = {
    "teachgym/GridNavigation-v0": batched.BatchedGridNavigation,
    "teachgym/GridKeyDoor-v0": batched.BatchedGridKeyDoor,
    "teachgym/NoisyRooms-v0": batched.BatchedNoisyRooms,
    "teachgym/NoisyTVRooms-v0": batched.BatchedNoisyTVRooms,
}


@pytest.fixture(autouse=True)
def _one_torch_thread():  # type: ignore[no-untyped-def]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("env_id", sorted(BATCHED))
def test_make_vec_vector_entry_point_builds_the_batched_family(env_id: str) -> None:
    vec = gym.make_vec(
        env_id, num_envs=8, vectorization_mode="vector_entry_point", device="cpu", seed=3
    )
    assert type(vec) is BATCHED[env_id]
    assert vec.num_envs == 8
    obs, info = vec.reset(seed=3)
    assert isinstance(obs["image"], torch.Tensor) and obs["image"].shape == (8, 7, 7, 3)
    assert vec.observation_space["image"].shape == (8, 7, 7, 3)
    # The batched space is the MiniGrid-based env's param space, every row inside it.
    single = gym.make(env_id)
    assert isinstance(single.unwrapped, ParameterizedGridEnv)  # make() is unchanged
    space = single.unwrapped.param_space
    params = np.asarray(info["params"])
    assert params.shape == (8, space.dim)
    assert np.all(params >= space.low) and np.all(params <= space.high)
    single.close()
    frame = vec.render(2)
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8


def test_numpy_interface_and_the_sync_mode_still_vectorising_minigrid() -> None:
    env_id = "teachgym/GridNavigation-v0"
    vec = gym.make_vec(
        env_id, num_envs=4, vectorization_mode="vector_entry_point", interface="numpy", seed=0
    )
    obs, _ = vec.reset(seed=0)
    assert isinstance(obs["image"], np.ndarray) and obs["image"].shape == (4, 7, 7, 3)
    obs, rewards, terminations, truncations, _ = vec.step(np.zeros(4, dtype=np.int64))
    assert rewards.shape == terminations.shape == truncations.shape == (4,)
    sync = gym.make_vec(env_id, num_envs=2, vectorization_mode="sync")
    assert isinstance(sync, SyncVectorEnv)
    sync.close()


@pytest.mark.parametrize(
    ("options", "match"),
    [({"interface": "jax"}, "interface"), ({"colour": 3}, "colour"), ({"device": "tpu"}, "tpu")],
)
def test_bad_options_are_a_clear_value_error(options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        gym.make_vec(
            "teachgym/GridKeyDoor-v0",
            num_envs=2,
            vectorization_mode="vector_entry_point",
            **options,
        )
