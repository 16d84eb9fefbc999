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


def ost_pairs_per_seed(results: pd.DataFrame | None, *, model_name: str = "cornet_s",
                       preset: str | None = None) -> pd.DataFrame | None:
    """Per-image OSTs of every seed of ``model_name`` in ``results`` (a :func:`read_results` table,
    e.g. :func:`cornet_repro.figures.common.combined_results`), one preset (None: the newest).

    Columns: ``seed``, ``stimulus_id``, ``model_ost_ms``, ``monkey_ost_ms`` (NaN where there is no
    OST), ``preset``, ``source``. None when no result of the model has OST pairs.
    """
    if results is None:
        return None
    rows = results[(results["model_name"] == model_name) & results["OST"].notna()]
    if preset is None and not rows.empty:
        preset = rows.sort_values("created", kind="stable")["preset"].iloc[-1]
    frames = []
    for _, row in rows[rows["preset"] == preset].iterrows():
        pairs = read_result(row["path"]).get("ost_pairs")
        if pairs:
            frames.append(pd.DataFrame(pairs).astype({"model_ost_ms": float, "monkey_ost_ms": float})
                          .assign(seed=row["seed"], preset=row["preset"], source=row["source"]))
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True)[["seed", "stimulus_id", "model_ost_ms", "monkey_ost_ms", "preset",
                                                  "source"]]


def ost_correlations(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per seed: ``n_images``, ``n_both`` (images with a model and a monkey OST), the per-image
    Spearman ``r`` over those and its ``p``."""
    rows = []
    for seed, group in pairs.groupby("seed"):
        both = group.dropna(subset=["model_ost_ms", "monkey_ost_ms"])
        r, p = stats.spearmanr(both.model_ost_ms, both.monkey_ost_ms) if len(both) > 2 else (np.nan, np.nan)
        rows.append({"seed": seed, "n_images": len(group), "n_both": len(both), "r": float(r), "p": float(p)})
    return pd.DataFrame(rows, columns=["seed", "n_images", "n_both", "r", "p"])


def ost_summary(pairs: pd.DataFrame) -> str:
    """The caption's sentence on OSTs computed here: r per seed, its mean with a 95% CI over seeds,
    how many images and why."""
    from ..stats import fmt_r, mean_ci

    corr = ost_correlations(pairs)
    first = pairs.iloc[0]
    where = f"CORnet-S (preset {first.preset}, {len(corr)} seed{'s' * (len(corr) > 1)}) vs the {first.source} monkey"
    if corr["r"].isna().all():
        return (f" Computed here, {where}: at most {corr.n_both.max()} of {corr.n_images.iloc[0]} images have both a "
                "model and a monkey OST, too few for a correlation (the model's IT decoder rarely reaches the "
                "monkey's behavioural d′ at this preset), so none is drawn.")
    mean, low, high = mean_ci(corr["r"])
    ci = "" if np.isnan(low) else f" (95% CI over seeds [{fmt_r(low)}, {fmt_r(high)}])"
    kind = "not a reproduction" if first.source == "simulated" else "real data"
    return (f" The panel computed here: {where}, per-image Spearman r = {fmt_r(mean)}{ci}; per seed "
            f"{', '.join(fmt_r(r) for r in corr.r)} over {', '.join(str(n) for n in corr.n_both)} of "
            f"{corr.n_images.iloc[0]} images. An image counts when both the model's IT decoder and the monkey's IT "
            f"reach the monkey's behavioural d′ within 70–250 ms (Kar et al. 2019), so the images where "
            f"either never does drop out. {first.source.capitalize()} data, {kind}.")


def plot_fig5(published_bins: pd.DataFrame, computed: pd.DataFrame | None = None, n_bins: int = 5,
              computed_source: str = "simulated", stacked: bool = False) -> plt.Figure:
    """Left: published bins with s.e.m. and a line through them. Right, when OSTs were computed here
    (``computed``: :func:`ost_pairs_per_seed`): their bins per seed, on their own axes, so neither
    range flattens the other. ``stacked``: the second panel under the first (a phone's column)."""
    x = published_bins["model_ost_bin_right_edge_ms"].to_numpy()
    y = published_bins["monkey_ost_mean_ms"].to_numpy()
    fit = stats.linregress(x, y)
    drawable = computed is not None and (ost_correlations(computed)["n_both"] >= max(n_bins, 3)).any()
    panels = 2 if drawable else 1
    with paper_style():
        if stacked:
            fig, axes = plt.subplots(panels, 1, figsize=(4.4, 3.9 * panels), squeeze=False)
            axes = axes.T  # axes[0, i]: panel i, either way
        else:
            fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels if panels == 1 else 9.0, 4), squeeze=False)
        ax = axes[0, 0]
        ax.errorbar(x, y, yerr=published_bins["monkey_ost_sem_ms"], fmt="o", color="0.5", ms=8, lw=0.8,
                    label="published bins (digitized)")
        xs = np.array([x.min(), x.max()])
        ax.plot(xs, fit.intercept + fit.slope * xs, ls="--", lw=3, color=CIRCUIT_MAGENTA,
                label="least-squares line through the bins")
        ax.text(0.05, 0.97, PUBLISHED_R_TEXT + "\n(published, per image)", transform=ax.transAxes, fontsize=10,
                va="top")
        ax.set_title("Published (paper's Fig. 5)", fontsize=10)
        ax.legend(loc="lower right", fontsize=8)
        if panels == 2:
            ax = axes[0, 1]
            style = {k: v for k, v in SOURCE_STYLE[computed_source].items() if k not in ("s", "zorder")}
            corr = ost_correlations(computed)
            for i, (seed, group) in enumerate(computed.groupby("seed")):
                both = group.dropna(subset=["model_ost_ms", "monkey_ost_ms"])
                if len(both) < n_bins:
                    continue
                bins = bin_osts(both.model_ost_ms, both.monkey_ost_ms, n_bins)
                r = corr.loc[corr.seed == seed, "r"].iloc[0]
                ax.errorbar(bins["model_ost_bin_right_edge_ms"], bins["monkey_ost_mean_ms"],
                            yerr=bins["monkey_ost_sem_ms"], color="0.3", lw=0.8, alpha=0.8)
                ax.scatter(bins["model_ost_bin_right_edge_ms"], bins["monkey_ost_mean_ms"], s=45, zorder=4,
                           label=f"seed {seed}: r = {r:.2f}, {len(both)} images", **{**style, "alpha": 1 - 0.25 * i})
            ax.set_title(f"Computed here ({computed_source}, preset {computed.preset.iloc[0]})", fontsize=10)
            ax.set_xlabel(r"$IT_{COR}$ object solution times (ms)", fontweight="normal")
            if stacked:
                ax.set_ylabel(r"$IT_{monkey}$ object solution times (ms)", fontweight="normal")
            ax.legend(loc="lower right", fontsize=8)
        axes[0, 0].set_xlabel(r"$IT_{COR}$ object solution times (ms)", fontweight="normal")
        axes[0, 0].set_ylabel(r"$IT_{monkey}$ object solution times (ms)", fontweight="normal")
        fig.tight_layout(w_pad=2)
        record_meta(fig)
    return fig
