"""A run keeps its whole preset: every override given to `train` reaches `score`, with nothing passed again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from cornet_repro import cli
from cornet_repro.presets import get_preset
from cornet_repro.results import read_result
from cornet_repro.runs import FINAL_MODEL, PRESET_FILE, load_run, load_training_file

pytestmark = pytest.mark.usefixtures("single_threaded")

# the tiny preset made smaller still: 64 training images, one epoch
SMALLER = ["--set", "epochs=1", "--set", "n_train=64", "--set", "n_val=32", "--set", "progress=false",
           "--set", "threads=1"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _score(run: Path, results: Path, cache: Path, capsys, *extra: str) -> dict:
    capsys.readouterr()
    assert cli.main(["score", str(run), "--results-dir", str(results), "--cache", str(cache), *extra]) == 0
    printed = json.loads(capsys.readouterr().out)
    return read_result(printed["result"]) | {"printed": printed}


def test_score_honours_the_overrides_given_to_train(tmp_path, cache, capsys):
    threads = torch.get_num_threads()
    run = tmp_path / "run"
    assert cli.main(["train", "--preset", "tiny", "--out-dir", str(run), *SMALLER,
                     "--set", "score.benchmarks=[V4, IT]", "--set", "score.image_size=40",
                     "--set", "score.composite=fig4"]) == 0
    torch.set_num_threads(threads)
    saved = yaml.safe_load((run / PRESET_FILE).read_text())
    assert saved["score"]["benchmarks"] == ["V4", "IT"] and saved["train"]["epochs"] == 1
    assert load_training_file(run / FINAL_MODEL)["preset"]["score"]["image_size"] == 40

    result = _score(run, tmp_path / "results", cache, capsys)
    assert list(result["scores"]) == ["V4", "IT"]  # not the tiny preset's four benchmarks
    assert result["score_config"]["image_size"] == 40 and result["score_config"]["benchmarks"] == ["V4", "IT"]
    assert result["train"]["n_train"] == 64 and result["preset"] == "tiny"
    # neither composite can be formed from V4 and IT alone; the preset's choice is still named
    assert result["composite"] == "fig4" and result["brain_score"] is None and result["brain_score_fig4"] is None
    assert result["printed"]["composite"] == "fig4" and result["printed"]["brain_score"] is None


def test_a_run_from_a_yaml_preset_is_rescored_without_the_file(tmp_path, cache, capsys):
    mine = tmp_path / "mine.yaml"
    mine.write_text("base: tiny\nscore:\n  benchmarks: [behavior]\n")
    run = tmp_path / "run"
    threads = torch.get_num_threads()
    assert cli.main(["train", "--preset", str(mine), "--out-dir", str(run), *SMALLER]) == 0
    torch.set_num_threads(threads)
    mine.unlink()  # the run carries the preset; the file is not needed any more
    result = _score(run, tmp_path / "results", cache, capsys)
    assert result["preset"] == "mine" and list(result["scores"]) == ["behavior"]
    assert 0 < result["scores"]["behavior"]["ceiling"] <= 1


def test_older_runs_that_recorded_only_a_preset_name_still_score(tmp_path, cache, capsys):
    """Runs made before runs kept their whole preset stored its name: the built-in preset is rebuilt
    around the run's own training config."""
    from cornet_repro.train import train

    preset = get_preset("tiny", {"train.out_dir": str(tmp_path / "run"), "train.epochs": 1, "train.n_train": 64,
                                 "train.n_val": 32, "train.progress": False, "train.threads": 1,
                                 "score.benchmarks": ["IT"]})
    threads = torch.get_num_threads()
    train(preset)
    torch.set_num_threads(threads)
    state = load_training_file(tmp_path / "run" / FINAL_MODEL)
    state["preset"] = "tiny"  # what older runs wrote
    torch.save(state, tmp_path / "run" / FINAL_MODEL)
    run = load_run(tmp_path / "run")
    assert run.preset.name == "tiny" and run.preset.train.epochs == 1  # the run's training, tiny's scoring
    assert run.preset.score == get_preset("tiny").score

    state["preset"] = None  # a bare TrainConfig run: scoring needs a preset
    torch.save(state, tmp_path / "run" / FINAL_MODEL)
    capsys.readouterr()
    assert cli.main(["score", str(tmp_path / "run"), "--results-dir", str(tmp_path / "r"), "--cache", str(cache)]) == 1
    assert "does not record its preset; pass one" in capsys.readouterr().err
