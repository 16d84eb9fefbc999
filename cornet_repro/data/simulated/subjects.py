"""The simulated subjects: a monkey (V4 and IT sites, trials, object solution times) and a human (I2n).

The monkey's V4 sites pool a fixed Gabor-energy bank over a local receptive field; its IT sites
pool the same features over the whole image and carry an object-identity signal that rises at an
image-specific latency (:func:`_mean_rates`), recorded as over-dispersed Poisson trials in 10 ms
bins (:func:`_trials`); :func:`_monkey_ost` gives its behavioural I1 and IT OST per image. The
human makes two-alternative forced choices on the I2n test images (:func:`_human_trials`,
:func:`behavior_test_images`).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from ...protocol import NEURAL_WINDOW_MS, OST_TIME_BINS
from .world import _HUMAN, _MONKEY, _NEURAL_NOISE, _NEURONS, ObjectSpec, SimulatedConfig, _rng

__all__ = ["BIN_STARTS_MS", "NEURAL_WINDOW_MS", "behavior_test_images"]

# The simulated monkey is recorded on the benchmarks' own windows: 18 bins of 10 ms from 70 to
# 250 ms (Kar 2019), averaged over 70-170 ms for the V4/IT rates (MajajHong2015).
BIN_STARTS_MS = tuple(start for start, _ in OST_TIME_BINS)


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
