"""Training loop: presets, data sources, checkpoints, exact resume after SIGKILL, DDP with torchrun."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from cornet_repro import cli
from cornet_repro import train as train_mod
from cornet_repro.presets import PRESETS, Preset, PresetError, from_dict, get_preset, load_preset, to_dict
from cornet_repro.runs import CHECKPOINT, FINAL_MODEL, LOG, SUMMARY, build_model, load_run
from cornet_repro.runs import load_training_file as load_checkpoint_file
from cornet_repro.train import train
from cornet_repro.training_data import SeededAugmentation, build_datasets

ROOT = Path(__file__).resolve().parents[1]


def tiny(out_dir: Path, **overrides) -> Preset:
    """The tiny preset, made smaller still: 192 images, 6 steps per epoch, 1 thread, deterministic."""
    base = {"train.out_dir": str(out_dir), "train.n_train": 192, "train.n_val": 32, "train.batch_size": 32,
            "train.threads": 1, "train.deterministic": True, "train.progress": False}
    return get_preset("tiny", {**base, **overrides})


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    env.pop("WORLD_SIZE", None), env.pop("RANK", None)
    return env


def _cli_overrides(preset: Preset) -> list[str]:
    """The preset's train section as --set arguments for a subprocess."""
    args = []
    for key, value in to_dict(preset.train).items():
        if key in ("simulated", "model_config"):
            continue
        args += ["--set", f"{key}={json.dumps(value)}"]
    return args


def load_trained_model(path: Path):
    run = load_run(path)
    return run.model, run.config


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint_file(path)["model"]


def evaluate_saved(run_dir: Path, *, channels_last: bool = False, bf16: bool = False) -> tuple[float, float]:
    """(val_loss, val_top1) of a run's saved model.pt on its validation set, recomputed here the
    way train() validates (same images, batches, memory format and autocast)."""
    run = load_run(run_dir)
    _, val_set, _ = build_datasets(run.config)
    loader = torch.utils.data.DataLoader(val_set, batch_size=run.config.batch_size, shuffle=False)
    model = run.model.to(memory_format=torch.channels_last) if channels_last else run.model
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else nullcontext
    return train_mod.evaluate(model, loader, train_mod.Dist(), channels_last, autocast)


