"""Pieces shared by the figure modules: correlation labels and overlays of computed models."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

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


def _read_results(results_dir: str | None) -> pd.DataFrame | None:
    if results_dir is None or str(results_dir) == "":
        return None
    from pathlib import Path

    from ..results import read_results

    path = Path(results_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"results_dir {str(path)!r} is not a directory: score a model first "
                                "(`cornet-repro score …`) or set results_dir = None")
    return read_results(path)


def load_overlay(results_dir: str | None) -> pd.DataFrame | None:
    """Locally scored models from ``results_dir`` (None → no overlay), one row per result file."""
    results = _read_results(results_dir)
    if results is None or results.empty:
        return None
    # Result files name benchmarks as Brain-Score does; the published table uses lower case.
    return results.rename(columns={"V4": "v4", "IT": "it", "OST": "ost"})


def load_circuitry_results(results_dir: str | None, preset: str | None = None) -> pd.DataFrame | None:
    """Recomputed Fig. 4 deltas (% vs the CORnet-S default, mean and s.d. over seeds) from results.

    ``preset`` selects whose results to show; None takes the preset of the newest result file.
    """
    results = _read_results(results_dir)
    if results is None or results.empty:
        return None
    from ..results import circuitry_deltas

    if preset is None:
        preset = results["preset"].iloc[-1]  # read_results sorts by creation time
    chosen = results[results["preset"] == preset]
    if chosen.empty:
        raise ValueError(f"no results with preset {preset!r} in {results_dir}; found {sorted(results.preset.unique())}")
    deltas = circuitry_deltas(chosen)
    return None if deltas.empty else deltas


def load_ost_results(results_dir: str | None) -> pd.DataFrame | None:
    """Per-image OSTs (``model_ost_ms``, ``monkey_ost_ms``) of the CORnet-S result in ``results_dir``."""
    if results_dir is None or str(results_dir) == "":
        return None
    from ..results import read_ost_pairs

    return read_ost_pairs(results_dir)
