"""Training throughput of the real training loop (``cornet_repro.train``), measured side by side.

For the tiny and small presets on this CPU: one process with 1 and with 2 intra-op threads, and
DDP with 2 processes × 1 thread (``torchrun``, gloo), all with the same global batch. Each
configuration runs ``python -m cornet_repro train`` in a fresh process for a fixed number of
optimizer steps; images/s are taken from the step log *after* the warm-up steps (so process
start-up, data generation for the first batches and allocator warm-up are excluded), and are
global (all processes). With CUDA: the paper preset's model at 224 px, bf16 autocast +
channels_last, on synthetic batches, with model FLOPs utilization.

    python benchmarks/bench_train.py [--steps 24] [--warmup 4] [--presets tiny small]

Runs in about 2-3 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(preset: str, steps: int, warmup: int, threads: int, processes: int, out: Path) -> dict:
    """Train ``steps`` steps; return images/s over steps warmup..steps (and the wall time)."""
    command = [sys.executable]
    if processes > 1:
        command += ["-m", "torch.distributed.run", "--nproc_per_node", str(processes), "--standalone"]
    command += ["-m", "cornet_repro", "train", "--preset", preset, "--out-dir", str(out),
                "--set", f"max_steps={steps}", "--set", "log_every_steps=1", "--set", "progress=false",
                "--set", f"threads={threads}", "--set", "checkpoint_every_steps=0", "--set", "epochs=100"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    lines = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    step_lines = [line for line in lines if line["kind"] == "step"]
    epoch = next(line for line in lines if line["kind"] == "epoch")
    # window rate between the end of the warm-up and the last step (both inside the first epoch
    # for these step counts; if an epoch boundary falls inside, fall back to the epoch's rate)
    a, b = step_lines[warmup - 1], step_lines[-1]
    if a["epoch"] == b["epoch"] and b["elapsed_s"] > a["elapsed_s"]:
        rate = (b["images"] - a["images"]) / (b["elapsed_s"] - a["elapsed_s"])
    else:
        rate = epoch["images_per_s"]
    return {"images_per_s": rate, "wall_s": wall, "flops_per_image": epoch["flops_per_image"]}


def gpu_benchmark(steps: int = 20, warmup: int = 5, batch: int = 128) -> dict | None:
    """The paper's model on the GPU path (bf16 + channels_last), synthetic batches."""
    import torch
    import torch.nn.functional as F

    if not torch.cuda.is_available():
        return None
    from cornet_repro.presets import get_preset
    from cornet_repro.runs import build_model
    from cornet_repro.train import device_peak_tflops, forward_flops

    config = get_preset("paper").train
    device = torch.device("cuda")
    model = build_model(config, 1000).to(device).to(memory_format=torch.channels_last)
    flops = 3 * forward_flops(model, 224)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch, 3, 224, 224, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device=device)
    for i in range(warmup + steps):
        if i == warmup:
            torch.cuda.synchronize()
            start = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    torch.cuda.synchronize()
    rate = steps * batch / (time.perf_counter() - start)
    peak = device_peak_tflops(device)
    return {"device": torch.cuda.get_device_name(device), "images_per_s": rate,
            "tflops": rate * flops / 1e12, "mfu": rate * flops / 1e12 / peak if peak else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=24, help="optimizer steps per configuration")
    parser.add_argument("--warmup", type=int, default=4, help="steps excluded from the rate")
    parser.add_argument("--presets", nargs="+", default=["tiny", "small"])
    args = parser.parse_args()
    configs = [("1 proc x 1 thread", 1, 1), ("1 proc x 2 threads", 2, 1), ("DDP 2 procs x 1 thread", 1, 2)]
    print(f"cornet_repro.train throughput on {os.cpu_count()} CPU cores (load average now "
          f"{os.getloadavg()[0]:.1f}); {args.steps} steps, rate after {args.warmup} warm-up steps")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets:
            for label, threads, processes in configs:
                out = Path(tmp) / f"{preset}-{threads}-{processes}"
                rows[preset, label] = run(preset, args.steps, args.warmup, threads, processes, out)
                r = rows[preset, label]
                print(f"  {preset:5s} {label:24s} {r['images_per_s']:8.1f} images/s   "
                      f"({r['flops_per_image'] / 3e6:.0f} MFLOP forward/image; run took {r['wall_s']:.0f} s)",
                      flush=True)
    print("\nratios (same preset, same global batch):")
    for preset in args.presets:
        base = rows[preset, configs[0][0]]["images_per_s"]
        two_threads = rows[preset, configs[1][0]]["images_per_s"] / base
        ddp = rows[preset, configs[2][0]]["images_per_s"] / base
        print(f"  {preset:5s} 2 threads / 1 thread = {two_threads:.2f}x   DDP 2 procs / 1 proc = {ddp:.2f}x")
    gpu = gpu_benchmark()
    if gpu is None:
        print("\nGPU: none available (the bf16 + channels_last path and MFU are measured when CUDA is present)")
    else:
        mfu = f"{gpu['mfu']:.1%}" if gpu["mfu"] is not None else "n/a (unknown peak)"
        print(f"\nGPU {gpu['device']}: paper model, 224 px, bf16 + channels_last: {gpu['images_per_s']:.0f} images/s, "
              f"{gpu['tflops']:.1f} TFLOP/s, MFU {mfu}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
