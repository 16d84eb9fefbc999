"""Each figure's and table's data as a CSV beside it, with its source and parameters in header rows.

Minimal version written for the tables (issue 10); the figures' helper owns this module and its
final form. Interface: :func:`write_data` and :func:`download_link`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..files import atomic_path

__all__ = ["download_link", "write_data"]


def write_data(df: pd.DataFrame, name: str, *, source: str, parameters: Mapping[str, Any],
               directory: str | os.PathLike = "data") -> Path:
    """Write ``df`` to ``<directory>/<name>.csv``, preceded by ``# source:`` and ``# parameters:`` rows.

    Read it back with ``pd.read_csv(path, skiprows=2)``.
    """
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"write_data: name must be a plain file stem, got {name!r}")
    path = Path(directory) / f"{name}.csv"
    header = [f"# source: {source}",
              "# parameters: " + (", ".join(f"{k}={v!r}" for k, v in parameters.items()) or "none")]
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as f:
            f.write("\n".join(header) + "\n")
            df.to_csv(f, index=False)
    return path


def download_link(path: str | os.PathLike, text: str = "Download the data (CSV)"):
    """A Markdown download link to ``path`` (relative to the book root, where notebooks run)."""
    from IPython.display import Markdown

    target = Path(path)
    target = target if target.is_absolute() else Path("/") / target  # '/x' = the book's source root
    return Markdown(f"{{download}}`{text} <{target.as_posix()}>`")
