"""A simulated experiment: stimuli, a simulated monkey and a simulated human, offline.

What this is
    A small synthetic world that has the *shape* of the paper's data so that every stage of
    the pipeline (training, activations, metrics, scores, figures) can run on a laptop CPU,
    without downloads. It is not, and is never presented as, a reproduction of the paper's
    data or results: the numbers it produces say that the code runs and behaves sensibly,
    not anything about primate vision.

What is simulated
    *Stimuli* (in the spirit of the HvM set): ``n_categories`` shape families (polygons, stars,
    ellipse clusters, rings, crosses, blobs, gratings, bars) × ``n_objects_per_category``
    objects with their own parameters, rendered in grayscale on 1/f ("pink") noise
    backgrounds at three variation levels (``variation`` = 0 / 3 / 6: no, medium and high
    variation of position, scale and rotation) and with varying contrast.

    *A monkey* with V4 and IT sites. V4 sites pool a fixed Gabor-energy bank over a local
    receptive field (image features only). IT sites pool the same features over the whole
    image (position tolerant) and, mostly, carry an object-identity signal (a fixed tuning
    vector per site against a fixed embedding per object, with categories clustered) whose
    strength grows with the image's *visibility* (contrast, size, pose). Responses are
    Poisson spike counts with trial-to-trial gain fluctuations, in 10 ms bins from 70 to
    250 ms, over several repetitions, so split-half ceilings are clearly below 1. IT's object
    signal rises at an image-specific latency that is later for harder images, so object
    solution times vary per image; the monkey's behavioural I1 (d') per image is the
    threshold for OST.

    *A human* performing two-alternative forced choices (truth vs distractor) for I2n, with a
    per-(image, distractor) sensitivity from the same visibility and the similarity of the two
    objects, plus image-specific idiosyncrasies.

    *A labelled training set* from the same generator (different images of the same objects),
    as a torch ``Dataset``, deterministic per index.

Everything is a deterministic function of ``SimulatedConfig`` (including its ``seed``).
Assemblies follow the BrainIO conventions: dims ``presentation × neuroid [× time_bin]``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..files import atomic_write_text

__all__ = [
    "FAMILIES",
    "SimulatedConfig",
    "SimulatedExperiment",
    "SimulatedObjects",
    "make_objects",
    "stimulus_table",
    "render_stimuli",
    "generate",
    "write_experiment",
    "load_experiment",
    "simulated_experiment",
]

#: Shape families, one per category (categories use the first ``n_categories``).
FAMILIES = ("polygon", "star", "ellipses", "ring", "cross", "blob", "grating", "bars")

#: HvM variation levels -> amplitude of the pose variation (0 = none, 1 = full).
VARIATION_AMPLITUDE = {0: 0.0, 3: 0.5, 6: 1.0}

# Independent random streams: every random quantity comes from np.random.default_rng with
# entropy [seed, stream, ...indices], so adding images or neurons never changes the others.
_OBJECTS, _TEST_IMAGES, _TRAIN_IMAGES, _VAL_IMAGES, _NEURONS, _NEURAL_NOISE, _HUMAN, _MONKEY = range(8)
_SPLIT_STREAMS = {"train": _TRAIN_IMAGES, "val": _VAL_IMAGES}

BIN_STARTS_MS = tuple(range(70, 250, 10))  # 18 bins of 10 ms, 70..250 ms (as in Kar 2019)
NEURAL_WINDOW_MS = (70, 170)  # MajajHong2015 mean-rate window


@dataclass(frozen=True)
class SimulatedConfig:
    """Sizes and seed of the simulated experiment. All fields are plain data."""

    seed: int = 0
    n_categories: int = 8
    n_objects_per_category: int = 8
    images_per_object: int = 4  # per variation level
    image_size: int = 64
    n_v4: int = 40
    n_it: int = 80
    n_repetitions: int = 10
    behavior_images_per_object: int = 4  # high-variation images with human trials (I2n test set)
    behavior_n_objects: int = 0  # objects in the behavioural task (0: all; Rajalingham 2018 had 24)
    human_trials_per_cell: int = 24  # trials per (image, distractor); ~54 in Rajalingham 2018

    def __post_init__(self) -> None:
        if not 1 <= self.n_categories <= len(FAMILIES):
            raise ValueError(f"SimulatedConfig.n_categories must be in 1..{len(FAMILIES)}, got {self.n_categories}")
        for name in ("n_objects_per_category", "images_per_object", "image_size", "n_v4", "n_it",
                     "human_trials_per_cell"):
            if getattr(self, name) < 1:
                raise ValueError(f"SimulatedConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.n_repetitions < 2:
            raise ValueError("SimulatedConfig.n_repetitions must be >= 2 (split-half ceilings need two halves)")
        if not 1 <= self.behavior_images_per_object <= self.images_per_object:
            raise ValueError("SimulatedConfig.behavior_images_per_object must be in 1..images_per_object "
                             f"({self.images_per_object}), got {self.behavior_images_per_object}")
        if self.n_categories * self.n_objects_per_category < 2:
            raise ValueError("SimulatedConfig needs at least 2 objects (n_categories * n_objects_per_category)")
        if self.behavior_n_objects == 1 or not 0 <= self.behavior_n_objects <= self.n_objects:
            raise ValueError(f"SimulatedConfig.behavior_n_objects must be 0 (all) or in 2..{self.n_objects}, "
                             f"got {self.behavior_n_objects}")

    @property
    def n_objects(self) -> int:
        return self.n_categories * self.n_objects_per_category

    @property
    def behavior_objects(self) -> list[str]:
        """Names of the objects in the behavioural (I2n) task: spread evenly over categories."""
        names = [o.object_name for o in make_objects(self)]
        if not self.behavior_n_objects:
            return names
        # round-robin over categories: object 0 of every category, then object 1, ...
        order = sorted(range(len(names)), key=lambda i: (i % self.n_objects_per_category, i))
        return sorted(names[i] for i in order[: self.behavior_n_objects])

    @property
    def n_stimuli(self) -> int:
        return self.n_objects * len(VARIATION_AMPLITUDE) * self.images_per_object

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def digest(self) -> str:
        """Short hash of the configuration (and generator version): a cache key."""
        text = json.dumps({"version": GENERATOR_VERSION, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


#: Bump when the generator's output changes, so cached experiments are rebuilt.
GENERATOR_VERSION = 2


# ---------------------------------------------------------------------------------------------
# Objects and rendering
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ObjectSpec:
    """One object: its names, index, embedding (hidden identity code) and shape parameters."""

    index: int
    object_name: str
    category_name: str
    category_index: int
    embedding: np.ndarray  # hidden identity code used by the simulated IT and human
    params: dict


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), *map(int, keys)])


def _shape_params(rng: np.random.Generator, family: str) -> dict:
    """Per-object shape, texture and luminance parameters for one family."""
    p: dict[str, Any] = {
        "family": family,
        "aspect": rng.uniform(0.75, 1.3),
        "lum": rng.choice([-1.0, 1.0]) * rng.uniform(0.55, 1.0),  # polarity and strength
        "tex_freq": rng.uniform(0.8, 2.0),  # cycles per object radius
        "tex_ori": rng.uniform(0, np.pi),
        "tex_amp": rng.uniform(0.2, 0.7),
    }
    if family == "polygon":
        n = int(rng.integers(3, 7))
        p["radii"] = 1 + rng.uniform(-0.25, 0.25, n)
        p["angles"] = np.sort(np.arange(n) * 2 * np.pi / n + rng.uniform(-0.3, 0.3, n))
    elif family == "star":
        p["n"] = int(rng.integers(4, 8))
        p["inner"] = rng.uniform(0.3, 0.6)
    elif family == "ellipses":
        k = int(rng.integers(2, 4))
        p["centers"] = rng.uniform(-0.4, 0.4, (k, 2))
        p["axes"] = rng.uniform(0.3, 0.65, (k, 2))
        p["oris"] = rng.uniform(0, np.pi, k)
    elif family == "ring":
        p["inner"] = rng.uniform(0.4, 0.7)
        p["gap_center"] = rng.uniform(0, 2 * np.pi)
        p["gap_width"] = rng.uniform(0.4, 1.5)
    elif family == "cross":
        p["arms"] = int(rng.integers(2, 5))
        p["width"] = rng.uniform(0.15, 0.35)
        p["lengths"] = rng.uniform(0.6, 1.0, 2 * p["arms"])
    elif family == "blob":
        k = np.arange(1, 6)
        p["amps"] = rng.uniform(0, 0.25, 5) / np.sqrt(k)
        p["phases"] = rng.uniform(0, 2 * np.pi, 5)
    elif family == "grating":  # a stroke pattern: a strongly striped patch
        p["tex_amp"] = rng.uniform(0.7, 1.0)
        p["tex_freq"] = rng.uniform(1.5, 3.0)
        p["roundness"] = rng.uniform(0.0, 1.0)
    elif family == "bars":
        k = int(rng.integers(2, 5))
        p["bars"] = np.stack([rng.uniform(-0.6, 0.6, k), rng.uniform(0.1, 0.22, k), rng.uniform(0.5, 1.0, k)], 1)
    else:  # pragma: no cover - FAMILIES is closed
        raise ValueError(family)
    return p


def make_objects(config: SimulatedConfig) -> list[ObjectSpec]:
    """The objects of the simulated world, ``n_categories × n_objects_per_category``."""
    dim = 16
    objects = []
    for c in range(config.n_categories):
        family = FAMILIES[c]
        category_code = _rng(config.seed, _OBJECTS, c, 10_000).normal(size=dim)
        for o in range(config.n_objects_per_category):
            rng = _rng(config.seed, _OBJECTS, c, o)
            params = _shape_params(rng, family)
            # Categories cluster in the hidden identity space: same-category objects are more
            # confusable for the simulated human and closer in simulated IT.
            embedding = np.sqrt(0.5) * category_code + np.sqrt(0.5) * rng.normal(size=dim)
            objects.append(ObjectSpec(
                index=len(objects), object_name=f"{family}_{o:02d}", category_name=family,
                category_index=c, embedding=embedding / np.sqrt(dim), params=params))
    return objects


def _coverage(p: dict, x: np.ndarray, y: np.ndarray, edge: float) -> np.ndarray:
    """Soft (anti-aliased) inside-ness of the shape at object coordinates (radius ~ 1)."""
    def soft(d):  # signed distance, positive inside -> coverage in [0, 1]
        return 1.0 / (1.0 + np.exp(-np.clip(d / edge, -50, 50)))

    r, th = np.hypot(x, y), np.arctan2(y, x)
    family = p["family"]
    if family == "polygon":
        vx, vy = p["radii"] * np.cos(p["angles"]), p["radii"] * np.sin(p["angles"])
        d = np.full(x.shape, np.inf)
        for i in range(len(vx)):
            ax, ay, bx, by = vx[i], vy[i], vx[(i + 1) % len(vx)], vy[(i + 1) % len(vx)]
            nx, ny = by - ay, ax - bx
            d = np.minimum(d, -((x - ax) * nx + (y - ay) * ny) / np.hypot(nx, ny))
        return soft(d)
    if family == "star":
        t = (th % (2 * np.pi / p["n"])) / (2 * np.pi / p["n"])
        return soft(p["inner"] + (1 - p["inner"]) * np.abs(1 - 2 * t) - r)
    if family == "ellipses":
        out = np.zeros(x.shape)
        for (cx, cy), (a, b), o in zip(p["centers"], p["axes"], p["oris"]):
            xr = (x - cx) * np.cos(o) + (y - cy) * np.sin(o)
            yr = -(x - cx) * np.sin(o) + (y - cy) * np.cos(o)
            out = np.maximum(out, soft((1 - np.hypot(xr / a, yr / b)) * min(a, b)))
        return out
    if family == "ring":
        gap = np.abs(np.angle(np.exp(1j * (th - p["gap_center"])))) - p["gap_width"] / 2
        return np.minimum(np.minimum(soft(0.9 - r), soft(r - 0.9 * p["inner"])), soft(gap))
    if family == "cross":
        out = np.zeros(x.shape)
        for i in range(p["arms"]):
            o = i * np.pi / p["arms"]
            xr, yr = x * np.cos(o) + y * np.sin(o), -x * np.sin(o) + y * np.cos(o)
            lo, hi = -p["lengths"][2 * i], p["lengths"][2 * i + 1]
            out = np.maximum(out, soft(np.minimum(np.minimum(xr - lo, hi - xr), p["width"] - np.abs(yr))))
        return out
    if family == "blob":
        k = np.arange(1, 6)[:, None, None]
        radius = 0.85 + (p["amps"][:, None, None] * np.cos(k * th + p["phases"][:, None, None])).sum(0)
        return soft(radius - r)
    if family == "grating":
        square = np.maximum(np.abs(x), np.abs(y))
        return soft(0.85 - (1 - p["roundness"]) * square - p["roundness"] * r)
    if family == "bars":
        out = np.zeros(x.shape)
        for cx, w, length in p["bars"]:
            out = np.maximum(out, soft(np.minimum(w - np.abs(x - cx), length - np.abs(y))))
        return out
    raise ValueError(family)  # pragma: no cover


def _pink_noise(rng: np.random.Generator, n: int, exponent: float = 1.4) -> np.ndarray:
    """Unit-variance noise with a 1/f^exponent amplitude spectrum (natural-image-like)."""
    f = np.fft.fftfreq(n)
    ff = np.hypot(*np.meshgrid(f, f))
    ff[0, 0] = 1.0
    spectrum = (rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))) / ff ** exponent
    spectrum[0, 0] = 0.0
    img = np.real(np.fft.ifft2(spectrum))
    return img / img.std()


def _draw_latents(rng: np.random.Generator, amplitude: float) -> dict[str, float]:
    """Pose and contrast of one image; ``amplitude`` in [0, 1] scales the pose variation."""
    return {
        "pos_x": float(rng.uniform(-0.4, 0.4) * amplitude),
        "pos_y": float(rng.uniform(-0.4, 0.4) * amplitude),
        "scale": float(0.42 * np.exp(rng.uniform(-0.4, 0.4) * amplitude)),
        "rotation": float(rng.uniform(-np.pi, np.pi) * amplitude),
        "contrast": float(rng.uniform(0.3, 1.0)),
        "background_seed": int(rng.integers(2**31)),
    }


def render(obj: ObjectSpec, latents: dict[str, float], size: int) -> np.ndarray:
    """Render one grayscale image (``size × size`` uint8) of ``obj`` with the given latents."""
    p = obj.params
    background = 0.5 + 0.12 * _pink_noise(np.random.default_rng(latents["background_seed"]), size)
    c = (np.arange(size) + 0.5) / size * 2 - 1
    X, Y = np.meshgrid(c, -c)
    scale, rot = latents["scale"], latents["rotation"]
    xo, yo = (X - latents["pos_x"]) / scale, (Y - latents["pos_y"]) / scale
    xr = (xo * np.cos(rot) + yo * np.sin(rot)) / p["aspect"]
    yr = -xo * np.sin(rot) + yo * np.cos(rot)
    coverage = _coverage(p, xr, yr, edge=1.0 / (size * scale))
    texture = np.cos(2 * np.pi * p["tex_freq"] * (xr * np.cos(p["tex_ori"]) + yr * np.sin(p["tex_ori"])))
    surface = 0.5 + 0.4 * latents["contrast"] * p["lum"] * (1 - p["tex_amp"] + p["tex_amp"] * texture)
    img = background * (1 - coverage) + surface * coverage
    return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)


def _visibility(latents: pd.DataFrame | dict) -> Any:
    """How easy the object is to see, in (0, 1]: high contrast, large, upright and central."""
    contrast = np.asarray(latents["contrast"])
    size = np.asarray(latents["scale"]) / 0.42
    eccentricity = np.hypot(latents["pos_x"], latents["pos_y"])
    rotation = np.abs(np.asarray(latents["rotation"])) / np.pi
    z = 2.2 * (contrast - 0.65) + 1.5 * np.log(size) - 1.2 * eccentricity - 0.8 * rotation + 0.6
    return 1.0 / (1.0 + np.exp(-2.0 * z))


# ---------------------------------------------------------------------------------------------
# Stimulus set
# ---------------------------------------------------------------------------------------------

def stimulus_table(config: SimulatedConfig, objects: Sequence[ObjectSpec] | None = None) -> pd.DataFrame:
    """The stimulus set's metadata, one row per image (HvM-like columns plus simulation latents).

    Columns: ``stimulus_id``, ``filename``, ``object_name``, ``category_name``, ``variation``,
    pose latents (``pos_x``, ``pos_y``, ``scale``, ``rotation``, ``contrast``), and the hidden
    ground truth of the simulation (``sim_visibility``, ``sim_solution_time_ms``), which no
    model or metric reads but tests and the book may show.
    """
    objects = make_objects(config) if objects is None else objects
    rows = []
    for obj in objects:
        for variation, amplitude in VARIATION_AMPLITUDE.items():
            for k in range(config.images_per_object):
                latents = _draw_latents(_rng(config.seed, _TEST_IMAGES, obj.index, variation, k), amplitude)
                stimulus_id = f"sim{config.seed}_{obj.object_name}_v{variation}_{k:03d}"
                rows.append({"stimulus_id": stimulus_id, "filename": f"{stimulus_id}.png",
                             "object_name": obj.object_name, "category_name": obj.category_name,
                             "variation": variation, **latents})
    table = pd.DataFrame(rows)
    visibility = _visibility(table)
    # Image-specific idiosyncrasy of difficulty (what no pose latent explains), fixed per image.
    rng = _rng(config.seed, _MONKEY, 0)
    difficulty = np.clip(1 - visibility + 0.12 * rng.normal(size=len(table)), 0, 1)
    table["sim_visibility"] = visibility
    table["sim_difficulty"] = difficulty
    # IT's object information rises later for harder images (the per-image solution latency).
    table["sim_solution_time_ms"] = 95 + 75 * difficulty + 6 * rng.normal(size=len(table))
    return table


def render_stimuli(config: SimulatedConfig, table: pd.DataFrame | None = None,
                   objects: Sequence[ObjectSpec] | None = None) -> np.ndarray:
    """Images of the stimulus set, ``(n_stimuli, size, size)`` uint8, in table order."""
    objects = make_objects(config) if objects is None else objects
    table = stimulus_table(config, objects) if table is None else table
    by_name = {o.object_name: o for o in objects}
    return np.stack([render(by_name[row.object_name], row._asdict(), config.image_size)
                     for row in table.itertuples(index=False)])


# ---------------------------------------------------------------------------------------------
# The simulated monkey
# ---------------------------------------------------------------------------------------------

def _gabor_energy(images: np.ndarray) -> np.ndarray:
    """Complex-cell energy maps ``(n, 8, H, W)``: 4 orientations × 2 spatial scales."""
    import torch  # local: importing this module for metadata alone should stay light

    n, size, _ = images.shape
    x = torch.from_numpy(images.astype(np.float32) / 255.0 - 0.5)[:, None]
    kernels = []
    for wavelength in (size / 8, size / 4):
        sigma = 0.5 * wavelength
        half = int(math.ceil(2 * sigma))
        g = torch.arange(-half, half + 1, dtype=torch.float32)
        yy, xx = torch.meshgrid(g, g, indexing="ij")
        for theta in np.arange(4) * np.pi / 4:
            u = xx * math.cos(theta) + yy * math.sin(theta)
            envelope = torch.exp(-(xx**2 + yy**2) / (2 * sigma**2))
            even = envelope * torch.cos(2 * math.pi * u / wavelength)
            odd = envelope * torch.sin(2 * math.pi * u / wavelength)
            even = even - even.mean()
            kernels.append((even / even.norm(), odd / odd.norm(), half))
    maps = []
    with torch.no_grad():
        for even, odd, half in kernels:
            w = torch.stack([even, odd])[:, None]
            out = torch.nn.functional.conv2d(x, w, padding=half)
            maps.append(torch.sqrt(out[:, 0] ** 2 + out[:, 1] ** 2 + 1e-8))
    return torch.stack(maps, 1).numpy().astype(np.float64)


def _zscore(a: np.ndarray, axis: int = 0) -> np.ndarray:
    return (a - a.mean(axis, keepdims=True)) / (a.std(axis, keepdims=True) + 1e-9)


def _rise(t: np.ndarray, onset: np.ndarray | float, width: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(t - onset) / width))


def _mean_rates(config: SimulatedConfig, images: np.ndarray, table: pd.DataFrame,
                objects: Sequence[ObjectSpec]) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free firing rates (spikes/s), ``(n_images, n_sites, n_bins)`` for V4 and IT."""
    rng = _rng(config.seed, _NEURONS)
    n, size = len(images), images.shape[1]
    energy = _gabor_energy(images)  # (n, 8, H, W)
    c = (np.arange(size) + 0.5) / size * 2 - 1
    X, Y = np.meshgrid(c, -c)
    t = np.asarray(BIN_STARTS_MS, dtype=float) + 5.0  # bin centres

    # V4: Gabor energy pooled in a local Gaussian receptive field, with a conjunction term.
    centers = rng.uniform(-0.55, 0.55, (config.n_v4, 2))
    widths = rng.uniform(0.2, 0.35, config.n_v4)
    rf = np.exp(-((X[None] - centers[:, 0, None, None]) ** 2 + (Y[None] - centers[:, 1, None, None]) ** 2)
                / (2 * widths[:, None, None] ** 2))
    rf /= rf.sum((1, 2), keepdims=True)
    pooled = np.einsum("nkhw,shw->nsk", energy, rf)  # (n, sites, 8)
    weights = rng.gamma(0.5, 1.0, (config.n_v4, 8)) * (rng.uniform(size=(config.n_v4, 8)) < 0.5)
    weights[np.arange(config.n_v4), rng.integers(0, 8, config.n_v4)] += 1.0
    pair = rng.integers(0, 8, (config.n_v4, 2))
    conj = np.sqrt(pooled[:, np.arange(config.n_v4), pair[:, 0]] * pooled[:, np.arange(config.n_v4), pair[:, 1]])
    v4_drive = _zscore(np.einsum("nsk,sk->ns", _zscore(pooled), weights) + 0.7 * _zscore(conj))

    # IT: position-tolerant image features (global mean and max of the energy maps) ...
    flat = energy.reshape(n, 8, -1)
    global_features = _zscore(np.concatenate([flat.mean(-1), flat.max(-1), v4_drive], 1))
    it_image = _zscore(global_features @ rng.normal(size=(global_features.shape[1], config.n_it)))
    # ... plus, mostly, object identity (tuning vector · object embedding), scaled by visibility.
    embeddings = np.stack([o.embedding for o in objects])
    index = {o.object_name: o.index for o in objects}
    object_of_image = np.array([index[name] for name in table["object_name"]])
    tuning = rng.normal(size=(embeddings.shape[1], config.n_it))
    it_object = _zscore(embeddings @ tuning)[object_of_image]  # (n, sites)
    visibility = table["sim_visibility"].to_numpy()[:, None]
    image_weight = rng.uniform(0.15, 0.3, config.n_it)  # IT is more object- than image-driven

    def rates(drive, baseline, gain):  # softplus keeps rates positive with a rectified look
        return baseline + gain * np.log1p(np.exp(drive))

    v4_baseline, v4_gain = rng.uniform(20, 60, config.n_v4), rng.uniform(40, 100, config.n_v4)
    v4 = rates(0.9 * v4_drive[..., None] - 0.5, v4_baseline[None, :, None], v4_gain[None, :, None])
    v4_time = _rise(t, 78.0, 6.0) * (1 - 0.25 * _rise(t, 140.0, 15.0))
    v4 = v4_baseline[None, :, None] + (v4 - v4_baseline[None, :, None]) * v4_time

    it_baseline, it_gain = rng.uniform(20, 60, config.n_it), rng.uniform(60, 140, config.n_it)
    solution_time = table["sim_solution_time_ms"].to_numpy()
    image_part = image_weight * it_image  # (n, sites)
    object_part = 2.0 * (0.6 + 0.4 * visibility) * it_object
    it_drive = (image_part[..., None] * _rise(t, 88.0, 7.0)
                + object_part[..., None] * _rise(t[None, None, :], solution_time[:, None, None], 8.0))
    it = rates(it_drive - 0.5, it_baseline[None, :, None], it_gain[None, :, None])
    # Before any drive arrives, the softplus offset is removed so responses start at baseline.
    it = it - (rates(-0.5, 0, it_gain) * (1 - _rise(t, 85.0, 7.0))[:, None]).T[None]
    return v4, np.maximum(it, 1.0)


