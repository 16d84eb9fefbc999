"""Brain-Score's conventions on real files: target order, NaN splits, small OST splits, and the
ceiling convention named on every score (issue 14).

The same numbers as brainscore-vision 2.4.2 are checked side by side in
``tests/test_brainscore_parity.py`` (when its venv exists) and ``benchmarks/crosscheck_brainscore.py``;
these tests pin the conventions themselves, without the peer.
"""

import json
import math

import numpy as np
import pytest
import xarray as xr

from cornet_repro.assemblies import average_repetitions, neural_assembly
from cornet_repro.metrics import neural_predictivity, object_solution_times
from cornet_repro.metrics._util import cv_splits, pearson_columns
from cornet_repro.metrics.ceiling import internal_consistency
from cornet_repro.metrics.score import Score, ceil_score, median_over_neuroids, sem
from cornet_repro.metrics.synthetic import planted_ost_world
from cornet_repro.presets import PresetError, ScoreConfig
from cornet_repro.protocol import CONVENTIONS, conventions
from cornet_repro.scoring import ost_target


def _trials(rng, n_img=120, n_reps=4, n_sites=12):
    ids = np.array([f"img{i:04d}" for i in range(n_img)])
    objects = np.array([f"obj{i % 6}" for i in range(n_img)])
    mu = rng.normal(size=(n_img, n_sites))
    values = np.repeat(mu, n_reps, axis=0) + 0.5 * rng.normal(size=(n_img * n_reps, n_sites))
    trials = neural_assembly(values, stimulus_id=np.repeat(ids, n_reps), object_name=np.repeat(objects, n_reps),
                             repetition=np.tile(np.arange(n_reps), n_img),
                             neuroid_id=[f"s{i}" for i in range(n_sites)], region="IT")
    return trials, mu, ids, objects


def _with_leading_coord(trials, background):
    """The trials with a ``background_id`` coord placed first among the presentation coords."""
    coords = {"background_id": ("presentation", background)}
    coords.update({k: (trials[k].dims, trials[k].values) for k in trials.coords})
    return xr.DataArray(trials.values, dims=trials.dims, coords=coords)


def test_averaged_target_is_in_brainscores_order_whatever_the_file_order():
    rng = np.random.default_rng(0)
    trials, mu, ids, _ = _trials(rng)
    per_image = rng.integers(0, 5, size=len(ids))
    background = per_image[np.searchsorted(ids, trials["stimulus_id"].values)]
    trials = _with_leading_coord(trials, background)
    shuffled = trials.isel(presentation=rng.permutation(trials.sizes["presentation"]))

    a, b = average_repetitions(trials), average_repetitions(shuffled)
    # Brain-Score's multi_groupby sorts groups by the tuple of presentation coords, in coord order
    expected = sorted(zip(per_image.tolist(), ids.tolist()))
    assert list(zip(a["background_id"].values.tolist(), a["stimulus_id"].values.tolist())) == expected
    np.testing.assert_array_equal(a["stimulus_id"].values, b["stimulus_id"].values)
    np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12)

    # so the splits, and the score, do not depend on the order of the file's presentations
    features = mu @ rng.normal(size=(mu.shape[1], 40)) + rng.normal(size=(len(ids), 40))
    source = neural_assembly(features, stimulus_id=ids, neuroid_id=np.arange(40), region="model")
    s1 = neural_predictivity(source, a, n_components=5)
    s2 = neural_predictivity(source, b, n_components=5)
    assert s1.value == pytest.approx(s2.value, abs=1e-12)


