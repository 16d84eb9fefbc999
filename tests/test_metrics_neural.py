"""Neural predictivity: our kernel PLS equals scikit-learn's; known-answer predictivity."""

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression

from cornet_repro.metrics.synthetic import linear_population
from cornet_repro.assemblies import AssemblyError
from cornet_repro.metrics import KernelPLSRegression, neural_predictivity
from cornet_repro.metrics._util import cv_splits
from cornet_repro.metrics.neural import cross_validated_correlations, gram_matrix, _split_gram


@pytest.mark.parametrize("n,p,q,k", [(80, 300, 6, 25), (60, 40, 1, 10), (120, 500, 20, 25), (50, 12, 5, 12)])
def test_kernel_pls_equals_sklearn(n, p, q, k):
    rng = np.random.default_rng(n + p)
    X = rng.normal(size=(n, p)) + rng.uniform(0, 5, size=p)  # non-centered, like ReLU features
    Y = X[:, :5] @ rng.normal(size=(5, q)) + rng.normal(size=(n, q))
    X_test = rng.normal(size=(15, p)) + 2
    ours = KernelPLSRegression(n_components=k).fit(X, Y).predict(X_test)
    theirs = PLSRegression(n_components=k, scale=False).fit(X, Y).predict(X_test)
    np.testing.assert_allclose(ours, theirs.reshape(ours.shape), atol=1e-6, rtol=0)


def test_split_gram_is_training_centered():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 7)) + 3
    train, test = np.arange(20), np.arange(20, 30)
    K_tr, K_te = _split_gram(gram_matrix(X), train, test)
    mean = X[train].mean(axis=0)
    np.testing.assert_allclose(K_tr, (X[train] - mean) @ (X[train] - mean).T, atol=1e-10)
    np.testing.assert_allclose(K_te, (X[test] - mean) @ (X[train] - mean).T, atol=1e-10)


def test_cross_validation_matches_sklearn_path():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 400))
    Y = X[:, :30] @ rng.normal(size=(30, 12)) + 3 * rng.normal(size=(200, 12))
    splits = cv_splits(200, n_splits=3, stratify=np.repeat(np.arange(8), 25))
    ours = cross_validated_correlations(X, Y, splits, regression="kernel")
    theirs = cross_validated_correlations(X, Y, splits, regression="sklearn")
    np.testing.assert_allclose(ours, theirs, atol=1e-8)


def test_predictivity_matches_analytic_expectation():
    # Y = X W + noise with unit signal variance: the true map's held-out r is 1/sqrt(1 + sd²).
    # With as many PLS components as features PLS is least squares, which with 1,080 training
    # images for 10 features loses almost nothing (~p/n in variance).
    for noise_sd in (0.5, 1.0, 2.0):
        source, target = linear_population(noise_sd=noise_sd)
        score = neural_predictivity(source, target, n_components=10)
        expected = 1 / np.sqrt(1 + noise_sd ** 2)
        assert score.value == pytest.approx(expected, abs=0.02)
        assert 0 < score.error < 0.02
        assert score.raw.shape == (10, 30)


def test_predictivity_of_noise_is_near_zero():
    source, target = linear_population(noise_sd=1.0, seed=3)
    shuffled = source.copy(data=np.random.default_rng(0).permutation(source.values))
    assert abs(neural_predictivity(shuffled, target, n_components=10).value) < 0.08


def test_source_is_aligned_by_stimulus_id():
    source, target = linear_population(n_stimuli=400)
    a = neural_predictivity(source, target, n_components=10, n_splits=3)
    b = neural_predictivity(source.isel(presentation=np.arange(400)[::-1]), target, n_components=10, n_splits=3)
    assert a.value == pytest.approx(b.value, abs=1e-9)


def test_bad_inputs_name_the_problem():
    source, target = linear_population(n_stimuli=200)
    with pytest.raises(AssemblyError, match="object_name"):
        neural_predictivity(source, target.drop_vars("object_name"))
    with pytest.raises(AssemblyError, match="lacks 100 of the 200 stimuli"):
        neural_predictivity(source.isel(presentation=slice(0, 100)), target)
    repeated = target.isel(presentation=np.r_[np.arange(200), np.arange(10)])
    with pytest.raises(AssemblyError, match="average repetitions"):
        neural_predictivity(source, repeated)
    with pytest.raises(AssemblyError, match="missing dim"):
        neural_predictivity(source.rename(neuroid="unit"), target)
