"""Cross-check our metrics against brainscore-vision 2.4.2 on the same simulated assemblies.

    .venv/bin/python benchmarks/crosscheck_brainscore.py [--venv .cache/brainscore-venv] [--small]

Installs brainscore-vision (metrics only, ``--no-deps``) with brainscore-core and the few packages
its metrics import into an isolated venv (created on first run; needs PyPI), writes simulated
assemblies as BrainIO netCDF files, runs Brain-Score's metrics on them in a subprocess with that
venv's python, runs ours on the same files, and prints both with |Δ|. Exits 1 if any |Δ| ≥ 1e-3.

Compared: neural predictivity (PLS, 10 stratified splits; per-split medians too), the split-half
ceiling (internal consistency), I2n and its human split-half ceiling, I1, and OST (Brain-Score's
``OSTCorrelation`` with its TensorFlow decoder swapped for the same scikit-learn decoder we use:
TensorFlow is not installed, so this checks splits, I1, thresholds, interpolation and Spearman).

Then the conventions a file brings out (issue 14), each with ours under ``brainscore-2.4``:

* **shuffled presentations**: trials whose presentations are in random order, with a coord that
  sorts differently from ``stimulus_id`` first, averaged over repetitions by each side
  (Brain-Score's ``average_repetition``) and then scored: the splits index into the averaged order;
* **ceiled scores**: V4/IT as Brain-Score 2.4's ``explained_variance`` (r² / ceiling, unceiled error);
* **a NaN split** in PLS predictivity (one split's held-out images are constant for every site);
* **a Kar2019-like OST file**: presentations shuffled, duplicate images, a ``decoder`` dim, prepared
  by Brain-Score's own ``DicarloKar2019OST`` (its loader patched to read our file), with one split
  left with a single image pair (NaN) and one with two (Spearman ±1), ceiled by .79.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cornet_repro.assemblies import average_repetitions, neural_assembly  # noqa: E402
from cornet_repro.data.brainio import load_assembly, write_assembly  # noqa: E402
from cornet_repro.metrics import (behavioral_ceiling, i1, i2n, internal_consistency,  # noqa: E402
                                  neural_predictivity)
from cornet_repro.metrics import object_solution_times  # noqa: E402
from cornet_repro.metrics.synthetic import planted_ost_world, two_afc_world  # noqa: E402
from cornet_repro.metrics.score import ceil_score  # noqa: E402
from cornet_repro.metrics.ost import ceiled_ost  # noqa: E402
from cornet_repro.scoring import ost_target  # noqa: E402

TOLERANCE = 1e-6
# what brainscore-vision's metrics import, pinned to what it declares (numpy<2, scikit-learn<1.6)
# and brainscore-core's xarray<2022.6
REQUIREMENTS = ["numpy<2", "scikit-learn<1.6", "scipy", "tqdm", "psutil", "result-caching", "xarray<2022.6",
                "netCDF4", "pandas<3", "six", "boto3", "Pillow", "h5py", "peewee", "pybtex", "pyyaml",
                "gitpython", "requests", "fire"]

THEIRS = textwrap.dedent(r'''
    import json, os, sys, time, warnings
    os.environ["BS_INSTALL_DEPENDENCIES"] = "no"  # or brainscore-vision pip-installs CUDA torch
    warnings.filterwarnings("ignore")
    import numpy as np
    import xarray as xr
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly, BehavioralAssembly
    from brainscore_vision.metrics.regression_correlation.metric import (
        CrossRegressedCorrelation, pls_regression, pearsonr_correlation)
    from brainscore_vision.metrics.internal_consistency.ceiling import InternalConsistency
    from brainscore_vision.metrics.i1i2.metric import I1, I2n

    folder = sys.argv[1]
    def load(name, cls):
        da = xr.open_dataarray(os.path.join(folder, name)).load()
        return cls(da)

    out = {}
    source, target = load("source.nc", NeuroidAssembly), load("target.nc", NeuroidAssembly)
    metric = CrossRegressedCorrelation(regression=pls_regression(), correlation=pearsonr_correlation(),
                                       crossvalidation_kwargs=dict(stratification_coord="object_name"))
    t = time.perf_counter(); score = metric(source, target); dt = time.perf_counter() - t
    raw = score.raw  # split × neuroid
    out["neural_predictivity"] = dict(value=float(score.values), error=float(score.attrs["error"]),
                                      per_split=raw.median("neuroid").values.tolist(), seconds=dt)
    trials = load("repetitions.nc", NeuroidAssembly)
    t = time.perf_counter(); ceiling = InternalConsistency()(trials); dt = time.perf_counter() - t
    out["internal_consistency"] = dict(value=float(ceiling.values), error=float(ceiling.attrs["error"]), seconds=dt)

    behavior = load("behavior.nc", BehavioralAssembly)
    probabilities = load("probabilities.nc", BehavioralAssembly)
    for name, metric in (("i2n", I2n()), ("i1", I1())):
        t = time.perf_counter(); s = metric(probabilities.copy(), behavior); dt = time.perf_counter() - t
        out[name] = dict(value=float(s.values), error=float(s.attrs["error"]), seconds=dt)
    t = time.perf_counter(); c = I2n().ceiling(behavior); dt = time.perf_counter() - t
    out["i2n_ceiling"] = dict(value=float(c.values), error=float(c.attrs["error"]), seconds=dt)

    # OST: Brain-Score's OSTCorrelation with its TensorFlow decoder replaced by the sklearn objective
    # we use (TensorFlow is not installed); everything else (splits, I1, thresholds, interpolation,
    # Spearman) is theirs.
    import brainscore_vision.metrics.ost.metric as ost_module
    from brainscore_core.supported_data_standards.brainio.assemblies import DataAssembly, walk_coords, array_is_element

    class SklearnProbabilitiesClassifier:
        def fit(self, X, Y):
            from sklearn.linear_model import LogisticRegression
            from sklearn.preprocessing import StandardScaler
            self.scaler = StandardScaler().fit(X)
            self.clf = LogisticRegression(C=1.0 / (0.463 * len(X)), max_iter=500).fit(self.scaler.transform(X), Y.values)
        def predict_proba(self, X):
            p = self.clf.predict_proba(self.scaler.transform(X))
            coords = {c: (d, v) for c, d, v in walk_coords(X) if array_is_element(d, X.dims[0])}
            return BehavioralAssembly(p, coords={**coords, "choice": list(self.clf.classes_)}, dims=[X.dims[0], "choice"])
        def close(self):
            pass

    ost_module.TFProbabilitiesClassifier = SklearnProbabilitiesClassifier
    t = time.perf_counter()
    s = ost_module.OSTCorrelation()(load("ost_source.nc", NeuroidAssembly), load("ost_target.nc", DataAssembly))
    out["ost"] = dict(value=float(s.values), error=float(s.attrs["error"]), seconds=time.perf_counter() - t)

    # --- conventions (issue 14) ---
    from brainscore_vision.benchmark_helpers.neural_common import average_repetition, explained_variance
    from brainscore_vision.benchmarks import ceil_score
    import brainscore_vision.benchmarks.kar2019.benchmark as kar_module
    import pandas as pd

    trials = load("trials_shuffled.nc", NeuroidAssembly)
    metric = CrossRegressedCorrelation(regression=pls_regression(), correlation=pearsonr_correlation(),
                                       crossvalidation_kwargs=dict(stratification_coord="object_name"))
    t = time.perf_counter()
    averaged = average_repetition(trials)
    score = metric(source, averaged)
    ceiling = InternalConsistency()(trials)
    ceiled = explained_variance(score, ceiling)
    dt = time.perf_counter() - t
    out["shuffled_order"] = dict(ids=[str(i) for i in averaged["stimulus_id"].values[:5]])
    out["shuffled_predictivity"] = dict(value=float(score.values), error=float(score.attrs["error"]), seconds=dt)
    out["shuffled_ceiling"] = dict(value=float(ceiling.values), error=float(ceiling.attrs["error"]), seconds=0.0)
    out["shuffled_ceiled_r2"] = dict(value=float(ceiled.values), error=float(ceiled.attrs["error"]), seconds=0.0)

    t = time.perf_counter()
    s = metric(source, load("target_nan.nc", NeuroidAssembly))
    out["nan_split_predictivity"] = dict(value=float(s.values), error=float(s.attrs["error"]),
                                         seconds=time.perf_counter() - t)

    kar = load("ost_kar.nc", DataAssembly)
    kar.attrs["stimulus_set"] = pd.DataFrame({"stimulus_id": kar["stimulus_id"].values,
                                              "image_label": kar["image_label"].values})
    kar_module.load_dataset = lambda identifier: kar  # their benchmark's preparation, on our file
    benchmark = kar_module.DicarloKar2019OST()
    t = time.perf_counter()
    s = ost_module.OSTCorrelation()(load("ost_source.nc", NeuroidAssembly), benchmark._assembly)
    ceiled = ceil_score(s, benchmark.ceiling)
    out["kar_ost"] = dict(value=float(s.values), error=float(s.attrs["error"]), seconds=time.perf_counter() - t)
    out["kar_ost_ceiled"] = dict(value=float(ceiled.values), error=float(ceiled.attrs["error"]), seconds=0.0)
    out["kar_ost_splits"] = [float(v) for v in s.raw.values] if hasattr(s, "raw") and s.raw is not None else []
    print("RESULT " + json.dumps(out))
''')


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import os; os.environ['BS_INSTALL_DEPENDENCIES']='no'; "
             "import brainscore_vision.metrics.i1i2.metric, brainscore_core"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {venv} (brainscore-vision 2.4.2, metrics only)…", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + ["--no-deps", "brainscore-vision==2.4.2", "brainscore-core", "result-caching"], check=True)
    subprocess.run(pip + REQUIREMENTS, check=True)
    subprocess.run(probe, check=True)
    return python


def simulate(folder: Path, small: bool) -> dict[str, object]:
    """Write the simulated assemblies both sides read."""
    rng = np.random.default_rng(2019)
    n_img, n_feat, n_sites, n_reps = (320, 400, 20, 6) if small else (1280, 4000, 60, 10)
    n_objects = 16
    objects = np.array([f"obj{i % n_objects:02d}" for i in range(n_img)])
    ids = np.array([f"img{i:05d}" for i in range(n_img)])
    # model features: ReLU of a random embedding; neurons: a sparse linear readout of a subset plus
    # noise, so PLS with 25 components captures part of the signal (a realistic regime, r ~ .5)
    latent = rng.normal(size=(n_img, 40))
    features = np.maximum(latent @ rng.normal(size=(40, n_feat)) + rng.normal(size=(n_img, n_feat)), 0)
    mu = features[:, :200] @ rng.normal(size=(200, n_sites)) / 20 + rng.normal(size=(n_img, n_sites))
    trials = np.repeat(mu, n_reps, axis=0) + 2.0 * rng.normal(size=(n_img * n_reps, n_sites))
    repetitions = neural_assembly(
        trials, stimulus_id=np.repeat(ids, n_reps), object_name=np.repeat(objects, n_reps),
        repetition=np.tile(np.arange(n_reps), n_img), neuroid_id=[f"site{i:03d}" for i in range(n_sites)],
        region="IT")
    target = average_repetitions(repetitions)
    perm = rng.permutation(n_img)  # the model's presentation order differs from the target's
    source = neural_assembly(features[perm], stimulus_id=ids[perm], object_name=objects[perm],
                             neuroid_id=[f"f{i:05d}" for i in range(n_feat)], region="model")
    write_assembly(source, folder / "source.nc")
    write_assembly(target, folder / "target.nc")
    write_assembly(repetitions, folder / "repetitions.nc")
    behaviour, probabilities, _ = two_afc_world(n_objects=8, images_per_object=10,
                                                trials_per_pair=30 if small else 60, seed=7)
    # Brain-Score's names for the 2AFC trials: sample_obj / dist_obj
    behaviour = behaviour.assign_coords(sample_obj=("presentation", behaviour["truth"].values),
                                        dist_obj=("presentation", behaviour["distractor"].values))
    write_assembly(behaviour, folder / "behavior.nc")
    # as Brain-Score's readout produces them: presentation coords incl. image_label (a MultiIndex of
    # one level would collapse into the dim), no truth (their metric adds it from the trials)
    probabilities = probabilities.rename(truth="image_label")
    write_assembly(probabilities, folder / "probabilities.nc")
    # 200 images: every 20-image test split holds each of the 5 objects (Brain-Score needs that)
    ost_source, ost_target = planted_ost_world(n_images=200, seed=3)
    labels = ("presentation", ost_target["truth"].values)  # Brain-Score reads image_label and truth
    write_assembly(ost_source.assign_coords(image_label=labels, truth=labels), folder / "ost_source.nc")
    write_assembly(ost_target.assign_coords(image_label=labels), folder / "ost_target.nc")
    _conventions_files(folder, repetitions, target, ost_source, ost_target, rng)
    return {"images": n_img, "features": n_feat, "sites": n_sites, "repetitions": n_reps,
            "trials": int(behaviour.sizes["presentation"])}


#: the PLS split whose held-out images are made constant, and the OST splits left with 1 and 2 pairs
NAN_SPLIT, OST_NAN_SPLIT, OST_TWO_PAIR_SPLIT = 4, 2, 5


def _conventions_files(folder: Path, repetitions, target, ost_source, ost_target, rng) -> None:
    """The files of the conventions checks (see the module docstring)."""
    from cornet_repro.metrics._util import cv_splits

    # shuffled trials, with a leading coord that sorts differently from stimulus_id
    n_img = target.sizes["presentation"]
    background = dict(zip(target["stimulus_id"].values.tolist(), rng.integers(0, 7, size=n_img).tolist()))
    shuffled = repetitions.isel(presentation=rng.permutation(repetitions.sizes["presentation"]))
    coords = {"background_id": ("presentation", [background[i] for i in shuffled["stimulus_id"].values.tolist()])}
    coords.update({name: ("presentation", shuffled[name].values) for name in shuffled.coords
                   if shuffled[name].dims == ("presentation",)})
    coords.update({name: (shuffled[name].dims, shuffled[name].values) for name in shuffled.coords
                   if shuffled[name].dims != ("presentation",)})
    write_assembly(xr.DataArray(shuffled.values, dims=shuffled.dims, coords=coords), folder / "trials_shuffled.nc")

    # an averaged target whose NAN_SPLIT-th split holds out only constant responses
    splits = cv_splits(n_img, n_splits=10, train_size=0.9, stratify=np.asarray(target["object_name"].values))
    values = np.array(target.values, dtype=float)
    values[splits[NAN_SPLIT][1]] = values[splits[NAN_SPLIT][1]].mean(axis=0)
    write_assembly(target.copy(data=values), folder / "target_nan.nc")

    # Kar2019-like: sorted ids → splits; one split keeps 1 image pair, another 2; shuffled, duplicated, 2 decoders
    ids = np.asarray(ost_target["stimulus_id"].values)
    order = np.argsort(ids)
    ost = np.array(ost_target.values, dtype=float)
    ost_splits = cv_splits(len(ids), n_splits=10, test_size=0.1)
    for split, keep in ((OST_NAN_SPLIT, 1), (OST_TWO_PAIR_SPLIT, 2)):
        test = order[ost_splits[split][1]]
        ost[test[keep:]] = np.nan
    rows = np.concatenate([rng.permutation(len(ids)), rng.choice(len(ids), size=10, replace=False)])
    data = np.stack([ost[rows], ost[rows] + rng.normal(0, 5, size=len(rows))], axis=1)
    data[len(ids):, 0] += 7.0  # a duplicate's second entry differs: the first occurrence must win
    kar = xr.DataArray(data, dims=("presentation", "decoder"),
                       coords={"stimulus_id": ("presentation", ids[rows]),
                               "image_label": ("presentation", ost_target["truth"].values[rows]),
                               "i1": ("presentation", ost_target["i1"].values[rows]),
                               "decoder": ("decoder", ["svm", "logistic"])})
    write_assembly(kar, folder / "ost_kar.nc")


def ours(folder: Path) -> dict[str, dict]:
    out = {}
    source, target = load_assembly(folder / "source.nc"), load_assembly(folder / "target.nc")
    t = time.perf_counter()
    s = neural_predictivity(source, target)
    out["neural_predictivity"] = dict(value=s.value, error=s.error, per_split=s.details["per_split"],
                                      seconds=time.perf_counter() - t)
    t = time.perf_counter()
    c = internal_consistency(load_assembly(folder / "repetitions.nc"))
    out["internal_consistency"] = dict(value=c.value, error=c.error, seconds=time.perf_counter() - t)
    behaviour = load_assembly(folder / "behavior.nc")
    probabilities = load_assembly(folder / "probabilities.nc")
    for name, fn in (("i2n", i2n), ("i1", i1)):
        t = time.perf_counter()
        s = fn(probabilities, behaviour)
        out[name] = dict(value=s.value, error=s.error, seconds=time.perf_counter() - t)
    t = time.perf_counter()
    c = behavioral_ceiling(behaviour)
    out["i2n_ceiling"] = dict(value=c.value, error=c.error, seconds=time.perf_counter() - t)
    t = time.perf_counter()
    s = object_solution_times(load_assembly(folder / "ost_source.nc"), load_assembly(folder / "ost_target.nc"))
    out["ost"] = dict(value=s.value, error=s.error, seconds=time.perf_counter() - t)

    # conventions (issue 14): ours under brainscore-2.4
    trials = load_assembly(folder / "trials_shuffled.nc")
    t = time.perf_counter()
    averaged = average_repetitions(trials)
    score = neural_predictivity(source, averaged)
    ceiling = internal_consistency(trials)
    ceiled = _ceil(score, ceiling, "r2")
    dt = time.perf_counter() - t
    out["shuffled_order"] = dict(ids=[str(i) for i in averaged["stimulus_id"].values[:5]])
    out["shuffled_predictivity"] = dict(value=score.value, error=score.error, seconds=dt)
    out["shuffled_ceiling"] = dict(value=ceiling.value, error=ceiling.error, seconds=0.0)
    out["shuffled_ceiled_r2"] = dict(value=ceiled.value, error=ceiled.error, seconds=0.0)
    t = time.perf_counter()
    s = neural_predictivity(source, load_assembly(folder / "target_nan.nc"))
    out["nan_split_predictivity"] = dict(value=s.value, error=s.error, seconds=time.perf_counter() - t)
    t = time.perf_counter()
    s = object_solution_times(load_assembly(folder / "ost_source.nc"), ost_target(load_assembly(folder / "ost_kar.nc")))
    ceiled = _ceil_ost(s)
    out["kar_ost"] = dict(value=s.value, error=s.error, seconds=time.perf_counter() - t)
    out["kar_ost_ceiled"] = dict(value=ceiled.value, error=ceiled.error, seconds=0.0)
    out["kar_ost_splits"] = list(s.details["per_split"])
    return out


def _ceil(score, ceiling, mode):
    """Brain-Score 2.4's ceiling of V4/IT. (Checkouts before the conventions had no ``error``
    argument: this script also runs there, for the before/after table.)"""
    try:
        return ceil_score(score, ceiling, mode=mode, error="unceiled")
    except TypeError:
        return ceil_score(score, ceiling, mode=mode)


def _ceil_ost(score):
    try:
        return ceiled_ost(score, error="unceiled")
    except TypeError:
        return ceiled_ost(score)


def _delta(a: float, b: float) -> float:
    """|a − b|; 0 when both are NaN, inf when only one is."""
    if np.isnan(a) and np.isnan(b):
        return 0.0
    return abs(a - b) if np.isfinite(a) and np.isfinite(b) else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=ROOT / ".cache" / "brainscore-venv")
    parser.add_argument("--small", action="store_true", help="smaller simulated data (faster)")
    parser.add_argument("--keep", type=Path, help="write the exchanged files here and keep them")
    args = parser.parse_args(argv)
    python = ensure_venv(args.venv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        sizes = simulate(folder, args.small)
        print("simulated:", ", ".join(f"{k}={v}" for k, v in sizes.items()), flush=True)
        script = folder / "theirs.py"
        script.write_text(THEIRS)
        env = {**os.environ, "BS_INSTALL_DEPENDENCIES": "no", "PYTHONWARNINGS": "ignore",
               "RESULTCACHING_DISABLE": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
        t = time.perf_counter()
        run = subprocess.run([str(python), str(script), str(folder)], capture_output=True, text=True, env=env,
                             cwd=folder)
        if run.returncode != 0:
            print(run.stdout[-3000:], run.stderr[-6000:], sep="\n")
            return 2
        theirs = json.loads(next(l for l in run.stdout.splitlines() if l.startswith("RESULT "))[7:])
        print(f"brainscore-vision 2.4.2 ran in {time.perf_counter() - t:.1f} s (incl. start-up)")
        mine = ours(folder)
    worst = 0.0
    print(f"\n{'metric':<22}{'ours':>12}{'theirs':>12}{'|Δ|':>11}{'err ours':>10}{'err theirs':>11}"
          f"{'t ours':>9}{'t theirs':>10}")
    for key in ("neural_predictivity", "internal_consistency", "i2n", "i2n_ceiling", "i1", "ost",
                "shuffled_predictivity", "shuffled_ceiling", "shuffled_ceiled_r2", "nan_split_predictivity",
                "kar_ost", "kar_ost_ceiled"):
        a, b = mine[key], theirs[key]
        delta = _delta(a["value"], b["value"])
        worst = max(worst, delta, _delta(a["error"], b["error"]))
        print(f"{key:<22}{a['value']:>12.6f}{b['value']:>12.6f}{delta:>11.2e}{a['error']:>10.5f}{b['error']:>11.5f}"
              f"{a['seconds']:>8.2f}s{b['seconds']:>9.2f}s")
    split_delta = np.abs(np.subtract(mine["neural_predictivity"]["per_split"],
                                     theirs["neural_predictivity"]["per_split"])).max()
    worst = max(worst, split_delta)
    print(f"neural predictivity, max |Δ| over the 10 per-split medians: {split_delta:.2e}")
    same_order = mine["shuffled_order"]["ids"] == theirs["shuffled_order"]["ids"]
    worst = max(worst, 0.0 if same_order else float("inf"))
    print(f"shuffled trials, first averaged stimuli: ours {mine['shuffled_order']['ids']}, "
          f"theirs {theirs['shuffled_order']['ids']}: {'same' if same_order else 'DIFFERENT'} order")
    splits = np.array(mine["kar_ost_splits"], dtype=float), np.array(theirs["kar_ost_splits"], dtype=float)
    if len(splits[1]):
        same_nan = np.array_equal(np.isnan(splits[0]), np.isnan(splits[1]))
        split_delta = np.nanmax(np.abs(splits[0] - splits[1])) if same_nan else float("inf")
        worst = max(worst, split_delta)
        print(f"Kar2019-like OST per split: ours {np.round(splits[0], 3).tolist()}\n"
              f"                            theirs {np.round(splits[1], 3).tolist()} (max |Δ| {split_delta:.2e})")
    print("ost: Brain-Score's OSTCorrelation with its TensorFlow decoder replaced by our sklearn decoder")
    print(f"\nworst |Δ| (values and errors) = {worst:.2e}: {'PASS' if worst < TOLERANCE else 'FAIL'} "
          f"(tolerance {TOLERANCE:g})")
    return 0 if worst < TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
