"""Model × stimuli → activations assembly (``presentation × neuroid [× time_bin]``).

* :func:`extract_activations`: any ``nn.Module``; forward hooks on named modules; batched, with a
  tqdm bar; each layer's output is reduced (flattened, optionally PCA'd) *inside its hook*, as it
  is produced, so no layer is ever held whole for the stimulus set: memory is bounded by the
  model's own forward pass plus the reduced features (see :class:`LayerPCA`).
* :func:`extract_time_bins`: CORnet models, ``model.forward_time_steps(x) -> (logits,
  {area: [output per time step]})``; steps are mapped onto time bins (ms) with
  :mod:`cornet_repro.models.time_mapping` (Brain-Score's ``nearest_start`` rule).
* :func:`select_layer`: for models without a committed region → layer mapping, the best layer per
  region chosen on training splits only (nested cross-validation), then scored on held-out images.

Preprocessing follows the paper (§2.2, "for Brain-Score – resizing to 224×224 pixels", then
ImageNet mean/std normalization). Brain-Score's "place on screen" (visual-degree rescaling) is not
applied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import xarray as xr

from .assemblies import AssemblyError, model_assembly, validate_neural
from .metrics._util import align_to, cv_splits
from .metrics.neural import gram_matrix, split_correlations
from .metrics.score import Score, mean_over_splits, sem
from .protocol import IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "preprocess", "LayerPCA", "extract_activations",
    "extract_time_bins", "imagenet_pca_images", "LayerSelection", "select_layer",
]



# ---------------------------------------------------------------------------------------------
# images

def preprocess(image: Any, image_size: int = 224):
    """An image (PIL, H×W[×C] array in [0, 255] or [0, 1], or a path) → normalized 3×S×S tensor."""
    import torch
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        image = Image.open(image)
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
        if image.ndim == 3 and image.shape[0] in (1, 3):
            image = np.moveaxis(image, 0, -1)
    if isinstance(image, np.ndarray):
        array = image.astype(np.float32)
        if array.max() > 1.0:
            array = array / 255.0
        image = Image.fromarray(np.clip(array * 255, 0, 255).astype(np.uint8).squeeze())
    image = image.convert("RGB").resize((image_size, image_size), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (x - mean) / std


def _as_items(stimuli: Any, stimulus_ids: Sequence | None) -> tuple[np.ndarray, Callable[[], Iterator]]:
    """(ids, a factory of an iterator over images) for a StimulusSet, a tensor batch or a sequence."""
    from .data.brainio import StimulusSet

    if isinstance(stimuli, StimulusSet):
        ids = np.asarray(stimulus_ids if stimulus_ids is not None else stimuli.stimulus_ids)
        return ids, lambda: (img for _, img in stimuli.iter_images(ids))
    n = len(stimuli)
    ids = np.asarray(stimulus_ids if stimulus_ids is not None else [f"stimulus{i:06d}" for i in range(n)])
    if len(ids) != n:
        raise ValueError(f"{len(ids)} stimulus_ids for {n} stimuli")
    return ids, lambda: iter(stimuli)


def _batches(stimuli: Any, stimulus_ids: Sequence | None, batch_size: int,
             image_size: int) -> tuple[np.ndarray, Iterator]:
    import torch

    ids, factory = _as_items(stimuli, stimulus_ids)

    def gen():
        batch = []
        for image in factory():
            if isinstance(image, torch.Tensor) and image.ndim == 3 and image.shape[-1] == image_size \
                    and image.dtype == torch.float32 and image.shape[0] == 3:
                batch.append(image)  # already preprocessed
            else:
                batch.append(preprocess(image, image_size))
            if len(batch) == batch_size:
                yield torch.stack(batch)
                batch = []
        if batch:
            yield torch.stack(batch)

    return ids, gen()


def imagenet_pca_images(val_root: str | os.PathLike, n_images: int = 1000) -> list[Path]:
    """The images Brain-Score fits its per-layer PCA on: ImageNet validation images, one per class.

    ``val_root`` holds one folder per class (sorted, as torchvision's ImageFolder). Brain-Score
    takes validation indices ``50·i + k`` of the class-sorted set, i.e. the first image of each of the
    1,000 classes for ``n_images=1000``.
    """
    classes = sorted(p for p in Path(val_root).iterdir() if p.is_dir())
    if not classes:
        raise FileNotFoundError(f"{val_root} has no class folders (expected the ImageNet validation set "
                                f"in one folder per class)")
    per_class = [sorted(f for f in c.iterdir() if f.is_file()) for c in classes]
    k_per_class = (n_images - 1) // len(classes)
    picks = [files[k] for k in range(k_per_class) for files in per_class if k < len(files)]
    picks += [files[k_per_class] for files in per_class[: (n_images - 1) % len(classes) + 1]]
    return picks[:n_images]


# ---------------------------------------------------------------------------------------------
# per-layer reduction

class _CountSketch:
    """Feature hashing (count sketch) ``ℝᴺ → ℝᵏ``: each feature adds ±itself to one of k buckets.

    Linear and unbiased for inner products (variance ≈ ‖x‖²‖y‖²/k); stored as a sparse N × k
    matrix with one entry per feature (≈ 12 bytes/feature, vs 4·k for a dense projection).
    """

    def __init__(self, n_features: int, dim: int, seed: int):
        from scipy import sparse

        rng = np.random.default_rng(seed)
        buckets = rng.integers(0, dim, size=n_features)
        signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=n_features)
        self.matrix = sparse.csr_matrix((signs, (np.arange(n_features), buckets)), shape=(n_features, dim))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x @ self.matrix, dtype=np.float32)


@dataclass
class LayerPCA:
    """Per-layer PCA to ``n_components``, fitted as Brain-Score fits it.

    Brain-Score (``model_helpers/activations/pca.py``, ``LayerPCA``) fits, for every layer with more
    than ``n_components`` features, ``sklearn.decomposition.PCA(n_components=1000, random_state=0)``
    on the flattened activations to 1,000 ImageNet validation images (one per class,
    :func:`imagenet_pca_images`), and applies ``pca.transform`` to the benchmark's images; smaller
    layers pass through unchanged. We do the same on whatever ``fit`` images are given.

    Memory bound (our addition): a layer wider than ``exact_max_features`` is first reduced by a
    seeded count sketch to ``sketch_dim`` dimensions and the PCA is fitted on the sketch, so that
    neither the fitting matrix nor the components grow with the layer's width (a VGG-16 conv1
    layer has 3.2 M features: exact components for it alone would take 12.8 GB). The sketch
    preserves inner products to ≈ 1/√k of the norms, so the principal subspace is approximately
    Brain-Score's; layers up to ``exact_max_features`` wide are exact.
    """

    n_components: int = 1000
    exact_max_features: int = 32_768
    sketch_dim: int = 16_384
    seed: int = 0
    _sketch: dict[str, _CountSketch] = field(default_factory=dict, repr=False)
    _pca: dict[str, Any] = field(default_factory=dict, repr=False)
    _collected: dict[str, list[np.ndarray]] = field(default_factory=dict, repr=False)
    fitted: bool = False

    def _sketched(self, layer: str, x: np.ndarray) -> np.ndarray:
        if x.shape[1] <= self.exact_max_features:
            return x
        if layer not in self._sketch:
            self._sketch[layer] = _CountSketch(x.shape[1], self.sketch_dim, self.seed + len(self._sketch))
        return self._sketch[layer](x)

    def collect(self, layer: str, x: np.ndarray) -> None:
        """Keep (a sketch of) a batch of fitting activations."""
        if x.shape[1] <= self.n_components:
            self._collected.setdefault(layer, [])  # small layers pass through
            return
        self._collected.setdefault(layer, []).append(self._sketched(layer, x))

    def fit_collected(self) -> "LayerPCA":
        from sklearn.decomposition import PCA

        for layer, chunks in self._collected.items():
            if not chunks:
                self._pca[layer] = None
                continue
            X = np.concatenate(chunks)
            k = min(self.n_components, *X.shape)
            self._pca[layer] = PCA(n_components=k, random_state=0).fit(X)
        self._collected.clear()
        self.fitted = True
        return self

    def transform(self, layer: str, x: np.ndarray) -> np.ndarray:
        if not self.fitted:
            raise RuntimeError("LayerPCA is not fitted: pass pca_stimuli to extract_activations")
        if layer not in self._pca:
            raise KeyError(f"no PCA was fitted for layer {layer!r} (fitted: {sorted(self._pca)})")
        pca = self._pca[layer]
        if pca is None:
            return x.astype(np.float32)
        return pca.transform(self._sketched(layer, x)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# extraction

def _module(model: Any, name: str):
    modules = dict(model.named_modules())
    if name not in modules:
        available = [n for n in modules if n]
        raise KeyError(f"model has no module {name!r}; available ({len(available)}): {available[:40]}"
                       f"{' …' if len(available) > 40 else ''}")
    return modules[name]


def _flatten(output: Any, spatial_average: bool) -> np.ndarray:
    import torch

    if isinstance(output, (tuple, list)):
        output = output[0]
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"layer output is {type(output).__name__}, not a tensor")
    output = output.detach()
    if spatial_average and output.ndim == 4:
        output = output.mean(dim=(2, 3))
    # copy: in-place ops later in the network (ReLU(inplace=True)) must not change what we keep
    return output.flatten(1).float().cpu().numpy().copy()


def extract_activations(
    model: Any,
    stimuli: Any,
    layers: Sequence[str],
    *,
    stimulus_ids: Sequence | None = None,
    batch_size: int = 16,
    image_size: int = 224,
    pca: LayerPCA | int | None = None,
    pca_stimuli: Any = None,
    spatial_average: Sequence[str] = (),
    presentation_coords: Mapping[str, Sequence] | None = None,
    progress: bool = True,
    device: str = "cpu",
) -> xr.DataArray:
    """Activations of ``layers`` (module names) to ``stimuli`` as one model assembly.

    ``stimuli``: a :class:`~cornet_repro.data.brainio.StimulusSet`, or a sequence of images
    (PIL / arrays / paths / preprocessed 3×S×S tensors). Neuroids carry ``layer`` and
    ``neuroid_id`` coords; select a layer with ``assemblies.select(a, layer=name)``.
    ``pca``: a :class:`LayerPCA` (or ``n_components``), fitted on ``pca_stimuli`` first unless
    already fitted (Brain-Score fits on 1,000 ImageNet images, :func:`imagenet_pca_images`).
    ``spatial_average``: layers to average over space first (e.g. a pre-pooling behavioural layer).
    A module called several times in one forward pass (a recurrent area) yields its last call.
    """
    import torch
    from tqdm.auto import tqdm

    if not layers:
        raise ValueError("layers must name at least one module")
    if isinstance(pca, int):
        pca = LayerPCA(n_components=pca)
    modules = {name: _module(model, name) for name in layers}
    model = model.eval().to(device)
    averaged = set(spatial_average)
    unknown = averaged - set(layers)
    if unknown:
        raise ValueError(f"spatial_average names layers not in layers: {sorted(unknown)}")

    current: dict[str, np.ndarray] = {}
    mode = {"collect": False}

    def make_hook(name: str):
        def hook(_module, _inputs, output):
            x = _flatten(output, name in averaged)
            if pca is None:
                current[name] = x.astype(np.float32)
            elif mode["collect"]:
                pca.collect(name, x)
            else:
                current[name] = pca.transform(name, x)
        return hook

    def run(stim: Any, ids: Sequence | None, desc: str) -> tuple[np.ndarray, dict[str, list[np.ndarray]]]:
        ids, batches = _batches(stim, ids, batch_size, image_size)
        outputs: dict[str, list[np.ndarray]] = {name: [] for name in layers}
        bar = tqdm(total=len(ids), desc=desc, unit="img", disable=not progress)
        with torch.no_grad():
            for batch in batches:
                current.clear()
                model(batch.to(device))
                missing = [n for n in layers if n not in current] if not mode["collect"] else []
                if missing:
                    raise RuntimeError(f"layers {missing} produced no output in the forward pass")
                for name in layers:
                    if not mode["collect"]:
                        outputs[name].append(current[name])
                bar.update(len(batch))
        bar.close()
        return ids, outputs

    handles = [modules[name].register_forward_hook(make_hook(name)) for name in layers]
    try:
        if pca is not None and not pca.fitted:
            if pca_stimuli is None:
                raise ValueError("pca needs pca_stimuli to be fitted on (Brain-Score: 1,000 ImageNet "
                                 "validation images, see imagenet_pca_images); or pass a fitted LayerPCA")
            mode["collect"] = True
            run(pca_stimuli, None, "PCA fit")
            pca.fit_collected()
            mode["collect"] = False
        ids, outputs = run(stimuli, stimulus_ids, "activations")
    finally:
        for h in handles:
            h.remove()
    blocks = [np.concatenate(outputs[name]) for name in layers]
    layer_coord = np.concatenate([[name] * b.shape[1] for name, b in zip(layers, blocks)])
    neuroid_id = np.concatenate([[f"{name}.{i}" for i in range(b.shape[1])] for name, b in zip(layers, blocks)])
    return model_assembly(np.concatenate(blocks, axis=1), stimulus_id=ids, layer=layer_coord,
                          neuroid_id=neuroid_id, presentation_coords=presentation_coords)


def extract_time_bins(
    model: Any,
    stimuli: Any,
    area: str,
    time_bins: Sequence[tuple[float, float]],
    *,
    mapping: Mapping[str, tuple[float, float, int]] | None = None,
    rule: str = "nearest_start",
    stimulus_ids: Sequence | None = None,
    batch_size: int = 16,
    image_size: int = 224,
    pca: LayerPCA | int | None = None,
    pca_stimuli: Any = None,
    presentation_coords: Mapping[str, Sequence] | None = None,
    progress: bool = True,
) -> xr.DataArray:
    """One area's outputs on time bins (ms): assembly ``presentation × neuroid × time_bin``.

    Uses ``model.forward_time_steps(x) -> (logits, {area: [output per step]})`` and maps steps to
    bins with :func:`cornet_repro.models.time_mapping.steps_for_bins` (CORnet-S's mapping by
    default). With ``pca``, each time step gets its own PCA (Brain-Score names step outputs as
    separate layers, ``<area>-t<step>``).
    """
    import torch
    from tqdm.auto import tqdm

    from .models.time_mapping import CORNET_S_TIME_MAPPING, steps_for_bins

    if not hasattr(model, "forward_time_steps"):
        raise TypeError(f"{type(model).__name__} has no forward_time_steps(x); use extract_activations")
    mapping = dict(mapping or CORNET_S_TIME_MAPPING)
    steps = steps_for_bins(area, time_bins, mapping, rule)
    used = sorted(set(steps))
    if isinstance(pca, int):
        pca = LayerPCA(n_components=pca)
    model = model.eval()

    def run(stim: Any, ids: Sequence | None, desc: str, collect: bool):
        ids, batches = _batches(stim, ids, batch_size, image_size)
        out: dict[int, list[np.ndarray]] = {t: [] for t in used}
        bar = tqdm(total=len(ids), desc=desc, unit="img", disable=not progress)
        with torch.no_grad():
            for batch in batches:
                _, per_area = model.forward_time_steps(batch)
                if area not in per_area:
                    raise KeyError(f"forward_time_steps returned areas {sorted(per_area)}, not {area!r}")
                for t in used:
                    x = _flatten(per_area[area][t], False)
                    name = f"{area}-t{t}"
                    if pca is None:
                        out[t].append(x)
                    elif collect:
                        pca.collect(name, x)
                    else:
                        out[t].append(pca.transform(name, x))
                bar.update(len(batch))
        bar.close()
        return ids, out

    if pca is not None and not pca.fitted:
        if pca_stimuli is None:
            raise ValueError("pca needs pca_stimuli to be fitted on (or a fitted LayerPCA)")
        run(pca_stimuli, None, "PCA fit", True)
        pca.fit_collected()
    ids, out = run(stimuli, stimulus_ids, f"{area} time steps", False)
    per_step = {t: np.concatenate(out[t]) for t in used}
    widths = {x.shape[1] for x in per_step.values()}
    if len(widths) != 1:
        raise ValueError(f"{area}'s time steps have different widths {sorted(widths)}")
    data = np.stack([per_step[t] for t in steps], axis=2)
    return model_assembly(
        data, stimulus_id=ids, layer=area, neuroid_id=[f"{area}.{i}" for i in range(data.shape[1])],
        time_bin_start=[b[0] for b in time_bins], time_bin_end=[b[1] for b in time_bins],
        presentation_coords=presentation_coords,
    ).assign_coords(time_step=("time_bin", np.asarray(steps)))


# ---------------------------------------------------------------------------------------------
# layer selection

@dataclass
class LayerSelection:
    """Nested-CV result: the held-out score, the layer chosen in each outer split, and every
    candidate layer's own held-out score on the same splits (the *layer map*)."""

    score: Score
    chosen: list[str]
    inner_scores: dict[str, list[float]]  # layer → inner-CV score per outer split
    layer_scores: dict[str, list[float]] = field(default_factory=dict)  # layer → held-out score per outer split

    @property
    def layer_map(self) -> dict[str, float]:
        """Each candidate layer's held-out score (mean over the outer splits), in candidate order."""
        return {name: float(np.mean(values)) for name, values in self.layer_scores.items()}

    @property
    def best_layer(self) -> str:
        """The layer chosen most often over the outer splits."""
        names, counts = np.unique(self.chosen, return_counts=True)
        return str(names[np.argmax(counts)])


