"""Shared helpers of the metrics: vectorized correlations, splits, alignment."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import xarray as xr
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from ..assemblies import AssemblyError


def pearson_columns(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r between matching columns of ``x`` and ``y`` (n × k each); NaN for constant columns."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x, y = x[:, None], y[:, None]
    xm = x - x.mean(axis=0)
    ym = y - y.mean(axis=0)
    num = np.einsum("ij,ij->j", xm, ym)
    den = np.sqrt(np.einsum("ij,ij->j", xm, xm) * np.einsum("ij,ij->j", ym, ym))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / den
    # scipy's pearsonr (Brain-Score's) calls a column constant when all its values are equal, and
    # returns NaN; centering alone leaves rounding residue there and a meaningless r
    constant = np.all(x == x[:1], axis=0) | np.all(y == y[:1], axis=0)
    r = np.where(constant, np.nan, r)
    # pearsonr clips to [-1, 1] as well (rounding can push |r| a hair above 1)
    return np.clip(r, -1.0, 1.0)


def cv_splits(n: int, *, n_splits: int, train_size: float | None = None, test_size: float | None = None,
              stratify: np.ndarray | None = None, random_state: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """Brain-Score's splits: (Stratified)ShuffleSplit over ``n`` items in their given order."""
    if train_size is None and test_size is None:
        train_size = 0.9
    if stratify is not None:
        splitter = StratifiedShuffleSplit(n_splits=n_splits, train_size=train_size, test_size=test_size,
                                          random_state=random_state)
        return list(splitter.split(np.zeros(n), stratify))
    splitter = ShuffleSplit(n_splits=n_splits, train_size=train_size, test_size=test_size,
                            random_state=random_state)
    return list(splitter.split(np.zeros(n)))


def align_to(source: xr.DataArray, target_ids: np.ndarray, what: str = "source") -> xr.DataArray:
    """Reorder ``source`` presentations to ``target_ids`` (by ``stimulus_id``; first match per id)."""
    ids = np.asarray(source["stimulus_id"].values)
    order = {}
    for i, sid in enumerate(ids):
        order.setdefault(sid, i)
    missing = [t for t in target_ids if t not in order]
    if missing:
        raise AssemblyError(
            f"{what} lacks {len(missing)} of the {len(target_ids)} stimuli of the target "
            f"(first missing stimulus_id: {missing[0]!r}); compute it on the target's stimulus set")
    return source.isel(presentation=[order[t] for t in target_ids])


def iter_chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))
