"""Pictures (``teachgym.training.plots``), from synthetic data: no training needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from teachgym.spaces import ParamSpace
from teachgym.training.plots import (
    mean_confidence_band,
    plot_learning_curve,
    plot_mastery_curves,
    plot_mastery_map,
    plot_teacher_samples,
)

SPACE = ParamSpace(["stump_height", "obstacle_spacing"], [0.0, 0.0], [3.0, 6.0])


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("dim", [1, 2, 4])
def test_teacher_samples(tmp_path: Path, dim: int) -> None:
    space = SPACE if dim == 2 else ParamSpace.unit(dim)
    rng = np.random.default_rng(0)
    params = space.denormalize(rng.uniform(size=(300, dim)))
    mixture = {
        "weights": np.array([0.5, 0.5]),
        "means": np.array([[0.2, 0.3, 0.1], [0.7, 0.8, 0.4]]),
        "covariances": np.stack([np.diag([0.01, 0.02, 0.001])] * 2),
    }
    path = plot_teacher_samples(
        params, rng.uniform(size=300), space, tmp_path / "s.png", mixture=mixture
    )
    assert is_png(path)
    assert is_png(plot_teacher_samples(np.zeros((0, dim)), [], space, tmp_path / "empty.png"))


def test_learning_curve_and_mastery_map(tmp_path: Path) -> None:
    rows = [
        {"step": 0, "mastered_pct": 0.0, "mean_return": -50.0},
        {"step": 1000, "mastered_pct": 20.0, "mean_return": 100.0},
    ]
    steps = np.arange(1, 201) * 10
    path = plot_learning_curve(
        rows, tmp_path / "c.png", episode_steps=steps, episode_returns=np.sin(steps),
        mastery_threshold=230.0,
    )  # fmt: skip
    assert is_png(path)
    assert is_png(plot_learning_curve([], tmp_path / "none.png"))

    centres = (np.arange(10) + 0.5) / 10
    first, second = np.meshgrid(centres, centres, indexing="ij")
    tasks = SPACE.denormalize(np.stack([first.ravel(), second.ravel()], axis=1))
    returns = 300.0 - 100.0 * tasks[:, 0]  # easy at low stumps
    assert is_png(plot_mastery_map(tasks, returns, SPACE, 230.0, tmp_path / "m.png"))
    with pytest.raises(ValueError, match="square grid over a 2-D space"):
        plot_mastery_map(tasks[:50], returns[:50], SPACE, 230.0, tmp_path / "bad.png")


def test_confidence_band_and_comparison(tmp_path: Path) -> None:
    mean, low, high = mean_confidence_band([np.array([0.0, 10.0]), np.array([2.0, 14.0])])
    np.testing.assert_allclose(mean, [1.0, 12.0])
    # Two seeds: t(0.975, 1) = 12.706; sem = std / sqrt(2) = 1 and 2.
    np.testing.assert_allclose(high - mean, [12.706, 25.412], rtol=1e-3)
    np.testing.assert_allclose(mean - low, high - mean)
    single = mean_confidence_band([np.array([3.0, 4.0])])
    np.testing.assert_array_equal(single[1], single[2])

    steps = np.array([0, 500, 1000])
    curves = {
        "alp-gmm": [(steps, np.array([0, 10, 30])), (steps, np.array([0, 20, 40]))],
        "random": [(steps, np.array([0, 5, 10])), (steps + 2, np.array([0, 5, 12]))],
    }
    assert is_png(plot_mastery_curves(curves, tmp_path / "cmp.png"))
