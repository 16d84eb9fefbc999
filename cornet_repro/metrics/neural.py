"""Neural predictivity (paper §3.1): cross-validated PLS regression from model features to neurons.

Brain-Score's procedure, reproduced: ``PLSRegression(n_components=25, scale=False)``; 10 splits of
``StratifiedShuffleSplit(train_size=0.9, random_state=1)`` over the target's presentations, stratified
on ``object_name``; Pearson r per neuroid on the held-out images; median over neuroids per split;
mean over splits, error = s.e.m. over splits (Brain-Score's: population std / sqrt(n_splits)).

The regression is our own kernel form of scikit-learn's NIPALS PLS2 (:class:`KernelPLSRegression`),
exactly equivalent to ``sklearn.cross_decomposition.PLSRegression(scale=False)`` (same power-method
iterations, same convergence test, same deflation) but computed from the n × n Gram matrix of the
images instead of the n × p feature matrix, and with the power method run in the q-dimensional
target space. With n = 2,560 images, p = 25,088 features and q = 168 sites, one Gram matrix serves all
10 splits. Measured (``benchmarks/bench_metrics.py``, 2 shared CPU cores, two runs): 7.6–9.2 s vs
1,133–1,267 s for brainscore-vision 2.4.2's sklearn PLS (123–166× faster), peak RSS 978 vs 1,905 MB,
per-split medians equal to 1.5e-10.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import xarray as xr

from ..assemblies import AssemblyError, validate_model, validate_neural
from ._util import align_to, cv_splits, iter_chunks, pearson_columns
from .score import Score, median_over_neuroids

__all__ = ["KernelPLSRegression", "gram_matrix", "neural_predictivity", "cross_validated_correlations"]

_EPS = np.finfo(np.float64).eps


def gram_matrix(X: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """``Xg Xgᵀ`` in float64, with ``Xg = X − mean(X)``, accumulated over feature chunks.

    Centering on the global mean first keeps the later per-split re-centering numerically benign
    (ReLU features have means much larger than their spread); chunking bounds the float64 copy.
    """
    X = np.asarray(X)
    n, p = X.shape
    mean = X.mean(axis=0, dtype=np.float64)
    K = np.zeros((n, n))
    for cols in iter_chunks(p, chunk):
        block = X[:, cols].astype(np.float64) - mean[cols]
        K += block @ block.T
    return K


def _apply_projections(v: np.ndarray, T: np.ndarray, tt: np.ndarray, order: range) -> np.ndarray:
    """Apply P_j = I − t_j t_jᵀ / (t_j·t_j) for j in ``order`` (leftmost applied last)."""
    v = v.copy()
    for j in order:
        v -= np.outer(T[:, j], T[:, j] @ v / tt[j]) if v.ndim == 2 else T[:, j] * (T[:, j] @ v / tt[j])
    return v


def kernel_pls_dual(K: np.ndarray, Y: np.ndarray, n_components: int = 25,
                    max_iter: int = 500, tol: float = 1e-6) -> np.ndarray:
    """Dual coefficients ``B`` (n × q) of PLS2 such that predictions are ``K*_c @ B + mean(Y)``.

    ``K`` is the centered training Gram matrix ``Xc Xcᵀ`` and ``Y`` the centered targets.
    Mirrors scikit-learn's NIPALS (mode A, regression deflation, ``norm_y_weights=False``):

    * x-weights ``w = Xkᵀ a`` are never formed; all their inner products are ``aᵀ Kk a'``;
    * the y-score ``u = Yk β`` is a combination of the residual's columns, and ``G = Kk Yk`` is kept
      up to date, so each power-method iteration costs three n × q matrix–vector products (sklearn's
      costs two n × p ones); the convergence test ``‖w − w_old‖²`` is ``(a − a_old)·(t − t_old)``;
    * deflation ``X_{k+1} = P_k X_k`` with ``P_k = I − t tᵀ/tᵀt`` updates ``G = Kk Yk`` by rank-one
      terms and one matrix–vector product with ``K``.
    The sign flip sklearn applies to each component is omitted: it changes no prediction.
    """
    n, q = Y.shape
    if n_components > n:
        raise ValueError(f"n_components={n_components} exceeds the number of training samples ({n})")
    Yk = np.array(Y, dtype=np.float64, copy=True)
    G = K @ Yk
    T = np.zeros((n, n_components))
    A = np.zeros((n, n_components))
    Q = np.zeros((q, n_components))
    tts = np.zeros(n_components)
    n_found = 0
    for k in range(n_components):
        tiny = np.all(np.abs(Yk) < 10 * _EPS, axis=0)
        Yk[:, tiny] = 0.0
        G[:, tiny] = 0.0
        nonzero = np.flatnonzero(np.any(np.abs(Yk) > _EPS, axis=0))
        if len(nonzero) == 0:
            warnings.warn(f"y residual is constant at iteration {k}")
            break
        beta = np.zeros(q)
        beta[nonzero[0]] = 1.0  # sklearn starts from the first non-zero column of Yk
        a_prev = t_prev = None
        for i in range(max_iter):
            u = Yk @ beta  # y-score
            g = G @ beta  # = Kk u
            uu = u @ u
            w_norm = np.sqrt(max(u @ g, 0.0)) / uu  # ||Xkᵀ u|| / (u·u)
            alpha = 1.0 / uu / (w_norm + _EPS)  # a = alpha·u, w = Xkᵀ a (normalized)
            a = alpha * u
            t = alpha * g  # x-score Xk w = Kk a
            t_t = t @ t
            c = Yk.T @ t / t_t  # y-weights
            converged = q == 1
            if a_prev is not None:
                # ||w − w_old||² = (a − a_old)ᵀ Kk (a − a_old) = (a − a_old)·(t − t_old)
                converged = converged or (a - a_prev) @ (t - t_prev) < tol
            if converged or i == max_iter - 1:
                break
            a_prev, t_prev = a, t
            beta = c / (c @ c + _EPS)  # new y-score u = Yk c / (c·c + eps)
        if i == max_iter - 1:
            warnings.warn("Maximum number of iterations reached")
        # Kk t, with Kk = P_{k-1}…P_1 K P_1…P_{k-1}
        Kt = _apply_projections(K @ _apply_projections(t, T, tts, range(k - 1, -1, -1)), T, tts, range(k))
        G = G - np.outer(Kt, c)
        G -= np.outer(t, t @ G / t_t)  # G ← P_k (Kk Y_{k+1}) = K_{k+1} Y_{k+1}
        Yk -= np.outer(t, c)
        T[:, k], A[:, k], Q[:, k], tts[k] = t, a, c, t_t
        n_found = k + 1
    T, A, Q, tts = T[:, :n_found], A[:, :n_found], Q[:, :n_found], tts[:n_found]
    # back to the undeflated Gram: w_k = Xcᵀ P_1…P_{k-1} a_k, p_k = Xcᵀ P_1…P_{k-1} t_k / t_k·t_k
    A_tilde = np.empty_like(A)
    T_tilde = np.empty_like(T)
    for k in range(n_found):
        A_tilde[:, k] = _apply_projections(A[:, k], T, tts, range(k - 1, -1, -1))
        T_tilde[:, k] = _apply_projections(T[:, k], T, tts, range(k - 1, -1, -1)) / tts[k]
    PtW = T_tilde.T @ (K @ A_tilde)  # x_loadingsᵀ x_weights
    return A_tilde @ np.linalg.pinv(PtW) @ Q.T


class KernelPLSRegression:
    """Drop-in for ``sklearn.cross_decomposition.PLSRegression(scale=False)`` (fit / predict).

    Equal predictions (to rounding) because it runs the same NIPALS iterations in kernel form
    (:func:`kernel_pls_dual`); faster when n_samples ≪ n_features.
    """

    def __init__(self, n_components: int = 25, max_iter: int = 500, tol: float = 1e-6):
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "KernelPLSRegression":
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        self._1d = Y.ndim == 1
        Y = Y.reshape(len(Y), -1)
        if X.ndim != 2 or len(X) != len(Y):
            raise ValueError(f"X must be 2-D with as many rows as Y; got X {X.shape}, Y {Y.shape}")
        if self.n_components > min(X.shape):
            raise ValueError(f"`n_components` upper bound is {min(X.shape)}. Got {self.n_components} instead.")
        self.x_mean_ = X.mean(axis=0)
        self.y_mean_ = Y.mean(axis=0)
        Xc = X - self.x_mean_
        B = kernel_pls_dual(Xc @ Xc.T, Y - self.y_mean_, self.n_components, self.max_iter, self.tol)
        self.coef_ = (Xc.T @ B).T  # (q, p), as sklearn's coef_
        self.intercept_ = self.y_mean_
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        pred = (np.asarray(X, dtype=np.float64) - self.x_mean_) @ self.coef_.T + self.intercept_
        return pred.ravel() if self._1d else pred


def _split_gram(K: np.ndarray, train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training-centered train/train and test/train Gram blocks from an uncentered Gram matrix."""
    K_tr = K[np.ix_(train, train)]
    row = K_tr.mean(axis=1)
    mu = row.mean()
    K_tr_c = K_tr - row[:, None] - row[None, :] + mu
    K_te = K[np.ix_(test, train)]
    K_te_c = K_te - K_te.mean(axis=1)[:, None] - row[None, :] + mu
    return K_tr_c, K_te_c


