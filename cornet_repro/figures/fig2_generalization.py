"""Fig. 2: Brain-Score generalizes to new neurons, new images, new behaviour and CIFAR-100."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .. import selections
from ..data.published import LABELS
from ..stats import Correlation, correlate_columns
from .common import annotate_correlation, plot_overlay
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


def plot_fig2(scores: pd.DataFrame, *, show_cornet: bool = True, overlay: pd.DataFrame | None = None,
              n_resamples: int = 10_000, seed: int = 0) -> tuple[plt.Figure, dict[str, Correlation]]:
    """Draw the four panels of Fig. 2 and return the figure with the per-panel correlations."""
    stats = fig2_statistics(scores, n_resamples, seed)
    models = selections.fig2_models(scores)
    cornet = scores[scores["model"] == selections.CORNET_S]
    with paper_style():
        fig, axes = plt.subplots(1, 4, figsize=(14, 3.6))
        for ax, panel, (x, y, title) in zip(axes, "abcd", selections.FIG2_PANELS):
            shown = models.dropna(subset=[x, y])
            ax.scatter(shown[x], shown[y], s=30, color=MODEL_GREEN, alpha=0.8, linewidth=0)
            if show_cornet:
                ax.scatter(cornet[x], cornet[y], s=60, color=CORNET_RED, zorder=5)
            plot_overlay(ax, overlay, x, y)
            annotate_correlation(ax, stats[panel])
            ax.set_title(f"({panel}) {title}", fontsize=10)
            ax.set(xlabel=AXIS_LABELS.get(x, LABELS[x]), ylabel=AXIS_LABELS.get(y, LABELS[y]))
            strip_leading_zero(ax)
        fig.tight_layout()
    return fig, stats
