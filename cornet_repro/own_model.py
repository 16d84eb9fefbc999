"""Score your own model: any PyTorch model on the paper's benchmarks, in bounded memory, with its layer map.

    from cornet_repro import score_model            # the same function as below
    result = score_model("torchvision:resnet18")    # simulated benchmarks, offline, ~1 minute on a CPU
    result = score_model(my_module, layers=["block1", "block2"], data="real", results_dir="results/mine")

Steps: resolve the model (:func:`cornet_repro.models.user.resolve_model`), choose its candidate
layers (:func:`~cornet_repro.models.user.candidate_layers`), estimate the memory the extraction
will take and refuse up front if the machine cannot hold it (:func:`estimate_memory`), call each
benchmark with the candidate, and return (and optionally write) the result record the figures
read. V4 and IT choose their layer on training splits only and record every candidate layer's
held-out score: the *layer map* (``scores.V4.layer_scores``).

Data: ``"simulated"`` (default; offline; never comparable to published scores, and labelled so),
``"real"`` (the paper's Brain-Score files: MajajHong2015.private, Rajalingham2018.private,
Kar2019; restricted, read from the cache) or ``"real-public"`` (V4 and IT on MajajHong2015.public,
downloadable; not what the paper scored).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from torch import nn

from .data.brain import BrainData
from .models.user import candidate_layers, layer_shapes, resolve_model
from .presets import load_preset
from .protocol import BENCHMARK_NAMES
from .protocol import conventions as named_conventions
from .results import make_result, write_result
from .scoring import Candidate, benchmarks_for, score_model

__all__ = ["DATA_CHOICES", "MemoryEstimate", "MemoryError_", "available_memory", "estimate_memory",
           "score_own_model"]

DATA_CHOICES = ("simulated", "real", "real-public")


class MemoryError_(MemoryError):
    """The estimated memory exceeds what the machine has; the message names the fix."""


@dataclass
class MemoryEstimate:
    """Bytes the scoring will hold at its peak, by part, next to what the machine has free."""

    parts: dict[str, int]
    available: int | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return int(sum(self.parts.values()))

    @property
    def fits(self) -> bool:
        return self.available is None or self.total <= self.available

    def describe(self) -> str:
        gib = 1024 ** 3
        parts = ", ".join(f"{k} {v / gib:.2f}" for k, v in self.parts.items())
        free = "unknown" if self.available is None else f"{self.available / gib:.1f} GiB"
        return f"memory estimate {self.total / gib:.2f} GiB ({parts} GiB); available {free}"


def _proc_bytes(path: str, field: str) -> int | None:
    """A ``kB`` field of a /proc file (``MemAvailable`` of meminfo, ``VmRSS`` of a status), in bytes."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def available_memory() -> int | None:
    """Bytes the kernel says a new allocation can take (``MemAvailable``), None where unknown."""
    return _proc_bytes("/proc/meminfo", "MemAvailable")


def _rss() -> int:
    """This process's resident memory now (bytes)."""
    return _proc_bytes("/proc/self/status", "VmRSS") or 0


def estimate_memory(model: nn.Module, layers: dict[str, list[str]], *, n_images: int, image_size: int,
                    batch_size: int, pca_components: int = 0, n_pca_images: int = 0) -> MemoryEstimate:
    """The peak memory of scoring ``model``, from its layer shapes, the image count and the PCA size.

    Parts: ``process`` (what this process holds now: libraries, data), ``model`` (parameters),
    ``forward`` (one batch's activations through the network, ~2× the sum of the candidate layers'
    outputs for the batch), ``features`` (the candidate layers' features for all images, float32,
    held about three times while they are gathered, concatenated and split by layer, plus their
    per-neuroid labels), ``layer_search`` (one image × image Gram matrix per candidate layer), and
    ``pca`` (the PCA's fitting matrix and components, when PCA is on).
    """
    neural = sorted({n for region in ("V4", "IT") for n in layers.get(region, [])})
    shapes = layer_shapes(model, neural, image_size)
    widths = {n: int(np.prod(s)) for n, s in shapes.items()}
    kept = {n: (min(w, pca_components) if pca_components else w) for n, w in widths.items()}
    n_features = sum(kept.values())
    label_bytes = sum(k * 8 * (len(n) + 8) for n, k in kept.items())  # neuroid_id / layer strings (UCS-4)
    parts = {
        "process": _rss(),
        "model": sum(p.numel() * p.element_size() for p in model.parameters()),
        "forward": 2 * batch_size * sum(widths.values()) * 4,
        "features": 3 * n_images * n_features * 4 + label_bytes,
        "layer_search": len(neural) * n_images * n_images * 8 if len(neural) > 1 else 0,
    }
    if pca_components:
        from .activations import LayerPCA

        sketched = [min(w, LayerPCA.sketch_dim) if w > LayerPCA.exact_max_features else w
                    for w in widths.values() if w > pca_components]
        parts["pca"] = sum(n_pca_images * s * 4 * 3 + pca_components * s * 8 for s in sketched)
    return MemoryEstimate(parts, available_memory(),
                          {"layer_shapes": shapes, "n_images": n_images, "n_features": n_features})


