"""Behavioural consistency (paper §3.2; Rajalingham et al. 2018): I2n and I1.

Semantics follow Brain-Score's ``i1i2`` metric (read from brain-score/vision), vectorized:

* response matrix, image × object: for the model ``p(o) / (p(o) + p(truth))`` from its 24-way
  probabilities; for humans the fraction of trials with distractor ``o`` on which ``o`` was chosen.
  Both are the rate of choosing the distractor; the truth column is NaN.
* d' = Z(hit rate) − Z(false-alarm rate) with hit rate = 1 − that rate, and the false-alarm rate of
  (object A, distractor B) = the mean rate of choosing A over all images of B shown with A
  (false alarms computed per object, then averaged: Brain-Score's documented change to Rajalingham);
  clipped to ±5.
* I2n subtracts the mean d' of each (object, distractor) pair; I1 averages over distractors per image.
* Trials are split in halves by ``numpy.random.RandomState(0)`` shuffles, 2 repetitions; the model is
  correlated (Pearson, over non-NaN cells) with the first half of each repetition, the ceiling is the
  correlation between the two halves (no Spearman–Brown correction).
* Ceiled score (Brain-Score's ``Rajalingham2018-i2n`` benchmark ``ceil_score``): per repetition
  ``r / sqrt(ceiling)``, then mean over repetitions; error = std over repetitions (ddof=0), as there.
  (Brain-Score 0.2's reference summary "r / sqrt(ceiling)" is this, applied per repetition.)

Our own implementation (bincount response matrices, array d') instead of Brain-Score's Counter and
per-cell ``multi_dim_apply``: human ceiling on 298,080 trials in 0.3–0.4 s vs 5.7–6.0 s (15–17×),
I2n score 0.2–0.3 s vs 4.7–7.0 s (17–31×), equal to 6e-16 (``benchmarks/bench_metrics.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.stats import norm

from ..assemblies import AssemblyError, probabilities_assembly, validate_behavioral, validate_probabilities
from ._util import pearson_columns
from .score import Score, mean_over_splits

__all__ = [
    "ResponseMatrix", "human_response_matrix", "model_response_matrix", "dprime_matrix",
    "split_halves", "i2n", "i1", "behavioral_ceiling", "ceiled_i2n", "logistic_probabilities",
]

DPRIME_CAP = 5.0


@dataclass
class ResponseMatrix:
    """Rate of choosing each object as the distractor, per image: ``values[image, object]``."""

    values: np.ndarray
    stimulus_ids: np.ndarray  # sorted
    objects: np.ndarray  # sorted
    truth_index: np.ndarray  # per image, index into ``objects``


def _object_index(objects: np.ndarray, labels: np.ndarray, what: str) -> np.ndarray:
    idx = np.searchsorted(objects, labels)
    idx = np.clip(idx, 0, len(objects) - 1)
    bad = objects[idx] != labels
    if bad.any():
        raise AssemblyError(f"{what} has object label(s) not among the choices: {sorted(set(labels[bad]))[:5]}")
    return idx


def human_response_matrix(trials: xr.DataArray, *, objects: np.ndarray | None = None,
                          stimulus_ids: np.ndarray | None = None) -> ResponseMatrix:
    """Image × object rate of choosing the distractor, from 2AFC trials (vectorized counts)."""
    trials = validate_behavioral(trials)
    sid = np.asarray(trials["stimulus_id"].values)
    truth = np.asarray(trials["truth"].values)
    dist = np.asarray(trials["distractor"].values)
    choice = np.asarray(trials["choice"].values)
    if objects is None:
        objects = np.unique(np.concatenate([truth, dist, choice]))
    if stimulus_ids is None:
        stimulus_ids = np.unique(sid)
    img = np.searchsorted(stimulus_ids, sid)
    img = np.clip(img, 0, len(stimulus_ids) - 1)
    keep = stimulus_ids[img] == sid
    img, truth, dist, choice = img[keep], truth[keep], dist[keep], choice[keep]
    n_img, n_obj = len(stimulus_ids), len(objects)
    d_idx = _object_index(objects, dist, "trials")
    t_idx = _object_index(objects, truth, "trials")
    flat = img * n_obj + d_idx
    shown = np.bincount(flat, minlength=n_img * n_obj).reshape(n_img, n_obj)
    chose_distractor = np.bincount(flat[choice == dist], minlength=n_img * n_obj).reshape(n_img, n_obj)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = chose_distractor / shown
    values[shown == 0] = np.nan
    truth_of_image = np.full(n_img, -1)
    truth_of_image[img] = t_idx
    present = truth_of_image >= 0
    values[np.flatnonzero(present), truth_of_image[present]] = np.nan
    return ResponseMatrix(values, stimulus_ids, objects, truth_of_image)


def model_response_matrix(probabilities: xr.DataArray, truth: dict | xr.DataArray | None = None) -> ResponseMatrix:
    """Image × object ``p(o) / (p(o) + p(truth))`` from a model's choice probabilities.

    ``truth`` maps stimulus_id → object; if None, the probabilities' own ``truth`` coord is used.
    """
    probabilities = validate_probabilities(probabilities)
    sid = np.asarray(probabilities["stimulus_id"].values)
    if truth is None:
        if "truth" not in probabilities.coords:
            raise AssemblyError("probabilities need a 'truth' coord (or pass truth=…)")
        truth_labels = np.asarray(probabilities["truth"].values)
    else:
        if isinstance(truth, xr.DataArray):
            truth = dict(zip(np.asarray(truth["stimulus_id"].values), np.asarray(truth["truth"].values)))
        missing = [s for s in sid if s not in truth]
        if missing:
            raise AssemblyError(f"no truth label for {len(missing)} stimuli (first {missing[0]!r})")
        truth_labels = np.array([truth[s] for s in sid])
    order = np.argsort(sid, kind="stable")
    choices = np.asarray(probabilities["choice"].values)
    col_order = np.argsort(choices, kind="stable")
    p = np.asarray(probabilities.values, dtype=float)[order][:, col_order]
    objects = choices[col_order]
    t_idx = _object_index(objects, truth_labels[order], "probabilities' truth")
    p_truth = p[np.arange(len(p)), t_idx][:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        values = p / (p + p_truth)
    values[np.arange(len(p)), t_idx] = np.nan
    return ResponseMatrix(values, sid[order], objects, t_idx)


def dprime_matrix(rm: ResponseMatrix, *, normalize: bool = True, cap: float = DPRIME_CAP) -> np.ndarray:
    """d' per image and distractor; I2n-normalized (pair mean subtracted) when ``normalize``."""
    values = rm.values
    n_obj = len(rm.objects)
    valid = rm.truth_index >= 0
    ti = rm.truth_index[valid]
    v = values[valid]
    # FA[a, b]: mean over images of object b of the rate of choosing a (images of b shown with a)
    finite = np.isfinite(v)
    sums = np.zeros((n_obj, n_obj))
    counts = np.zeros((n_obj, n_obj))
    np.add.at(sums.T, ti, np.where(finite, v, 0.0))  # sums[a, b] += v[image of b, a]
    np.add.at(counts.T, ti, finite)
    with np.errstate(invalid="ignore", divide="ignore"):
        false_alarms = sums / counts  # NaN where no image of b had a as distractor
        hit_z = norm.ppf(1 - values)
        fa_z = norm.ppf(false_alarms[np.clip(rm.truth_index, 0, None)])  # row: truth a → FA[a, ·]
        d = hit_z - fa_z
    d[~valid] = np.nan
    d = np.clip(d, -cap, cap)  # ±inf → ±cap; NaN (e.g. inf − inf) stays NaN, as in Brain-Score
    if normalize:
        d_valid = d[valid]
        finite = np.isfinite(d_valid)
        s = np.zeros((n_obj, n_obj))
        c = np.zeros((n_obj, n_obj))
        np.add.at(s, ti, np.where(finite, d_valid, 0.0))
        np.add.at(c, ti, finite)
        with np.errstate(invalid="ignore", divide="ignore"):
            pair_mean = s / c
        d[valid] = d_valid - pair_mean[ti]
    return d


