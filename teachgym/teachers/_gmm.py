"""Gaussian-mixture fitting shared by the GMM-based teachers (ALP-GMM, Covar-GMM).

Both teachers refit a batch of full-covariance mixtures (k = 2…10 components) every
``fit_rate`` episodes and keep the one with the lowest AIC (Portelas et al. 2019, §4).
scikit-learn's ``GaussianMixture`` runs EM, the k-means initialisation, the convergence
test and the AIC. On the teachers' tiny problems (250 rows, 3–14 columns) its per-component
Python loops cost far more than the arithmetic, so ``_BatchedGaussianMixture`` replaces the
three per-iteration hooks with the same formulas evaluated on all components at once
(batched ``numpy.linalg``). ``tests/test_gmm.py`` checks that it reproduces the stock class.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

_LOG_2PI = float(np.log(2.0 * np.pi))


class _BatchedGaussianMixture(GaussianMixture):
    """``GaussianMixture(covariance_type="full")`` with EM steps vectorised over components."""

    def _estimate_parameters(self, X: np.ndarray, resp: np.ndarray) -> None:
        # Same estimates as sklearn's _estimate_gaussian_parameters/_compute_precision_cholesky.
        nk = resp.sum(axis=0) + 10 * np.finfo(resp.dtype).eps
        means = (resp.T @ X) / nk[:, None]
        centred = X[None, :, :] - means[:, None, :]
        weighted = centred * resp.T[:, :, None]
        covariances = (weighted.transpose(0, 2, 1) @ centred) / nk[:, None, None]
        covariances += self.reg_covar * np.eye(X.shape[1])
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

    def _initialize(self, X, resp, xp=None):  # noqa: ANN001 - sklearn's signature
        self._estimate_parameters(X, resp)

    def _m_step(self, X, log_resp, xp=None):  # noqa: ANN001
        self._estimate_parameters(X, np.exp(log_resp))

    def _estimate_log_prob(self, X, xp=None):  # noqa: ANN001
        prec_chol = self.precisions_cholesky_
        log_det = np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
        projected = X @ prec_chol - self.means_[:, None, :] @ prec_chol
        mahalanobis = np.square(projected).sum(axis=2).T
        return -0.5 * (X.shape[1] * _LOG_2PI + mahalanobis) + log_det

    def _estimate_log_prob_resp(self, X, xp=None):  # noqa: ANN001
        weighted = self._estimate_log_prob(X) + np.log(self.weights_)
        peak = weighted.max(axis=1, keepdims=True)
        with np.errstate(under="ignore"):
            log_norm = peak[:, 0] + np.log(np.exp(weighted - peak).sum(axis=1))
        return log_norm, weighted - log_norm[:, None]