def split_correlations(K: np.ndarray, Y: np.ndarray, train: np.ndarray, test: np.ndarray,
                       n_components: int = 25) -> np.ndarray:
    """Pearson r per target column on ``test`` after fitting PLS on ``train``, from the
    (uncentered) Gram matrix ``K`` of all rows (see :func:`gram_matrix`)."""
    K_tr, K_te = _split_gram(K, train, test)
    y_mean = Y[train].mean(axis=0)
    B = kernel_pls_dual(K_tr, Y[train] - y_mean, n_components)
    return pearson_columns(K_te @ B + y_mean, Y[test])


def cross_validated_correlations(
    X: np.ndarray, Y: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]], *,
    n_components: int = 25, regression: Literal["kernel", "sklearn"] = "kernel",
) -> np.ndarray:
    """Pearson r per target column on each split's held-out rows: array (n_splits, q)."""
    Y = np.asarray(Y, dtype=np.float64)
    out = np.empty((len(splits), Y.shape[1]))
    if regression == "kernel":
        K = gram_matrix(X)  # one Gram matrix serves every split
        for s, (train, test) in enumerate(splits):
            out[s] = split_correlations(K, Y, train, test, n_components)
    elif regression == "sklearn":
        from sklearn.cross_decomposition import PLSRegression
        X = np.asarray(X)
        for s, (train, test) in enumerate(splits):
            model = PLSRegression(n_components=n_components, scale=False).fit(X[train], Y[train])
            out[s] = pearson_columns(model.predict(X[test]), Y[test])
    else:
        raise ValueError(f"regression must be 'kernel' or 'sklearn', got {regression!r}")
    return out


