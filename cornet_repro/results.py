"""The result record: one JSON file per scored model. Make, write, read, validate; nothing else.

A result file (``schema_version`` 1) holds: ``model`` (display name), ``model_name`` (registry
name), ``model_config``, ``fig4_group``/``fig4_variant`` (Fig. 4 rows), ``preset``, ``source``
(``'simulated'`` or ``'real'``: which brain data it was scored on), ``seed``; ``scores``: per
benchmark (``V4``, ``IT``, ``behavior``, ``OST``) the ceiled ``value`` with its ``error``, the
``raw`` (unceiled) value and error, the ``ceiling``, the metric's name and, for a region whose
layer was chosen among candidates, the ``layer`` and ``layer_scores`` (every candidate layer's
ceiled ``value`` and ``raw`` held-out score: the layer map); ``brain_score`` (the
paper's composite: mean of V4, IT, behaviour, OST) and ``brain_score_fig4`` (without OST, as in
Fig. 4), each present when all its parts were scored; ``composite``: which of the two the run's
preset reports as its Brain-Score (``score.composite``); ``conventions``: how the scores were
ceiled and their errors formed (:class:`cornet_repro.protocol.Conventions` as a dict: ``name``
``paper-2019`` or ``brainscore-2.4``, ``ceiling`` ``r``/``r2``, ``ceiled_error``, the Brain-Score
version it corresponds to; records without it were made under ``paper-2019``); ``imagenet_top1`` (ImageNet validation
top-1, only when trained on ImageNet) and ``validation_top1`` (top-1 on the training data's
validation split, e.g. the simulated task); ``depth`` (the paper's model depth, when known);
``memory`` (the estimate made before scoring a user's model); ``ost_pairs`` (per-image model and
monkey OSTs, for Fig. 5); ``train`` (the training config) and ``score_config``; the ``checkpoint`` and its
SHA-256; ``package_version``, ``git_commit``, ``created``.

Files are written atomically; their names are derived from the model, preset, source, seed and
checkpoint, so scoring the same checkpoint again replaces its result instead of adding one.
Producing a record (training, scoring) is :mod:`cornet_repro.pipeline`'s job; analysing records
(Fig. 4 deltas, Fig. 5 OSTs) is the figure modules'.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .cache import file_hash
from .files import atomic_write_text, remove_stale_temps, writer_lock
from .metrics.score import Score
from .protocol import BENCHMARK_NAMES, COMPOSITES
from .protocol import conventions as named_conventions

__all__ = ["SCHEMA_VERSION", "RESULT_SUFFIX", "score_record", "make_result", "result_path", "write_result",
           "read_result", "read_results", "remove_results", "git_commit"]

SCHEMA_VERSION = 1
RESULT_SUFFIX = ".result.json"


def _f(x: Any) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def score_record(score: Score) -> dict[str, Any]:
    """A benchmark's Score as plain data: ceiled value and error, raw (unceiled) value and error, ceiling.

    A score that was set rather than measured (a feed-forward model's OST = 0) has a ceiling but
    no unceiled score: its raw value is None.
    """
    out = {"value": _f(score.value), "error": _f(score.error), "error_kind": score.error_kind,
           "metric": score.metric}
    if score.unceiled is not None:
        raw: Score | None = score.unceiled
    else:
        raw = None if score.ceiling is not None else score
    out["raw"], out["raw_error"] = (_f(raw.value), _f(raw.error)) if raw is not None else (None, None)
    out["ceiling"] = _f(score.ceiling.value) if score.ceiling is not None else None
    for key in ("ceiling_mode", "ceiled_error"):  # how value and error were ceiled (see Conventions)
        if key in score.details:
            out[key] = score.details[key]
    for key in ("per_split", "images_with_both", "note", "layer", "layer_scores", "feedforward"):
        if key in score.details:
            out[key] = score.details[key]
    return out


def _composite_record(total: Score | None, variant: str) -> dict[str, Any] | None:
    if total is None:
        return None
    return {"value": _f(total.value), "error": _f(total.error), "variant": variant,
            "components": list(COMPOSITES[variant])}


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


def make_result(scored: Any, *, model_name: str, model_config: Mapping[str, Any] | None,
                preset: str, source: str, seed: int | None, validation_top1: float | None = None,
                imagenet_top1: float | None = None, train_config: Mapping[str, Any] | None = None,
                score_config: Mapping[str, Any] | None = None, checkpoint: str | os.PathLike | None = None,
                data: Mapping[str, Any] | None = None, label: str | None = None, depth: int | None = None,
                memory: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Assemble a result record (the schema in the module docstring) from
    :func:`cornet_repro.scoring.score_model`'s :class:`~cornet_repro.scoring.ModelScores`."""
    from ._version import __version__
    from .models.config import FIG4_ROWS
    from .models.registry import PUBLISHED_NAMES

    if source not in ("simulated", "real"):
        raise ValueError(f"source must be 'simulated' or 'real', got {source!r}")
    group = variant = None
    for row_group, row_variant, name in FIG4_ROWS:
        if name == model_name:
            group, variant = row_group, row_variant
    ost = scored.scores.get("OST")
    checkpoint_path = Path(checkpoint) if checkpoint else None
    return {
        "schema": "cornet-repro/result", "schema_version": SCHEMA_VERSION,
        "model": label or PUBLISHED_NAMES.get(model_name, model_name), "model_name": model_name,
        "model_config": dict(model_config or {}), "fig4_group": group, "fig4_variant": variant,
        "preset": preset, "source": source, "seed": seed,
        "scores": {name: score_record(score) for name, score in scored.scores.items()},
        "brain_score": _composite_record(scored.composites.get("paper"), "paper"),
        "brain_score_fig4": _composite_record(scored.composites.get("fig4"), "fig4"),
        "composite": (score_config or {}).get("composite", "paper"),
        "conventions": named_conventions((score_config or {}).get("conventions", "paper-2019")).to_dict(),
        "imagenet_top1": imagenet_top1, "validation_top1": validation_top1,
        "ost_pairs": ost.details.get("per_image") if ost is not None else None,
        "depth": depth, "memory": dict(memory) if memory else None,
        "train": dict(train_config or {}), "score_config": dict(score_config or {}), "data": dict(data or {}),
        "checkpoint": str(checkpoint_path) if checkpoint_path else None,
        "checkpoint_sha256": file_hash(checkpoint_path) if checkpoint_path and checkpoint_path.is_file() else None,
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
    """Write one result atomically into ``results_dir``; returns its path.

    Holds the folder's writer lock meanwhile (so leftover temporary files of killed writers can be
    removed safely), and replaces an older result of the same run (same key and checkpoint path,
    e.g. after ``train --overwrite``) instead of keeping two records of it.
    """
    _validate(result, "result")
    path = result_path(result, results_dir)
    with writer_lock(results_dir, "results folder", wait=10.0) as locked_at:
        remove_stale_temps(results_dir, ".*.result.*.tmp.json", older_than=locked_at)
        atomic_write_text(path, json.dumps(_jsonable(result), indent=1, allow_nan=False) + "\n")
        for other in Path(results_dir).glob(f"*{RESULT_SUFFIX}"):
            if other != path and _same_run(other, result):
                other.unlink()
    return path


def _same_run(path: Path, result: Mapping[str, Any]) -> bool:
    try:
        other = read_result(path)
    except (OSError, ValueError):
        return False  # not ours to delete: read_results will name it
    checkpoint = result.get("checkpoint")
    return checkpoint is not None and other.get("checkpoint") == checkpoint and _key(other) == _key(result)


def _key(result: Mapping[str, Any]) -> tuple:
    """What makes two records count twice in a statistic: the same model, preset, seed and data."""
    return (result["model_name"], json.dumps(result.get("model_config") or {}, sort_keys=True), result["preset"],
            result["seed"], result["source"])


def _validate(result: Any, where: str) -> None:
    if not isinstance(result, Mapping):
        raise ValueError(f"{where}: not a cornet-repro result (a JSON {type(result).__name__}, not an object); "
                         "delete it, or rescore the model")
    required = ("schema_version", "model", "model_name", "preset", "source", "seed", "scores")
    missing = [k for k in required if k not in result]
    if missing:
        raise ValueError(f"{where}: not a cornet-repro result (missing {missing}); delete it, or rescore the model")
    if result["schema_version"] != SCHEMA_VERSION:
        raise ValueError(f"{where}: schema_version {result['schema_version']} is not {SCHEMA_VERSION}; "
                         "rescore the model with this version of cornet-repro")
    scores = result["scores"]
    if not isinstance(scores, Mapping) or not scores:
        raise ValueError(f"{where}: field 'scores' holds no benchmark scores; rescore the model (or delete the file)")
    unknown = sorted(set(scores) - set(BENCHMARK_NAMES))
    if unknown:
        raise ValueError(f"{where}: unknown benchmarks {unknown} in scores")
    for name, score in scores.items():
        _check_number(score, f"scores.{name}", where)
    for key in ("brain_score", "brain_score_fig4"):
        if result.get(key) is not None:
            _check_number(result[key], key, where)


def _check_number(record: Any, field: str, where: str) -> None:
    """A score record's ``value`` (and ``error``) must be numbers (null: not measurable, e.g. NaN)."""
    if not isinstance(record, Mapping) or "value" not in record:
        raise ValueError(f"{where}: field {field} has no 'value'; rescore the model (or delete the file)")
    for part in ("value", "error"):
        value = record.get(part)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"{where}: field {field}.{part} is {value!r}, not a number; rescore the model "
                             "(or delete the file)")


def read_result(path: str | os.PathLike) -> dict[str, Any]:
    """One result file, validated."""
    path = Path(path)
    try:
        result = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error}); delete it, or rescore the model") from None
    _validate(result, str(path))
    return result


