"""Gaussian-mixture fitting shared by the GMM-based teachers (ALP-GMM, Covar-GMM).

Both teachers refit a batch of full-covariance mixtures (k = 2…10 components) every
``fit_rate`` episodes and keep the one with the lowest AIC (Portelas et al. 2019, §4).
scikit-learn's ``GaussianMixture`` runs EM, the k-means initialisation, the convergence
test and the AIC. On the teachers' tiny problems (250 rows, 3–14 columns) its per-component
Python loops cost far more than the arithmetic, so ``_BatchedGaussianMixture`` replaces the
three per-iteration hooks with the same formulas evaluated on all components at once
(batched ``numpy.linalg``). ``tests/teachers/test_gmm.py`` checks that it reproduces the stock
class.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from scipy.special import ndtri
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from teachgym.checks import check_choice, check_int, check_optional_int, check_probability
from teachgym.spaces import ParamSpace
from teachgym.teachers.base import Teacher

_LOG_2PI = float(np.log(2.0 * np.pi))
#: Lower clamp of the uniform values turned into normal noise (``ndtri(0)`` is ``-inf``).
_SMALLEST_UNIFORM = 2.0**-54


class _BatchedGaussianMixture(GaussianMixture):
    """``GaussianMixture(covariance_type="full")`` with EM steps vectorised over components."""

    def _estimate_parameters(self, X: np.ndarray, resp: np.ndarray) -> None:
        # Same estimates as sklearn's _estimate_gaussian_parameters/_compute_precision_cholesky,
        # with covariances from second moments: E[x xᵀ] − μ μᵀ, where the per-row outer
        # products x xᵀ are computed once per fit and reused by every EM iteration.
        n_features = X.shape[1]
        nk = resp.sum(axis=0) + 10 * np.finfo(resp.dtype).eps
        means = (resp.T @ X) / nk[:, None]
        second_moments = (resp.T @ self._row_outer_products(X)) / nk[:, None]
        covariances = second_moments.reshape(-1, n_features, n_features)
        covariances -= means[:, :, None] * means[:, None, :]
        covariances += self.reg_covar * np.eye(n_features)
        try:
            cov_chol = np.linalg.cholesky(covariances)
        except np.linalg.LinAlgError as error:
            raise ValueError(
                "Fitting the mixture model failed because some components have "
                "ill-defined empirical covariance; increase reg_covar or use fewer components."
            ) from error
        self.weights_ = nk / nk.sum()
        self.means_ = means
        self.covariances_ = covariances
        self.precisions_cholesky_ = np.linalg.inv(cov_chol).transpose(0, 2, 1)

    def _row_outer_products(self, X: np.ndarray) -> np.ndarray:
        cached = getattr(self, "_outer_cache", None)
        if cached is None or cached[0] is not X:
            outer = (X[:, :, None] * X[:, None, :]).reshape(len(X), -1)
            cached = self._outer_cache = (X, outer)
        return cached[1]

    def _initialize(self, X, resp, xp=None):
        self._estimate_parameters(X, resp)

    def _m_step(self, X, log_resp, xp=None):
        self._estimate_parameters(X, np.exp(log_resp))

    # The hooks below work on (components, samples) arrays and hand sklearn transposed views:
    # reductions over the few components are then fast row-wise operations.
    def _estimate_log_prob(self, X, xp=None):
        prec_chol = self.precisions_cholesky_
        n_components, n_features, _ = prec_chol.shape
        log_det = np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
        # One (k·d, d) × (d, n) product projects the rows through every component at once.
        stacked = prec_chol.transpose(0, 2, 1).reshape(-1, n_features)
        projected = (stacked @ X.T).reshape(n_components, n_features, len(X))
        projected -= (self.means_[:, None, :] @ prec_chol).transpose(0, 2, 1)
        mahalanobis = np.square(projected).sum(axis=1)
        log_prob = -0.5 * (n_features * _LOG_2PI + mahalanobis) + log_det[:, None]
        return log_prob.T

    def information_criterion(self, X: np.ndarray, criterion: str) -> float:
        """AIC or BIC, as ``aic()``/``bic()`` compute them, without re-validating ``X``."""
        log_likelihood = float(self._estimate_log_prob_resp(X)[0].sum())
        penalty = 2.0 if criterion == "aic" else float(np.log(X.shape[0]))
        return -2.0 * log_likelihood + penalty * self._n_parameters()

    def _estimate_log_prob_resp(self, X, xp=None):
        weighted = self._estimate_log_prob(X).T + np.log(self.weights_)[:, None]
        peak = weighted.max(axis=0)
        with np.errstate(under="ignore"):
            log_norm = peak + np.log(np.exp(weighted - peak).sum(axis=0))
        return log_norm, (weighted - log_norm).T


_CRITERIA = ("aic", "bic")
_INITS = ("kmeans", "k-means++", "random", "random_from_data")


@dataclass
class MixtureFit:
    """A fitted mixture as plain arrays (what the GMM teachers keep and save)."""

    weights: np.ndarray  # (k,)
    means: np.ndarray  # (k, n_columns)
    covariances: np.ndarray  # (k, n_columns, n_columns)

    def to_state(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "means": self.means, "covariances": self.covariances}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], n_columns: int) -> MixtureFit:
        fit = cls(
            np.asarray(state["weights"], dtype=np.float64),
            np.asarray(state["means"], dtype=np.float64),
            np.asarray(state["covariances"], dtype=np.float64),
        )
        k = len(fit.weights)
        if fit.means.shape != (k, n_columns) or fit.covariances.shape != (k, n_columns, n_columns):
            raise ValueError(
                f"saved mixture has means {fit.means.shape} and covariances "
                f"{fit.covariances.shape}; expected ({k}, {n_columns}) and "
                f"({k}, {n_columns}, {n_columns})"
            )
        return fit


class GMMFitWarning(UserWarning):
    """Every candidate mixture of a refit failed; the teacher kept its previous mixture."""


def fit_best_mixture(
    rows: np.ndarray,
    component_counts: range,
    criterion: str,
    init: str,
    random_state: int,
) -> MixtureFit | None:
    """Fit one full-covariance mixture per component count; return the lowest-AIC/BIC one.

    Candidates whose fit fails (degenerate covariance) are skipped; ``None`` if all fail.
    BLAS is pinned to one thread: on 2 cores, multithreaded fits of these tiny matrices were
    ~40× slower (``docs/design.md``, "Teachers").
    """
    best: GaussianMixture | None = None
    best_score = np.inf
    # The rows are built by the teacher (finite by construction), so sklearn's per-call
    # input and parameter validation is skipped: on 250-row fits it is a third of the cost.
    with (
        _single_thread(),
        warnings.catch_warnings(),
        config_context(assume_finite=True, skip_parameter_validation=True),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in component_counts:
            if k > len(rows):
                break
            mixture = _BatchedGaussianMixture(
                n_components=k, covariance_type="full", init_params=init, random_state=random_state
            )
            try:
                mixture.fit(rows)
            except ValueError:
                continue
            score = mixture.information_criterion(rows, criterion)
            if score < best_score:
                best, best_score = mixture, score
    if best is None:
        return None
    return MixtureFit(best.weights_.copy(), best.means_.copy(), best.covariances_.copy())


_controller: object | None = None


def _single_thread():
    # Introspecting the loaded BLAS libraries costs milliseconds; do it once per process.
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1)  # type: ignore[attr-defined]


class GMMTeacher(Teacher):
    """The schedule ALP-GMM and Covar-GMM share (Portelas et al. 2019, §4).

    ``bootstrap_episodes`` uniform episodes; then, every ``fit_rate`` updates, a mixture is
    fitted on rows built by the subclass from the last ``fit_rate`` episodes, the first
    ``param_space.dim`` columns being the parameters normalised to [0, 1]. Each sample is
    uniform with probability ``random_ratio``; otherwise a component is chosen in proportion
    to the subclass's per-component *interest* (uniformly if none is positive), a point is
    drawn from its Gaussian, the extra columns are dropped, and the result is clipped.

    Subclasses implement ``_record`` (store one episode), ``_fit_rows`` and ``_interest``. A
    subclass lists these hyperparameters in its own signature (that is where
    ``hyperparameters`` reads them) and passes them on to this constructor, which checks and
    stores them, as scikit-learn's mixtures do with their base class.

    Args:
        param_space: The parameter space.
        seed: Seed of ``self.rng`` (uniform draws, component choice, mixture initialisation).
        fit_rate: Episodes between two mixture fits; each fit uses the last ``fit_rate`` rows.
        bootstrap_episodes: Uniform episodes before the first fit (default: ``fit_rate``).
        random_ratio: Probability of a uniform sample after the bootstrap.
        min_components: Smallest number of Gaussians tried at each fit.
        max_components: Largest number of Gaussians tried at each fit.
        criterion: ``"aic"`` (paper) or ``"bic"``: which fitted mixture is kept.
        gmm_init: scikit-learn's ``init_params`` for each fit (``"kmeans"`` as in the paper).
    """

    def __init__(
        self,
        param_space: ParamSpace | spaces.Box,
        *,
        seed: int | None = None,
        fit_rate: int = 250,
        bootstrap_episodes: int | None = None,
        random_ratio: float = 0.2,
        min_components: int = 2,
        max_components: int = 10,
        criterion: str = "aic",
        gmm_init: str = "kmeans",
    ) -> None:
        super().__init__(param_space, seed=seed)
        self.fit_rate = check_int("fit_rate", fit_rate, minimum=2)
        bootstrap_episodes = check_optional_int("bootstrap_episodes", bootstrap_episodes, minimum=0)
        self.bootstrap_episodes = (
            self.fit_rate if bootstrap_episodes is None else bootstrap_episodes
        )
        self.random_ratio = check_probability("random_ratio", random_ratio)
        self.min_components = check_int("min_components", min_components, minimum=1)
        self.max_components = check_int("max_components", max_components, minimum=1)
        if not self.min_components <= self.max_components <= self.fit_rate:
            raise ValueError(
                "need 1 ≤ min_components ≤ max_components ≤ fit_rate; got "
                f"{min_components}, {max_components}, {fit_rate}"
            )
        self.criterion = check_choice("criterion", criterion, _CRITERIA)
        self.gmm_init = check_choice("gmm_init", gmm_init, _INITS)
        self.mixture: MixtureFit | None = None
        self.n_fits = 0
        #: Refits at which every candidate mixture failed (the previous mixture was kept).
        self.failed_fits = 0
        # Derived from ``mixture`` by _prepare_sampling (never saved).
        self._interest_cdf = np.empty(0)
        self._param_means = np.empty((0, self.param_space.dim))
        self._param_cholesky = np.empty((0, self.param_space.dim, self.param_space.dim))

    # ------------------------------------------------------------------ subclass hooks
    @abstractmethod
    def _record(self, unit_params: np.ndarray, score: float) -> None:
        """Store one episode (params already normalised to [0, 1])."""

    @abstractmethod
    def _fit_rows(self) -> np.ndarray:
        """Rows to fit: the last ``fit_rate`` episodes, parameter columns first."""

    @abstractmethod
    def _interest(self, mixture: MixtureFit) -> np.ndarray:
        """Per-component sampling interest (learning progress); negatives count as 0."""

    def _record_many(self, unit_params: np.ndarray, scores: np.ndarray) -> None:
        """Store a block of episodes, as ``_record`` on each row in order would.

        ``update_batch`` never hands over a block that crosses a fit. Subclasses override
        this with a vectorised version; the default loops.
        """
        for unit, score in zip(unit_params, scores, strict=True):
            self._record(unit, float(score))

    # ------------------------------------------------------------------ Teacher hooks
    def _sample(self) -> np.ndarray:
        return self._draw(1)[0]

    def _sample_batch(self, n: int) -> np.ndarray:
        """``n`` samples at once, equal to ``n`` calls of ``_sample``.

        The mixture and the bootstrap phase change only in ``update``, so all rows of one
        batch are drawn from the same distribution; no refit can fall inside a batch.
        """
        return self._draw(n)

    def _draw(self, n: int) -> np.ndarray:
        """``n`` samples; the one-row and many-row calls share this code, so they agree.

        Each sample after the bootstrap consumes exactly ``dim + 2`` doubles of ``self.rng``
        (uniform-or-mixture choice, component, then ``dim`` values used as the uniform sample or,
        through the inverse normal CDF, as the Gaussian noise), so one ``(n, dim + 2)`` draw reads
        the stream as ``n`` single draws do. NumPy's ``standard_normal`` (ziggurat) consumes a
        variable number of values per draw, which would tie each row to the draws before it.
        """
        dim = self.param_space.dim
        if self.n_updates < self.bootstrap_episodes or self.mixture is None:
            return self.param_space.sample_many(self.rng, n)
        draws = self.rng.random((n, dim + 2))
        uniform = draws[:, 0] < self.random_ratio
        component = np.searchsorted(self._interest_cdf, draws[:, 1], side="right")
        component = np.minimum(component, len(self._interest_cdf) - 1)
        values = draws[:, 2:]
        # random() returns k·2⁻⁵³ with k ≥ 0: keep 0 off the CDF's -inf end.
        noise = ndtri(np.maximum(values, _SMALLEST_UNIFORM))
        cholesky = self._param_cholesky[component]
        unit = self._param_means[component]
        # Column by column (elementwise products and sums only), so a row's value does not
        # depend on how many rows are computed with it, as a batched matmul's could.
        for column in range(dim):
            unit = unit + cholesky[:, :, column] * noise[:, column, None]
        unit = np.where(uniform[:, None], values, unit)
        # Gaussian draws can leave the unit cube: clip here, as the paper's ALP-GMM does.
        return self.param_space.clip(self.param_space.denormalize(unit))

    def _update(self, params: np.ndarray, score: float) -> None:
        self._record(self.param_space.normalize(params), score)
        episodes = self.n_updates + 1  # the base class counts this update after we return
        if episodes >= self.bootstrap_episodes and episodes % self.fit_rate == 0:
            self._refit()

    def _update_batch(self, params: np.ndarray, scores: np.ndarray) -> None:
        """Record the episodes in blocks that end at each fit, and fit there, so fits happen at
        the same episode counts, on the same rows and with the same generator state as under
        one ``update`` per row."""
        unit_params = self.param_space.normalize(params)
        first = self.n_updates
        done = 0
        while done < len(scores):
            next_fit = self._next_fit_after(first + done)
            stop = min(len(scores), done + next_fit - (first + done))
            self._record_many(unit_params[done:stop], scores[done:stop])
            done = stop
            if first + done == next_fit:
                self._refit()

    def _next_fit_after(self, episodes: int) -> int:
        """The first episode count above ``episodes`` at which ``_update`` refits."""
        candidate = max(episodes + 1, self.bootstrap_episodes)
        return -(-candidate // self.fit_rate) * self.fit_rate

    def _refit(self) -> None:
        random_state = int(self.rng.integers(2**31 - 1))
        component_counts = range(self.min_components, self.max_components + 1)
        mixture = fit_best_mixture(
            self._fit_rows(), component_counts, self.criterion, self.gmm_init, random_state
        )
        if mixture is not None:
            self.mixture = mixture
            self._prepare_sampling()
        else:
            self.failed_fits += 1
            if self.failed_fits == 1:  # once per teacher; the metric counts every one
                kept = "the previous mixture" if self.mixture is not None else "uniform sampling"
                warnings.warn(
                    f"{type(self).__name__}: every candidate mixture "
                    f"({self.min_components}–{self.max_components} components) failed to fit "
                    f"the last {len(self._fit_rows())} episodes (degenerate covariances); "
                    f"keeping {kept}. Counted in metrics()['failed_fits'] (teacher/failed_fits).",
                    GMMFitWarning,
                    stacklevel=4,
                )
        self.n_fits += 1

    def _prepare_sampling(self) -> None:
        assert self.mixture is not None
        dim = self.param_space.dim
        interest = np.clip(np.nan_to_num(self._interest(self.mixture)), 0.0, None)
        if interest.sum() <= 0:
            interest = np.ones_like(interest)
        self._interest_cdf = np.cumsum(interest) / interest.sum()
        # Drawing the full Gaussian and dropping the extra columns equals drawing from the
        # parameter marginal, whose Cholesky factor is computed once per fit.
        self._param_means = self.mixture.means[:, :dim].copy()
        marginal = self.mixture.covariances[:, :dim, :dim]
        self._param_cholesky = np.linalg.cholesky(marginal)

    # ------------------------------------------------------------------ state
    def _gmm_state(self) -> dict[str, Any]:
        return {
            "n_fits": self.n_fits,
            "failed_fits": self.failed_fits,
            "mixture": None if self.mixture is None else self.mixture.to_state(),
        }

    def _load_gmm_state(self, state: dict[str, Any], n_columns: int) -> None:
        mixture = state["mixture"]
        self.mixture = None if mixture is None else MixtureFit.from_state(mixture, n_columns)
        self.n_fits = int(state["n_fits"])
        self.failed_fits = int(state.get("failed_fits", 0))  # absent from older states
        if self.mixture is not None:
            self._prepare_sampling()

    def _metrics(self) -> dict[str, float]:
        return {
            "n_components": float(0 if self.mixture is None else len(self.mixture.weights)),
            "n_fits": float(self.n_fits),
            "failed_fits": float(self.failed_fits),
        }
