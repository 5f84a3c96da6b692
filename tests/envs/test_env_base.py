"""The ParameterizedEnv contract on a tiny env, and the registry / test-set functions."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv

import teachgym.envs
from teachgym.envs.base import ParameterizedEnv, caller_params, normalize_return
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


@pytest.mark.parametrize("return_range", [(-150.0, 350.0), (0, 1), np.array([-1.0, 3.0]), [2, 4]])
def test_normalize_return_is_the_envs_method_and_clips(return_range):
    low, high = (float(bound) for bound in return_range)
    assert normalize_return(low, return_range) == 0.0
    assert normalize_return(high, return_range) == 1.0
    assert normalize_return((low + high) / 2, return_range) == pytest.approx(0.5)
    assert normalize_return(low - 10 * (high - low), return_range) == 0.0
    assert normalize_return(high + 10 * (high - low), return_range) == 1.0
    env = Corridor()
    env.return_range = return_range
    for raw in (low - 1, low, (3 * low + high) / 4, high, high + 1):
        assert env.normalize_return(raw) == normalize_return(raw, return_range)


@pytest.mark.parametrize("bad", [(1.0, 1.0), (2.0, 1.0), (0.0, math.inf), (math.nan, 1.0)])
def test_normalize_return_rejects_a_bad_range(bad):
    with pytest.raises(ValueError, match="return_range must be two finite numbers"):
        normalize_return(0.5, bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [([7, 0.25], [7, 0.25]), ({"length": 3}, [3, 0.5]), (np.array([2.0, 1.0]), [2, 1])],
)
def test_pending_params_setter_takes_vectors_and_dicts_for_the_next_reset(value, expected):
    env = Corridor()
    env.pending_params = value
    np.testing.assert_array_equal(env.pending_params, expected)
    with pytest.raises(ValueError):
        env.pending_params[0] = 4.0  # read-only: the slot changes only by assignment
    _, info = env.reset(seed=0)
    np.testing.assert_array_equal(info["params"], expected)
    assert env.pending_params is None


def test_pending_params_none_empties_the_slot():
    env = Corridor()
    env.pending_params = [7, 0.25]
    env.pending_params = None
    assert env.pending_params is None
    drawn = [Corridor().reset(seed=3)[1]["params"] for _ in range(2)]
    _, info = env.reset(seed=3)
    np.testing.assert_array_equal(info["params"], drawn[0])  # the seeded uniform draw


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([1.0], r"expected a vector of 2 parameters \(length, width\); got shape \(1,\): \[1\.0\]"),
        ([1, 2, 3], r"got shape \(3,\)"),
        ([11, 0.5], r"parameter 'length' = 11 is outside its range \[1, 10\]"),
        ([5, -0.5], "parameter 'width' = -0.5 is outside its range"),
        ({"height": 1}, r"unknown parameter\(s\) \['height'\]"),
        ([np.nan, 0.5], "parameter 'length' is nan"),
        ("wide", "got 'wide'"),
    ],
)
def test_bad_pending_params_raise_naming_the_value_and_leave_the_slot(bad, match):
    env = Corridor()
    env.pending_params = [6, 0.5]
    with pytest.raises(ValueError, match=match):
        env.pending_params = bad
    np.testing.assert_array_equal(env.pending_params, [6, 0.5])
    empty = Corridor()
    with pytest.raises(ValueError, match=match):
        empty.pending_params = bad
    assert empty.pending_params is None


def _wrapped_corridor() -> gym.Env:
    return gym.wrappers.TimeLimit(Corridor(), max_episode_steps=50)


@pytest.mark.parametrize("vector_cls", [SyncVectorEnv, AsyncVectorEnv])
def test_set_attr_fills_each_sub_envs_slot_through_wrappers(vector_cls):
    kwargs = {"context": "fork"} if vector_cls is AsyncVectorEnv else {}
    vec = vector_cls([_wrapped_corridor] * 3, **kwargs)
    try:
        vec.set_attr("pending_params", [[2, 0.5], None, {"length": 9}])
        pending = vec.get_attr("pending_params")
        np.testing.assert_array_equal(pending[0], [2, 0.5])
        assert pending[1] is None
        np.testing.assert_array_equal(pending[2], [9, 0.5])
        _, infos = vec.reset(seed=0)
        np.testing.assert_array_equal(infos["params"][0], [2, 0.5])
        np.testing.assert_array_equal(infos["params"][2], [9, 0.5])
        assert vec.get_attr("pending_params") == (None, None, None)  # used by one reset each
    finally:
        vec.close()


def test_a_bad_value_in_set_attr_leaves_that_slot_as_it_was():
    vec = SyncVectorEnv([_wrapped_corridor] * 2)
    vec.set_attr("pending_params", [[2, 0.5], [3, 0.5]])
    with pytest.raises(ValueError, match="'length' = 11"):
        vec.set_attr("pending_params", [[4, 0.5], [11, 0.5]])
    np.testing.assert_array_equal(vec.get_attr("pending_params")[1], [3, 0.5])
    for env in vec.envs:
        assert "pending_params" not in vars(env)  # set on the env itself, not on a wrapper


def test_caller_params_is_the_one_rule_for_a_callers_choice():
    assert caller_params(None) is None
    assert caller_params({}) is None
    assert caller_params({"params": None, "other": 1}) is None
    assert caller_params({"params": [1, 0]}) == [1, 0]
    env = Corridor()
    env.pending_params = [7, 0.25]
    _, info = env.reset(seed=0, options={"params": None})  # not a choice: the slot is used
    np.testing.assert_array_equal(info["params"], [7, 0.25])


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


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"param": [3, 0.5]}, r"unknown reset option\(s\) \['param'\].*did you mean 'params'"),
        ({"params": [3, 0.5], "sed": 1}, r"unknown reset option\(s\) \['sed'\]"),
        ([("params", [3, 0.5])], "options must be a dict"),
    ],
)
def test_unknown_reset_options_are_rejected_before_anything_changes(options, message):
    env = Corridor()
    env.pending_params = [7, 0.25]
    with pytest.raises(ValueError, match=message):
        env.reset(seed=0, options=options)
    np.testing.assert_array_equal(env.pending_params, [7, 0.25])  # the slot is untouched


def test_an_env_that_reads_more_options_declares_them():
    class WithStart(Corridor):
        reset_options = Corridor.reset_options | {"start"}

    _, info = WithStart().reset(seed=0, options={"start": 2, "params": [3, 0.5]})
    np.testing.assert_array_equal(info["params"], [3, 0.5])


def test_string_params_in_reset_options_are_rejected():
    with pytest.raises(ValueError, match="'length' must be a number; got '3'"):
        Corridor().reset(seed=0, options={"params": {"length": "3"}})
    with pytest.raises(ValueError, match="'length' must be a number; got '3'"):
        Corridor().reset(seed=0, options={"params": ["3", "0.5"]})


@pytest.mark.parametrize("env_id", teachgym.envs.ENV_IDS)
def test_specs_carry_the_fixed_episode_limit_and_mastery_threshold(env_id):
    spec = gym.spec(env_id)
    cls = gym.envs.registration.load_env_creator(spec.entry_point)
    if "walkers" in spec.entry_point:
        # Box2D tracks: 2,000 steps and mastered above 230 (Portelas et al. 2019).
        assert spec.max_episode_steps == 2000
        assert spec.reward_threshold == cls.mastery_threshold == 230.0
    else:
        # Grid families truncate themselves: GridNavigation's and GridKeyDoor's limit follows
        # their params, NoisyRooms' and NoisyTVRooms' is a constructor argument a spec limit
        # would override; their mastery ("return > 0", the goal reached) is no ">=" threshold.
        assert spec.max_episode_steps is None
        assert spec.reward_threshold is None
