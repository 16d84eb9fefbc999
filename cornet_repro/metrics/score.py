"""The one result type every metric returns: a center, its error, and what it was computed from."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import xarray as xr

__all__ = ["Score", "ceil_score", "sem", "mean_over_splits"]


def sem(values: np.ndarray) -> float:
    """Standard error of the mean over splits as Brain-Score computes it: the population std (ddof=0)
    of the finite values, divided by √ of the number of *all* splits (xarray's NaN-skipping
    ``std('split')`` over ``sqrt(len(split))``)."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    return float(np.std(finite) / math.sqrt(len(values))) if finite.size else float("nan")


def mean_over_splits(values: np.ndarray) -> float:
    """Mean over splits, skipping NaN splits as Brain-Score's ``mean('split')`` does (NaN if all are)."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


@dataclass(frozen=True)
class Score:
    """A metric's result.

    ``value`` is the center (e.g. mean over cross-validation splits), ``error`` its spread
    (``error_kind`` says which: ``"sem"`` over splits, ``"std"`` over split halves, or ``"none"``).
    ``raw`` keeps the values the center was aggregated from (per split, per neuroid, ...).
    A ceiled score keeps its ``unceiled`` score and the ``ceiling`` it was divided by.
    """

    value: float
    error: float = float("nan")
    error_kind: str = "sem"
    metric: str = ""
    raw: xr.DataArray | None = field(default=None, repr=False, compare=False)
    ceiling: "Score | None" = field(default=None, repr=False, compare=False)
    unceiled: "Score | None" = field(default=None, repr=False, compare=False)
    details: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __float__(self) -> float:
        return float(self.value)

    def __format__(self, spec: str) -> str:
        spec = spec or ".3f"
        return f"{format(self.value, spec)} ± {format(self.error, spec)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no raw arrays)."""
        out: dict[str, Any] = {"metric": self.metric, "value": float(self.value),
                               "error": float(self.error), "error_kind": self.error_kind}
        if self.ceiling is not None:
            out["ceiling"] = self.ceiling.to_dict()
        if self.unceiled is not None:
            out["unceiled"] = self.unceiled.to_dict()
        for key, value in self.details.items():
            if isinstance(value, (int, float, str, bool)) or value is None:
                out[key] = value
        return out

    def with_details(self, **details: Any) -> "Score":
        return replace(self, details={**self.details, **details})


def median_over_neuroids(per_neuroid: np.ndarray, neuroid_ids: np.ndarray, metric: str, **details: Any) -> Score:
    """Brain-Score's aggregation of a split × neuroid array: median over neuroids per split (NaN
    neuroids skipped), then mean ± s.e.m. over splits (NaN splits skipped; see :func:`sem`).
    The per-neuroid values are kept as ``raw``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN split: its median is NaN, skipped below
        per_split = np.nanmedian(per_neuroid, axis=1)
    raw = xr.DataArray(per_neuroid, dims=["split", "neuroid"],
                       coords={"split": np.arange(per_neuroid.shape[0]),
                               "neuroid_id": ("neuroid", np.asarray(neuroid_ids))})
    return Score(value=mean_over_splits(per_split), error=sem(per_split), error_kind="sem", metric=metric, raw=raw,
                 details={"n_splits": per_neuroid.shape[0], "nan_splits": int((~np.isfinite(per_split)).sum()),
                          **details, "per_split": per_split.tolist()})


def ceil_score(score: Score, ceiling: Score, mode: Literal["r", "r2"] = "r",
               error: Literal["scaled", "unceiled"] = "scaled") -> Score:
    """Normalize by a ceiling.

    ``mode="r"``: ``value / ceiling`` (Brain-Score 2019, used in the paper);
    ``mode="r2"``: ``value**2 / ceiling`` (Brain-Score 2.4.x's ``explained_variance``: the ceiling is a
    split-half reliability, which bounds explained variance rather than r).
    ``error="scaled"``: the error is scaled by the same factor (r) or propagated to first order (r2);
    ``error="unceiled"``: the raw error is kept unchanged, as Brain-Score does.
    (:class:`cornet_repro.protocol.Conventions` names the two combinations in use.)
    """
    c = float(ceiling.value)
    if not np.isfinite(c) or c <= 0:
        raise ValueError(f"cannot ceil by a non-positive or non-finite ceiling ({c})")
    if mode == "r":
        value, scaled = score.value / c, score.error / c
    elif mode == "r2":
        value, scaled = score.value ** 2 / c, 2 * abs(score.value) * score.error / c
    else:
        raise ValueError(f"mode must be 'r' or 'r2', got {mode!r}")
    if error not in ("scaled", "unceiled"):
        raise ValueError(f"error must be 'scaled' or 'unceiled', got {error!r}")
    return Score(value=float(value), error=float(scaled if error == "scaled" else score.error),
                 error_kind=score.error_kind, metric=f"{score.metric} (ceiled, {mode})", raw=score.raw,
                 ceiling=ceiling, unceiled=score,
                 details={**score.details, "ceiling_mode": mode, "ceiled_error": error})
