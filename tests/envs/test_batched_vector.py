"""The batched env's faces: Gymnasium ``VectorEnv`` (torch and NumPy) and the SB3 ``VecEnv``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

import teachgym  # noqa: F401  (registers the env ids)
from teachgym.envs.batched import BatchedGridKeyDoor, BatchedGridNavigation
from teachgym.envs.batched.numpy_vector import BatchedNumpyVectorEnv
from teachgym.envs.batched.sb3 import BatchedSB3VecEnv, flatten_grid_obs
from teachgym.envs.wrappers import GridFlatObs

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(autouse=True)
def _one_torch_thread():  # type: ignore[no-untyped-def]
    """One intra-op thread: on a loaded 2-core machine, torch's thread pool makes the small
    per-step tensor ops of a few hundred envs 10-100× slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _run(env: BatchedGridNavigation, steps: int, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        yield env.step(torch.as_tensor(rng.integers(0, 7, env.num_envs)))


@pytest.mark.parametrize("device", DEVICES)
def test_is_a_gymnasium_vector_env_with_batched_spaces(device: str) -> None:
    env = BatchedGridNavigation(5, device=device, seed=0)
    assert isinstance(env, VectorEnv)
    assert env.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
    assert env.num_envs == 5
    assert env.single_action_space == spaces.Discrete(7)
    assert env.action_space == spaces.MultiDiscrete([7] * 5)
    assert env.single_observation_space["image"] == spaces.Box(0, 255, (7, 7, 3), np.uint8)
    assert env.single_observation_space["direction"] == spaces.Discrete(4)
    obs, info = env.reset(seed=3)
    assert obs["image"].device.type == device and obs["image"].dtype == torch.uint8
    numpy_obs = {key: value.cpu().numpy() for key, value in obs.items()}
    assert env.observation_space.contains(numpy_obs)
    assert info["params"].shape == (5, 4)
    _, reward, terminated, truncated, info = env.step(torch.zeros(5, dtype=torch.long))
    assert reward.dtype == torch.float32 and reward.device.type == device
    assert terminated.dtype == torch.bool and truncated.dtype == torch.bool
    env.close()
    assert env.closed


def test_same_step_info_reports_each_finished_episode_exactly() -> None:
    env = BatchedGridNavigation(16, seed=1)
    _, info = env.reset(seed=1)
    returns = torch.zeros(16, dtype=torch.float64)
    lengths = torch.zeros(16, dtype=torch.long)
    started = info["params"].clone()
    finished = 0
    for _, reward, terminated, truncated, info in _run(env, 400):
        returns += reward.double()
        lengths += 1
        done = terminated | truncated
        if not bool(done.any()):
            assert "final_obs" not in info and "final_info" not in info
            continue
        assert torch.equal(info["_final_obs"], done) and torch.equal(info["_final_info"], done)
        assert torch.equal(info["final_info"]["params"][done], started[done])
        assert torch.equal(info["final_params"][done], started[done])
        torch.testing.assert_close(info["final_return"][done], returns[done], atol=1e-6, rtol=0)
        assert torch.equal(info["final_length"][done], lengths[done])
        # The returned obs of an ended env is the new episode's; the final obs differs in general
        # and the new params are reported in info["params"].
        started = torch.where(done[:, None], info["params"], started)
        returns[done], lengths[done] = 0.0, 0
        finished += int(done.sum())
    assert finished > 50


def test_reset_options_params_and_mask() -> None:
    env = BatchedGridNavigation(4, seed=0)
    space = env.param_space
    env.reset(seed=0)
    pending = np.tile(space.low, (4, 1))
    env.set_next_params([0, 1, 2, 3], pending)
    chosen = np.tile(space.high, (4, 1))
    before = env.params.clone()
    mask = np.array([True, False, True, False])
    _, info = env.reset(options={"params": chosen, "reset_mask": mask})
    np.testing.assert_array_equal(info["params"][mask].numpy(), chosen[mask])
    assert torch.equal(info["params"][~torch.as_tensor(mask)], before[~torch.as_tensor(mask)])
    # The chosen params leave the pending slots for the next reset.
    assert bool(env.has_pending.all())
    _, info = env.reset()
    np.testing.assert_array_equal(info["params"].numpy(), pending)


@pytest.mark.parametrize(
    "options",
    [
        {"param": np.zeros((4, 4))},
        {"params": np.zeros((3, 4))},
        {"reset_mask": np.ones(4)},
        {"reset_mask": np.ones(3, dtype=bool)},
    ],
)
def test_bad_reset_options_raise_and_change_nothing(options: dict) -> None:  # type: ignore[type-arg]
    env = BatchedGridNavigation(4, seed=0)
    env.reset(seed=0)
    grid, params = env.grid.clone(), env.params.clone()
    with pytest.raises(ValueError, match=r"params|reset_mask|options"):
        env.reset(options=options)
    assert torch.equal(env.grid, grid) and torch.equal(env.params, params)


def test_same_seed_same_rollout_through_reset_seed() -> None:
    def rollout() -> list[torch.Tensor]:
        env = BatchedGridKeyDoor(8, seed=123)
        obs, info = env.reset(seed=7)
        record = [obs["image"], info["params"]]
        for obs, reward, _, _, info in _run(env, 60, seed=2):
            record += [obs["image"], reward, info["params"]]
        return record

    for first, second in zip(rollout(), rollout(), strict=True):
        assert torch.equal(first, second)


# ---------------------------------------------------------------------------- NumPy face


def test_numpy_face_returns_arrays_in_gymnasium_same_step_layout() -> None:
    venv = BatchedNumpyVectorEnv(BatchedGridNavigation(8, seed=0))
    assert isinstance(venv, VectorEnv)
    assert venv.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
    obs, info = venv.reset(seed=0)
    assert venv.observation_space.contains(obs)
    assert info["params"].shape == (8, 4) and info["_params"].all()
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(300):
        obs, rewards, terminations, truncations, info = venv.step(rng.integers(0, 7, 8))
        assert isinstance(rewards, np.ndarray) and rewards.dtype == np.float64
        assert venv.observation_space.contains(obs)
        done = terminations | truncations
        if done.any():
            np.testing.assert_array_equal(info["_final_obs"], done)
            assert info["final_obs"].dtype == object
            for i in range(8):
                if done[i]:
                    assert venv.single_observation_space.contains(info["final_obs"][i])
                else:
                    assert info["final_obs"][i] is None
            np.testing.assert_array_equal(info["final_info"]["_params"], done)
            ended += int(done.sum())
    assert ended > 0
    venv.close()


def test_numpy_face_pending_params_through_set_attr() -> None:
    venv = BatchedNumpyVectorEnv(BatchedGridNavigation(3, seed=0))
    space = venv.get_attr("param_space")[0]
    assert venv.get_attr("param_space") == (space,) * 3
    venv.reset(seed=0)
    rows = [space.low, None, space.high]
    venv.set_attr("pending_params", rows)
    pending = venv.get_attr("pending_params")
    np.testing.assert_array_equal(pending[0], space.low)
    assert pending[1] is None
    _, info = venv.reset()
    np.testing.assert_array_equal(info["params"][0], space.low)
    np.testing.assert_array_equal(info["params"][2], space.high)
    with pytest.raises(ValueError, match="pending_params"):
        venv.set_attr("pending_params", [space.low])
    with pytest.raises(ValueError, match="row 0"):
        venv.set_attr("pending_params", [space.high + 1, None, None])
    assert venv.get_attr("pending_params") == (None, None, None)  # nothing changed
    with pytest.raises(ValueError, match="supports only"):
        venv.set_attr("params", rows)


# ---------------------------------------------------------------------------- SB3 face


@pytest.mark.parametrize("family", [BatchedGridNavigation, BatchedGridKeyDoor])
def test_flat_observation_equals_grid_flat_obs(family: type) -> None:
    reference = GridFlatObs(gym.make("teachgym/GridKeyDoor-v0"))
    env = family(32, seed=0)
    obs, _ = env.reset(seed=0)
    images, directions = [obs["image"]], [obs["direction"]]
    for obs, _, _, _, _ in _run(env, 40):
        images.append(obs["image"])
        directions.append(obs["direction"])
    image, direction = torch.cat(images), torch.cat(directions)
    flat = flatten_grid_obs(image, direction).numpy()
    assert flat.shape == (len(image), 984) and flat.dtype == np.float32
    for i in range(len(image)):
        expected = reference.observation(
            {"image": image[i].numpy(), "direction": int(direction[i])}
        )
        np.testing.assert_array_equal(flat[i], expected)
    reference.close()


def test_sb3_face_follows_sb3_conventions() -> None:
    venv = BatchedSB3VecEnv(BatchedGridNavigation(8, seed=0))
    assert venv.observation_space == spaces.Box(0.0, 1.0, (984,), np.float32)
    assert venv.action_space == spaces.Discrete(7)
    venv.seed(5)
    obs = venv.reset()
    assert obs.shape == (8, 984) and obs.dtype == np.float32
    assert all(info["params"].shape == (4,) for info in venv.reset_infos)
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(300):
        obs, _, dones, infos = venv.step(rng.integers(0, 7, 8))
        assert len(infos) == 8 and dones.dtype == np.bool_
        now = venv.env.observe()  # after an autoreset: the new episode's first observation
        np.testing.assert_array_equal(obs, flatten_grid_obs(now["image"], now["direction"]))
        for i in np.flatnonzero(dones):
            info = infos[i]
            assert info["terminal_observation"].shape == (984,)
            assert info["terminal_observation"].sum() == 7 * 7 * 3 + 1  # one-hot codes
            assert isinstance(info["TimeLimit.truncated"], bool)
            assert info["episode"]["l"] >= 1
            np.testing.assert_array_equal(
                venv.reset_infos[i]["params"], venv.get_attr("params", indices=[i])[0]
            )
            ended += 1
    assert ended > 0
    assert venv.env_is_wrapped(gym.Wrapper) == [False] * 8
    assert venv.has_attr("set_next_params") and venv.has_attr("param_space")
    venv.close()


def test_sb3_truncation_flags_time_limit() -> None:
    venv = BatchedSB3VecEnv(BatchedGridNavigation(4, seed=0))
    venv.reset()
    limit = int(venv.env.max_steps.max())
    seen = False
    for _ in range(limit):
        _, _, dones, infos = venv.step(np.zeros(4, dtype=np.int64))  # turning never ends one
        for i in np.flatnonzero(dones):
            assert infos[i]["TimeLimit.truncated"] is True
            seen = True
    assert seen


def test_sb3_env_method_set_next_params_and_options() -> None:
    venv = BatchedSB3VecEnv(BatchedGridNavigation(4, seed=0))
    space = venv.get_attr("param_space")[0]
    venv.env_method("set_next_params", space.high, indices=[2])
    np.testing.assert_array_equal(venv.get_attr("pending_params", indices=[2])[0], space.high)
    assert venv.get_attr("pending_params", indices=[0, 1, 3]) == [None, None, None]
    # Options with params win over the pending slot, which waits for the next reset.
    venv.set_options([{}, {}, {"params": space.low}, {}])
    venv.reset()
    np.testing.assert_array_equal(venv.reset_infos[2]["params"], space.low)
    np.testing.assert_array_equal(venv.get_attr("pending_params", indices=[2])[0], space.high)
    venv.reset()
    np.testing.assert_array_equal(venv.reset_infos[2]["params"], space.high)
    with pytest.raises(ValueError, match="row 0"):
        venv.env_method("set_next_params", space.high + 1, indices=[0])
    with pytest.raises(AttributeError, match="supports only"):
        venv.env_method("reset", indices=[0])
    with pytest.raises(ValueError, match="indices"):
        venv.env_method("set_next_params", space.high, indices=[7])


def test_sb3_same_seed_same_rollout() -> None:
    def rollout() -> list[np.ndarray]:
        venv = BatchedSB3VecEnv(BatchedGridKeyDoor(8))
        venv.seed(11)
        record = [venv.reset()]
        rng = np.random.default_rng(1)
        for _ in range(50):
            obs, rewards, dones, _ = venv.step(rng.integers(0, 7, 8))
            record += [obs, rewards, dones]
        return record

    for first, second in zip(rollout(), rollout(), strict=True):
        np.testing.assert_array_equal(first, second)