def hand_counted_flops(model: torch.nn.Module, image_size: int) -> int:
    """2 x multiply-adds of every Conv2d / Linear call in one forward pass on one image (recurrent
    areas call theirs once per step), counted with hooks: independent of torch's FlopCounterMode."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            total += 2 * output.numel() * module.in_channels // module.groups * kh * kw
        else:
            total += 2 * output.numel() * module.in_features

    hooks = [m.register_forward_hook(count) for m in model.modules()
             if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, image_size, image_size))
    for hook in hooks:
        hook.remove()
    return total


# ---------------------------------------------------------------------------------------------
# presets
# ---------------------------------------------------------------------------------------------

def test_presets_are_validated_data(tmp_path):
    for preset in PRESETS.values():
        assert from_dict(Preset, yaml.safe_load(preset.to_yaml())) == preset  # YAML round trip
    paper = get_preset("paper").train
    assert (paper.lr, paper.momentum, paper.weight_decay, paper.lr_step_epochs, paper.lr_gamma, paper.epochs,
            paper.batch_size, paper.image_size, paper.val_resize) == (0.1, 0.9, 1e-4, 20, 0.1, 43, 256, 224, 256)
    with pytest.raises(PresetError, match="did you mean 'epochs'"):
        get_preset("tiny", {"train.epoch": 2})
    with pytest.raises(PresetError, match="expected float"):
        get_preset("tiny", {"train.lr": "fast"})
    with pytest.raises(PresetError, match="unknown preset 'tinny'.*did you mean 'tiny'"):
        get_preset("tinny")
    with pytest.raises(PresetError, match="simulated.*n_categories"):
        get_preset("tiny", {"train.simulated.n_categories": 99})
    custom = tmp_path / "mine.yaml"
    custom.write_text("base: tiny\ntrain:\n  epochs: 1\n  model_config: {width: 0.25}\n")
    mine = load_preset(custom)
    assert mine.train.epochs == 1 and mine.train.model_config == {"width": 0.25} and mine.name == "mine"  # named after its file, not its base
    custom.write_text("base: tiny\ntrain:\n  epocs: 1\n")
    with pytest.raises(PresetError, match="mine.yaml.*epocs"):
        load_preset(custom)


def test_cli_help_explains_presets_and_print_config(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["train", "--help"])
    text = capsys.readouterr().out
    for name in PRESETS:
        assert f"\n{name}: " in text
    assert "torchrun" in text
    assert cli.main(["train", "--preset", "tiny", "--set", "epochs=5", "--print-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["train"]["epochs"] == 5 and printed["name"] == "tiny"
    assert cli.main(["train", "--preset", "tiny", "--set", "epohcs=5", "--print-config"]) == 2
    assert "epohcs" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------

def test_augmentation_depends_only_on_seed_epoch_and_index():
    train_set, _, classes = build_datasets(get_preset("tiny").train)
    assert len(classes) == 16
    a, b = SeededAugmentation(train_set, 0), SeededAugmentation(train_set, 0)
    torch.manual_seed(123)  # the global RNG must not matter
    x1, y1 = a[5]
    torch.manual_seed(456)
    x2, y2 = b[5]
    assert torch.equal(x1, x2) and y1 == y2 and x1.shape == (3, 32, 32)
    b.set_epoch(1)
    assert not torch.equal(x1, b[5][0])  # a new epoch draws new crops


def _fake_imagefolder(root: Path, classes=("n001", "n002"), per_class=4, size=40) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for k, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                pixels = (rng.uniform(size=(size, size, 3)) * 100 + 80 * k).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{name}_{i}.png")
    return root


def test_imagefolder_errors_name_the_path(tmp_path):
    from cornet_repro.data.imagefolder import check_imagefolder

    with pytest.raises(FileNotFoundError, match="--data-path"):
        check_imagefolder(None)
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere")):
        check_imagefolder(tmp_path / "nowhere")
    (tmp_path / "a" / "train").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"a/val is missing"):
        check_imagefolder(tmp_path / "a")
    (tmp_path / "a" / "val").mkdir()
    (tmp_path / "a" / "val" / "x.JPEG").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="train has no class folders"):
        check_imagefolder(tmp_path / "a")
    (tmp_path / "a" / "train" / "n001").mkdir()
    with pytest.raises(FileNotFoundError, match="n001 holds no images"):
        check_imagefolder(tmp_path / "a")
    (tmp_path / "a" / "train" / "n001" / "x.JPEG").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="val has no class folders \\(it holds loose images"):
        check_imagefolder(tmp_path / "a")
    root = _fake_imagefolder(tmp_path / "b")
    (root / "val" / "n003").mkdir()
    with pytest.raises(ValueError, match="only in val: \\['n003'\\]"):
        check_imagefolder(root)
    # a preset run without --data-path fails with the layout in the message
    assert cli.main(["train", "--preset", "paper", "--out-dir", str(tmp_path / "run")]) == 1


def test_trains_from_an_imagefolder_tree(tmp_path, restore_torch_globals):
    root = _fake_imagefolder(tmp_path / "imagenet")
    preset = get_preset("paper", {"train.data_path": str(root), "train.out_dir": str(tmp_path / "run"),
                                  "train.image_size": 32, "train.val_resize": 36, "train.epochs": 1,
                                  "train.batch_size": 4, "train.num_workers": 0, "train.threads": 1,
                                  "train.model_config": {"width": 0.125}, "train.progress": False,
                                  "train.keep_epoch_checkpoints": True, "train.checkpoint_every_steps": 0})
    summary = train(preset)
    assert summary["num_classes"] == 2 and summary["global_step"] == 2
    assert (tmp_path / "run" / "epoch_001.pt").is_file()
    model, config = load_trained_model(tmp_path / "run")
    assert config.data == "imagenet" and model.decoder.linear.out_features == 2


# ---------------------------------------------------------------------------------------------
# checkpoints and resume
# ---------------------------------------------------------------------------------------------

def test_checkpoint_contents_and_resume_guard(tmp_path, restore_torch_globals):
    preset = tiny(tmp_path / "run", **{"train.epochs": 1, "train.log_every_steps": 3})
    summary = train(preset)
    ckpt = load_checkpoint_file(tmp_path / "run" / CHECKPOINT)  # weights_only=True
    assert ckpt["epoch"] == 1 and ckpt["step_in_epoch"] == 0 and ckpt["global_step"] == 6
    assert set(ckpt["rng"][0]) == {"python", "numpy", "torch", "cuda"} and len(ckpt["rng"]) == 1
    assert ckpt["optimizer"]["state"] and ckpt["scheduler"]["last_epoch"] == 1
    lines = [json.loads(line) for line in (tmp_path / "run" / LOG).read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["step", "step", "epoch"]
    epoch = lines[-1]
    for key in ("train_loss", "train_top1", "val_top1", "lr", "images_per_s", "flops_per_image", "mfu"):
        assert key in epoch
    assert epoch["mfu"] is None  # no MFU on a CPU
    model, config = load_trained_model(tmp_path / "run")
    # forward + backward counted as 3 forwards; 2 FLOPs per multiply-add of every conv and linear layer
    assert epoch["flops_per_image"] == 3 * hand_counted_flops(model, config.image_size)
    assert summary["ranks_in_sync"] and summary["val_top1"] == epoch["val_top1"]
    # the logged validation is the saved model's, on the 32 validation images
    val_loss, val_top1 = evaluate_saved(tmp_path / "run")
    assert (epoch["val_loss"], epoch["val_top1"]) == pytest.approx((val_loss, val_top1), rel=1e-6)
    assert epoch["val_top1"] * 32 == round(epoch["val_top1"] * 32)
    # a different recipe cannot resume this run
    changed = tiny(tmp_path / "run", **{"train.epochs": 1, "train.lr": 0.2})
    with pytest.raises(ValueError, match="lr: checkpoint 0.05 vs now 0.2"):
        train(changed, resume=True)
    # resuming a finished run changes nothing
    again = train(tiny(tmp_path / "run", **{"train.epochs": 1, "train.log_every_steps": 3}), resume=True)
    assert again["global_step"] == 6 and len((tmp_path / "run" / LOG).read_text().splitlines()) == 3


def test_a_finished_run_resumed_with_more_epochs_equals_one_trained_that_long(tmp_path, restore_torch_globals):
    """Training longer: 2 epochs, then --resume with epochs 3 (across the lr step) = 3 from the start."""
    overrides = {"train.lr_step_epochs": 2, "train.keep_epoch_checkpoints": True}
    reference = train(tiny(tmp_path / "reference", **{**overrides, "train.epochs": 3}))
    train(tiny(tmp_path / "extended", **{**overrides, "train.epochs": 2}))
    extended = train(tiny(tmp_path / "extended", **{**overrides, "train.epochs": 3}), resume=True)
    assert extended["epochs_completed"] == reference["epochs_completed"] == 3
    ref, got = _weights(tmp_path / "reference" / FINAL_MODEL), _weights(tmp_path / "extended" / FINAL_MODEL)
    assert all(torch.equal(ref[key], got[key]) for key in ref), "the extended run's weights differ"
    ref_log, got_log = ([json.loads(line) for line in (tmp_path / name / LOG).read_text().splitlines()]
                        for name in ("reference", "extended"))
    assert [(r["epoch"], r["lr"], r["val_top1"]) for r in got_log] == [(r["epoch"], r["lr"], r["val_top1"])
                                                                       for r in ref_log]
    assert ref_log[-1]["lr"] == pytest.approx(0.1 * ref_log[0]["lr"])  # the third epoch is past the lr step
    assert load_checkpoint_file(tmp_path / "extended" / "epoch_003.pt")["epoch"] == 3
    # fewer epochs than the run has done: refused, in one line that says what to set
    with pytest.raises(ValueError, match="has reached epoch 3; set epochs to at least 3"):
        train(tiny(tmp_path / "extended", **{**overrides, "train.epochs": 2}), resume=True)


def test_recompute_batchnorm_sets_exact_averages_and_leaves_the_rest():
    from cornet_repro.train import recompute_batchnorm

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
    images = torch.randn(96, 3, 8, 8) * 3 + 1
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, torch.zeros(96)), batch_size=32)
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "tracked" not in k}
    model.eval()
    assert recompute_batchnorm(model, loader) == 96
    bn = model[1]
    with torch.no_grad():
        conv = model[0](images)
    assert torch.allclose(bn.running_mean, conv.mean(dim=(0, 2, 3)), atol=1e-5)  # all 96 images, not the last batch
    # the running variance: the average of the batches' unbiased variances (equal batches)
    per_batch = torch.stack([conv[i:i + 32].var(dim=(0, 2, 3), unbiased=True) for i in (0, 32, 64)]).mean(0)
    assert torch.allclose(bn.running_var, per_batch, atol=1e-4)
    assert bn.momentum == 0.1 and not model.training  # as it was
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights.items())  # the weights untouched
    assert recompute_batchnorm(model, loader, max_images=32) == 32


def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path, restore_torch_globals):
    """A run killed with SIGKILL after a step checkpoint and resumed ends with the same weights."""
    overrides = {"train.epochs": 3, "train.checkpoint_every_steps": 4}
    reference = train(tiny(tmp_path / "reference", **overrides))  # uninterrupted, in this process
    assert reference["global_step"] == 18

    run = tmp_path / "killed"
    preset = tiny(run, **overrides)
    command = [sys.executable, "-m", "cornet_repro", "train", "--preset", "tiny", *_cli_overrides(preset)]
    process = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    killed_at = None
    deadline = time.time() + 120
    try:
        while time.time() < deadline and process.poll() is None:
            if (run / CHECKPOINT).is_file():
                state = load_checkpoint_file(run / CHECKPOINT)
                if state["step_in_epoch"] > 0:  # a mid-epoch step checkpoint exists: kill now
                    process.send_signal(signal.SIGKILL)
                    killed_at = state["global_step"]
                    break
            time.sleep(0.02)
    finally:
        if process.poll() is None and killed_at is None:
            process.kill()
        process.wait()
    assert killed_at is not None, f"the run ended before it could be killed: {process.stderr.read().decode()[-2000:]}"
    assert process.returncode == -signal.SIGKILL
    assert not (run / FINAL_MODEL).exists()
    saved = load_checkpoint_file(run / CHECKPOINT)
    assert 0 < saved["global_step"] < 18 and saved["step_in_epoch"] > 0

    resumed = subprocess.run(command + ["--resume"], env=_env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed from" in resumed.stderr

    ref, got = _weights(tmp_path / "reference" / FINAL_MODEL), _weights(run / FINAL_MODEL)
    assert ref.keys() == got.keys()
    for key in ref:
        assert torch.equal(ref[key], got[key]), f"{key} differs after resume"
    ref_log = [json.loads(line) for line in (tmp_path / "reference" / LOG).read_text().splitlines()]
    got_log = [json.loads(line) for line in (run / LOG).read_text().splitlines()]
    assert [line["epoch"] for line in got_log] == [1, 2, 3]  # no duplicated or missing epoch lines
    for a, b in zip(ref_log, got_log):
        assert (a["train_loss"], a["train_top1"], a["val_top1"]) == (b["train_loss"], b["train_top1"], b["val_top1"])


def test_ddp_two_gloo_processes_stay_in_sync(tmp_path):
    """torchrun with 2 CPU processes (gloo): identical weights on both ranks, one log."""
    run = tmp_path / "ddp"
    preset = tiny(run, **{"train.epochs": 2, "train.deterministic": False, "train.checkpoint_every_steps": 4})
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
               "-m", "cornet_repro", "train", "--preset", "tiny", *_cli_overrides(preset)]
    result = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run / SUMMARY).read_text())
    assert summary["world_size"] == 2 and len(summary["rank_state_digests"]) == 2
    assert summary["ranks_in_sync"], summary["rank_state_digests"]
    assert summary["global_step"] == 12  # 192 images / global batch 32 = 6 steps per epoch
    lines = (run / LOG).read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]  # written once, by rank 0
    ckpt = load_checkpoint_file(run / CHECKPOINT)
    assert ckpt["world_size"] == 2 and len(ckpt["rng"]) == 2
    final = _weights(run / FINAL_MODEL)
    model, _ = load_trained_model(run)
    assert train_mod._state_digest(model) == summary["rank_state_digests"][0]
    assert all(torch.isfinite(v.float()).all() for v in final.values())


# ---------------------------------------------------------------------------------------------
# the GPU code path, run on the CPU (no GPU here): bf16 autocast, channels_last, MFU, compile
# ---------------------------------------------------------------------------------------------

def test_gpu_code_path_runs_on_the_cpu(tmp_path, restore_torch_globals):
    preset = tiny(tmp_path / "run", **{"train.epochs": 1, "train.amp": "bf16", "train.channels_last": "on",
                                       "train.peak_tflops": 2.0, "train.deterministic": False})
    summary = train(preset)
    epoch = json.loads((tmp_path / "run" / LOG).read_text().splitlines()[-1])
    # MFU against the given peak: achieved FLOP/s over peak FLOP/s
    assert epoch["mfu"] == pytest.approx(epoch["images_per_s"] * epoch["flops_per_image"] / 1e12 / 2.0)
    assert 0 < epoch["mfu"] < 1
    # top-1 counts whole images: 192 training and 32 validation images
    assert epoch["train_top1"] * 192 == pytest.approx(round(epoch["train_top1"] * 192), abs=1e-9)
    assert summary["val_top1"] * 32 == pytest.approx(round(summary["val_top1"] * 32), abs=1e-9)
    # the logged validation is the saved weights', evaluated as train() does (bf16, channels_last)
    val_loss, val_top1 = evaluate_saved(tmp_path / "run", channels_last=True, bf16=True)
    assert (summary["val_loss"], summary["val_top1"]) == pytest.approx((val_loss, val_top1), rel=1e-6)
    # weights stay float32 (autocast only changes the compute) and load into a plain model
    model, _ = load_trained_model(tmp_path / "run" / "model.pt")
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="torch.compile on the CPU needs a C compiler")
def test_compiled_training_saves_plain_weights(tmp_path, restore_torch_globals):
    preset = tiny(tmp_path / "run", **{"train.epochs": 1, "train.compile": True, "train.deterministic": False,
                                       "train.n_train": 64, "train.n_val": 32})
    summary = train(preset)
    state = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    keys = list(state["model"]) if "model" in state else list(state)
    assert not any("_orig_mod" in k for k in keys)  # no torch.compile wrapper prefix
    # the plain model's keys, and weights that load into it and validate as the run logged
    plain = build_model(preset.train, summary["num_classes"])
    assert keys == list(plain.state_dict())
    val_loss, val_top1 = evaluate_saved(tmp_path / "run")
    assert (summary["val_loss"], summary["val_top1"]) == pytest.approx((val_loss, val_top1), rel=1e-6)
