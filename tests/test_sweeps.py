"""Sweeps: models x seeds trained and scored here or through submitit, shipped, and checked live."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cornet_repro import cli
from cornet_repro.data import shipped as shipped_module
from cornet_repro.figures.fig4_circuitry import live_check, load_circuitry_results
from cornet_repro.presets import get_preset
from cornet_repro.results import read_results
from cornet_repro.stats import mean_ci
from cornet_repro.sweeps import SweepError, run_sweep, ship

pytestmark = pytest.mark.usefixtures("single_threaded")

# seconds per run: 1 epoch of 64 images; scored without OST
FAST = {"train.epochs": 1, "train.n_train": 64, "train.n_val": 32, "train.progress": False, "train.threads": 1,
        "score.benchmarks": ["V4", "IT", "behavior"], "score.composite": "fig4"}


@pytest.fixture
def preset():
    return get_preset("tiny", FAST)


def test_mean_ci_is_the_student_t_interval():
    mean, low, high = mean_ci([1.0, 2.0, 3.0])
    half = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)
    assert (mean, low, high) == pytest.approx((2.0, 2.0 - half, 2.0 + half))
    assert mean_ci([4.0, np.nan])[0] == 4.0 and np.isnan(mean_ci([4.0])[1])  # one seed: no interval
    assert mean_ci([1.0, 2.0, 3.0], confidence=0.5)[2] < high


def test_a_sweep_trains_scores_ships_and_is_checked_live(tmp_path, preset, monkeypatch):
    results, runs = tmp_path / "results", tmp_path / "runs"
    outcomes = run_sweep(preset, ["cornet_s", "cornet_s_steps_1_1_1"], [0, 1], results, runs, log=lambda _: None,
                         ost_models=())
    assert sorted((o.model, o.seed) for o in outcomes) == [("cornet_s", 0), ("cornet_s", 1),
                                                           ("cornet_s_steps_1_1_1", 0), ("cornet_s_steps_1_1_1", 1)]
    assert all(Path(o.result).is_file() for o in outcomes)
    table = read_results(results)
    assert len(table) == 4 and set(table.preset) == {"tiny"} and table.V4.notna().all()
    # again: finished runs are scored, not retrained
    model_file = runs / "tiny" / "cornet_s-seed0" / "model.pt"
    before = model_file.stat().st_mtime_ns
    run_sweep(preset, ["cornet_s"], [0], results, runs, log=lambda _: None, ost_models=())
    assert model_file.stat().st_mtime_ns == before

    monkeypatch.setattr(shipped_module, "SHIPPED_DIR", tmp_path / "shipped")
    target = ship(results, tmp_path / "shipped" / "demo", preset=preset, command="cornet-repro sweep ...",
                  started="2026-01-01T00:00:00+00:00", outcomes=outcomes)
    manifest = shipped_module.read_manifest("demo")
    assert manifest["preset"]["name"] == "tiny" and manifest["n_results"] == 4 and len(manifest["runs"]) == 4
    assert {"platform", "cores", "torch"} <= set(manifest["machine"]) and manifest["command"].startswith("cornet-repro")
    curves = shipped_module.read_curves("demo")
    assert len(curves) == 4 and curves.val_top1.between(0, 1).all()  # 4 runs x 1 epoch
    assert len(list((target / "results").glob("*.json"))) == 4
    # shipped again from a sweep that reused every run: the first command and its seconds are kept
    again = run_sweep(preset, ["cornet_s", "cornet_s_steps_1_1_1"], [0, 1], results, runs, log=lambda _: None,
                      ost_models=())
    assert all(o.reused for o in again)
    ship(results, target, preset=preset, command="cornet-repro sweep --again", started="2026-01-02T00:00:00+00:00",
         outcomes=again)
    second = shipped_module.read_manifest("demo")
    assert second["command"] == "cornet-repro sweep --again" and second["history"][0]["command"] == manifest["command"]
    assert second["runs"] == manifest["runs"]

    # the live runs are the shipped ones: they match; Fig. 4 takes each run once
    matched, sentence, comparison = live_check(results, "demo")
    assert matched is True and "is current" in sentence and comparison["abs_diff"].max() == 0
    deltas = load_circuitry_results(results, shipped="demo")
    assert int(deltas.loc[deltas.variant == "no recurrence (1/1/1)", "n_seeds"].iloc[0]) == 2
    # a live number that moved: the page says loudly the shipped set is stale, and how to remake it
    path = next(results.glob("cornet_s-*seed0*.json"))
    record = json.loads(path.read_text())
    record["scores"]["IT"]["value"] += 0.01
    path.write_text(json.dumps(record))
    matched, sentence, _ = live_check(results, "demo")
    assert matched is False and sentence.startswith("STALE") and "in IT" in sentence
    assert sentence.endswith("Remake it: cornet-repro sweep --again")  # the latest command that shipped it
    with pytest.raises(ValueError, match="shipped sweep 'nope' does not exist; shipped sweeps: \\['demo'\\]"):
        live_check(results, "nope")

    # trained longer (epochs 1 -> 2): the runs are resumed, not retrained, and the manifest says so
    longer = preset.replace({"train.epochs": 2, "description": "the same, trained longer"})
    extended = run_sweep(longer, ["cornet_s", "cornet_s_steps_1_1_1"], [0, 1], results, runs, log=lambda _: None,
                         ost_models=())
    assert not any(o.reused for o in extended)
    log = [json.loads(line) for line in (runs / "tiny" / "cornet_s-seed0" / "log.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [1, 2]
    ship(results, target, preset=longer, command="cornet-repro sweep --set epochs=2", started="2026-01-03T00:00:00+00:00",
         outcomes=extended)
    third = shipped_module.read_manifest("demo")
    assert third["preset_changes"] == {"train.epochs": [1, 2]} and len(third["history"]) == 2
    assert third["n_results"] == 4 and len(shipped_module.read_curves("demo")) == 8
    by_run = {(r["model_name"], r["seed"]): r for r in third["runs"]}
    for r in manifest["runs"]:
        assert by_run[r["model_name"], r["seed"]]["seconds"] > r["seconds"]  # the first epoch's time is kept
    curves = shipped_module.read_curves("demo")
    assert by_run["cornet_s", 0]["train_seconds"] == pytest.approx(
        curves.query("model_name == 'cornet_s' and seed == 0").epoch_seconds.sum(), abs=0.1)


def test_a_failed_run_does_not_stop_the_others(tmp_path, preset, monkeypatch):
    import cornet_repro.pipeline as pipeline

    real = pipeline.train_and_score

    def flaky(preset, results_dir, *, model=None, **kwargs):
        if model == "cornet_s_steps_1_1_1":
            raise RuntimeError("out of memory")
        return real(preset, results_dir, model=model, **kwargs)

    monkeypatch.setattr(pipeline, "train_and_score", flaky)
    with pytest.raises(SweepError, match="cornet_s_steps_1_1_1 seed 0: RuntimeError: out of memory"):
        run_sweep(preset, ["cornet_s_steps_1_1_1", "cornet_s"], [0], tmp_path / "r", tmp_path / "runs",
                  log=lambda _: None)
    assert list(read_results(tmp_path / "r").model_name) == ["cornet_s"]


def test_a_sweep_through_submitits_local_executor(tmp_path, preset):
    pytest.importorskip("submitit")
    outcomes = run_sweep(preset, ["cornet_s_steps_1_1_1"], [0, 1], tmp_path / "r", tmp_path / "runs",
                         cluster="local", cluster_options={"timeout_min": 10}, log=lambda _: None)
    assert sorted(o.seed for o in outcomes) == [0, 1] and not any(o.error for o in outcomes)
    assert len(read_results(tmp_path / "r")) == 2
    assert list((tmp_path / "runs" / "submitit").glob("*_log.out"))  # submitit's logs beside the runs


def test_a_failed_run_of_a_cli_sweep_is_one_line_naming_the_run_and_the_fix(tmp_path, capsys):
    folders = ["--results-dir", str(tmp_path / "r"), "--runs-dir", str(tmp_path / "runs")]
    args = ["sweep", "--preset", "tiny", "--models", "cornet_s", "--seeds", "0", *folders,
            "--set", "n_train=64", "--set", "n_val=32", "--set", "progress=false"]
    assert cli.main([*args, "--set", "epochs=2"]) == 0
    capsys.readouterr()
    code = cli.main([*args, "--set", "epochs=1"])  # fewer epochs than the run has done
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert code == 1 and len(err) == 1 and "unexpected" not in err[0], err
    assert err[0].startswith("error: cornet_s seed 0: ValueError: --resume: epochs=1") and "at least 2" in err[0]


@pytest.mark.parametrize("argv, expected", [
    (["--models", "cornet_x"], "unknown model 'cornet_x'"),
    (["--seeds", "-1"], "--seeds -1: seeds are integers >= 0"),
    (["--cluster-option", "gpus_per_node=4"], "--cluster-option is given without --cluster"),
    (["--cluster", "slurm", "--cluster-option", "gpus"], "--cluster-option 'gpus': write KEY=VALUE"),
    (["--ship", "../x"], "--ship '../x': a plain name"),
    (["--set", "epoch=3"], "did you mean 'epochs'"),
])
def test_sweep_mistakes_get_one_line(tmp_path, capsys, argv, expected):
    code = cli.main(["sweep", "--preset", "tiny", "--results-dir", str(tmp_path / "r"), "--runs-dir",
                     str(tmp_path / "runs"), *argv])
    err = capsys.readouterr().err.strip()
    assert code in (1, 2) and len(err.splitlines()) == 1 and err.startswith("error: ") and expected in err, err
    assert not (tmp_path / "runs" / "tiny").exists()  # refused before any training


def test_brain_score_over_training_and_no_work_done_twice(tmp_path):
    from cornet_repro.sweeps import over_training

    preset = get_preset("tiny", {**FAST, "train.epochs": 2, "train.keep_epoch_checkpoints": True})
    results, runs = tmp_path / "results", tmp_path / "runs"
    run_sweep(preset, ["cornet_s_steps_1_1_1"], [0], results, runs, log=lambda _: None)
    result = next(results.glob("*.json"))
    before = result.stat().st_mtime_ns
    run_sweep(preset, ["cornet_s_steps_1_1_1"], [0], results, runs, log=lambda _: None)
    assert result.stat().st_mtime_ns == before  # finished and scored: neither retrained nor rescored
    dynamics = over_training(runs, preset, ["cornet_s_steps_1_1_1"], [0], log=lambda _: None)
    assert list(dynamics.epoch) == [1, 2] and set(dynamics.model_name) == {"cornet_s_steps_1_1_1"}
    assert dynamics[["V4", "IT", "behavior", "brain_score_fig4", "val_top1"]].notna().all().all()
    # the last epoch's weights are the final model's: the same scores as the sweep's result
    final = read_results(results).iloc[0]
    assert dynamics.iloc[-1]["IT"] == pytest.approx(final["IT"], abs=1e-12)
    assert dynamics.iloc[-1]["val_top1"] == pytest.approx(final["validation_top1"])


def test_plateau_and_emergence_read_the_curves():
    from cornet_repro.figures.training import dynamics_sentence, emergence, plateau_summary, plateau_table, rising_note

    curves = pd.DataFrame({"model_name": ["cornet_s"] * 6 + ["cornet_s_skip_absent"] * 3,
                           "seed": [0, 0, 0, 1, 1, 1, 0, 0, 0], "epoch": [1, 2, 3] * 3,
                           "val_top1": [.1, .3, .305, .1, .28, .33, .05, .1, .2]})
    table = plateau_table(curves)
    assert list(table.plateau) == [True, False, False]
    assert list(table.last_rise.round(3)) == [0.005, 0.05, 0.1]
    text = plateau_summary(curves, chance=1 / 32)
    assert text.startswith("1 of 3 runs reached a plateau: simulated validation top-1 rose")
    assert "Still rising (points over the last epoch): skip: absent seed 0 (+10.0); CORnet-S seed 1 (+5.0)." in text
    assert "CORnet-S ends at simulated top-1 0.318 ± 0.018 (mean ± s.d. over 2 seeds) (chance 0.031)" in text
    assert rising_note(curves) == ("The runs still rising (CORnet-S, skip: absent) would gain with longer training, "
                                   "so their deltas are not final.")
    assert rising_note(curves[curves.epoch < 3].assign(val_top1=0.2)) == "Every run levels off by its last epoch."
    # with the plateau check: BatchNorm's recomputed statistics decide, and the logged noise is reported
    check = curves[curves.epoch >= 2].assign(val_top1_exact_bn=[.30, .302, .30, .305, .10, .104])
    table = plateau_table(curves.assign(lr=0.0002), check)
    assert list(table.plateau) == [True, True, True] and list(table.last_rise_logged.round(3)) == [0.005, 0.05, 0.1]
    text = plateau_summary(curves.assign(lr=0.0002), chance=1 / 32, check=check)
    assert text.startswith("3 of 3 runs reached a plateau: simulated validation top-1, with BatchNorm's statistics recomputed")
    assert ("As logged during training, with BatchNorm's running averages of the last few batches, 1 of 3 did: over "
            "the last epoch (learning rate 0.0002) those values moved by up to 10.0 points, the recomputed ones by "
            "up to 0.5.") in text
    # V4 reaches 90% of its final value at epoch 1, top-1 and IT only at epoch 3; IT tracks top-1 exactly
    dynamics = pd.DataFrame({"model_name": "cornet_s", "seed": [0, 0, 0, 1, 1, 1], "epoch": [1, 2, 3] * 2,
                             "val_top1": [.1, .2, .3, .1, .2, .32], "V4": [.5, .5, .5, .5, .52, .5],
                             "IT": [.1, .3, .4, .1, .3, .4]})
    found = emergence(dynamics).set_index("measure")
    assert found.loc["V4", "epoch_reached"] == 1 and found.loc["val_top1", "epoch_reached"] == 3
    assert found.loc["IT", "r_with_top1"] == pytest.approx(1.0)
    sentence = dynamics_sentence(dynamics)
    assert "simulated top-1 reached 90% of its final value at epoch 3; V4 got there earlier" in sentence


def test_the_plateau_check_re_evaluates_the_last_epochs_and_ships(tmp_path, preset, monkeypatch):
    from cornet_repro.figures.training import plateau_summary, plateau_table
    from cornet_repro.sweeps import learning_curves, plateau_check

    two = preset.replace({"train.epochs": 2, "train.keep_epoch_checkpoints": True})
    results, runs = tmp_path / "results", tmp_path / "runs"
    outcomes = run_sweep(two, ["cornet_s"], [0, 1], results, runs, log=lambda _: None, ost_models=())
    check = plateau_check(runs, two, ["cornet_s"], [0, 1])
    assert list(check.epoch) == [1, 2, 1, 2] and check.val_top1_exact_bn.between(0, 1).all()
    # re-evaluated as saved, each epoch's weights give exactly the validation top-1 training logged
    curves = learning_curves([runs / "tiny" / f"cornet_s-seed{s}" for s in (0, 1)])
    assert check.merge(curves, on=["model_name", "seed", "epoch"]).eval("val_top1_x == val_top1_y").all()
    table = plateau_table(curves, check)
    exact = check.groupby("seed").val_top1_exact_bn.agg(lambda v: v.iloc[-1] - v.iloc[0]).to_numpy()
    assert np.allclose(table.last_rise, exact) and np.allclose(table.last_rise_exact_bn, exact)
    summary = plateau_summary(curves, None, check)
    assert "with BatchNorm's statistics recomputed exactly over the training images" in summary
    monkeypatch.setattr(shipped_module, "SHIPPED_DIR", tmp_path / "shipped")
    ship(results, tmp_path / "shipped" / "demo", preset=two, command="cornet-repro sweep ...",
         started="2026-01-01T00:00:00+00:00", outcomes=outcomes, plateau=check)
    pd.testing.assert_frame_equal(shipped_module.read_plateau("demo"), check, atol=1e-6)


def test_the_shipped_sweep_is_complete_and_not_ignored_by_git():
    import subprocess

    from cornet_repro.data.shipped import RESULTS, SHIPPED_DIR, read_manifest

    manifest = read_manifest("plateau")
    folder = SHIPPED_DIR / "plateau"
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert len(list((folder / RESULTS).glob("*.json"))) == manifest["n_results"] == len(manifest["runs"])
    repo = Path(__file__).resolve().parents[1]
    if not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "-C", str(repo), "check-ignore", "--no-index", *map(str, files)], capture_output=True, text=True)
    assert ignored.stdout == "", f"a clone would lack these shipped files: {ignored.stdout}"


def test_the_emergence_table_puts_cornet_s_first_and_no_epoch_for_scores_ending_below_zero():
    import re

    from cornet_repro.figures.tables import render_emergence_table
    from cornet_repro.figures.training import emergence

    dynamics = pd.DataFrame({"model_name": ["cornet_s_steps_1_1_1"] * 3 + ["cornet_s"] * 3, "seed": 0,
                             "epoch": [1, 2, 3] * 2, "val_top1": [.1, .2, .3] * 2, "OST": [.2, .1, -.05] * 2})
    found = emergence(dynamics)
    assert np.isnan(found.set_index(["model_name", "measure"]).loc[("cornet_s", "OST"), "epoch_reached"])
    body = render_emergence_table(found, caption="c").html.split("<tbody>", 1)[1].split("</tbody>")[0]
    cells = [c.strip() for c in re.sub(r"<[^>]+>", "|", body).split("|") if c.strip()]
    assert cells[:11] == ["CORnet-S", "simulated top-1", "0.300", "3", "–", "OST", "−0.050", "–", "−1.00",
                          "steps: 1/1/1 (none)", "simulated top-1"]
