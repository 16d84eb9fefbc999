"""Brain-Score composites and the per-benchmark pipeline on synthetic data."""

import numpy as np
import pytest

from cornet_repro.assemblies import neural_assembly
from cornet_repro.metrics import Score
from cornet_repro.metrics.synthetic import repeated_population
from cornet_repro.scoring import BENCHMARKS, brain_score, neural_target, score_neural


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
    table = published.load_scores().dropna(subset=["v4", "it", "behavior", "ost", "brain_score"])
    for row in table.itertuples():
        s = brain_score({"V4": row.v4, "IT": row.it, "behavior": row.behavior, "OST": row.ost}, variant="paper")
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


def test_benchmark_table():
    assert BENCHMARKS["MajajHong2015.IT-pls"].time_window == (70, 170)
    assert BENCHMARKS["Kar2019-ost"].region == "IT"


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
