"""Pieces shared by the figure modules: correlation labels and overlays of computed models."""

from __future__ import annotations

import os
from pathlib import Path

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from ..results import read_results
from ..stats import Correlation, fmt_p, fmt_r
from .interactive import MIN_FONTSIZE, label_points
from .style import SOURCE_STYLE


def annotate_correlation(ax: plt.Axes, corr: Correlation, *, loc: tuple[float, float] = (0.96, 0.06),
                         ha: str = "right", with_ci: bool = True, fontsize: float = 8.5) -> None:
    """Write ``r = .90`` (and its bootstrap CI and n) in axes coordinates, as the paper places it."""
    text = f"r = {fmt_r(corr.r)}"
    if with_ci:
        text += f" [{fmt_r(corr.ci_low)}, {fmt_r(corr.ci_high)}]\n{fmt_p(corr.p)}, n = {corr.n}"
    ax.text(*loc, text, transform=ax.transAxes, ha=ha, va="bottom", fontsize=fontsize)


def plot_overlay(ax: plt.Axes, overlay: pd.DataFrame | None, x: str, y: str, *, label: bool = True) -> int:
    """Scatter locally computed models (columns ``model``, ``source`` and measures) over a panel.

    Returns the number of points drawn. Each data source has its own marker, so a simulated
    result can never be mistaken for a published one.
    """
    if overlay is None or overlay.empty or x not in overlay or y not in overlay:
        return 0
    drawn = 0
    for source, group in overlay.dropna(subset=[x, y]).groupby("source"):
        if source not in SOURCE_STYLE:
            raise ValueError(f"overlay source must be one of {sorted(SOURCE_STYLE)}, got {source!r}")
        points = ax.scatter(group[x], group[y], label=f"computed here ({source})", **SOURCE_STYLE[source])
        label_points(points, [f"{row['model']} (computed here, {source}): {x} {row[x]:.3f}, {y} {row[y]:.3f}"
                              for _, row in group.iterrows()])
        if label:
            for _, row in group.iterrows():
                ax.annotate(row["model"], (row[x], row[y]), xytext=(4, 4), textcoords="offset points",
                            fontsize=MIN_FONTSIZE)
        drawn += len(group)
    return drawn


def overlay_points(overlay: pd.DataFrame | None, x: str, y: str) -> pd.DataFrame:
    """The overlay rows :func:`plot_overlay` draws for ``x`` and ``y``: model, group ("computed
    here (<source>)"), x and y (empty when nothing is drawn), for a figure's CSV."""
    if overlay is None or overlay.empty or x not in overlay or y not in overlay:
        return pd.DataFrame(columns=["model", "group", x, y])
    shown = overlay.dropna(subset=[x, y])
    return pd.DataFrame({"model": shown["model"], "group": "computed here (" + shown["source"] + ")",
                         x: shown[x], y: shown[y]})


def read_results_dir(results_dir: str | os.PathLike | None) -> pd.DataFrame | None:
    """The result files of ``results_dir`` as a table (None → None); a missing folder is an error
    that says how to make one."""
    if results_dir is None or str(results_dir) == "":
        return None
    path = Path(results_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"results_dir {str(path)!r} is not a directory: score a model first "
                                "(`cornet-repro score …`) or set results_dir = None")
    return read_results(path)


def combined_results(results_dir: str | os.PathLike | None, *, shipped: str | None = None,
                      models: list[str] | None = None) -> pd.DataFrame | None:
    """The result records behind a recomputed figure: a shipped sweep (:mod:`cornet_repro.data.shipped`)
    with the results in ``results_dir`` on top (a run found in both is taken from ``results_dir``:
    the one this code just computed). ``models`` keeps only those models (None: all). None if none.
    """
    from ..data.shipped import RESULTS, shipped_dir
    from ..results import read_results

    if models is not None:
        from ..models.registry import check_model_name

        for name in models:  # a misspelled name would silently empty the figure
            check_model_name(name)
    tables = [read_results(shipped_dir(shipped) / RESULTS)] if shipped else []
    live = read_results_dir(results_dir)
    if live is not None:
        tables.append(live)
    tables = [t for t in tables if not t.empty]
    if not tables:
        return None
    keys = ["model_name", "preset", "seed", "source", "conventions"]
    results = pd.concat(tables, ignore_index=True).drop_duplicates(keys, keep="last").reset_index(drop=True)
    if models is not None:
        results = results[results["model_name"].isin(models)]
    return results if not results.empty else None


