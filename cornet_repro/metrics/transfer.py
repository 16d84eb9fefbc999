"""CIFAR-100 transfer (paper §3.4, after Kornblith et al. 2019): a linear readout on frozen features.

Multinomial logistic regression (scikit-learn, L-BFGS); C searched over 10 log-spaced values in
[0.0005, 0.05] on a 40,000 / 10,000 split of the training set; the best C is refit on the whole
training set (Kornblith et al.'s protocol) and scored by accuracy on the test set. Sizes are
parameters, so the function runs on small synthetic data in tests. The data set itself is read by
:func:`cornet_repro.data.cifar100.load_cifar100`.
"""

from __future__ import annotations

import numpy as np

from .score import Score

__all__ = ["C_GRID", "linear_transfer"]

#: the paper's search range
C_GRID = np.logspace(np.log10(0.0005), np.log10(0.05), 10)


def linear_transfer(
    train_features: np.ndarray, train_labels: np.ndarray,
    test_features: np.ndarray, test_labels: np.ndarray, *,
    C_grid: np.ndarray = C_GRID, n_search_train: int | None = 40_000,
    refit: bool = True, max_iter: int = 1000, random_state: int = 0, standardize: bool = True,
) -> Score:
    """Test accuracy of a logistic readout with C chosen on a held-out part of the training set.

    The first ``n_search_train`` training rows (after a seeded shuffle) fit each C, the rest
    validate it; ``None`` uses 80 %. With ``refit`` the best C is refit on all training rows.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(train_features, dtype=np.float64)
    y = np.asarray(train_labels)
    Xt = np.asarray(test_features, dtype=np.float64)
    yt = np.asarray(test_labels)
    if X.ndim != 2 or Xt.ndim != 2 or X.shape[1] != Xt.shape[1]:
        raise ValueError(f"features must be 2-D with equal widths; got train {X.shape}, test {Xt.shape}")
    if len(X) != len(y) or len(Xt) != len(yt):
        raise ValueError("features and labels differ in length")
    n_fit = int(0.8 * len(X)) if n_search_train is None else int(n_search_train)
    if not 0 < n_fit < len(X):
        raise ValueError(f"n_search_train={n_fit} must lie strictly between 0 and {len(X)} training rows")
    order = np.random.RandomState(random_state).permutation(len(X))
    fit_idx, val_idx = order[:n_fit], order[n_fit:]

    def model(c: float) -> "LogisticRegression":
        return LogisticRegression(C=c, solver="lbfgs", max_iter=max_iter)

    def prep(fit_rows: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
        if not standardize:
            return [fit_rows, *others]
        scaler = StandardScaler().fit(fit_rows)
        return [scaler.transform(a) for a in (fit_rows, *others)]

    Xf, Xv = prep(X[fit_idx], X[val_idx])
    val_acc = []
    for c in C_grid:
        clf = model(float(c)).fit(Xf, y[fit_idx])
        val_acc.append(float((clf.predict(Xv) == y[val_idx]).mean()))
    best = float(C_grid[int(np.argmax(val_acc))])
    if refit:
        Xa, Xt_s = prep(X, Xt)
        clf = model(best).fit(Xa, y)
    else:
        Xf, Xt_s = prep(X[fit_idx], Xt)
        clf = model(best).fit(Xf, y[fit_idx])
    correct = clf.predict(Xt_s) == yt
    acc = float(correct.mean())
    err = float(np.sqrt(acc * (1 - acc) / len(yt)))  # binomial s.e. of the accuracy
    return Score(value=acc, error=err, error_kind="binomial_se", metric="cifar100_transfer",
                 details={"best_C": best, "validation_accuracy": dict(zip(map(float, C_grid), val_acc)),
                          "n_train": len(X), "n_search_train": n_fit, "n_test": len(yt)})
