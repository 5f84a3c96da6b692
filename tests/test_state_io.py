import numpy as np
import pytest

from teachgym import state_io


def test_round_trip_keeps_arrays_and_plain_values(tmp_path):
    state = {
        "name": "x",
        "count": 3,
        "ratio": 0.25,
        "flag": True,
        "nothing": None,
        "big": 2**100,
        "array": np.arange(6.0).reshape(2, 3),
        "nested": {"list": [1, np.array([1, 2], dtype=np.int64), {"deep": np.zeros(0)}]},
    }
    path = state_io.save(state, tmp_path / "state")
    assert path.name == "state.npz"
    loaded = state_io.load(path)
    assert loaded["name"] == "x" and loaded["count"] == 3 and loaded["big"] == 2**100
    assert loaded["flag"] is True and loaded["nothing"] is None
    np.testing.assert_array_equal(loaded["array"], state["array"])
    np.testing.assert_array_equal(loaded["nested"]["list"][1], [1, 2])
    assert loaded["nested"]["list"][2]["deep"].shape == (0,)
    assert not list(tmp_path.glob("*.tmp"))


def test_rejects_objects_that_would_need_pickle(tmp_path):
    with pytest.raises(TypeError, match="object array"):
        state_io.save({"bad": np.array([object()])}, tmp_path / "s")
    with pytest.raises(TypeError, match="has type"):
        state_io.save({"bad": {1, 2}}, tmp_path / "s")
    assert not list(tmp_path.iterdir())


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no state file"):
        state_io.load(tmp_path / "missing.npz")
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(2))
    with pytest.raises(ValueError, match="not a teachgym state file"):
        state_io.load(other)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable teachgym state file"):
        state_io.load(garbage)