def load_overlay(results_dir: str | os.PathLike | None) -> pd.DataFrame | None:
    """Locally scored models from ``results_dir`` (None → no overlay), one row per result file."""
    results = read_results_dir(results_dir)
    if results is None or results.empty:
        return None
    return results


def _boxes_of_points(ax: plt.Axes, radius_px: float) -> list[Bbox]:
    boxes = []
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if len(offsets) == 0 or not hasattr(collection, "get_sizes"):
            continue
        for px, py in ax.transData.transform(np.asarray(offsets, float)):
            boxes.append(Bbox.from_extents(px - radius_px, py - radius_px, px + radius_px, py + radius_px))
    return boxes


def _overlap(a: Bbox, b: Bbox) -> float:
    return max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))


def place_labels(ax: plt.Axes, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str], *,
                 fontsize: float = MIN_FONTSIZE + 0.5, leader_after: float = 9.0, avoid_points: bool = True,
                 prefer: Sequence[float] | float = 0.0, **text_kw) -> list[plt.Annotation]:
    """Label points without overprinting: each label takes the nearest free spot around its point
    (in order; earlier labels have priority), inside the axes, clear of every text already drawn
    in the figure and of the markers; beyond ``leader_after`` points away it gets a leader line.

    Call it after the figure's layout is final (axes positions and limits), since the free spots
    are found in display coordinates. ``prefer``: the direction (degrees, 0 = right, 90 = above)
    tried first at each distance, one for all labels or one per label.
    """
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    from .interactive import text_boxes

    taken = [box for _, box in text_boxes(fig)]
    px_per_pt = fig.dpi / 72
    markers = _boxes_of_points(ax, 2.5 * px_per_pt) if avoid_points else []
    frame = ax.get_window_extent(renderer)
    placed = []
    prefer = [prefer] * len(labels) if np.isscalar(prefer) else list(prefer)
    for x, y, label, first in zip(xs, ys, labels, prefer):
        angles = sorted((step * 22.5 for step in range(16)),
                        key=lambda a: min(abs(a - first) % 360, 360 - abs(a - first) % 360))
        anchor = ax.transData.transform((x, y))
        own = Bbox.from_extents(anchor[0] - 3 * px_per_pt, anchor[1] - 3 * px_per_pt,
                                anchor[0] + 3 * px_per_pt, anchor[1] + 3 * px_per_pt)
        note = ax.annotate(label, (x, y), xytext=(0, 0), textcoords="offset points", fontsize=fontsize, **text_kw)
        best = None
        for distance in (4, 7, 11, 16, 22, 30, 40, 52, 66):
            for degrees in angles:
                angle = math.radians(degrees)
                dx, dy = distance * math.cos(angle), distance * math.sin(angle)
                ha = "left" if dx > 1 else "right" if dx < -1 else "center"
                va = "bottom" if dy > 1 else "top" if dy < -1 else "center"
                note.set(ha=ha, va=va)
                note.xyann = (dx, dy)
                note.update_positions(renderer)
                box = Text.get_window_extent(note, renderer)  # the text only, not a leader line
                outside = (box.x0 < frame.x0 + 1 or box.x1 > frame.x1 - 1 or box.y0 < frame.y0 + 1
                           or box.y1 > frame.y1 - 1)
                cost = (1e6 if outside else 0.0) + sum(_overlap(box, t) for t in taken) * 10 + \
                    sum(_overlap(box, m) for m in markers if _overlap(m, own) == 0)
                if best is None or cost < best[0]:
                    best = (cost, dx, dy, ha, va, box)
                if cost == 0:
                    break
            if best[0] == 0:
                break
        _, dx, dy, ha, va, box = best
        note.set(ha=ha, va=va)
        note.xyann = (dx, dy)
        if math.hypot(dx, dy) > leader_after:  # far from its point: a leader line says whose label it is
            note.remove()
            note = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                               ha=ha, va=va, arrowprops=dict(arrowstyle="-", color="0.45", lw=0.6, shrinkA=1,
                                                             shrinkB=2.5), **text_kw)
        taken.append(box)
        placed.append(note)
    return placed
