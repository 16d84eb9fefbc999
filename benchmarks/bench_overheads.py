"""Three per-run overheads of the book's training sweep, each measured side by side with its fix.

1. Seeding the augmentation of every training image: ``torch.manual_seed`` vs seeding the CPU
   generator directly (what ``cornet_repro.training_data.SeededAugmentation`` does).
2. The OST metric's logistic decoders (one split × 18 time bins, the small preset's simulated
   IT features of an untrained CORnet-S): OpenBLAS with its default threads vs one thread (what
   ``cornet_repro.metrics.ost`` does).
3. The small preset's training images: rendered vs read from the cache
   (``SimulatedObjects.preload``).

    python benchmarks/bench_overheads.py      # about a minute on 2 cores
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
import torch


def per_call_us(f, n: int = 2000) -> float:
    start = time.perf_counter()
    for i in range(n):
        f(i)
    return (time.perf_counter() - start) / n * 1e6


def seeding() -> None:
    slow = per_call_us(lambda i: torch.manual_seed(i))
    fast = per_call_us(lambda i: torch.default_generator.manual_seed(i))
    print(f"1. seeding per image: torch.manual_seed {slow:7.1f} us   default_generator.manual_seed {fast:5.1f} us   "
          f"ratio {slow / fast:.0f}x", flush=True)


def ost_decoders() -> None:
    from threadpoolctl import threadpool_info, threadpool_limits

    from cornet_repro.activations import extract_time_bins
    from cornet_repro.metrics._util import cv_splits
    from cornet_repro.metrics.ost import model_osts
    from cornet_repro.models import get_model
    from cornet_repro.models.time_mapping import OST_TIME_BINS
    from cornet_repro.presets import get_preset
    from cornet_repro.data.brain import BrainData

    torch.manual_seed(0)
    model = get_model("cornet_s", width=0.125, image_size=64, num_classes=32).eval()
    with tempfile.TemporaryDirectory() as cache:
        brain = BrainData.simulated(get_preset("small").simulated, cache=cache)
        ids = np.asarray(brain.ost["stimulus_id"].values)
        with torch.no_grad():
            bins = extract_time_bins(model, brain.ost_stimuli, "IT", OST_TIME_BINS, mapping=model.time_mapping,
                                     stimulus_ids=ids, image_size=64, batch_size=64, progress=False)
    bins = bins.assign_coords(truth=("presentation", np.asarray(brain.ost["truth"].values)))
    (train, test), = cv_splits(len(ids), n_splits=1, test_size=0.1, random_state=1)
    thresholds = np.asarray(brain.ost["i1"].values, dtype=float)[test]
    threads = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
    times = {}
    for label, limit in ((f"{threads} BLAS threads", None), ("1 BLAS thread", 1)):
        with threadpool_limits(limits=limit, user_api="blas"):
            start = time.perf_counter()
            model_osts(bins.isel(presentation=train), bins.isel(presentation=test), thresholds)
            times[label] = time.perf_counter() - start
    (a, ta), (b, tb) = times.items()
    print(f"2. OST decoders, 1 split x {len(OST_TIME_BINS)} bins ({bins.sizes['neuroid']} features, {len(train)} "
          f"images): {a} {ta:6.2f} s   {b} {tb:6.2f} s   ratio {ta / tb:.1f}x   (load average "
          f"{os.getloadavg()[0]:.1f})")


def training_images() -> None:
    from cornet_repro.data.simulated import SimulatedObjects
    from cornet_repro.presets import get_preset

    t = get_preset("small").train
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        SimulatedObjects(t.simulated, t.n_train, "train").preload(cache=cache)
        rendered = time.perf_counter() - start
        start = time.perf_counter()
        SimulatedObjects(t.simulated, t.n_train, "train").preload(cache=cache)
        cached = time.perf_counter() - start
    print(f"3. {t.n_train} training images: rendered {rendered:6.2f} s   from the cache {cached:6.3f} s   "
          f"ratio {rendered / cached:.0f}x")


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(f"{os.cpu_count()} CPU cores")
    seeding()
    ost_decoders()
    training_images()
