"""Your model beside the paper's: its layer map, and where it lands on Figs. 1 and 3.

A score computed here on the simulated benchmarks is not comparable with the published ones
(other images, other "neurons"); it is drawn in the simulated style and said to be simulated in
every label. A model without an ImageNet top-1 (e.g. random weights) cannot be placed on Fig. 1's
x axis: it is drawn as a horizontal line at its Brain-Score.
"""

from __future__ import annotations

import functools
import textwrap
from typing import Any, Mapping

import matplotlib.pyplot as plt
import pandas as pd

from .. import selections
from .interactive import record_meta
from .style import CORNET_RED, MODEL_GREEN, SOURCE_STYLE, paper_style, strip_leading_zero

__all__ = ["layer_map_table", "plot_layer_map", "plot_on_published"]

REGION_COLOURS = {"V4": "#3b75af", "IT": "#c4452f"}


def layer_map_table(result: Mapping[str, Any]) -> pd.DataFrame:
    """The layer map of a result record: one row per (region, candidate layer), in candidate order,
    with the ceiled ``value``, the ``raw`` held-out r, and whether it is the ``chosen`` layer."""
    rows = []
    for region in ("V4", "IT"):
        score = (result.get("scores") or {}).get(region) or {}
        for position, (layer, entry) in enumerate((score.get("layer_scores") or {}).items()):
            rows.append({"region": region, "position": position, "layer": layer, "value": entry["value"],
                         "raw": entry["raw"], "chosen": layer == score.get("layer")})
    return pd.DataFrame(rows, columns=["region", "position", "layer", "value", "raw", "chosen"])


def plot_layer_map(result: Mapping[str, Any], width: float = 6.4) -> plt.Figure:
    """Ceiled V4 and IT predictivity of every candidate layer, from input to output; the layer each
    region chose on training splits is ringed. ``width``: inches (4 fits a phone's column)."""
    table = layer_map_table(result)
    if table.empty:
        raise ValueError("this result has no layer map (its model committed one layer per region)")
    layers = list(dict.fromkeys(table["layer"]))
    with paper_style():
        fig, ax = plt.subplots(figsize=(width, 3.4))
        for region, rows in table.groupby("region", sort=False):
            x = rows["position"].to_numpy()
            ax.plot(x, rows["value"], "-o", color=REGION_COLOURS[region], ms=5, lw=1.6, label=region)
            chosen = rows[rows["chosen"]]
            ax.scatter(chosen["position"], chosen["value"], s=160, facecolor="none",
                       edgecolor=REGION_COLOURS[region], lw=1.6, zorder=5)
        ax.axhline(0, color="0.75", lw=0.8)
        ax.set_xticks(range(len(layers)), layers, rotation=35, ha="right", fontsize=9)
        ax.set(xlabel="candidate layer (input → output)", ylabel="ceiled predictivity")
        ax.legend(title="ringed: chosen on training splits", fontsize=9, title_fontsize=9, loc="best")
        strip_leading_zero(ax, "y")
        fig.tight_layout()
        record_meta(fig)
    return fig


def plot_on_published(scores: pd.DataFrame, result: Mapping[str, Any], width: float = 6.4) -> plt.Figure:
    """Two panels: Brain-Score against ImageNet top-1 (Fig. 1) and against depth (Fig. 3), the
    published models in green (CORnet-S red), the scored model in its data source's style.
    ``width``: inches (4 fits a phone's column)."""
    source = result["source"]
    style = SOURCE_STYLE[source]
    bs = (result.get("brain_score") or {}).get("value")
    top1, depth = result.get("imagenet_top1"), result.get("depth")
    mine = f"{result['model']} ({source}{', not comparable' if source == 'simulated' else ''})"
    # legend lines wrapped (~9 characters per inch at 9 pt: narrower than the panel), so that a
    # narrow figure stays narrow when saved with a tight bounding box
    wrap = functools.partial(textwrap.fill, width=int(9 * width))
    named = selections.named_models(scores)
    with paper_style():
        fig, axes = plt.subplots(2, 1, figsize=(width, 8.4), layout="constrained")
        for ax, x, xlabel, value in ((axes[0], "imagenet_top1", "ImageNet top-1", top1),
                                     (axes[1], "depth", "model depth (log scale)", depth)):
            shown = named.dropna(subset=[x, "brain_score"])
            others = shown[shown["model"] != selections.CORNET_S]
            cornet = shown[shown["model"] == selections.CORNET_S]
            ax.scatter(others[x], others["brain_score"], s=22, color=MODEL_GREEN, alpha=0.85, linewidth=0,
                       label="published models")
            ax.scatter(cornet[x], cornet["brain_score"], s=55, color=CORNET_RED, zorder=5, label="CORnet-S (published)")
            if bs is not None and value is not None:
                ax.scatter([value], [bs], label=wrap(mine), **style)
            elif bs is not None:  # no x for this model: its Brain-Score as a line across the panel
                ax.axhline(bs, color=style["color"], lw=1.6, ls="--", label=wrap(f"{mine}: no {xlabel}"))
            ax.set(xlabel=xlabel, ylabel="Brain-Score")
            if x == "depth":
                ax.set_xscale("log")
                ax.set_xticks([10, 25, 50, 100, 200])
                ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
                ax.xaxis.set_minor_formatter(plt.NullFormatter())
                strip_leading_zero(ax, "y")
            else:
                strip_leading_zero(ax)
            # under the panel: inside it, the legend would cover points or the line
            ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(0, -0.16), borderaxespad=0)
        record_meta(fig)
    return fig


def on_published_data(scores: pd.DataFrame, result: Mapping[str, Any]) -> pd.DataFrame:
    """What :func:`plot_on_published` draws: the published models (``group``: published model /
    CORnet-S) and the scored model (``group``: computed here (<source>)), with ImageNet top-1,
    depth and Brain-Score (NaN where a model has none)."""
    named = selections.named_models(scores).dropna(subset=["brain_score"])
    published = pd.DataFrame({"model": named["model"],
                              "group": named["model"].map(lambda m: "CORnet-S" if m == selections.CORNET_S
                                                          else "published model"),
                              "imagenet_top1": named["imagenet_top1"], "depth": named["depth"],
                              "brain_score": named["brain_score"]})
    mine = pd.DataFrame([{"model": result["model"], "group": f"computed here ({result['source']})",
                          "imagenet_top1": result.get("imagenet_top1"), "depth": result.get("depth"),
                          "brain_score": (result.get("brain_score") or {}).get("value")}])
    return pd.concat([published, mine], ignore_index=True)
