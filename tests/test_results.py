"""Result records: train → score → record on the simulated data, the schema, the reader, Fig. 4/5 analyses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from cornet_repro import cli, results
from cornet_repro.data.brain import BrainData
from cornet_repro.figures.fig4_circuitry import circuitry_deltas
from cornet_repro.figures.fig5_ost import read_ost_pairs
from cornet_repro.metrics.score import Score
from cornet_repro.pipeline import score_run
from cornet_repro.presets import get_preset
from cornet_repro.results import make_result, read_result, read_results, write_result
from cornet_repro.scoring import Candidate, ModelScores, benchmarks_for, brain_score, score_model

TINY = get_preset("tiny")
pytestmark = pytest.mark.usefixtures("single_threaded")


@pytest.fixture(scope="module")
def brain(tmp_path_factory) -> BrainData:
    return BrainData.simulated(TINY.simulated, cache=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, brain) -> tuple[Path, dict, Path]:
    """Train and score the tiny CORnet-S (1 epoch) the way a notebook does."""
    from cornet_repro.pipeline import train_and_score

    tmp = tmp_path_factory.mktemp("pipeline")
    cache = Path(brain.description["directory"]).parents[1]
    threads = torch.get_num_threads()
    with threadpool_limits(1):
        result = train_and_score("tiny", tmp / "results", runs_dir=tmp / "runs", cache=cache,
                                 overrides={"train.epochs": 1, "train.progress": False, "train.threads": 1})
    torch.set_num_threads(threads)
    return tmp / "runs" / "tiny" / "cornet_s-seed0", result, cache


def test_train_and_score_writes_one_result_and_reads_back(tmp_path, trained):
    run, result, cache = trained
    assert result["schema_version"] == results.SCHEMA_VERSION
    assert (result["model"], result["model_name"], result["preset"], result["source"], result["seed"]) == \
           ("CORnet-S", "cornet_s", "tiny", "simulated", 0)
    for name in ("V4", "IT"):
        s = result["scores"][name]
        assert -0.5 < s["value"] < 1.5 and s["error"] >= 0 and 0 < s["ceiling"] < 1
        assert math.isclose(s["value"], s["raw"] / s["ceiling"])
    assert -0.5 < result["scores"]["behavior"]["value"] < 1.5 and 0 < result["scores"]["behavior"]["ceiling"] < 1
    assert result["scores"]["OST"]["ceiling"] == 0.79
    parts = [result["scores"][k]["value"] for k in ("V4", "IT", "behavior", "OST")]
    assert math.isclose(result["brain_score"]["value"], np.mean(parts))
    assert math.isclose(result["brain_score_fig4"]["value"], np.mean(parts[:3]))
    assert result["imagenet_top1"] is None and 0 <= result["validation_top1"] <= 1
    assert result["train"]["epochs"] == 1 and result["checkpoint_sha256"] and result["package_version"]
    assert result["data"]["config_digest"] == TINY.simulated.digest()
    results_dir = run.parents[2] / "results"
    # scoring the same checkpoint again replaces its file (the preset is recorded in the run)
    path = score_run(run, results_dir, cache=cache)
    assert len(list(results_dir.iterdir())) == 1 and read_result(path)["scores"]["V4"] == result["scores"]["V4"]
    table = read_results(results_dir)
    assert len(table) == 1 and table.loc[0, "source"] == "simulated"
    assert table.loc[0, "V4"] == result["scores"]["V4"]["value"]
    assert table.loc[0, "brain_score"] == result["brain_score"]["value"]
    pairs = read_ost_pairs(results_dir)
    assert len(pairs) == TINY.simulated.n_stimuli and pairs["monkey_ost_ms"].notna().mean() > 0.9
    # the command line does the same
    assert cli.main(["score", str(run), "--results-dir", str(tmp_path / "cli"), "--cache", str(cache)]) == 0
    assert len(read_results(tmp_path / "cli")) == 1


def test_feedforward_models_get_ost_zero_and_untrained_models_score_low(brain):
    from cornet_repro.models import get_model

    torch.manual_seed(0)
    config = {"width": 0.125, "image_size": 32, "num_classes": 16}
    model = get_model("cornet_s_steps_1_1_1", **config)
    candidate = Candidate.from_registry(model, "cornet_s_steps_1_1_1", config, image_size=32)
    scored = score_model(candidate, benchmarks_for(brain, ("IT", "OST")))
    assert set(scored.scores) == {"IT", "OST"}
    assert scored.scores["OST"].value == 0.0 and "feed-forward" in scored.scores["OST"].details["note"]
    assert "per_image" not in scored.scores["OST"].details and scored.composites == {}  # composites need V4, behavior
    # an untrained model predicts IT far below its ceiling
    assert scored.scores["IT"].value < 0.5 * scored.scores["IT"].ceiling.value
    record = make_result(scored, model_name="cornet_s_steps_1_1_1", model_config=config, preset="tiny",
                         source="simulated", seed=0)
    assert record["scores"]["OST"]["raw"] is None and record["ost_pairs"] is None and record["brain_score"] is None
    with pytest.raises(ValueError, match="unknown benchmarks"):
        benchmarks_for(brain, ("V1",))


def _fake(model_name: str, seed: int, top1: float, bs: float, ost_pairs=None, created="2026-01-01T00:00:00+00:00"):
    scores = {k: Score(bs, 0.01, ceiling=Score(0.7), unceiled=Score(bs * 0.7, 0.007)) for k in ("V4", "IT", "behavior")}
    scores["OST"] = Score(0.0, error_kind="none", ceiling=Score(0.79), details={"per_image": ost_pairs})
    composites = {variant: brain_score(scores, variant=variant) for variant in ("paper", "fig4")}
    result = make_result(ModelScores(scores, composites), model_name=model_name, model_config={"width": 0.125}, preset="tiny",
                         source="simulated", seed=seed, validation_top1=top1,
                         train_config={"data": "simulated", "simulated": {"n_categories": 4, "n_objects_per_category": 4}})
    result["created"] = created
    return result


def test_circuitry_deltas_against_the_cornet_s_baseline(tmp_path):
    for seed, (top1, bs) in enumerate([(0.50, 0.40), (0.60, 0.50)]):
        write_result(_fake("cornet_s", seed, top1, bs), tmp_path)
    write_result(_fake("cornet_s_skip_absent", 0, 0.45, 0.36), tmp_path)  # -10 % / -10 % vs seed 0
    write_result(_fake("cornet_s_skip_absent", 1, 0.48, 0.45), tmp_path)  # -20 % / -10 % vs seed 1
    table = read_results(tmp_path)
    assert set(table["fig4_variant"].dropna()) == {"absent"}
    deltas = circuitry_deltas(table).set_index(["group", "variant"])
    row = deltas.loc[("Skip connection", "absent")]
    assert math.isclose(row["delta_top1_pct"], -15.0) and math.isclose(row["delta_brain_score_pct"], -10.0)
    assert math.isclose(row["delta_top1_pct_sd"], np.std([-10, -20], ddof=1))
    assert row["n_seeds"] == 2 and row["source"] == "simulated" and row["top1_measure"] == "validation_top1"
    # the absolute values behind the deltas, and chance for the tiny world's 16 objects
    assert math.isclose(row["top1"], 0.465) and math.isclose(row["brain_score"], 0.405)
    assert math.isclose(row["baseline_top1"], 0.55) and math.isclose(row["baseline_top1_sd"], np.std([0.5, 0.6], ddof=1))
    assert math.isclose(row["baseline_brain_score"], 0.45) and math.isclose(row["chance_top1"], 1 / 16)
    # default rows are CORnet-S itself: zero delta on average
    assert abs(deltas.loc[("Skip connection", "present"), "delta_brain_score_pct"]) < 1e-9
    # joins the published table as the figure expects
    from cornet_repro.data import published
    from cornet_repro.figures.fig4_circuitry import circuitry_table

    joined = circuitry_table(published.load_circuitry_deltas(), deltas.reset_index())
    assert joined["recomputed_delta_brain_score_pct"].notna().sum() >= 2


def test_ost_pairs_come_from_the_newest_cornet_s_result(tmp_path):
    old = {"stimulus_id": ["a", "b"], "model_ost_ms": [100.0, None], "monkey_ost_ms": [110.0, 120.0]}
    new = {"stimulus_id": ["a", "b"], "model_ost_ms": [150.0, 160.0], "monkey_ost_ms": [110.0, 120.0]}
    write_result(_fake("cornet_s", 0, 0.5, 0.4, old, created="2026-01-01T00:00:00+00:00"), tmp_path)
    write_result(_fake("cornet_s", 1, 0.5, 0.4, new, created="2026-02-01T00:00:00+00:00"), tmp_path)
    pairs = read_ost_pairs(tmp_path)
    assert pairs["model_ost_ms"].tolist() == [150.0, 160.0] and set(pairs["seed"]) == {1}
    assert read_ost_pairs(tmp_path, model_name="cornet_z") is None


def test_bad_result_files_are_named(tmp_path):
    bad = tmp_path / "x.result.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="x.result.json: not valid JSON"):
        read_results(tmp_path)
    bad.write_text(json.dumps({"schema_version": 99, "model": "m", "model_name": "m", "preset": "tiny",
                               "source": "simulated", "seed": 0, "scores": {}}))
    with pytest.raises(ValueError, match="schema_version 99"):
        read_result(bad)
    with pytest.raises(ValueError, match="source must be"):
        make_result(ModelScores({}), model_name="m", model_config={}, preset="tiny", source="made-up", seed=0)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_results(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert read_results(empty).empty and "brain_score" in read_results(empty).columns
