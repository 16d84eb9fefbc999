"""Correlations as the paper reports them (r, p, n), plus the bootstrap CI the paper does not print."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class Correlation:
    """A correlation over models with its p-value, sample size and bootstrap confidence interval."""

    r: float
    p: float
    n: int
    ci_low: float
    ci_high: float
    confidence: float
    method: str

    def describe(self) -> str:
        """Paper-style text, e.g. ``r = .90 [.87, .92], p < .001, n = 172``."""
        pct = round(self.confidence * 100)
        return (f"r = {fmt_r(self.r)} ({pct}% CI [{fmt_r(self.ci_low)}, {fmt_r(self.ci_high)}]), "
                f"{fmt_p(self.p)}, n = {self.n}")


    def ci_and_p_disagree(self, alpha: float = 0.05) -> bool:
        """Whether the bootstrap CI and the p-value answer "is r ≠ 0?" differently."""
        ci_excludes_zero = self.ci_low > 0 or self.ci_high < 0
        return ci_excludes_zero != (self.p < alpha)

    def ci_vs_p(self, alpha: float = 0.05) -> str:
        """A sentence for readers when the CI and p disagree about r = 0 (empty when they agree)."""
        if not self.ci_and_p_disagree(alpha):
            return ""
        pct = round(self.confidence * 100)
        if self.ci_low > 0 or self.ci_high < 0:
            verdict = f"its {pct}% bootstrap CI excludes 0 while {fmt_p(self.p)}"
        else:
            verdict = f"{fmt_p(self.p)} while its {pct}% bootstrap CI includes 0"
        return (f"With n = {self.n}, {verdict}: the two answer the question differently. The p-value is the "
                "t-test of r = 0, which assumes normally distributed scores; the CI resamples the models "
                "(BCa), and with this few models both are approximate. Near the boundary, read the "
                "correlation as weak evidence either way.")


def fmt_r(value: float, digits: int = 2) -> str:
    """Format a correlation without the leading zero, as the paper does (.90, -.07)."""
    text = f"{value:.{digits}f}"
    return text.replace("0.", ".", 1) if abs(value) < 1 else text


def fmt_p(p: float) -> str:
    """Format a p-value: ``p < .001`` below a thousandth, otherwise three decimals."""
    return "p < .001" if p < 0.001 else f"p = {fmt_r(p, 3)}"


def correlate(x, y, *, method: str = "pearson", n_resamples: int = 10_000,
              confidence: float = 0.95, seed: int = 0) -> Correlation:
    """Correlate two paired samples over models and bootstrap a CI by resampling models.

    Parameters
    ----------
    x, y : array-like of equal length; pairs with a NaN in either are dropped.
    method : ``"pearson"`` (the paper's figures) or ``"spearman"``.
    n_resamples, confidence, seed : the bootstrap (BCa, paired resampling of models).
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman', got {method!r}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-d and of equal length, got shapes {x.shape} and {y.shape}")
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 4:
        raise ValueError(f"need at least 4 complete pairs to correlate, got {len(x)}")
    if method == "pearson":
        result = stats.pearsonr(x, y)

        def statistic(a, b, axis=-1):
            return stats.pearsonr(a, b, axis=axis).statistic
    else:
        result = stats.spearmanr(x, y)

        def statistic(a, b):
            return stats.spearmanr(a, b).statistic
    # With few models some resamples are constant; their r is undefined and the CI may be NaN.
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        boot = stats.bootstrap((x, y), statistic, paired=True, vectorized=method == "pearson",
                               n_resamples=n_resamples, confidence_level=confidence,
                               method="BCa", random_state=np.random.default_rng(seed))
    low, high = boot.confidence_interval
    return Correlation(float(result.statistic), float(result.pvalue), int(len(x)),
                       float(low), float(high), confidence, method)


def correlate_columns(df: pd.DataFrame, x: str, y: str, **kwargs) -> Correlation:
    """:func:`correlate` on two columns of a table (rows with a NaN in either are dropped)."""
    for column in (x, y):
        if column not in df.columns:
            raise KeyError(f"column {column!r} not in table; available: {list(df.columns)}")
    return correlate(df[x].to_numpy(float), df[y].to_numpy(float), **kwargs)


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of ``values`` (e.g. one delta per seed): (mean, low, high).

    With one value the interval is (nan, nan): a single seed says nothing about seed-to-seed spread.
    """
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return mean, mean - half, mean + half
