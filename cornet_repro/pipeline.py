"""Train → score → record: the whole path for one model, as the book's sweep and the CLI run it.

:func:`score_run` scores a run directory with its own preset (what it was trained with, every
override included) and writes one result file; :func:`train_and_score` trains a run first unless
an identical finished run is already there.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Mapping

from .data.brain import BrainData
from .files import check_writable
from .presets import Preset, load_preset, to_dict
from .results import make_result, read_result, remove_results, write_result
from .runs import FINAL_MODEL, load_run, load_training_file, run_preset
from .scoring import Candidate, benchmarks_for, score_model

__all__ = ["score_run", "train_and_score", "run_directory", "scored_result", "score_epochs"]


def score_run(run_dir: str | os.PathLike, results_dir: str | os.PathLike, *,
              preset: Preset | str | os.PathLike | None = None, cache: str | os.PathLike | None = None,
              pca_stimuli: Any = None, progress: bool = False, conventions: str | None = None) -> Path:
    """Score the trained model in ``run_dir`` and write its result file; return the file's path.

    Scored with the run's own preset (its ``score`` settings and ``brain_data``). ``preset``
    replaces it: needed for older runs that recorded only a preset name, and used by
    :func:`train_and_score` to rescore a finished run with new scoring settings. ``conventions``
    replaces the preset's ``score.conventions`` (``paper-2019`` or ``brainscore-2.4``).
    """
    check_writable(results_dir, "results folder")  # before the scoring work, not after it
    run = load_run(run_dir)
    if isinstance(preset, (str, os.PathLike)):
        preset = load_preset(preset)
    preset = preset or run.preset
    if preset is None:
        raise ValueError(f"{run.path} does not record its preset; pass one (tiny, small, paper or a YAML file)")
    if conventions is not None:
        preset = dataclasses.replace(preset, score=dataclasses.replace(preset.score, conventions=conventions))
    score = preset.score
    brain = BrainData.build(preset.brain_data, simulated=run.config.simulated or preset.simulated, cache=cache)
    if score.pca_components and pca_stimuli is None and run.config.data == "imagenet" and run.config.data_path:
        from .activations import imagenet_pca_images
        pca_stimuli = imagenet_pca_images(Path(run.config.data_path) / "val")
    candidate = Candidate.from_registry(run.model, run.config.model, run.config.model_config,
                                        image_size=score.image_size, batch_size=score.batch_size,
                                        pca_components=score.pca_components, pca_stimuli=pca_stimuli,
                                        progress=progress)
    scored = score_model(candidate, benchmarks_for(brain, score.benchmarks, conventions=score.conventions))
    top1 = run.state.get("val_top1")
    result = make_result(scored, model_name=run.config.model, model_config=run.config.model_config,
                         preset=preset.name, source=brain.source, seed=run.config.seed, validation_top1=top1,
                         imagenet_top1=top1 if run.config.data == "imagenet" else None,
                         train_config=to_dict(run.config), score_config=to_dict(score), checkpoint=run.path,
                         data=brain.description)
    return write_result(result, results_dir)


def run_directory(preset: Preset, runs_dir: str | os.PathLike = "runs") -> Path:
    """Where :func:`train_and_score` puts a run: ``<runs_dir>/<preset>/<model>-seed<seed>``."""
    return Path(runs_dir) / preset.name / f"{preset.train.model}-seed{preset.train.seed}"


def train_and_score(preset: Preset | str | os.PathLike, results_dir: str | os.PathLike, *,
                    model: str | None = None, seed: int | None = None, runs_dir: str | os.PathLike = "runs",
                    overrides: Mapping[str, Any] | None = None, resume: bool = True, fresh: bool = False,
                    cache: str | os.PathLike | None = None) -> dict[str, Any]:
    """Train ``model`` with ``preset`` (skipped if the same training already finished), score it,
    write the result; return the result record (``{}`` on the other processes of a DDP run).

    The run directory is :func:`run_directory`. ``fresh=True`` first deletes that run and the
    earlier results of the same model, preset and seed: the book uses it, since it re-executes
    only when code or parameters changed. ``resume=False`` trains afresh over an existing run.
    """
    from .train import train

    preset = load_preset(preset) if isinstance(preset, (str, os.PathLike)) else preset
    changes = dict(overrides or {})
    if model is not None:
        changes["train.model"] = model
    if seed is not None:
        changes["train.seed"] = seed
    preset = preset.replace(changes) if changes else preset
    out = run_directory(preset, runs_dir)
    preset = preset.replace({"train.out_dir": str(out)})
    if fresh:  # the run's files go under its writer lock, in train(overwrite=True)
        remove_results(results_dir, model_name=preset.train.model, preset=preset.name, seed=preset.train.seed)
    if fresh or not (resume and _finished_with(out, preset)):
        train(preset, resume=resume and not fresh, overwrite=fresh or not resume)
        import torch.distributed as dist

        if dist.is_initialized():  # trained with DDP (torchrun, or a SLURM job): rank 0 scores alone
            rank = dist.get_rank()
            dist.destroy_process_group()
            if rank != 0:
                return {}
    return read_result(score_run(out, results_dir, preset=preset, cache=cache))


def _finished_with(out: Path, preset: Preset) -> bool:
    """True if ``out`` holds a finished run trained exactly as ``preset`` says."""
    if not (out / FINAL_MODEL).is_file():
        return False
    state = load_training_file(out / FINAL_MODEL)
    recorded = run_preset(state, out / FINAL_MODEL)
    return recorded is not None and to_dict(recorded.train) == to_dict(preset.train)


def scored_result(preset: Preset, results_dir: str | os.PathLike,
                  runs_dir: str | os.PathLike = "runs") -> dict[str, Any] | None:
    """The result in ``results_dir`` of ``preset``'s run (its model and seed, in :func:`run_directory`)
    when that run finished training as ``preset`` says and the result scored its final weights with
    ``preset``'s scoring settings; else None."""
    from .cache import file_hash
    from .results import RESULT_SUFFIX

    out = run_directory(preset, runs_dir)
    preset = preset.replace({"train.out_dir": str(out)})
    folder = Path(results_dir)
    if not folder.is_dir() or not _finished_with(out, preset):
        return None
    digest = None
    for path in folder.glob(f"*{RESULT_SUFFIX}"):
        try:
            record = read_result(path)
        except ValueError:
            continue
        if (record["model_name"], record["preset"], record["seed"]) != (preset.train.model, preset.name,
                                                                        preset.train.seed):
            continue
        digest = digest or file_hash(out / FINAL_MODEL)
        if record.get("checkpoint_sha256") == digest and record.get("score_config") == to_dict(preset.score):
            return record
    return None


