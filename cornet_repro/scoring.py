"""Brain-Score as the paper computes it: which data, region, time window and metric; the composite.

Benchmarks (paper §3; Brain-Score 2019):

=========================  ==================================  ===========  ============================
benchmark                  data                                region/time  metric → ceiled score
=========================  ==================================  ===========  ============================
``MajajHong2015.V4-pls``   MajajHong2015.private (2,560 imgs)  V4, 70–170   PLS r / split-half ceiling
``MajajHong2015.IT-pls``   MajajHong2015.private               IT, 70–170   PLS r / split-half ceiling
``Rajalingham2018-i2n``    Rajalingham2018 (240 imgs)          behaviour    I2n r / sqrt(human ceiling)
``Kar2019-ost``            Kar2019 (1,318 imgs)                IT, 70–250   OST Spearman / .79
=========================  ==================================  ===========  ============================

Composite: ``brain_score(..., variant="paper")`` = mean(V4, IT, behaviour, OST), the paper's
Brain-Score (the published table's Brain-Score column is exactly this mean; models without
temporal dynamics have OST = 0 there). ``variant="fig4"`` = mean(V4, IT, behaviour), the score of
the circuitry analysis (Fig. 4), which leaves OST out. The variant is always named explicitly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Mapping

import numpy as np
import xarray as xr

from .assemblies import AssemblyError, average_repetitions, select, validate_neural
from .metrics.behavior import behavioral_ceiling, ceiled_i2n
from .metrics.ceiling import internal_consistency
from .metrics.neural import neural_predictivity
from .metrics.ost import OST_CEILING, ceiled_ost, object_solution_times
from .metrics.score import Score, ceil_score

__all__ = ["Benchmark", "BENCHMARKS", "COMPOSITES", "neural_target", "ost_target", "score_neural",
           "score_behavior", "score_ost", "brain_score"]


@dataclass(frozen=True)
class Benchmark:
    name: str
    dataset: str  # key of cornet_repro.data.catalog.DATASETS
    region: str
    time_window: tuple[int, int] | None
    metric: str
    ceiling: str


BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in [
    Benchmark("MajajHong2015.V4-pls", "MajajHong2015.private", "V4", (70, 170), "neural_predictivity (PLS, 25)",
              "internal_consistency (split-half, Spearman-Brown)"),
    Benchmark("MajajHong2015.IT-pls", "MajajHong2015.private", "IT", (70, 170), "neural_predictivity (PLS, 25)",
              "internal_consistency (split-half, Spearman-Brown)"),
    Benchmark("Rajalingham2018-i2n", "Rajalingham2018.private", "behavior", None, "i2n",
              "human split-half (r / sqrt(ceiling) per split)"),
    Benchmark("Kar2019-ost", "Kar2019", "IT", (70, 250), "object_solution_times", f"{OST_CEILING} (fixed)"),
]}

#: which components each composite averages
COMPOSITES: dict[str, tuple[str, ...]] = {"paper": ("V4", "IT", "behavior", "OST"),
                                          "fig4": ("V4", "IT", "behavior")}
_ALIASES = {"v4": "V4", "it": "IT", "behavior": "behavior", "behaviour": "behavior", "ost": "OST"}


def neural_target(trials: xr.DataArray, region: str, time_window: tuple[float, float] | None = (70, 170)
                  ) -> tuple[xr.DataArray, xr.DataArray]:
    """(repetition-averaged target, trial-level assembly for the ceiling) for one region.

    Trials with a ``time_bin`` dim are averaged over the bins inside ``time_window`` (a file with
    one 70–170 ms bin, as Brain-Score's MajajHong2015, passes through).
    """
    trials = validate_neural(trials, what="neural trials")
    if "region" not in trials.coords:
        raise AssemblyError("neural trials need a 'region' coord on neuroids to select V4 / IT")
    trials = select(trials, region=region)
    if "time_bin" in trials.dims:
        start = np.asarray(trials["time_bin_start"].values, dtype=float)
        end = np.asarray(trials["time_bin_end"].values, dtype=float)
        if time_window is None:
            inside = np.ones(len(start), bool)
        else:
            inside = (start >= time_window[0]) & (end <= time_window[1])
        if not inside.any():
            raise AssemblyError(f"no time bin lies inside {time_window} ms; bins: {list(zip(start, end))}")
        trials = trials.isel(time_bin=np.flatnonzero(inside)).mean("time_bin", keep_attrs=True)
    return average_repetitions(trials), trials


def score_neural(model: xr.DataArray, trials: xr.DataArray, region: str, *,
                 time_window: tuple[float, float] | None = (70, 170), ceiling: Score | None = None,
                 ceiling_mode: Literal["r", "r2"] = "r", **metric_kwargs) -> Score:
    """Ceiled neural predictivity of one region (``ceiling_mode="r"``: the paper's r / ceiling)."""
    target, per_trial = neural_target(trials, region, time_window)
    raw = neural_predictivity(model, target, **metric_kwargs)
    ceiling = ceiling or internal_consistency(per_trial)
    return ceil_score(raw, ceiling, mode=ceiling_mode).with_details(region=region)


def score_behavior(probabilities: xr.DataArray, trials: xr.DataArray, *, ceiling: Score | None = None) -> Score:
    """Ceiled I2n (Brain-Score's per-split ``r / sqrt(ceiling)``)."""
    return ceiled_i2n(probabilities, trials, ceiling=ceiling or behavioral_ceiling(trials))


def ost_target(assembly: xr.DataArray, decoder: str = "svm") -> xr.DataArray:
    """The Kar2019 assembly as the OST metric takes it (Brain-Score's benchmark preparation):
    one entry per unique ``stimulus_id``, the ``decoder`` slice if there is a decoder dim, and
    ``truth`` taken from ``image_label`` when absent."""
    if "decoder" in assembly.dims:
        labels = np.asarray(assembly["decoder"].values)
        if decoder not in labels:
            raise AssemblyError(f"no decoder {decoder!r} in the OST assembly; it has {sorted(set(labels))}")
        assembly = assembly.isel(decoder=int(np.flatnonzero(labels == decoder)[0]))
    if "stimulus_id" not in assembly.coords and "image_id" in assembly.coords:
        assembly = assembly.assign_coords(stimulus_id=("presentation", assembly["image_id"].values))
    _, first = np.unique(np.asarray(assembly["stimulus_id"].values), return_index=True)
    assembly = assembly.isel(presentation=np.sort(first))
    if "truth" not in assembly.coords:
        if "image_label" not in assembly.coords:
            raise AssemblyError("the OST assembly needs a 'truth' or 'image_label' coord (object per image)")
        assembly = assembly.assign_coords(truth=("presentation", assembly["image_label"].values))
    return assembly


def score_ost(model: xr.DataArray, target: xr.DataArray, **kwargs) -> Score:
    """OST Spearman r over images, / .79."""
    return ceiled_ost(object_solution_times(model, target, **kwargs))


def brain_score(scores: Mapping[str, float | Score], *, variant: Literal["paper", "fig4"]) -> Score:
    """The composite: ``"paper"`` = mean(V4, IT, behavior, OST); ``"fig4"`` = mean(V4, IT, behavior).

    ``scores`` maps component names (``V4``, ``IT``, ``behavior``, ``OST``; case-insensitive) to
    ceiled scores. The error combines component errors as independent (sqrt(Σ err²) / n).
    """
    if variant not in COMPOSITES:
        raise ValueError(f"variant must be one of {sorted(COMPOSITES)}, got {variant!r}")
    given = {}
    for key, value in scores.items():
        norm = _ALIASES.get(str(key).lower())
        if norm is None:
            raise KeyError(f"unknown component {key!r}; expected V4, IT, behavior, OST")
        given[norm] = value
    needed = COMPOSITES[variant]
    missing = [k for k in needed if k not in given]
    if missing:
        hint = (" (the paper gives models without temporal dynamics OST = 0: pass it explicitly, or use "
                "variant='fig4' for the score without OST)") if "OST" in missing else ""
        raise KeyError(f"brain_score(variant={variant!r}) needs {list(needed)}; missing {missing}{hint}")
    values = [float(given[k]) for k in needed]
    errors = [float(given[k].error) if isinstance(given[k], Score) else float("nan") for k in needed]
    error = math.sqrt(sum(e * e for e in errors)) / len(errors) if all(np.isfinite(errors)) else float("nan")
    return Score(value=float(np.mean(values)), error=error, error_kind="propagated",
                 metric=f"brain_score ({variant}: mean of {', '.join(needed)})",
                 details={"variant": variant, **{k: v for k, v in zip(needed, values)}})
