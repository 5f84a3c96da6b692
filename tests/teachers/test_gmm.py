"""The batched mixture must fit exactly what scikit-learn's own GaussianMixture fits."""

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from teachgym.teachers.gmm import _BatchedGaussianMixture, fit_best_mixture


def _rows(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = np.column_stack([rng.random((250, 2)), np.abs(rng.normal(0, 0.05, 250))])
    rows[:80, 2] += 0.4 * rows[:80, 0]
    return rows


@pytest.mark.parametrize("init", ["kmeans", "k-means++"])
@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_batched_mixture_matches_sklearn(init, k):
    rows = _rows(k)
    ours = _BatchedGaussianMixture(k, covariance_type="full", init_params=init, random_state=7)
    stock = GaussianMixture(k, covariance_type="full", init_params=init, random_state=7)
    ours.fit(rows)
    stock.fit(rows)
    assert ours.n_iter_ == stock.n_iter_
    np.testing.assert_allclose(ours.weights_, stock.weights_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.means_, stock.means_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.covariances_, stock.covariances_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(ours.aic(rows), stock.aic(rows), rtol=1e-9)
    np.testing.assert_allclose(ours.information_criterion(rows, "aic"), stock.aic(rows), rtol=1e-9)
    np.testing.assert_allclose(ours.information_criterion(rows, "bic"), stock.bic(rows), rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(rows), stock.predict_proba(rows), atol=1e-8)


def test_fit_best_mixture_keeps_lowest_aic_and_finds_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.2, 0.2], [0.8, 0.3], [0.5, 0.9]])
    rows = np.concatenate([c + 0.02 * rng.standard_normal((80, 2)) for c in centres])
    best = fit_best_mixture(rows, range(2, 11), "aic", "kmeans", random_state=1)
    assert best is not None
    aics = {
        k: GaussianMixture(k, covariance_type="full", random_state=1).fit(rows).aic(rows)
        for k in range(2, 11)
    }
    assert len(best.weights) == min(aics, key=aics.get)
    found = best.means[np.argsort(best.means[:, 0])]
    assert len(best.weights) >= 3
    for centre in centres:
        assert np.min(np.linalg.norm(found - centre, axis=1)) < 0.05


def test_fit_best_mixture_skips_candidates_whose_fit_fails(monkeypatch):
    rows = np.zeros((20, 2))  # two points, ten copies each: no spread inside a cluster
    rows[10:] = 1.0
    best = fit_best_mixture(rows, range(2, 5), "bic", "kmeans", random_state=0)
    assert best is not None and len(best.weights) == 2  # reg_covar keeps the fit finite
    np.testing.assert_allclose(best.means[np.argsort(best.means[:, 0])], [[0, 0], [1, 1]])
    np.testing.assert_allclose(best.weights, [0.5, 0.5])

    fit = _BatchedGaussianMixture.fit
    failing: set[int] = set()

    def fit_or_fail(self, X, y=None):
        if self.n_components in failing:
            raise ValueError("Fitting the mixture model failed (degenerate covariance)")
        return fit(self, X, y)

    monkeypatch.setattr(_BatchedGaussianMixture, "fit", fit_or_fail)
    failing.add(2)  # the best candidate fails: the next best by BIC (3 components) is kept
    best = fit_best_mixture(rows, range(2, 5), "bic", "kmeans", random_state=0)
    assert best is not None and len(best.weights) == 3
    failing.update({3, 4})
    assert fit_best_mixture(rows, range(2, 5), "bic", "kmeans", random_state=0) is None
