"""Brain-Score as the paper computes it: benchmarks as objects, called with a candidate model.

A **benchmark** knows its target data, its time window or bins, its metric and its ceiling; it
is called with a **candidate** and returns a ceiled :class:`~cornet_repro.metrics.Score`. A
candidate is a model plus how to read it (its committed or candidate layers, its time mapping,
its behavioural readout layer, the input size); it knows nothing of benchmarks. In the spirit of
Brain-Score's benchmark objects, without their plugin registry.

=========  =======================================  ============  ===================================
name       data (paper; Brain-Score identifier)     region, time  metric → ceiled score
=========  =======================================  ============  ===================================
``V4``     MajajHong2015.private (2,560 images)     V4, 70–170    PLS r / split-half ceiling
           ``MajajHong2015.V4-pls``
``IT``     MajajHong2015.private                    IT, 70–170    PLS r / split-half ceiling
           ``MajajHong2015.IT-pls``
behavior   Rajalingham2018 (240 images)             readout       I2n r / sqrt(human ceiling)
           ``Rajalingham2018-i2n``
``OST``    Kar2019 (1,318 images) ``Kar2019-ost``   IT, 70–250    OST Spearman / .79
=========  =======================================  ============  ===================================

V4 and IT are ceiled as r / ceiling under the default conventions (``paper-2019``, the paper's) and
as r² / ceiling with the unceiled error under ``brainscore-2.4`` (brainscore-vision 2.4.x); see
:class:`cornet_repro.protocol.Conventions`. Under both, targets come in Brain-Score's order and NaN
splits are skipped as Brain-Score does. A model without temporal dynamics gets OST = 0 under both
(the paper's rule; Brain-Score 2.4 reports NaN there).

:func:`score_model` = "for each benchmark: benchmark(candidate)", then the composites:
``"paper"`` = mean(V4, IT, behaviour, OST), the paper's Brain-Score (the published table's
Brain-Score column is exactly this mean; models without temporal dynamics have OST = 0 there);
``"fig4"`` = mean(V4, IT, behaviour), the score of the circuitry analysis (Fig. 4).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Protocol, Sequence

import numpy as np
import xarray as xr

from .assemblies import AssemblyError, average_repetitions, select, validate_neural
from .metrics.behavior import behavioral_ceiling, ceiled_i2n, logistic_probabilities
from .metrics.ceiling import internal_consistency
from .metrics.neural import neural_predictivity
from .metrics.ost import OST_CEILING, ceiled_ost, object_solution_times
from .metrics.score import Score, ceil_score
from .protocol import (BENCHMARK_NAMES, COMPOSITES, NEURAL_REGIONS, NEURAL_WINDOW_MS, OST_TIME_BINS, Conventions,
                       conventions as named_conventions)

__all__ = ["Candidate", "Benchmark", "NeuralBenchmark", "BehaviorBenchmark", "OSTBenchmark", "COMPOSITES",
           "BRAIN_SCORE_IDENTIFIERS", "ModelScores", "benchmarks_for", "score_model", "brain_score",
           "neural_target", "ost_target", "score_neural", "score_behavior", "score_ost"]

#: Brain-Score's identifier of each benchmark (2019 leaderboard)
BRAIN_SCORE_IDENTIFIERS: dict[str, str] = {"V4": "MajajHong2015.V4-pls", "IT": "MajajHong2015.IT-pls",
                                           "behavior": "Rajalingham2018-i2n", "OST": "Kar2019-ost"}
_ALIASES = {"v4": "V4", "it": "IT", "behavior": "behavior", "behaviour": "behavior", "ost": "OST"}


# ---------------------------------------------------------------------------------------------
# The candidate: a model and how to read it
# ---------------------------------------------------------------------------------------------

@dataclass
class Candidate:
    """A model as the benchmarks see it.

    ``layers``: per region (``'V4'``, ``'IT'``) the committed layer (one name) or the candidate
    layers (several: the benchmark picks one on training splits only), and under ``'behavior'``
    the readout layer. ``time_mapping``: region → (start ms, step ms, steps) for models with
    ``forward_time_steps`` (CORnet); their areas are read at the time step that covers a window.
    ``pca_components`` > 0 reduces each layer with a PCA fit on ``pca_stimuli`` (the paper: 1,000
    components on ImageNet validation images).
    """

    model: Any
    layers: Mapping[str, Sequence[str]]
    time_mapping: Mapping[str, tuple[float, float, int]] | None = None
    image_size: int = 224
    batch_size: int = 64
    pca_components: int = 0
    pca_stimuli: Any = None
    progress: bool = False

    @classmethod
    def from_registry(cls, model: Any, name: str, model_config: Mapping[str, Any] | None = None,
                      **reading: Any) -> "Candidate":
        """The candidate of a registry model (:func:`cornet_repro.models.get_model` name and config):
        CORnets commit one layer per area and carry their time mapping; torchvision models list
        candidate layers."""
        from .models.registry import layer_config, region_layers

        return cls.for_model(model, region_layers(name, **layer_config(name, model_config)), **reading)

    @classmethod
    def for_model(cls, model: Any, layers: Mapping[str, Sequence[str]], **reading: Any) -> "Candidate":
        """The candidate of any model read at ``layers``; a model with ``forward_time_steps`` (CORnet)
        brings its own time mapping."""
        mapping = getattr(model, "time_mapping", None) if hasattr(model, "forward_time_steps") else None
        return cls(model, layers, mapping, **reading)

    def time_steps(self, region: str) -> int:
        """How many time steps the model's ``region`` runs (1: feed-forward)."""
        if self.time_mapping is None or region not in self.time_mapping:
            return 1
        return int(self.time_mapping[region][2])

    def _reading(self) -> dict[str, Any]:
        return dict(image_size=self.image_size, batch_size=self.batch_size, progress=self.progress)

    def region_features(self, stimuli: Any, region: str, window: tuple[float, float]) -> xr.DataArray:
        """Activations for ``region`` on ``window`` (ms): the committed area at the time step that
        covers the window, or every candidate layer (a ``layer`` coord tells them apart)."""
        from .activations import extract_activations, extract_time_bins

        pca = dict(pca=self.pca_components or None, pca_stimuli=self.pca_stimuli)
        if self.time_mapping is not None and region in self.time_mapping:
            return extract_time_bins(self.model, stimuli, region, [window], mapping=self.time_mapping, **pca,
                                     **self._reading()).squeeze("time_bin", drop=True)
        return extract_activations(self.model, stimuli, list(self.layers[region]), **pca, **self._reading())

    def time_bin_features(self, stimuli: Any, region: str, bins: Sequence[tuple[float, float]],
                          stimulus_ids: Sequence) -> xr.DataArray:
        """``region``'s outputs on time bins: ``presentation × neuroid × time_bin``."""
        from .activations import extract_time_bins

        return extract_time_bins(self.model, stimuli, region, bins, mapping=self.time_mapping,
                                 stimulus_ids=np.asarray(stimulus_ids), **self._reading())

    def behavior_features(self, stimuli: Any, stimulus_ids: Sequence) -> xr.DataArray:
        """Spatially averaged activations of the readout layer on ``stimulus_ids``."""
        from .activations import extract_activations

        layer = list(self.layers["behavior"])
        return extract_activations(self.model, stimuli, layer, stimulus_ids=np.asarray(stimulus_ids),
                                   spatial_average=layer, **self._reading())


