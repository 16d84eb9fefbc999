"""Fig. 1: Brain-Score vs ImageNet top-1 for every model, with the high-performance inset."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import ConnectionPatch, Rectangle

from .. import selections
from ..stats import Correlation, correlate_columns
from .common import annotate_correlation, plot_overlay
from .style import BASENET_GREY, CORNET_RED, MODEL_GREEN, paper_style, strip_leading_zero

MAIN_LABELS = ("AlexNet", "SqueezeNet v1.1", "MobileNet v1_1.0_224")
INSET_LABELS = ("DenseNet-169", "ResNet-101 v2", "Xception", "PNASnet Large", "Inception V4", "VGG-19",
                "MobileNet v2_0.75_224")


def fig1_statistics(scores: pd.DataFrame, threshold: float = 0.70, show_basenets: bool = True,
                    n_resamples: int = 10_000, seed: int = 0) -> dict[str, Correlation]:
    """r below the threshold (BaseNets included when shown) and r of the inset (CORnet-S excluded)."""
    shown = scores if show_basenets else selections.named_models(scores)
    boot = dict(n_resamples=n_resamples, seed=seed)
    return {
        "below": correlate_columns(selections.fig1_below(shown, threshold), "imagenet_top1", "brain_score", **boot),
        "above": correlate_columns(selections.fig1_above(shown, threshold), "imagenet_top1", "brain_score", **boot),
    }


def plot_fig1(scores: pd.DataFrame, *, threshold: float = 0.70, show_basenets: bool = True,
              label_models: tuple[str, ...] = MAIN_LABELS, inset_labels: tuple[str, ...] = INSET_LABELS,
              overlay: pd.DataFrame | None = None, n_resamples: int = 10_000,
              seed: int = 0) -> tuple[plt.Figure, dict[str, Correlation]]:
    """Draw Fig. 1 (right half of the paper's figure) and return it with its statistics."""
    stats = fig1_statistics(scores, threshold, show_basenets, n_resamples, seed)
    data = scores.dropna(subset=["imagenet_top1", "brain_score"])
    basenets = data[data["is_basenet"].astype(bool)]
    named = selections.named_models(data)
    others = named[named["model"] != selections.CORNET_S]
    cornet = named[named["model"] == selections.CORNET_S]
    above = selections.fig1_above(named, threshold)

    with paper_style():
        fig, (ax, inset) = plt.subplots(1, 2, figsize=(10, 4.6), gridspec_kw=dict(width_ratios=[1.35, 1]))
        if show_basenets:
            ax.scatter(basenets.imagenet_top1, basenets.brain_score, s=18, color=BASENET_GREY, alpha=0.8,
                       linewidth=0, label="BaseNets")
            top = basenets.loc[basenets.imagenet_top1.idxmax()]
            ax.annotate("BaseNets", (top.imagenet_top1, top.brain_score), xytext=(-40, 18),
                        textcoords="offset points", fontsize=9)
        ax.scatter(others.imagenet_top1, others.brain_score, s=22, color=MODEL_GREEN, alpha=0.85, linewidth=0,
                   label="published models")
        ax.scatter(cornet.imagenet_top1, cornet.brain_score, s=55, color=CORNET_RED, zorder=5, label="CORnet-S")
        for _, row in cornet.iterrows():
            ax.annotate("CORnet-S", (row.imagenet_top1, row.brain_score), xytext=(-78, -4),
                        textcoords="offset points", fontsize=11, fontweight="bold")
        for _, row in named[named.model.isin(label_models)].iterrows():
            ax.annotate(row.model, (row.imagenet_top1, row.brain_score), xytext=(6, -10),
                        textcoords="offset points", fontsize=8)
        plot_overlay(ax, overlay, "imagenet_top1", "brain_score")
        ax.axvline(threshold, color="0.6", lw=0.8, ls=":")
        annotate_correlation(ax, stats["below"], loc=(0.97, 0.05))
        ax.text(0.03, 0.97, f"r over models < {threshold:.2f} top-1", transform=ax.transAxes, fontsize=8,
                va="top", color="0.35")
        ax.set(xlabel="ImageNet top-1 performance", ylabel="Brain-Score")
        strip_leading_zero(ax)

        # Inset: the high-performance models, as a separate framed panel linked to its region.
        inset.scatter(above.imagenet_top1, above.brain_score, s=40, color=MODEL_GREEN, alpha=0.85, linewidth=0)
        for _, row in above[above.model.isin(inset_labels)].iterrows():
            inset.annotate(row.model, (row.imagenet_top1, row.brain_score), xytext=(5, 4),
                           textcoords="offset points", fontsize=8)
        plot_overlay(inset, overlay[overlay.imagenet_top1 >= threshold] if overlay is not None and
                     "imagenet_top1" in overlay else None, "imagenet_top1", "brain_score")
        annotate_correlation(inset, stats["above"], loc=(0.97, 0.05))
        inset.set(xlabel="ImageNet top-1 performance", ylabel="Brain-Score",
                  title=f"ImageNet ≥ {threshold:.2f} (CORnet-S excluded)")
        for spine in inset.spines.values():
            spine.set(visible=True, color=MODEL_GREEN, linewidth=1.5)
        strip_leading_zero(inset)
        if len(above):
            x0, x1 = inset.get_xlim()
            y0, y1 = inset.get_ylim()
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="0.5", lw=0.8))
            for yy in (y0, y1):
                fig.add_artist(ConnectionPatch((x1, yy), (0, 0 if yy == y0 else 1), "data", "axes fraction",
                                               axesA=ax, axesB=inset, color="0.6", lw=0.6))
        fig.tight_layout()
    return fig, stats
