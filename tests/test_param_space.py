import numpy as np
import pytest
from gymnasium import spaces

from teachgym import ParamSpace


@pytest.fixture
def stumps() -> ParamSpace:
    return ParamSpace(["stump_height", "obstacle_spacing"], [0, 0], [3, 6], defaults=[0.5, 4.0])


def test_vector_dict_round_trip(stumps):
    as_dict = stumps.to_dict([1.5, 2.0])
    assert as_dict == {"stump_height": 1.5, "obstacle_spacing": 2.0}
    np.testing.assert_array_equal(stumps.to_vector(as_dict), [1.5, 2.0])


def test_partial_dict_fills_defaults(stumps):
    np.testing.assert_array_equal(stumps.to_vector({"stump_height": 2.0}), [2.0, 4.0])


def test_partial_dict_without_defaults_is_rejected():
    space = ParamSpace(["a", "b"], [0, 0], [1, 1])
    with pytest.raises(ValueError, match=r"missing parameter\(s\) \['b'\]"):
        space.to_vector({"a": 0.5})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([1.0], r"expected a vector of 2 parameters \(stump_height, obstacle_spacing\)"),
        ([1.0, 2.0, 3.0], "got shape"),
        ([np.nan, 1.0], "'stump_height' is nan; expected a finite value in \\[0, 3\\]"),
        ([1.0, np.inf], "'obstacle_spacing' is inf"),
        ([3.5, 1.0], r"'stump_height' = 3.5 is outside its range \[0, 3\]"),
        ([1.0, -0.1], r"'obstacle_spacing' = -0.1 is outside its range \[0, 6\]"),
        ({"stump_hieght": 1.0}, r"unknown parameter\(s\) \['stump_hieght'\]"),
        ({"stump_height": "tall"}, "'stump_height' must be a number; got 'tall'"),
        ("ab", "expected 2 numbers"),
    ],
)
def test_invalid_params_name_the_problem(stumps, params, message):
    with pytest.raises(ValueError, match=message):
        stumps.to_vector(params)
    assert not stumps.contains(params)


def test_bounds_are_inclusive(stumps):
    assert stumps.contains([0.0, 6.0])
    assert stumps.contains([3.0, 0.0])


def test_sampling_is_uniform_inside_bounds_and_seeded(stumps):
    samples = stumps.sample_many(np.random.default_rng(3), 20000)
    assert samples.shape == (20000, 2)
    assert np.all(samples >= stumps.low) and np.all(samples <= stumps.high)
    np.testing.assert_allclose(samples.mean(axis=0), [1.5, 3.0], atol=0.05)
    again = stumps.sample_many(np.random.default_rng(3), 20000)
    np.testing.assert_array_equal(samples, again)
    np.testing.assert_array_equal(
        stumps.sample(np.random.default_rng(4)), stumps.sample(np.random.default_rng(4))
    )


def test_normalize_round_trip(stumps):
    vectors = np.array([[0.0, 0.0], [3.0, 6.0], [1.5, 1.5]])
    unit = stumps.normalize(vectors)
    np.testing.assert_allclose(unit, [[0, 0], [1, 1], [0.5, 0.25]])
    np.testing.assert_allclose(stumps.denormalize(unit), vectors)


def test_box_conversion(stumps):
    box = stumps.to_box()
    assert isinstance(box, spaces.Box) and box.shape == (2,)
    back = ParamSpace.from_box(box, names=stumps.names)
    assert back.names == stumps.names
    np.testing.assert_array_equal(back.low, stumps.low)
    assert ParamSpace.coerce(spaces.Box(0, 1, shape=(3,))).names == (
        "param_0",
        "param_1",
        "param_2",
    )
    with pytest.raises(ValueError, match="finite bounds"):
        ParamSpace.from_box(spaces.Box(-np.inf, 1, shape=(2,)))
    with pytest.raises(TypeError, match="expected a ParamSpace"):
        ParamSpace.coerce([0, 1])


def test_json_round_trip(stumps):
    assert ParamSpace.from_json(stumps.to_json()) == stumps
    with pytest.raises(ValueError, match="needs the key 'high'"):
        ParamSpace.from_json({"names": ["a"], "low": [0]})


def test_from_bounds():
    space = ParamSpace.from_bounds({"a": (0, 1), "b": (-2, 2)}, defaults={"a": 0.5, "b": 0})
    assert space.names == ("a", "b")
    np.testing.assert_array_equal(space.defaults, [0.5, 0])
    with pytest.raises(ValueError, match=r"missing parameters \['b'\]"):
        ParamSpace.from_bounds({"a": (0, 1), "b": (0, 1)}, defaults={"a": 0.5})


@pytest.mark.parametrize(
    ("names", "low", "high", "defaults", "message"),
    [
        ([], [], [], None, "at least one parameter"),
        (["a", "a"], [0, 0], [1, 1], None, r"unique; repeated: \['a'\]"),
        (["a"], [1], [1], None, r"low \(1.0\) must be strictly below high \(1.0\)"),
        (["a"], [0], [np.inf], None, "must be finite"),
        (["a", "b"], [0], [1, 1], None, "one value per parameter"),
        (["a"], [0], [1], [2], r"'a' = 2 is outside its range \[0, 1\]"),
        ([""], [0], [1], None, "non-empty strings"),
    ],
)
def test_invalid_spaces_are_rejected(names, low, high, defaults, message):
    with pytest.raises(ValueError, match=message):
        ParamSpace(names, low, high, defaults)


def test_bounds_are_read_only(stumps):
    with pytest.raises(ValueError):
        stumps.low[0] = -1.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"stump_height": "1.5"}, "'stump_height' must be a number; got '1.5'"),
        ({"stump_height": b"1"}, "'stump_height' must be a number; got b'1'"),
        ({"stump_height": True}, "'stump_height' must be a number; got True"),
        (["1.5", "2"], "'stump_height' must be a number; got '1.5'"),
        ([1.5, "2"], "'obstacle_spacing' must be a number; got '2'"),
        (np.array(["1.5", "2"]), "'stump_height' must be a number; got '1.5'"),
        ([True, 2.0], "'stump_height' must be a number; got True"),
        ([1.0, None], "'obstacle_spacing' must be a number; got None"),
    ],
)
def test_strings_and_bools_are_not_numbers(stumps, params, message):
    # float("1.5") and np.array(["1.5"], dtype=float) both succeed: a parameter given as text
    # (a config file, a CLI string) must fail where it enters, as any other bad value does.
    with pytest.raises(ValueError, match=message):
        stumps.to_vector(params)
    assert not stumps.contains(params)


def test_numeric_scalars_of_any_kind_are_numbers(stumps):
    vector = stumps.to_vector({"stump_height": np.float32(1.5), "obstacle_spacing": 2})
    np.testing.assert_array_equal(vector, [1.5, 2.0])
    np.testing.assert_array_equal(stumps.to_vector([np.int64(1), 2.5]), [1.0, 2.5])
    np.testing.assert_array_equal(stumps.to_vector(np.array([1, 2], dtype=np.int32)), [1, 2])
