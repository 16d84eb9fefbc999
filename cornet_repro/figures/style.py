"""One plotting style for every figure: the paper's colours, fonts and despined axes."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Iterator

import matplotlib as mpl
import matplotlib.pyplot as plt

from ..files import atomic_path

# Colours sampled from the paper's figures.
MODEL_GREEN = "#3a9d5a"     # published deep nets
CORNET_RED = "#e0506a"      # CORnet-S
BASENET_GREY = "#9a9a9a"    # BaseNets
CIRCUIT_MAGENTA = "#d4145a"  # Fig. 4/5 accents
HULL_GREY = "#dddddd"       # family outlines in Fig. 3

#: Markers and colours for locally computed models overlaid on the published ones, by data source.
SOURCE_STYLE = {
    "real": dict(color="#1f5fbf", marker="*", s=140, edgecolor="black", linewidth=0.6, zorder=6),
    "simulated": dict(color="#f0a030", marker="D", s=60, edgecolor="black", linewidth=0.6, zorder=6),
}

# Sizes for the page: figures are drawn at the width they are shown (<= 7 in in the text column,
# <= 9.5 in full width), so 7.5 pt is the smallest text and renders at >= 9 CSS px (see interactive.py).
RC = {
    "font.size": 9,
    "axes.labelsize": 9.5,
    "axes.labelweight": "bold",
    "axes.titlesize": 9.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 1.0,
    "legend.frameon": False,
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,
}


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """Apply the shared style inside a ``with`` block (does not leak into other plots)."""
    with mpl.rc_context(RC):
        yield


def strip_leading_zero(ax: plt.Axes, axis: str = "both") -> None:
    """Tick labels as the paper prints them: .4 rather than 0.4."""
    fmt = mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}".replace("0.", ".", 1) if 0 < abs(v) < 1 else f"{v:g}")
    if axis in ("x", "both"):
        ax.xaxis.set_major_formatter(fmt)
    if axis in ("y", "both"):
        ax.yaxis.set_major_formatter(fmt)


def save_figure(fig: plt.Figure, directory: str | Path | None, name: str) -> list[Path]:
    """Write ``name.png`` and ``name.pdf`` into ``directory`` atomically; no-op when it is None.

    Static, for print. The PNG carries the figure's ``cornet_meta`` (smallest font, dpi) as a text
    chunk, so its rendered text size can be checked wherever it is shown."""
    if directory is None or str(directory) == "":
        return []
    written = []
    meta = getattr(fig, "cornet_meta", None)
    for ext in ("png", "pdf"):
        target = Path(directory) / f"{name}.{ext}"
        extra = {"metadata": {"cornet_meta": json.dumps(meta)}} if ext == "png" and meta else {}
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, **extra)
        written.append(target)
    return written
