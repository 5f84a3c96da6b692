"""The ParameterizedEnv contract on a tiny env, and the registry / test-set functions."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import teachgym.envs
from teachgym.envs.base import ParameterizedEnv
from teachgym.spaces import ParamSpace


class _Corridor(gym.Env):
    """Walk right to the end of a corridor whose length is the episode's parameter."""

    observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = 0
        self.noise = float(self.np_random.uniform())
        return np.array([0.0], dtype=np.float32), {}

    def step(self, action):
        self.position += int(action)
        done = self.position >= self.length
        return np.array([self.position / 10], dtype=np.float32), float(done), done, False, {}


class Corridor(ParameterizedEnv, _Corridor):
    return_range = (0.0, 1.0)

    def __init__(self):
        self.param_space = ParamSpace(["length", "width"], [1, 0], [10, 1], defaults=[5, 0.5])

    def _apply_params(self, params):
        self.length = round(params[0])


def test_reset_uses_options_then_pending_then_uniform_draw():
    env = Corridor()
    _, info = env.reset(seed=0, options={"params": {"length": 3}})
    np.testing.assert_array_equal(info["params"], [3, 0.5])  # partial dict: defaults fill in
    env.set_next_params([7, 0.25])
    assert env.pending_params is not None
    _, info = env.reset()
    np.testing.assert_array_equal(info["params"], [7, 0.25])
    assert env.pending_params is None  # consumed by one episode
    _, info = env.reset()
    assert env.param_space.contains(info["params"])
    assert not np.array_equal(info["params"], [7, 0.25])


def test_options_win_over_pending_and_pending_survives():
    env = Corridor()
    env.set_next_params([7, 0.25])
    _, info = env.reset(seed=1, options={"params": [2, 0.0]})
    np.testing.assert_array_equal(info["params"], [2, 0.0])
    np.testing.assert_array_equal(env.pending_params, [7, 0.25])


def test_params_are_in_every_step_info_and_callers_cannot_change_them():
    env = Corridor()
    env.reset(seed=0, options={"params": {"length": 2, "width": 0.1}})
    for _ in range(2):
        *_, info = env.step(1)
        np.testing.assert_array_equal(info["params"], [2, 0.1])
        info["params"][0] = 9.0  # the caller's copy
    with pytest.raises(ValueError):
        env.params[0] = 9.0
    np.testing.assert_array_equal(env.params, [2, 0.1])
    assert env.params_dict == {"length": 2.0, "width": 0.1}


def test_seeded_uniform_draws_are_reproducible_and_use_the_seed():
    first = [Corridor().reset(seed=s)[1]["params"] for s in (0, 1)]
    again = [Corridor().reset(seed=s)[1]["params"] for s in (0, 1)]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"length": 11}, "length"),
        ({"height": 1}, "height"),
        ([1.0], "2 parameters"),
        ([np.nan, 0.5], "length"),
        ([1.0, np.inf], "width"),
    ],
)
def test_bad_params_raise_and_leave_state_intact(bad, match):
    env = Corridor()
    env.reset(seed=0, options={"params": [4, 0.5]})
    env.set_next_params([6, 0.5])
    with pytest.raises(ValueError, match=match):
        env.reset(options={"params": bad})
    with pytest.raises(ValueError, match=match):
        env.set_next_params(bad)
    np.testing.assert_array_equal(env.params, [4, 0.5])
    np.testing.assert_array_equal(env.pending_params, [6, 0.5])


def test_normalize_return_clips_into_unit_interval():
    env = Corridor()
    env.return_range = (-150.0, 350.0)
    assert env.normalize_return(-150) == 0.0
    assert env.normalize_return(100) == pytest.approx(0.5)
    assert env.normalize_return(1000) == 1.0


def test_params_before_reset_is_a_clear_error():
    with pytest.raises(RuntimeError, match="reset"):
        _ = Corridor().params


def test_every_id_is_registered_under_the_namespace():
    for env_id in teachgym.envs.ENV_IDS:
        assert env_id.startswith("teachgym/") and env_id.endswith("-v0")
        assert isinstance(gym.spec(env_id).entry_point, str)


def test_unknown_env_id_lists_valid_ones():
    with pytest.raises(ValueError, match="StumpTracks"):
        teachgym.envs.test_set("teachgym/Nope-v0")


def test_make_without_import_through_module_prefix():
    import subprocess
    import sys

    code = (
        "import gymnasium as gym, sys\n"
        "env = gym.make('teachgym:teachgym/StumpTracks-v0')\n"
        "print(type(env.unwrapped).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "StumpTracks"
