"""Each figure's and table's data as a CSV beside it: exactly the values shown, with their source.

A CSV starts with ``# `` header rows (what the data is, its source, the parameters that made it),
then the table. ``pandas.read_csv(path, comment="#")`` reads it back. In the book, the link is
the MyST ``{download}`` role with a path from the book root, which Sphinx copies into
``_build/html/_downloads/``; paste it with ``{glue:md}`key:myst``` (commonmark would print the role).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
from IPython.display import Markdown

from ..files import atomic_path

__all__ = ["write_data", "download_link", "read_data", "read_header"]


def _header_value(value: Any) -> str:
    """One line per parameter: JSON for structures (unambiguous), plain text otherwise."""
    if isinstance(value, (list, tuple, dict)) or value is None or isinstance(value, bool):
        return json.dumps(value, default=str)
    return " ".join(str(value).split())  # no newline may break the header row


def write_data(df: pd.DataFrame, name: str, *, source: str, parameters: Mapping[str, Any],
               directory: str | os.PathLike = "data") -> Path:
    """Write ``df`` to ``directory/name.csv`` atomically, with ``# `` header rows giving the source
    and parameters; returns the path."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"name {name!r}: must be a plain file name without '/'; e.g. 'fig1'")
    if not source.strip():
        raise ValueError(f"{name}: source is empty; say where the values come from (published / real / simulated)")
    target = Path(directory) / f"{name}.csv"
    lines = [f"# {name}: the values plotted or tabulated on its page",
             f"# source: {_header_value(source)}"]
    lines += [f"# parameter {key}: {_header_value(value)}" for key, value in parameters.items()]
    lines.append(f"# read with pandas.read_csv(path, comment='#')")
    with atomic_path(target) as tmp:
        with open(tmp, "w", newline="") as f:
            f.write("\n".join(lines) + "\n")
            df.to_csv(f, index=False)
    return target


def read_data(path: str | os.PathLike) -> pd.DataFrame:
    """The table of a CSV written by :func:`write_data` (its header rows skipped)."""
    return pd.read_csv(path, comment="#")


def read_header(path: str | os.PathLike) -> dict[str, str]:
    """The header rows of a CSV written by :func:`write_data`: ``source`` and ``parameter <name>``."""
    header = {}
    with open(path) as f:
        for line in f:
            if not line.startswith("# "):
                break
            key, sep, value = line[2:].rstrip("\n").partition(": ")
            if sep:
                header[key] = value
    return header


def download_link(path: str | os.PathLike, text: str = "Download the data (CSV)") -> Markdown:
    """A link, for a notebook output under the caption, that resolves in the built HTML.

    ``path`` is relative to the book root (where the book's notebooks run) or absolute inside it;
    the link is a MyST ``{download}`` role, so paste it as MyST (``{glue:md}`key:myst```). A file
    outside the book root (``cornet-repro figure --out`` elsewhere) cannot be linked from the book:
    it is named instead.
    """
    if "`" in text or "<" in text:
        raise ValueError(f"link text {text!r}: may not contain '`' or '<'")
    path = Path(path)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return Markdown(f"Data: `{path}`")
    return Markdown(f"{{download}}`{text} </{path.as_posix()}>`")
