"""Brain-Score composites, benchmark objects and the per-benchmark pipeline on synthetic data."""

import numpy as np
import pytest

from cornet_repro.assemblies import neural_assembly
from cornet_repro.metrics import Score
from cornet_repro.metrics.synthetic import repeated_population
from cornet_repro.scoring import (Candidate, NeuralBenchmark, OSTBenchmark, benchmarks_for, brain_score,
                                  neural_target, score_model, score_neural)


def test_paper_composite_is_the_mean_of_four():
    s = brain_score({"V4": 0.6499, "IT": 0.6003, "behavior": 0.382, "OST": 0.25}, variant="paper")
    assert s.value == pytest.approx((0.6499 + 0.6003 + 0.382 + 0.25) / 4)


def test_fig4_composite_leaves_ost_out():
    s = brain_score({"V4": 0.6, "IT": 0.6, "behavior": 0.3, "OST": 0.25}, variant="fig4")
    assert s.value == pytest.approx(0.5)


def test_composite_requires_explicit_variant_and_components():
    with pytest.raises(TypeError):
        brain_score({"V4": 0.5})  # variant is keyword-only and required
    with pytest.raises(KeyError, match="OST = 0"):
        brain_score({"V4": 0.6, "IT": 0.6, "behavior": 0.3}, variant="paper")
    with pytest.raises(KeyError, match="unknown component"):
        brain_score({"V1": 0.6}, variant="fig4")


def test_composite_matches_the_published_table():
    published = pytest.importorskip("cornet_repro.data.published")
    table = published.load_scores().dropna(subset=["V4", "IT", "behavior", "OST", "brain_score"])
    for row in table.itertuples():
        s = brain_score({"V4": row.V4, "IT": row.IT, "behavior": row.behavior, "OST": row.OST}, variant="paper")
        assert s.value == pytest.approx(row.brain_score, abs=1e-6), row.model


def test_error_propagation():
    s = brain_score({"V4": Score(0.5, 0.03), "IT": Score(0.5, 0.04), "behavior": Score(0.5, 0.0)}, variant="fig4")
    assert s.error == pytest.approx(0.05 / 3)


def test_score_neural_ceils_by_split_half_reliability():
    trials = repeated_population(n_stimuli=300, n_neuroids=20, n_reps=10, noise_sd=2.0)
    trials = trials.assign_coords(region=("neuroid", ["IT"] * 10 + ["V4"] * 10))
    target, _ = neural_target(trials, "IT", None)
    # a "model" that is the true stimulus means of the IT sites plus a little noise
    rng = np.random.default_rng(0)
    model = neural_assembly(target.values + 0.1 * rng.normal(size=target.shape),
                            stimulus_id=target["stimulus_id"].values, neuroid_id=np.arange(10))
    s = score_neural(model, trials, "IT", time_window=None, n_components=10, n_splits=3)
    assert s.unceiled.value < s.value
    assert s.ceiling.value == pytest.approx(1 / (1 + 4 / 10), abs=0.05)


class _FixedFeatures(Candidate):
    """A candidate whose 'IT' is given: the benchmark, not the candidate, decides what is scored."""

    def __init__(self, features, steps=1):
        super().__init__(model=None, layers={"IT": ["it"], "behavior": ["it"]})
        self.features, self.steps, self.calls = features, steps, []

    def region_features(self, stimuli, region, window):
        self.calls.append((region, tuple(window)))
        return self.features

    def time_steps(self, region):
        return self.steps


def _population():
    trials = repeated_population(n_stimuli=300, n_neuroids=20, n_reps=10, noise_sd=2.0)
    trials = trials.assign_coords(region=("neuroid", ["IT"] * 10 + ["V4"] * 10))
    target, _ = neural_target(trials, "IT", None)
    return trials, target


def test_a_benchmark_is_called_with_a_candidate_and_asks_for_its_window():
    trials, target = _population()
    rng = np.random.default_rng(0)
    good = neural_assembly(target.values + 0.1 * rng.normal(size=target.shape),
                           stimulus_id=target["stimulus_id"].values, neuroid_id=np.arange(10))
    noise = neural_assembly(rng.normal(size=target.shape), stimulus_id=target["stimulus_id"].values,
                            neuroid_id=np.arange(10))
    benchmark = NeuralBenchmark(trials, stimuli=None, region="IT", window=(70, 170))
    candidate = _FixedFeatures(good)
    score = benchmark(candidate)
    assert candidate.calls == [("IT", (70, 170))]
    # the ceiling is the target's split-half reliability, computed once and reused for every candidate
    assert benchmark(_FixedFeatures(noise)).ceiling is score.ceiling
    assert score.value > 0.8 and abs(benchmark(_FixedFeatures(noise)).value) < 0.2
    assert score.value == pytest.approx(score.unceiled.value / score.ceiling.value)


def test_score_model_computes_only_the_composites_it_can():
    trials, target = _population()
    noisy = target.values + 0.1 * np.random.default_rng(1).normal(size=target.shape)
    features = neural_assembly(noisy, stimulus_id=target["stimulus_id"].values, neuroid_id=np.arange(10))
    scored = score_model(_FixedFeatures(features), {"IT": NeuralBenchmark(trials, None, "IT")})
    assert list(scored.scores) == ["IT"] and scored.composites == {}


def test_ost_of_a_feedforward_candidate_is_zero_without_reading_it():
    import xarray as xr

    target = xr.DataArray([100.0, 120.0], dims=["presentation"],
                          coords={"stimulus_id": ("presentation", ["a", "b"]),
                                  "truth": ("presentation", ["x", "y"]), "i1": ("presentation", [1.0, 2.0])})
    candidate = _FixedFeatures(None, steps=1)
    score = OSTBenchmark(target, stimuli=None)(candidate)
    assert score.value == 0.0 and score.ceiling.value == 0.79 and "feed-forward" in score.details["note"]
    assert candidate.calls == []


def test_benchmarks_are_built_by_name_in_canonical_order():
    class Brain:
        neural = neural_stimuli = human = behavior_fitting_stimuli = behavior_test_stimuli = ost_stimuli = None
        behavior_fitting_ids = behavior_test_ids = ()
        ost = None

    with pytest.raises(ValueError, match=r"unknown benchmarks \['V1'\]"):
        benchmarks_for(Brain(), ["V1"])
    built = benchmarks_for(Brain(), ["behavior", "IT", "V4"])
    assert list(built) == ["V4", "IT", "behavior"]
    assert [b.identifier for b in built.values()] == ["MajajHong2015.V4-pls", "MajajHong2015.IT-pls",
                                                      "Rajalingham2018-i2n"]
    assert built["IT"].window == (70, 170)


def test_ost_target_prepares_kar2019_layout():
    import xarray as xr
    from cornet_repro.scoring import ost_target

    a = xr.DataArray(np.arange(6.0).reshape(3, 2), dims=["presentation", "decoder"],
                     coords={"image_id": ("presentation", ["a", "b", "a"]),
                             "image_label": ("presentation", ["x", "y", "x"]),
                             "i1": ("presentation", [1.0, 2.0, 1.0]), "decoder": ["svm", "other"]})
    t = ost_target(a)
    assert t.dims == ("presentation",) and list(t["stimulus_id"].values) == ["a", "b"]
    assert list(t["truth"].values) == ["x", "y"] and list(t.values) == [0.0, 2.0]
