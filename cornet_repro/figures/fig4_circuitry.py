"""Fig. 4: how ImageNet top-1 and Brain-Score change per circuitry variant (published, transcribed)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .style import CIRCUIT_MAGENTA, SOURCE_STYLE, paper_style

DELTAS = (("delta_imagenet_top1_pct", "Δ ImageNet top-1, %"), ("delta_brain_score_pct", "Δ Brain-Score, %"))


def circuitry_table(published: pd.DataFrame, recomputed: pd.DataFrame | None = None) -> pd.DataFrame:
    """The Fig. 4 table: published deltas, and recomputed ones beside them when given.

    ``recomputed`` has columns ``group``, ``variant``, the two delta columns in percent, optional
    ``*_sd`` spreads over seeds and a ``source`` column; it is matched on (group, variant).
    """
    table = published[["group_no", "group", "variant", "is_default", *[c for c, _ in DELTAS]]].copy()
    if recomputed is not None and not recomputed.empty:
        extra = recomputed.set_index(["group", "variant"]).add_prefix("recomputed_")
        table = table.join(extra, on=["group", "variant"])
    return table


def format_circuitry_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as the paper prints it: the default row per group marked, deltas as signed integers."""
    def signed(v):
        return "–" if pd.isna(v) else f"{v:+.0f}" if v != 0 else "0"

    out = pd.DataFrame({
        "group": table["group"],
        "variant": np.where(table["is_default"], table["variant"] + " (CORnet-S)", table["variant"]),
        "Δ ImageNet top-1, % (published)": table["delta_imagenet_top1_pct"].map(signed),
        "Δ Brain-Score, % (published)": table["delta_brain_score_pct"].map(signed),
    })
    for column, label in DELTAS:
        if f"recomputed_{column}" in table:
            values = table[f"recomputed_{column}"].map(lambda v: "–" if pd.isna(v) else f"{v:+.1f}")
            sd = table.get(f"recomputed_{column}_sd")
            if sd is not None:
                values = values + sd.map(lambda v: "" if pd.isna(v) else f" ± {v:.1f}")
            out[f"{label} (recomputed)"] = values
    for column, label in (("top1", "top-1 (recomputed)"), ("brain_score", "Brain-Score (recomputed)")):
        if f"recomputed_{column}" in table:  # the absolute values behind the deltas
            out[label] = table[f"recomputed_{column}"].map(lambda v: "–" if pd.isna(v) else f"{v:.3f}")
    return out


def agreement(table: pd.DataFrame) -> pd.DataFrame:
    """How the recomputed deltas compare with the published ones, over the non-default variants.

    Per measure: ``n`` variants with both a recomputed and a non-zero published delta, how many
    have the same sign (``same_sign``), and the Spearman r (and p) between the two sets of deltas.
    Variants published as 0 have no sign to agree with and are left out of the sign count.
    """
    from scipy.stats import spearmanr

    rows = []
    for column, label in (("delta_imagenet_top1_pct", "top-1"), ("delta_brain_score_pct", "Brain-Score")):
        recomputed = f"recomputed_{column}"
        if recomputed not in table:
            continue
        both = table[~table["is_default"].astype(bool)].dropna(subset=[column, recomputed])
        signed = both[both[column] != 0]
        r, p = spearmanr(both[column], both[recomputed]) if len(both) > 2 else (np.nan, np.nan)
        rows.append({"measure": label, "n": len(signed),
                     "same_sign": int((np.sign(signed[column]) == np.sign(signed[recomputed])).sum()),
                     "spearman_r": float(r), "p": float(p), "n_correlated": len(both)})
    return pd.DataFrame(rows, columns=["measure", "n", "same_sign", "spearman_r", "p", "n_correlated"])


def plot_fig4(table: pd.DataFrame) -> plt.Figure:
    """Dot plot of the deltas per variant, grouped as in the paper; default rows in bold."""
    rows = table.reset_index(drop=True)
    y = np.arange(len(rows))[::-1]
    has_recomputed = "recomputed_delta_imagenet_top1_pct" in rows
    # Recomputed deltas get their own panels: on small simulated presets they can be far larger
    # than the published ±8%, and a shared axis would flatten the published values.
    panels = [(column, f"{label}\n(published)", False) for column, label in DELTAS]
    if has_recomputed:
        sources = rows["recomputed_source"].dropna() if "recomputed_source" in rows else pd.Series([], dtype=str)
        source = sources.iloc[0] if len(sources) else "simulated"
        panels += [(f"recomputed_{column}", f"{label}\n(recomputed, {source})", True) for column, label in DELTAS]
    defaults = rows["is_default"].to_numpy(bool)
    with paper_style():
        fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 0.28 * len(rows) + 1.4), sharey=True)
        for ax, (column, label, recomputed) in zip(axes, panels):
            ax.axvline(0, color="0.7", lw=0.8)
            if recomputed:
                style = dict(SOURCE_STYLE[source], zorder=4)
                ax.errorbar(rows[column], y, xerr=rows.get(f"{column}_sd"), fmt="none", ecolor="0.3", lw=0.8)
                ax.scatter(rows[column], y, label=f"recomputed here ({source}; ± s.d. over seeds)", **style)
            else:
                ax.scatter(rows[column], y, color=CIRCUIT_MAGENTA, s=30, zorder=3, label="published (transcribed)")
                ax.scatter(np.zeros(defaults.sum()), y[defaults], s=30, facecolor="white",
                           edgecolor=CIRCUIT_MAGENTA, zorder=3, label="CORnet-S baseline")
            ax.set_xlabel(label)
            ax.spines["left"].set_visible(False)
            ax.tick_params(axis="y", length=0)
        labels = [f"{g}: {v}" for g, v in zip(rows["group"], rows["variant"])]
        axes[0].set_yticks(y, labels, fontsize=8)
        for tick, default in zip(axes[0].get_yticklabels(), rows["is_default"]):
            if default:
                tick.set_fontweight("bold")
        for boundary in np.flatnonzero(rows["group_no"].diff().fillna(0).to_numpy() != 0):
            for ax in axes:
                ax.axhline(y[boundary] + 0.5, color="0.85", lw=0.6)
        # one legend under the panels: inside them it covered the bottom rows' points
        handles = {label: handle for ax in axes for handle, label in zip(*ax.get_legend_handles_labels())}
        fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=len(handles), fontsize=8)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def recomputed_summary(recomputed: pd.DataFrame, table: pd.DataFrame) -> str:
    """One paragraph for the page: the recomputed baseline against chance, and the agreement with
    the published deltas (``recomputed``: :func:`cornet_repro.results.circuitry_deltas`;
    ``table``: :func:`circuitry_table` with it joined)."""
    r = recomputed.iloc[0]
    top1 = "ImageNet top-1" if r.top1_measure == "imagenet_top1" else "top-1 on the simulated validation set"

    def sd(v):
        return "" if pd.isna(v) else f" ± {v:.3f}"

    chance = "" if pd.isna(r.chance_top1) else f" (chance {r.chance_top1:.3f})"
    text = (f"The recomputed baseline, CORnet-S at preset {r.preset} ({r.source} data), has {top1} "
            f"{r.baseline_top1:.3f}{sd(r.baseline_top1_sd)}{chance} and Brain-Score without OST "
            f"{r.baseline_brain_score:.3f}{sd(r.baseline_brain_score_sd)} (mean ± s.d. over seeds).")
    for a in agreement(table).itertuples():
        text += (f" Δ {a.measure}: {a.same_sign} of {a.n} recomputed deltas have the published sign "
                 f"(Spearman r = {a.spearman_r:+.2f} over {a.n_correlated} variants).")
    return text
