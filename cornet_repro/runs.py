"""The run directory contract: what a training run writes, and reading a run back.

A run directory (``train.out_dir``) holds:

==================  =========================================================================
``preset.yaml``     the run's **whole preset** (training, scoring, brain data), as data: what
                    ``cornet-repro score RUN`` scores with, so every ``--set`` of training
                    reaches scoring and nothing else has to be passed
``checkpoint.pt``   the latest full training state (model, optimizer, scheduler, position,
                    RNG states), written atomically at every epoch end and every N steps
``model.pt``        the final weights, with the training config and the whole preset
``epoch_XXX.pt``    weights after each epoch (``train.keep_epoch_checkpoints``)
``log.jsonl``       one JSON line per epoch (and optionally per N steps)
``summary.json``    the run's summary (top-1, images/s, digests of every process's weights)
==================  =========================================================================

Every ``.pt`` file holds plain types and tensors only, so it loads with
``torch.load(weights_only=True)``; each carries ``config`` (the training config) and ``preset``
(the whole preset as a mapping). Training *checkpoints* are this project's resumable state;
published *weights* are :mod:`cornet_repro.models.weights`'.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from torch import nn

from .files import atomic_write_text
from .presets import Preset, PresetError, TrainConfig, from_dict, get_preset, to_dict

__all__ = ["CHECKPOINT", "FINAL_MODEL", "LOG", "SUMMARY", "PRESET_FILE", "CHECKPOINT_FORMAT", "epoch_file",
           "Run", "CheckpointError", "RunExistsError", "prepare_run_folder", "build_model", "load_training_file", "run_files", "load_run", "run_preset", "write_preset"]

CHECKPOINT, FINAL_MODEL, LOG, SUMMARY, PRESET_FILE = (
    "checkpoint.pt", "model.pt", "log.jsonl", "summary.json", "preset.yaml")
CHECKPOINT_FORMAT = 1


def epoch_file(epoch: int) -> str:
    """Name of the weights kept after ``epoch`` (1-based): ``epoch_003.pt``."""
    return f"epoch_{epoch:03d}.pt"


def build_model(config: TrainConfig, num_classes: int) -> nn.Module:
    """The model a training config trains (CORnet-S family: at the training image size)."""
    from .models.registry import build_model as build

    return build(config.model, config.model_config, num_classes=num_classes, image_size=config.image_size)


class CheckpointError(ValueError):
    """A training file cannot be read (truncated, not a PyTorch file, or not this project's)."""


def load_training_file(path: str | os.PathLike) -> dict[str, Any]:
    """A checkpoint, final model or epoch file, read with ``weights_only=True``.

    A file that does not load (truncated, another format, objects other than tensors and plain
    types) raises :class:`CheckpointError` naming it.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # zip errors, unpickling errors, EOF: all mean "not a usable file"
        raise CheckpointError(f"{path}: not a readable training file ({_first_line(error)}); it is truncated "
                              "or not a cornet-repro checkpoint: restore it, or retrain (train --overwrite)") from None
    if not isinstance(state, Mapping) or not {"config", "model", "num_classes"} <= set(state):
        raise CheckpointError(f"{path}: not a cornet-repro training file (no config, model and num_classes); "
                              "give a run directory or one of its .pt files")
    return dict(state)


def _first_line(error: Exception) -> str:
    """The gist of a torch.load error, without PyTorch's advice to load with weights_only=False
    (unsafe for untrusted files, and never what fixes a damaged checkpoint)."""
    text = str(error).strip()
    if "weights_only" in text:
        return "it holds objects other than tensors and plain types"
    first = text.splitlines()[0].split(". ")[0] if text else ""  # PyTorch's first sentence says it all
    return f"{type(error).__name__}: {first[:160]}" if first else type(error).__name__


def run_files(out_dir: str | os.PathLike) -> list[Path]:
    """The files of a run present in ``out_dir`` (not the lock): what ``--overwrite`` removes."""
    out = Path(out_dir)
    names = (CHECKPOINT, FINAL_MODEL, LOG, SUMMARY, PRESET_FILE)
    return sorted([out / n for n in names if (out / n).is_file()] + list(out.glob("epoch_[0-9][0-9][0-9].pt")))


class RunExistsError(FileExistsError):
    """``train`` was pointed at a folder that holds a run, without saying to resume or replace it."""


def prepare_run_folder(out_dir: str | os.PathLike, *, resume: bool, overwrite: bool) -> None:
    """Refuse to train into a folder holding a run unless told to resume it or to start afresh
    (``overwrite``: its run files are deleted first). Call it holding the folder's writer lock."""
    out = Path(out_dir)
    if resume and overwrite:
        raise ValueError("--resume and --overwrite contradict each other: continue the run, or start it afresh")
    existing = run_files(out)
    if not existing:
        return
    if overwrite:
        for path in existing:
            path.unlink()
    elif not resume:
        state = "a finished run (model.pt)" if (out / FINAL_MODEL).is_file() else "a started run"
        raise RunExistsError(f"{out}: holds {state}; pass --resume to continue it, --overwrite to delete it and "
                             "start afresh, or choose another --out-dir")


def write_preset(out_dir: str | os.PathLike, preset: Preset) -> Path:
    """Save the whole preset of a run as ``<out_dir>/preset.yaml`` (atomically)."""
    return atomic_write_text(Path(out_dir) / PRESET_FILE, preset.to_yaml())


def run_preset(state: Mapping[str, Any], where: str | os.PathLike = "the run") -> Preset | None:
    """The whole preset a training file records, or None if it records none.

    Files written before runs kept their whole preset record only its name; for a built-in
    name the preset is rebuilt with the file's own training config (their scoring settings
    were the built-in preset's, since overrides of them were not kept).
    """
    saved = state.get("preset")
    if isinstance(saved, Mapping):
        try:
            return from_dict(Preset, saved, "preset")
        except PresetError as error:
            raise PresetError(f"{where}: its recorded preset is not valid ({error})") from error
    if isinstance(saved, str) and saved:
        try:
            base = get_preset(saved)
        except PresetError:
            return None
        train = from_dict(TrainConfig, state["config"], "train")
        return base.replace({"train": to_dict(train)})
    return None


@dataclass
class Run:
    """A trained model read back from its run directory."""

    model: nn.Module  # eval mode, CPU
    config: TrainConfig  # how it was trained
    preset: Preset | None  # the whole preset it was trained with (None: an older run that kept only a name)
    state: dict[str, Any]  # the file's contents (val_top1, epoch, num_classes, ...)
    path: Path  # the file read

    @property
    def finished(self) -> bool:
        """True when read from the final ``model.pt``."""
        return self.path.name == FINAL_MODEL


def load_run(path: str | os.PathLike) -> Run:
    """A trained model, its training config and its whole preset, from a run directory (its
    ``model.pt``, else its ``checkpoint.pt``) or from one of its ``.pt`` files."""
    path = Path(path)
    if path.is_dir():
        path = path / FINAL_MODEL if (path / FINAL_MODEL).is_file() else path / CHECKPOINT
    state = load_training_file(path)
    config = from_dict(TrainConfig, state["config"], "train")
    model = build_model(config, int(state["num_classes"]))
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, AttributeError) as error:
        raise CheckpointError(f"{path}: its weights do not fit {config.model} ({_first_line(error)}); "
                              "the file is damaged or was edited: retrain (train --overwrite)") from None
    return Run(model.eval(), config, run_preset(state, path), state, path)
