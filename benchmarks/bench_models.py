"""CORnet-S training-step throughput, parameter count and FLOPs per image.

CPU: fp32 eager train steps (forward, cross-entropy, backward, SGD with momentum) at batch 8 x
224 px. With CUDA, also the fast GPU path: bf16 autocast + channels_last, and optionally
torch.compile. Prints images/s per mode. Runs in about 2 minutes on 2 CPU cores.

    python benchmarks/bench_models.py [--batch-size 8] [--steps 3] [--compile] [--model cornet_s]
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from cornet_repro.models import get_model


def flops_per_image(model: torch.nn.Module, image_size: int) -> tuple[int, int]:
    """FLOPs (multiply-adds count 2) of one forward and of one training step, per image."""
    x = torch.randn(1, 3, image_size, image_size)
    was_training = model.training
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    forward = counter.get_total_flops()
    model.train()
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return forward, counter.get_total_flops()


def train_throughput(model: torch.nn.Module, device: torch.device, batch_size: int, image_size: int,
                     steps: int, warmup: int, autocast_bf16: bool = False, channels_last: bool = False,
                     compile_model: bool = False) -> float:
    """Images per second over ``steps`` timed training steps (after ``warmup`` untimed ones)."""
    model = model.to(device).train()
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    step_model = torch.compile(model) if compile_model else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch_size, 3, image_size, image_size, device=device).to(memory_format=memory_format)
    y = torch.randint(0, 1000, (batch_size,), device=device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if autocast_bf16
                    else contextlib.nullcontext())
        with autocast:
            loss = torch.nn.functional.cross_entropy(step_model(x), y)
        loss.backward()
        optimizer.step()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return steps * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cornet_s")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=3, help="timed CPU steps (GPU: 10x)")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile on CPU)")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = get_model(args.model)
    n_parameters = sum(p.numel() for p in model.parameters())
    forward_flops, train_flops = flops_per_image(model, args.image_size)
    print(f"model {args.model}: {n_parameters:,} parameters")
    print(f"FLOPs per image at {args.image_size} px: forward {forward_flops / 1e9:.2f} GFLOP, "
          f"train step {train_flops / 1e9:.2f} GFLOP")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"CUDA {'available: ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'not available'}")

    modes: list[tuple[str, torch.device, dict]] = [("cpu fp32 eager", torch.device("cpu"), {})]
    if args.compile:
        modes.append(("cpu fp32 compile", torch.device("cpu"), {"compile_model": True}))
    if torch.cuda.is_available():
        cuda = torch.device("cuda")
        modes += [("cuda fp32 eager", cuda, {}),
                  ("cuda bf16 autocast + channels_last", cuda, {"autocast_bf16": True, "channels_last": True})]
        if args.compile:
            modes.append(("cuda bf16 + channels_last + compile", cuda,
                          {"autocast_bf16": True, "channels_last": True, "compile_model": True}))

    for name, device, options in modes:
        steps = args.steps if device.type == "cpu" else 10 * args.steps
        warmup = 2 if options.get("compile_model") else 1
        images_per_s = train_throughput(get_model(args.model), device, args.batch_size, args.image_size,
                                        steps, warmup, **options)
        print(f"{name:40s} batch {args.batch_size} x {args.image_size} px: {images_per_s:8.2f} images/s "
              f"({images_per_s * train_flops / 1e9:.1f} GFLOP/s)")


if __name__ == "__main__":
    main()
