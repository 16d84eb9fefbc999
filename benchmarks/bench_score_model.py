"""Score your own model, two ways: brainscore-vision 2.4.2's model pipeline vs ours, on the same data.

    .venv/bin/python benchmarks/bench_score_model.py [--venv .cache/brainscore-venv] [--threads 1] [--keep DIR]

The model: torchvision's resnet18 with random weights (``torch.manual_seed(0)``, ``weights=None``).
The data: the ``small`` preset's simulated V4 (40 sites) and IT (80 sites) recordings, 576 images
of 64 px, 10 repetitions (``BrainData.simulated``), read from the same BrainIO files by both sides.

**Ours**: ``cornet_repro.own_model.score_own_model("torchvision:resnet18", preset="small",
benchmarks=["V4", "IT"], seed=0)`` in a fresh process (our ``.venv``): candidate layers
layer1.0 … layer4.1, avgpool; no PCA; PLS 25 components on 10 stratified splits; in each outer
split the layer is chosen on that split's training images only (3 inner splits); the reported
layer is the one chosen most often, the score the mean held-out r / split-half ceiling.

**Theirs**: brainscore-vision 2.4.2 in an isolated venv (``.cache/brainscore-venv``, shared with
``crosscheck_brainscore.py``; created on first run from PyPI: brainscore-vision ``--no-deps`` plus
the packages its metrics and model helpers import, numpy < 2, and the same torch/torchvision
versions as ours), in a fresh process: ``PytorchWrapper`` (their ``load_preprocess_images`` at
64 px, batch 64) on the same weights (our state dict, loaded; their own seed-0 build is compared
with it), ``ModelCommitment`` with the same candidate layers and a ``RegionLayerMap`` of
``LayerSelection`` (which hooks their ``LayerPCA``, 1,000 components, for the selection, as it
always does), scored by ``NeuralBenchmark`` objects built as ``benchmarks/majajhong2015`` builds its
region benchmarks (``load_metric('pls')`` = ``CrossRegressedCorrelation(pls_regression,
pearsonr_correlation)`` stratified on ``object_name``; ``load_ceiling('internal_consistency')`` on
the trials; ``average_repetition``; 8 visual degrees for benchmark and model, so
``place_on_screen`` leaves the images alone), with their result cache on, in a fresh folder per
run (as a first Brain-Score run has it). Wall time (process, incl. interpreter start-up) and
VmHWM of each process; 1 BLAS/OpenMP thread each by default.

What had to be substituted, because it needs downloads or is not the same data:

* the selection benchmarks: Brain-Score selects the layer on ``MajajHong2015public.{V4,IT}-pls``
  (public recordings); here they are the same simulated data (separate benchmark objects, as
  theirs are), so their selection sees the images it is then scored on;
* the PCA images: Brain-Score fits its selection PCA on 1,000 ImageNet validation images read from
  ``MT_IMAGENET_PATH`` (an HDF5 file it downloads); here that file holds 1,000 images of the
  simulated world's ``val`` split (new draws of the same objects) at the indices it reads;
* the ceiled score: 2.4.2's ``NeuralBenchmark`` returns r² / ceiling; the paper (and ours)
  r / ceiling. The Δ is on r / ceiling, from their raw r and ceiling with their ``ceil_score``;
  their native r² / ceiling is printed too.

Diagnostics (untimed): their pipeline again in another process with an identity ``LayerPCA``
hooked (so ``LayerSelection`` adds none): their per-layer held-out scores without PCA on the same
splits, their activations and preprocessed inputs; ours, in this process: our activations and
inputs, and our per-layer scores on our ``LayerPCA`` features (1,000 components, same images),
reported next to their selection stage but not checked (1,000 components on 1,000 images leave
one arbitrary null-space component: see the printed note).

Checks (exit 1 if any fails). The issue's goals, end to end: the same chosen layer per region and
|Δ ceiled score| < 1e-3. Like for like: their seed-0 weights == ours; preprocessed inputs and
activations equal; ceilings, per-layer held-out r and per-split medians (no PCA) |Δ| < 1e-3; the
same layer under the same rule (argmax of the per-layer scores); their final score == our held-out
score of the layer they committed. Speed (goal: ours ≥ 10× faster end to end) and memory (goal:
≤ ¼ of their peak RSS) are reported, not checked. A run takes ~15-25 minutes on 2 cores (their
diagnostic run without PCA, PLS on 16,384-wide layers, is most of it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TOLERANCE = 1e-3
REGIONS = ("V4", "IT")
MODEL = "torchvision:resnet18"
SEED = 0
PCA_COMPONENTS = 1000  # Brain-Score's LayerSelection always uses 1,000
PCA_INDEX_STEP = 50  # Brain-Score reads ImageNet val index 50·i for image i (one per class)
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _threads_from_argv() -> str:
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


# BLAS/OpenMP read these at import: set them before numpy and torch come in
for _var in THREAD_VARS:
    os.environ[_var] = _threads_from_argv()

import numpy as np  # noqa: E402

# ---------------------------------------------------------------------------------------------
# the two sides' scripts (each runs in a fresh process)

OURS = textwrap.dedent(r'''
    import json, sys, time, warnings
    warnings.filterwarnings("ignore")
    cfg = json.load(open(sys.argv[1]))
    t0 = time.perf_counter()
    from cornet_repro.own_model import score_own_model
    t1 = time.perf_counter()
    rss_imported = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
    result = score_own_model(cfg["model"], preset="small", benchmarks=cfg["regions"], seed=cfg["seed"],
                             cache=cfg["cache"], batch_size=cfg["batch_size"])
    t2 = time.perf_counter()
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    out = {"vmhwm_kib": hwm, "rss_imported_kib": rss_imported, "import_s": t1 - t0, "scoring_s": t2 - t1,
           "regions": {}}
    for region in cfg["regions"]:
        s = result["scores"][region]
        out["regions"][region] = {k: s.get(k) for k in ("value", "raw", "ceiling", "layer", "layer_scores",
                                                         "per_split")}
    print("RESULT " + json.dumps(out))
''')

THEIRS = textwrap.dedent(r'''
    import json, os, sys, time, warnings
    t0 = time.perf_counter()
    os.environ["BS_INSTALL_DEPENDENCIES"] = "no"  # or brainscore-vision pip-installs packages at import
    warnings.filterwarnings("ignore")
    mode, cfg = sys.argv[1], json.load(open(sys.argv[2]))
    import functools
    import numpy as np, pandas as pd, xarray as xr, torch, torchvision
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet
    from brainscore_vision import load_metric, load_ceiling
    from brainscore_vision.benchmarks import ceil_score
    from brainscore_vision.benchmark_helpers.neural_common import NeuralBenchmark, average_repetition
    from brainscore_vision.model_helpers.activations.pytorch import PytorchWrapper, load_preprocess_images
    from brainscore_vision.model_helpers.activations.pca import LayerPCA
    from brainscore_vision.model_helpers.brain_transformation import ModelCommitment, RegionLayerMap
    from brainscore_vision.model_helpers.brain_transformation.neural import LayerSelection
    t1 = time.perf_counter()
    rss_imported = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))

    # --- data, as benchmarks/majajhong2015/benchmark.py prepares MajajHong2015 -----------------
    table = pd.read_csv(cfg["stimuli_csv"], dtype={"stimulus_id": str, "filename": str})
    stimulus_set = StimulusSet(table)
    stimulus_set.stimulus_paths = {sid: os.path.join(cfg["stimuli_dir"], f)
                                   for sid, f in zip(table["stimulus_id"], table["filename"])}
    stimulus_set.identifier = cfg["stimuli_identifier"]
    trials = NeuroidAssembly(xr.open_dataarray(cfg["trials_nc"]).load()).squeeze("time_bin")

    def region_assemblies(region):
        # their load_assembly does trials.sel(region=region) and re-adds the coord; with only two
        # neuroid coords (theirs have more) that .sel would collapse the neuroid MultiIndex
        assembly = trials.isel(neuroid=np.flatnonzero(np.asarray(trials["region"].values) == region))
        assembly = assembly.transpose("presentation", "neuroid")
        assembly.attrs["stimulus_set"] = stimulus_set
        return assembly, average_repetition(assembly)

    records = []  # what each PLS call scored (a pass-through wrapper: records, changes nothing)

    class Recorded:
        def __init__(self, metric, region, stage):
            self.metric, self.region, self.stage = metric, region, stage
        def __call__(self, source, target):
            score = self.metric(source, target)
            records.append(dict(region=self.region, stage=self.stage,
                                layers=sorted(set(np.asarray(source["layer"].values).tolist())),
                                raw=float(score.values), error=float(score.attrs.get("error", np.nan)),
                                per_split=score.raw.median("neuroid").values.tolist()))
            return score

    def region_benchmark(region, stage):
        repetitions, averaged = region_assemblies(region)
        metric = load_metric("pls", crossvalidation_kwargs=dict(stratification_coord="object_name"))
        return NeuralBenchmark(identifier=f"simulated.{region}.{stage}-pls", version=1, assembly=averaged,
                               similarity_metric=Recorded(metric, region, stage), visual_degrees=8,
                               number_of_trials=50, parent=region,
                               ceiling_func=lambda: load_ceiling("internal_consistency")(repetitions))

    # --- the model: resnet18, seed 0; our state dict loaded to be sure ---------------------------
    torch.manual_seed(cfg["seed"])
    model = torchvision.models.resnet18(weights=None)
    ours = torch.load(cfg["state_dict"], weights_only=True)
    built = model.state_dict()
    seed_equal = set(built) == set(ours) and all(torch.equal(built[k], ours[k]) for k in ours)
    model.load_state_dict(ours)
    preprocessing = functools.partial(load_preprocess_images, image_size=cfg["image_size"])
    wrapper = PytorchWrapper(identifier="resnet18-seed0", model=model, preprocessing=preprocessing,
                             batch_size=cfg["batch_size"])

    if mode == "nopca":
        class IdentityPCA(LayerPCA):  # LayerSelection adds its PCA only when none is hooked
            def __call__(self, batch_activations):
                return batch_activations
        wrapper.register_batch_activations_hook(IdentityPCA(wrapper, 0))

    layers = cfg["layers"]
    selection = LayerSelection(model_identifier=wrapper.identifier, activations_model=wrapper, layers=layers,
                               visual_degrees=8)
    region_layer_map = RegionLayerMap(layer_selection=selection,
                                      region_benchmarks={r: region_benchmark(r, "selection") for r in cfg["regions"]})
    commitment = ModelCommitment(identifier=wrapper.identifier, activations_model=wrapper, layers=layers,
                                 region_layer_map=region_layer_map, visual_degrees=8)
    out = {"mode": mode, "seed_equal": bool(seed_equal), "torch": torch.__version__, "regions": {}}
    for region in cfg["regions"]:
        score = region_benchmark(region, "final")(commitment)
        raw, ceiling = score.attrs["raw"], score.attrs["ceiling"]
        out["regions"][region] = dict(layer=str(region_layer_map[region]), r2_over_ceiling=float(score.values),
                                      raw=float(raw.values), ceiling=float(ceiling.values),
                                      value=float(ceil_score(raw, ceiling).values),
                                      per_split=raw.raw.median("neuroid").values.tolist())
    t2 = time.perf_counter()
    out["vmhwm_kib"] = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    out.update(rss_imported_kib=rss_imported, import_s=t1 - t0, scoring_s=t2 - t1, records=records)

    if mode == "nopca":  # their activations and inputs, to compare with ours
        activations = wrapper(stimulus_set, layers=layers)
        assert list(activations["stimulus_id"].values) == list(table["stimulus_id"]), "presentation order"
        layer_of = np.asarray(activations["layer"].values)
        values = np.asarray(activations.values)
        np.savez(cfg["their_activations"], **{name: values[:, layer_of == name] for name in layers})
        paths = [stimulus_set.stimulus_paths[sid] for sid in table["stimulus_id"][:cfg["batch_size"]]]
        np.save(cfg["their_inputs"], load_preprocess_images(paths, image_size=cfg["image_size"]))
    print("RESULT " + json.dumps(out))
''')


# ---------------------------------------------------------------------------------------------
# the peer venv

def _torch_pins() -> list[str]:
    import torch
    import torchvision

    return [f"torch=={torch.__version__.split('+')[0]}", f"torchvision=={torchvision.__version__.split('+')[0]}"]


def ensure_peer_venv(venv: Path) -> Path:
    """crosscheck_brainscore's venv plus what brainscore-vision's model helpers import, with our
    torch/torchvision versions (brainscore-vision 2.4.2 asks for torch>=2.6; numpy stays < 2)."""
    from crosscheck_brainscore import ensure_venv

    python = ensure_venv(venv)
    pins = _torch_pins()
    probe = [str(python), "-c", textwrap.dedent(f"""
        import os, sys; os.environ['BS_INSTALL_DEPENDENCIES'] = 'no'
        import numpy, torch, torchvision, cv2
        import brainscore_vision.model_helpers.brain_transformation, brainscore_vision.model_helpers.activations.pytorch
        versions = ['torch==' + torch.__version__.split('+')[0], 'torchvision==' + torchvision.__version__.split('+')[0]]
        sys.exit(0 if versions == {pins!r} and numpy.__version__ < '2' else 1)""")]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"adding the model helpers' packages to {venv} ({', '.join(pins)}, opencv, numpy<2)…", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *pins, "opencv-python-headless<4.11", "numpy<2"],
                   check=True)
    subprocess.run(probe, check=True)
    return python


# ---------------------------------------------------------------------------------------------
# the exchanged files

def prepare(work: Path, peer_python: Path) -> dict:
    """Simulated data (cached BrainIO files), the stimuli as PNG files, the trials as netCDF, the
    PCA images (PNG files and Brain-Score's ImageNet HDF5 layout), and the seed-0 weights."""
    import torch
    from PIL import Image

    from cornet_repro.data.brain import BrainData
    from cornet_repro.data.brainio import write_assembly
    from cornet_repro.data.simulated import SimulatedObjects
    from cornet_repro.models.user import candidate_layers, resolve_model
    from cornet_repro.presets import get_preset

    preset = get_preset("small")
    cache = work / "cache"
    brain = BrainData.simulated(preset.simulated, cache=cache)  # generated now, read by both runs
    stimuli = brain.neural_stimuli
    stimuli_dir = work / "stimuli"
    stimuli_dir.mkdir(exist_ok=True)
    with zipfile.ZipFile(stimuli.zip_path) as zf:  # the very PNG files our side reads
        for filename in stimuli.table["filename"]:
            (stimuli_dir / filename).write_bytes(zf.read(stimuli._members.get(filename, filename)))
    stimuli.table.to_csv(work / "stimuli.csv", index=False)
    write_assembly(brain.neural, work / "neural_trials.nc")

    pca_dir = work / "pca_images"
    pca_dir.mkdir(exist_ok=True)
    val = SimulatedObjects(preset.simulated, PCA_COMPONENTS, "val")
    pca_paths = []
    for i in range(PCA_COMPONENTS):
        path = pca_dir / f"{i:04d}.png"
        Image.fromarray(val.image_array(i)).save(path)
        pca_paths.append(str(path))
    # Brain-Score's ImageNet file: 'val/images', image i of the PCA set at index 50·i (h5py is in
    # the peer venv, not ours)
    subprocess.run([str(peer_python), "-c", textwrap.dedent(f"""
        import h5py, numpy as np
        from PIL import Image
        paths = {pca_paths!r}
        first = np.asarray(Image.open(paths[0]))
        with h5py.File({str(work / "imagenet2012.hdf5")!r}, "w") as f:
            images = f.create_dataset("val/images", shape=({PCA_INDEX_STEP} * (len(paths) - 1) + 1, *first.shape),
                                      dtype="uint8", chunks=(1, *first.shape))
            for i, path in enumerate(paths):
                images[{PCA_INDEX_STEP} * i] = np.asarray(Image.open(path))""")], check=True)

    torch.manual_seed(SEED)  # as score_own_model builds it
    model, name = resolve_model(MODEL)
    torch.save(model.state_dict(), work / "resnet18_seed0.pt")
    reading = candidate_layers(model, name)
    if reading["V4"] != reading["IT"]:
        raise SystemExit(f"V4 and IT candidate layers differ ({reading}); ModelCommitment takes one list")
    cfg = {"model": MODEL, "seed": SEED, "regions": list(REGIONS), "cache": str(cache),
           "image_size": preset.score.image_size, "batch_size": preset.score.batch_size, "layers": reading["V4"],
           "stimuli_csv": str(work / "stimuli.csv"), "stimuli_dir": str(stimuli_dir),
           "stimuli_identifier": f"simulated.{preset.simulated.digest()}", "trials_nc": str(work / "neural_trials.nc"),
           "state_dict": str(work / "resnet18_seed0.pt"), "pca_paths": pca_paths,
           "their_activations": str(work / "their_activations.npz"), "their_inputs": str(work / "their_inputs.npy"),
           "n_images": len(stimuli), "sites": {r: int((np.asarray(brain.neural["region"].values) == r).sum())
                                               for r in REGIONS},
           "repetitions": int(len(np.unique(brain.neural["repetition"].values)))}
    (work / "exchange.json").write_text(json.dumps(cfg, indent=1))
    return cfg


def run(cmd: list[str], env: dict, log: Path, what: str) -> tuple[dict, float]:
    """Run one side in a fresh process; (its RESULT json, wall seconds incl. interpreter start-up)."""
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=log.parent)
    wall = time.perf_counter() - t
    log.write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    if proc.returncode != 0 or "RESULT " not in proc.stdout:
        print(proc.stdout[-3000:], proc.stderr[-6000:], sep="\n")
        raise SystemExit(f"{what} failed (exit {proc.returncode}); log: {log}")
    return json.loads(next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))[7:]), wall


