"""Behaviour (I2n, I1): the generative model scores at the ceiling; d' rules on a hand example."""

import numpy as np
import pytest
from scipy.stats import norm

from cornet_repro.metrics.synthetic import two_afc_world
from cornet_repro.assemblies import AssemblyError, behavioral_assembly, probabilities_assembly
from cornet_repro.metrics import behavioral_ceiling, ceiled_i2n, i1, i2n, logistic_probabilities
from cornet_repro.metrics.behavior import (dprime_matrix, human_response_matrix, model_response_matrix,
                                           split_halves)


@pytest.fixture(scope="module")
def world():
    return two_afc_world(trials_per_pair=100)


def test_generative_model_scores_at_ceiling(world):
    trials, model, _ = world
    score = ceiled_i2n(model, trials)
    # r(model, half) ≈ sqrt(reliability of a half) and ceiling = r(half, half) ≈ reliability
    assert score.value == pytest.approx(1.0, abs=0.1)
    assert 0.3 < score.ceiling.value < 0.9


def test_noise_model_scores_near_zero(world):
    trials, model, _ = world
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(model.sizes["choice"]), size=model.sizes["presentation"])
    noise = model.copy(data=p)
    assert abs(i2n(noise, trials).value) < 0.15


def test_i1_of_generative_model_is_high(world):
    trials, model, _ = world
    assert i1(model, trials).value > 0.8


def test_halves_match_python_list_shuffle():
    # Brain-Score shuffles a Python list with RandomState(0); we shuffle an arange
    rs = np.random.RandomState(0)
    for h1, h2 in split_halves(101, repetitions=2):
        idx = list(range(101))
        rs.shuffle(idx)
        assert list(h1) == idx[:50] and list(h2) == idx[50:]


def test_dprime_false_alarm_rule_by_hand():
    # 3 objects, one image each; rate of choosing the distractor per (image, distractor)
    objects = np.array(["a", "b", "c"])
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.25, 0.25, 0.5]])
    model = probabilities_assembly(probs, stimulus_id=["i0", "i1", "i2"], choices=objects, truth=objects)
    rm = model_response_matrix(model)
    rate = lambda i, o: probs[i, o] / (probs[i, o] + probs[i, i])
    assert rm.values[0, 1] == pytest.approx(rate(0, 1))
    assert np.isnan(rm.values[0, 0])
    d = dprime_matrix(rm, normalize=False)
    # image of a with distractor b: hit = 1 − rate(a-image, b); FA = rate of choosing a on b-images
    expected = norm.ppf(1 - rate(0, 1)) - norm.ppf(rate(1, 0))
    assert d[0, 1] == pytest.approx(expected)
    # one image per object: subtracting the pair mean leaves zeros
    dn = dprime_matrix(rm, normalize=True)
    assert np.nanmax(np.abs(dn)) == pytest.approx(0.0)


def test_dprime_is_clipped():
    objects = np.array(["a", "b"])
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    rm = model_response_matrix(probabilities_assembly(probs, stimulus_id=["x", "y"], choices=objects, truth=objects))
    assert np.nanmax(dprime_matrix(rm, normalize=False)) == 5.0


def test_human_matrix_counts():
    trials = behavioral_assembly(
        ["a", "b", "a", "a", "c"], stimulus_id=["x"] * 5, truth=["a"] * 5,
        distractor=["b", "b", "b", "c", "c"])
    rm = human_response_matrix(trials)
    assert list(rm.objects) == ["a", "b", "c"]
    assert rm.values[0, 1] == pytest.approx(1 / 3)
    assert rm.values[0, 2] == pytest.approx(1 / 2)
    assert np.isnan(rm.values[0, 0])


def test_invalid_trials_are_rejected():
    with pytest.raises(AssemblyError, match="neither the truth nor the distractor"):
        behavioral_assembly(["z"], stimulus_id=["x"], truth=["a"], distractor=["b"])


def test_logistic_probabilities_shape_and_labels():
    rng = np.random.default_rng(0)
    labels = np.repeat(["a", "b", "c"], 30)
    centers = {"a": 0, "b": 3, "c": 6}
    X = rng.normal(size=(90, 5)) + np.array([centers[l] for l in labels])[:, None]
    p = logistic_probabilities(X, labels, X[:9], stimulus_id=[f"s{i}" for i in range(9)], truth=labels[:9])
    assert p.shape == (9, 3) and list(p["choice"].values) == ["a", "b", "c"]
    np.testing.assert_allclose(p.sum("choice"), 1.0)


def test_ceiling_is_reproducible(world):
    trials, _, _ = world
    a, b = behavioral_ceiling(trials), behavioral_ceiling(trials)
    assert a.value == b.value
