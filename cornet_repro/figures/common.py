"""Pieces shared by the figure modules: correlation labels and overlays of computed models."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ..results import read_results
from ..stats import Correlation, fmt_p, fmt_r
from .style import SOURCE_STYLE


def annotate_correlation(ax: plt.Axes, corr: Correlation, *, loc: tuple[float, float] = (0.96, 0.06),
                         ha: str = "right", with_ci: bool = True) -> None:
    """Write ``r = .90`` (and its bootstrap CI and n) in axes coordinates, as the paper places it."""
    text = f"r = {fmt_r(corr.r)}"
    if with_ci:
        text += f" [{fmt_r(corr.ci_low)}, {fmt_r(corr.ci_high)}]\n{fmt_p(corr.p)}, n = {corr.n}"
    ax.text(*loc, text, transform=ax.transAxes, ha=ha, va="bottom", fontsize=9)


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
        ax.scatter(group[x], group[y], label=f"computed here ({source})", **SOURCE_STYLE[source])
        if label:
            for _, row in group.iterrows():
                ax.annotate(row["model"], (row[x], row[y]), xytext=(4, 4), textcoords="offset points", fontsize=7)
        drawn += len(group)
    return drawn


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


def load_overlay(results_dir: str | os.PathLike | None) -> pd.DataFrame | None:
    """Locally scored models from ``results_dir`` (None → no overlay), one row per result file."""
    results = read_results_dir(results_dir)
    if results is None or results.empty:
        return None
    return results