def _brain_data(data: str, preset: Any, cache: str | os.PathLike | None) -> tuple[BrainData, tuple[str, ...]]:
    if data == "simulated":
        return BrainData.simulated(preset.simulated, cache=cache), BENCHMARK_NAMES
    if data == "real":
        return BrainData.real(cache=cache), BENCHMARK_NAMES
    if data == "real-public":
        return BrainData.real_public(cache=cache), ("V4", "IT")
    raise ValueError(f"data={data!r}: choose one of {list(DATA_CHOICES)}")


def score_own_model(model: str | nn.Module, *, weights: str | os.PathLike | None = None, name: str | None = None,
                    layers: Sequence[str] | None = None, behavior_layer: str | None = None,
                    data: str = "simulated", preset: str | os.PathLike = "small", image_size: int | None = None,
                    batch_size: int = 64, pca_components: int = 0, pca_stimuli: Any = None,
                    benchmarks: Sequence[str] | None = None, results_dir: str | os.PathLike | None = None,
                    cache: str | os.PathLike | None = None, seed: int | None = 0, check_memory: bool = True,
                    progress: bool = False, log: Any = None, conventions: str = "paper-2019") -> dict[str, Any]:
    """Score any model on the paper's benchmarks and return its result record (see the module docstring).

    ``model``: an ``nn.Module`` or a spec (``torchvision:resnet18``, ``package.module:factory``,
    ``cornet_s``); ``weights``: a state-dict file for it. ``layers``: the candidate layers for V4
    and IT (default: proposed); ``behavior_layer``: the readout layer. ``preset``: whose simulated
    world and image size to use with ``data="simulated"`` (default ``small``). ``image_size``
    overrides the preset's (real data: 224). ``seed``: torch's seed when the model is built from a
    spec, so random weights are the same on every run. ``check_memory``: refuse before extracting when the
    estimate exceeds the available memory. ``log``: a function that receives progress lines
    (the estimate); default: none. ``conventions``: ``"paper-2019"`` (r / ceiling, the paper's) or
    ``"brainscore-2.4"`` (Brain-Score 2.4.x's r² / ceiling and unceiled errors).
    """
    if data not in DATA_CHOICES:
        raise ValueError(f"data={data!r}: choose one of {list(DATA_CHOICES)}")
    named_conventions(conventions)  # a misspelled name fails here, not after the extraction
    settings = load_preset(preset)
    if isinstance(model, nn.Module):
        seed = None  # its weights are whatever they are: no seed to record
    elif seed is not None:
        import torch

        torch.manual_seed(seed)
    module, spec_name = resolve_model(model, weights=weights, cache=cache)
    label = name or spec_name
    reading = candidate_layers(module, spec_name, layers, behavior_layer)
    size = image_size or (settings.score.image_size if data == "simulated" else 224)
    brain, available_benchmarks = _brain_data(data, settings, cache)
    chosen = tuple(benchmarks) if benchmarks is not None else available_benchmarks
    missing = sorted(set(chosen) - set(available_benchmarks))
    if missing:
        raise ValueError(f"benchmarks {missing} need data that data={data!r} does not have; choose from "
                         f"{list(available_benchmarks)}")
    estimate = estimate_memory(module, reading, n_images=len(brain.neural_stimuli), image_size=size,
                               batch_size=batch_size, pca_components=pca_components,
                               n_pca_images=len(pca_stimuli) if pca_stimuli is not None else 0)
    if log is not None:
        log(estimate.describe())
    if check_memory and not estimate.fits:
        raise MemoryError_(
            f"{estimate.describe()}: scoring {label} would not fit. Use fewer layers (layers=[...], "
            f"now {len(estimate.details['layer_shapes'])}), turn PCA on (pca_components=1000), a smaller "
            f"batch (batch_size, now {batch_size}) or a smaller image_size (now {size})")
    candidate = Candidate.for_model(module, reading, image_size=size, batch_size=batch_size,
                                    pca_components=pca_components, pca_stimuli=pca_stimuli, progress=progress)
    scored = score_model(candidate, benchmarks_for(brain, chosen, conventions=conventions))
    from .models.depth import depth

    try:
        model_depth = depth(module)
    except Exception:  # a model torch.fx cannot trace still scores; its depth is unknown
        model_depth = None
    result = make_result(scored, model_name=spec_name, model_config={}, preset=settings.name if data == "simulated"
                         else data, source="simulated" if data == "simulated" else "real", seed=seed,
                         score_config={"image_size": size, "batch_size": batch_size, "benchmarks": list(chosen),
                                       "pca_components": pca_components, "composite": "paper",
                                       "conventions": conventions,
                                       "layers": {k: list(v) for k, v in reading.items()}},
                         checkpoint=weights if weights is not None and Path(weights).is_file() else None,
                         data=brain.description, label=label, depth=model_depth,
                         memory={"estimate_bytes": estimate.total, "parts": estimate.parts})
    if results_dir is not None:
        result["path"] = str(write_result(result, results_dir))
    return result
