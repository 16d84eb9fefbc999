"""Speed and memory of our metrics vs brainscore-vision 2.4.2, and VGG-16 activations in bounded memory.

    .venv/bin/python benchmarks/bench_metrics.py            # full: theirs on all 10 splits (~8 min)
    .venv/bin/python benchmarks/bench_metrics.py --quick    # theirs on 2 splits, extrapolated ×5 (labelled)
    .venv/bin/python benchmarks/bench_metrics.py --skip-vgg # metrics only

Sections (each stage runs in its own process, so its peak RSS is its own):

1. neural predictivity, 2,560 images × 25,088 features × 168 sites (simulated), 10 splits of
   PLS(25): ours (kernel PLS) vs brainscore-vision's ``CrossRegressedCorrelation(pls_regression())``;
2. split-half ceiling on 64,000 trials (2,560 images × 25 repetitions × 168 sites);
3. I2n human ceiling and model score on ~300,000 trials (240 images, 24 objects);
4. VGG-16 (random weights: no downloads) over all 20 candidate layers on 2,560 images at 224 px,
   per-layer PCA to 1,000 components fitted on 1,000 other images (Brain-Score's count), then the
   nested layer selection for one region: peak RSS must stay under 8 GB.

Brain-Score runs in the isolated venv made by ``crosscheck_brainscore.py`` (created if absent).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_IMAGES, N_FEATURES, N_SITES, N_OBJECTS = 2560, 25_088, 168, 64
CEILING_REPS = 25  # 2,560 × 25 = 64,000 trials
BEHAVIOR_OBJECTS, BEHAVIOR_IMAGES_PER_OBJECT, TRIALS_PER_PAIR = 24, 10, 54  # 240 × 23 × 54 = 298,080


def peak_rss_mb() -> float:
    """This process's peak resident set size (MB).

    ``/proc/self/status`` VmHWM belongs to the process's own address space, which ``exec`` replaces;
    ``ru_maxrss`` would instead carry over the parent's peak into a child (Linux keeps it across
    fork and exec), so it is only the fallback.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# ---------------------------------------------------------------------------------------------
# data

def make_data(folder: Path) -> None:
    from cornet_repro.assemblies import average_repetitions, neural_assembly
    from cornet_repro.data.brainio import write_assembly
    from cornet_repro.metrics.synthetic import two_afc_world

    rng = np.random.default_rng(0)
    ids = np.array([f"img{i:05d}" for i in range(N_IMAGES)])
    objects = np.array([f"obj{i % N_OBJECTS:02d}" for i in range(N_IMAGES)])
    latent = rng.normal(size=(N_IMAGES, 64)).astype(np.float32)
    features = np.maximum(latent @ rng.normal(size=(64, N_FEATURES)).astype(np.float32)
                          + rng.normal(size=(N_IMAGES, N_FEATURES)).astype(np.float32), 0)
    mu = latent @ rng.normal(size=(64, N_SITES)) / 8 + rng.normal(size=(N_IMAGES, N_SITES))
    write_assembly(neural_assembly(features, stimulus_id=ids, object_name=objects,
                                   neuroid_id=[f"f{i:05d}" for i in range(N_FEATURES)], region="model"),
                   folder / "source.nc")
    del features
    trials = np.repeat(mu, CEILING_REPS, axis=0) + 3.0 * rng.normal(size=(N_IMAGES * CEILING_REPS, N_SITES))
    repetitions = neural_assembly(
        trials, stimulus_id=np.repeat(ids, CEILING_REPS), object_name=np.repeat(objects, CEILING_REPS),
        repetition=np.tile(np.arange(CEILING_REPS), N_IMAGES),
        neuroid_id=[f"site{i:03d}" for i in range(N_SITES)], region="IT")
    write_assembly(repetitions, folder / "repetitions.nc")
    write_assembly(average_repetitions(repetitions), folder / "target.nc")
    behaviour, probabilities, _ = two_afc_world(BEHAVIOR_OBJECTS, BEHAVIOR_IMAGES_PER_OBJECT, TRIALS_PER_PAIR, seed=1)
    behaviour = behaviour.assign_coords(sample_obj=("presentation", behaviour["truth"].values),
                                        dist_obj=("presentation", behaviour["distractor"].values))
    write_assembly(behaviour, folder / "behavior.nc")
    write_assembly(probabilities.rename(truth="image_label"), folder / "probabilities.nc")


