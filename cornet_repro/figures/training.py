"""Training, read from a sweep: learning curves and whether each run reached a plateau (Fig. 4's
page), and Brain-Score over training (the page after the paper's figures)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..models.config import FIG4_ROWS, fig4_short_label
from ..stats import fmt_r, mean_ci
from .interactive import record_meta
from .style import CIRCUIT_MAGENTA, SOURCE_STYLE, paper_style, strip_leading_zero

#: A run is at its plateau when validation top-1 rose by less than this over its last epoch.
PLATEAU_RISE = 0.01


def model_label(model_name: str) -> str:
    """'cornet_s_skip_absent' → 'skip: absent'; CORnet-S itself → 'CORnet-S'."""
    if model_name == "cornet_s":
        return "CORnet-S"
    for group, variant, name in FIG4_ROWS:
        if name == model_name:
            return fig4_short_label(group, variant)
    return model_name


def plateau_table(curves: pd.DataFrame, check: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per run (model, seed): ``epochs``, ``val_top1`` after the last epoch, ``last_rise_logged``
    (its change over the last epoch, as training logged it), ``last_rise_exact_bn`` (the same with
    BatchNorm's statistics recomputed, from ``check``: :func:`cornet_repro.sweeps.plateau_check`;
    NaN without it), ``last_rise`` (the second when there, else the first) and ``plateau``
    (``last_rise`` < :data:`PLATEAU_RISE`)."""
    exact = {}
    if check is not None:
        for (model, seed), run in check.sort_values("epoch").groupby(["model_name", "seed"], sort=False):
            values = run["val_top1_exact_bn"].to_numpy(float)
            exact[(model, seed)] = values[-1] - values[-2] if len(values) > 1 else np.nan
    rows = []
    for (model, seed), run in curves.sort_values("epoch").groupby(["model_name", "seed"], sort=False):
        top1 = run["val_top1"].to_numpy(float)
        logged = top1[-1] - top1[-2] if len(top1) > 1 else np.nan
        checked = exact.get((model, seed), np.nan)
        rise = logged if np.isnan(checked) else checked
        rows.append({"model_name": model, "seed": seed, "epochs": len(top1), "val_top1": top1[-1],
                     "last_rise": rise, "plateau": bool(rise < PLATEAU_RISE), "last_rise_logged": logged,
                     "last_rise_exact_bn": checked})
    return pd.DataFrame(rows, columns=["model_name", "seed", "epochs", "val_top1", "last_rise", "plateau",
                                       "last_rise_logged", "last_rise_exact_bn"])


def plateau_summary(curves: pd.DataFrame, chance: float | None = None, check: pd.DataFrame | None = None) -> str:
    """The page's sentence: how many runs reached a plateau, which did not (and by how much they
    still rose), and where CORnet-S and the weakest model end against chance. With ``check`` the
    verdict uses BatchNorm's recomputed statistics and the sentence says how the logged values differ."""
    table = plateau_table(curves, check)
    final = table.groupby("model_name")["val_top1"].mean()
    weakest = final.idxmin()
    base = table[table.model_name == "cornet_s"]["val_top1"]
    chance_text = "" if chance is None else f" (chance {chance:.3f})"
    rising = table[~table.plateau].sort_values("last_rise", ascending=False)
    still = "; ".join(f"{model_label(r.model_name)} seed {r.seed} ({r.last_rise * 100:+.1f})" for r in rising.itertuples())
    checked = table.last_rise_exact_bn.notna().all()
    how = (", with BatchNorm's statistics recomputed exactly over the training images," if checked else "")
    text = (f"{int(table.plateau.sum())} of {len(table)} runs reached a plateau: simulated validation top-1{how} rose by less "
            f"than {PLATEAU_RISE * 100:.0f} point over the last epoch"
            + (f". Still rising (points over the last epoch): {still}" if len(rising) else "") + ". ")
    if checked:
        logged = int((table.last_rise_logged < PLATEAU_RISE).sum())
        lr = curves.sort_values("epoch").groupby(["model_name", "seed"]).lr.last().max()
        text += (f"As logged during training, with BatchNorm's running averages of the last few batches, {logged} of "
                 f"{len(table)} did: over the last epoch (learning rate {lr:g}) those values moved by up to "
                 f"{table.last_rise_logged.abs().max() * 100:.1f} points, the recomputed ones by up to "
                 f"{table.last_rise_exact_bn.abs().max() * 100:.1f}. ")
    return text + (f"CORnet-S ends at simulated top-1 {base.mean():.3f} ± {base.std(ddof=1):.3f} (mean ± s.d. over "
                   f"{len(base)} seeds){chance_text}; the weakest model, {model_label(weakest)}, at {final[weakest]:.3f}.")