def select_layer(
    model: xr.DataArray | Mapping[str, xr.DataArray],
    target: xr.DataArray,
    *,
    layers: Sequence[str] | None = None,
    n_splits: int = 10,
    inner_splits: int = 3,
    n_components: int = 25,
    train_size: float = 0.9,
    stratification_coord: str = "object_name",
    random_state: int = 1,
    progress: bool = False,
    description: str = "layer search",
) -> LayerSelection:
    """Pick the best layer for a region on training images only, and score it on held-out ones.

    For each of Brain-Score's outer splits, every candidate layer is scored by PLS predictivity in
    ``inner_splits`` stratified splits *of the outer training images*; the best layer is then fit
    on all outer training images and tested on the outer test images. No test image influences the
    choice. ``model``: one assembly with a ``layer`` neuroid coord, or a mapping layer → assembly.
    Every layer is also fit and tested on each outer split, which gives the layer map
    (:attr:`LayerSelection.layer_scores`: what Brain-Score users ask for as per-layer scores);
    the chosen layer's held-out score is the same number either way.
    """
    from tqdm.auto import tqdm

    target = validate_neural(target, time=False, object_name=True, what="target")
    ids = np.asarray(target["stimulus_id"].values)
    if isinstance(model, xr.DataArray):
        if "layer" not in model.coords:
            raise AssemblyError("model assembly needs a 'layer' coord on its neuroids to select from")
        names = layers or list(dict.fromkeys(np.asarray(model["layer"].values).tolist()))
        per_layer = {n: model.isel(neuroid=np.flatnonzero(np.asarray(model["layer"].values) == n)) for n in names}
    else:
        per_layer = {n: model[n] for n in (layers or list(model))}
    if not per_layer:
        raise ValueError("no candidate layers")
    Y = np.asarray(target.values, dtype=float)
    grams = {n: gram_matrix(np.asarray(align_to(a, ids, what=f"layer {n}").values)) for n, a in per_layer.items()}
    labels = np.asarray(target[stratification_coord].values)
    outer = cv_splits(len(ids), n_splits=n_splits, train_size=train_size, stratify=labels, random_state=random_state)
    chosen, inner_scores, per_split, raw = [], {n: [] for n in grams}, [], []
    layer_scores: dict[str, list[float]] = {n: [] for n in grams}
    for train, test in tqdm(outer, desc=description, unit="split", disable=not progress):
        inner = cv_splits(len(train), n_splits=inner_splits, train_size=train_size, stratify=labels[train],
                          random_state=random_state)
        for name, K in grams.items():
            r = [np.nanmedian(split_correlations(K, Y, train[a], train[b], n_components)) for a, b in inner]
            inner_scores[name].append(float(np.mean(r)))
        best = max(grams, key=lambda n: inner_scores[n][-1])
        chosen.append(best)
        held_out = {}
        for name, K in grams.items():
            held_out[name] = split_correlations(K, Y, train, test, n_components)
            layer_scores[name].append(float(np.nanmedian(held_out[name])))
        raw.append(held_out[best])
        per_split.append(layer_scores[best][-1])
    per_split = np.array(per_split)
    raw_da = xr.DataArray(np.array(raw), dims=["split", "neuroid"],
                          coords={"split": np.arange(len(outer)),
                                  "neuroid_id": ("neuroid", np.asarray(target["neuroid_id"].values)),
                                  "chosen_layer": ("split", np.array(chosen))})
    score = Score(value=mean_over_splits(per_split), error=sem(per_split), error_kind="sem",
                  metric="neural_predictivity (nested layer selection)", raw=raw_da,
                  details={"chosen_layers": chosen, "per_split": per_split.tolist()})
    return LayerSelection(score=score, chosen=chosen, inner_scores=inner_scores, layer_scores=layer_scores)
