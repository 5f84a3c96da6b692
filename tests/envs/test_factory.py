"""``teachgym.envs.make_env`` / ``env_factory``: the one factory every layer builds envs with."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv

from teachgym.envs import OBS_CHOICES, FixedParams, env_factory, make_env, resolve_obs, wrap_obs
from teachgym.envs.wrappers import GridFlatObs, GridImageObs, GridRGBObs

GRID = "teachgym/GridNavigation-v0"
ROOMS = "teachgym/NoisyRooms-v0"


# ---------------------------------------------------------------------------- observations
@pytest.mark.parametrize(
    ("obs", "wrapper", "space"),
    [
        ("auto", GridFlatObs, spaces.Box),
        ("flat", GridFlatObs, spaces.Box),
        ("image", GridImageObs, spaces.Box),
        ("rgb", GridRGBObs, spaces.Box),
        ("none", None, spaces.Dict),
    ],
)
def test_obs_choices_on_a_grid_env(obs, wrapper, space):
    env = make_env(GRID, obs=obs)
    try:
        assert isinstance(env.observation_space, space)
        if wrapper is None:
            assert not isinstance(env, gym.ObservationWrapper)
        else:
            assert isinstance(env, wrapper)
        observation, _ = env.reset(seed=0)
        assert env.observation_space.contains(observation)
    finally:
        env.close()


def test_obs_auto_and_none_leave_other_envs_alone():
    for obs in ("auto", "none"):
        env = make_env("CartPole-v1", obs=obs)
        assert env.observation_space == gym.make("CartPole-v1").observation_space
        assert not isinstance(env, gym.ObservationWrapper)
    assert set(OBS_CHOICES) == {"auto", "none", "flat", "image", "rgb"}


@pytest.mark.parametrize("obs", ["flat", "image", "rgb"])
def test_grid_obs_on_other_envs_is_a_value_error(obs):
    with pytest.raises(ValueError, match=f"obs '{obs}' is for MiniGrid-style observations"):
        make_env("CartPole-v1", obs=obs)
    with pytest.raises(ValueError, match="is for MiniGrid-style"):
        resolve_obs(gym.make("CartPole-v1").observation_space, obs)


def test_unknown_obs_fails_before_any_env_is_made():
    # The id is unknown too: the obs error comes first, so nothing was built.
    with pytest.raises(ValueError, match="unknown obs 'pixels'; expected one of"):
        make_env("teachgym/NoSuchEnv-v0", obs="pixels")
    with pytest.raises(ValueError, match="unknown obs 'pixels'"):
        wrap_obs(gym.make("CartPole-v1"), "pixels")


# ---------------------------------------------------------------------------- fixed params
def test_fixed_params_hold_on_every_reset_unless_the_caller_chooses():
    env = make_env(ROOMS, obs="none", params={"num_rooms": 2, "noisy_fraction": 0.5})
    base = env.unwrapped
    assert isinstance(env, FixedParams)
    defaults = base.param_space.to_dict(base.param_space.defaults)
    for seed in range(3):
        _, info = env.reset(seed=seed)
        assert base.param_space.to_dict(info["params"]) == {
            **defaults,  # the rest from the defaults
            "num_rooms": 2,
            "noisy_fraction": 0.5,
        }
    env.reset(options={"params": {"num_rooms": 5}})
    assert base.params_dict["num_rooms"] == 5
    env.reset(options={"params": None})  # no choice: the fixed params again
    assert base.params_dict["num_rooms"] == 2


@pytest.mark.parametrize("vector_cls", [SyncVectorEnv, AsyncVectorEnv])
def test_fixed_params_survive_vector_auto_resets(vector_cls):
    factory = env_factory(ROOMS, params={"num_rooms": 3}, max_steps=3)
    kwargs = {"context": "fork"} if vector_cls is AsyncVectorEnv else {}
    vec = vector_cls([factory, factory], **kwargs)
    try:
        _, infos = vec.reset(seed=0)
        seen = [infos["params"]]
        for _ in range(10):  # three episodes of 3 steps, and their auto-resets
            *_, infos = vec.step(np.zeros(2, dtype=np.int64))
            seen.append(infos["params"])
    finally:
        vec.close()
    assert all(np.all(rows[:, 0] == 3) for rows in seen)  # num_rooms is the first parameter


# ---------------------------------------------------------------------------- episode length
@pytest.mark.parametrize("env_id", [ROOMS, "MiniGrid-Empty-5x5-v0"])
def test_max_steps_is_minigrids_own_limit(env_id):
    env = make_env(env_id, max_steps=4)
    assert env.unwrapped.max_steps == 4
    env.reset(seed=0)
    ends = [env.step(0)[3] for _ in range(4)]  # turning left never reaches a goal
    assert ends == [False, False, False, True]
    # env_kwargs win: the caller's own max_steps is kept.
    assert make_env(env_id, env_kwargs={"max_steps": 9}, max_steps=4).unwrapped.max_steps == 9


def test_max_steps_is_a_time_limit_where_minigrid_has_no_option_for_it():
    # GridNavigation sets its own limit from its room size; a TimeLimit cuts its episodes.
    env = make_env(GRID, obs="none", max_steps=3)
    assert env.spec.max_episode_steps == 3
    env.reset(seed=0)
    assert [env.step(0)[3] for _ in range(3)] == [False, False, True]


def test_max_steps_is_a_time_limit_on_other_envs():
    env = make_env("Pendulum-v1", max_steps=5)
    assert env.spec.max_episode_steps == 5
    env.reset(seed=0)
    assert [env.step(np.zeros(1, dtype=np.float32))[3] for _ in range(5)][-2:] == [False, True]
    assert make_env("Pendulum-v1").spec.max_episode_steps == 200  # unchanged without it
    kept = make_env("Pendulum-v1", env_kwargs={"max_episode_steps": 7}, max_steps=5)
    assert kept.spec.max_episode_steps == 7


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_bad_max_steps_is_a_value_error(bad):
    with pytest.raises(ValueError, match="max_steps must be a positive integer or None; got"):
        make_env("CartPole-v1", max_steps=bad)


# ---------------------------------------------------------------------------- factory
def test_env_factory_pickles_and_runs_in_spawned_workers():
    factory = env_factory(ROOMS, params={"num_rooms": 2}, max_steps=5, env_kwargs={})
    again = pickle.loads(pickle.dumps(factory))
    env = again()
    try:
        assert isinstance(env, GridFlatObs) and env.unwrapped.max_steps == 5
    finally:
        env.close()
    vec = AsyncVectorEnv([factory, factory], context="spawn")
    try:
        _, infos = vec.reset(seed=0)
        assert (infos["params"][:, 0] == 2).all()
        assert vec.single_observation_space == env.observation_space
    finally:
        vec.close()


def test_env_factory_copies_its_mappings():
    params = {"num_rooms": 2}
    factory = env_factory(ROOMS, params=params)
    params["num_rooms"] = 9  # the caller's dict changes later; the factory's does not
    env = factory()
    env.reset(seed=0)
    assert env.unwrapped.params_dict["num_rooms"] == 2


def test_env_factory_rejects_options_make_env_does_not_take():
    with pytest.raises(ValueError, match=r"make_env has no option\(s\) \['episode_length'\]"):
        env_factory(ROOMS, episode_length=10)


# ---------------------------------------------------------------------------- errors
def test_unknown_id_lists_the_teachgym_ids():
    with pytest.raises(ValueError, match="cannot make env 'teachgym/NoSuchEnv-v0'") as error:
        make_env("teachgym/NoSuchEnv-v0")
    assert GRID in str(error.value) and ROOMS in str(error.value)


def test_bad_env_kwargs_is_a_value_error():
    with pytest.raises(ValueError, match="bad env_kwargs {'no_such_option': 1} for " + GRID):
        make_env(GRID, env_kwargs={"no_such_option": 1})
    with pytest.raises(ValueError, match="bad env_kwargs"):
        make_env("CartPole-v1", env_kwargs={"no_such_option": 1}, max_steps=5)


def test_bad_params_are_value_errors_naming_them():
    with pytest.raises(ValueError, match="num_rooms"):
        make_env(ROOMS, params={"num_rooms": 40})
    with pytest.raises(ValueError, match="unknown parameter"):
        make_env(ROOMS, params={"rooms": 2})
    with pytest.raises(ValueError, match="not a teachgym parameterized env"):
        make_env("CartPole-v1", params={"x": 1.0})


def test_imports_run_before_make():
    with pytest.raises(ValueError, match=r"no module named .no_such_module_xyz"):
        make_env("CartPole-v1", imports=["no_such_module_xyz"])