def rising_note(curves: pd.DataFrame, check: pd.DataFrame | None = None) -> str:
    """The caption's consequence of the plateau check: that every run levelled off, or which runs
    still rise (their deltas are not final)."""
    table = plateau_table(curves, check)
    rising = sorted({model_label(m) for m in table[~table.plateau].model_name})
    if not rising:
        return "Every run levels off by its last epoch."
    return (f"The runs still rising ({', '.join(rising)}) would gain with longer training, so their deltas "
            "are not final.")


def plot_learning_curves(curves: pd.DataFrame, chance: float | None = None, columns: int = 5) -> plt.Figure:
    """Small multiples: validation top-1 per epoch of every run, one panel per model (seeds as
    lines), in the order of Fig. 4's rows; the dashed line is chance. ``columns``: panels a row
    (the figure's width follows, so 2 columns suit a phone)."""
    order = ["cornet_s"] + [name for _, _, name in FIG4_ROWS if name in set(curves.model_name) and name != "cornet_s"]
    order = list(dict.fromkeys(order))
    order = [m for m in order if m in set(curves.model_name)]
    rows = int(np.ceil(len(order) / columns))
    top = curves["val_top1"].max() * 1.08
    with paper_style():
        fig, axes = plt.subplots(rows, columns, figsize=(1.86 * columns, 1.55 * rows + 0.5), sharex=True,
                                 sharey=True, squeeze=False)
        for ax in axes.flat[len(order):]:
            ax.set_visible(False)
        for ax, model in zip(axes.flat, order):
            for seed, run in curves[curves.model_name == model].groupby("seed"):
                ax.plot(run["epoch"], run["val_top1"], color=CIRCUIT_MAGENTA if model == "cornet_s" else "0.25",
                        lw=1.2, alpha=0.85)
            if chance is not None:
                ax.axhline(chance, color="0.6", lw=0.8, ls="--")
            ax.set_title(model_label(model), fontsize=8.5)
            ax.set_ylim(0, top)
            ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
            strip_leading_zero(ax, "y")
        for ax in axes[:, 0]:
            ax.set_ylabel("simulated\ntop-1", fontsize=8.5)
        for ax in axes[-1, :]:
            ax.set_xlabel("epoch", fontsize=8.5)
        fig.tight_layout(h_pad=0.6, w_pad=0.4)
        record_meta(fig)
    return fig


# ---------------------------------------------------------------------------------------------
# Brain-Score over training
# ---------------------------------------------------------------------------------------------

#: What the dynamics page plots against epoch, and its label.
DYNAMICS_MEASURES = (("val_top1", "simulated top-1"), ("V4", "V4"), ("IT", "IT"), ("behavior", "behaviour"),
                     ("OST", "OST"), ("brain_score_fig4", "Brain-Score (no OST)"))


def dynamics_summary(dynamics: pd.DataFrame) -> pd.DataFrame:
    """Per model, epoch and measure: mean over seeds and its 95% CI (``mean``, ``ci_low``, ``ci_high``, ``n``)."""
    rows = []
    for (model, epoch), group in dynamics.groupby(["model_name", "epoch"]):
        for measure, _ in DYNAMICS_MEASURES:
            if measure in group and group[measure].notna().any():
                mean, low, high = mean_ci(group[measure])
                rows.append({"model_name": model, "epoch": epoch, "measure": measure, "mean": mean, "ci_low": low,
                             "ci_high": high, "n": int(group[measure].notna().sum())})
    return pd.DataFrame(rows, columns=["model_name", "epoch", "measure", "mean", "ci_low", "ci_high", "n"])


