"""CIFAR-100 transfer readout on small synthetic data."""

import numpy as np
import pytest

from cornet_repro.metrics import linear_transfer
from cornet_repro.data.cifar100 import load_cifar100
from cornet_repro.metrics.transfer import C_GRID


def _clusters(n, k=5, d=8, sep=2.0, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * sep
    y = rng.integers(0, k, size=n)
    return centers[y] + rng.normal(size=(n, d)), y


def test_grid_is_the_papers():
    assert len(C_GRID) == 10
    assert C_GRID[0] == pytest.approx(0.0005) and C_GRID[-1] == pytest.approx(0.05)


def test_separable_data_is_learned():
    X, y = _clusters(700, seed=0)
    train, test = slice(0, 500), slice(500, 700)
    score = linear_transfer(X[train], y[train], X[test], y[test], n_search_train=400,
                            C_grid=np.logspace(-3, 1, 5))
    assert score.value > 0.8
    assert score.details["best_C"] in np.logspace(-3, 1, 5)


def test_random_labels_are_at_chance():
    X, _ = _clusters(800)
    Xt, X = X[400:], X[:400]
    y = np.random.default_rng(5).integers(0, 4, size=400)
    yt = np.random.default_rng(6).integers(0, 4, size=400)
    assert linear_transfer(X, y, Xt, yt, n_search_train=300).value < 0.4


def test_bad_sizes():
    X, y = _clusters(50)
    with pytest.raises(ValueError, match="n_search_train"):
        linear_transfer(X, y, X, y, n_search_train=50)


def test_offline_cifar_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-100-python"):
        load_cifar100(tmp_path, download=False)
