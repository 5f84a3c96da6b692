"""``ParamSpace``: the continuous parameters that configure one episode of a parameterized env.

Teachers see a parameter set as a vector in the space's own units; envs and users see it as a
``{name: value}`` dict. ``ParamSpace`` converts between the two, samples uniformly from a
``numpy.random.Generator`` and validates every value that crosses a public boundary, so a bad
value fails where it enters with an error that names the parameter, its value and its range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

ParamsLike = Mapping[str, float] | Sequence[float] | np.ndarray

# Values Python or NumPy would turn into a float but that are not a parameter value: text
# ("1.5" from a config file), booleans (as ``teachgym.checks`` rejects them) and None (NaN).
_NOT_NUMBERS = (str, bytes, bool, np.bool_, type(None))


def _check_number(name: str, value: Any) -> None:
    if isinstance(value, _NOT_NUMBERS):
        shown = value.item() if isinstance(value, np.generic) else value  # '1.5', not np.str_
        raise ValueError(f"parameter {name!r} must be a number; got {shown!r}")


class ParamSpace:
    """An ordered set of named, bounded, continuous parameters.

    Args:
        names: Parameter names, in vector order. Must be unique, non-empty strings.
        low: Lower bound of each parameter.
        high: Upper bound of each parameter; strictly above ``low``.
        defaults: Value of each parameter when a caller leaves it out (a partial dict, or no
            params at all for envs with a canonical setting). ``None``: the parameters have no
            defaults, and partial dicts are rejected.

    Example:
        >>> space = ParamSpace(["stump_height", "obstacle_spacing"], [0, 0], [3, 6])
        >>> space.to_dict([1.5, 4.0])
        {'stump_height': 1.5, 'obstacle_spacing': 4.0}
    """

    def __init__(
        self,
        names: Sequence[str],
        low: Sequence[float] | np.ndarray,
        high: Sequence[float] | np.ndarray,
        defaults: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        names = tuple(names)
        if not names:
            raise ValueError("a ParamSpace needs at least one parameter; got no names")
        for name in names:
            if not isinstance(name, str) or not name:
                raise ValueError(f"parameter names must be non-empty strings; got {name!r}")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"parameter names must be unique; repeated: {duplicates}")
        self._names = names
        self._index = {name: i for i, name in enumerate(names)}
        self._low = self._bound_vector(low, "low")
        self._high = self._bound_vector(high, "high")
        for name, lo, hi in zip(names, self._low, self._high, strict=True):
            if not lo < hi:
                raise ValueError(
                    f"parameter {name!r}: low ({lo}) must be strictly below high ({hi})"
                )
        self._defaults: np.ndarray | None = None
        if defaults is not None:
            self._defaults = self.validate(self._bound_vector(defaults, "defaults"))
        for array in (self._low, self._high, self._defaults):
            if array is not None:
                array.flags.writeable = False

    def _bound_vector(self, values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
        try:
            array = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{what} must be {len(self._names)} numbers; got {values!r}") from None
        if array.shape != (len(self._names),):
            raise ValueError(
                f"{what} must have one value per parameter ({len(self._names)}: "
                f"{', '.join(self._names)}); got shape {array.shape}"
            )
        if what != "defaults" and not np.all(np.isfinite(array)):
            raise ValueError(f"{what} bounds must be finite; got {array.tolist()}")
        return array

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_bounds(
        cls,
        bounds: Mapping[str, tuple[float, float]],
        defaults: Mapping[str, float] | None = None,
    ) -> ParamSpace:
        """Build a space from ``{name: (low, high)}``, optionally with ``{name: default}``."""
        names = list(bounds)
        low = [bounds[name][0] for name in names]
        high = [bounds[name][1] for name in names]
        default_vector = None
        if defaults is not None:
            unknown = sorted(set(defaults) - set(names))
            if unknown:
                raise ValueError(f"defaults name unknown parameters {unknown}; expected {names}")
            missing = [name for name in names if name not in defaults]
            if missing:
                raise ValueError(f"defaults are missing parameters {missing}")
            default_vector = [defaults[name] for name in names]
        return cls(names, low, high, default_vector)

    @classmethod
    def from_box(cls, box: spaces.Box, names: Sequence[str] | None = None) -> ParamSpace:
        """Build a space from a 1-D ``gymnasium.spaces.Box`` with finite bounds.

        Args:
            box: The box; its bounds become the parameter ranges.
            names: Parameter names; ``param_0``, ``param_1``, … when omitted.
        """
        if not isinstance(box, spaces.Box) or len(box.shape) != 1:
            raise ValueError(f"expected a 1-D gymnasium.spaces.Box; got {box!r}")
        if not (np.all(np.isfinite(box.low)) and np.all(np.isfinite(box.high))):
            raise ValueError(f"a ParamSpace needs finite bounds; got {box!r}")
        if names is None:
            names = [f"param_{i}" for i in range(box.shape[0])]
        if len(names) != box.shape[0]:
            raise ValueError(f"got {len(names)} names for a box of {box.shape[0]} dimensions")
        return cls(names, box.low.astype(np.float64), box.high.astype(np.float64))

    @classmethod
    def coerce(cls, space: ParamSpace | spaces.Box) -> ParamSpace:
        """Return ``space`` as a ``ParamSpace`` (a ``Box`` is converted)."""
        if isinstance(space, ParamSpace):
            return space
        if isinstance(space, spaces.Box):
            return cls.from_box(space)
        raise TypeError(f"expected a ParamSpace or a gymnasium.spaces.Box; got {type(space)}")

    @classmethod
    def unit(cls, dims: int, prefix: str = "param") -> ParamSpace:
        """The unit cube [0, 1]^dims with names ``{prefix}_0`` … (as the toy testbed uses)."""
        if dims < 1:
            raise ValueError(f"dims must be at least 1; got {dims}")
        return cls([f"{prefix}_{i}" for i in range(dims)], np.zeros(dims), np.ones(dims))

    def to_box(self) -> spaces.Box:
        """The space's bounds as a float64 ``gymnasium.spaces.Box``."""
        return spaces.Box(self._low.copy(), self._high.copy(), dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able description; ``ParamSpace.from_json`` rebuilds the same space."""
        return {
            "names": list(self._names),
            "low": self._low.tolist(),
            "high": self._high.tolist(),
            "defaults": None if self._defaults is None else self._defaults.tolist(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ParamSpace:
        """Rebuild a space from ``to_json()`` output."""
        try:
            return cls(data["names"], data["low"], data["high"], data.get("defaults"))
        except KeyError as error:
            raise ValueError(f"a ParamSpace description needs the key {error}") from None

    # ------------------------------------------------------------------ properties
    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def low(self) -> np.ndarray:
        return self._low

    @property
    def high(self) -> np.ndarray:
        return self._high

    @property
    def defaults(self) -> np.ndarray | None:
        return self._defaults

    @property
    def dim(self) -> int:
        return len(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParamSpace):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self._names, self._low.tobytes(), self._high.tobytes()))

    def __repr__(self) -> str:
        ranges = ", ".join(
            f"{name}=[{lo:g}, {hi:g}]"
            for name, lo, hi in zip(self._names, self._low, self._high, strict=True)
        )
        return f"ParamSpace({ranges})"

    # ------------------------------------------------------------------ conversion
    def to_vector(self, params: ParamsLike) -> np.ndarray:
        """Validate ``params`` (a full or partial dict, or a vector) and return a new vector.

        Raises:
            ValueError: wrong length, unknown or missing names, values that are not numbers
                (text such as ``"1.5"``, bools, ``None``), non-finite or out-of-range values.
        """
        if isinstance(params, Mapping):
            return self.validate(self._dict_to_vector(params))
        return self.validate(params)

    def to_dict(self, params: ParamsLike) -> dict[str, float]:
        """Validate ``params`` and return ``{name: value}`` with plain Python floats."""
        vector = self.to_vector(params)
        return {name: float(value) for name, value in zip(self._names, vector, strict=True)}

    def validate(self, vector: Sequence[float] | np.ndarray) -> np.ndarray:
        """Check a parameter vector and return it as a new float64 array.

        Raises:
            ValueError: naming the offending parameter, its value and its range.
        """
        if not (isinstance(vector, np.ndarray) and vector.dtype.kind in "iuf"):
            self._reject_non_numbers(vector)
        try:
            array = np.array(vector, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"expected {self.dim} numbers ({', '.join(self._names)}); got {vector!r}"
            ) from None
        if array.shape != (self.dim,):
            raise ValueError(
                f"expected a vector of {self.dim} parameters ({', '.join(self._names)}); "
                f"got shape {array.shape}: {vector!r}"
            )
        # Fast path (teachers validate every update); NaN fails both comparisons.
        if (array >= self._low).all() and (array <= self._high).all():
            return array
        for name, value, lo, hi in zip(self._names, array, self._low, self._high, strict=True):
            if not math.isfinite(value):
                raise ValueError(
                    f"parameter {name!r} is {value}; expected a finite value in [{lo:g}, {hi:g}]"
                )
            if not lo <= value <= hi:
                raise ValueError(
                    f"parameter {name!r} = {value:g} is outside its range [{lo:g}, {hi:g}]"
                )
        return array

    def contains(self, params: ParamsLike) -> bool:
        """Whether ``params`` would pass validation."""
        try:
            self.to_vector(params)
        except ValueError:
            return False
        return True

    def _reject_non_numbers(self, vector: Any) -> None:
        """Raise for a vector of ``dim`` entries holding text, a bool or ``None``: NumPy would
        convert ``"1.5"`` and ``True`` to floats, and ``None`` to NaN."""
        if isinstance(vector, (str, bytes)) or not hasattr(vector, "__len__"):
            return  # not a sequence: the conversion below reports it
        if len(vector) != self.dim:
            return  # the shape check reports it
        for name, value in zip(self._names, vector, strict=True):
            _check_number(name, value)

    def _dict_to_vector(self, params: Mapping[str, float]) -> np.ndarray:
        unknown = [name for name in params if name not in self._index]
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {unknown}; expected names from {list(self._names)}"
            )
        missing = [name for name in self._names if name not in params]
        if missing and self._defaults is None:
            raise ValueError(
                f"missing parameter(s) {missing} and this space has no defaults to fill them"
            )
        vector = np.empty(self.dim, dtype=np.float64)
        for i, name in enumerate(self._names):
            value = params[name] if name in params else self._defaults[i]  # type: ignore[index]
            _check_number(name, value)
            try:
                vector[i] = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"parameter {name!r} must be a number; got {value!r}") from None
        return vector

    # ------------------------------------------------------------------ sampling
    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One vector drawn uniformly from the box."""
        return rng.uniform(self._low, self._high)

    def sample_many(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` vectors drawn uniformly, as a ``(count, dim)`` array."""
        return rng.uniform(self._low, self._high, size=(count, self.dim))

    # ------------------------------------------------------------------ normalisation
    def normalize(self, vectors: np.ndarray) -> np.ndarray:
        """Map vectors (any leading shape) from the space's units to [0, 1]."""
        return (np.asarray(vectors, dtype=np.float64) - self._low) / (self._high - self._low)

    def denormalize(self, unit_vectors: np.ndarray) -> np.ndarray:
        """Map vectors from [0, 1] back to the space's units."""
        return self._low + np.asarray(unit_vectors, dtype=np.float64) * (self._high - self._low)

    def clip(self, vectors: np.ndarray) -> np.ndarray:
        """Clip vectors into the bounds."""
        return np.clip(vectors, self._low, self._high)