# ---------------------------------------------------------------------------------------------
# Benchmarks
# ---------------------------------------------------------------------------------------------

class Benchmark(Protocol):
    name: str
    identifier: str

    def __call__(self, candidate: Candidate) -> Score: ...


class NeuralBenchmark:
    """PLS predictivity of one region on a time window, ceiled by split-half internal consistency.

    ``trials``: V4 + IT trials (``region`` coord on neuroids; a ``time_bin`` dim is averaged over
    the bins inside ``window``) on ``stimuli``. ``conventions`` (:data:`cornet_repro.protocol.CONVENTIONS`):
    ``"paper-2019"``, the paper's r / ceiling, or ``"brainscore-2.4"``, Brain-Score 2.4.x's r² / ceiling
    with the unceiled error.
    With several candidate layers, the layer is chosen on each outer split's training images only
    (:func:`cornet_repro.activations.select_layer`), and every candidate layer's own held-out score
    is kept, ceiled, as ``details["layer_scores"]`` (the layer map).
    """

    def __init__(self, trials: xr.DataArray, stimuli: Any, region: str, *,
                 window: tuple[float, float] = NEURAL_WINDOW_MS,
                 conventions: str | Conventions = "paper-2019") -> None:
        if region not in NEURAL_REGIONS:
            raise ValueError(f"region must be one of {list(NEURAL_REGIONS)}, got {region!r}")
        self.name, self.identifier = region, BRAIN_SCORE_IDENTIFIERS[region]
        self.trials, self.stimuli, self.region = trials, stimuli, region
        self.window, self.conventions = tuple(window), named_conventions(conventions)
        self._target: tuple[xr.DataArray, xr.DataArray] | None = None
        self._ceiling: Score | None = None

    @property
    def ceiling(self) -> Score:
        """The split-half internal consistency of the target (computed once per benchmark)."""
        if self._ceiling is None:
            self._ceiling = internal_consistency(self.target[1])
        return self._ceiling

    @property
    def target(self) -> tuple[xr.DataArray, xr.DataArray]:
        """(repetition-averaged target, trials on the window) of this region."""
        if self._target is None:
            self._target = neural_target(self.trials, self.region, self.window)
        return self._target

    def __call__(self, candidate: Candidate) -> Score:
        from .activations import select_layer

        features = candidate.region_features(self.stimuli, self.region, self.window)
        if "layer" in features.coords and len(set(np.asarray(features["layer"].values).tolist())) > 1:
            chosen = select_layer(features, self.target[0], progress=candidate.progress,
                                  description=f"{self.region} layer search")
            score = self._ceil(chosen.score)
            layer_map = {layer: {"value": self._ceil(Score(r)).value, "raw": r}
                         for layer, r in chosen.layer_map.items()}
            return score.with_details(layer=chosen.best_layer, layer_scores=layer_map)
        raw = neural_predictivity(features, self.target[0])
        return self._ceil(raw).with_details(region=self.region)

    def _ceil(self, raw: Score) -> Score:
        return ceil_score(raw, self.ceiling, mode=self.conventions.ceiling, error=self.conventions.ceiled_error)


