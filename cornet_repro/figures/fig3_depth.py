"""Fig. 3: model depth (log scale) vs Brain-Score, ImageNet top-1 and CIFAR-100 transfer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Polygon
from scipy.spatial import ConvexHull, QhullError

from .. import selections
from ..data.published import LABELS
from .common import plot_overlay
from .style import CORNET_RED, HULL_GREY, MODEL_GREEN, paper_style, strip_leading_zero

PANELS = ("brain_score", "imagenet_top1", "cifar100_top1")
FAMILY_LABELS = {"ResNet": "ResNets", "DenseNet": "DenseNets", "MobileNet v1": "MobileNets v1",
                 "MobileNet v2": "MobileNets v2", "VGG": "VGG", "AlexNet": "AlexNet", "Xception": "Xception",
                 "NASNet": "NASNet", "PNASNet": "PNASNet", "Inception": "Inception", "IamNN": "IamNN",
                 "SqueezeNet": "SqueezeNet"}
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
    verts = centre + (pts[hull.vertices] - centre) * 1.15 + np.sign(pts[hull.vertices] - centre) * [0.02, 0.004]
    ax.add_patch(Polygon(np.column_stack([10 ** verts[:, 0], verts[:, 1]]), closed=True, color=HULL_GREY,
                         zorder=0, lw=0))


def plot_fig3(scores: pd.DataFrame, *, measures: tuple[str, ...] = PANELS, label_families: bool = True,
              overlay: pd.DataFrame | None = None, jitter: float = MOBILENET_JITTER,
              seed: int = 0) -> plt.Figure:
    """Draw Fig. 3: one panel per measure against depth, families outlined and labelled."""
    table = depth_table(scores, jitter, seed)
    with paper_style():
        fig, axes = plt.subplots(1, len(measures), figsize=(4.7 * len(measures), 3.9), squeeze=False)
        for ax, measure in zip(axes[0], measures):
            shown = table.dropna(subset=[measure])
            others = shown[shown.model != selections.CORNET_S]
            cornet = shown[shown.model == selections.CORNET_S]
            for family in HULL_FAMILIES:
                fam = others[others.family == family]
                _hull(ax, fam.depth_plotted.to_numpy(), fam[measure].to_numpy())
            ax.scatter(others.depth_plotted, others[measure], s=28, color=MODEL_GREEN, alpha=0.85, linewidth=0)
            ax.scatter(cornet.depth_plotted, cornet[measure], s=70, color=CORNET_RED, zorder=5)
            for _, row in cornet.iterrows():
                ax.annotate("CORnet-S", (row.depth_plotted, row[measure]), xytext=(7, 0),
                            textcoords="offset points", fontweight="bold", va="center")
            if label_families:
                for family, fam in others.groupby("family"):
                    x = 10 ** np.log10(fam.depth_plotted).median()
                    y = fam[measure].min() if family.startswith("MobileNet") else fam[measure].max()
                    offset = -12 if family.startswith("MobileNet") else 5
                    ax.annotate(FAMILY_LABELS.get(family, family), (x, y), xytext=(0, offset),
                                textcoords="offset points", ha="center", fontsize=8, color="0.2")
            if overlay is not None and "depth" in overlay:
                plot_overlay(ax, overlay, "depth", measure)
            ax.set_xscale("log")
            ax.set_xticks([10, 25, 50, 100, 200])
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(plt.NullFormatter())
            ax.set(xlabel="Model depth (log scale)", ylabel=LABELS[measure])
            strip_leading_zero(ax, "y")
        fig.tight_layout()
    return fig