def split_halves(n_trials: int, repetitions: int = 2, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Brain-Score's trial halves: one ``RandomState(seed)`` shuffled in sequence per repetition."""
    rs = np.random.RandomState(seed)
    halves = []
    for _ in range(repetitions):
        idx = np.arange(n_trials)
        rs.shuffle(idx)
        halves.append((idx[: n_trials // 2], idx[n_trials // 2:]))
    return halves


def _correlate(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel(), b.ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    return float(pearson_columns(a[ok], b[ok])[0])


def _aligned_model_matrix(probabilities: xr.DataArray, trials: xr.DataArray, collapse: bool,
                          normalize: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    trials = validate_behavioral(trials)
    truth = dict(zip(np.asarray(trials["stimulus_id"].values), np.asarray(trials["truth"].values)))
    human_ids = np.unique(np.asarray(trials["stimulus_id"].values))
    prob_ids = np.asarray(probabilities["stimulus_id"].values)
    missing = np.setdiff1d(human_ids, prob_ids)
    if len(missing):
        raise AssemblyError(f"model probabilities lack {len(missing)} of the behavioural stimuli "
                            f"(first {missing[0]!r}); predict on the test images of the behavioural data")
    keep = np.isin(prob_ids, human_ids)
    rm = model_response_matrix(probabilities.isel(presentation=np.flatnonzero(keep)), truth)
    d = dprime_matrix(rm, normalize=normalize)
    if collapse:
        d = np.nanmean(d, axis=1)
    return d, rm.stimulus_ids, rm.objects


def _human_matrix(trials: xr.DataArray, idx: np.ndarray, stimulus_ids: np.ndarray, objects: np.ndarray,
                  collapse: bool, normalize: bool) -> np.ndarray:
    rm = human_response_matrix(trials.isel(presentation=idx), objects=objects, stimulus_ids=stimulus_ids)
    d = dprime_matrix(rm, normalize=normalize)
    if collapse:
        with np.errstate(invalid="ignore"), _quiet():
            d = np.nanmean(d, axis=1)
    return d


class _quiet:
    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def _std(values: np.ndarray) -> float:
    """Brain-Score's error of I1/I2n: the NaN-skipping population std over split halves."""
    finite = np.asarray(values, dtype=float)[np.isfinite(values)]
    return float(finite.std()) if finite.size else float("nan")


def _behavior_score(probabilities: xr.DataArray, trials: xr.DataArray, *, collapse: bool, normalize: bool,
                    repetitions: int, seed: int, name: str) -> Score:
    with _quiet():
        model, ids, objects = _aligned_model_matrix(probabilities, trials, collapse, normalize)
        rs = []
        for half, _ in split_halves(trials.sizes["presentation"], repetitions, seed):
            rs.append(_correlate(model, _human_matrix(trials, half, ids, objects, collapse, normalize)))
    rs = np.array(rs)
    raw = xr.DataArray(rs, dims=["split"], coords={"split": np.arange(len(rs))})
    return Score(value=mean_over_splits(rs), error=_std(rs), error_kind="std", metric=name, raw=raw,
                 details={"n_images": len(ids), "n_objects": len(objects), "per_split": rs.tolist()})


def i2n(probabilities: xr.DataArray, trials: xr.DataArray, *, repetitions: int = 2, seed: int = 0) -> Score:
    """Unceiled I2n consistency: Pearson r between model and human normalized image-by-distractor d'."""
    return _behavior_score(probabilities, trials, collapse=False, normalize=True,
                           repetitions=repetitions, seed=seed, name="i2n")


def i1(probabilities: xr.DataArray, trials: xr.DataArray, *, repetitions: int = 2, seed: int = 0,
       normalize: bool = False) -> Score:
    """Unceiled I1 consistency: per-image d' (mean over distractors)."""
    return _behavior_score(probabilities, trials, collapse=True, normalize=normalize,
                           repetitions=repetitions, seed=seed, name="i1n" if normalize else "i1")


def behavioral_ceiling(trials: xr.DataArray, *, metric: str = "i2n", repetitions: int = 2,
                       seed: int = 0) -> Score:
    """Human split-half consistency (no Spearman–Brown): correlation between the two trial halves."""
    trials = validate_behavioral(trials)
    collapse, normalize = {"i2n": (False, True), "i1": (True, False), "i1n": (True, True)}[metric]
    ids = np.unique(np.asarray(trials["stimulus_id"].values))
    objects = np.unique(np.concatenate([np.asarray(trials[c].values) for c in ("truth", "distractor", "choice")]))
    rs = []
    with _quiet():
        for h1, h2 in split_halves(trials.sizes["presentation"], repetitions, seed):
            rs.append(_correlate(_human_matrix(trials, h1, ids, objects, collapse, normalize),
                                 _human_matrix(trials, h2, ids, objects, collapse, normalize)))
    rs = np.array(rs)
    raw = xr.DataArray(rs, dims=["split"], coords={"split": np.arange(len(rs))})
    return Score(value=mean_over_splits(rs), error=_std(rs), error_kind="std",
                 metric=f"{metric}_ceiling", raw=raw, details={"per_split": rs.tolist()})


def ceiled_i2n(probabilities: xr.DataArray, trials: xr.DataArray, *, repetitions: int = 2,
               seed: int = 0, ceiling: Score | None = None) -> Score:
    """I2n ceiled as Brain-Score's benchmark does: mean over repetitions of ``r_s / sqrt(ceiling_s)``."""
    score = i2n(probabilities, trials, repetitions=repetitions, seed=seed)
    ceiling = ceiling or behavioral_ceiling(trials, repetitions=repetitions, seed=seed)
    r = np.asarray(score.raw.values)
    c = np.asarray(ceiling.raw.values)
    ceiled = r / np.sqrt(c)
    raw = xr.DataArray(ceiled, dims=["split"], coords={"split": np.arange(len(ceiled))})
    return Score(value=mean_over_splits(ceiled), error=_std(ceiled), error_kind="std",
                 metric="i2n (ceiled, r/sqrt(ceiling) per split)", raw=raw, ceiling=ceiling, unceiled=score,
                 details={"per_split": ceiled.tolist()})


def logistic_probabilities(
    fit_features: np.ndarray, fit_labels: np.ndarray, features: np.ndarray, *,
    stimulus_id: np.ndarray, truth: np.ndarray | None = None, C: float = 1e-3,
    solver: str = "newton-cg", max_iter: int = 100,
) -> xr.DataArray:
    """Brain-Score's behavioural readout: multinomial logistic regression (C=1e-3, newton-cg) on
    standardized features, fit on the training images, probabilities for ``features``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    fit_features = np.asarray(fit_features, dtype=float)
    features = np.asarray(features, dtype=float)
    if fit_features.ndim != 2 or features.ndim != 2 or fit_features.shape[1] != features.shape[1]:
        raise ValueError(f"features must be 2-D with equal widths; got {fit_features.shape} and {features.shape}")
    if len(fit_labels) != len(fit_features):
        raise ValueError(f"fit_labels has {len(fit_labels)} entries for {len(fit_features)} fitting images")
    scaler = StandardScaler().fit(fit_features)
    clf = LogisticRegression(C=C, solver=solver, max_iter=max_iter)
    clf.fit(scaler.transform(fit_features), np.asarray(fit_labels))
    p = clf.predict_proba(scaler.transform(features))
    return probabilities_assembly(p, stimulus_id=stimulus_id, choices=clf.classes_, truth=truth)