def _squeeze_time(assembly: xr.DataArray, what: str) -> xr.DataArray:
    if "time_bin" in assembly.dims:
        if assembly.sizes["time_bin"] != 1:
            raise AssemblyError(
                f"{what} has {assembly.sizes['time_bin']} time bins; neural predictivity takes one: "
                f"select a bin (e.g. .isel(time_bin=0)) or average over the window first")
        assembly = assembly.isel(time_bin=0)
    return assembly


def _check_finite_target(target: xr.DataArray) -> None:
    """A NaN in a neuroid breaks the fit far from its cause (an SVD that does not converge): name it here."""
    bad = ~np.isfinite(np.asarray(target.values, dtype=float)).all(axis=0)
    if bad.any():
        ids = np.asarray(target["neuroid_id"].values)[bad]
        where = target.attrs.get("source_file", "the neural target")
        raise AssemblyError(f"{where}: {int(bad.sum())} neuroid(s) hold NaN or infinite responses (first: {str(ids[0])!r}); "
                            "drop them (or fix the file) before scoring")


def neural_predictivity(
    source: xr.DataArray,
    target: xr.DataArray,
    *,
    n_components: int = 25,
    n_splits: int = 10,
    train_size: float = 0.9,
    stratification_coord: str | None = "object_name",
    random_state: int = 1,
    regression: Literal["kernel", "sklearn"] = "kernel",
) -> Score:
    """Cross-validated PLS predictivity of ``target`` neurons from ``source`` features.

    ``source``: model assembly (presentation × neuroid) covering the target's stimuli.
    ``target``: neural assembly (presentation × neuroid), one presentation per stimulus
    (average repetitions first: :func:`cornet_repro.assemblies.average_repetitions`).
    Splits are drawn over the target's presentations in their given order, as Brain-Score does.
    Returns the mean over splits of the median over neuroids of Pearson r (error: s.e.m.).
    """
    target = validate_neural(_squeeze_time(target, "target"), what="target",
                             object_name=stratification_coord == "object_name")
    source = validate_model(_squeeze_time(source, "source"), what="source")
    _check_finite_target(target)
    ids = np.asarray(target["stimulus_id"].values)
    if len(np.unique(ids)) != len(ids):
        raise AssemblyError(
            "target has repeated stimulus_ids: average repetitions first "
            "(cornet_repro.assemblies.average_repetitions)")
    if stratification_coord is not None and stratification_coord not in target.coords:
        raise AssemblyError(f"target has no coord {stratification_coord!r} to stratify splits on")
    source = align_to(source, ids)
    if n_components > int(np.floor(train_size * len(ids))):
        raise ValueError(f"n_components={n_components} exceeds the training-set size")
    labels = np.asarray(target[stratification_coord].values) if stratification_coord else None
    splits = cv_splits(len(ids), n_splits=n_splits, train_size=train_size, stratify=labels,
                       random_state=random_state)
    r = cross_validated_correlations(np.asarray(source.values), np.asarray(target.values), splits,
                                     n_components=n_components, regression=regression)
    return median_over_neuroids(r, target["neuroid_id"].values, "neural_predictivity",
                                n_components=n_components, n_stimuli=len(ids),
                                n_neuroids=int(target.sizes["neuroid"]), n_features=int(source.sizes["neuroid"]))
