"""Train a model with the paper's recipe (§2.2), on one CPU or many GPUs. One file, top to bottom.

    python -m cornet_repro.train --preset tiny                  # seconds, CPU, simulated images
    python -m cornet_repro.train --preset paper --data-path /data/imagenet --out-dir runs/cornet_s
    torchrun --nproc_per_node 8 -m cornet_repro.train --preset paper --data-path /data/imagenet
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST:29500 \\
        -m cornet_repro.train --preset paper --data-path /data/imagenet
    python -m cornet_repro.train --preset paper ... --resume    # continue after an interruption

The recipe: SGD (momentum .9, weight decay 1e-4), cross-entropy, lr .1 divided by 10 every 20
epochs, 43 epochs, global batch 256; RandomResizedCrop 224 + horizontal flip for training, resize
256 + center crop 224 for validation, ImageNet mean/std. On a GPU: bf16 autocast and channels_last,
optionally ``torch.compile``. Several processes (``torchrun``) train with DistributedDataParallel
(NCCL on GPUs, gloo on CPUs); the global batch is split over them.

Outputs in ``out_dir``: ``log.jsonl`` (one line per epoch: loss, top-1, lr, images/s and, on a GPU,
model FLOPs utilization; optionally one per N steps), ``checkpoint.pt`` (the latest full training
state, written atomically at every epoch end and every N steps), ``model.pt`` (the final weights
and config), ``epoch_XXX.pt`` (weights per epoch, if kept) and ``summary.json``.

Exact resume: augmentation randomness is a function of (seed, epoch, image index), the sampler's
order a function of (seed, epoch), and a checkpoint holds model, optimizer, scheduler, position in
the epoch, running epoch statistics and every process's RNG states; with ``deterministic: true``
and the same number of processes and threads, an interrupted and resumed run ends with the same
weights, bit for bit, as an uninterrupted one (tested on CPU).
"""

from __future__ import annotations

import argparse
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
from typing import Any, Iterator, Mapping, Sequence

# Set before torch loads OpenMP: idle OpenMP threads then sleep instead of spinning. On a shared
# or oversubscribed CPU, spinning made 2 threads train 40x slower than 1 (measured: 15 vs 600
# images/s); with PASSIVE, 2 threads ran at ~400. Set OMP_WAIT_POLICY yourself to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from .files import atomic_path, atomic_write_text
from .presets import PRESETS, Preset, PresetError, TrainConfig, from_dict, load_preset, preset_help, to_dict

