"""The ``Teacher`` contract: choose each episode's parameters, learn from its normalised return.

A teacher is a small subclass. The public methods validate their input, keep the books
(counters, the seeded generator, serialisation) and then call the protected hooks:

==================  ==========================================================
subclass writes     called by
==================  ==========================================================
``_sample()``       ``sample()`` — the returned vector is checked and clipped
``_update(p, s)``   ``update(params, score)`` — after ``p`` and ``s`` are valid
``_state_dict()``   ``state_dict()`` — algorithm state as plain data
``_load_state_dict``  ``load_state_dict(state)``
``_metrics()``      ``metrics()`` — optional numbers for the logger
==================  ==========================================================

Because ``update`` validates everything before calling ``_update``, a bad call raises
``ValueError`` and leaves the teacher exactly as it was.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from teachgym.spaces import ParamsLike, ParamSpace

STATE_FORMAT_VERSION = 1


class Teacher(ABC):
    """Base class of every teacher.

    Args:
        param_space: The space the teacher samples from (a ``gymnasium.spaces.Box`` is
            converted). Samples are always inside its bounds.
        seed: Seed of the teacher's own ``numpy.random.Generator`` (``self.rng``). ``None``
            draws fresh entropy and records it in ``self.seed`` so the run can be repeated.
        **hyperparameters: The subclass's hyperparameters, as passed to its constructor.
            Recorded in ``self.hyperparameters`` and in the state, so a teacher can be
            rebuilt and a state is never loaded into a differently configured teacher.
    """

    #: Name in the teacher registry; set by ``teachgym.teachers.register``.
    registry_name: ClassVar[str | None] = None

    def __init__(
        self,
        param_space: ParamSpace | spaces.Box,
        *,
        seed: int | None = None,
        **hyperparameters: Any,
    ) -> None:
        self.param_space = ParamSpace.coerce(param_space)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
        elif not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None; got {seed!r}")
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.hyperparameters = dict(hyperparameters)
        self.n_samples = 0
        self.n_updates = 0

    # ------------------------------------------------------------------ public API
    def sample(self) -> np.ndarray:
        """The next episode's parameters: a float64 vector inside the space's bounds."""
        params = np.asarray(self._sample(), dtype=np.float64)
        if params.shape != (self.param_space.dim,) or not np.isfinite(params).all():
            raise RuntimeError(
                f"{type(self).__name__}._sample() returned {params!r}; expected "
                f"{self.param_space.dim} finite values"
            )
        self.n_samples += 1
        # Gaussian draws land outside the box; clipping here keeps every teacher in bounds.
        return np.minimum(np.maximum(params, self.param_space.low), self.param_space.high)

    def sample_dict(self) -> dict[str, float]:
        """``sample()`` as a ``{name: value}`` dict."""
        return self.param_space.to_dict(self.sample())

    def update(self, params: ParamsLike, score: float) -> None:
        """Tell the teacher the normalised return ``score`` of an episode run with ``params``.

        Args:
            params: The episode's parameters, as a vector or a (partial) dict.
            score: The episode's return normalised by the env's return range (about [0, 1]).

        Raises:
            ValueError: ``params`` is invalid for the space or ``score`` is not a finite
                number; the teacher's state is left untouched.
        """
        vector = self.param_space.to_vector(params)
        self._update(vector, check_score(score))
        self.n_updates += 1

    def metrics(self) -> dict[str, float]:
        """Numbers worth logging (under ``teacher/``): counters plus the algorithm's own."""
        numbers_ = {"n_updates": float(self.n_updates), "n_samples": float(self.n_samples)}
        numbers_.update((key, float(value)) for key, value in self._metrics().items())
        return numbers_

    def state_dict(self) -> dict[str, Any]:
        """The teacher's whole state as plain data: dicts, lists, numbers, strings and
        ``numpy`` arrays (no pickled objects). ``teachgym.state_io.save`` writes it to disk.
        """
        return {
            "format_version": STATE_FORMAT_VERSION,
            "teacher": self._type_name(),
            "param_space": self.param_space.to_json(),
            "hyperparameters": dict(self.hyperparameters),
            "seed": self.seed,
            "rng": self.rng.bit_generator.state,
            "n_samples": self.n_samples,
            "n_updates": self.n_updates,
            "algorithm": self._state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from ``state_dict()`` into a teacher built with the same space and
        hyperparameters; sampling then continues exactly where the saved teacher was.

        Raises:
            ValueError: the state is from another teacher type, space or configuration.
        """
        missing = {"teacher", "param_space", "hyperparameters", "rng", "algorithm"} - set(state)
        if missing:
            raise ValueError(f"not a teacher state: missing keys {sorted(missing)}")
        if state["teacher"] != self._type_name():
            raise ValueError(
                f"state is from teacher {state['teacher']!r}; this is {self._type_name()!r}"
            )
        saved_space = ParamSpace.from_json(state["param_space"])
        if saved_space != self.param_space:
            raise ValueError(f"state is for {saved_space}; this teacher has {self.param_space}")
        if _normalise_json(state["hyperparameters"]) != _normalise_json(self.hyperparameters):
            raise ValueError(
                f"state was saved with hyperparameters {state['hyperparameters']}; this teacher "
                f"has {self.hyperparameters}"
            )
        rng = np.random.default_rng()
        rng.bit_generator.state = state["rng"]
        self._load_state_dict(state["algorithm"])
        self.rng = rng
        self.seed = int(state["seed"])
        self.n_samples = int(state["n_samples"])
        self.n_updates = int(state["n_updates"])

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _sample(self) -> np.ndarray:
        """Return the next parameter vector (in the space's units). Use ``self.rng``."""

    @abstractmethod
    def _update(self, params: np.ndarray, score: float) -> None:
        """Learn from one episode. ``params`` is a validated float64 vector, ``score`` finite."""

    def _state_dict(self) -> dict[str, Any]:
        """Algorithm state beyond the base class's (counters and ``rng`` are saved already)."""
        return {}

    def _load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Restore what ``_state_dict`` returned. Validate before assigning anything."""

    def _metrics(self) -> dict[str, float]:
        """Algorithm-specific numbers for ``metrics()``."""
        return {}

    # ------------------------------------------------------------------ helpers
    def _type_name(self) -> str:
        return self.registry_name or f"{type(self).__module__}.{type(self).__qualname__}"

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        sep = ", " if hyper else ""
        return f"{type(self).__name__}({self.param_space!r}, seed={self.seed}{sep}{hyper})"


def check_score(score: Any) -> float:
    """Return ``score`` as a float, or raise ``ValueError`` if it is not one finite number."""
    if isinstance(score, bool) or not isinstance(score, numbers.Real):
        if isinstance(score, np.ndarray) and score.shape == () and score.dtype.kind in "fiu":
            score = score.item()
        else:
            raise ValueError(f"score must be a finite real number; got {score!r}")
    value = float(score)
    if not math.isfinite(value):
        raise ValueError(f"score must be a finite real number; got {value}")
    return value


def _normalise_json(value: Any) -> Any:
    """Make tuples and lists compare equal (a state read back from JSON has lists)."""
    if isinstance(value, dict):
        return {key: _normalise_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise_json(item) for item in value]
    return value
