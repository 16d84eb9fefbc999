"""Fig. 5: object solution times of CORnet-S IT vs monkey IT (published bins, digitized)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from ..results import read_result, read_results
from .interactive import record_meta
from .style import CIRCUIT_MAGENTA, SOURCE_STYLE, paper_style

PUBLISHED_R_TEXT = "r = .25 (p < 1e-6)"


def read_ost_pairs(results_dir: str | os.PathLike, *, model_name: str = "cornet_s") -> pd.DataFrame | None:
    """Per-image OSTs of the newest ``model_name`` result with OST pairs (None if there is none).

    Columns: ``stimulus_id``, ``model_ost_ms``, ``monkey_ost_ms`` (NaN where the model or the
    monkey has no OST), plus ``model``, ``preset``, ``source``, ``seed``, ``path``.
    """
    results_dir = Path(results_dir)
    table = read_results(results_dir)
    for _, row in table[table["model_name"] == model_name].iloc[::-1].iterrows():
        pairs = read_result(row["path"]).get("ost_pairs")
        if pairs:
            frame = pd.DataFrame(pairs).astype({"model_ost_ms": float, "monkey_ost_ms": float})
            return frame.assign(model=row["model"], preset=row["preset"], source=row["source"], seed=row["seed"],
                                path=row["path"])
    return None


def load_ost_results(results_dir: str | os.PathLike | None) -> pd.DataFrame | None:
    """Per-image OSTs (``model_ost_ms``, ``monkey_ost_ms``) of the CORnet-S result in ``results_dir``."""
    if results_dir is None or str(results_dir) == "":
        return None
    return read_ost_pairs(results_dir)


def bin_osts(model_ost: np.ndarray, monkey_ost: np.ndarray, n_bins: int = 5) -> pd.DataFrame:
    """Bin per-image OSTs by the model's OST (equal-width bins) → monkey OST mean ± s.e.m. per bin.

    This is how the paper visualizes the per-image data; ``r`` is computed on the raw pairs.
    """
    model_ost = np.asarray(model_ost, float)
    monkey_ost = np.asarray(monkey_ost, float)
    keep = ~(np.isnan(model_ost) | np.isnan(monkey_ost))
    model_ost, monkey_ost = model_ost[keep], monkey_ost[keep]
    if len(model_ost) < n_bins:
        raise ValueError(f"need at least n_bins={n_bins} images with both OSTs, got {len(model_ost)}")
    edges = np.linspace(model_ost.min(), model_ost.max(), n_bins + 1)
    which = np.clip(np.digitize(model_ost, edges[1:-1]), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        sel = monkey_ost[which == b]
        rows.append(dict(model_ost_bin_right_edge_ms=edges[b + 1], n_images=len(sel),
                         monkey_ost_mean_ms=sel.mean() if len(sel) else np.nan,
                         monkey_ost_sem_ms=stats.sem(sel) if len(sel) > 1 else np.nan))
    return pd.DataFrame(rows)


def computed_overlay(computed: pd.DataFrame | None, n_bins: int = 5) -> tuple[pd.DataFrame | None, str]:
    """Bins of locally computed per-image OSTs (:func:`cornet_repro.results.read_ost_pairs`) and the
    caption sentence that says what they are: source, preset, seed, images with both OSTs, and the
    per-image Spearman r. ``(None, sentence)`` when there are too few images for ``n_bins`` bins."""
    if computed is None:
        return None, ""
    both = computed.dropna(subset=["model_ost_ms", "monkey_ost_ms"])
    first = computed.iloc[0]
    what = f"CORnet-S (preset {first.preset}, seed {first.seed}) vs the {first.source} monkey"
    if len(both) < max(n_bins, 3):
        return None, (f" Computed here, {what}: only {len(both)} of {len(computed)} images have both a model and "
                      f"a monkey OST, too few for {n_bins} bins, so none are drawn.")
    r, p = stats.spearmanr(both.model_ost_ms, both.monkey_ost_ms)
    kind = "not a reproduction" if first.source == "simulated" else "real data"
    return bin_osts(both.model_ost_ms, both.monkey_ost_ms, n_bins), (
        f" Overlaid, computed here: {what}, {len(both)} of {len(computed)} images with both OSTs (each image's "
        f"OST from the metric's held-out splits), per-image Spearman r = {r:.2f} (p = {p:.2g}); "
        f"{first.source} data, {kind}.")


def plot_fig5(published_bins: pd.DataFrame, computed_bins: pd.DataFrame | None = None,
              computed_label: str = "computed here (simulated)",
              computed_source: str = "simulated") -> plt.Figure:
    """Published bins with s.e.m. and the paper's dashed trend; computed bins overlaid when given."""
    x = published_bins["model_ost_bin_right_edge_ms"].to_numpy()
    y = published_bins["monkey_ost_mean_ms"].to_numpy()
    fit = stats.linregress(x, y)
    with paper_style():
        fig, ax = plt.subplots(figsize=(5.2, 4))
        ax.errorbar(x, y, yerr=published_bins["monkey_ost_sem_ms"], fmt="o", color="0.5", ms=8, lw=0.8,
                    label="published bins (digitized)")
        xs = np.array([x.min(), x.max()])
        ax.plot(xs, fit.intercept + fit.slope * xs, ls="--", lw=3, color=CIRCUIT_MAGENTA,
                label="least-squares line through the bins")
        ax.text(0.05, 0.97, PUBLISHED_R_TEXT + "\n(published, per image)", transform=ax.transAxes, fontsize=10,
                va="top")
        if computed_bins is not None and not computed_bins.empty:
            style = {k: v for k, v in SOURCE_STYLE[computed_source].items() if k not in ("s",)}
            ax.errorbar(computed_bins["model_ost_bin_right_edge_ms"], computed_bins["monkey_ost_mean_ms"],
                        yerr=computed_bins["monkey_ost_sem_ms"], fmt="none", ecolor="0.3", lw=0.8)
            ax.scatter(computed_bins["model_ost_bin_right_edge_ms"], computed_bins["monkey_ost_mean_ms"],
                       label=computed_label, s=60, **style)
        ax.set_xlabel(r"$IT_{COR}$ object solution times (ms)", fontweight="normal")
        ax.set_ylabel(r"$IT_{monkey}$ object solution times (ms)", fontweight="normal")
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        record_meta(fig)
    return fig