# ---------------------------------------------------------------------------------------------
# our stages (run in child processes)

def stage_ours_neural(folder: Path, splits: int) -> dict:
    from cornet_repro.data.brainio import load_assembly
    from cornet_repro.metrics import neural_predictivity

    source, target = load_assembly(folder / "source.nc"), load_assembly(folder / "target.nc")
    t = time.perf_counter()
    score = neural_predictivity(source, target, n_splits=splits)
    return {"seconds": time.perf_counter() - t, "value": score.value, "per_split": score.details["per_split"]}


def stage_ours_ceiling(folder: Path) -> dict:
    from cornet_repro.data.brainio import load_assembly
    from cornet_repro.metrics import internal_consistency

    trials = load_assembly(folder / "repetitions.nc")
    t = time.perf_counter()
    score = internal_consistency(trials)
    return {"seconds": time.perf_counter() - t, "value": score.value}


def stage_ours_behavior(folder: Path) -> dict:
    from cornet_repro.data.brainio import load_assembly
    from cornet_repro.metrics import behavioral_ceiling, i2n

    trials, probabilities = load_assembly(folder / "behavior.nc"), load_assembly(folder / "probabilities.nc")
    t = time.perf_counter()
    ceiling = behavioral_ceiling(trials)
    t_ceiling = time.perf_counter() - t
    t = time.perf_counter()
    score = i2n(probabilities, trials)
    return {"seconds": t_ceiling, "ceiling": ceiling.value, "score_seconds": time.perf_counter() - t,
            "score": score.value, "trials": int(trials.sizes["presentation"])}


class _NoiseImages:
    """Deterministic smooth random RGB images, generated lazily (nothing held in memory)."""

    def __init__(self, n: int, size: int = 224, seed: int = 0):
        self.n, self.size, self.seed = n, size, seed

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        from PIL import Image
        for i in range(self.n):
            rng = np.random.default_rng((self.seed, i))
            small = rng.integers(0, 256, size=(28, 28, 3), dtype=np.uint8)
            yield Image.fromarray(small).resize((self.size, self.size), Image.BILINEAR)