class BehaviorBenchmark:
    """I2n of a logistic readout (fit on ``fitting_ids``) against human 2AFC trials on ``test_ids``,
    ceiled per split as Brain-Score does (``r / sqrt(ceiling)``)."""

    name, identifier = "behavior", BRAIN_SCORE_IDENTIFIERS["behavior"]

    def __init__(self, human: xr.DataArray, fitting_stimuli: Any, fitting_ids: Sequence,
                 test_stimuli: Any, test_ids: Sequence) -> None:
        self.human = human
        self.fitting_stimuli, self.fitting_ids = fitting_stimuli, np.asarray(fitting_ids)
        self.test_stimuli, self.test_ids = test_stimuli, np.asarray(test_ids)
        self._ceiling: Score | None = None

    @property
    def ceiling(self) -> Score:
        if self._ceiling is None:
            self._ceiling = behavioral_ceiling(self.human)
        return self._ceiling

    def __call__(self, candidate: Candidate) -> Score:
        fit = candidate.behavior_features(self.fitting_stimuli, self.fitting_ids)
        test = candidate.behavior_features(self.test_stimuli, self.test_ids)
        fit_labels = self.fitting_stimuli.table.set_index("stimulus_id").loc[self.fitting_ids, "object_name"]
        test_labels = self.test_stimuli.table.set_index("stimulus_id").loc[self.test_ids, "object_name"]
        probabilities = logistic_probabilities(np.asarray(fit.values), fit_labels.to_numpy(), np.asarray(test.values),
                                               stimulus_id=self.test_ids, truth=test_labels.to_numpy())
        return score_behavior(probabilities, self.human, ceiling=self.ceiling)