# ---------------------------------------------------------------------------------------------
# our diagnostics (in this process, untimed)

def our_diagnostics(cfg: dict) -> dict:
    import warnings

    import torch

    from cornet_repro.activations import LayerPCA, extract_activations, preprocess, select_layer
    from cornet_repro.data.brain import BrainData
    from cornet_repro.presets import get_preset
    from cornet_repro.scoring import neural_target

    brain = BrainData.simulated(get_preset("small").simulated, cache=cfg["cache"])
    model = torchvision_resnet18(cfg)
    layers, common = cfg["layers"], dict(image_size=cfg["image_size"], batch_size=cfg["batch_size"], progress=False)
    out: dict = {}
    with torch.no_grad():
        inputs = torch.stack([preprocess(img, cfg["image_size"]) for _, img in
                              brain.neural_stimuli.iter_images(brain.neural_stimuli.stimulus_ids[:cfg["batch_size"]])])
        out["inputs"] = inputs.numpy()
        features = extract_activations(model, brain.neural_stimuli, layers, **common)
        assert list(features["stimulus_id"].values) == list(brain.neural_stimuli.stimulus_ids)
        layer_of = np.asarray(features["layer"].values)
        out["activations"] = {name: np.asarray(features.values[:, layer_of == name]) for name in layers}
        pca = LayerPCA(n_components=PCA_COMPONENTS)
        pca_features = extract_activations(model, brain.neural_stimuli, layers, pca=pca, pca_stimuli=cfg["pca_paths"],
                                           **common)
    # the last principal component's variance relative to the first, per PCA'd layer
    out["pca_last_ratio"] = {name: float(f.explained_variance_[-1] / f.explained_variance_[0])
                             for name, f in pca._pca.items() if f is not None}
    out["selection"], out["pca_selection"] = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NIPALS' "Maximum number of iterations reached" (sklearn's too)
        for region in REGIONS:
            target = neural_target(brain.neural, region)[0]
            out["selection"][region] = select_layer(features, target)  # what score_own_model runs, for its details
            out["pca_selection"][region] = select_layer(pca_features, target)
    return out


