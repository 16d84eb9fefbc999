"""The simulated world: its configuration, its objects, and the renderer of the stimulus set.

Holds :class:`SimulatedConfig` (sizes and seed: everything simulated is a deterministic function
of it), the shape families and variation levels, the independent random streams, the objects
(:class:`ObjectSpec`, :func:`make_objects`), the renderer of one image (grayscale object on 1/f
noise, :func:`render`), and the stimulus set (:func:`stimulus_table`, :func:`render_stimuli`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "FAMILIES",
    "VARIATION_AMPLITUDE",
    "GENERATOR_VERSION",
    "SimulatedConfig",
    "ObjectSpec",
    "make_objects",
    "render",
    "stimulus_table",
    "render_stimuli",
]

#: Shape families, one per category (categories use the first ``n_categories``).
FAMILIES = ("polygon", "star", "ellipses", "ring", "cross", "blob", "grating", "bars")

#: HvM variation levels -> amplitude of the pose variation (0 = none, 1 = full).
VARIATION_AMPLITUDE = {0: 0.0, 3: 0.5, 6: 1.0}

# Independent random streams: every random quantity comes from np.random.default_rng with
# entropy [seed, stream, ...indices], so adding images or neurons never changes the others.
_OBJECTS, _TEST_IMAGES, _TRAIN_IMAGES, _VAL_IMAGES, _NEURONS, _NEURAL_NOISE, _HUMAN, _MONKEY = range(8)
_SPLIT_STREAMS = {"train": _TRAIN_IMAGES, "val": _VAL_IMAGES}


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

