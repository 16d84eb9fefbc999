"""Fig. 3: model depth (log scale) vs Brain-Score, ImageNet top-1 and CIFAR-100 transfer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Polygon
from scipy.spatial import ConvexHull, QhullError

from .. import selections
from ..data.published import LABELS
from .common import overlay_points, place_labels, plot_overlay
from .interactive import label_points, record_meta
from .style import CORNET_RED, HULL_GREY, MODEL_GREEN, paper_style, strip_leading_zero

PANELS = ("brain_score", "imagenet_top1", "cifar100_top1")
FAMILY_LABELS = {"ResNet": "ResNets", "DenseNet": "DenseNets", "MobileNet v1": "MobileNets v1",
                 "MobileNet v2": "MobileNets v2", "VGG": "VGG", "AlexNet": "AlexNet", "Xception": "Xception",
                 "NASNet": "NASNet", "PNASNet": "PNASNet", "Inception": "Inceptions", "IamNN": "IamNN",
                 "SqueezeNet": "SqueezeNets"}
#: Families drawn with a grey outline, as the paper groups them.
HULL_FAMILIES = ("ResNet", "DenseNet", "MobileNet v1", "MobileNet v2", "VGG")
#: The paper jitters the MobileNets along x so the dots stay visible; so do we (log10 units, seeded).
MOBILENET_JITTER = 0.035


def depth_table(scores: pd.DataFrame, jitter: float = MOBILENET_JITTER, seed: int = 0) -> pd.DataFrame:
    """Non-BaseNet models with a published depth, with the (jittered) x position used for plotting."""
    table = selections.named_models(scores).dropna(subset=["depth"]).copy()
    rng = np.random.default_rng(seed)
    noise = rng.uniform(-jitter, jitter, len(table))
    is_mobile = table["family"].str.startswith("MobileNet").to_numpy()
    table["depth_plotted"] = table["depth"] * 10 ** np.where(is_mobile, noise, 0.0)
    return table


def _hull(ax: plt.Axes, x: np.ndarray, y: np.ndarray) -> None:
    """A family's outline: its points' convex hull, padded, filled light and edged darker, so that
    overlapping families stay distinguishable (the paper's labelled outlines)."""
    if len(x) < 3:
        return
    lx = np.log10(x)
    pts = np.column_stack([lx, y])
    try:
        hull = ConvexHull(pts)
    except QhullError:  # collinear points (e.g. one depth only): no outline
        return
    centre = pts[hull.vertices].mean(axis=0)
    # Pad the outline outward so the dots sit inside it, in log-x/linear-y space.
    span = np.ptp(y) if np.ptp(y) > 0 else 1.0
    verts = centre + (pts[hull.vertices] - centre) * 1.12 + np.sign(pts[hull.vertices] - centre) * [0.02, 0.03 * span]
    ax.add_patch(Polygon(np.column_stack([10 ** verts[:, 0], verts[:, 1]]), closed=True, facecolor=HULL_GREY,
                         edgecolor="0.6", alpha=0.7, zorder=0, lw=0.8))


def hover_text(row: pd.Series, measure: str) -> str:
    """What a point says on hover: the model, its depth and the panel's measure."""
    return f"{row['model']}\ndepth {row['depth']:g}, {LABELS[measure]} {row[measure]:.3f}"


def fig3_data(scores: pd.DataFrame, measures: tuple[str, ...] = PANELS, jitter: float = MOBILENET_JITTER,
              seed: int = 0, overlay: pd.DataFrame | None = None) -> pd.DataFrame:
    """Exactly the points Fig. 3 draws, one row per (panel, model): depth, the x it is drawn at
    (MobileNets jittered), the measure (named as the axis is) and its value."""
    table = depth_table(scores, jitter, seed)
    rows = [pd.DataFrame({"measure": LABELS[m], "model": shown["model"], "family": shown["family"],
                          "depth": shown["depth"], "depth_plotted": shown["depth_plotted"], "value": shown[m]})
            for m in measures for shown in [table.dropna(subset=[m])]]
    for m in measures:
        computed = overlay_points(overlay, "depth", m)
        if len(computed):
            rows.append(pd.DataFrame({"measure": LABELS[m], "model": computed["model"], "family": computed["group"],
                                      "depth": computed["depth"], "depth_plotted": computed["depth"],
                                      "value": computed[m]}))
    return pd.concat(rows, ignore_index=True)


def _family_anchor(fam: pd.DataFrame, measure: str) -> pd.Series:
    """Where a family's label points: its lowest member for the MobileNets (their label sits
    under them, as in the paper), else its highest."""
    return fam.loc[fam[measure].idxmin()] if fam["family"].iloc[0].startswith("MobileNet") else \
        fam.loc[fam[measure].idxmax()]


def plot_fig3(scores: pd.DataFrame, *, measures: tuple[str, ...] = PANELS, label_families: bool = True,
              overlay: pd.DataFrame | None = None, jitter: float = MOBILENET_JITTER,
              seed: int = 0, columns: int | None = None) -> plt.Figure:
    """Draw Fig. 3: one panel per measure against depth, families outlined and labelled (labels
    never overprint; a label away from its family gets a leader line); points name themselves on hover.
    ``columns``: panels a row (default: all in one, as in the paper; 1 stacks them for a phone)."""
    table = depth_table(scores, jitter, seed)
    columns = min(columns or len(measures), len(measures))
    rows = -(-len(measures) // columns)
    with paper_style():
        # three panels across the theme's full width (~9.5 in), as in the paper
        fig, grid = plt.subplots(rows, columns, figsize=(3.15 * columns + 0.25 * (columns == 1), 3.5 * rows),
                                 squeeze=False)
        axes = grid.flat[:len(measures)]
        for ax in grid.flat[len(measures):]:
            ax.set_visible(False)
        for ax, measure in zip(axes, measures):
            shown = table.dropna(subset=[measure])
            others = shown[shown.model != selections.CORNET_S]
            cornet = shown[shown.model == selections.CORNET_S]
            for family in HULL_FAMILIES:
                fam = others[others.family == family]
                _hull(ax, fam.depth_plotted.to_numpy(), fam[measure].to_numpy())
            label_points(ax.scatter(others.depth_plotted, others[measure], s=22, color=MODEL_GREEN, alpha=0.85,
                                    linewidth=0), [hover_text(r, measure) for _, r in others.iterrows()])
            label_points(ax.scatter(cornet.depth_plotted, cornet[measure], s=55, color=CORNET_RED, zorder=5),
                         [hover_text(r, measure) for _, r in cornet.iterrows()])
            if overlay is not None and "depth" in overlay:
                plot_overlay(ax, overlay, "depth", measure, label=False)
            ax.set_xscale("log")
            ax.set_xticks([10, 25, 50, 100, 200])
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(plt.NullFormatter())
            ax.set(xlabel="Model depth (log scale)", ylabel=LABELS[measure])
            strip_leading_zero(ax, "y")
            y0, y1 = ax.get_ylim()  # room for labels above and below the families
            ax.set_ylim(y0 - 0.06 * (y1 - y0), y1 + 0.08 * (y1 - y0))
        fig.tight_layout(w_pad=1.2)
        for ax, measure in zip(axes, measures):
            shown = table.dropna(subset=[measure])
            cornet = shown[shown.model == selections.CORNET_S]
            others = shown[shown.model != selections.CORNET_S]
            place_labels(ax, cornet.depth_plotted, cornet[measure], ["CORnet-S"] * len(cornet), fontsize=9,
                         fontweight="bold")
            mine = overlay_points(overlay, "depth", measure) if overlay is not None and "depth" in overlay else None
            if mine is not None and len(mine):  # models computed here, named
                place_labels(ax, mine.depth, mine[measure], mine.model, fontsize=8)
            if label_families:
                anchors = [_family_anchor(fam, measure) for _, fam in others.groupby("family")]
                place_labels(ax, [a.depth_plotted for a in anchors], [a[measure] for a in anchors],
                             [FAMILY_LABELS.get(a.family, a.family) for a in anchors], fontsize=8, color="0.2",
                             prefer=[270 if a.family.startswith("MobileNet") else 90 for a in anchors])
        record_meta(fig)
    return fig
