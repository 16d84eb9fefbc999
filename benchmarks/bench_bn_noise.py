"""How much of the epoch-to-epoch change in validation top-1 at the plateau preset is noise from
BatchNorm's running statistics?

In eval mode a BatchNorm layer normalizes with running averages (momentum .1) that follow the last
~10 training batches of the epoch, so two nearly equal sets of weights can score differently. For
each run of the sweep this re-evaluates the weights kept after its last epochs twice
(:func:`cornet_repro.sweeps.plateau_check`): as saved, and with every BatchNorm's statistics
recomputed as exact averages over one pass of the run's training images (weights unchanged). If
the saved values move more from epoch to epoch than the recomputed ones, that part is measurement
noise, not learning.

Run: .venv/bin/python benchmarks/bench_bn_noise.py [--runs-dir runs/sweep] [--last 4]
       [--models fig4|cornet_s,...] [--seeds 0 1 2] [--jobs 2]
Needs the sweep's runs with their per-epoch weights (``cornet-repro sweep --preset plateau``).
Measured on 2 cores: see the issue note.
"""

from __future__ import annotations

import argparse
import sys

from cornet_repro.pipeline import run_directory
from cornet_repro.presets import get_preset
from cornet_repro.sweeps import FIG4_SWEEP_MODELS, plateau_check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-dir", default="runs/sweep")
    parser.add_argument("--models", default="fig4")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--last", type=int, default=4, help="epochs at the end of each run to re-evaluate")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    preset = get_preset("plateau")
    models = FIG4_SWEEP_MODELS if args.models == "fig4" else args.models.split(",")
    runs = [run_directory(preset.replace({"train.model": m, "train.seed": s}), args.runs_dir)
            for m in models for s in args.seeds]
    missing = [str(run) for run in runs if not (run / "model.pt").is_file()]
    if missing:
        sys.exit(f"bench_bn_noise: no finished run in {missing[:3]}{' ...' if len(missing) > 3 else ''}; make the "
                 "sweep first (cornet-repro sweep --preset plateau --models fig4 --seeds 0 1 2)")
    check = plateau_check(args.runs_dir, preset, models, args.seeds, last=args.last, jobs=args.jobs)
    print(f"{'run':34s} epochs  validation top-1 (%): saved BatchNorm statistics | recomputed   last-epoch rise")
    steps = {"val_top1": [], "val_top1_exact_bn": []}
    for (model, seed), run in check.groupby(["model_name", "seed"], sort=False):
        for key in steps:
            steps[key] += list((run[key].diff().dropna().abs() * 100))
        saved, exact = run["val_top1"].to_numpy() * 100, run["val_top1_exact_bn"].to_numpy() * 100
        print(f"{model + ' seed ' + str(seed):34s} {run.epoch.min():>2d}-{run.epoch.max():<3d} "
              + " ".join(f"{v:4.1f}" for v in saved) + " | " + " ".join(f"{v:4.1f}" for v in exact)
              + f"   {saved[-1] - saved[-2]:+.1f} | {exact[-1] - exact[-2]:+.1f}", flush=True)
    for key, label in (("val_top1", "saved BatchNorm statistics"), ("val_top1_exact_bn", "recomputed statistics")):
        values = sorted(steps[key])
        print(f"{label}: |change| between consecutive epochs: median {values[len(values) // 2]:.2f}, "
              f"max {values[-1]:.2f} points over {len(values)} steps")


if __name__ == "__main__":
    main()
