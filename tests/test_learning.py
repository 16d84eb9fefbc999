"""A CORnet-S trained at the ``small`` preset learns its task: validation top-1 far above chance.

The other training tests check the loop's mechanics (checkpoints, resume, DDP) on runs too short
to learn anything; this one checks that the recipe the book uses actually trains a model.
"""

from __future__ import annotations

import json
import math

import pytest

from cornet_repro.presets import get_preset
from cornet_repro.runs import LOG, load_run
from cornet_repro.train import train


# 4 epochs of CORnet-S (width 1/8, 64 px) on 2,560 images: 31 s measured on 2 cores (load ~1),
# 55-60 s while other work shared them
@pytest.mark.slow
@pytest.mark.usefixtures("single_threaded", "restore_torch_globals")
def test_cornet_s_small_preset_learns_well_above_chance(tmp_path):
    preset = get_preset("small", {"train.out_dir": str(tmp_path / "run"), "train.progress": False,
                                  "train.threads": 1})
    assert preset.train.model == "cornet_s" and preset.train.epochs == 4
    summary = train(preset)

    n_classes = len(summary["classes"])
    chance = 1 / n_classes
    assert n_classes == 32 and summary["epochs_completed"] == 4
    # Measured (2 cores, 1 thread): val. top-1 .195 with the preset's seed 0, .236 and .184 with
    # seeds 1 and 2, i.e. 6-7.5x chance. 4x chance (.125) sits 38+ of the 640 validation images
    # below the worst seed, leaving room for BLAS / platform differences that change the
    # trajectory, yet fails an untrained or broken model (chance .031; a chance-level model
    # reaches .125 with binomial probability < 1e-20; lr 1e-6 gave .028), a run that diverged, or
    # a recipe that lost half its learning (seed 0 was at .088 and .119 after epochs 1 and 2).
    assert summary["val_top1"] > 4 * chance, f"val. top-1 {summary['val_top1']:.3f} (chance {chance:.3f})"

    epochs = [json.loads(line) for line in (tmp_path / "run" / LOG).read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    # learning, not luck: the training loss fell over the run and the last epoch fits better than the first
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"] and epochs[-1]["train_top1"] > epochs[0]["train_top1"]
    # better than a uniform guess on the held-out images too (cross-entropy of chance: log 32 = 3.47;
    # measured 2.51)
    assert epochs[-1]["val_loss"] < math.log(n_classes)
    # the saved model is the one that was validated
    run = load_run(tmp_path / "run")
    assert run.finished and run.state["val_top1"] == summary["val_top1"]