def test_ost_target_is_sorted_by_stimulus_id_and_keeps_a_duplicates_first_entry():
    rng = np.random.default_rng(1)
    ids = np.array([f"im{i:03d}" for i in range(30)])
    rows = np.concatenate([rng.permutation(30), [4, 9]])
    values = np.arange(len(rows), dtype=float)
    kar = xr.DataArray(np.stack([values, -values], axis=1), dims=("presentation", "decoder"),
                       coords={"stimulus_id": ("presentation", ids[rows]), "image_label": ("presentation", ids[rows]),
                               "i1": ("presentation", np.ones(len(rows))), "decoder": ["svm", "logistic"]})
    target = ost_target(kar)
    assert target["stimulus_id"].values.tolist() == sorted(ids.tolist())
    first_row = {sid: i for i, sid in reversed(list(enumerate(ids[rows])))}
    assert target.values.tolist() == [values[first_row[sid]] for sid in sorted(ids.tolist())]


def test_a_nan_split_is_skipped_and_the_sem_divides_by_all_splits():
    per_neuroid = np.array([[0.5, 0.6, 0.7], [np.nan, np.nan, np.nan], [0.3, 0.4, np.nan], [0.8, 0.8, 0.8]])
    score = median_over_neuroids(per_neuroid, np.arange(3), "test")
    finite = np.array([0.6, 0.35, 0.8])
    assert score.value == pytest.approx(finite.mean())
    assert score.error == pytest.approx(finite.std() / math.sqrt(4))  # √ of all 4 splits, as Brain-Score
    assert score.details["nan_splits"] == 1
    assert sem(np.array([np.nan, np.nan])) != sem(np.array([np.nan, np.nan]))  # all NaN: NaN


def test_a_constant_column_has_no_correlation_even_after_rounding():
    rng = np.random.default_rng(2)
    y = np.full((7, 2), 0.1 + 0.2)  # equal values whose mean carries rounding residue
    y[:, 1] = rng.normal(size=7)
    r = pearson_columns(rng.normal(size=(7, 2)), y)
    assert np.isnan(r[0]) and np.isfinite(r[1])


def test_ost_splits_with_two_pairs_count_and_with_one_do_not():
    source, target = planted_ost_world(n_images=100, seed=3)
    splits = cv_splits(100, n_splits=10, test_size=0.1)
    monkey = np.array(target.values, dtype=float)
    monkey[splits[2][1][1:]] = np.nan  # split 2 keeps one image pair: undefined
    monkey[splits[5][1][2:]] = np.nan  # split 5 keeps two: Spearman is ±1
    score = object_solution_times(source, target.copy(data=monkey))
    per_split = np.array(score.details["per_split"])
    assert np.isnan(per_split[2]) and abs(per_split[5]) == pytest.approx(1.0)
    assert score.value == pytest.approx(np.nanmean(per_split))
    assert score.error == pytest.approx(np.nanstd(per_split) / math.sqrt(10))


def test_the_two_conventions_ceil_value_and_error_as_named():
    raw, ceiling = Score(0.6, 0.03), Score(0.8, 0.01)
    paper = conventions("paper-2019")
    today = conventions("brainscore-2.4")
    a = ceil_score(raw, ceiling, mode=paper.ceiling, error=paper.ceiled_error)
    b = ceil_score(raw, ceiling, mode=today.ceiling, error=today.ceiled_error)
    assert (a.value, a.error) == pytest.approx((0.75, 0.0375))
    assert (b.value, b.error) == pytest.approx((0.45, 0.03))  # r²/c, the raw error unchanged
    assert a.details["ceiled_error"] == "scaled" and b.details["ceiling_mode"] == "r2"
    assert "r/c" in paper.label and "2019" in paper.label and "r²/c" in today.label
    with pytest.raises(ValueError, match="paper-2019, brainscore-2.4"):
        conventions("brainscore")


def test_score_config_and_cli_know_the_same_conventions():
    from cornet_repro import cli

    assert set(cli._CONVENTION_CHOICES) == set(CONVENTIONS)
    assert ScoreConfig(conventions="brainscore-2.4").conventions == "brainscore-2.4"
    with pytest.raises(PresetError, match="score.conventions"):
        ScoreConfig(conventions="r2")


