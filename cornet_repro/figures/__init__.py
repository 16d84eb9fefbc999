"""One module per paper figure; each returns a matplotlib Figure (and its statistics)."""

from .style import paper_style, save_figure

__all__ = ["paper_style", "save_figure"]
