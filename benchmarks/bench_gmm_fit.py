"""One round of ALP-GMM's mixture fits (k = 2…10, 250 rows, AIC): stock scikit-learn vs ours.

    python benchmarks/bench_gmm_fit.py

The reference implementation refits nine stock ``GaussianMixture`` objects every 250 episodes;
``teachgym.teachers.gmm.fit_best_mixture`` runs the same EM through a batched subclass
(identical fits, see tests/teachers/test_gmm.py). Both are timed on the same rows with BLAS on
one thread.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from teachgym.teachers.gmm import fit_best_mixture


def toy_like_rows(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = np.column_stack([rng.random((250, 2)), np.abs(rng.normal(0, 0.05, 250))])
    rows[:100, 2] += 0.3
    return rows


def stock_round(rows: np.ndarray, seed: int) -> None:
    fits = [
        GaussianMixture(k, covariance_type="full", random_state=seed).fit(rows)
        for k in range(2, 11)
    ]
    min(fits, key=lambda g: g.aic(rows))


def main(rounds: int = 20) -> None:
    datasets = [toy_like_rows(seed) for seed in range(rounds)]
    with threadpool_limits(1):
        for name, run in [
            ("stock sklearn GaussianMixture", stock_round),
            (
                "teachgym fit_best_mixture",
                lambda rows, seed: fit_best_mixture(rows, range(2, 11), "aic", "kmeans", seed),
            ),
        ]:
            start = time.process_time()
            for seed, rows in enumerate(datasets):
                run(rows, seed)
            per_round = (time.process_time() - start) / rounds
            print(f"{name:>32}: {1000 * per_round:6.1f} ms CPU per round of 9 fits")


if __name__ == "__main__":
    main()