def score_epochs(run_dir: str | os.PathLike, *, cache: str | os.PathLike | None = None) -> "pd.DataFrame":
    """Brain-Score over training: score the weights kept after every epoch of a run
    (``train.keep_epoch_checkpoints``) with the run's own preset; one row per epoch.

    Columns: ``model_name``, ``seed``, ``epoch``, ``val_top1`` (after that epoch), per benchmark of
    the preset its ceiled score and ``_error``, and ``brain_score_fig4`` (V4, IT, behaviour).
    """
    import tempfile

    import pandas as pd

    from .runs import epoch_file

    run = load_run(run_dir)
    rows = []
    for epoch in range(1, run.config.epochs + 1):
        weights = run.path.parent / epoch_file(epoch)
        if not weights.is_file():
            raise FileNotFoundError(f"{weights}: no weights of epoch {epoch}; train with "
                                    "--set keep_epoch_checkpoints=true to score a run over training")
        with tempfile.TemporaryDirectory() as folder:
            record = read_result(score_run(weights, folder, preset=run.preset, cache=cache))
        state = load_training_file(weights)
        row = {"model_name": run.config.model, "seed": run.config.seed, "epoch": epoch,
               "val_top1": state.get("val_top1")}
        for name, score in record["scores"].items():
            row[name], row[f"{name}_error"] = (score or {}).get("value"), (score or {}).get("error")
        row["brain_score_fig4"] = (record.get("brain_score_fig4") or {}).get("value")
        rows.append(row)
    return pd.DataFrame(rows)