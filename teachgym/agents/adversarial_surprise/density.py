"""Density models of Adversarial Surprise: the predictor whose surprise the two players fight over.

In Adversarial Surprise (Fickinger et al. 2021, "Explore and Control with Adversarial Surprise",
§3) a density model ``p_θ`` is fitted, within one episode, to the observations seen on Control's
turns and reset when the episode starts. Control is rewarded with ``log p_θ(o)`` of each of its
observations, taken *before* the model sees ``o``; both players observe ``θ``, the model's
sufficient statistics, so the game is Markov in (observation, θ, time).

Every model here is *batched*: it holds one independent fit per env of a batch, so a game over
``n`` envs scores and updates all of them with one array operation. A model is a small subclass
of ``DensityModel``: the public methods check shapes and keep the observation counts; the
subclass implements ``_reset``, ``_log_prob``, ``_update`` and ``_statistics``.

- ``CategoricalDensity``: an independent categorical per variable over its value set, e.g. the
  147 (cell, channel) entries of MiniGrid's symbolic 7 × 7 × 3 view, as in the authors' setup.
  Probabilities are empirical frequencies floored at ``floor`` (1e-3), so an unseen value costs
  ``log 1e-3`` instead of ``-inf``; an empty model is uniform.
- ``GaussianDensity``: an independent Gaussian per variable (diagonal covariance) for continuous
  observations, as in SMiRL (Berseth et al. 2021); standard deviations are floored at
  ``min_std``; an empty model is the standard normal.

``make_density_model(name, space, batch_size, **kwargs)`` builds one by name for an observation
space; ``register_density_model`` plugs in your own.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import ArrayLike

from teachgym.checks import check_int, check_real

__all__ = [
    "CategoricalDensity",
    "DensityFactory",
    "DensityModel",
    "GaussianDensity",
    "available_density_models",
    "make_density_model",
    "register_density_model",
]

_LOG_2PI = math.log(2.0 * math.pi)


class DensityModel(ABC):
    """A batch of independent density models over flat observation vectors.

    Observations are given as ``(batch_size, num_variables)`` arrays (any shape whose size per
    env is ``num_variables`` is flattened). ``mask`` arguments select the envs of the batch an
    operation applies to (``None``: all).

    Subclasses implement the four hooks and set ``statistics_size`` in ``__init__``.

    Args:
        num_variables: Entries of one observation.
        batch_size: Independent models held (one per env).

    Raises:
        ValueError: a size below 1.
    """

    statistics_size: int
    """Length of one env's row of ``statistics()``."""

    def __init__(self, num_variables: int, batch_size: int = 1) -> None:
        self.num_variables = check_int("num_variables", num_variables, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self._counts = np.zeros(self.batch_size, dtype=np.int64)

    # ------------------------------------------------------------------ public API
    @property
    def counts(self) -> np.ndarray:
        """Observations fitted since each env's last reset, ``(batch_size,)`` (a copy)."""
        return self._counts.copy()

    def reset(self, mask: ArrayLike | None = None) -> None:
        """Forget every observation of the selected envs (the start of an episode)."""
        selected = self._mask(mask)
        self._counts[selected] = 0
        self._reset(selected)

    def log_prob(self, observations: ArrayLike) -> np.ndarray:
        """``log p(o)`` of each env's observation under that env's current fit, ``(batch_size,)``.

        Does not change the model: call it before ``update`` to score an observation the model
        has not seen yet.
        """
        return self._log_prob(self._check(observations))

    def update(self, observations: ArrayLike, mask: ArrayLike | None = None) -> None:
        """Add each selected env's observation to that env's fit."""
        flat = self._check(observations)
        selected = self._mask(mask)
        if selected.any():
            self._update(flat, selected)
            self._counts[selected] += 1

    def statistics(self) -> np.ndarray:
        """The sufficient statistics θ each player observes, ``(batch_size, statistics_size)``,
        float32."""
        return np.asarray(self._statistics(), dtype=np.float32)

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _reset(self, mask: np.ndarray) -> None:
        """Clear the fits of the envs where ``mask`` is true (counts are already zero)."""

    @abstractmethod
    def _log_prob(self, observations: np.ndarray) -> np.ndarray:
        """Log-probabilities of checked ``(batch_size, num_variables)`` observations."""

    @abstractmethod
    def _update(self, observations: np.ndarray, mask: np.ndarray) -> None:
        """Fit the observations of the envs where ``mask`` is true (counts not yet increased)."""

    @abstractmethod
    def _statistics(self) -> np.ndarray:
        """``(batch_size, statistics_size)`` sufficient statistics."""

    # ------------------------------------------------------------------ internals
    def _check(self, observations: ArrayLike) -> np.ndarray:
        array = np.asarray(observations)
        if array.size != self.batch_size * self.num_variables:
            raise ValueError(
                f"expected {self.batch_size} observation(s) of {self.num_variables} values each "
                f"(batch_size, num_variables); got an array of shape {array.shape}"
            )
        return array.reshape(self.batch_size, self.num_variables)

    def _mask(self, mask: ArrayLike | None) -> np.ndarray:
        if mask is None:
            return np.ones(self.batch_size, dtype=bool)
        selected = np.asarray(mask, dtype=bool).reshape(-1)
        if selected.shape != (self.batch_size,):
            raise ValueError(
                f"expected a mask of {self.batch_size} booleans; got shape {np.shape(mask)}"
            )
        return selected


class CategoricalDensity(DensityModel):
    """An independent categorical distribution per variable, fitted by counting.

    Variable ``v`` takes integer values ``offsets[v] … offsets[v] + num_values[v] - 1``. After
    ``n`` observations ``p(o) = Π_v max(count_v(o_v) / n, floor)``; before any, every value of
    variable ``v`` has probability ``max(1 / num_values[v], floor)``. The floor is applied
    without renormalising, as a bound on the cost of one unseen value (``log floor``).

    For MiniGrid's symbolic view (``7 × 7 × 3``: object, colour and state index per cell) the
    variables are the 147 (cell, channel) entries with 11, 6 and 3 values (see
    ``teachgym.agents.adversarial_surprise.game.MiniGridAdapter``).

    The statistics are each variable's probability table before flooring (the frequencies, or
    uniform when empty), concatenated variable after variable: ``sum(num_values)`` entries in
    [0, 1] — for MiniGrid the same layout as a one-hot code of the view.

    Args:
        num_values: Values each variable takes (any shape; flattened), each at least 1.
        batch_size: Independent models held (one per env).
        floor: Lower bound on a probability, in (0, 1).
        offsets: Smallest value of each variable (broadcast to ``num_values``); default 0.

    Raises:
        ValueError: a value count below 1, a floor outside (0, 1), or offsets of the wrong shape.
    """

    def __init__(
        self,
        num_values: ArrayLike,
        batch_size: int = 1,
        floor: float = 1e-3,
        offsets: ArrayLike | None = None,
    ) -> None:
        sizes = np.asarray(num_values).reshape(-1)
        if sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer) or (sizes < 1).any():
            raise ValueError(
                f"num_values must be integers of at least 1 (one per variable); got {num_values!r}"
            )
        floor = check_real("floor", floor, low=0.0, high=1.0, low_open=True, high_open=True)
        super().__init__(sizes.size, batch_size)
        self.num_values = sizes.astype(np.int64)
        self.floor = floor
        given = np.asarray(0 if offsets is None else offsets)
        try:
            low = np.broadcast_to(given.reshape(-1) if given.ndim else given, sizes.shape)
        except ValueError:
            raise ValueError(
                f"offsets must broadcast to the {sizes.size} variables; got shape {given.shape}"
            ) from None
        self.offsets = low.astype(np.int64)
        max_values = int(self.num_values.max())
        # Tables are padded to the largest value set; `_valid` marks the real entries, in the
        # order statistics() returns them.
        self._valid = np.arange(max_values)[None, :] < self.num_values[:, None]
        self._table = np.zeros((self.batch_size, self.num_variables, max_values), dtype=np.int64)
        self._uniform = 1.0 / self.num_values
        self._log_uniform = np.log(np.maximum(self._uniform, self.floor))
        self._variable_index = np.arange(self.num_variables)
        self.statistics_size = int(self.num_values.sum())

    @classmethod
    def from_space(
        cls, space: spaces.Space[Any], batch_size: int = 1, floor: float = 1e-3
    ) -> CategoricalDensity:
        """A model of observations from ``space``: a ``Box`` of integers with finite bounds (one
        variable per entry, values ``low … high``), ``Discrete`` or ``MultiDiscrete``.

        Raises:
            ValueError: any other space.
        """
        if isinstance(space, spaces.Discrete):
            return cls([int(space.n)], batch_size, floor, offsets=[int(space.start)])
        if isinstance(space, spaces.MultiDiscrete):
            return cls(np.asarray(space.nvec), batch_size, floor, offsets=np.asarray(space.start))
        if (
            isinstance(space, spaces.Box)
            and np.issubdtype(space.dtype, np.integer)
            and space.is_bounded("both")
        ):
            low = np.asarray(space.low, dtype=np.int64)
            high = np.asarray(space.high, dtype=np.int64)
            return cls(high - low + 1, batch_size, floor, offsets=low)
        raise ValueError(
            "the categorical density model needs discrete observations: a Box of integers with "
            f"finite bounds, Discrete or MultiDiscrete; got {space}. Use 'gaussian' instead."
        )

    def _indices(self, observations: np.ndarray) -> np.ndarray:
        if not np.issubdtype(observations.dtype, np.integer):
            rounded = np.rint(observations)
            if not np.array_equal(rounded, observations):
                raise ValueError("categorical observations must be integers")
            observations = rounded.astype(np.int64)
        indices = observations.astype(np.int64) - self.offsets
        bad = (indices < 0) | (indices >= self.num_values)
        if bad.any():
            env, variable = (int(i) for i in np.argwhere(bad)[0])
            low = int(self.offsets[variable])
            high = low + int(self.num_values[variable]) - 1
            raise ValueError(
                f"observation value {int(observations[env, variable])} of variable {variable} "
                f"(env {env}) is outside its value set {low}…{high}"
            )
        return indices

    def _reset(self, mask: np.ndarray) -> None:
        self._table[mask] = 0

    def _log_prob(self, observations: np.ndarray) -> np.ndarray:
        indices = self._indices(observations)
        # counts of the observed value of each variable, (batch, variables)
        hits = np.take_along_axis(self._table, indices[:, :, None], axis=2)[:, :, 0]
        seen = self._counts > 0
        log_p = np.empty((self.batch_size, self.num_variables), dtype=np.float64)
        if seen.any():
            frequencies = hits[seen] / self._counts[seen, None]
            log_p[seen] = np.log(np.maximum(frequencies, self.floor))
        log_p[~seen] = self._log_uniform
        return log_p.sum(axis=1)

    def _update(self, observations: np.ndarray, mask: np.ndarray) -> None:
        indices = self._indices(observations)
        envs = np.flatnonzero(mask)
        self._table[envs[:, None], self._variable_index[None, :], indices[envs]] += 1

    def _statistics(self) -> np.ndarray:
        counts = np.maximum(self._counts, 1)[:, None, None]
        frequencies = self._table / counts
        empty = self._counts == 0
        if empty.any():
            frequencies[empty] = np.where(self._valid, self._uniform[:, None], 0.0)
        return frequencies[:, self._valid]