class OSTBenchmark:
    """Object solution times: Spearman r between the model's and the monkey's per-image OSTs, / .79.

    The model's IT is read on 10 ms bins from 70 to 250 ms. A model whose IT runs one time step
    is feed-forward and scores 0, as in the paper; so does a model for which no split has 2+
    images that both it and the monkey solve (the correlation is undefined). The per-image OSTs
    are kept in ``details["per_image"]`` (Fig. 5).
    """

    name, identifier = "OST", BRAIN_SCORE_IDENTIFIERS["OST"]

    def __init__(self, target: xr.DataArray, stimuli: Any, *, region: str = "IT",
                 bins: Sequence[tuple[float, float]] = OST_TIME_BINS,
                 conventions: str | Conventions = "paper-2019") -> None:
        self.target, self.stimuli = ost_target(target), stimuli
        self.region, self.bins = region, list(bins)
        self.conventions = named_conventions(conventions)

    def __call__(self, candidate: Candidate) -> Score:
        ceiling = Score(OST_CEILING, error_kind="none", metric="ost ceiling (fixed)")
        if candidate.time_steps(self.region) <= 1:
            return Score(0.0, error_kind="none", metric="ost", ceiling=ceiling,
                         details={"note": "feed-forward model (one IT time step): OST = 0 as in the paper"})
        features = candidate.time_bin_features(self.stimuli, self.region, self.bins,
                                               self.target["stimulus_id"].values)
        score = score_ost(features, self.target, error=self.conventions.ceiled_error)
        if not math.isfinite(score.value):
            # No split had 2+ images where both the model and the monkey reach the threshold:
            # the correlation is undefined; count it as 0, as the paper does for models without
            # usable dynamics.
            score = dataclasses.replace(score, value=0.0, error=float("nan")).with_details(
                note="undefined: too few images reached the monkey's I1 threshold in the model; counted as 0")
        return score


def benchmarks_for(brain: Any, names: Sequence[str] = BENCHMARK_NAMES, *,
                   conventions: str | Conventions = "paper-2019") -> dict[str, Benchmark]:
    """The benchmarks ``names`` (``V4``, ``IT``, ``behavior``, ``OST``) on ``brain``
    (a :class:`cornet_repro.data.brain.BrainData`), in that canonical order, ceiled under
    ``conventions`` (``"paper-2019"`` or ``"brainscore-2.4"``)."""
    conventions = named_conventions(conventions)
    unknown = sorted(set(names) - set(BENCHMARK_NAMES))
    if unknown:
        raise ValueError(f"unknown benchmarks {unknown}; choose from {list(BENCHMARK_NAMES)}")
    out: dict[str, Benchmark] = {}
    for name in [n for n in BENCHMARK_NAMES if n in names]:
        if name in NEURAL_REGIONS:
            out[name] = NeuralBenchmark(brain.neural, brain.neural_stimuli, name, conventions=conventions)
        elif name == "behavior":
            out[name] = BehaviorBenchmark(brain.human, brain.behavior_fitting_stimuli, brain.behavior_fitting_ids,
                                          brain.behavior_test_stimuli, brain.behavior_test_ids)
        else:
            out[name] = OSTBenchmark(brain.ost, brain.ost_stimuli, conventions=conventions)
    return out


# ---------------------------------------------------------------------------------------------
# Scoring a candidate
# ---------------------------------------------------------------------------------------------

@dataclass
class ModelScores:
    """What :func:`score_model` returns: the ceiled score per benchmark and the composites
    whose components were all scored."""

    scores: dict[str, Score]
    composites: dict[str, Score] = field(default_factory=dict)