def test_ceiling_is_order_independent_and_skips_nan_splits():
    rng = np.random.default_rng(4)
    trials, *_ = _trials(rng, n_img=60)
    shuffled = trials.isel(presentation=rng.permutation(trials.sizes["presentation"]))
    a, b = internal_consistency(trials), internal_consistency(shuffled)
    assert a.value == pytest.approx(b.value, abs=1e-12)


def test_a_result_record_names_its_conventions(tmp_path):
    from cornet_repro.results import make_result, read_results, write_result
    from cornet_repro.scoring import ModelScores

    raw, ceiling = Score(0.5, 0.02), Score(0.81, 0.01)
    scored = ModelScores({"IT": ceil_score(raw, ceiling, mode="r2", error="unceiled")})
    record = make_result(scored, model_name="mine", model_config={}, preset="tiny", source="simulated", seed=0,
                         score_config={"conventions": "brainscore-2.4"})
    assert record["conventions"]["name"] == "brainscore-2.4" and record["conventions"]["ceiling"] == "r2"
    assert record["scores"]["IT"]["ceiling_mode"] == "r2" and record["scores"]["IT"]["ceiled_error"] == "unceiled"
    path = write_result(record, tmp_path)
    assert read_results(tmp_path)["conventions"].tolist() == ["brainscore-2.4"]
    # a record written before conventions existed was made under the paper's
    old = json.loads(path.read_text())
    del old["conventions"]
    path.write_text(json.dumps(old))
    assert read_results(tmp_path)["conventions"].tolist() == ["paper-2019"]


def test_the_conventions_table_reads_the_code(tmp_path):
    from cornet_repro.figures.score_conventions import cornet_s_readout, score_conventions
    from cornet_repro.models.time_mapping import CORNET_S_TIME_MAPPING, select_step

    readout = cornet_s_readout()
    t_it = select_step("IT", 70, 170, mapping=CORNET_S_TIME_MAPPING)
    assert f"`IT.output` at time step {t_it + 1} of {CORNET_S_TIME_MAPPING['IT'][2]}" in readout
    assert "`decoder.avgpool`" in readout
    table = score_conventions("small")
    assert table.loc[0, "ceiling"] == conventions("paper-2019").label
    # a book preset scored under Brain-Score 2.4's conventions says so
    (tmp_path / "mine.yaml").write_text("name: mine\nbase: small\nscore:\n  conventions: brainscore-2.4\n")
    assert score_conventions(str(tmp_path / "mine.yaml")).loc[1, "ceiling"] == conventions("brainscore-2.4").label


def test_fig4_deltas_are_taken_within_one_convention_only(tmp_path):
    from cornet_repro.figures.fig4_circuitry import load_circuitry_results
    from cornet_repro.results import make_result, write_result
    from cornet_repro.scoring import ModelScores

    def record(model, conv, value, folder):
        scored = ModelScores({"V4": Score(value), "IT": Score(value), "behavior": Score(value)},
                             {"fig4": Score(value, 0.01)})
        write_result(make_result(scored, model_name=model, model_config={}, preset="small", source="simulated",
                                 seed=0, validation_top1=0.5, score_config={"conventions": conv}), folder)

    same = tmp_path / "same"
    record("cornet_s", "brainscore-2.4", 0.4, same)
    record("cornet_s_skip_absent", "brainscore-2.4", 0.3, same)
    deltas = load_circuitry_results(same)
    assert set(deltas.conventions) == {"brainscore-2.4"}
    assert deltas.set_index("variant").delta_brain_score_pct.min() == pytest.approx(-25.0)
    mixed = tmp_path / "mixed"
    record("cornet_s", "paper-2019", 0.4, mixed)
    record("cornet_s_skip_absent", "brainscore-2.4", 0.3, mixed)
    with pytest.raises(ValueError, match="2 conventions"):
        load_circuitry_results(mixed)
