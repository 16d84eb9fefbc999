"""Learning curves at the plateau preset: does each model reach a plateau, and is a run the same
when trained again?

Trains CORnet-S and the slowest variant (10/10/10 steps) at ``plateau`` (seed 0, one thread each,
two at once as the shipped sweep was made), prints validation top-1 per epoch, the rise over the
last epoch and the seconds per run, and compares every number with the shipped sweep
(``cornet_repro/data/shipped/plateau``): training is deterministic, so they must be equal.

Run: .venv/bin/python benchmarks/bench_plateau.py [--models cornet_s,...] [--seed 0]
Targets: every run's last-epoch rise < 1 point of top-1; CORnet-S ≥ 5× chance; the curves equal
the shipped ones (largest |Δ| 0). Measured on 2 cores: see the issue note.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from cornet_repro.data.shipped import read_curves, shipped_names
from cornet_repro.figures.training import PLATEAU_RISE, plateau_table
from cornet_repro.presets import get_preset
from cornet_repro.sweeps import learning_curves, run_sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="cornet_s,cornet_s_steps_10_10_10")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    models = args.models.split(",")
    preset = get_preset("plateau")
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        outcomes = run_sweep(preset, models, [args.seed], Path(folder) / "results", Path(folder) / "runs",
                             jobs=min(2, len(models)), ost_models=())
        wall = time.perf_counter() - start
        curves = learning_curves([Path(folder) / "runs" / preset.name / f"{m}-seed{args.seed}" for m in models])
    chance = 1 / preset.simulated.n_objects
    print(curves.pivot(index="epoch", columns="model_name", values="val_top1").round(3).to_string())
    table = plateau_table(curves)
    for row in table.itertuples():
        seconds = next(o.seconds for o in outcomes if o.model == row.model_name)
        print(f"{row.model_name}: top-1 {row.val_top1:.3f} ({row.val_top1 / chance:.1f}x chance), last-epoch rise "
              f"{row.last_rise * 100:+.2f} points ({'plateau' if row.plateau else 'NOT at a plateau'}; target < "
              f"{PLATEAU_RISE * 100:.0f}), {seconds:.0f} s trained and scored")
    print(f"wall time {wall:.0f} s for {len(models)} runs, two at a time")
    if "plateau" in shipped_names():
        shipped = read_curves("plateau")
        both = curves.merge(shipped, on=["model_name", "seed", "epoch"], suffixes=("", "_shipped"))
        # curves.csv keeps 6 significant digits: compare at that precision
        stored = lambda v: float(f"{v:.6g}")  # noqa: E731
        worst = max((both[c].map(stored) - both[f"{c}_shipped"]).abs().max()
                    for c in ("train_top1", "val_top1", "train_loss", "val_loss"))
        print(f"against the shipped sweep: {len(both)} epochs compared at curves.csv's 6 significant digits, "
              f"largest |Δ| {worst:.3g}")


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    main()
