"""Figures on the book's page: inline SVG whose points name themselves on hover, offline.

Why SVG with a title per point rather than an interactive plotting library: the figure stays the
one matplotlib drew (same layout, fonts, statistics as the static PNG/PDF that ``cornet-repro
figure`` writes), it needs no JavaScript library and no CDN (a few lines of inline script add a
styled tooltip; the SVG ``<title>`` alone already works, in any browser, for screen readers too),
and it scales to any column width without blurring.

A figure module marks hoverable points with :func:`label_points` and records its smallest font
with :func:`record_meta` (``fig.cornet_meta = {"min_fontsize": pt, "dpi": dpi}``);
:func:`page_figure` writes both into the SVG (``data-cornet-*`` attributes) so the browser test
can compute the rendered size of the smallest text: ``pt × dpi / 72 × displayed / natural width``.
"""

from __future__ import annotations

import html
import io
import itertools
import re
import xml.etree.ElementTree as ET
from typing import Sequence

import matplotlib.pyplot as plt
from IPython.display import HTML
from matplotlib.collections import Collection
from matplotlib.text import Text

__all__ = ["label_points", "record_meta", "text_boxes", "overlapping_texts", "page_figure", "MIN_FONTSIZE"]

#: The smallest font any figure uses (pt). With a figure no wider than the column (7 in at 96 px/in,
#: ~672 px at a 1280 px window) it renders at >= 7.5 * 96 / 72 = 10 CSS px.
MIN_FONTSIZE = 7.5

_SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", _SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
_ids = itertools.count()


def label_points(collection: Collection, labels: Sequence[str]) -> Collection:
    """Attach one hover text per point of a scatter (in the order of its offsets); returns it."""
    n = len(collection.get_offsets())
    if len(labels) != n:
        raise ValueError(f"label_points: {len(labels)} labels for {n} points; give one label per point")
    collection.cornet_labels = [str(label) for label in labels]
    return collection


def _visible_texts(fig: plt.Figure) -> list[Text]:
    """The texts a reader sees: visible, non-empty, and for tick labels only the ticks drawn (an
    axis keeps label objects for ticks outside its view limits)."""
    tick_labels, drawn = set(), []
    for ax in fig.axes:
        for axis in ax._axis_map.values():
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_labels.update((id(tick.label1), id(tick.label2)))
            for tick in axis._update_ticks():  # the ticks inside the view limits, as drawn
                drawn += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    texts = [t for t in fig.findobj(Text) if id(t) not in tick_labels] + drawn
    return [t for t in texts if t.get_visible() and t.get_text().strip()
            and (t.axes is None or t.axes.get_visible())]


def record_meta(fig: plt.Figure) -> plt.Figure:
    """Set ``fig.cornet_meta``: the smallest font size among its visible texts (pt) and its dpi."""
    fig.canvas.draw()  # tick labels exist only once drawn
    sizes = [t.get_fontsize() for t in _visible_texts(fig)]
    fig.cornet_meta = {"min_fontsize": float(min(sizes)) if sizes else None, "dpi": float(fig.dpi)}
    return fig


def text_boxes(fig: plt.Figure) -> list[tuple[Text, object]]:
    """Every visible text of ``fig`` with its window extent (Bbox, display pixels) as drawn."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # Text's own extent: an Annotation's would include its leader line
    return [(t, Text.get_window_extent(t, renderer)) for t in _visible_texts(fig)]  # after draw(): positions current


def overlapping_texts(fig: plt.Figure, pad: float = 0.0) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes intersect (by more than ``pad`` px): what a reader sees overprinted."""
    boxes = text_boxes(fig)
    pairs = []
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        if (min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > pad) and (min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > pad):
            pairs.append((a.get_text(), b.get_text()))
    return pairs


_WIDE_STYLE = """<style>
svg.cornet-figure { display: block; }
svg.cornet-narrow-layout { display: none; }
@media (max-width: 767.98px) {
  svg.cornet-wide-layout { display: none; }
  svg.cornet-narrow-layout { display: block; }
}
@media (min-width: 992px) {
  .bd-page-width:not(:has(.bd-sidebar-secondary)) .cornet-wide { width: 136%; max-width: 136%; position: relative; z-index: 2; }
}
</style>"""