class GaussianDensity(DensityModel):
    """An independent Gaussian per variable (diagonal covariance), fitted by running moments.

    After ``n`` observations the mean and variance are the sample mean and the maximum-likelihood
    (population) variance, each standard deviation floored at ``min_std``; before any, the model
    is the standard normal ``N(0, 1)`` (floored too). The statistics are the means and the
    floored standard deviations, ``2 · num_variables`` values.

    Args:
        num_variables: Entries of one observation.
        batch_size: Independent models held (one per env).
        min_std: Lower bound on each standard deviation (> 0), so a variable seen once (or never
            changing) does not give an infinite density. Choose it at the observation's scale.

    Raises:
        ValueError: ``min_std`` not positive and finite.
    """

    def __init__(self, num_variables: int, batch_size: int = 1, min_std: float = 0.1) -> None:
        min_std = check_real("min_std", min_std, low=0.0, low_open=True)
        super().__init__(num_variables, batch_size)
        self.min_std = min_std
        self._mean = np.zeros((self.batch_size, self.num_variables), dtype=np.float64)
        self._sum_squares = np.zeros_like(self._mean)  # Welford's M2
        self.statistics_size = 2 * self.num_variables

    @classmethod
    def from_space(
        cls, space: spaces.Space[Any], batch_size: int = 1, min_std: float = 0.1
    ) -> GaussianDensity:
        """A model of observations from a ``Box`` space (one variable per entry).

        Raises:
            ValueError: any other space.
        """
        if not isinstance(space, spaces.Box):
            raise ValueError(f"the Gaussian density model needs a Box space; got {space}")
        return cls(int(np.prod(space.shape)), batch_size, min_std)

    def _std(self) -> np.ndarray:
        counts = self._counts[:, None]
        variance = np.where(counts > 0, self._sum_squares / np.maximum(counts, 1), 1.0)
        return np.maximum(np.sqrt(variance), self.min_std)

    def _reset(self, mask: np.ndarray) -> None:
        self._mean[mask] = 0.0
        self._sum_squares[mask] = 0.0

    def _log_prob(self, observations: np.ndarray) -> np.ndarray:
        values = observations.astype(np.float64)
        if not np.isfinite(values).all():
            raise ValueError("Gaussian observations must be finite")
        std = self._std()
        z = (values - self._mean) / std
        return (-0.5 * z * z - np.log(std) - 0.5 * _LOG_2PI).sum(axis=1)

    def _update(self, observations: np.ndarray, mask: np.ndarray) -> None:
        values = observations[mask].astype(np.float64)
        if not np.isfinite(values).all():
            raise ValueError("Gaussian observations must be finite")
        n = (self._counts[mask] + 1)[:, None]
        delta = values - self._mean[mask]
        self._mean[mask] += delta / n
        self._sum_squares[mask] += delta * (values - self._mean[mask])

    def _statistics(self) -> np.ndarray:
        return np.concatenate([self._mean, self._std()], axis=1)