def emergence(dynamics: pd.DataFrame, fraction: float = 0.9) -> pd.DataFrame:
    """Per model and measure: the first epoch at which the mean over seeds reaches ``fraction`` of
    its final value (``epoch_reached``; NaN when the final value is not positive), and the Spearman
    r over epochs between that measure and simulated top-1 (``r_with_top1``): how early a score
    emerges, and whether it tracks the task."""
    from scipy.stats import spearmanr

    summary = dynamics_summary(dynamics)
    rows = []
    for (model, measure), group in summary.groupby(["model_name", "measure"]):
        group = group.sort_values("epoch")
        final = group["mean"].iloc[-1]
        # "reached a fraction of its final value" means nothing for a score that ends at or below 0
        reached = group[group["mean"] >= fraction * final]["epoch"] if final > 0 else pd.Series([], dtype=int)
        top1 = summary[(summary.model_name == model) & (summary.measure == "val_top1")].sort_values("epoch")
        r = spearmanr(group["mean"], top1["mean"])[0] if measure != "val_top1" and len(group) > 2 else np.nan
        rows.append({"model_name": model, "measure": measure, "final": final,
                     "epoch_reached": int(reached.iloc[0]) if len(reached) else np.nan, "r_with_top1": r})
    return pd.DataFrame(rows, columns=["model_name", "measure", "final", "epoch_reached", "r_with_top1"])


def plot_dynamics(dynamics: pd.DataFrame, columns: int = 3) -> plt.Figure:
    """One panel per measure against epoch: each model's mean over seeds with its 95% CI band.
    ``columns``: panels a row (the width follows; 1 suits a phone)."""
    summary = dynamics_summary(dynamics)
    measures = [(m, label) for m, label in DYNAMICS_MEASURES if m in set(summary.measure)]
    models = list(dict.fromkeys(dynamics["model_name"]))
    colours = {m: (CIRCUIT_MAGENTA if m == "cornet_s" else SOURCE_STYLE["simulated"]["color"] if i == 1 else "0.3")
               for i, m in enumerate(models)}
    rows = int(np.ceil(len(measures) / columns))
    legend_rows = 1 if columns > 1 else len(models)
    with paper_style():
        size = (3.1 * columns + 0.2 * (columns == 1), 2.2 * rows + 0.2 * legend_rows + 0.35)
        fig, axes = plt.subplots(rows, columns, figsize=size, sharex=True, squeeze=False)
        for ax in axes.flat[len(measures):]:
            ax.set_visible(False)
        for ax, (measure, label) in zip(axes.flat, measures):
            for model in models:
                part = summary[(summary.model_name == model) & (summary.measure == measure)].sort_values("epoch")
                if part.empty:
                    continue
                ax.plot(part["epoch"], part["mean"], color=colours[model], lw=1.6, marker="o", ms=3,
                        label=f"{model_label(model)} ({part['n'].max()} seeds)")
                ax.fill_between(part["epoch"], part["ci_low"], part["ci_high"], color=colours[model], alpha=0.18,
                                lw=0)
            ax.set_title(label, fontsize=9)
            ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
            strip_leading_zero(ax, "y")
        for ax in axes[-1, :]:
            ax.set_xlabel("epoch", fontsize=8.5)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(labels) if columns > 1 else 1, fontsize=8)
        fig.tight_layout(rect=(0, (0.2 * legend_rows + 0.2) / fig.get_figheight(), 1, 1), h_pad=0.8)
        record_meta(fig)
    return fig


def dynamics_sentence(dynamics: pd.DataFrame, fraction: float = 0.9) -> str:
    """The page's finding, computed: per model, when each brain measure reached ``fraction`` of its
    final value against when simulated top-1 did, and how closely each tracked top-1."""
    found = emergence(dynamics, fraction)
    parts = []
    for model, group in found.groupby("model_name", sort=False):
        by = group.set_index("measure")
        if "val_top1" not in by.index:
            continue
        top1_epoch = by.loc["val_top1", "epoch_reached"]
        brain = [(m, label) for m, label in DYNAMICS_MEASURES[1:] if m in by.index]
        earlier = [label for m, label in brain if by.loc[m, "epoch_reached"] < top1_epoch]
        never = [label for m, label in brain if np.isnan(by.loc[m, "epoch_reached"])]
        tracked = ", ".join(f"{label} {fmt_r(by.loc[m, 'r_with_top1'])}" for m, label in brain
                            if not np.isnan(by.loc[m, "r_with_top1"]))
        parts.append(f"{model_label(model)}: simulated top-1 reached {fraction:.0%} of its final value at epoch "
                     f"{int(top1_epoch)}; " + (f"{', '.join(earlier)} got there earlier" if earlier else
                                               "no brain measure got there earlier")
                     + (f"; {', '.join(never)} ended at or below 0" if never else "")
                     + (f". Spearman r with top-1 over epochs: {tracked}" if tracked else ""))
    return " ".join(p + "." for p in parts)