def torchvision_resnet18(cfg: dict):
    import torch

    from cornet_repro.models.user import resolve_model

    model, _ = resolve_model(MODEL)
    model.load_state_dict(torch.load(cfg["state_dict"], weights_only=True))
    return model.eval()


# ---------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=ROOT / ".cache" / "brainscore-venv")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/torch threads of every process (1)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    python = ensure_peer_venv(args.venv)
    with tempfile.TemporaryDirectory(prefix="bench_score_model-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        cfg = prepare(work, python)
        print(f"prepared the exchanged files in {time.perf_counter() - t:.1f} s: {cfg['n_images']} images of "
              f"{cfg['image_size']} px, V4 {cfg['sites']['V4']} / IT {cfg['sites']['IT']} sites × "
              f"{cfg['repetitions']} repetitions; layers {', '.join(cfg['layers'])}", flush=True)
        env = {**os.environ, **{v: str(args.threads) for v in THREAD_VARS}, "PYTHONWARNINGS": "ignore",
               "BS_INSTALL_DEPENDENCIES": "no", "MT_IMAGENET_PATH": str(work / "imagenet2012.hdf5"),
               "BRAINSCORE_HOME": str(work / "brainscore_home"), "MT_HOME": str(work / "model_tools_home"),
               "PYTHONPATH": str(ROOT)}
        env.pop("RESULTCACHING_DISABLE", None)
        (work / "ours.py").write_text(OURS)
        (work / "theirs.py").write_text(THEIRS)
        exchange = str(work / "exchange.json")

        for stale in ("result_caching_pipeline", "result_caching_nopca", "brainscore_home", "model_tools_home",
                      "imagenet2012.hdf5-files"):  # a kept folder must not serve the next run from cache
            shutil.rmtree(work / stale, ignore_errors=True)
        print("timed: ours (score_own_model) …", flush=True)
        ours, ours_wall = run([sys.executable, str(work / "ours.py"), exchange], env, work / "ours.log", "ours")
        print("timed: theirs (brainscore-vision 2.4.2 ModelCommitment + NeuralBenchmark) …", flush=True)
        theirs, theirs_wall = run([str(python), str(work / "theirs.py"), "pipeline", exchange],
                                  {**env, "RESULTCACHING_HOME": str(work / "result_caching_pipeline")},
                                  work / "theirs.log", "theirs")
        print("diagnostics (untimed): their pipeline without PCA; our activations and PCA layer scores …",
              flush=True)
        nopca, _ = run([str(python), str(work / "theirs.py"), "nopca", exchange],
                       {**env, "RESULTCACHING_HOME": str(work / "result_caching_nopca")},
                       work / "theirs_nopca.log", "theirs (no PCA)")
        diag = our_diagnostics(cfg)
        their_activations = dict(np.load(cfg["their_activations"]))
        their_inputs = np.load(cfg["their_inputs"])
        ok = report(cfg, ours, ours_wall, theirs, theirs_wall, nopca, diag, their_activations, their_inputs)
    print(f"\nthe whole benchmark took {time.perf_counter() - started:.0f} s")
    return 0 if ok else 1


def _selection_scores(result: dict, region: str) -> dict[str, float]:
    return {rec["layers"][0]: rec["raw"] for rec in result["records"]
            if rec["region"] == region and rec["stage"] == "selection" and len(rec["layers"]) == 1}


def report(cfg, ours, ours_wall, theirs, theirs_wall, nopca, diag, their_activations, their_inputs) -> bool:
    checks: list[tuple[str, bool, str]] = []
    mib = 1024
    print("\n== end to end: resnet18 (random, seed 0), small preset, simulated V4 + IT "
          f"({cfg['n_images']} images, {cfg['image_size']} px), {os.environ['OMP_NUM_THREADS']} thread(s) ==")
    print(f"{'':34}{'brainscore-vision 2.4.2':>26}{'ours':>14}{'':>4}ratio / |Δ|")
    print(f"{'wall time, process (s)':34}{theirs_wall:>26.1f}{ours_wall:>14.1f}{'':>4}{theirs_wall / ours_wall:.1f}× "
          f"(goal ≥ 10×: {'met' if theirs_wall / ours_wall >= 10 else 'NOT met'})")
    print(f"{'  of which imports (s)':34}{theirs['import_s']:>26.1f}{ours['import_s']:>14.1f}")
    print(f"{'  of which scoring (s)':34}{theirs['scoring_s']:>26.1f}{ours['scoring_s']:>14.1f}{'':>4}"
          f"{theirs['scoring_s'] / ours['scoring_s']:.1f}×")
    ratio = ours["vmhwm_kib"] / theirs["vmhwm_kib"]
    print(f"{'peak RSS, VmHWM (MiB)':34}{theirs['vmhwm_kib'] / mib:>26.0f}{ours['vmhwm_kib'] / mib:>14.0f}{'':>4}"
          f"ours = {ratio:.2f} of theirs (goal ≤ 0.25: {'met' if ratio <= 0.25 else 'NOT met'})")
    grown = {k: (v["vmhwm_kib"] - v["rss_imported_kib"]) / mib for k, v in (("theirs", theirs), ("ours", ours))}
    print(f"{'  RSS after imports (MiB)':34}{theirs['rss_imported_kib'] / mib:>26.0f}"
          f"{ours['rss_imported_kib'] / mib:>14.0f}")
    print(f"{'  peak − RSS after imports (MiB)':34}{grown['theirs']:>26.0f}{grown['ours']:>14.0f}{'':>4}"
          f"ours = {grown['ours'] / grown['theirs']:.2f} of theirs")
    for region in REGIONS:
        t, o = theirs["regions"][region], ours["regions"][region]
        same = t["layer"] == o["layer"]
        delta = abs(t["value"] - o["value"])
        print(f"{region + ' chosen layer':34}{t['layer']:>26}{o['layer']:>14}{'':>4}{'same' if same else 'DIFFERENT'}")
        print(f"{region + ' ceiled score (r / ceiling)':34}{t['value']:>26.6f}{o['value']:>14.6f}{'':>4}{delta:.2e}")
        print(f"{region + '   raw r':34}{t['raw']:>26.6f}{o['raw']:>14.6f}{'':>4}{abs(t['raw'] - o['raw']):.2e}")
        print(f"{region + '   ceiling (split-half)':34}{t['ceiling']:>26.6f}{o['ceiling']:>14.6f}{'':>4}"
              f"{abs(t['ceiling'] - o['ceiling']):.2e}")
        print(f"{region + '   theirs native r² / ceiling':34}{t['r2_over_ceiling']:>26.6f}")
        checks.append((f"{region}: same chosen layer end to end (theirs {t['layer']}, ours {o['layer']})", same, ""))
        checks.append((f"{region}: |Δ ceiled score| end to end < {TOLERANCE:g}", delta < TOLERANCE, f"{delta:.2e}"))
        at_theirs = o["layer_scores"][t["layer"]]["value"]
        d_same = abs(t["value"] - at_theirs)
        print(f"{'   ours at their layer ' + t['layer']:34}{'':>26}{at_theirs:>14.6f}{'':>4}{d_same:.2e}")
        checks.append((f"{region}: their final ceiled score == our held-out score of the same layer ({t['layer']}), "
                       f"|Δ| < {TOLERANCE:g}", d_same < TOLERANCE, f"{d_same:.2e}"))
        checks.append((f"{region}: |Δ ceiling| < {TOLERANCE:g}", abs(t["ceiling"] - o["ceiling"]) < TOLERANCE,
                       f"{abs(t['ceiling'] - o['ceiling']):.2e}"))

    print("\n== per layer: held-out raw r (mean over the same 10 splits of the median over sites) ==")
    print("theirs: LayerSelection's LayerScores (no PCA: identity LayerPCA hooked; with PCA: its standard 1,000 "
          "components)\nours: score_own_model's layer map (no PCA); select_layer on our LayerPCA features (PCA)")
    pca_deltas: list[float] = []
    for region in REGIONS:
        o_map = {k: v["raw"] for k, v in ours["regions"][region]["layer_scores"].items()}
        t_map = _selection_scores(nopca, region)
        t_pca, o_pca = _selection_scores(theirs, region), diag["pca_selection"][region].layer_map
        print(f"\n{region:<10}{'theirs':>11}{'ours':>11}{'|Δ|':>10}   {'theirs PCA':>11}{'ours PCA':>11}{'|Δ|':>10}")
        worst = worst_pca = 0.0
        for layer in cfg["layers"]:
            d, dp = abs(t_map[layer] - o_map[layer]), abs(t_pca[layer] - o_pca[layer])
            worst, worst_pca = max(worst, d), max(worst_pca, dp)
            print(f"{layer:<10}{t_map[layer]:>11.6f}{o_map[layer]:>11.6f}{d:>10.2e}   "
                  f"{t_pca[layer]:>11.6f}{o_pca[layer]:>11.6f}{dp:>10.2e}")
        best_t, best_o = max(t_map, key=t_map.get), max(o_map, key=o_map.get)
        best_tp, best_op = max(t_pca, key=t_pca.get), max(o_pca, key=o_pca.get)
        print(f"{'argmax':<10}{best_t:>11}{best_o:>11}{'':>10}   {best_tp:>11}{best_op:>11}")
        names, counts = np.unique(diag["selection"][region].chosen, return_counts=True)
        print(f"their committed layer: {theirs['regions'][region]['layer']} (selection with PCA), "
              f"{nopca['regions'][region]['layer']} (without); ours, chosen per outer split on its training "
              f"images: {', '.join(f'{n} ×{c}' for n, c in sorted(zip(names, counts), key=lambda x: -x[1]))}")
        checks.append((f"{region}: per-layer held-out r, no PCA, max |Δ| < {TOLERANCE:g}", worst < TOLERANCE,
                       f"{worst:.2e}"))
        checks.append((f"{region}: same layer by the same rule (argmax of per-layer r, no PCA: theirs {best_t}, "
                       f"ours {best_o})", best_t == best_o, ""))
        pca_deltas.append(worst_pca)
        checks.append((f"{region}: LayerSelection without PCA commits the argmax of its layer scores",
                       nopca["regions"][region]["layer"] == best_t, ""))
        # per split and layer: their LayerScores' per-split medians vs our select_layer's, no PCA
        per_split = diag["selection"][region].layer_scores
        d = max(float(np.max(np.abs(np.subtract(rec["per_split"], per_split[rec["layers"][0]]))))
                for rec in nopca["records"] if rec["region"] == region and len(rec["layers"]) == 1)
        checks.append((f"{region}: per-split medians of every layer (no PCA), max |Δ| < {TOLERANCE:g}",
                       d < TOLERANCE, f"{d:.2e}"))
        same_run = max(abs(diag["selection"][region].layer_map[k] - o_map[k]) for k in o_map)
        checks.append((f"{region}: score_own_model's layer map == select_layer on extract_activations here",
                       same_run < 1e-9, f"{same_run:.1e}"))

    ratio_last = max(diag["pca_last_ratio"].values())
    print(f"\nwith PCA (reported, not checked): max |Δ| {max(pca_deltas):.1e}. Brain-Score fits 1,000 components on "
          f"1,000 images: the centred data have rank 999, so the 1,000th component is an arbitrary null-space "
          f"direction (its variance is ≤ {ratio_last:.0e} of the first's here), set by LAPACK's rounding: it "
          f"differs between builds and thread counts, and the benchmark images' projections on it move per-layer "
          f"scores by ~1e-3 (dropping it moved IT layer2.0 by 3e-3 in our tests). Agreement to < 1e-3 is not "
          f"defined there.")

    print("\n== inputs and activations (their PytorchWrapper + load_preprocess_images vs ours) ==")
    d_in = float(np.max(np.abs(their_inputs - diag["inputs"])))
    print(f"preprocessed inputs ({len(their_inputs)} images): max |Δ| = {d_in:.2e}")
    rel = {}
    for layer in cfg["layers"]:
        a, b = their_activations[layer], diag["activations"][layer]
        rel[layer] = float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12)) if a.shape == b.shape else np.inf
    print("activations, max |Δ| / max |ours| per layer: " + ", ".join(f"{k} {v:.1e}" for k, v in rel.items()))
    checks.append(("their resnet18(weights=None) after torch.manual_seed(0) == ours (state dicts)",
                   theirs["seed_equal"], f"torch {theirs['torch']}"))
    checks.append(("preprocessed inputs equal (max |Δ| < 1e-6)", d_in < 1e-6, f"{d_in:.2e}"))
    worst_rel = max(rel.values())
    checks.append(("activations equal (max relative |Δ| < 1e-4)", worst_rel < 1e-4, f"{worst_rel:.1e}"))

    goals = [c for c in checks if "end to end" in c[0]]
    like = [c for c in checks if c not in goals]
    for title, group in (("the issue's goals (end to end)", goals),
                         ("like for like (same weights, inputs, features, splits; same layer)", like)):
        print(f"\n== checks: {title} ==")
        for name, passed, detail in group:
            print(f"{'PASS' if passed else 'FAIL'}  {name}{'  [' + detail + ']' if detail else ''}")
    if not all(c[1] for c in goals) and all(c[1] for c in like):
        print("→ the machinery agrees; the end-to-end difference is the layer-selection protocol: theirs commits one "
              "layer per region, chosen on the selection benchmark's images with PCA; ours picks a layer per outer "
              "split on that split's training images (no PCA) and averages the held-out scores")
    print(textwrap.dedent("""
        compared: brainscore-vision 2.4.2's PytorchWrapper + load_preprocess_images, ModelCommitment with a
          RegionLayerMap of LayerSelection (LayerScores, PreRunLayers, its LayerPCA hook) and NeuralBenchmark
          (CrossRegressedCorrelation: pls_regression, pearsonr_correlation; InternalConsistency ceiling;
          average_repetition; place_on_screen, an identity at 8 degrees) vs score_own_model, on the same
          PNG files, trials, weights and splits
        substituted (they need downloads, or are not the same data): the selection benchmarks
          (MajajHong2015public.{V4,IT}-pls → the same simulated data), the PCA images (1,000 ImageNet
          validation images → 1,000 simulated 'val' images in its HDF5 layout), the ceiled score
          (2.4.2 reports r² / ceiling → Δ on r / ceiling, with their ceil_score)
        not compared: behaviour and OST (not asked), microsaccades (number_of_trials with a deterministic
          model and require_variance=False runs once), GPU paths""").rstrip())
    return all(passed for _, passed, _ in checks)


if __name__ == "__main__":
    sys.exit(main())
