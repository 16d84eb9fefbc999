"""Sweeps shipped with the package: result files too slow to recompute in every book build.

A shipped sweep is a folder ``shipped/<name>/`` holding

=================  ================================================================================
``results/``       one result file per (model, seed), as :func:`cornet_repro.results.write_result`
                   wrote them
``curves.csv``     the learning curves: one row per run and epoch (train and validation top-1,
                   loss, learning rate, seconds)
``dynamics.csv``   optional: Brain-Score over training, the weights after every epoch of some
                   models scored (:func:`cornet_repro.pipeline.score_epochs`)
``plateau.csv``    optional: the plateau check, the last epochs' validation top-1 as logged and with
                   BatchNorm's statistics recomputed (:func:`cornet_repro.sweeps.plateau_check`)
``manifest.json``  how it was made: commit, preset (the whole of it), command, machine, start and
                   end times, seconds per run
=================  ================================================================================

It is written by ``cornet-repro sweep ... --ship NAME`` (:func:`cornet_repro.sweeps.ship`) and read
here. Training is deterministic, so a run executed again with the same code, preset, model and
seed must give the same numbers: the book re-executes a few runs live and compares them with
the shipped ones (:func:`cornet_repro.results.compare_records`).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

SHIPPED_DIR = Path(str(resources.files("cornet_repro") / "data" / "shipped"))
RESULTS, CURVES, DYNAMICS, PLATEAU, MANIFEST = "results", "curves.csv", "dynamics.csv", "plateau.csv", "manifest.json"

__all__ = ["SHIPPED_DIR", "RESULTS", "CURVES", "DYNAMICS", "PLATEAU", "MANIFEST", "shipped_names", "shipped_dir",
           "read_manifest", "read_curves", "read_dynamics", "read_plateau"]


def shipped_names() -> list[str]:
    """The names of the shipped sweeps."""
    return sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / MANIFEST).is_file()) if SHIPPED_DIR.is_dir() else []


def shipped_dir(name: str) -> Path:
    """The folder of shipped sweep ``name``; an unknown name is an error that lists the known ones."""
    folder = SHIPPED_DIR / str(name)
    if not (folder / MANIFEST).is_file():
        raise ValueError(f"shipped sweep {name!r} does not exist; shipped sweeps: {shipped_names() or 'none'} "
                         "(make one with `cornet-repro sweep ... --ship NAME`)")
    return folder


def read_manifest(name: str) -> dict[str, Any]:
    """How shipped sweep ``name`` was made (commit, preset, command, machine, times)."""
    return json.loads((shipped_dir(name) / MANIFEST).read_text())


def read_curves(name: str) -> pd.DataFrame:
    """The learning curves of shipped sweep ``name``: ``model_name``, ``seed``, ``epoch``,
    ``train_top1``, ``val_top1``, ``train_loss``, ``val_loss``, ``lr``, ``epoch_seconds``."""
    return pd.read_csv(shipped_dir(name) / CURVES)


def read_dynamics(name: str) -> pd.DataFrame | None:
    """Brain-Score over training in shipped sweep ``name`` (None if it has none): ``model_name``,
    ``seed``, ``epoch``, ``val_top1``, and per benchmark its ceiled score (+ ``_error``),
    ``brain_score_fig4``."""
    path = shipped_dir(name) / DYNAMICS
    return pd.read_csv(path) if path.is_file() else None


def read_plateau(name: str) -> pd.DataFrame | None:
    """The plateau check of shipped sweep ``name`` (None if it has none): ``model_name``, ``seed``,
    ``epoch`` (its last epochs), ``val_top1`` (as logged) and ``val_top1_exact_bn``."""
    path = shipped_dir(name) / PLATEAU
    return pd.read_csv(path) if path.is_file() else None