__all__ = ["train", "build_model", "build_datasets", "load_trained_model", "add_arguments", "main",
           "register_cli", "forward_flops", "CHECKPOINT", "FINAL_MODEL", "LOG"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CHECKPOINT, FINAL_MODEL, LOG, SUMMARY = "checkpoint.pt", "model.pt", "log.jsonl", "summary.json"
CHECKPOINT_FORMAT = 1

# Config fields that may differ on --resume: they change how a run is watched or stored, not
# what it computes. Everything else must match the checkpoint.
_RESUMABLE_CHANGES = {"out_dir", "progress", "num_workers", "threads", "max_steps", "log_every_steps",
                      "checkpoint_every_steps", "keep_epoch_checkpoints", "peak_tflops", "compile", "data_path"}

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
# Data
# ---------------------------------------------------------------------------------------------

def _to_rgb(image):
    # Simulated images are grayscale; models take RGB (the paper's OST images were grayscale too).
    return image.convert("RGB")


def transforms_for(config: TrainConfig):
    """(train, val) torchvision transforms of the recipe."""
    from torchvision import transforms as T

    normalize = [T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    train_tf = [T.Lambda(_to_rgb), T.RandomResizedCrop(config.image_size, scale=tuple(config.crop_scale))]
    if config.hflip:
        train_tf.append(T.RandomHorizontalFlip())
    val_tf = [T.Lambda(_to_rgb), T.Resize(config.val_resize), T.CenterCrop(config.image_size)]
    return T.Compose(train_tf + normalize), T.Compose(val_tf + normalize)


class SeededAugmentation(torch.utils.data.Dataset):
    """Wrap a dataset so that its random transforms depend only on (seed, epoch, index).

    Then the images of a batch do not depend on worker count, process count or where a resumed
    run restarted, which is what makes resume exact.
    """

    def __init__(self, dataset, seed: int) -> None:
        self.dataset, self.seed, self.epoch = dataset, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        state = torch.get_rng_state()
        try:
            # torchvision's transforms draw from the CPU generator. Seeding it directly, not through
            # torch.manual_seed (which also queues seeds for every GPU backend and records a stack
            # trace each call): 1 us instead of ~100 us per image (benchmarks/bench_overheads.py);
            # with the cached training images, a small-preset run of the lightest Fig. 4 variant
            # went from 28 s to 16 s.
            torch.default_generator.manual_seed((self.seed * 1_000_003 + self.epoch) * 10_000_019 + index)
            return self.dataset[index]
        finally:
            torch.set_rng_state(state)


class SkipSampler(torch.utils.data.Sampler):
    """The first ``skip`` indices of a sampler dropped: where a resumed epoch continues."""

    def __init__(self, sampler, skip: int) -> None:
        self.sampler, self.skip = sampler, skip

    def __iter__(self) -> Iterator[int]:
        it = iter(self.sampler)
        for _ in range(self.skip):
            next(it)
        yield from it

    def __len__(self) -> int:
        return len(self.sampler) - self.skip


def build_datasets(config: TrainConfig):
    """``(train, val, class_names)`` for the config's data source (transforms attached)."""
    train_tf, val_tf = transforms_for(config)
    if config.data == "simulated":
        from .data.simulated import SimulatedObjects

        train_ds = SimulatedObjects(config.simulated, config.n_train, "train", transform=train_tf).preload()
        val_ds = SimulatedObjects(config.simulated, config.n_val, "val", transform=val_tf).preload()
        return train_ds, val_ds, train_ds.classes
    from .data.imagefolder import imagefolder_datasets

    train_ds, val_ds = imagefolder_datasets(config.data_path, train_tf, val_tf)
    return train_ds, val_ds, train_ds.classes


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------

def build_model(config: TrainConfig, num_classes: int) -> nn.Module:
    """``get_model(config.model, num_classes=..., **config.model_config)`` (CORnet-S family: also image_size)."""
    from .models import get_model
    from .models.config import FIG4_PRESETS

    kwargs: dict[str, Any] = {"num_classes": num_classes}
    if config.model == "cornet_s" or config.model in FIG4_PRESETS:
        kwargs["image_size"] = config.image_size
    kwargs.update(config.model_config)
    return get_model(config.model, **kwargs)


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


def load_checkpoint_file(path: str | os.PathLike) -> dict[str, Any]:
    """A checkpoint or final model file, read with ``weights_only=True``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_trained_model(path: str | os.PathLike) -> tuple[nn.Module, TrainConfig]:
    """A trained model (eval mode, CPU) and its training config, from ``model.pt``,
    ``checkpoint.pt``, ``epoch_XXX.pt`` or a run directory."""
    path = Path(path)
    if path.is_dir():
        path = path / FINAL_MODEL if (path / FINAL_MODEL).is_file() else path / CHECKPOINT
    state = load_checkpoint_file(path)
    config = from_dict(TrainConfig, state["config"], "train")
    model = build_model(config, int(state["num_classes"]))
    model.load_state_dict(state["model"])
    return model.eval(), config


def _config_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    keys = sorted((set(saved) | set(current)) - _RESUMABLE_CHANGES)
    return [f"{k}: checkpoint {saved.get(k)!r} vs now {current.get(k)!r}" for k in keys if saved.get(k) != current.get(k)]


def _truncate_log(path: Path, global_step: int) -> None:
    """Drop log lines written after the checkpoint we resume from (they will be written again)."""
    if not path.is_file():
        return
    keep = [line for line in path.read_text().splitlines()
            if line.strip() and json.loads(line).get("global_step", 0) <= global_step]
    atomic_write_text(path, "".join(line + "\n" for line in keep))


def _state_digest(model: nn.Module) -> str:
    h = hashlib.sha256()
    for key, value in model.state_dict().items():
        h.update(key.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# The training loop
# ---------------------------------------------------------------------------------------------

def train(config: TrainConfig | Preset, *, resume: bool = False, preset_name: str | None = None) -> dict[str, Any]:
    """Train ``config`` (a :class:`TrainConfig` or a :class:`Preset`) and return a summary.

    With ``resume=True`` and a ``checkpoint.pt`` in ``config.out_dir``, continue from it exactly.
    Works unchanged under ``torchrun`` (one call per process; only rank 0 writes files).
    ``preset_name`` (taken from a Preset) is recorded in the saved files, for scoring later.
    """
    if isinstance(config, Preset):
        preset_name = preset_name or config.name
        config = config.train
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
        state = load_checkpoint_file(ckpt_path)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{ckpt_path}: checkpoint format {state.get('format')} is not {CHECKPOINT_FORMAT}")
        differences = _config_differences(state["config"], to_dict(config))
        if differences:
            raise ValueError(f"--resume: the config differs from the checkpoint {ckpt_path} in: "
                             + "; ".join(differences) + ". Use the same settings, or a new --out-dir.")
        raw_model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        epoch, step_in_epoch, global_step = state["epoch"], state["step_in_epoch"], state["global_step"]
        stats = dict(state["epoch_stats"])
        rng = state["rng"]
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
        rng_states = _gather(_rng_state(d.device), d)  # a collective: every process calls it
        if not d.is_main:
            return
        _save({"format": CHECKPOINT_FORMAT, "config": to_dict(config), "preset": preset_name, "num_classes": len(classes),
               "model": raw_model.state_dict(), "optimizer": optimizer.state_dict(),
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

    autocast = (lambda: torch.autocast(d.device.type, dtype=torch.bfloat16)) if use_amp else nullcontext
    last: dict[str, Any] = {}
    stop = bool(config.max_steps) and global_step >= config.max_steps
    if d.is_main:
        out.mkdir(parents=True, exist_ok=True)
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

        images_timed, t_start = 0, time.perf_counter()
        for images, labels in loader:
            images = images.to(d.device, non_blocking=True)
            labels = labels.to(d.device, non_blocking=True)
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with autocast():
                logits = model(images)
                loss = F.cross_entropy(logits, labels)
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
            _save({"config": to_dict(config), "preset": preset_name, "num_classes": len(classes),
                   "model": raw_model.state_dict(), "epoch": epoch, "val_top1": val_top1}, out / f"epoch_{epoch:03d}.pt")

    # --- the end: final weights, and a check that every process holds the same ones ---
    sync_buffers()
    digests = _gather(_state_digest(raw_model), d)
    summary = {"out_dir": str(out), "preset": preset_name, "model": config.model, "num_classes": len(classes), "classes": list(classes),
               "epochs_completed": epoch, "global_step": global_step, "world_size": d.world_size,
               "rank_state_digests": digests, "ranks_in_sync": len(set(digests)) == 1,
               "train_loss": last.get("train_loss"), "train_top1": last.get("train_top1"),
               "val_loss": last.get("val_loss"), "val_top1": last.get("val_top1"),
               "images_per_s": last.get("images_per_s"), "mfu": last.get("mfu"),
               "flops_per_image": flops_per_image, "checkpoint": str(ckpt_path),
               "model_path": str(out / FINAL_MODEL), "log": str(log_path)}
    if d.is_main:
        _save({"config": to_dict(config), "preset": preset_name, "num_classes": len(classes), "classes": list(classes),
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


# ---------------------------------------------------------------------------------------------
# Command line: `python -m cornet_repro.train` and `cornet-repro train`
# ---------------------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The training options (shared by ``python -m cornet_repro.train`` and ``cornet-repro train``)."""
    parser.add_argument("--preset", default="tiny",
                        help=f"built-in preset ({', '.join(PRESETS)}) or a YAML file (default: tiny)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a preset field, e.g. --set epochs=3 --set model_config.width=0.5 "
                             "(keys under train. unless they name another section; values read as YAML)")
    parser.add_argument("--model", help="model name, e.g. cornet_s or a Fig. 4 preset such as cornet_s_skip_absent")
    parser.add_argument("--data-path", help="ImageNet ImageFolder root (train/ and val/ class folders)")
    parser.add_argument("--out-dir", help="where checkpoints and logs go (default: the preset's)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--resume", action="store_true", help="continue from <out-dir>/checkpoint.pt if present")
    parser.add_argument("--print-config", action="store_true", help="print the resolved preset as YAML and exit")
    return parser


def config_from_args(args: argparse.Namespace) -> Preset:
    """The preset named by ``--preset`` with the command line's overrides applied."""
    import yaml

    overrides: dict[str, Any] = {}
    for item in args.overrides:
        if "=" not in item:
            raise PresetError(f"--set {item!r}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        if key.split(".")[0] not in ("train", "score", "brain_data", "name", "description"):
            key = "train." + key
        overrides[key] = yaml.safe_load(value)
    for option, key in (("model", "train.model"), ("data_path", "train.data_path"), ("out_dir", "train.out_dir"),
                        ("epochs", "train.epochs"), ("seed", "train.seed"), ("device", "train.device")):
        if getattr(args, option, None) is not None:
            overrides[key] = getattr(args, option)
    if getattr(args, "compile", False):
        overrides["train.compile"] = True
    return load_preset(args.preset, overrides)


def main(args: argparse.Namespace | Sequence[str] | None = None) -> int:
    """Run training from parsed arguments (or an argv list); returns a process exit code."""
    if not isinstance(args, argparse.Namespace):
        args = build_parser().parse_args(args)
    try:
        preset = config_from_args(args)
    except PresetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.print_config:
        print(preset.to_yaml())
        return 0
    try:
        summary = train(preset, resume=args.resume)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps({k: summary[k] for k in ("out_dir", "epochs_completed", "global_step", "val_top1",
                                                  "images_per_s", "model_path")}, indent=1))
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cornet_repro.train", description=__doc__.split("\n\n")[0],
        epilog="presets:\n" + preset_help() + "\n\nMulti-GPU / multi-node: launch with torchrun "
               "(e.g. torchrun --nproc_per_node 8 -m cornet_repro.train --preset paper --data-path ...).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    return add_arguments(parser)


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add ``cornet-repro train`` (and ``score``, until the CLI registers cornet_repro.results itself)."""
    if "train" not in subparsers.choices:
        sub = subparsers.add_parser("train", help="train a model (presets tiny / small / paper)",
                                    description=build_parser().description, epilog=build_parser().epilog,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        add_arguments(sub)
        sub.set_defaults(func=main)
    try:
        from . import results
    except ImportError:  # pragma: no cover
        return
    results.register_cli(subparsers)


if __name__ == "__main__":
    sys.exit(main())