def score_model(candidate: Candidate, benchmarks: Mapping[str, Benchmark],
                composites: Sequence[str] = tuple(COMPOSITES)) -> ModelScores:
    """Call each benchmark with ``candidate``; then the ``composites`` whose parts were scored."""
    import torch

    if hasattr(candidate.model, "eval"):
        candidate.model.eval()
    with torch.no_grad():
        scores = {name: benchmark(candidate) for name, benchmark in benchmarks.items()}
    totals = {variant: brain_score({k: scores[k] for k in COMPOSITES[variant]}, variant=variant)
              for variant in composites if all(k in scores for k in COMPOSITES[variant])}
    return ModelScores(scores, totals)


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


# ---------------------------------------------------------------------------------------------
# Targets and per-benchmark metrics on assemblies
# ---------------------------------------------------------------------------------------------

def neural_target(trials: xr.DataArray, region: str, time_window: tuple[float, float] | None = NEURAL_WINDOW_MS
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
                 time_window: tuple[float, float] | None = NEURAL_WINDOW_MS, ceiling: Score | None = None,
                 conventions: str | Conventions = "paper-2019", **metric_kwargs) -> Score:
    """Ceiled neural predictivity of one region (``conventions="paper-2019"``: the paper's r / ceiling;
    ``"brainscore-2.4"``: Brain-Score 2.4.x's r² / ceiling with the unceiled error)."""
    conventions = named_conventions(conventions)
    target, per_trial = neural_target(trials, region, time_window)
    raw = neural_predictivity(model, target, **metric_kwargs)
    ceiling = ceiling or internal_consistency(per_trial)
    return ceil_score(raw, ceiling, mode=conventions.ceiling, error=conventions.ceiled_error).with_details(region=region)


def score_behavior(probabilities: xr.DataArray, trials: xr.DataArray, *, ceiling: Score | None = None) -> Score:
    """Ceiled I2n (Brain-Score's per-split ``r / sqrt(ceiling)``)."""
    return ceiled_i2n(probabilities, trials, ceiling=ceiling or behavioral_ceiling(trials))


def ost_target(assembly: xr.DataArray, decoder: str = "svm") -> xr.DataArray:
    """The Kar2019 assembly as the OST metric takes it (Brain-Score's benchmark preparation):
    one entry per unique ``stimulus_id`` in sorted order, the ``decoder`` slice if there is a decoder dim, and
    ``truth`` taken from ``image_label`` when absent. An assembly already in that form passes
    through unchanged."""
    if "decoder" in assembly.dims:
        labels = np.asarray(assembly["decoder"].values)
        if decoder not in labels:
            raise AssemblyError(f"no decoder {decoder!r} in the OST assembly; it has {sorted(set(labels))}")
        assembly = assembly.isel(decoder=int(np.flatnonzero(labels == decoder)[0]))
    if "stimulus_id" not in assembly.coords and "image_id" in assembly.coords:
        assembly = assembly.assign_coords(stimulus_id=("presentation", assembly["image_id"].values))
    # one entry per image, sorted by stimulus_id: Brain-Score's ``np.unique(..., return_index=True)``
    # (the splits index into this order)
    _, first = np.unique(np.asarray(assembly["stimulus_id"].values), return_index=True)
    assembly = assembly.isel(presentation=first)
    if "truth" not in assembly.coords:
        if "image_label" not in assembly.coords:
            raise AssemblyError("the OST assembly needs a 'truth' or 'image_label' coord (object per image)")
        assembly = assembly.assign_coords(truth=("presentation", assembly["image_label"].values))
    return assembly


def score_ost(model: xr.DataArray, target: xr.DataArray, *, error: str = "scaled", **kwargs) -> Score:
    """OST Spearman r over images, / .79 (``error="unceiled"``: Brain-Score's error)."""
    return ceiled_ost(object_solution_times(model, target, **kwargs), error=error)