def stage_vgg(n_images: int, n_fit: int, batch_size: int) -> dict:
    import torch
    import torchvision

    from cornet_repro.activations import LayerPCA, extract_activations, select_layer
    from cornet_repro.assemblies import neural_assembly
    from cornet_repro.models.registry import region_layers

    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = torchvision.models.vgg16(weights=None)  # random weights: memory is what is measured
    layers = region_layers("vgg16")["IT"]
    t = time.perf_counter()
    assembly = extract_activations(model, _NoiseImages(n_images, seed=1), layers, batch_size=batch_size,
                                   pca=LayerPCA(n_components=1000), pca_stimuli=_NoiseImages(n_fit, seed=2),
                                   progress=False)
    t_act = time.perf_counter() - t
    rss_after_activations = peak_rss_mb()
    # a simulated IT target read out of one middle layer, to select against
    rng = np.random.default_rng(0)
    ids = assembly["stimulus_id"].values
    mid = assembly.isel(neuroid=np.flatnonzero(assembly["layer"].values == layers[len(layers) // 2])).values
    k = min(50, mid.shape[1])
    n_objects = max(2, min(N_OBJECTS, n_images // 40))  # 40 images per object, as MajajHong2015
    target = neural_assembly(mid[:, :k] @ rng.normal(size=(k, N_SITES)) + rng.normal(size=(n_images, N_SITES)) * 5,
                             stimulus_id=ids, object_name=[f"obj{i % n_objects}" for i in range(n_images)],
                             neuroid_id=np.arange(N_SITES), region="IT")
    t = time.perf_counter()
    selection = select_layer(assembly, target, n_splits=10, inner_splits=3)
    return {"seconds_activations": t_act, "seconds_selection": time.perf_counter() - t,
            "layers": len(layers), "features_after_pca": int(assembly.sizes["neuroid"]),
            "images": n_images, "pca_fit_images": n_fit, "best_layer": selection.best_layer,
            "score": selection.score.value, "peak_rss_after_activations_mb": rss_after_activations}


# ---------------------------------------------------------------------------------------------
# their stages

THEIRS = textwrap.dedent(r'''
    import json, os, resource, sys, time, warnings
    os.environ["BS_INSTALL_DEPENDENCIES"] = "no"
    warnings.filterwarnings("ignore")
    import xarray as xr
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly, BehavioralAssembly
    folder, stage, splits = sys.argv[1], sys.argv[2], int(sys.argv[3])
    load = lambda name, cls: cls(xr.open_dataarray(os.path.join(folder, name)).load())
    out = {}
    if stage == "neural":
        from brainscore_vision.metrics.regression_correlation.metric import (
            CrossRegressedCorrelation, pls_regression, pearsonr_correlation)
        source, target = load("source.nc", NeuroidAssembly), load("target.nc", NeuroidAssembly)
        metric = CrossRegressedCorrelation(regression=pls_regression(), correlation=pearsonr_correlation(),
                                           crossvalidation_kwargs=dict(stratification_coord="object_name", splits=splits))
        t = time.perf_counter(); s = metric(source, target); out["seconds"] = time.perf_counter() - t
        out["value"] = float(s.values); out["per_split"] = s.raw.median("neuroid").values.tolist()
    elif stage == "ceiling":
        from brainscore_vision.metrics.internal_consistency.ceiling import InternalConsistency
        trials = load("repetitions.nc", NeuroidAssembly)
        t = time.perf_counter(); s = InternalConsistency()(trials); out["seconds"] = time.perf_counter() - t
        out["value"] = float(s.values)
    elif stage == "behavior":
        from brainscore_vision.metrics.i1i2.metric import I2n
        trials, probabilities = load("behavior.nc", BehavioralAssembly), load("probabilities.nc", BehavioralAssembly)
        t = time.perf_counter(); c = I2n().ceiling(trials); out["seconds"] = time.perf_counter() - t
        out["ceiling"] = float(c.values)
        t = time.perf_counter(); s = I2n()(probabilities, trials); out["score_seconds"] = time.perf_counter() - t
        out["score"] = float(s.values)
    # VmHWM: this process's own peak (ru_maxrss would include the parent's, inherited across exec)
    hwm = [l for l in open("/proc/self/status").read().splitlines() if l.startswith("VmHWM:")]
    out["peak_rss_mb"] = int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))
''')


def run_child(cmd: list[str], env: dict | None = None) -> dict:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
    result = json.loads(line[7:])
    result["wall_seconds"] = time.perf_counter() - t
    return result


def ours(stage: str, *args: str) -> dict:
    return run_child([sys.executable, __file__, "--stage", stage, *args])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="time brainscore-vision's PLS on 2 splits and extrapolate to 10 (labelled)")
    parser.add_argument("--skip-vgg", action="store_true")
    parser.add_argument("--skip-theirs", action="store_true")
    parser.add_argument("--vgg-images", type=int, default=N_IMAGES)
    parser.add_argument("--vgg-fit-images", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--venv", type=Path, default=ROOT / ".cache" / "brainscore-venv")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--splits", type=int, default=10, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.stage:  # child process
        stages = {"neural": lambda: stage_ours_neural(args.folder, args.splits),
                  "ceiling": lambda: stage_ours_ceiling(args.folder),
                  "behavior": lambda: stage_ours_behavior(args.folder),
                  "vgg": lambda: stage_vgg(args.vgg_images, args.vgg_fit_images, args.batch_size)}
        result = stages[args.stage]()
        result["peak_rss_mb"] = peak_rss_mb()
        print("RESULT " + json.dumps(result))
        return 0

    print(f"machine: {os.cpu_count()} CPU cores; brainscore-vision 2.4.2 in {args.venv}")
    status = 0
    with tempfile.TemporaryDirectory(dir=ROOT / ".cache" if (ROOT / ".cache").is_dir() else None) as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        make_data(folder)
        print(f"simulated data written in {time.perf_counter() - t:.0f} s\n")
        their_python = None
        if not args.skip_theirs:
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from crosscheck_brainscore import ensure_venv
            their_python = str(ensure_venv(args.venv))
            script = folder / "theirs.py"
            script.write_text(THEIRS)

        def theirs(stage: str, splits: int = 10) -> dict:
            return run_child([their_python, str(script), str(folder), stage, str(splits)],
                             env={"BS_INSTALL_DEPENDENCIES": "no", "RESULTCACHING_DISABLE": "1"})

        # 1. neural predictivity
        print(f"== neural predictivity: {N_IMAGES} images × {N_FEATURES:,} features × {N_SITES} sites, PLS(25), 10 splits")
        mine = ours("neural", "--folder", str(folder), "--splits", "10")
        print(f"ours   : {mine['seconds']:8.1f} s   peak RSS {mine['peak_rss_mb']:7.0f} MB   r = {mine['value']:.6f}")
        if their_python:
            their_splits = 2 if args.quick else 10
            bs = theirs("neural", their_splits)
            seconds = bs["seconds"] * 10 / their_splits
            label = f"(measured on {their_splits} splits, ×{10 // their_splits} extrapolated)" if args.quick else ""
            delta = float(np.max(np.abs(np.subtract(mine["per_split"][:their_splits], bs["per_split"]))))
            print(f"theirs : {seconds:8.1f} s   peak RSS {bs['peak_rss_mb']:7.0f} MB   r = {bs['value']:.6f} {label}")
            print(f"ratio  : {seconds / mine['seconds']:8.1f}× faster;  max |Δ| of per-split medians = {delta:.1e}")
            status |= delta >= 1e-3

        # 2. ceiling
        print(f"\n== split-half ceiling: {N_IMAGES * CEILING_REPS:,} trials × {N_SITES} sites, 10 splits")
        mine = ours("ceiling", "--folder", str(folder))
        print(f"ours   : {mine['seconds']:8.2f} s   peak RSS {mine['peak_rss_mb']:7.0f} MB   ceiling = {mine['value']:.6f}")
        if their_python:
            bs = theirs("ceiling")
            print(f"theirs : {bs['seconds']:8.2f} s   peak RSS {bs['peak_rss_mb']:7.0f} MB   ceiling = {bs['value']:.6f}")
            print(f"ratio  : {bs['seconds'] / mine['seconds']:8.1f}× faster;  |Δ| = {abs(bs['value'] - mine['value']):.1e}")
            status |= abs(bs["value"] - mine["value"]) >= 1e-3

        # 3. behaviour
        mine = ours("behavior", "--folder", str(folder))
        print(f"\n== I2n: {mine['trials']:,} trials, 240 images × 24 objects (2 split-half repetitions)")
        print(f"ours   : ceiling {mine['seconds']:7.2f} s, score {mine['score_seconds']:6.2f} s   peak RSS "
              f"{mine['peak_rss_mb']:6.0f} MB   ceiling = {mine['ceiling']:.6f}, i2n = {mine['score']:.6f}")
        if their_python:
            bs = theirs("behavior")
            print(f"theirs : ceiling {bs['seconds']:7.2f} s, score {bs['score_seconds']:6.2f} s   peak RSS "
                  f"{bs['peak_rss_mb']:6.0f} MB   ceiling = {bs['ceiling']:.6f}, i2n = {bs['score']:.6f}")
            print(f"ratio  : ceiling {bs['seconds'] / mine['seconds']:.0f}× faster, score "
                  f"{bs['score_seconds'] / mine['score_seconds']:.0f}× faster;  |Δ| ceiling = "
                  f"{abs(bs['ceiling'] - mine['ceiling']):.1e}, |Δ| i2n = {abs(bs['score'] - mine['score']):.1e}")
            status |= max(abs(bs["ceiling"] - mine["ceiling"]), abs(bs["score"] - mine["score"])) >= 1e-3

    # 4. VGG-16 memory
    if not args.skip_vgg:
        print(f"\n== VGG-16 (random weights), all candidate layers, {args.vgg_images} images at 224 px, "
              f"PCA(1000) fitted on {args.vgg_fit_images} images, nested layer selection for one region")
        r = ours("vgg", "--vgg-images", str(args.vgg_images), "--vgg-fit-images", str(args.vgg_fit_images),
                 "--batch-size", str(args.batch_size))
        print(f"ours   : activations {r['seconds_activations']:.0f} s ({r['layers']} layers → "
              f"{r['features_after_pca']:,} features), selection {r['seconds_selection']:.0f} s; best layer "
              f"{r['best_layer']}, r = {r['score']:.3f}")
        print(f"memory : peak RSS {r['peak_rss_mb']:.0f} MB (after activations {r['peak_rss_after_activations_mb']:.0f} MB);"
              f" budget 8192 MB: {'OK' if r['peak_rss_mb'] < 8192 else 'OVER'}")
        status |= r["peak_rss_mb"] >= 8192
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