def read_results(results_dir: str | os.PathLike) -> pd.DataFrame:
    """One row per result file in ``results_dir`` (sorted by creation time).

    Columns: ``model``, ``model_name``, ``model_config`` (a dict), ``preset``, ``source``, ``seed``,
    ``fig4_group``, ``fig4_variant``, ``conventions`` (its name); per benchmark ``V4``, ``V4_error``, ``V4_raw``, ``V4_ceiling`` (likewise
    ``IT``, ``behavior``, ``OST``); ``brain_score`` (+ ``_error``), ``brain_score_fig4``
    (+ ``_error``), ``imagenet_top1``, ``validation_top1``, ``chance_top1``, ``checkpoint``, ``git_commit``,
    ``package_version``, ``created``, ``path``.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results directory {results_dir} does not exist")
    rows = []
    seen: dict[tuple, Path] = {}
    for path in sorted(results_dir.glob(f"*{RESULT_SUFFIX}")):
        r = read_result(path)
        key = _key(r)
        if key in seen:
            raise ValueError(f"{seen[key]} and {path} both hold {r['model_name']} (preset {r['preset']}, seed "
                             f"{r['seed']}, {r['source']} data): one model would count twice; delete the one "
                             "you do not want")
        seen[key] = path
        row = {k: r.get(k) for k in ("model", "model_name", "model_config", "preset", "source", "seed", "fig4_group",
                                     "fig4_variant", "imagenet_top1", "validation_top1", "depth", "checkpoint",
                                     "git_commit", "package_version", "created")}
        for name in BENCHMARK_NAMES:
            s = r["scores"].get(name) or {}
            row[name], row[f"{name}_error"] = s.get("value"), s.get("error")
            row[f"{name}_raw"], row[f"{name}_ceiling"] = s.get("raw"), s.get("ceiling")
        for key in ("brain_score", "brain_score_fig4"):
            composite = r.get(key) or {}
            row[key], row[f"{key}_error"] = composite.get("value"), composite.get("error")
        row["conventions"] = (r.get("conventions") or {}).get("name", "paper-2019")
        row["chance_top1"] = _chance_top1(r.get("train") or {})
        row["path"] = str(path)
        rows.append(row)
    columns = ["model", "model_name", "model_config", "preset", "source", "seed", "fig4_group", "fig4_variant",
               "conventions", *[f"{n}{s}" for n in BENCHMARK_NAMES for s in ("", "_error", "_raw", "_ceiling")],
               "brain_score", "brain_score_error", "brain_score_fig4", "brain_score_fig4_error",
               "imagenet_top1", "validation_top1", "chance_top1", "depth", "checkpoint", "git_commit", "package_version",
               "created", "path"]
    frame = pd.DataFrame(rows, columns=columns)
    numeric = [c for c in columns if c.split("_")[0] in BENCHMARK_NAMES
               or c.startswith(("brain_score", "imagenet", "validation", "chance", "depth"))]
    frame[numeric] = frame[numeric].apply(pd.to_numeric)
    return frame.sort_values("created", kind="stable").reset_index(drop=True)


def _chance_top1(train: Mapping[str, Any]) -> float | None:
    """1 / number of classes of the training task (simulated objects, or ImageNet's 1,000)."""
    world = train.get("simulated")
    if train.get("data") == "simulated" and world:
        return 1.0 / (world["n_categories"] * world["n_objects_per_category"])
    return 1.0 / 1000 if train.get("data") == "imagenet" else None


def remove_results(results_dir: str | os.PathLike, *, model_name: str, preset: str, seed: int) -> int:
    """Delete the result files of one (model, preset, seed) in ``results_dir``; return how many."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        return 0
    removed = 0
    with writer_lock(results_dir, "results folder", wait=10.0):
        for path in results_dir.glob(f"*{RESULT_SUFFIX}"):
            r = read_result(path)
            if (r.get("model_name"), r.get("preset"), r.get("seed")) == (model_name, preset, seed):
                path.unlink()
                removed += 1
    return removed


#: What :func:`compare_records` compares: per benchmark the ceiled score, and the task accuracy.
COMPARED = ("validation_top1", *BENCHMARK_NAMES, "brain_score_fig4")


def compare_records(expected: pd.DataFrame, actual: pd.DataFrame) -> pd.DataFrame:
    """Pair the results of the same (model, preset, seed, data, conventions) in two tables of
    :func:`read_results` (e.g. a shipped sweep and runs executed again) and compare their numbers.

    One row per pair and quantity of :data:`COMPARED` present in either: ``model_name``, ``preset``,
    ``seed``, ``quantity``, ``expected``, ``actual``, ``abs_diff`` (NaN in one only: inf).
    """
    keys = ["model_name", "preset", "seed", "source", "conventions"]
    pairs = expected.merge(actual, on=keys, suffixes=("_expected", "_actual"))
    rows = []
    for _, pair in pairs.iterrows():
        for quantity in COMPARED:
            a, b = pair[f"{quantity}_expected"], pair[f"{quantity}_actual"]
            if pd.isna(a) and pd.isna(b):
                continue
            diff = float(abs(a - b)) if not (pd.isna(a) or pd.isna(b)) else math.inf
            rows.append({"model_name": pair["model_name"], "preset": pair["preset"], "seed": pair["seed"],
                         "quantity": quantity, "expected": a, "actual": b, "abs_diff": diff})
    return pd.DataFrame(rows, columns=["model_name", "preset", "seed", "quantity", "expected", "actual", "abs_diff"])
