"""Object solution times (paper §3.3; Kar et al. 2019), as Brain-Score's ``OSTCorrelation``.

Per cross-validation split (10 × ``ShuffleSplit(test_size=0.1, random_state=1)`` over the target's
images) and per 10 ms time bin: a logistic decoder on z-scored model features (fit on 90 % of the
images) gives choice probabilities for the held-out 10 %; their per-image I1 d' (not normalized) is
compared with the monkey's behavioural I1 of each image; the model's OST is the first time that d'
reaches it, linearly interpolated from the best sub-threshold bin before it. The score is the
Spearman correlation between model and monkey OSTs over images where both exist, averaged over
splits (error: s.e.m.); Brain-Score ceils it by .79 (computed offline by K. Kar).

Decoder: Brain-Score trains a TensorFlow softmax layer (Adam, 40 epochs, l2 weight decay .463, the
``1/(C·2160)`` of an sklearn C = 1e-3 readout). We use scikit-learn's L-BFGS multinomial logistic
regression on the same objective: TF's loss ``mean CE + ½·wd·‖W‖²`` equals sklearn's
``C·ΣCE + ½‖W‖²`` up to a factor when ``C = 1 / (wd · n_train)``; that is the default ``C``.
(TF also penalizes the bias and stops early; the optimum it approaches is the one sklearn finds.)
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.stats import spearmanr
from threadpoolctl import threadpool_limits

from ..assemblies import AssemblyError, probabilities_assembly, validate_neural
from ._util import align_to, cv_splits
from .behavior import _quiet, dprime_matrix, model_response_matrix
from .score import Score, ceil_score, mean_over_splits, sem

__all__ = ["OST_CEILING", "image_i1", "model_osts", "object_solution_times", "ceiled_ost"]

#: Brain-Score's ceiling for Kar2019-ost (``Score(.79)``, "computed offline by Kohitij Kar")
OST_CEILING = 0.79


def image_i1(probabilities: xr.DataArray) -> np.ndarray:
    """Per-image I1 d' (mean over distractors, clipped at ±5, not normalized), in the
    probabilities' presentation order; needs a ``truth`` coord."""
    rm = model_response_matrix(probabilities)
    with _quiet():
        i1 = np.nanmean(dprime_matrix(rm, normalize=False), axis=1)
    order = np.argsort(np.asarray(probabilities["stimulus_id"].values), kind="stable")
    out = np.empty_like(i1)
    out[order] = i1
    return out


def _decoder_probabilities(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                           C: float | None, weight_decay: float, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x)
    c = C if C is not None else 1.0 / (weight_decay * len(train_x))
    clf = LogisticRegression(C=c, max_iter=max_iter)  # lbfgs, multinomial, l2
    clf.fit(scaler.transform(train_x), train_y)
    return clf.predict_proba(scaler.transform(test_x)), clf.classes_


