"""Small synthetic generative processes with known answers, for the metric tests and benchmarks."""

from __future__ import annotations

import numpy as np
import xarray as xr

from cornet_repro.assemblies import behavioral_assembly, neural_assembly, probabilities_assembly
from cornet_repro.protocol import OST_TIME_BINS


def linear_population(n_stimuli: int = 1200, n_features: int = 10, n_neuroids: int = 30,
                      noise_sd: float = 1.0, n_objects: int = 8, seed: int = 0):
    """Features X and neurons Y = X W + noise, each neuron with unit signal variance.

    The expected held-out Pearson r of the true map is 1 / sqrt(1 + noise_sd²).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_stimuli, n_features))
    W = rng.normal(size=(n_features, n_neuroids))
    W /= np.linalg.norm(W, axis=0)  # unit signal variance per neuroid (X has identity covariance)
    Y = X @ W + noise_sd * rng.normal(size=(n_stimuli, n_neuroids))
    ids = np.array([f"im{i:05d}" for i in range(n_stimuli)])
    objects = np.array([f"obj{i % n_objects}" for i in range(n_stimuli)])
    source = neural_assembly(X, stimulus_id=ids, neuroid_id=[f"f{i}" for i in range(n_features)],
                             object_name=objects, neuroid_coords={"layer": ["L"] * n_features})
    target = neural_assembly(Y, stimulus_id=ids, neuroid_id=[f"n{i}" for i in range(n_neuroids)],
                             object_name=objects, region="IT")
    return source, target


def repeated_population(n_stimuli: int = 400, n_neuroids: int = 40, n_reps: int = 20,
                        signal_sd: float = 1.0, noise_sd: float = 4.0, seed: int = 0) -> xr.DataArray:
    """Trials = stimulus mean + noise; the reliability of the mean over all reps is
    ``s² / (s² + σ²/R)``, which the Spearman–Brown-corrected split-half estimate targets."""
    rng = np.random.default_rng(seed)
    mu = signal_sd * rng.normal(size=(n_stimuli, n_neuroids))
    data = np.repeat(mu, n_reps, axis=0) + noise_sd * rng.normal(size=(n_stimuli * n_reps, n_neuroids))
    ids = np.repeat([f"im{i:04d}" for i in range(n_stimuli)], n_reps)
    reps = np.tile(np.arange(n_reps), n_stimuli)
    objects = np.repeat([f"obj{i % 8}" for i in range(n_stimuli)], n_reps)
    return neural_assembly(data, stimulus_id=ids, neuroid_id=np.arange(n_neuroids), region="IT",
                           object_name=objects, repetition=reps)


def two_afc_world(n_objects: int = 8, images_per_object: int = 10, trials_per_pair: int = 60, seed: int = 0):
    """A human 2AFC generative process: P(correct | image, distractor) known per cell.

    Returns (trials assembly, the generative probabilities as a model's 24-way-style probabilities).
    The model's ``p(o)/(p(o)+p(truth))`` equals the human's expected distractor-choice rate.
    """
    rng = np.random.default_rng(seed)
    objects = np.array([f"obj{k}" for k in range(n_objects)])
    n_img = n_objects * images_per_object
    truth_idx = np.repeat(np.arange(n_objects), images_per_object)
    ids = np.array([f"im{i:04d}" for i in range(n_img)])
    # logit of correctness: image difficulty + pair similarity + image×distractor idiosyncrasy
    pair = rng.normal(1.5, 0.5, size=(n_objects, n_objects))
    logit = (rng.normal(0.0, 0.8, size=(n_img, 1)) + pair[truth_idx]
             + rng.normal(0.0, 0.6, size=(n_img, n_objects)))
    p_correct = 1 / (1 + np.exp(-logit))
    # model probabilities: p(o)/p(truth) = (1 - Pc)/Pc
    odds = (1 - p_correct) / p_correct
    odds[np.arange(n_img), truth_idx] = 1.0
    probs = odds / odds.sum(axis=1, keepdims=True)
    rows = []
    for i in range(n_img):
        for o in range(n_objects):
            if o == truth_idx[i]:
                continue
            correct = rng.random(trials_per_pair) < p_correct[i, o]
            for c in correct:
                rows.append((ids[i], objects[truth_idx[i]], objects[o],
                             objects[truth_idx[i]] if c else objects[o]))
    rows = np.array(rows)
    order = rng.permutation(len(rows))
    rows = rows[order]
    trials = behavioral_assembly(rows[:, 3], stimulus_id=rows[:, 0], truth=rows[:, 1], distractor=rows[:, 2])
    model = probabilities_assembly(probs, stimulus_id=ids, choices=objects, truth=objects[truth_idx])
    return trials, model, p_correct


def planted_ost_world(n_images: int = 200, n_objects: int = 5, n_features: int = 20,
                      threshold: float = 1.5, ramp_ms: float = 40.0, noise_sd: float = 0.3, seed: int = 0):
    """Model features whose object signal ramps up from a planted, image-specific time.

    Returns (model assembly presentation × neuroid × time_bin, target = the planted times as
    monkey OSTs, with ``threshold`` as every image's monkey I1). An image's object signal is
    zero before its planted time and grows linearly after it, so at every bin images with earlier
    planted times decode better and cross the threshold first.
    """
    rng = np.random.default_rng(seed)
    starts = np.asarray([start for start, _ in OST_TIME_BINS])
    truth_idx = np.arange(n_images) % n_objects
    objects = np.array([f"obj{k}" for k in range(n_objects)])
    planted = rng.uniform(60, 200, size=n_images)  # ms
    prototypes = rng.normal(size=(n_objects, n_features))
    prototypes *= 2.0 / np.linalg.norm(prototypes, axis=1, keepdims=True) * np.sqrt(n_features) / 2
    data = np.empty((n_images, n_features, len(starts)))
    for b, start in enumerate(starts):
        strength = np.clip((start + 5 - planted) / ramp_ms, 0, 1)
        data[:, :, b] = strength[:, None] * prototypes[truth_idx] + noise_sd * rng.normal(size=(n_images, n_features))
    ids = np.array([f"im{i:04d}" for i in range(n_images)])
    source = neural_assembly(data, stimulus_id=ids, neuroid_id=np.arange(n_features),
                             time_bin_start=starts, time_bin_end=starts + 10,
                             neuroid_coords={"layer": ["IT"] * n_features})
    target = xr.DataArray(planted, dims=["presentation"],
                          coords={"stimulus_id": ("presentation", ids),
                                  "truth": ("presentation", objects[truth_idx]),
                                  "i1": ("presentation", np.full(n_images, threshold))})
    return source, target
