"""The ``Teacher`` contract: choose each episode's parameters, learn from its normalised return.

A teacher is a small subclass. The public methods validate their input, keep the books
(counters, the seeded generator, serialisation) and then call the protected hooks:

========================  =================================================================
subclass writes           called by
========================  =================================================================
``_sample()``             ``sample()`` — the vector must lie inside the bounds (see below)
``_update(p, s)``         ``update(params, score)`` — after ``p`` and ``s`` are valid
``_sample_batch(n)``      ``sample_batch(n)`` — optional; by default ``_sample`` per row
``_update_batch``         ``update_batch(params, scores)`` — optional; ``_update`` per row
``_state_dict()``         ``state_dict()`` — algorithm state as plain data
``_load_state_dict``      ``load_state_dict(state)``
``_metrics()``            ``metrics()`` — optional numbers for the logger
``_sample_levels(n)``     ``sample_levels(n)`` — optional; levels ``(params, level seeds)``
``_update_levels``        ``update``/``update_batch`` of a teacher that overrides it
========================  =================================================================

Because ``update`` validates everything before calling ``_update``, a bad call raises
``ValueError`` and leaves the teacher exactly as it was.

The batch methods serve trainers that gather many episodes at once (one rollout of a batched
env): ``sample_batch(n)`` returns the same rows as ``n`` calls of ``sample()`` and
``update_batch(params, scores)`` leaves the same state as one ``update`` per row, in order
(``docs/design.md``, "Teachers"). ``update_batch`` validates every row before applying any. A
teacher overrides ``_sample_batch``/``_update_batch`` only to be faster, never to differ.

``_sample`` returns a vector inside the space's bounds; a teacher that draws from a distribution
without bounds (a Gaussian) clips its draw itself (``self.param_space.clip(vector)``), as the
reference ALP-GMM does (Portelas et al. 2019). A value outside the bounds is clipped by
``sample`` all the same, with a ``SampleOutOfBoundsWarning`` (once per teacher), and fails
``check_teacher``: silently clipped samples pile up on the faces of the space.

**Levels and per-episode statistics** (for level-replay teachers such as PLR, Jiang et al.
2021). A teacher may choose *levels*: ``sample_levels(n)`` returns params and level seeds
(``-1``: no level), and an env given both replays the level exactly (``docs/design.md``,
"Levels"). A teacher that needs more than the score of each episode lists what it reads in
``episode_statistics`` (e.g. ``("positive_value_loss",)``); ``update``/``update_batch`` then
require ``stats={name: values}``, which the trainer fills (the batched backend's trainer does,
see ``teachgym.training.batched``), and a curriculum that cannot fill them fails on the first
update with a ``ValueError`` that says so. Such a teacher overrides ``_update_levels(params,
scores, level_seeds, stats)``, which then receives every update instead of ``_update``. Teachers
that do neither are unaffected: their ``sample_levels`` rows are their ``sample_batch`` rows
with no level, and a level seed or statistics given to their ``update`` are ignored.

Hyperparameters are written once, as in scikit-learn's estimators: the subclass's ``__init__``
takes them as keyword arguments and stores each in the attribute of the same name
(``self.spread = check_real("spread", spread, low=0)``); ``hyperparameters`` reads them back from
the signature, for ``state_dict``, ``repr`` and rebuilding the teacher (see ``docs/design.md``,
"Teachers").
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from teachgym.checks import check_optional_int
from teachgym.spaces import ParamsLike, ParamSpace

#: Per-episode statistics a trainer may fill for ``Teacher.episode_statistics`` (see
#: ``teachgym.training.batched``): the means over the episode's steps of ``max(A, 0)`` and of
#: ``|A|``, ``A`` the learner's GAE advantage (Jiang et al. 2021, "Prioritized Level Replay").
EPISODE_STATISTICS = ("positive_value_loss", "l1_value_loss")
#: The largest level seed (levels fit an int64 on every path).
MAX_LEVEL_SEED = 2**63 - 1

STATE_FORMAT_VERSION = 1

#: Attributes that ``Teacher.__init__`` sets; a subclass that skips it has none of them.
_BASE_ATTRIBUTES = ("param_space", "seed", "rng", "n_samples", "n_updates")

#: How far past a bound (as a share of the range) a sample may be before it counts as outside:
#: ``low + unit * (high - low)`` can miss ``high`` by a rounding error.
_BOUNDS_TOLERANCE = 1e-9


class SampleOutOfBoundsWarning(UserWarning):
    """A teacher's ``_sample`` returned a value outside the parameter space's bounds."""


class Teacher(ABC):
    """Base class of every teacher.

    A subclass takes its hyperparameters as keyword arguments of ``__init__``, stores each in
    the attribute of the same name and calls ``super().__init__(param_space, seed=seed)``:

    .. code-block:: python

        class Mine(Teacher):
            def __init__(self, param_space, *, seed=None, spread=0.1):
                super().__init__(param_space, seed=seed)
                self.spread = check_real("spread", spread, low=0.0)

    Args:
        param_space: The space the teacher samples from (a ``gymnasium.spaces.Box`` is
            converted). Samples are always inside its bounds.
        seed: Seed of the teacher's own ``numpy.random.Generator`` (``self.rng``). ``None``
            draws fresh entropy and records it in ``self.seed`` so the run can be repeated.
    """

    #: Name in the teacher registry; set by ``teachgym.teachers.register``.
    registry_name: ClassVar[str | None] = None
    #: Per-episode statistics ``update``/``update_batch`` must be given beyond the score (names
    #: from ``EPISODE_STATISTICS``); empty for teachers that read scores only.
    episode_statistics: tuple[str, ...] = ()

    def __init__(self, param_space: ParamSpace | spaces.Box, *, seed: int | None = None) -> None:
        self.param_space = ParamSpace.coerce(param_space)
        seed = check_optional_int("seed", seed, minimum=0)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
        self.seed = seed
        self.rng = np.random.default_rng(self.seed)
        self.n_samples = 0
        self.n_updates = 0
        self._warned_out_of_bounds = False

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """``{name: value}`` of every keyword argument of the constructor but ``param_space`` and
        ``seed``, read from the attribute of the same name (so ``type(t)(t.param_space,
        seed=t.seed, **t.hyperparameters)`` rebuilds ``t``). Recorded in the state, so a state
        is never loaded into a differently configured teacher.

        Raises:
            TypeError: the constructor takes a hyperparameter that it does not store as an
                attribute, or takes ``*args``.
        """
        values = {}
        for name in hyperparameter_names(type(self)):
            try:
                values[name] = getattr(self, name)
            except AttributeError:
                cls = type(self).__qualname__
                raise TypeError(
                    f"{cls}.__init__ takes the hyperparameter {name!r} but does not store it: "
                    f"assign self.{name} = {name} (its checked value) in {cls}.__init__, since "
                    "a teacher's hyperparameters are read back from the attributes named after "
                    "its constructor's arguments"
                ) from None
        return values

    # ------------------------------------------------------------------ public API
    def sample(self) -> np.ndarray:
        """The next episode's parameters: a float64 vector inside the space's bounds.

        Raises:
            RuntimeError: ``_sample`` returned a vector of the wrong length or a non-finite one.
            AttributeError: the subclass's ``__init__`` did not call ``Teacher.__init__``.
        """
        self._check_initialised()
        params = np.asarray(self._sample(), dtype=np.float64)
        if params.shape != (self.param_space.dim,) or not np.isfinite(params).all():
            raise RuntimeError(
                f"{type(self).__name__}._sample() returned {params!r}; expected "
                f"{self.param_space.dim} finite values"
            )
        self.n_samples += 1
        outside = out_of_bounds(params, self.param_space)
        if outside and not self.__dict__.get("_warned_out_of_bounds", False):
            self._warned_out_of_bounds = True
            warnings.warn(
                out_of_bounds_message(type(self), self.param_space, params, outside),
                SampleOutOfBoundsWarning,
                stacklevel=2,
            )
        return self.param_space.clip(params)

    def sample_batch(self, n: int) -> np.ndarray:
        """The parameters of the next ``n`` episodes, as an ``(n, dim)`` float64 array.

        Row ``i`` is what the ``i``-th of ``n`` calls of ``sample()`` would return: the same
        seed and the same calls give the same rows, whichever of the two is used.

        Raises:
            ValueError: ``n`` is not an integer ≥ 0.
            RuntimeError: ``_sample_batch`` returned an array of the wrong shape or a
                non-finite value.
        """
        self._check_initialised()
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be an integer >= 0 (the number of samples); got {n!r}")
        count = int(n)
        if count == 0:
            return np.empty((0, self.param_space.dim))
        start = self.n_samples
        rows = np.asarray(self._sample_batch(count), dtype=np.float64)
        if rows.shape != (count, self.param_space.dim) or not np.isfinite(rows).all():
            raise RuntimeError(
                f"{type(self).__name__}._sample_batch({count}) returned an array of shape "
                f"{rows.shape}; expected ({count}, {self.param_space.dim}) finite values"
            )
        self.n_samples = start + count
        if not self.__dict__.get("_warned_out_of_bounds", False):
            for row in rows[_rows_out_of_bounds(rows, self.param_space)][:1]:
                self._warned_out_of_bounds = True
                warnings.warn(
                    out_of_bounds_message(
                        type(self), self.param_space, row, out_of_bounds(row, self.param_space)
                    ),
                    SampleOutOfBoundsWarning,
                    stacklevel=2,
                )
        return self.param_space.clip(rows)

    def sample_levels(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``n`` episodes as levels: ``(params, level_seeds)``, ``(n, dim)`` float64
        and ``(n,)`` int64 (``-1``: no level, the env draws the layout itself).

        A teacher without levels returns its ``sample_batch(n)`` rows and ``-1`` everywhere.

        Raises:
            ValueError: ``n`` is not an integer ≥ 0.
            RuntimeError: ``_sample_levels`` returned arrays of the wrong shape, a non-finite
                value or a seed outside ``[-1, 2**63 - 1]``.
        """
        self._check_initialised()
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be an integer >= 0 (the number of samples); got {n!r}")
        count = int(n)
        if count == 0:
            return np.empty((0, self.param_space.dim)), np.empty(0, dtype=np.int64)
        if type(self)._sample_levels is Teacher._sample_levels:
            return self.sample_batch(count), np.full(count, -1, dtype=np.int64)
        start = self.n_samples
        rows, seeds = self._sample_levels(count)
        rows = np.asarray(rows, dtype=np.float64)
        seeds = np.asarray(seeds)
        if (
            rows.shape != (count, self.param_space.dim)
            or not np.isfinite(rows).all()
            or seeds.shape != (count,)
            or seeds.dtype.kind not in "iu"
            or (seeds < -1).any()
        ):
            raise RuntimeError(
                f"{type(self).__name__}._sample_levels({count}) returned params of shape "
                f"{rows.shape} and seeds {seeds!r}; expected ({count}, {self.param_space.dim}) "
                f"finite values and {count} integer seeds in [-1, 2**63 - 1]"
            )
        self.n_samples = start + count
        return self.param_space.clip(rows), seeds.astype(np.int64)

    def sample_dict(self) -> dict[str, float]:
        """``sample()`` as a ``{name: value}`` dict."""
        return self.param_space.to_dict(self.sample())

    def update(
        self,
        params: ParamsLike,
        score: float,
        *,
        level_seed: int | None = None,
        stats: Mapping[str, float] | None = None,
    ) -> None:
        """Tell the teacher the normalised return ``score`` of an episode run with ``params``.

        Args:
            params: The episode's parameters, as a vector or a (partial) dict.
            score: The episode's return normalised by the env's return range (about [0, 1]).
            level_seed: The episode's level seed, if it played one (see "Levels" above).
            stats: ``{name: value}`` with every name in ``episode_statistics``.

        Raises:
            ValueError: ``params`` is invalid for the space, ``score`` is not a finite number,
                ``level_seed`` is not an integer in ``[-1, 2**63 - 1]`` or a statistic the
                teacher reads is missing or not finite; the teacher's state is left untouched.
        """
        self._check_initialised()
        vector = self.param_space.to_vector(params)
        value = check_score(score)
        seed = _seed_array(-1 if level_seed is None else [level_seed], 1)
        columns = self._check_stats(
            None if stats is None else {k: [v] for k, v in dict(stats).items()}, 1
        )
        if self._reads_levels():
            self._update_levels(vector[None, :], np.array([value]), seed, columns)
        else:
            self._update(vector, value)
        self.n_updates += 1

    def update_batch(
        self,
        params: Any,
        scores: Any,
        *,
        level_seeds: Any = None,
        stats: Mapping[str, Any] | None = None,
    ) -> None:
        """Tell the teacher the results of ``m`` episodes, as ``m`` calls of ``update`` would.

        Args:
            params: ``(m, dim)`` array-like; row ``i`` is episode ``i``'s parameter vector, in
                ``param_space`` order.
            scores: ``(m,)`` array-like of the episodes' normalised returns.
            level_seeds: ``(m,)`` integers (``-1``: no level), or ``None``: no levels.
            stats: ``{name: (m,) values}`` with every name in ``episode_statistics``.

        Raises:
            ValueError: a wrong shape, a row outside the space or not finite, a score that is
                not a finite number, a bad level seed or a missing or non-finite statistic,
                naming the row; every row is checked before any is applied, so the teacher's
                state is left untouched.
        """
        self._check_initialised()
        vectors, values = self._check_batch(params, scores)
        seeds = _seed_array(-1 if level_seeds is None else level_seeds, len(values))
        columns = self._check_stats(stats, len(values))
        if not len(values):
            return
        start = self.n_updates
        if self._reads_levels():
            self._update_levels(vectors, values, seeds, columns)
        else:
            self._update_batch(vectors, values)
        self.n_updates = start + len(values)

    def metrics(self) -> dict[str, float]:
        """Numbers worth logging (under ``teacher/``): counters plus the algorithm's own."""
        numbers_ = {"n_updates": float(self.n_updates), "n_samples": float(self.n_samples)}
        numbers_.update((key, float(value)) for key, value in self._metrics().items())
        return numbers_

    def state_dict(self) -> dict[str, Any]:
        """The teacher's whole state as plain data: dicts, lists, numbers, strings and
        ``numpy`` arrays (no pickled objects). ``teachgym.state_io.save`` writes it to disk.
        """
        self._check_initialised()
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
        self._check_initialised()
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

    def _sample_batch(self, n: int) -> np.ndarray:
        """Return ``n`` rows, each what ``_sample`` would return next (``n`` ≥ 1).

        Override only with a faster way to the same rows. The default calls ``_sample`` and
        advances ``self.n_samples`` row by row, so a ``_sample`` that reads it sees what it
        would see under ``sample()``.
        """
        rows = np.empty((n, self.param_space.dim))
        for i in range(n):
            row = np.asarray(self._sample(), dtype=np.float64)
            if row.shape != (self.param_space.dim,):
                raise RuntimeError(
                    f"{type(self).__name__}._sample() returned {row!r}; expected "
                    f"{self.param_space.dim} finite values"
                )
            rows[i] = row
            self.n_samples += 1
        return rows

    def _sample_levels(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``n`` ≥ 1 levels: ``(n, dim)`` params and ``(n,)`` int64 seeds (``-1``: no
        level). Override to choose levels; ``sample``/``sample_batch`` should then give the same
        params as this does (without the seeds)."""
        return self._sample_batch(n), np.full(n, -1, dtype=np.int64)

    def _update_levels(
        self,
        params: np.ndarray,
        scores: np.ndarray,
        level_seeds: np.ndarray,
        stats: dict[str, np.ndarray],
    ) -> None:
        """Learn from ``m`` ≥ 1 validated episodes with their level seeds (``(m,)`` int64,
        ``-1``: none) and the statistics in ``episode_statistics`` (``{name: (m,)}`` float64).

        A teacher that overrides this gets every ``update`` and ``update_batch`` here (not in
        ``_update``/``_update_batch``); ``self.n_updates`` is the count before the batch.
        """
        raise NotImplementedError

    def _update_batch(self, params: np.ndarray, scores: np.ndarray) -> None:
        """Learn from ``m`` ≥ 1 validated episodes (``(m, dim)`` and ``(m,)`` float64), with
        the same result as ``_update`` on each row in order.

        ``self.n_updates`` is the count before the batch's first row when this is called;
        ``update_batch`` sets it to the count after. Override only with a faster way to the
        same state. The default calls ``_update`` and advances ``self.n_updates`` row by row,
        since an ``_update`` may read it (the GMM teachers' fit schedule does).
        """
        for vector, score in zip(params, scores, strict=True):
            self._update(vector.copy(), float(score))
            self.n_updates += 1

    def _state_dict(self) -> dict[str, Any]:
        """Algorithm state beyond the base class's (counters and ``rng`` are saved already)."""
        return {}

    def _load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Restore what ``_state_dict`` returned. Validate before assigning anything."""

    def _metrics(self) -> dict[str, float]:
        """Algorithm-specific numbers for ``metrics()``."""
        return {}

    # ------------------------------------------------------------------ helpers
    def _reads_levels(self) -> bool:
        return type(self)._update_levels is not Teacher._update_levels

    def _check_stats(self, stats: Mapping[str, Any] | None, count: int) -> dict[str, np.ndarray]:
        """The statistics the teacher reads, as ``{name: (count,) float64}``, or the
        ``ValueError`` naming the missing or bad one (other names are ignored)."""
        needed = self.episode_statistics
        if not needed:
            return {}
        if stats is None or not all(name in stats for name in needed):
            have = [] if stats is None else sorted(stats)
            raise ValueError(
                f"{type(self).__name__} reads the per-episode statistics {list(needed)} beside "
                f"the score; got {have}. The batched backend's trainer fills them "
                "(teachgym train --backend batched); a curriculum that only sees returns cannot"
            )
        columns = {}
        for name in needed:
            try:
                column = np.array(stats[name], dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                raise ValueError(
                    f"statistic {name!r} must be {count} numbers; got {stats[name]!r}"
                ) from None
            if column.shape != (count,) or not np.isfinite(column).all():
                raise ValueError(f"statistic {name!r} must be {count} finite numbers; got {column}")
            columns[name] = column
        return columns

    def _check_initialised(self) -> None:
        """Name a skipped ``super().__init__`` instead of failing on the first missing
        attribute (``rng``, ``n_samples`` …) somewhere inside."""
        if not all(name in self.__dict__ for name in _BASE_ATTRIBUTES):
            raise AttributeError(missing_super_init_message(type(self)))

    def _check_batch(self, params: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
        """``update_batch``'s arguments as ``(m, dim)`` and ``(m,)`` float64 arrays, or the
        ``ValueError`` naming the first bad row."""
        dim = self.param_space.dim
        scores_array = _score_array(scores)
        count = len(scores_array)
        if isinstance(params, np.ndarray) and params.dtype.kind in "iuf":
            vectors = params.astype(np.float64, copy=True)
        else:
            try:
                vectors = np.array(params, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"params must be an ({count}, {dim}) array of numbers; got {params!r}"
                ) from None
        if count == 0 and vectors.size == 0:
            return vectors.reshape(0, dim), scores_array
        if vectors.shape != (count, dim):
            raise ValueError(
                f"params must have shape ({count}, {dim}): one row of {dim} parameters "
                f"({', '.join(self.param_space.names)}) per score; got shape {vectors.shape}"
            )
        inside = (vectors >= self.param_space.low) & (vectors <= self.param_space.high)
        plain_array = isinstance(params, np.ndarray) and params.dtype.kind in "iuf"
        for i in range(count) if not plain_array else np.flatnonzero(~inside.all(axis=1))[:1]:
            # Rows of a list go through the single-row check (it rejects bools and text that
            # NumPy would silently convert); an array's rows only where a bound failed.
            try:
                self.param_space.validate(params[i])
            except ValueError as error:
                raise ValueError(f"params row {i}: {error}") from None
        return vectors, scores_array

    def _type_name(self) -> str:
        return self.registry_name or f"{type(self).__module__}.{type(self).__qualname__}"

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        sep = ", " if hyper else ""
        return f"{type(self).__name__}({self.param_space!r}, seed={self.seed}{sep}{hyper})"


def hyperparameter_names(cls: type[Teacher]) -> list[str]:
    """The hyperparameters of ``cls``: its constructor's keyword arguments but ``param_space``
    and ``seed``, in signature order.

    A constructor that takes ``**kwargs`` passes them on to its parent's, so the parent's
    arguments are included too, listed first (scikit-learn would have the subclass re-list
    them; following ``**kwargs`` lets a thin subclass stay thin).

    Raises:
        TypeError: a constructor takes ``*args``, which cannot be recorded by name.
    """
    levels: list[list[str]] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        if klass is Teacher:
            break
        names, passes_on = [], False
        for name, parameter in inspect.signature(init).parameters.items():
            if parameter.kind is parameter.VAR_POSITIONAL:
                raise TypeError(
                    f"{klass.__qualname__}.__init__ takes *{name}; a teacher's hyperparameters "
                    "must be keyword arguments, so that they can be recorded by name"
                )
            if parameter.kind is parameter.VAR_KEYWORD:
                passes_on = True
            elif name not in ("self", "param_space", "seed"):
                names.append(name)
        levels.append(names)
        if not passes_on:
            break
    ordered: list[str] = []
    for names in reversed(levels):
        ordered.extend(name for name in names if name not in ordered)
    return ordered


def constructor_problem(cls: type[Teacher]) -> str | None:
    """Why ``cls(param_space, seed=…, **hyperparameters)`` cannot build ``cls``, with the fix;
    ``None`` when its constructor fits (``teachers.make``, ``register`` and ``check_teacher``
    build every teacher that way)."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    takes_seed = any(
        (p.name == "seed" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        or p.kind is p.VAR_KEYWORD
        for p in parameters
    )
    if takes_seed:
        return None
    name = cls.__qualname__
    return (
        f"{name}.__init__ must take the keyword argument seed and pass it on: "
        "def __init__(self, param_space, *, seed=None, <hyperparameters>) calling "
        "super().__init__(param_space, seed=seed), since teachers are built as "
        f"{name}(param_space, seed=..., **hyperparameters) to make runs repeatable"
    )


def missing_super_init_message(cls: type[Teacher]) -> str:
    """The error for a teacher whose ``__init__`` did not run ``Teacher.__init__``."""
    name = cls.__qualname__
    return (
        f"{name}.__init__ did not call super().__init__(param_space, seed=seed), which sets "
        f"{', '.join(_BASE_ATTRIBUTES)}: call it first in {name}.__init__"
    )


def out_of_bounds(params: np.ndarray, space: ParamSpace) -> list[int]:
    """Indices of ``params`` outside ``space``'s bounds by more than a rounding error."""
    slack = _BOUNDS_TOLERANCE * (space.high - space.low)
    return np.flatnonzero((params < space.low - slack) | (params > space.high + slack)).tolist()


def out_of_bounds_message(
    cls: type[Teacher], space: ParamSpace, params: np.ndarray, outside: list[int]
) -> str:
    """Which values of ``cls._sample()``'s vector left the bounds, and the fix."""
    values = ", ".join(
        f"{space.names[i]}={params[i]:g} (range [{space.low[i]:g}, {space.high[i]:g}])"
        for i in outside
    )
    return (
        f"{cls.__qualname__}._sample() returned {values}, outside the parameter space; "
        "sample() clips it to the bound, so such samples pile up on the space's faces. "
        "Return values inside the bounds: clip a draw from a Gaussian or other unbounded "
        "distribution in _sample with `return self.param_space.clip(vector)`"
    )


def _rows_out_of_bounds(rows: np.ndarray, space: ParamSpace) -> np.ndarray:
    """Mask of the rows of ``rows`` with a value outside ``space`` (see ``out_of_bounds``)."""
    slack = _BOUNDS_TOLERANCE * (space.high - space.low)
    return ((rows < space.low - slack) | (rows > space.high + slack)).any(axis=1)


def _seed_array(seeds: Any, count: int) -> np.ndarray:
    """Level seeds as a ``(count,)`` int64 array (``-1`` broadcast), or the ``ValueError``."""
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds == -1:
        return np.full(count, -1, dtype=np.int64)
    array = np.asarray(seeds)
    if array.dtype == np.bool_ or array.dtype.kind not in "iu" or array.shape != (count,):
        raise ValueError(
            f"level seeds must be {count} integers in [-1, 2**63 - 1] (-1: no level); got {seeds!r}"
        )
    if (array < -1).any() or (array.dtype.kind == "u" and (array > MAX_LEVEL_SEED).any()):
        raise ValueError(f"level seeds must be integers in [-1, 2**63 - 1]; got {seeds!r}")
    return array.astype(np.int64)


def _score_array(scores: Any) -> np.ndarray:
    """``scores`` as a new ``(m,)`` float64 array, or ``ValueError`` naming the first bad one."""
    if isinstance(scores, np.ndarray) and scores.dtype.kind in "iuf":
        values = scores.astype(np.float64, copy=True)
    else:
        try:
            items = list(scores)
        except TypeError:
            raise ValueError(
                f"scores must be a 1-D sequence of finite numbers; got {scores!r}"
            ) from None
        for i, item in enumerate(items):
            try:
                check_score(item)
            except ValueError as error:
                raise ValueError(f"scores[{i}]: {error}") from None
        values = np.array([float(item) for item in items], dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"scores must be 1-D, one per params row; got shape {values.shape}")
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise ValueError(
            f"scores[{bad[0]}] is {values[bad[0]]}; expected a finite real number (the "
            "episode's normalised return)"
        )
    return values


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
