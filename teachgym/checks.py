"""Argument checks shared by every layer: one wording for every "expected X, got Y" error.

Each check returns the value converted to a plain Python type, so a caller writes
``self.fit_rate = check_int("fit_rate", fit_rate, minimum=2)`` and stores exactly what it checked.
Booleans are rejected where a number is expected (``True`` is an ``int`` to Python, never to us).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any, TypeVar

__all__ = ["check_choice", "check_int", "check_optional_int", "check_probability", "check_real"]

T = TypeVar("T")


def check_int(
    name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]`` (either bound optional).

    Raises:
        ValueError: ``value`` is not an integer (bools included) or lies outside the bounds; the
            message names ``name``, the value and the expected range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be {_int_range(minimum, maximum)}; got {value!r}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {_int_range(minimum, maximum)}; got {value!r}")
    return value


def check_optional_int(
    name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """Like :func:`check_int`, with ``None`` allowed and returned as is."""
    if value is None:
        return None
    try:
        return check_int(name, value, minimum=minimum, maximum=maximum)
    except ValueError:
        raise ValueError(
            f"{name} must be {_int_range(minimum, maximum)} or None; got {value!r}"
        ) from None


def check_real(
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` in the interval from ``low`` to ``high``.

    Args:
        name: What the caller calls the value (used in the message).
        value: The value to check.
        low, high: Bounds; infinite by default.
        low_open, high_open: Exclude the bound itself (e.g. ``low=0, low_open=True`` for > 0).

    Raises:
        ValueError: not a real number (bools included), NaN, infinite, or outside the interval.
    """
    interval = _real_range(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite number {interval}; got {value!r}")
    number = float(value)
    below = number <= low if low_open else number < low
    above = number >= high if high_open else number > high
    if not math.isfinite(number) or below or above:
        raise ValueError(f"{name} must be a finite number {interval}; got {value!r}")
    return number


def check_probability(name: str, value: Any) -> float:
    """``value`` as a ``float`` in ``[0, 1]``."""
    return check_real(name, value, low=0.0, high=1.0)


def check_choice(name: str, value: T, choices: Collection[T]) -> T:
    """``value`` itself, if it is one of ``choices``.

    Raises:
        ValueError: naming the value and listing the choices.
    """
    try:
        known = value in choices
    except TypeError:  # unhashable value against a set or dict
        known = False
    if not known:
        raise ValueError(f"unknown {name} {value!r}; expected one of {sorted(map(str, choices))}")
    return value


def _int_range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"an integer in [{minimum}, {maximum}]"
    if minimum == 1:
        return "a positive integer"
    if minimum is not None:
        return f"an integer >= {minimum}"
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def _real_range(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if math.isinf(low) and math.isinf(high):
        return "(any value)"
    if math.isinf(high):
        return f"{'>' if low_open else '>='} {low:g}"
    if math.isinf(low):
        return f"{'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
