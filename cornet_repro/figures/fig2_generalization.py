"""Fig. 2: Brain-Score generalizes to new neurons, new images, new behaviour and CIFAR-100."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .. import selections
from ..data.published import LABELS
from ..stats import Correlation, correlate_columns
from .common import annotate_correlation, overlay_points, plot_overlay
from .interactive import label_points, record_meta
from .style import CORNET_RED, MODEL_GREEN, paper_style, strip_leading_zero

AXIS_LABELS = {
    "IT": "IT score (original neurons)",
    "it_new_neurons": "IT score (new neurons)",
    "it_new_images": "IT score (new neurons)",
    "behavior": "Behavioral score (original)",
    "behavior_new_images": "Behavioral score (new)",
    "brain_score": "Brain-Score",
    "cifar100_top1": "CIFAR-100 transfer",
}


def fig2_statistics(scores: pd.DataFrame, n_resamples: int = 10_000, seed: int = 0) -> dict[str, Correlation]:
    """One correlation per panel (keys ``a``–``d``), BaseNets and CORnet-S excluded as in the paper."""
    models = selections.fig2_models(scores)
    return {panel: correlate_columns(models, x, y, n_resamples=n_resamples, seed=seed)
            for panel, (x, y, _) in zip("abcd", selections.FIG2_PANELS)}


def fig2_data(scores: pd.DataFrame, show_cornet: bool = True, overlay: pd.DataFrame | None = None) -> pd.DataFrame:
    """Exactly the points Fig. 2 draws, one row per (panel, model): the panel, its x and y measure
    (named as the axes are) and values, and whether the point is in r (CORnet-S never is)."""
    models = selections.fig2_models(scores)
    cornet = scores[scores["model"] == selections.CORNET_S]
    rows = []
    for panel, (x, y, title) in zip("abcd", selections.FIG2_PANELS):
        for frame, in_r in ((models, True), (cornet if show_cornet else cornet.iloc[:0], False)):
            shown = frame.dropna(subset=[x, y])
            rows.append(pd.DataFrame({"panel": panel, "panel_title": " ".join(title.split()), "model": shown["model"],
                                      "x_measure": AXIS_LABELS.get(x, LABELS[x]), "x": shown[x],
                                      "y_measure": AXIS_LABELS.get(y, LABELS[y]), "y": shown[y], "in_r": in_r}))
        computed = overlay_points(overlay, x, y)
        if len(computed):
            rows.append(pd.DataFrame({"panel": panel, "panel_title": " ".join(title.split()), "model": computed["model"],
                                      "x_measure": AXIS_LABELS.get(x, LABELS[x]), "x": computed[x],
                                      "y_measure": AXIS_LABELS.get(y, LABELS[y]), "y": computed[y], "in_r": False,
                                      "group": computed["group"]}))
    return pd.concat(rows, ignore_index=True)


def plot_fig2(scores: pd.DataFrame, *, show_cornet: bool = True, overlay: pd.DataFrame | None = None,
              n_resamples: int = 10_000, seed: int = 0,
              stacked: bool = False) -> tuple[plt.Figure, dict[str, Correlation]]:
    """Draw the four panels of Fig. 2 (a 2 × 2 grid, the width of the text column) and return the
    figure with the per-panel correlations; every point names itself on hover in the book.
    ``stacked``: the panels in one column (a phone's)."""
    stats = fig2_statistics(scores, n_resamples, seed)
    models = selections.fig2_models(scores)
    cornet = scores[scores["model"] == selections.CORNET_S]
    with paper_style():
        fig, grid = plt.subplots(4, 1, figsize=(3.6, 12.4)) if stacked else plt.subplots(2, 2, figsize=(6.8, 6.4))
        for ax, panel, (x, y, title) in zip(grid.ravel(), "abcd", selections.FIG2_PANELS):
            xlabel, ylabel = AXIS_LABELS.get(x, LABELS[x]), AXIS_LABELS.get(y, LABELS[y])

            def hover(frame: pd.DataFrame) -> list[str]:
                return [f"{row['model']}\n{xlabel} {row[x]:.3f}, {ylabel} {row[y]:.3f}" for _, row in frame.iterrows()]

            shown = models.dropna(subset=[x, y])
            label_points(ax.scatter(shown[x], shown[y], s=24, color=MODEL_GREEN, alpha=0.8, linewidth=0), hover(shown))
            if show_cornet:
                red = cornet.dropna(subset=[x, y])
                label_points(ax.scatter(red[x], red[y], s=50, color=CORNET_RED, zorder=5), hover(red))
            plot_overlay(ax, overlay, x, y)
            annotate_correlation(ax, stats[panel], fontsize=8)
            ax.set_title(f"({panel}) {title}", fontsize=9)
            ax.set(xlabel=xlabel, ylabel=ylabel)
            strip_leading_zero(ax)
        fig.tight_layout(h_pad=1.5, w_pad=1.5)
        record_meta(fig)
    return fig, stats
