"""Fig. 1: Brain-Score vs ImageNet top-1 for every model, with the high-performance inset."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import ConnectionPatch, Rectangle

from .. import selections
from ..stats import Correlation, correlate_columns
from .common import annotate_correlation, overlay_points, place_labels, plot_overlay
from .interactive import label_points, record_meta
from .style import BASENET_GREY, CORNET_RED, MODEL_GREEN, paper_style, strip_leading_zero

MAIN_LABELS = ("AlexNet", "SqueezeNet v1.1", "MobileNet v1_1.0_224")
INSET_LABELS = ("DenseNet-169", "ResNet-101 v2", "Xception", "PNASnet Large", "Inception V4", "VGG-19",
                "MobileNet v2_0.75_224")
#: How the paper names a family when it labels one member for all (Fig. 1: "MobileNets", "SqueezeNets").
FAMILY_NAMES = {"MobileNet v1": "MobileNets", "MobileNet v2": "MobileNets", "SqueezeNet": "SqueezeNets",
                "ResNet": "ResNets", "DenseNet": "DenseNets", "VGG": "VGGs", "Inception": "Inceptions"}
#: In the inset the paper names single models, except the MobileNets.
FAMILY_LABELLED_IN_INSET = ("MobileNet v2_0.75_224",)


def fig1_statistics(scores: pd.DataFrame, threshold: float = 0.70, show_basenets: bool = True,
                    n_resamples: int = 10_000, seed: int = 0) -> dict[str, Correlation]:
    """r below the threshold (BaseNets included when shown) and r of the inset (CORnet-S excluded)."""
    shown = scores if show_basenets else selections.named_models(scores)
    boot = dict(n_resamples=n_resamples, seed=seed)
    return {
        "below": correlate_columns(selections.fig1_below(shown, threshold), "imagenet_top1", "brain_score", **boot),
        "above": correlate_columns(selections.fig1_above(shown, threshold), "imagenet_top1", "brain_score", **boot),
    }


def _family_label(named: pd.DataFrame, model: str) -> str:
    """The paper labels a family by one of its members ("MobileNets", "SqueezeNets"); a model
    alone in its family keeps its own name."""
    family = named.loc[named.model == model, "family"]
    if family.empty or pd.isna(family.iloc[0]) or (named.family == family.iloc[0]).sum() < 2:
        return model
    return FAMILY_NAMES.get(family.iloc[0], model)


def hover_text(row: pd.Series) -> str:
    """What a point says on hover: the model and the two values it is plotted at."""
    return f"{row.model}\nImageNet top-1 {row.imagenet_top1:.3f}, Brain-Score {row.brain_score:.3f}"


def fig1_data(scores: pd.DataFrame, threshold: float = 0.70, show_basenets: bool = True,
              overlay: pd.DataFrame | None = None) -> pd.DataFrame:
    """Exactly the points Fig. 1 draws: model, group (BaseNet / published / CORnet-S), the two
    values, and whether the model is in the left r, the inset (and its r)."""
    data = scores.dropna(subset=["imagenet_top1", "brain_score"])
    if not show_basenets:
        data = data[~data["is_basenet"].astype(bool)]
    named = selections.named_models(scores)
    below = set(selections.fig1_below(scores if show_basenets else named, threshold)["model"])
    above = set(selections.fig1_above(named, threshold)["model"])
    group = np.where(data["is_basenet"].astype(bool), "BaseNet",
                     np.where(data["model"] == selections.CORNET_S, "CORnet-S", "published model"))
    published = pd.DataFrame({"model": data["model"], "group": group, "imagenet_top1": data["imagenet_top1"],
                              "brain_score": data["brain_score"], "in_r_below_threshold": data["model"].isin(below),
                              "in_inset_r": data["model"].isin(above)})
    computed = overlay_points(overlay, "imagenet_top1", "brain_score").assign(in_r_below_threshold=False,
                                                                              in_inset_r=False)
    return pd.concat([published, computed] if len(computed) else [published], ignore_index=True)


def plot_fig1(scores: pd.DataFrame, *, threshold: float = 0.70, show_basenets: bool = True,
              label_models: tuple[str, ...] = MAIN_LABELS, inset_labels: tuple[str, ...] = INSET_LABELS,
              overlay: pd.DataFrame | None = None, n_resamples: int = 10_000,
              seed: int = 0, stacked: bool = False) -> tuple[plt.Figure, dict[str, Correlation]]:
    """Draw Fig. 1 (right half of the paper's figure) and return it with its statistics.

    Labels name families as the paper does ("MobileNets"), sit inside the axes, never overprint
    (:func:`place_labels`), and every point names itself on hover in the book. ``stacked``: the
    inset under the main panel instead of beside it (a phone's column).
    """
    stats = fig1_statistics(scores, threshold, show_basenets, n_resamples, seed)
    data = scores.dropna(subset=["imagenet_top1", "brain_score"])
    basenets = data[data["is_basenet"].astype(bool)]
    named = selections.named_models(data)
    others = named[named["model"] != selections.CORNET_S]
    cornet = named[named["model"] == selections.CORNET_S]
    above = selections.fig1_above(named, threshold)

    with paper_style():
        # drawn at the width it is shown (the theme's full width, ~9.5 in), so no text shrinks
        if stacked:
            fig, (ax, inset) = plt.subplots(2, 1, figsize=(4.4, 7.6), gridspec_kw=dict(height_ratios=[1.2, 1]))
        else:
            fig, (ax, inset) = plt.subplots(1, 2, figsize=(9.2, 4.1), gridspec_kw=dict(width_ratios=[1.3, 1]))
        if show_basenets:
            points = ax.scatter(basenets.imagenet_top1, basenets.brain_score, s=16, color=BASENET_GREY, alpha=0.8,
                                linewidth=0, label="BaseNets")
            label_points(points, [hover_text(r) for r in basenets.itertuples()])
        points = ax.scatter(others.imagenet_top1, others.brain_score, s=20, color=MODEL_GREEN, alpha=0.85,
                            linewidth=0, label="published models")
        label_points(points, [hover_text(r) for r in others.itertuples()])
        points = ax.scatter(cornet.imagenet_top1, cornet.brain_score, s=50, color=CORNET_RED, zorder=5,
                            label="CORnet-S")
        label_points(points, [hover_text(r) for r in cornet.itertuples()])
        plot_overlay(ax, overlay, "imagenet_top1", "brain_score", label=False)
        ax.axvline(threshold, color="0.6", lw=0.8, ls=":")
        annotate_correlation(ax, stats["below"], loc=(0.97, 0.04))
        ax.text(0.03, 0.97, f"r over models < {threshold:.2f} top-1", transform=ax.transAxes, fontsize=8,
                va="top", color="0.35")
        ax.set(xlabel="ImageNet top-1 performance", ylabel="Brain-Score")
        strip_leading_zero(ax)

        # Inset: the high-performance models, as a separate framed panel linked to its region.
        points = inset.scatter(above.imagenet_top1, above.brain_score, s=34, color=MODEL_GREEN, alpha=0.85,
                               linewidth=0)
        label_points(points, [hover_text(r) for r in above.itertuples()])
        plot_overlay(inset, overlay[overlay.imagenet_top1 >= threshold] if overlay is not None and
                     "imagenet_top1" in overlay else None, "imagenet_top1", "brain_score", label=False)
        annotate_correlation(inset, stats["above"], loc=(0.97, 0.04))
        inset.set(xlabel="ImageNet top-1 performance", ylabel="Brain-Score")
        inset.set_title(f"ImageNet ≥ {threshold:.2f} (CORnet-S excluded)", fontsize=9)
        for spine in inset.spines.values():
            spine.set(visible=True, color=MODEL_GREEN, linewidth=1.5)
        strip_leading_zero(inset)
        # room at the top for the CORnet-S label and the family labels
        y0, y1 = ax.get_ylim()
        ax.set_ylim(y0, y1 + 0.06 * (y1 - y0))
        if len(above):
            y0, y1 = inset.get_ylim()
            inset.set_ylim(y0, y1 + 0.08 * (y1 - y0))
        fig.tight_layout()
        if len(above):
            x0, x1 = inset.get_xlim()
            y0, y1 = inset.get_ylim()
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="0.5", lw=0.8))
            corners = ([((x0, y0), (0, 1)), ((x1, y0), (1, 1))] if stacked  # the region's bottom to the inset's top
                       else [((x1, y0), (0, 0)), ((x1, y1), (0, 1))])  # its right side to the inset's left
            for here, there in corners:
                fig.add_artist(ConnectionPatch(here, there, "data", "axes fraction", axesA=ax, axesB=inset,
                                               color="0.6", lw=0.6))
        # Labels last, on the final layout: CORnet-S first (it must stay next to its dot).
        place_labels(ax, cornet.imagenet_top1, cornet.brain_score, ["CORnet-S"] * len(cornet), fontsize=10,
                     fontweight="bold")
        if show_basenets and len(basenets):
            top = basenets.loc[basenets.imagenet_top1.idxmax()]
            place_labels(ax, [top.imagenet_top1], [top.brain_score], ["BaseNets"], fontsize=8.5)
        main = named[named.model.isin(label_models)]
        place_labels(ax, main.imagenet_top1, main.brain_score, [_family_label(named, m) for m in main.model],
                     fontsize=8)
        mine = overlay_points(overlay, "imagenet_top1", "brain_score")  # models computed here, named
        place_labels(ax, mine.imagenet_top1, mine.brain_score, mine.model, fontsize=8)
        shown = above[above.model.isin(inset_labels)]
        place_labels(inset, shown.imagenet_top1, shown.brain_score,
                     [_family_label(named, m) if m in FAMILY_LABELLED_IN_INSET else m for m in shown.model],
                     fontsize=8)
        record_meta(fig)
    return fig, stats
