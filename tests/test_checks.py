"""``teachgym.checks``: one wording for every "expected X, got Y" error."""

import math

import numpy as np
import pytest

from teachgym.checks import (
    check_choice,
    check_int,
    check_optional_int,
    check_probability,
    check_real,
)


# ------------------------------------------------------------------ check_int
@pytest.mark.parametrize("value", [0, 3, np.int64(3), np.uint8(3)])
def test_check_int_returns_a_plain_int(value):
    result = check_int("count", value)
    assert result == int(value) and type(result) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 2.0, 2.5, "2", None, [2]])
def test_check_int_rejects_non_integers_and_bools(value):
    with pytest.raises(ValueError, match=r"count must be an integer; got "):
        check_int("count", value)


def test_check_int_bounds_are_inclusive():
    assert check_int("count", 2, minimum=2) == 2
    assert check_int("count", 5, maximum=5) == 5
    assert check_int("count", 3, minimum=3, maximum=3) == 3
    with pytest.raises(ValueError, match=r"count must be an integer >= 2; got 1$"):
        check_int("count", 1, minimum=2)
    with pytest.raises(ValueError, match=r"count must be an integer <= 5; got 6$"):
        check_int("count", 6, maximum=5)
    with pytest.raises(ValueError, match=r"count must be an integer in \[1, 4\]; got 0$"):
        check_int("count", 0, minimum=1, maximum=4)


def test_check_int_wording_for_positive_and_non_negative():
    with pytest.raises(ValueError, match=r"^jobs must be a positive integer; got 0$"):
        check_int("jobs", 0, minimum=1)
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0; got -1$"):
        check_int("seed", -1, minimum=0)
    with pytest.raises(ValueError, match=r"^jobs must be a positive integer; got True$"):
        check_int("jobs", True, minimum=1)


# ------------------------------------------------------------------ check_optional_int
def test_check_optional_int_passes_none_through():
    assert check_optional_int("window", None, minimum=1) is None
    assert check_optional_int("window", np.int32(7), minimum=1) == 7


@pytest.mark.parametrize("value", [0, True, 1.5, "3"])
def test_check_optional_int_names_none_as_allowed(value):
    with pytest.raises(
        ValueError, match=rf"^window must be a positive integer or None; got {value!r}$"
    ):
        check_optional_int("window", value, minimum=1)


# ------------------------------------------------------------------ check_real
@pytest.mark.parametrize("value", [0, 1, 0.5, np.float32(0.25), np.int64(2), -3.5])
def test_check_real_returns_a_plain_float(value):
    result = check_real("rate", value)
    assert result == float(value) and type(result) is float


@pytest.mark.parametrize("value", [True, np.bool_(False), "0.5", None, [0.5], 1j])
def test_check_real_rejects_non_numbers_and_bools(value):
    with pytest.raises(ValueError, match=r"rate must be a finite number \(any value\); got "):
        check_real("rate", value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_check_real_rejects_nan_and_infinities_even_without_bounds(value):
    with pytest.raises(ValueError, match=r"rate must be a finite number"):
        check_real("rate", value)


def test_check_real_rejects_infinity_with_an_infinite_bound():
    with pytest.raises(ValueError, match=r"^noise must be a finite number >= 0; got inf$"):
        check_real("noise", math.inf, low=0.0)


def test_check_real_closed_bounds_include_the_bound():
    assert check_real("x", 0.0, low=0.0, high=1.0) == 0.0
    assert check_real("x", 1.0, low=0.0, high=1.0) == 1.0
    with pytest.raises(ValueError, match=r"^x must be a finite number in \[0, 1\]; got 1.5$"):
        check_real("x", 1.5, low=0.0, high=1.0)
    with pytest.raises(ValueError, match=r"^x must be a finite number >= 2; got 1.9$"):
        check_real("x", 1.9, low=2.0)
    with pytest.raises(ValueError, match=r"^x must be a finite number <= -1; got 0$"):
        check_real("x", 0, high=-1.0)


def test_check_real_open_bounds_exclude_the_bound():
    assert check_real("x", 1e-12, low=0.0, low_open=True) == 1e-12
    with pytest.raises(ValueError, match=r"^x must be a finite number > 0; got 0.0$"):
        check_real("x", 0.0, low=0.0, low_open=True)
    with pytest.raises(ValueError, match=r"^x must be a finite number < 1; got 1$"):
        check_real("x", 1, high=1.0, high_open=True)
    with pytest.raises(ValueError, match=r"^x must be a finite number in \(0, 1\]; got 0$"):
        check_real("x", 0, low=0.0, high=1.0, low_open=True)
    assert check_real("x", 1, low=0.0, high=1.0, low_open=True) == 1.0
    with pytest.raises(ValueError, match=r"^x must be a finite number in \[0, 1\); got 1$"):
        check_real("x", 1, low=0.0, high=1.0, high_open=True)


# ------------------------------------------------------------------ check_probability
@pytest.mark.parametrize("value", [0, 0.0, 0.3, 1, np.float32(1.0)])
def test_check_probability_accepts_the_closed_unit_interval(value):
    assert check_probability("ratio", value) == float(value)


@pytest.mark.parametrize("value", [-0.01, 1.01, math.nan, True, None])
def test_check_probability_rejects_the_rest(value):
    with pytest.raises(ValueError, match=r"^ratio must be a finite number in \[0, 1\]; got "):
        check_probability("ratio", value)


# ------------------------------------------------------------------ check_choice
def test_check_choice_returns_the_value_itself():
    assert check_choice("criterion", "bic", ("aic", "bic")) == "bic"
    assert check_choice("mode", 2, {1, 2}) == 2


def test_check_choice_names_the_value_and_lists_sorted_choices():
    with pytest.raises(
        ValueError, match=r"^unknown criterion 'aicc'; expected one of \['aic', 'bic'\]$"
    ):
        check_choice("criterion", "aicc", ("bic", "aic"))


def test_check_choice_handles_none_and_unhashable_values():
    with pytest.raises(ValueError, match=r"^unknown obs None; expected one of \['flat'"):
        check_choice("obs", None, {"flat", "image"})
    with pytest.raises(ValueError, match=r"^unknown obs \['flat'\]; expected one of"):
        check_choice("obs", ["flat"], {"flat", "image"})
    assert check_choice("default", None, (None, "x")) is None
