"""Contract tests parametrized over every registered teachgym env."""

from __future__ import annotations

import functools
import itertools
import math
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import teachgym.envs
from teachgym.envs import ENV_IDS


@functools.cache
def _shared_env(env_id: str) -> gym.Env:
    """One env per id for the read-only checks (hypothesis calls tests many times)."""
    env = gym.make(env_id)
    env.reset(seed=0)
    return env


def _rollout(env: gym.Env, seed: int, params: np.ndarray, steps: int = 100) -> list:
    obs, _ = env.reset(seed=seed, options={"params": params})
    env.action_space.seed(seed)
    trace = [(obs, 0.0, False, False)]
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        trace.append((obs, float(reward), terminated, truncated))
        if terminated or truncated:
            obs, _ = env.reset()
            trace.append((obs, 0.0, False, False))
    return trace


def _assert_same_trace(first: list, second: list) -> None:
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        if isinstance(a[0], dict):
            for key in a[0]:
                np.testing.assert_array_equal(a[0][key], b[0][key])
        else:
            np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]


def _corners_and_centre(space, limit: int = 64, seed: int = 0) -> np.ndarray:
    """All corners for small spaces; for large ones all-low, all-high and a seeded sample."""
    if 2**space.dim <= limit:
        corners = np.array(list(itertools.product([0.0, 1.0], repeat=space.dim)))
    else:
        rng = np.random.default_rng(seed)
        corners = rng.integers(0, 2, size=(limit - 2, space.dim)).astype(float)
        corners = np.vstack([np.zeros(space.dim), np.ones(space.dim), corners])
    unit = np.vstack([corners, np.full(space.dim, 0.5)])
    return space.denormalize(unit)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_env_checker_passes_without_warnings(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_stable_baselines3_env_checker_passes_without_warnings(env_id):
    """Walkers as they are; grid envs through the learner-ready flat and RGB wrappers (SB3 does
    not take MiniGrid's dict with a text mission)."""
    from minigrid.minigrid_env import MiniGridEnv
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    from teachgym.envs.wrappers import GridFlatObs, GridRGBObs

    env = gym.make(env_id)
    candidates = (
        [GridFlatObs(env), GridRGBObs(gym.make(env_id))]
        if isinstance(env.unwrapped, MiniGridEnv)
        else [env]
    )
    for candidate in candidates:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sb3_check_env(candidate, warn=True)
        candidate.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_exposes_param_space_return_range_and_threshold(env_id):
    info = teachgym.envs.env_info(env_id)
    low, high = info["return_range"]
    assert low < high
    assert low <= info["mastery_threshold"] < high
    space = info["param_space"]
    env = gym.make(env_id)
    _, reset_info = env.reset(seed=3)
    assert space.contains(reset_info["params"])
    env.unwrapped.set_next_params(space.high)
    _, reset_info = env.reset()
    np.testing.assert_array_equal(reset_info["params"], space.high)
    _, _, _, _, step_info = env.step(env.action_space.sample())
    np.testing.assert_array_equal(step_info["params"], space.high)
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_and_params_give_identical_100_step_rollouts(env_id):
    space = teachgym.envs.param_space(env_id)
    params = space.denormalize(np.full(space.dim, 0.3))
    first = _rollout(gym.make(env_id), seed=7, params=params)
    second = _rollout(gym.make(env_id), seed=7, params=params)
    _assert_same_trace(first, second)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_different_seeds_give_different_episodes(env_id):
    space = teachgym.envs.param_space(env_id)
    params = space.denormalize(np.full(space.dim, 0.5))
    first = _rollout(gym.make(env_id), seed=1, params=params, steps=30)
    second = _rollout(gym.make(env_id), seed=2, params=params, steps=30)
    with pytest.raises(AssertionError):
        _assert_same_trace(first, second)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pickle_round_trip_rebuilds_an_equivalent_env(env_id):
    env = gym.make(env_id)
    space = env.unwrapped.param_space
    params = space.denormalize(np.full(space.dim, 0.6))
    env.reset(seed=5, options={"params": params})
    clone = pickle.loads(pickle.dumps(env))
    _assert_same_trace(_rollout(env, 11, params, 40), _rollout(clone, 11, params, 40))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rgb_array_render_is_an_image(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    env.step(env.action_space.sample())
    assert env.render().shape == frame.shape
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_human_render_draws_each_step_into_a_pygame_window_that_close_closes(env_id, monkeypatch):
    import pygame

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env = gym.make(env_id, render_mode="human")
    env.reset(seed=0)
    window = pygame.display.get_surface()
    assert window is not None, "reset opened no window"
    first = pygame.surfarray.array3d(window)
    assert len(np.unique(first.reshape(-1, 3), axis=0)) > 5  # a scene, not a blank window
    env.action_space.seed(0)
    frames = []
    for _ in range(10):  # enough steps to move, turn or scroll whatever the first actions do
        env.step(env.action_space.sample())
        frames.append(pygame.surfarray.array3d(pygame.display.get_surface()))
    assert frames[-1].shape == first.shape
    assert any(not np.array_equal(frame, first) for frame in frames), "steps redrew nothing"
    env.close()
    assert pygame.display.get_surface() is None


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reset_at_every_corner_and_the_centre(env_id):
    env = gym.make(env_id)
    space = env.unwrapped.param_space
    for params in _corners_and_centre(space):
        _, info = env.reset(seed=0, options={"params": params})
        np.testing.assert_array_equal(info["params"], params)
        for _ in range(5):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                break
    env.close()


# ---------------------------------------------------------------------- bad params (hypothesis)
def _bad_vector(draw, dim: int, low: np.ndarray, high: np.ndarray) -> tuple[list, int | None]:
    """A vector that must be rejected, and the index of the offending entry (None: length)."""
    kind = draw(st.sampled_from(["nan", "inf", "below", "above", "length"]))
    vector = [float(v) for v in draw(st.lists(st.floats(0, 1), min_size=dim, max_size=dim))]
    vector = [lo + v * (hi - lo) for v, lo, hi in zip(vector, low, high, strict=True)]
    if kind == "length":
        extra = draw(st.integers(1, 3))
        return (vector + [0.0] * extra if draw(st.booleans()) else vector[: dim - 1]), None
    index = draw(st.integers(0, dim - 1))
    span = high[index] - low[index]
    vector[index] = {
        "nan": math.nan,
        "inf": draw(st.sampled_from([math.inf, -math.inf])),
        "below": low[index] - draw(st.floats(1e-6 * span + 1e-9, 1e6)),
        "above": high[index] + draw(st.floats(1e-6 * span + 1e-9, 1e6)),
    }[kind]
    return vector, index


@pytest.mark.parametrize("env_id", ENV_IDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_params_raise_value_error_naming_the_parameter(env_id, data):
    env = _shared_env(env_id)
    base = env.unwrapped
    space = base.param_space
    before = np.array(base.params)
    vector, index = _bad_vector(data.draw, space.dim, space.low, space.high)
    expected = "parameters" if index is None else repr(space.names[index])
    as_dict = data.draw(st.booleans()) and index is not None
    bad = dict(zip(space.names, vector, strict=True)) if as_dict else vector
    with pytest.raises(ValueError, match=expected):
        env.reset(options={"params": bad})
    with pytest.raises(ValueError, match=expected):
        base.set_next_params(bad)
    np.testing.assert_array_equal(base.params, before)  # nothing changed, nothing clipped
    assert base.pending_params is None


@pytest.mark.parametrize("env_id", ENV_IDS)
@settings(max_examples=15, deadline=None)
@given(name=st.text(min_size=1, max_size=12))
def test_unknown_param_names_are_rejected(env_id, name):
    space = _shared_env(env_id).unwrapped.param_space
    if name in space.names:
        return
    with pytest.raises(ValueError, match="unknown parameter"):
        _shared_env(env_id).reset(options={"params": {name: 0.0}})


# ---------------------------------------------------------------------- test sets
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_test_set_is_fixed_seeded_and_inside_the_bounds(env_id):
    space = teachgym.envs.param_space(env_id)
    params = teachgym.envs.test_set(env_id)
    assert params.shape == (50, space.dim)
    assert all(space.contains(row) for row in params)
    np.testing.assert_array_equal(params, teachgym.envs.test_set(env_id))
    np.testing.assert_array_equal(params, teachgym.envs.test_set("teachgym:" + env_id))
    if space.dim == 2:
        grid = teachgym.envs.test_set(env_id, kind="grid")
        assert grid.shape == (100, 2)
        assert len(np.unique(grid[:, 0])) == 10 and len(np.unique(grid[:, 1])) == 10
    else:
        with pytest.raises(ValueError, match="2-D"):
            teachgym.envs.test_set(env_id, kind="grid")


def test_test_sets_differ_between_envs_and_follow_widened_bounds():
    stumps = teachgym.envs.test_set("teachgym/StumpTracks-v0")
    wide = teachgym.envs.test_set("teachgym/StumpTracks-v0", stump_height_range=(0.0, 5.0))
    np.testing.assert_allclose(wide[:, 0], stumps[:, 0] * 5 / 3)
    np.testing.assert_array_equal(wide[:, 1], stumps[:, 1])
    grid_ids = [i for i in ENV_IDS if teachgym.envs.param_space(i).dim == 4]
    if len(grid_ids) >= 2:
        first, second = (teachgym.envs.test_set(i) for i in grid_ids[:2])
        assert not np.allclose(first, second)
    with pytest.raises(ValueError, match="kind"):
        teachgym.envs.test_set("teachgym/StumpTracks-v0", kind="sobol")