def model_osts(train: xr.DataArray, test: xr.DataArray, thresholds: np.ndarray, *,
               label_coord: str = "truth", C: float | None = None, weight_decay: float = 0.463,
               max_iter: int = 500) -> np.ndarray:
    """OST (ms) per test image: the first time its I1 reaches ``thresholds`` (NaN if never).

    ``train``/``test``: presentation × neuroid × time_bin assemblies with a ``label_coord`` coord.
    Brain-Score's rule: keep the highest sub-threshold (time, I1) seen before the hit, interpolate
    linearly between it and the hit; a hit in the first bin returns that bin's start.
    """
    starts = np.asarray(train["time_bin_start"].values)
    n = test.sizes["presentation"]
    last = [None] * n
    hit = [None] * n
    for start in sorted(set(starts.tolist())):
        bin_index = int(np.flatnonzero(starts == start)[0])
        x_tr = np.asarray(train.isel(time_bin=bin_index).values)
        x_te = np.asarray(test.isel(time_bin=bin_index).values)
        p, classes = _decoder_probabilities(x_tr, np.asarray(train[label_coord].values), x_te,
                                            C, weight_decay, max_iter)
        probs = probabilities_assembly(p, stimulus_id=np.asarray(test["stimulus_id"].values),
                                       choices=classes, truth=np.asarray(test[label_coord].values))
        i1 = image_i1(probs)
        for i in range(n):
            if hit[i] is not None:
                continue
            if i1[i] < thresholds[i] and (last[i] is None or last[i][1] < i1[i]):
                last[i] = (start, i1[i])
            if i1[i] >= thresholds[i]:
                hit[i] = (start, i1[i])
        if all(h is not None for h in hit):
            break  # every image solved: later bins cannot change the answer
    osts = np.full(n, np.nan)
    for i in range(n):
        if hit[i] is None:
            continue
        if last[i] is None:
            osts[i] = hit[i][0]
            continue
        (t0, y0), (t1, y1) = last[i], hit[i]
        # the root of the line through both points (Brain-Score solves it with fsolve)
        osts[i] = t1 if y1 == y0 else t0 + (thresholds[i] - y0) * (t1 - t0) / (y1 - y0)
    return osts


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman r of paired values; NaN (quietly) when it is undefined (< 2 pairs, a constant side)."""
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b)[0])


def object_solution_times(
    source: xr.DataArray,
    target: xr.DataArray,
    *,
    n_splits: int = 10,
    test_size: float = 0.1,
    random_state: int = 1,
    C: float | None = None,
    weight_decay: float = 0.463,
    label_coord: str = "truth",
) -> Score:
    """Spearman r between model and monkey OSTs, cross-validated (unceiled).

    ``source``: model assembly presentation × neuroid × time_bin (bins of 10 ms, 70–250 ms).
    ``target``: one value per image, the monkey OST in ms (NaN if none), with coords
    ``stimulus_id``, ``i1`` (the monkey's behavioural I1, the threshold) and ``truth`` (object label).

    ``details["per_image"]`` keeps the predictions behind the score, for Fig. 5: per image the
    model OST (mean over the splits that tested it and where it was solved; NaN if none) beside
    the monkey's. With 10 splits of 10 %, about 65 % of the images are tested at least once.
    """
    source = validate_neural(source, time=True, what="source (model assembly with time bins)")
    if target.dims != ("presentation",):
        raise AssemblyError(f"target must have the single dim 'presentation' (one OST per image); "
                            f"found dims {target.dims}")
    for coord in ("stimulus_id", "i1", label_coord):
        if coord not in target.coords:
            raise AssemblyError(f"target lacks coord {coord!r}; it has {list(target.coords)}")
    ids = np.asarray(target["stimulus_id"].values)
    source = align_to(source, ids).assign_coords({label_coord: ("presentation", np.asarray(target[label_coord].values))})
    splits = cv_splits(len(ids), n_splits=n_splits, test_size=test_size, random_state=random_state)
    thresholds = np.asarray(target["i1"].values, dtype=float)
    monkey = np.asarray(target.values, dtype=float)
    rs, n_both = [], []
    per_image = np.full((len(splits), len(ids)), np.nan)  # split × image; NaN: not tested or never solved
    # Hundreds of small decoder fits (splits × bins): multi-threaded BLAS only adds overhead there.
    # On 2 cores, OpenBLAS's 2 threads made them 12x slower (benchmarks/bench_overheads.py), and
    # the small preset's whole OST score took 130 s instead of 6 s.
    with threadpool_limits(limits=1, user_api="blas"):
        for train, test in splits:
            predicted = model_osts(source.isel(presentation=train), source.isel(presentation=test),
                                   thresholds[test], label_coord=label_coord, C=C, weight_decay=weight_decay)
            ok = np.isfinite(predicted) & np.isfinite(monkey[test])
            n_both.append(int(ok.sum()))
            # Brain-Score correlates whatever pairs there are: 2 give ±1, fewer give NaN (skipped below)
            rs.append(_spearman(predicted[ok], monkey[test][ok]))
            per_image[len(rs) - 1, test] = predicted
    rs = np.array(rs, dtype=float)
    raw = xr.DataArray(rs, dims=["split"], coords={"split": np.arange(len(rs))})
    value = mean_over_splits(rs)  # NaN: no split had 2+ images with both OSTs
    solved = np.isfinite(per_image)
    with np.errstate(invalid="ignore"):
        model_ost = np.where(solved.any(axis=0), np.nansum(per_image, axis=0) / solved.sum(axis=0), np.nan)
    pairs = {"stimulus_id": ids.tolist(), "model_ost_ms": model_ost.tolist(), "monkey_ost_ms": monkey.tolist()}
    return Score(value=value, error=sem(rs), error_kind="sem", metric="ost", raw=raw,
                 details={"per_split": rs.tolist(), "images_with_both": n_both, "per_image": pairs})


def ceiled_ost(score: Score, ceiling: float = OST_CEILING, error: str = "scaled") -> Score:
    """OST score / .79, as Brain-Score's Kar2019-ost benchmark (r / c under every convention);
    ``error="unceiled"`` keeps the raw error, as Brain-Score does."""
    return ceil_score(score, Score(ceiling, 0.0, "none", "ost_ceiling"), mode="r", error=error)
