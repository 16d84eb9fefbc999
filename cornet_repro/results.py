"""Score a trained model and keep one JSON result file per scored model; read a results directory.

Flow: a trained model (a run directory from :mod:`cornet_repro.train`) → :func:`score_model` on
the brain data of its preset (simulated, or real Brain-Score files) → :func:`write_result` into a
results directory → :func:`read_results` (one row per file) for the figures and notebooks.

A result file (``schema_version`` 1) holds: ``model`` (display name), ``model_name`` (registry
name), ``model_config``, ``fig4_group``/``fig4_variant`` (Fig. 4 rows), ``preset``, ``source``
(``'simulated'`` or ``'real'``: which brain data it was scored on), ``seed``; ``scores``: per
benchmark (``V4``, ``IT``, ``behavior``, ``OST``) the ceiled ``value`` with its ``error``, the
``raw`` (unceiled) value and error, the ``ceiling``, and the metric's name; ``brain_score`` (the
paper's composite: mean of V4, IT, behaviour, OST) and ``brain_score_fig4`` (without OST, as in
Fig. 4); ``imagenet_top1`` (ImageNet validation top-1, only when trained on ImageNet) and
``validation_top1`` (top-1 on the training data's validation split); ``ost_pairs`` (per-image
model and monkey OSTs, for Fig. 5); ``train`` (the training config) and ``score_config``; the
``checkpoint`` and its SHA-256; ``package_version``, ``git_commit``, ``created``.

Files are written atomically; their names are derived from the model, preset, source, seed and
checkpoint, so scoring the same checkpoint again replaces its result instead of adding one.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .files import atomic_write_text

__all__ = ["SCHEMA_VERSION", "BENCHMARK_NAMES", "BrainData", "score_model", "score_run", "train_and_score",
           "make_result", "result_path", "write_result", "read_result", "read_results", "circuitry_deltas",
           "read_ost_pairs", "git_commit", "register_cli"]

SCHEMA_VERSION = 1
BENCHMARK_NAMES = ("V4", "IT", "behavior", "OST")
RESULT_SUFFIX = ".result.json"


# ---------------------------------------------------------------------------------------------
# Brain data: what a model is scored against
# ---------------------------------------------------------------------------------------------

@dataclass
class BrainData:
    """The assemblies and stimuli of the four benchmarks, whatever their source.

    ``neural``: V4 + IT trials (``presentation × neuroid [× time_bin]``, ``region`` coord) on
    ``neural_stimuli``; ``human``: 2AFC trials on ``behavior_test_ids`` (in
    ``behavior_test_stimuli``) with the decoder fit on ``behavior_fitting_ids`` (in
    ``behavior_fitting_stimuli``; images need an ``object_name``); ``ost``: one monkey OST per
    image (coords ``stimulus_id``, ``truth``, ``i1``) on ``ost_stimuli``.
    """

    source: str  # "simulated" | "real"
    neural: Any
    neural_stimuli: Any
    human: Any
    behavior_fitting_stimuli: Any
    behavior_fitting_ids: np.ndarray
    behavior_test_stimuli: Any
    behavior_test_ids: np.ndarray
    ost: Any
    ost_stimuli: Any
    description: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def simulated(cls, config, *, cache: str | os.PathLike | None = None) -> "BrainData":
        """The simulated experiment of ``config`` (a SimulatedConfig), through its BrainIO files."""
        from .data.simulated import GENERATOR_VERSION, simulated_experiment

        experiment = simulated_experiment(config, cache=cache)
        stimuli = experiment.stimulus_set
        return cls("simulated", experiment.neural, stimuli, experiment.human, stimuli,
                   experiment.behavior_fitting_ids, stimuli, experiment.behavior_test_ids, experiment.ost, stimuli,
                   {"simulated_config": dataclasses.asdict(config), "config_digest": config.digest(),
                    "generator_version": GENERATOR_VERSION, "directory": str(experiment.directory)})

    @classmethod
    def real(cls, *, cache: str | os.PathLike | None = None, neural: str = "MajajHong2015.private",
             behavior: str = "Rajalingham2018.private", behavior_fitting: str = "objectome.public",
             ost: str = "Kar2019") -> "BrainData":
        """The paper's Brain-Score data (see :mod:`cornet_repro.data.catalog`); fetched or user-supplied.

        ``neural``: ``MajajHong2015.private``, the 2,560 high-variation images (88 V4 + 168 IT
        sites) that Brain-Score's MajajHong2015 benchmarks score; the full ``MajajHong2015`` also
        holds the low-variation images. Public files are downloaded into ``cache``; restricted ones
        must be saved there by the user (``<cache>/brainio/<filename>``): a missing file raises the
        fetcher's error naming it and where to put it. Tested end to end on miniature files in the
        published formats (tests/test_real_data.py).
        """
        from .data.brainio import load_assembly
        from .data.catalog import dataset
        from .data.fetch import fetch_assembly, load_stimuli
        from .scoring import ost_target

        def assembly_and_stimuli(name: str):
            # each stimulus set is read once: merged into its assembly's presentations and kept
            stimuli = load_stimuli(dataset(name).stimulus_set, cache=cache)
            return load_assembly(fetch_assembly(name, cache=cache), stimulus_set=stimuli), stimuli

        neural_trials, neural_stimuli = assembly_and_stimuli(neural)
        human, test_stimuli = assembly_and_stimuli(behavior)
        fit_stimuli = load_stimuli(behavior_fitting, cache=cache)
        ost_raw, ost_stimuli = assembly_and_stimuli(ost)
        test_stimuli, fit_stimuli = cls._with_object_name(test_stimuli), cls._with_object_name(fit_stimuli)
        test_ids = pd.unique(np.asarray(human["stimulus_id"].values))
        return cls("real", neural_trials, neural_stimuli, human, fit_stimuli, fit_stimuli.stimulus_ids,
                   test_stimuli, test_ids, ost_target(ost_raw), ost_stimuli,
                   {"neural": neural, "behavior": behavior, "behavior_fitting": behavior_fitting, "ost": ost})

    @staticmethod
    def _with_object_name(stimuli):
        """The stimulus set with an ``object_name`` column (the behavioural readout's labels):
        Brain-Score's objectome sets name the object of an image ``image_label``."""
        table = stimuli.table
        if "object_name" in table.columns:
            return stimuli
        for column in ("image_label", "image_sample_obj"):
            if column in table.columns:
                return dataclasses.replace(stimuli, table=table.assign(object_name=table[column]))
        from .assemblies import AssemblyError
        raise AssemblyError(f"stimulus set {stimuli.identifier!r} names no object per image (no 'object_name', "
                            f"'image_label' or 'image_sample_obj' column; columns are {list(table.columns)})")


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------

def _score_dict(score) -> dict[str, Any]:
    """A Score as plain data: ceiled value and error, raw (unceiled) value and error, ceiling."""
    out = {"value": _f(score.value), "error": _f(score.error), "error_kind": score.error_kind,
           "metric": score.metric}
    raw = score.unceiled if score.unceiled is not None else score
    out["raw"], out["raw_error"] = _f(raw.value), _f(raw.error)
    out["ceiling"] = _f(score.ceiling.value) if score.ceiling is not None else None
    for key in ("per_split", "images_with_both", "note", "layer", "feedforward"):
        if key in score.details:
            out[key] = score.details[key]
    return out


def _f(x: Any) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def _time_steps(model) -> bool:
    return hasattr(model, "forward_time_steps") and hasattr(model, "time_mapping")


def _region_features(model, model_name: str, model_config: Mapping[str, Any], stimuli, region: str,
                     window: tuple[int, int], image_size: int, batch_size: int, pca: int, pca_stimuli, progress: bool):
    """Activations for one region on the neural-predictivity window (a committed layer, or candidates)."""
    from .activations import extract_activations, extract_time_bins
    from .models import region_layers

    if _time_steps(model) and region in model.time_mapping:
        return extract_time_bins(model, stimuli, region, [window], mapping=model.time_mapping, image_size=image_size,
                                 batch_size=batch_size, pca=pca or None, pca_stimuli=pca_stimuli,
                                 progress=progress).squeeze("time_bin", drop=True)
    layers = region_layers(model_name, **_layer_config(model_name, model_config))[region]
    return extract_activations(model, stimuli, layers, image_size=image_size, batch_size=batch_size,
                               pca=pca or None, pca_stimuli=pca_stimuli, progress=progress)


def _layer_config(model_name: str, model_config: Mapping[str, Any]) -> dict[str, Any]:
    from .models.config import FIG4_PRESETS

    return dict(model_config) if model_name == "cornet_s" or model_name in FIG4_PRESETS else {}


def score_model(model, brain: BrainData, *, model_name: str, model_config: Mapping[str, Any] | None = None,
                image_size: int = 224, batch_size: int = 64, benchmarks: Sequence[str] = BENCHMARK_NAMES, pca_components: int = 0, pca_stimuli: Any = None,
                progress: bool = False) -> dict[str, Any]:
    """Score ``model`` on ``brain`` with the paper's benchmarks; returns ``{"scores", "ost_pairs"}``.

    V4/IT: PLS predictivity of the committed area at 70–170 ms (CORnet: the time step Brain-Score
    maps there) or, for models without committed areas, the best of the candidate layers chosen on
    training splits only; behaviour: I2n of a logistic readout of the penultimate layer fit on the
    fitting images; OST: CORnet IT on 10 ms bins 70–250 ms (models with one IT step are
    feed-forward and get 0, as in the paper). Metrics and ceilings are
    :mod:`cornet_repro.scoring`'s.
    """
    import torch

    from . import scoring
    from .activations import extract_activations, extract_time_bins, select_layer
    from .assemblies import select
    from .metrics.behavior import logistic_probabilities
    from .metrics.ceiling import internal_consistency
    from .metrics.score import Score, ceil_score
    from .models import region_layers
    from .models.time_mapping import OST_TIME_BINS

    model_config = dict(model_config or {})
    unknown = sorted(set(benchmarks) - set(BENCHMARK_NAMES))
    if unknown:
        raise ValueError(f"unknown benchmarks {unknown}; choose from {list(BENCHMARK_NAMES)}")
    model = model.eval()
    scores: dict[str, Any] = {}
    ost_pairs = None
    kwargs = dict(image_size=image_size, batch_size=batch_size, progress=progress)
    with torch.no_grad():
        for region in [b for b in ("V4", "IT") if b in benchmarks]:
            features = _region_features(model, model_name, model_config, brain.neural_stimuli, region, (70, 170),
                                        pca=pca_components, pca_stimuli=pca_stimuli, **kwargs)
            if "layer" in features.coords and len(set(np.asarray(features["layer"].values).tolist())) > 1:
                target, trials = scoring.neural_target(brain.neural, region)
                chosen = select_layer(features, target)
                score = ceil_score(chosen.score, internal_consistency(trials)).with_details(layer=chosen.best_layer)
            else:
                score = scoring.score_neural(features, brain.neural, region)
            scores[region] = _score_dict(score)

        if "behavior" in benchmarks:
            layer = region_layers(model_name, **_layer_config(model_name, model_config))["behavior"]
            fit_ids, test_ids = np.asarray(brain.behavior_fitting_ids), np.asarray(brain.behavior_test_ids)
            fit = extract_activations(model, brain.behavior_fitting_stimuli, layer, stimulus_ids=fit_ids,
                                      spatial_average=layer, **kwargs)
            test = extract_activations(model, brain.behavior_test_stimuli, layer, stimulus_ids=test_ids,
                                       spatial_average=layer, **kwargs)
            fit_labels = brain.behavior_fitting_stimuli.table.set_index("stimulus_id").loc[fit_ids, "object_name"]
            test_labels = brain.behavior_test_stimuli.table.set_index("stimulus_id").loc[test_ids, "object_name"]
            probabilities = logistic_probabilities(np.asarray(fit.values), fit_labels.to_numpy(), np.asarray(test.values),
                                                   stimulus_id=test_ids, truth=test_labels.to_numpy())
            scores["behavior"] = _score_dict(scoring.score_behavior(probabilities, brain.human))

        if "OST" in benchmarks:
            steps = model.time_mapping.get("IT", (0, 0, 1))[2] if _time_steps(model) else 1
            if steps <= 1:
                scores["OST"] = {"value": 0.0, "error": None, "error_kind": "none", "raw": None, "raw_error": None,
                                 "ceiling": scoring.OST_CEILING, "metric": "ost",
                                 "note": "feed-forward model (one IT time step): OST = 0 as in the paper"}
            else:
                bins = extract_time_bins(model, brain.ost_stimuli, "IT", OST_TIME_BINS, mapping=model.time_mapping,
                                         stimulus_ids=np.asarray(brain.ost["stimulus_id"].values), **kwargs)
                ost_score = scoring.score_ost(bins, brain.ost)
                scores["OST"] = _score_dict(ost_score)
                if scores["OST"]["value"] is None:
                    # No split had 3+ images where both the model and the monkey reach the threshold:
                    # the correlation is undefined; count it as 0, as the paper does for models
                    # without usable dynamics.
                    scores["OST"].update(value=0.0, error=None, note="undefined: too few images reached the "
                                         "monkey's I1 threshold in the model; counted as 0")
                ost_pairs = ost_score.details["per_image"]
    present = {k: scores[k]["value"] for k in BENCHMARK_NAMES if k in scores}
    composites = {}
    for variant, needed in scoring.COMPOSITES.items():
        if all(k in present for k in needed):
            parts = {k: Score(present[k], scores[k]["error"] if scores[k]["error"] is not None else float("nan"))
                     for k in needed}
            total = scoring.brain_score(parts, variant=variant)
            composites[variant] = {"value": _f(total.value), "error": _f(total.error), "variant": variant,
                                   "components": list(needed)}
    return {"scores": scores, "brain_score": composites.get("paper"), "brain_score_fig4": composites.get("fig4"),
            "ost_pairs": ost_pairs}


# ---------------------------------------------------------------------------------------------
# Result records
# ---------------------------------------------------------------------------------------------

def git_commit(path: str | os.PathLike | None = None) -> str | None:
    """The checkout's commit (``+dirty`` if it has uncommitted changes), or None outside git."""
    where = str(Path(path or Path(__file__).resolve().parent))
    try:
        commit = subprocess.run(["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_result(scored: Mapping[str, Any], *, model_name: str, model_config: Mapping[str, Any] | None,
                preset: str, source: str, seed: int | None, validation_top1: float | None = None,
                imagenet_top1: float | None = None, train_config: Mapping[str, Any] | None = None,
                score_config: Mapping[str, Any] | None = None, checkpoint: str | os.PathLike | None = None,
                data: Mapping[str, Any] | None = None, label: str | None = None) -> dict[str, Any]:
    """Assemble a result record (the schema in the module docstring) from :func:`score_model`'s output."""
    from . import __version__
    from .models.config import FIG4_ROWS
    from .models.zoo import PUBLISHED_NAMES

    if source not in ("simulated", "real"):
        raise ValueError(f"source must be 'simulated' or 'real', got {source!r}")
    group = variant = None
    for row_group, row_variant, name in FIG4_ROWS:
        if name == model_name:
            group, variant = row_group, row_variant
    checkpoint_path = Path(checkpoint) if checkpoint else None
    return {
        "schema": "cornet-repro/result", "schema_version": SCHEMA_VERSION,
        "model": label or PUBLISHED_NAMES.get(model_name, model_name), "model_name": model_name,
        "model_config": dict(model_config or {}), "fig4_group": group, "fig4_variant": variant,
        "preset": preset, "source": source, "seed": seed,
        "scores": dict(scored["scores"]), "brain_score": scored.get("brain_score"),
        "brain_score_fig4": scored.get("brain_score_fig4"),
        "imagenet_top1": imagenet_top1, "validation_top1": validation_top1,
        "ost_pairs": scored.get("ost_pairs"),
        "train": dict(train_config or {}), "score_config": dict(score_config or {}), "data": dict(data or {}),
        "checkpoint": str(checkpoint_path) if checkpoint_path else None,
        "checkpoint_sha256": _sha256(checkpoint_path) if checkpoint_path and checkpoint_path.is_file() else None,
        "package_version": __version__, "git_commit": git_commit(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _filename(result: Mapping[str, Any]) -> str:
    key = json.dumps([result["model_name"], result["model_config"], result["preset"], result["source"],
                      result["seed"], result.get("checkpoint_sha256") or result.get("checkpoint")], sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(result["model_name"]))
    return f"{safe}-{result['preset']}-{result['source']}-seed{result['seed']}-{digest}{RESULT_SUFFIX}"


def _jsonable(obj: Any) -> Any:
    """NaN/inf → None and numpy scalars → Python numbers, recursively (strict JSON)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def result_path(result: Mapping[str, Any], results_dir: str | os.PathLike) -> Path:
    """Where :func:`write_result` puts (or put) ``result`` in ``results_dir``."""
    return Path(results_dir) / _filename(result)


def write_result(result: Mapping[str, Any], results_dir: str | os.PathLike) -> Path:
    """Write one result atomically into ``results_dir``; returns its path."""
    _validate(result, "result")
    path = result_path(result, results_dir)
    atomic_write_text(path, json.dumps(_jsonable(result), indent=1, allow_nan=False) + "\n")
    return path


def _validate(result: Mapping[str, Any], where: str) -> None:
    required = ("schema_version", "model", "model_name", "preset", "source", "seed", "scores")
    missing = [k for k in required if k not in result]
    if missing:
        raise ValueError(f"{where}: not a cornet-repro result (missing {missing})")
    if result["schema_version"] != SCHEMA_VERSION:
        raise ValueError(f"{where}: schema_version {result['schema_version']} is not {SCHEMA_VERSION}; "
                         "rescore the model with this version of cornet-repro")
    unknown = sorted(set(result["scores"]) - set(BENCHMARK_NAMES))
    if unknown:
        raise ValueError(f"{where}: unknown benchmarks {unknown} in scores")


def read_result(path: str | os.PathLike) -> dict[str, Any]:
    """One result file, validated."""
    path = Path(path)
    try:
        result = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    _validate(result, str(path))
    return result


def read_results(results_dir: str | os.PathLike) -> pd.DataFrame:
    """One row per result file in ``results_dir`` (sorted by creation time).

    Columns: ``model``, ``model_name``, ``preset``, ``source``, ``seed``, ``fig4_group``,
    ``fig4_variant``; per benchmark ``V4``, ``V4_error``, ``V4_raw``, ``V4_ceiling`` (likewise
    ``IT``, ``behavior``, ``OST``); ``brain_score`` (+ ``_error``), ``brain_score_fig4``
    (+ ``_error``), ``imagenet_top1``, ``validation_top1``, ``chance_top1``, ``checkpoint``, ``git_commit``,
    ``package_version``, ``created``, ``path``.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results directory {results_dir} does not exist")
    rows = []
    for path in sorted(results_dir.glob(f"*{RESULT_SUFFIX}")):
        r = read_result(path)
        row = {k: r.get(k) for k in ("model", "model_name", "preset", "source", "seed", "fig4_group",
                                     "fig4_variant", "imagenet_top1", "validation_top1", "checkpoint",
                                     "git_commit", "package_version", "created")}
        for name in BENCHMARK_NAMES:
            s = r["scores"].get(name) or {}
            row[name], row[f"{name}_error"] = s.get("value"), s.get("error")
            row[f"{name}_raw"], row[f"{name}_ceiling"] = s.get("raw"), s.get("ceiling")
        for key in ("brain_score", "brain_score_fig4"):
            composite = r.get(key) or {}
            row[key], row[f"{key}_error"] = composite.get("value"), composite.get("error")
        row["chance_top1"] = _chance_top1(r.get("train") or {})
        row["path"] = str(path)
        rows.append(row)
    columns = ["model", "model_name", "preset", "source", "seed", "fig4_group", "fig4_variant",
               *[f"{n}{s}" for n in BENCHMARK_NAMES for s in ("", "_error", "_raw", "_ceiling")],
               "brain_score", "brain_score_error", "brain_score_fig4", "brain_score_fig4_error",
               "imagenet_top1", "validation_top1", "chance_top1", "checkpoint", "git_commit", "package_version",
               "created", "path"]
    frame = pd.DataFrame(rows, columns=columns)
    numeric = [c for c in columns if c.split("_")[0] in BENCHMARK_NAMES or c.startswith(("brain_score", "imagenet",
                                                                                       "validation", "chance"))]
    frame[numeric] = frame[numeric].apply(pd.to_numeric)
    return frame.sort_values("created", kind="stable").reset_index(drop=True)


def _chance_top1(train: Mapping[str, Any]) -> float | None:
    """1 / number of classes of the training task (simulated objects, or ImageNet's 1,000)."""
    world = train.get("simulated")
    if train.get("data") == "simulated" and world:
        return 1.0 / (world["n_categories"] * world["n_objects_per_category"])
    return 1.0 / 1000 if train.get("data") == "imagenet" else None


def circuitry_deltas(results: pd.DataFrame, *, top1: str | None = None) -> pd.DataFrame:
    """Fig. 4 recomputed: % change of top-1 and Brain-Score (without OST) per variant vs CORnet-S.

    The baseline is every result of the default CORnet-S architecture (``cornet_s`` or any Fig. 4
    row whose config is the default) with the same preset and source; with several seeds, deltas
    are computed per seed against the same-seed baseline when there is one (else the baseline
    mean) and summarized as mean and s.d. ``top1``: the column for the top-1 delta (default
    ``imagenet_top1`` when present, else ``validation_top1``: top-1 on the simulated task).
    Columns: ``group``, ``variant``, ``delta_imagenet_top1_pct`` (+ ``_sd``),
    ``delta_brain_score_pct`` (+ ``_sd``), ``n_seeds``, ``source``, ``preset``, ``top1_measure``;
    the absolute values behind the deltas (means over seeds): ``top1``, ``brain_score``, and the
    baseline's ``baseline_top1`` (+ ``_sd`` over seeds), ``baseline_brain_score`` (+ ``_sd``), and
    ``chance_top1`` (1 / number of classes), so a reader can tell a delta from noise near chance.
    """
    from .models.config import FIG4_PRESETS, FIG4_ROWS, CORnetSConfig

    defaults = {"cornet_s"} | {name for name, cfg in FIG4_PRESETS.items() if cfg == CORnetSConfig()}
    rows = []
    for (preset, source), group in results.groupby(["preset", "source"], dropna=False):
        column = top1 or ("imagenet_top1" if group["imagenet_top1"].notna().any() else "validation_top1")
        base = group[group["model_name"].isin(defaults) & ~_has_model_overrides(group)]
        if base.empty:
            continue
        base_by_seed = base.groupby("seed")[[column, "brain_score_fig4"]].mean()
        base_mean = base[[column, "brain_score_fig4"]].mean()
        base_sd = base_by_seed.std(ddof=1) if len(base_by_seed) > 1 else pd.Series(np.nan, index=base_mean.index)
        baseline = {"baseline_top1": base_mean[column], "baseline_top1_sd": base_sd[column],
                    "baseline_brain_score": base_mean["brain_score_fig4"],
                    "baseline_brain_score_sd": base_sd["brain_score_fig4"],
                    "chance_top1": group["chance_top1"].dropna().iloc[0] if group["chance_top1"].notna().any()
                    else np.nan}
        for fig_group, variant, name in FIG4_ROWS:
            runs = group[group["model_name"] == name]
            if name in defaults and runs.empty:
                runs = base  # the default row is CORnet-S itself
            if runs.empty:
                continue
            deltas = {column: [], "brain_score_fig4": []}
            for _, run in runs.iterrows():
                ref = base_by_seed.loc[run["seed"]] if run["seed"] in base_by_seed.index else base_mean
                for measure in deltas:
                    deltas[measure].append(100.0 * (run[measure] - ref[measure]) / ref[measure])
            t, b = np.asarray(deltas[column], float), np.asarray(deltas["brain_score_fig4"], float)
            rows.append({"group": fig_group, "variant": variant,
                         "delta_imagenet_top1_pct": float(np.mean(t)),
                         "delta_imagenet_top1_pct_sd": float(np.std(t, ddof=1)) if len(t) > 1 else np.nan,
                         "delta_brain_score_pct": float(np.mean(b)),
                         "delta_brain_score_pct_sd": float(np.std(b, ddof=1)) if len(b) > 1 else np.nan,
                         "n_seeds": len(runs), "source": source, "preset": preset, "top1_measure": column,
                         "top1": float(runs[column].mean()), "brain_score": float(runs["brain_score_fig4"].mean()),
                         **baseline})
    return pd.DataFrame(rows, columns=["group", "variant", "delta_imagenet_top1_pct", "delta_imagenet_top1_pct_sd",
                                       "delta_brain_score_pct", "delta_brain_score_pct_sd", "n_seeds", "source",
                                       "preset", "top1_measure", "top1", "brain_score", "baseline_top1",
                                       "baseline_top1_sd", "baseline_brain_score", "baseline_brain_score_sd",
                                       "chance_top1"])


def _has_model_overrides(frame: pd.DataFrame) -> pd.Series:
    """Rows whose model_config changes the architecture (anything beyond width/size/classes)."""
    if "path" not in frame:
        return pd.Series(False, index=frame.index)
    neutral = {"width", "image_size", "num_classes"}

    def changed(path):
        try:
            return bool(set(read_result(path).get("model_config", {})) - neutral)
        except (OSError, ValueError):
            return False

    return frame["path"].map(changed)


def read_ost_pairs(results_dir: str | os.PathLike, *, model_name: str = "cornet_s") -> pd.DataFrame | None:
    """Per-image OSTs of the newest ``model_name`` result with OST pairs (None if there is none).

    Columns: ``stimulus_id``, ``model_ost_ms``, ``monkey_ost_ms`` (NaN where the model or the
    monkey has no OST), plus ``model``, ``preset``, ``source``, ``seed``, ``path``.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results directory {results_dir} does not exist")
    table = read_results(results_dir)
    for _, row in table[table["model_name"] == model_name].iloc[::-1].iterrows():
        pairs = read_result(row["path"]).get("ost_pairs")
        if pairs:
            frame = pd.DataFrame(pairs).astype({"model_ost_ms": float, "monkey_ost_ms": float})
            return frame.assign(model=row["model"], preset=row["preset"], source=row["source"], seed=row["seed"],
                                path=row["path"])
    return None


# ---------------------------------------------------------------------------------------------
# Train, score, write: the whole path for one model
# ---------------------------------------------------------------------------------------------

def score_run(run_dir: str | os.PathLike, results_dir: str | os.PathLike, *, preset=None,
              cache: str | os.PathLike | None = None, pca_stimuli: Any = None, progress: bool = False) -> Path:
    """Score the trained model in ``run_dir`` on its preset's brain data; write and return the result file."""
    from .presets import get_preset, load_preset
    from .train import FINAL_MODEL, load_checkpoint_file, load_trained_model

    run_dir = Path(run_dir)
    path = run_dir / FINAL_MODEL if run_dir.is_dir() else run_dir
    state = load_checkpoint_file(path)
    model, train_config = load_trained_model(path)
    name = state.get("preset") or (preset.name if preset is not None and not isinstance(preset, str) else preset)
    if preset is None or isinstance(preset, str):
        preset = load_preset(preset) if preset else get_preset(name) if name else None
    if preset is None:
        raise ValueError(f"{path} does not record its preset; pass preset= (tiny, small, paper or a YAML file)")
    if preset.brain_data == "simulated":
        world = train_config.simulated or preset.simulated
        brain = BrainData.simulated(world, cache=cache)
    else:
        brain = BrainData.real(cache=cache)
    score = preset.score
    if score.pca_components and pca_stimuli is None and train_config.data == "imagenet" and train_config.data_path:
        from .activations import imagenet_pca_images
        pca_stimuli = imagenet_pca_images(Path(train_config.data_path) / "val")
    scored = score_model(model, brain, model_name=train_config.model, model_config=train_config.model_config,
                         image_size=score.image_size, batch_size=score.batch_size, benchmarks=score.benchmarks,
                         pca_components=score.pca_components, pca_stimuli=pca_stimuli, progress=progress)
    top1 = state.get("val_top1")
    result = make_result(scored, model_name=train_config.model, model_config=train_config.model_config,
                         preset=preset.name, source=brain.source, seed=train_config.seed, validation_top1=top1,
                         imagenet_top1=top1 if train_config.data == "imagenet" else None,
                         train_config=_plain(train_config), score_config=_plain(score), checkpoint=path,
                         data=brain.description)
    return write_result(result, results_dir)


def train_and_score(preset, results_dir: str | os.PathLike, *, model: str | None = None, seed: int | None = None,
                    runs_dir: str | os.PathLike = "runs", overrides: Mapping[str, Any] | None = None,
                    resume: bool = True, fresh: bool = False,
                    cache: str | os.PathLike | None = None) -> dict[str, Any]:
    """Train ``model`` with ``preset`` (skipped if its run already finished), score it, write the result.

    Returns the result record. The run directory is ``<runs_dir>/<preset>/<model>-seed<seed>``.
    ``fresh=True`` first deletes that run and the earlier results of the same model, preset and
    seed: the book uses it, since it re-executes only when code or parameters changed.
    """
    from .presets import load_preset
    from .train import FINAL_MODEL, train

    preset = load_preset(preset) if isinstance(preset, (str, os.PathLike)) else preset
    changes = dict(overrides or {})
    if model is not None:
        changes["train.model"] = model
    if seed is not None:
        changes["train.seed"] = seed
    preset = preset.replace(changes) if changes else preset
    t = preset.train
    out = Path(runs_dir) / preset.name / f"{t.model}-seed{t.seed}"
    preset = preset.replace({"train.out_dir": str(out)})
    if fresh:
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        remove_results(results_dir, model_name=t.model, preset=preset.name, seed=t.seed)
    if not (resume and (out / FINAL_MODEL).is_file()):
        train(preset, resume=resume)
    return read_result(score_run(out, results_dir, preset=preset, cache=cache))


def remove_results(results_dir: str | os.PathLike, *, model_name: str, preset: str, seed: int) -> int:
    """Delete the result files of one (model, preset, seed) in ``results_dir``; return how many."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        return 0
    removed = 0
    for path in results_dir.glob(f"*{RESULT_SUFFIX}"):
        r = read_result(path)
        if (r.get("model_name"), r.get("preset"), r.get("seed")) == (model_name, preset, seed):
            path.unlink()
            removed += 1
    return removed


def _plain(obj: Any) -> Any:
    from .presets import to_dict
    return to_dict(obj)


# ---------------------------------------------------------------------------------------------
# Command line: `cornet-repro score`
# ---------------------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("run", help="a training run directory (or its model.pt)")
    parser.add_argument("--results-dir", default="results", help="where result files go (default: results)")
    parser.add_argument("--preset", help="preset the run was trained with (default: the one recorded in the run)")
    parser.add_argument("--cache", help="data cache (default: $CORNET_REPRO_CACHE or ~/.cache/cornet_repro)")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    return parser


def main(args: argparse.Namespace | Sequence[str] | None = None) -> int:
    if not isinstance(args, argparse.Namespace):
        args = add_arguments(argparse.ArgumentParser(prog="cornet-repro score")).parse_args(args)
    try:
        path = score_run(args.run, args.results_dir, preset=args.preset, cache=args.cache, progress=args.progress)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    result = read_result(path)
    summary = {k: (v or {}).get("value") for k, v in result["scores"].items()}
    print(json.dumps({"result": str(path), "source": result["source"], "scores": summary,
                      "brain_score": (result["brain_score"] or {}).get("value")}, indent=1))
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add ``cornet-repro score``."""
    if "score" in subparsers.choices:
        return
    sub = subparsers.add_parser("score", help="score a trained model on its preset's brain data; write a result file",
                                description=__doc__.split("\n\n")[0])
    add_arguments(sub)
    sub.set_defaults(func=main)