_TOOLTIP_SCRIPT = """<script>
(function () {
  if (window.cornetTip) return;
  var tip = document.createElement("div");
  tip.className = "cornet-tooltip";
  tip.setAttribute("role", "tooltip");
  tip.style.cssText = "position:fixed;display:none;pointer-events:none;z-index:1000;padding:3px 6px;" +
    "background:rgba(20,20,20,.9);color:#fff;font:13px/1.3 sans-serif;border-radius:3px;white-space:pre;";
  window.cornetTip = tip;
  document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(tip); });
  function show(e) {
    var el = e.target.closest && e.target.closest("[data-cornet-tip]");
    if (!el) { tip.style.display = "none"; return; }
    if (!tip.parentNode) document.body.appendChild(tip);
    tip.textContent = el.getAttribute("data-cornet-tip");
    tip.style.display = "block";
    var x = Math.min(e.clientX + 12, window.innerWidth - tip.offsetWidth - 4);
    tip.style.left = Math.max(0, x) + "px";
    tip.style.top = (e.clientY + 14) + "px";
  }
  document.addEventListener("mouseover", show);
  document.addEventListener("mousemove", show);
  document.addEventListener("mouseout", function (e) {
    if (!e.relatedTarget || !e.relatedTarget.closest || !e.relatedTarget.closest("[data-cornet-tip]")) {
      tip.style.display = "none";
    }
  });
})();
</script>"""


def _svg(fig: plt.Figure) -> tuple[ET.Element, int]:
    """The figure as an SVG tree, each labelled point's group carrying its title; (tree, points labelled)."""
    labelled = {}
    for collection in fig.findobj(lambda a: hasattr(a, "cornet_labels")):
        gid = f"cornet-points-{next(_ids)}"
        collection.set_gid(gid)
        labelled[gid] = collection.cornet_labels
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "path", "svg.hashsalt": "cornet-repro"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    root = ET.fromstring(buffer.getvalue())
    n = 0
    for group in root.iter(f"{{{_SVG_NS}}}g"):
        labels = labelled.get(group.get("id"))
        if labels is None:
            continue
        points = list(group.iter(f"{{{_SVG_NS}}}use"))  # one <use> per marker, in offset order
        if len(points) != len(labels):  # matplotlib drew the markers otherwise: leave them unlabelled
            continue
        for point, label in zip(points, labels):
            point.set("data-cornet-tip", label)
            title = ET.Element(f"{{{_SVG_NS}}}title")
            title.text = label
            point.insert(0, title)
            n += 1
    return root, n


def _page_svg(fig: plt.Figure, alt: str, css_class: str) -> str:
    meta = getattr(fig, "cornet_meta", None) or record_meta(fig).cornet_meta
    root, _ = _svg(fig)
    width_pt = float(root.get("viewBox").split()[2])
    root.set("class", css_class)
    root.set("data-cornet-min-fontsize", f"{meta['min_fontsize']:g}")
    root.set("data-cornet-dpi", "72")  # SVG user units are points
    root.set("data-cornet-natural-width", f"{width_pt:.2f}")
    root.set("role", "img")
    if alt:
        root.set("aria-label", alt)
    # Scale with the column (never wider, so no page scroll on a phone) and at most 1.25x natural size.
    root.set("style", f"width:100%;max-width:{1.25 * width_pt * 96 / 72:.0f}px;height:auto;margin:auto")
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    return re.sub(r"<\?xml[^>]*>", "", ET.tostring(root, encoding="unicode"))


def page_figure(fig: plt.Figure, *, full_width: bool = False, alt: str = "",
                narrow: plt.Figure | None = None) -> HTML:
    """The figure for a book page: inline SVG (points with :func:`label_points` show their text on
    hover), scaled to the column, with the measurements the browser test needs.

    ``full_width``: as wide as the theme's full-width content (136% of the column at >= 992 px) for
    figures that need it, on pages without a right-hand table of contents. Not the theme's own
    ``full-width`` class: its script then looks for that sidebar and throws on pages without one.
    ``narrow``: the same figure laid out for a phone (fewer panels a row), shown instead of ``fig``
    below 768 px: a wide multi-panel figure scaled to a phone's column would shrink its text to ~4 px.
    """
    svg = _page_svg(fig, alt, "cornet-figure cornet-wide-layout" if narrow is not None else "cornet-figure")
    if narrow is not None:
        svg += _page_svg(narrow, alt, "cornet-figure cornet-narrow-layout")
    wrapper = "cornet-figure-wrap cornet-wide" if full_width else "cornet-figure-wrap"
    return HTML(f'<div class="{html.escape(wrapper)}">{svg}</div>{_WIDE_STYLE}{_TOOLTIP_SCRIPT}')
