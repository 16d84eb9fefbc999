"""Train a model with the paper's recipe (§2.2), on one CPU or many GPUs: the loop, top to bottom.

    cornet-repro train --preset tiny                            # seconds, CPU, simulated images
    cornet-repro train --preset paper --data-path /data/imagenet --out-dir runs/cornet_s
    torchrun --nproc_per_node 8 -m cornet_repro train --preset paper --data-path /data/imagenet
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST:29500 \\
        -m cornet_repro train --preset paper --data-path /data/imagenet
    cornet-repro train --preset paper ... --resume              # continue after an interruption
    cornet-repro train --preset paper ... --resume --set epochs=60   # train a finished run longer

The recipe: SGD (momentum .9, weight decay 1e-4), cross-entropy, lr .1 divided by 10 every 20
epochs, 43 epochs, global batch 256; RandomResizedCrop 224 + horizontal flip for training, resize
256 + center crop 224 for validation, ImageNet mean/std. On a GPU: bf16 autocast and channels_last,
optionally ``torch.compile``. Several processes (``torchrun``) train with DistributedDataParallel
(NCCL on GPUs, gloo on CPUs); the global batch is split over them.

Outputs in ``out_dir`` (the run directory, :mod:`cornet_repro.runs`): ``preset.yaml`` (the whole
preset), ``log.jsonl`` (one line per epoch: loss, top-1, lr, images/s and, on a GPU, model FLOPs
utilization; optionally one per N steps), ``checkpoint.pt`` (the latest full training state,
written atomically at every epoch end and every N steps), ``model.pt`` (the final weights, config
and preset), ``epoch_XXX.pt`` (weights per epoch, if kept) and ``summary.json``. Data and
transforms: :mod:`cornet_repro.training_data`.

Exact resume: augmentation randomness is a function of (seed, epoch, image index), the sampler's
order a function of (seed, epoch), and a checkpoint holds model, optimizer, scheduler, position in
the epoch, running epoch statistics and every process's RNG states; with ``deterministic: true``
and the same number of processes and threads, an interrupted and resumed run ends with the same
weights, bit for bit, as an uninterrupted one (tested on CPU). ``epochs`` is the one recipe field a
resume may change (to no fewer than the epochs done): the learning rate depends only on the epoch
(a step schedule), so a run trained for 10 epochs and resumed with ``epochs: 15`` equals one
trained for 15 from the start (tested).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import random
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Mapping, Sequence

# Set before torch loads OpenMP: idle OpenMP threads then sleep instead of spinning. On a shared
# or oversubscribed CPU, spinning made 2 threads train 40x slower than 1 (measured: 15 vs 600
# images/s); with PASSIVE, 2 threads ran at ~400. Set OMP_WAIT_POLICY yourself to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from .files import atomic_path, atomic_write_text, remove_stale_temps, writer_lock
from .presets import Preset, TrainConfig, to_dict
from .runs import (CHECKPOINT, CHECKPOINT_FORMAT, FINAL_MODEL, CheckpointError, LOG, SUMMARY, build_model, epoch_file,
                   load_training_file, prepare_run_folder, write_preset)
from .training_data import SeededAugmentation, SkipSampler, build_datasets

__all__ = ["train", "NonFiniteLossError", "evaluate", "recompute_batchnorm", "forward_flops", "device_peak_tflops"]


# Config fields that may differ on --resume: they change how a run is watched or stored, not
# what it computes. Everything else must match the checkpoint.
_RESUMABLE_CHANGES = {"out_dir", "progress", "num_workers", "threads", "max_steps", "log_every_steps",
                      "checkpoint_every_steps", "keep_epoch_checkpoints", "peak_tflops", "compile", "data_path"}
# ``epochs`` may change too, to no fewer than the checkpoint's completed epochs: StepLR's rate is a
# function of the epoch alone, so training longer extends the same run (checked in _train).
_EXTENDABLE = {"epochs"}

# Dense bf16 peak (TFLOP/s) of common GPUs, for the model FLOPs utilization (MFU). Longer names
# first: the first substring found in torch.cuda.get_device_name() wins.
GPU_PEAK_BF16_TFLOPS = {
    "H100 PCIe": 756.0, "H100": 989.0, "H200": 989.0, "GH200": 989.0, "B200": 2250.0,
    "A100": 312.0, "A800": 312.0, "L40S": 362.0, "L40": 181.0, "L4": 121.0, "A10G": 70.0, "A10": 125.0,
    "RTX 4090": 165.0, "RTX 3090": 71.0, "RTX A6000": 155.0, "V100": 125.0, "T4": 65.0,
}


# ---------------------------------------------------------------------------------------------
# Distributed setup: torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; without them, one process.
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str) -> Dist:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError("train.device='cuda' but no CUDA device is available; use device=auto or cpu")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return Dist(rank, world_size, local_rank, dev)


def _all_reduce_sum(values: Sequence[float], d: Dist) -> list[float]:
    t = torch.tensor(values, dtype=torch.float64, device=d.device)
    if d.enabled:
        dist.all_reduce(t)
    return t.tolist()


# ---------------------------------------------------------------------------------------------
# Model cost
# ---------------------------------------------------------------------------------------------

def forward_flops(model: nn.Module, image_size: int) -> float:
    """FLOPs of one forward pass on one image (torch.utils.flop_counter; 2 FLOPs per multiply-add).

    Counted on the meta device, so it costs no compute or memory even for the full-size model.
    """
    import copy

    from torch.utils.flop_counter import FlopCounterMode

    meta = copy.deepcopy(model).to("meta").eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta(torch.zeros(1, 3, image_size, image_size, device="meta"))
    return float(counter.get_total_flops())


def device_peak_tflops(device: torch.device, override: float = 0.0) -> float | None:
    """Dense bf16 peak of the device in TFLOP/s (None on CPU or for an unknown GPU)."""
    if override > 0:
        return override
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, peak in GPU_PEAK_BF16_TFLOPS.items():
        if key in name:
            return peak
    return None


# ---------------------------------------------------------------------------------------------
# Checkpoints: plain types and tensors only, so torch.load(weights_only=True) reads them.
# ---------------------------------------------------------------------------------------------

def _rng_state(device: torch.device) -> dict[str, Any]:
    version, mt, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"python": {"version": version, "state": torch.tensor(mt, dtype=torch.int64), "gauss": gauss},
            "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                      "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def _set_rng_state(state: Mapping[str, Any], device: torch.device) -> None:
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"].tolist()), p["gauss"]))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and state.get("cuda") is not None:
        torch.cuda.set_rng_state(state["cuda"], device)


def _gather(obj: Any, d: Dist) -> list[Any]:
    if not d.enabled:
        return [obj]
    out: list[Any] = [None] * d.world_size
    dist.all_gather_object(out, obj)
    return out


def _save(obj: Mapping[str, Any], path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _config_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    keys = sorted((set(saved) | set(current)) - _RESUMABLE_CHANGES - _EXTENDABLE)
    return [f"{k}: checkpoint {saved.get(k)!r} vs now {current.get(k)!r}" for k in keys if saved.get(k) != current.get(k)]


def _truncate_log(path: Path, global_step: int) -> None:
    """Drop log lines written after the checkpoint we resume from (they will be written again).

    A torn last line (the process was killed while appending it) is dropped with a warning; a
    damaged line before it is an error naming the file and line.
    """
    if not path.is_file():
        return
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    keep = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                print(f"warning: {path}: line {number} is torn (the run was killed while writing it); "
                      "dropped", file=sys.stderr)
                continue
            raise ValueError(f"{path}: line {number} is not JSON; fix or delete that line, then --resume again") from None
        if not isinstance(record, dict):
            raise ValueError(f"{path}: line {number} is not a log record; fix or delete it, then --resume again")
        if record.get("global_step", 0) <= global_step:
            keep.append(line)
    atomic_write_text(path, "".join(line + "\n" for line in keep))


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


def _non_finite(config: TrainConfig, what: str, ckpt_path: Path) -> NonFiniteLossError:
    kept = f"the last good checkpoint is {ckpt_path}" if ckpt_path.is_file() else "no checkpoint was written"
    return NonFiniteLossError(
        f"train.lr={config.lr:g}: {what}; the learning rate is likely too high "
        f"(or the data hold non-finite values). Lower train.lr and train again with --overwrite ({kept})")


def _state_digest(model: nn.Module) -> str:
    h = hashlib.sha256()
    for key, value in model.state_dict().items():
        h.update(key.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# The training loop
# ---------------------------------------------------------------------------------------------

def train(run: Preset | TrainConfig, *, resume: bool = False, overwrite: bool = False) -> dict[str, Any]:
    """Train a :class:`Preset` (or a bare :class:`TrainConfig`) and return a summary.

    With ``resume=True`` and a ``checkpoint.pt`` in ``train.out_dir``, continue from it exactly.
    A folder that already holds a run is refused unless ``resume`` or ``overwrite`` (delete that
    run, start afresh) is given. The writing process holds the folder's writer lock throughout (a
    second writer is refused, naming this one's PID) and first removes temporary files that killed
    writers left. Training stops at the first non-finite loss, keeping the last good checkpoint.
    Works unchanged under ``torchrun`` (one call per process; only rank 0 writes files). A
    preset is saved whole with the run (``preset.yaml`` and inside every ``.pt`` file), so that
    scoring the run later uses exactly its settings; a bare TrainConfig leaves a run that must be
    given a preset when scored.
    """
    preset = run if isinstance(run, Preset) else None
    config = preset.train if preset is not None else run
    out = Path(config.out_dir)
    if int(os.environ.get("RANK", "0")) != 0:  # only rank 0 writes; torchrun stops us if it fails
        return _train(preset, config, resume)
    with writer_lock(out, "run folder") as locked_at:
        remove_stale_temps(out, older_than=locked_at)  # no live writer but us: the rest are a dead one's
        prepare_run_folder(out, resume=resume, overwrite=overwrite)
        return _train(preset, config, resume)


def _train(preset: Preset | None, config: TrainConfig, resume: bool) -> dict[str, Any]:
    saved_preset = to_dict(preset) if preset is not None else None
    d = setup_distributed(config.device)
    out = Path(config.out_dir)
    log_path, ckpt_path = out / LOG, out / CHECKPOINT

    # --- reproducibility and speed knobs ---
    if config.threads:
        torch.set_num_threads(config.threads)
    if config.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by deterministic cuBLAS
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    elif d.device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)  # same initial weights on every process
    use_amp = config.amp == "bf16" or (config.amp == "auto" and d.device.type == "cuda"
                                       and torch.cuda.is_bf16_supported())
    channels_last = config.channels_last == "on" or (config.channels_last == "auto" and d.device.type == "cuda")

    # --- data ---
    train_set, val_set, classes = build_datasets(config)
    train_set = SeededAugmentation(train_set, config.seed)
    if config.batch_size % d.world_size:
        raise ValueError(f"train.batch_size={config.batch_size} is not divisible by the {d.world_size} processes")
    batch = config.batch_size // d.world_size  # per process
    sampler = torch.utils.data.DistributedSampler(train_set, num_replicas=d.world_size, rank=d.rank, shuffle=True,
                                                  seed=config.seed, drop_last=True)
    steps_per_epoch = len(sampler) // batch
    if steps_per_epoch == 0:
        raise ValueError(f"{len(train_set)} training images give no full batch of {config.batch_size}; "
                         "lower train.batch_size or add images")
    loader_kwargs = dict(num_workers=config.num_workers, pin_memory=d.device.type == "cuda",
                         persistent_workers=False)
    val_subset = torch.utils.data.Subset(val_set, range(d.rank, len(val_set), d.world_size))
    val_loader = torch.utils.data.DataLoader(val_subset, batch_size=batch, shuffle=False, **loader_kwargs)

    # --- model, optimizer, schedule ---
    raw_model = build_model(config, len(classes))
    flops_per_image = 3.0 * forward_flops(raw_model, config.image_size)  # forward + backward ≈ 3 × forward
    raw_model = raw_model.to(d.device)
    if channels_last:
        raw_model = raw_model.to(memory_format=torch.channels_last)
    peak = device_peak_tflops(d.device, config.peak_tflops)
    optimizer = torch.optim.SGD(raw_model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.lr_step_epochs, gamma=config.lr_gamma)

    # --- resume ---
    epoch, step_in_epoch, global_step = 0, 0, 0
    stats = {"loss_sum": 0.0, "correct": 0.0, "count": 0.0}  # running (global) sums over the epoch
    if resume and ckpt_path.is_file():
        state = load_training_file(ckpt_path)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"{ckpt_path}: checkpoint format {state.get('format')} is not "
                                  f"{CHECKPOINT_FORMAT}; train afresh with --overwrite, or use another --out-dir")
        differences = _config_differences(state["config"], to_dict(config))
        if differences:
            raise ValueError(f"--resume: the config differs from the checkpoint {ckpt_path} in: "
                             + "; ".join(differences) + ". Use the same settings, or a new --out-dir.")
        started = state.get("epoch", 0) + (1 if state.get("step_in_epoch") else 0)  # an epoch begun must end
        if config.epochs < started:
            raise ValueError(f"--resume: epochs={config.epochs}, but the checkpoint {ckpt_path} has reached "
                             f"epoch {started}; set epochs to at least {started}, or use a new --out-dir.")
        try:
            raw_model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            epoch, step_in_epoch, global_step = state["epoch"], state["step_in_epoch"], state["global_step"]
            stats = dict(state["epoch_stats"])
            rng = state["rng"]
        except (KeyError, RuntimeError, TypeError, ValueError) as error:
            raise CheckpointError(f"{ckpt_path}: an incomplete training state ({type(error).__name__}: "
                                  f"{str(error).splitlines()[0][:120]}); train afresh with --overwrite") from None
        if len(rng) != d.world_size:
            print(f"warning: checkpoint from {len(rng)} processes, resuming with {d.world_size}: "
                  "training continues, but not bit-identically", file=sys.stderr)
        _set_rng_state(rng[d.rank % len(rng)], d.device)
        if d.is_main:
            _truncate_log(log_path, global_step)
            print(f"resumed from {ckpt_path}: epoch {epoch + 1}, step {step_in_epoch}/{steps_per_epoch}",
                  file=sys.stderr)
    elif resume and d.is_main:
        print(f"resume: no checkpoint in {out}, starting from scratch", file=sys.stderr)

    model: nn.Module = raw_model
    if d.enabled:
        model = nn.parallel.DistributedDataParallel(
            raw_model, device_ids=[d.local_rank] if d.device.type == "cuda" else None)
    if config.compile:
        model = torch.compile(model)

    def save_checkpoint() -> None:
        # a finite loss can still leave non-finite weights behind: never save those as "good"
        if not all(bool(torch.isfinite(t).all()) for t in raw_model.state_dict().values() if t.is_floating_point()):
            raise _non_finite(config, f"the weights became non-finite by step {global_step} (epoch {epoch + 1})",
                              ckpt_path)
        rng_states = _gather(_rng_state(d.device), d)  # a collective: every process calls it
        if not d.is_main:
            return
        _save({"format": CHECKPOINT_FORMAT, "config": to_dict(config), "preset": saved_preset,
               "num_classes": len(classes), "model": raw_model.state_dict(), "optimizer": optimizer.state_dict(),
               "scheduler": scheduler.state_dict(), "epoch": epoch, "step_in_epoch": step_in_epoch,
               "global_step": global_step, "epoch_stats": dict(stats), "rng": rng_states,
               "world_size": d.world_size}, ckpt_path)

    def log(record: Mapping[str, Any]) -> None:
        if d.is_main:
            out.mkdir(parents=True, exist_ok=True)
            with open(log_path, "a") as f:  # one short line per write: appends are atomic enough
                f.write(json.dumps(record) + "\n")

    def sync_buffers() -> None:
        # DDP syncs BatchNorm statistics from rank 0 at the start of each forward; do it now so
        # that validation and saved weights are identical on every process.
        if d.enabled:
            for buffer in raw_model.buffers():
                dist.broadcast(buffer, 0)

    from tqdm.auto import tqdm

    check_each_step = d.device.type == "cpu"
    autocast = (lambda: torch.autocast(d.device.type, dtype=torch.bfloat16)) if use_amp else nullcontext
    last: dict[str, Any] = {}
    stop = bool(config.max_steps) and global_step >= config.max_steps
    if d.is_main:
        out.mkdir(parents=True, exist_ok=True)
        if preset is not None:
            write_preset(out, preset)
    while epoch < config.epochs and not stop:
        sampler.set_epoch(epoch)
        train_set.set_epoch(epoch)
        loader = torch.utils.data.DataLoader(train_set, batch_size=batch, sampler=SkipSampler(sampler, step_in_epoch * batch),
                                             drop_last=True, **loader_kwargs)
        model.train()
        bar = tqdm(total=steps_per_epoch, initial=step_in_epoch, desc=f"epoch {epoch + 1}/{config.epochs}",
                   unit="batch", disable=not (d.is_main and config.progress), dynamic_ncols=True)
        loss_sum = torch.zeros((), dtype=torch.float64, device=d.device)  # on device: no sync per step
        correct = torch.zeros((), dtype=torch.float64, device=d.device)
        seen, t0 = 0, time.perf_counter()

        def flush_stats() -> None:
            # fold this process's device sums into the global running stats (a collective)
            nonlocal loss_sum, correct, seen
            total = _all_reduce_sum([loss_sum.item(), correct.item(), float(seen)], d)
            stats["loss_sum"] += total[0]
            stats["correct"] += total[1]
            stats["count"] += total[2]
            loss_sum.zero_(), correct.zero_()
            seen = 0
            if not math.isfinite(total[0]):  # summed over processes: every process stops here
                raise _non_finite(config, f"the loss became non-finite by step {global_step} (epoch {epoch + 1})",
                                  ckpt_path)

        images_timed, t_start = 0, time.perf_counter()
        for images, labels in loader:
            images = images.to(d.device, non_blocking=True)
            labels = labels.to(d.device, non_blocking=True)
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with autocast():
                logits = model(images)
                loss = F.cross_entropy(logits, labels)
            if check_each_step and not math.isfinite(loss.item()):  # free on a CPU; a sync on a GPU
                raise _non_finite(config, f"the loss became non-finite at step {global_step + 1} (epoch {epoch + 1})",
                                  ckpt_path)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

            loss_sum += loss.detach().double() * len(labels)
            correct += (logits.detach().argmax(1) == labels).sum().double()
            seen += len(labels)
            images_timed += len(labels) * d.world_size
            step_in_epoch += 1
            global_step += 1
            bar.update(1)
            if d.is_main and config.progress and (step_in_epoch % 10 == 0 or step_in_epoch == steps_per_epoch):
                rate = images_timed / max(time.perf_counter() - t_start, 1e-9)
                bar.set_postfix(loss=f"{loss.item():.3f}", img_s=f"{rate:.0f}")
            stop = bool(config.max_steps) and global_step >= config.max_steps
            if config.log_every_steps and global_step % config.log_every_steps == 0:
                flush_stats()
                elapsed = time.perf_counter() - t_start
                log({"kind": "step", "epoch": epoch + 1, "global_step": global_step,
                     "train_loss": stats["loss_sum"] / max(stats["count"], 1),
                     "train_top1": stats["correct"] / max(stats["count"], 1),
                     "lr": optimizer.param_groups[0]["lr"], "images_per_s": images_timed / max(elapsed, 1e-9),
                     "images": images_timed, "elapsed_s": elapsed})
            if step_in_epoch < steps_per_epoch and not stop and config.checkpoint_every_steps \
                    and global_step % config.checkpoint_every_steps == 0:
                flush_stats()
                save_checkpoint()
            if stop:
                break
        bar.close()
        flush_stats()
        train_seconds = time.perf_counter() - t_start
        images_per_s = images_timed / max(train_seconds, 1e-9)

        # --- end of epoch (or of a max_steps run): validate, log, checkpoint ---
        sync_buffers()
        val_loss, val_top1 = evaluate(raw_model, val_loader, d, channels_last, autocast)
        lr = optimizer.param_groups[0]["lr"]
        finished_epoch = step_in_epoch >= steps_per_epoch
        if finished_epoch:
            scheduler.step()
        record = {"kind": "epoch", "epoch": epoch + 1, "global_step": global_step,
                  "complete": finished_epoch,
                  "train_loss": stats["loss_sum"] / max(stats["count"], 1),
                  "train_top1": stats["correct"] / max(stats["count"], 1),
                  "val_loss": val_loss, "val_top1": val_top1, "lr": lr,
                  "images_per_s": images_per_s, "epoch_seconds": time.perf_counter() - t0,
                  "flops_per_image": flops_per_image,
                  "achieved_tflops": images_per_s * flops_per_image / 1e12,
                  "mfu": (images_per_s * flops_per_image / 1e12) / (peak * d.world_size) if peak else None,
                  "world_size": d.world_size, "device": str(d.device)}
        log(record)
        last = record
        if finished_epoch:
            epoch, step_in_epoch = epoch + 1, 0
            stats = {"loss_sum": 0.0, "correct": 0.0, "count": 0.0}
        save_checkpoint()
        if finished_epoch and config.keep_epoch_checkpoints and d.is_main:
            _save({"config": to_dict(config), "preset": saved_preset, "num_classes": len(classes),
                   "model": raw_model.state_dict(), "epoch": epoch, "val_top1": val_top1}, out / epoch_file(epoch))

    # --- the end: final weights, and a check that every process holds the same ones ---
    sync_buffers()
    digests = _gather(_state_digest(raw_model), d)
    summary = {"out_dir": str(out), "preset": preset.name if preset is not None else None, "model": config.model, "num_classes": len(classes), "classes": list(classes),
               "epochs_completed": epoch, "global_step": global_step, "world_size": d.world_size,
               "rank_state_digests": digests, "ranks_in_sync": len(set(digests)) == 1,
               "train_loss": last.get("train_loss"), "train_top1": last.get("train_top1"),
               "val_loss": last.get("val_loss"), "val_top1": last.get("val_top1"),
               "images_per_s": last.get("images_per_s"), "mfu": last.get("mfu"),
               "flops_per_image": flops_per_image, "checkpoint": str(ckpt_path),
               "model_path": str(out / FINAL_MODEL), "log": str(log_path)}
    if d.is_main:
        _save({"config": to_dict(config), "preset": saved_preset, "num_classes": len(classes), "classes": list(classes),
               "model": raw_model.state_dict(), "epoch": epoch, "global_step": global_step,
               "val_top1": last.get("val_top1")}, out / FINAL_MODEL)
        atomic_write_text(out / SUMMARY, json.dumps({k: v for k, v in summary.items() if k != "classes"}, indent=1))
    if d.enabled:
        dist.barrier()
    return summary


@torch.no_grad()
def evaluate(model: nn.Module, loader, d: Dist, channels_last: bool = False, autocast=nullcontext) -> tuple[float, float]:
    """(mean cross-entropy, top-1) over a (per-process shard of a) validation set, summed over processes."""
    was_training = model.training
    model.eval()
    loss_sum = correct = count = 0.0
    for images, labels in loader:
        images, labels = images.to(d.device), labels.to(d.device)
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with autocast():
            logits = model(images)
        loss_sum += F.cross_entropy(logits.float(), labels, reduction="sum").item()
        correct += (logits.argmax(1) == labels).sum().item()
        count += len(labels)
    model.train(was_training)
    loss_sum, correct, count = _all_reduce_sum([loss_sum, correct, count], d)
    return loss_sum / max(count, 1), correct / max(count, 1)


def recompute_batchnorm(model: nn.Module, loader, max_images: int | None = None) -> int:
    """Set every BatchNorm layer's running mean and variance to exact averages over the images of
    ``loader`` (up to ``max_images``), the weights unchanged; return the number of images used.

    In eval mode BatchNorm normalizes with running averages (momentum .1) that follow the last ~10
    training batches, so nearly equal weights can score a point or two apart from one epoch to the
    next; exact averages remove that part of the epoch-to-epoch change, leaving the weights' own
    (benchmarks/bench_bn_noise.py measures both). Runs on the model's device.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over every batch seen
    was_training, seen = model.training, 0
    device = next(model.parameters()).device
    model.train()
    with torch.no_grad():
        for images, _ in loader:
            if max_images is not None and seen >= max_images:
                break
            model(images.to(device))
            seen += len(images)
    for m, momentum in zip(layers, momenta):
        m.momentum = momentum
    model.train(was_training)
    return seen