DensityFactory = Callable[..., DensityModel]
"""Builds a model: ``factory(space, batch_size, **density_kwargs) -> DensityModel``."""

_FACTORIES: dict[str, DensityFactory] = {
    "categorical": CategoricalDensity.from_space,
    "gaussian": GaussianDensity.from_space,
}


def register_density_model(name: str, factory: DensityFactory, *, overwrite: bool = False) -> None:
    """Make ``factory`` available as ``density=name`` in ``AdversarialSurprise``.

    Args:
        name: The model's name.
        factory: ``factory(space, batch_size, **density_kwargs)``, where ``space`` is the space
            of what the model sees (see ``ObservationAdapter.model_space``).
        overwrite: Replace an existing name.

    Raises:
        ValueError: the name is taken (unless ``overwrite``) or empty, or ``factory`` is not
            callable.
    """
    key = str(name).strip().lower()
    if not key or key == "auto":
        raise ValueError(f"a density model name must be non-empty and not 'auto'; got {name!r}")
    if not callable(factory):
        raise ValueError(f"factory must be callable; got {factory!r}")
    if key in _FACTORIES and not overwrite:
        raise ValueError(f"density model {key!r} exists; pass overwrite=True to replace it")
    _FACTORIES[key] = factory


def available_density_models() -> list[str]:
    """Names ``make_density_model`` accepts (sorted)."""
    return sorted(_FACTORIES)


def make_density_model(
    name: str, space: spaces.Space[Any], batch_size: int = 1, **density_kwargs: Any
) -> DensityModel:
    """The density model ``name`` for observations from ``space``.

    Raises:
        ValueError: unknown name, a space the model cannot take, or bad keyword arguments.
    """
    key = str(name).strip().lower()
    if key not in _FACTORIES:
        raise ValueError(
            f"unknown density model {name!r}; expected one of {available_density_models()}"
        )
    try:
        return _FACTORIES[key](space, batch_size, **density_kwargs)
    except TypeError as error:
        raise ValueError(f"bad density_kwargs {density_kwargs} for {key!r}: {error}") from None