def _trials(config: SimulatedConfig, rates: np.ndarray, stream: int) -> np.ndarray:
    """Poisson-like spike counts per trial, returned as rates: ``(reps, n, sites, bins)``."""
    rng = _rng(config.seed, _NEURAL_NOISE, stream)
    reps = config.n_repetitions
    # A slow per-trial, per-site gain (shape 4 -> CV 0.5) makes the noise over-dispersed, as in
    # real multi-unit recordings, and keeps split-half ceilings well below 1.
    gain = rng.gamma(4.0, 1 / 4.0, (reps, *rates.shape[:2], 1))
    counts = rng.poisson(rates[None] * gain * 0.010)  # 10 ms bins
    return (counts / 0.010).astype(np.float32)


def _monkey_ost(config: SimulatedConfig, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per image: the monkey's behavioural I1 (d', the OST threshold) and its IT OST (ms).

    As in Kar et al. 2019, the images are ones the monkey solves well, so the I1 thresholds
    depend only mildly on difficulty. The IT OST is simulated as a noisy measurement of the
    image's latent solution time (Kar et al. derived OSTs from IT recordings with the same decoder
    procedure as for models; decoding the simulated IT reproduces these OSTs, see the tests).
    Images whose solution lies beyond the recording window have no OST (NaN).
    """
    rng = _rng(config.seed, _MONKEY, 1)
    difficulty = table["sim_difficulty"].to_numpy()
    i1 = np.clip(1.1 + 0.6 * (1 - difficulty) + 0.2 * rng.normal(size=len(table)), 0.5, 5.0)
    latent = table["sim_solution_time_ms"].to_numpy()
    ost = latent + 8.0 * rng.normal(size=len(table))
    ost[(latent > BIN_STARTS_MS[-1]) | (ost < BIN_STARTS_MS[0])] = np.nan
    return i1, ost


# ---------------------------------------------------------------------------------------------
# The simulated human (I2n)
# ---------------------------------------------------------------------------------------------

def _human_trials(config: SimulatedConfig, table: pd.DataFrame, objects: Sequence[ObjectSpec]) -> pd.DataFrame:
    """Two-alternative forced-choice trials on the behavioural test images."""
    from scipy.special import ndtr  # standard normal CDF (scipy.stats is slow to import)

    rng = _rng(config.seed, _HUMAN)
    task = set(config.behavior_objects)
    objects = [o for o in objects if o.object_name in task]
    names = [o.object_name for o in objects]
    embeddings = np.stack([o.embedding for o in objects])
    distance = np.linalg.norm(embeddings[:, None] - embeddings[None], axis=-1)
    # Pair similarity: same-category objects are harder to tell apart; the rest is idiosyncratic.
    dissimilarity = (distance / distance[distance > 0].mean()) ** 2
    dissimilarity = dissimilarity * np.exp(0.15 * rng.normal(size=dissimilarity.shape))
    test = behavior_test_images(config, table)
    n_trials = config.human_trials_per_cell
    stimulus, truth, distractor, correct = [], [], [], []
    for row in test.itertuples(index=False):
        t = names.index(row.object_name)
        others = np.array([d for d in range(len(names)) if d != t])
        idiosyncrasy = np.exp(0.6 * rng.normal())  # image-specific, shared over distractors
        d_prime = 2.6 * (1.2 - row.sim_difficulty) * dissimilarity[t, others] * idiosyncrasy
        p_correct = 0.01 + 0.98 * ndtr(d_prime / np.sqrt(2))  # 2 % lapses (guesses)
        hits = rng.uniform(size=(len(others), n_trials)) < p_correct[:, None]
        stimulus += [row.stimulus_id] * hits.size
        truth += [row.object_name] * hits.size
        distractor += np.repeat(np.asarray(names)[others], n_trials).tolist()
        correct += hits.ravel().tolist()
    trials = pd.DataFrame({"stimulus_id": stimulus, "truth": truth, "distractor": distractor})
    trials["choice"] = np.where(correct, trials["truth"], trials["distractor"])
    return trials


def behavior_test_images(config: SimulatedConfig, table: pd.DataFrame) -> pd.DataFrame:
    """The I2n test images: the first ``behavior_images_per_object`` high-variation images per object.

    The remaining images of the stimulus set are for fitting the model's decoder (as the 2,160
    fitting images of Rajalingham 2018).
    """
    high = table[(table["variation"] == 6) & table["object_name"].isin(config.behavior_objects)]
    return high.groupby("object_name", sort=False).head(config.behavior_images_per_object)


# ---------------------------------------------------------------------------------------------
# Assemblies and the experiment
# ---------------------------------------------------------------------------------------------

#: File names of an experiment written to a directory (BrainIO formats).
FILES = {"stimuli_csv": "stimulus_simulated.csv", "stimuli_zip": "stimulus_simulated.zip",
         "neural": "assy_simulated_neural.nc", "neural_temporal": "assy_simulated_neural_temporal.nc",
         "ost": "assy_simulated_ost.nc", "human": "assy_simulated_human.nc", "config": "config.json"}


@dataclass
class SimulatedExperiment:
    """The simulated experiment.

    Attributes:
        config: the configuration it was generated from.
        stimuli: stimulus set metadata (see :func:`stimulus_table`), one row per image.
        images: ``(n, size, size)`` uint8 grayscale images in ``stimuli`` order (None when loaded
            from files: use ``stimulus_set``).
        neural: V4 + IT trials averaged over 70–170 ms, ``presentation × neuroid × time_bin`` (one
            bin), as MajajHong2015 (for neural predictivity).
        neural_temporal: IT trials in 10 ms bins 70–250 ms, ``presentation × neuroid × time_bin``,
            as Kar 2019's recordings.
        ost: the OST target, one value per image (the monkey's IT OST in ms, NaN if none) with
            coords ``stimulus_id``, ``truth`` (the category, decoded as in §3.3), ``object_name``
            and ``i1`` (the monkey's behavioural I1, the threshold), as ``metrics.ost`` takes it.
        human: trial-level human 2AFC choices (I2n), dim ``presentation``, values = ``choice``,
            coords ``stimulus_id``, ``truth``, ``distractor``, ``choice``.
        stimulus_set: the BrainIO stimulus set (CSV + ZIP) when written to or loaded from files.
        directory: where the files are, if any.
    """

    config: SimulatedConfig
    stimuli: pd.DataFrame
    images: np.ndarray | None
    neural: xr.DataArray
    neural_temporal: xr.DataArray
    ost: xr.DataArray
    human: xr.DataArray
    stimulus_set: Any = None
    directory: Path | None = None

    @property
    def behavior_test_ids(self) -> np.ndarray:
        """Stimulus ids of the I2n test images (those with human trials)."""
        return pd.unique(np.asarray(self.human["stimulus_id"].values))

    @property
    def behavior_fitting_ids(self) -> np.ndarray:
        """Stimulus ids for fitting the model-to-behaviour decoder: the task's objects' other images."""
        ids = self.stimuli["stimulus_id"].to_numpy()
        in_task = self.stimuli["object_name"].isin(self.config.behavior_objects).to_numpy()
        return ids[in_task & ~np.isin(ids, self.behavior_test_ids)]


def generate(config: SimulatedConfig | None = None) -> SimulatedExperiment:
    """Generate the whole simulated experiment in memory (seconds for the tiny/small sizes)."""
    from ..assemblies import behavioral_assembly, neural_assembly

    config = config or SimulatedConfig()
    objects = make_objects(config)
    table = stimulus_table(config, objects)
    images = render_stimuli(config, table, objects)
    v4_rates, it_rates = _mean_rates(config, images, table, objects)
    v4, it = _trials(config, v4_rates, 0), _trials(config, it_rates, 1)  # (reps, n, sites, bins)
    reps, n = config.n_repetitions, len(table)
    starts = np.asarray(BIN_STARTS_MS)
    window = (starts >= NEURAL_WINDOW_MS[0]) & (starts < NEURAL_WINDOW_MS[1])
    attrs = {"source": "simulated", "generator_version": GENERATOR_VERSION, "config_digest": config.digest()}

    # Presentations are trials: each image once per repetition (repetition-major order).
    presentation = {name: np.tile(table[name].to_numpy(), reps) for name in ("category_name", "variation")}
    trial_ids = dict(stimulus_id=np.tile(table["stimulus_id"].to_numpy(), reps),
                     object_name=np.tile(table["object_name"].to_numpy(), reps),
                     repetition=np.repeat(np.arange(reps), n))

    def neuroids(regions):
        counts = {"V4": config.n_v4, "IT": config.n_it}
        ids = [f"sim{config.seed}_{r}_{i:03d}" for r in regions for i in range(counts[r])]
        return ids, [r for r in regions for _ in range(counts[r])]

    ids, regions = neuroids(("V4", "IT"))
    both = np.concatenate([v4[..., window].mean(-1), it[..., window].mean(-1)], axis=2)
    neural = neural_assembly(both.reshape(reps * n, -1)[..., None], neuroid_id=ids, region=regions,
                             time_bin_start=[NEURAL_WINDOW_MS[0]], time_bin_end=[NEURAL_WINDOW_MS[1]],
                             presentation_coords=presentation, name="simulated_neural", **trial_ids)
    ids, regions = neuroids(("IT",))
    neural_temporal = neural_assembly(
        it.reshape(reps * n, config.n_it, len(starts)), neuroid_id=ids, region=regions,
        time_bin_start=starts, time_bin_end=starts + 10, presentation_coords=presentation,
        name="simulated_neural_temporal", **trial_ids)
    i1, monkey_ost = _monkey_ost(config, table)
    ost = xr.DataArray(monkey_ost, dims=("presentation",), name="simulated_ost", coords={
        "stimulus_id": ("presentation", table["stimulus_id"].to_numpy()),
        "truth": ("presentation", table["category_name"].to_numpy()),
        "object_name": ("presentation", table["object_name"].to_numpy()),
        "i1": ("presentation", i1)})
    trials = _human_trials(config, table, objects)
    human = behavioral_assembly(trials["choice"].to_numpy(), stimulus_id=trials["stimulus_id"].to_numpy(),
                                truth=trials["truth"].to_numpy(), distractor=trials["distractor"].to_numpy(),
                                name="simulated_human")
    for assembly in (neural, neural_temporal, ost, human):
        assembly.attrs.update(attrs)
    return SimulatedExperiment(config, table, images, neural, neural_temporal, ost, human)


def write_experiment(experiment: SimulatedExperiment, directory: str | os.PathLike) -> SimulatedExperiment:
    """Write the experiment as BrainIO files (stimulus CSV + ZIP, netCDF assemblies) and load it back.

    The returned experiment is read from the files, so everything downstream exercises the same
    code path as real Brain-Score data.
    """
    from .brainio import write_assembly, write_stimulus_set

    if experiment.images is None:
        raise ValueError("this experiment has no images in memory (it was loaded from files)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    images = dict(zip(experiment.stimuli["stimulus_id"], experiment.images))
    write_stimulus_set(experiment.stimuli, images, directory / FILES["stimuli_csv"], directory / FILES["stimuli_zip"])
    for name in ("neural", "neural_temporal", "ost", "human"):
        write_assembly(getattr(experiment, name), directory / FILES[name])
    # config last: its presence marks a complete experiment
    atomic_write_text(directory / FILES["config"], json.dumps(
        {"generator_version": GENERATOR_VERSION, "config": experiment.config.to_dict()}, indent=1))
    return load_experiment(directory)


def load_experiment(directory: str | os.PathLike) -> SimulatedExperiment:
    """Load an experiment written by :func:`write_experiment` (through the BrainIO readers)."""
    from .brainio import load_assembly, load_stimulus_set

    directory = Path(directory)
    config_path = directory / FILES["config"]
    if not config_path.is_file():
        raise FileNotFoundError(f"{directory} holds no complete simulated experiment (no {FILES['config']}); "
                                "generate one with cornet_repro.data.simulated.simulated_experiment(...) "
                                "or `cornet-repro simulate --out DIR`")
    meta = json.loads(config_path.read_text())
    config = SimulatedConfig(**meta["config"])
    stimulus_set = load_stimulus_set(directory / FILES["stimuli_csv"], directory / FILES["stimuli_zip"],
                                     identifier=f"simulated.{config.digest()}")
    loaded = {name: load_assembly(directory / FILES[name]) for name in ("neural", "neural_temporal", "ost", "human")}
    return SimulatedExperiment(config, stimulus_set.table, None, stimulus_set=stimulus_set, directory=directory,
                               **loaded)


def simulated_experiment(config: SimulatedConfig | None = None, *, cache: str | os.PathLike | None = None,
                         rebuild: bool = False) -> SimulatedExperiment:
    """The experiment for ``config``, from the cache (``<cache>/simulated/<digest>/``) or generated.

    Generation writes to a temporary folder renamed into place when complete, so concurrent or
    interrupted builds never leave a half-written experiment behind.
    """
    import shutil
    import tempfile

    from .fetch import cache_dir

    config = config or SimulatedConfig()
    target = cache_dir(cache) / "simulated" / config.digest()
    if rebuild and target.exists():
        shutil.rmtree(target)
    if (target / FILES["config"]).is_file():
        return load_experiment(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_experiment(generate(config), tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished first: use theirs
            if not (target / FILES["config"]).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return load_experiment(target)


# ---------------------------------------------------------------------------------------------
# A labelled training set from the same generator
# ---------------------------------------------------------------------------------------------

class SimulatedObjects:
    """A torch-style ``Dataset`` of labelled images of the simulated objects.

    ``dataset[i]`` is ``(image, label)`` where ``label`` is the object index
    (``n_categories × n_objects_per_category`` classes) and ``image`` is a grayscale PIL image
    (or ``transform(image)``). Images are new draws of pose, contrast and background for the
    same objects as the stimulus set (never the stimulus images themselves), deterministic per
    ``(seed, split, index)``; pose variation is drawn continuously from none to high. Rendered
    images are cached in memory (uint8).
    """

    def __init__(self, config: SimulatedConfig, n_images: int, split: str = "train",
                 transform: Callable | None = None, cache: bool = True) -> None:
        if split not in _SPLIT_STREAMS:
            raise ValueError(f"split must be one of {sorted(_SPLIT_STREAMS)}, got {split!r}")
        if n_images < 1:
            raise ValueError(f"n_images must be >= 1, got {n_images}")
        self.config, self.n_images, self.split, self.transform = config, n_images, split, transform
        self.objects = make_objects(config)
        self.classes = [o.object_name for o in self.objects]
        self._cache: dict[int, np.ndarray] | None = {} if cache else None

    def __len__(self) -> int:
        return self.n_images

    def label(self, index: int) -> int:
        return index % len(self.objects)  # balanced classes

    def image_array(self, index: int) -> np.ndarray:
        if not 0 <= index < self.n_images:
            raise IndexError(index)
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        rng = _rng(self.config.seed, _SPLIT_STREAMS[self.split], index)
        latents = _draw_latents(rng, amplitude=float(rng.uniform(0, 1)))
        img = render(self.objects[self.label(index)], latents, self.config.image_size)
        if self._cache is not None:
            self._cache[index] = img
        return img

    def preload(self, cache: str | os.PathLike | None = None) -> "SimulatedObjects":
        """Render every image now, or read them from the cache where an earlier run kept them.

        The file (``<cache>/simulated-objects/<digest>/<split>-<n>.npy``) is written atomically; the
        book's sweep trains 30 models on the same images, and rendering them took 3 s per run.
        """
        from ..files import atomic_path
        from .fetch import cache_dir

        # Not inside the experiment's folder: that one appears only complete (see simulated_experiment).
        path = cache_dir(cache) / "simulated-objects" / self.config.digest() / f"{self.split}-{self.n_images}.npy"
        size = self.config.image_size
        images = None
        if path.is_file():
            try:
                images = np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                images = None  # damaged: render again and replace it
            if images is not None and images.shape != (self.n_images, size, size):
                images = None
        if images is None:
            images = np.stack([self.image_array(i) for i in range(self.n_images)])
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, images, allow_pickle=False)
        self._cache = dict(enumerate(images))
        return self

    def __getitem__(self, index: int):
        from PIL import Image

        image = Image.fromarray(self.image_array(index), mode="L")
        if self.transform is not None:
            image = self.transform(image)
        return image, self.label(index)


# ---------------------------------------------------------------------------------------------
# Command line: `cornet-repro simulate`
# ---------------------------------------------------------------------------------------------

def register_cli(subparsers) -> None:
    """Add ``cornet-repro simulate``: build (or find) the simulated experiment of a preset."""
    if "simulate" in subparsers.choices:
        return
    sub = subparsers.add_parser("simulate", help="generate the simulated experiment of a preset (cached)",
                                description="Generate the simulated stimuli, monkey and human data of a "
                                            "preset as BrainIO files (a stand-in, never a reproduction).")
    sub.add_argument("--preset", default="small", help="tiny, small, or a YAML preset (default: small)")
    sub.add_argument("--cache", help="cache root (default: $CORNET_REPRO_CACHE or ~/.cache/cornet_repro)")
    sub.add_argument("--rebuild", action="store_true", help="regenerate even if cached")
    sub.set_defaults(func=_cli_main)


def _cli_main(args) -> int:
    import sys

    from ..presets import PresetError, load_preset

    try:
        preset = load_preset(args.preset)
    except PresetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if preset.simulated is None:
        print(f"error: preset {preset.name!r} has no simulated world (it uses real data)", file=sys.stderr)
        return 2
    experiment = simulated_experiment(preset.simulated, cache=args.cache, rebuild=args.rebuild)
    print(json.dumps({"directory": str(experiment.directory), "stimuli": len(experiment.stimuli),
                      "neural": dict(experiment.neural.sizes), "neural_temporal": dict(experiment.neural_temporal.sizes),
                      "human_trials": int(experiment.human.sizes["presentation"])}, indent=1))
    return 0
