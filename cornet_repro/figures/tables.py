"""Tables for the page: formatted cells, a caption in words, sortable and filterable, offline.

:func:`render_table` turns a DataFrame into one self-contained HTML block (a ``<figure>`` with
its caption, a filter box, and a scroll box whose header row and key column stay in view). The
sorting and filtering are a few lines of our own JavaScript and CSS, inlined in the block: a
table library (DataTables through itables, say) would bring jQuery and ~100 KB per page to be
inlined for offline use, for two features that need 40 lines. Sorting uses each cell's raw
value (``data-value``), not its formatted text, so ``"–"`` (missing) sorts last and ``"15"``
sorts before ``"101"``.

The cell formatters (:func:`fmt_number`, :func:`fmt_integer`, :func:`fmt_signed`) are the one
place the book's tables format numbers.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = ["Column", "HtmlTable", "MISSING", "fmt_integer", "fmt_number", "fmt_signed", "render_table"]

#: what a table prints for a missing value
MISSING = "–"

KINDS = ("text", "number", "integer", "signed")


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def fmt_number(value, decimals: int = 3) -> str:
    """``0.47055`` → ``'0.471'``, ``-0.07`` → ``'−0.070'`` (a true minus); missing → ``'–'``."""
    if _missing(value):
        return MISSING
    text = f"{float(value):.{decimals}f}"
    return text.replace("-", "\u2212") if float(text) != 0 else text.lstrip("-")


def fmt_integer(value) -> str:
    """``15.0`` → ``'15'``, ``53416616`` → ``'53,416,616'``; missing → ``'–'``."""
    if _missing(value):
        return MISSING
    if float(value) != int(float(value)):
        raise ValueError(f"fmt_integer: {value!r} is not a whole number")
    return f"{int(float(value)):,}"


def fmt_signed(value, decimals: int = 0) -> str:
    """A change with its sign: ``-7`` → ``'−7'``, ``1`` → ``'+1'``, ``0`` → ``'0'``; missing → ``'–'``.

    The minus is U+2212, as in print; zero (at the printed precision) has no sign.
    """
    if _missing(value):
        return MISSING
    text = f"{float(value):+.{decimals}f}"
    if float(text) == 0:
        return text[1:].replace("-", "")
    return text.replace("-", "\u2212")


@dataclass(frozen=True)
class Column:
    """One column of a rendered table: which frame column, its header, how cells are formatted.

    ``kind``: ``text`` (as is), ``number`` (``decimals`` places), ``integer``, or ``signed``
    (a change: ``+1``, ``−7``, ``decimals`` places). ``sd``: a frame column of spreads printed as
    ``± sd`` after the value. ``note``: the header's tooltip. ``wrap``: let long text wrap
    (other cells stay on one line, so numbers never break). ``detail``: a frame column printed as a
    smaller line under the value (it is filtered on, not sorted on).
    """

    key: str
    label: str
    kind: str = "text"
    decimals: int = 3
    sd: str | None = None
    note: str = ""
    wrap: bool = False
    detail: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Column {self.key!r}: kind must be one of {KINDS}, got {self.kind!r}")

    def format(self, value, sd=None) -> str:
        if self.kind == "number":
            text = fmt_number(value, self.decimals)
        elif self.kind == "integer":
            text = fmt_integer(value)
        elif self.kind == "signed":
            text = fmt_signed(value, self.decimals)
        else:
            text = MISSING if _missing(value) else str(value)
        if sd is not None and not _missing(sd) and text != MISSING:
            text += f" ± {float(sd):.{self.decimals}f}"
        return text

    def sort_value(self, value) -> str:
        if _missing(value):
            return ""
        return repr(float(value)) if self.kind != "text" else str(value)


@dataclass(frozen=True)
class HtmlTable:
    """A rendered table: ``html`` for the page (Jupyter and myst-nb show it), ``text`` otherwise."""

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def render_table(frame: pd.DataFrame, columns: Sequence[Column], *, table_id: str, caption: str = "",
                 group_by: str | None = None, bold: pd.Series | None = None,
                 header_groups: Sequence[tuple[str, int]] | None = None,
                 sortable: bool = True, filterable: bool = True, max_height: str = "70vh") -> HtmlTable:
    """The table as one HTML block, the first column (the key) and the header kept in view.

    Args:
        frame: one row per table row, holding every ``Column.key`` (and ``group_by``).
        columns: what to show, in order; the first is the key column (sticky when scrolling sideways).
        table_id: the HTML id (letters, digits, ``-``), unique on the page.
        caption: HTML for the caption (the caller escapes its own text; it may hold ``<b>``).
        group_by: a frame column; each run of equal values gets one header row spanning the table
            instead of the value repeated on every row (sorting is then off: the groups are the order).
        bold: a boolean Series aligned with ``frame``: rows to print in bold (e.g. the baseline).
        header_groups: ``(label, n_columns)`` spans for a header row above the column labels.
    """
    if not table_id.replace("-", "").isalnum():
        raise ValueError(f"table_id must be letters, digits and '-', got {table_id!r}")
    missing = [c.key for c in columns if c.key not in frame] + [
        extra for c in columns for extra in (c.sd, c.detail) if extra and extra not in frame]
    if group_by is not None and group_by not in frame:
        missing.append(group_by)
    if missing:
        raise ValueError(f"render_table({table_id}): frame has no column(s) {missing}; it has {list(frame.columns)}")
    if header_groups is not None and sum(n for _, n in header_groups) != len(columns):
        raise ValueError(f"render_table({table_id}): header_groups span {sum(n for _, n in header_groups)} "
                         f"columns, the table has {len(columns)}")
    sortable = sortable and group_by is None
    esc = html.escape
    head = []
    if header_groups:
        head.append("<tr class='cr-spans'>" + "".join(
            f"<th colspan='{n}' scope='colgroup'>{esc(label)}</th>" for label, n in header_groups) + "</tr>")
    cells = []
    for i, c in enumerate(columns):
        cls = "cr-num" if c.kind != "text" else "cr-text"
        title = f" title='{esc(c.note, quote=True)}'" if c.note else ""
        label = esc(c.label)
        if sortable:
            label = f"<button type='button' data-col='{i}'>{label}<span class='cr-arrow' aria-hidden='true'></span></button>"
        cells.append(f"<th scope='col' class='{cls}'{title}>{label}</th>")
    head.append("<tr>" + "".join(cells) + "</tr>")

    body, previous = [], object()
    rows = frame.reset_index(drop=True)
    bold_rows = (pd.Series(False, index=rows.index) if bold is None
                 else pd.Series(bold).reset_index(drop=True).fillna(False).astype(bool))
    for i, row in rows.iterrows():
        if group_by is not None and row[group_by] != previous:
            previous = row[group_by]
            body.append(f"<tr class='cr-group'><th colspan='{len(columns)}' scope='rowgroup'>{esc(str(previous))}</th></tr>")
        tds = []
        for j, c in enumerate(columns):
            text = esc(c.format(row[c.key], row[c.sd] if c.sd else None))
            if c.detail and not _missing(row[c.detail]):
                text += f"<span class='cr-detail'>{esc(str(row[c.detail]))}</span>"
            cls = "cr-num" if c.kind != "text" else "cr-text cr-wrap" if c.wrap or c.detail else "cr-text"
            value = esc(c.sort_value(row[c.key]), quote=True)
            tag = "th scope='row'" if j == 0 else "td"
            cls += " cr-key" if j == 0 else ""
            tds.append(f"<{tag} class='{cls}' data-value='{value}'>{text}</{tag.split()[0]}>")
        body.append(("<tr class='cr-bold'>" if bold_rows[i] else "<tr>") + "".join(tds) + "</tr>")

    tools = ""
    if filterable:
        tools = (f"<div class='cr-tools'><label>Filter rows <input type='search' class='cr-filter' "
                 f"aria-controls='{table_id}' placeholder='e.g. ResNet'></label> "
                 f"<span class='cr-count' aria-live='polite'>{len(rows)} of {len(rows)} rows</span>"
                 + (" <span class='cr-hint'>· click a column header to sort</span>" if sortable else "")
                 + "</div>")
    block = (f"<figure class='cr-table' id='{table_id}-figure'>"
             + (f"<figcaption>{caption}</figcaption>" if caption else "")
             + tools
             + f"<div class='cr-scroll' style='max-height:{max_height}' tabindex='0' role='region' "
               f"aria-label='{esc(html_to_text(caption)[:80] or table_id, quote=True)}'>"
             + f"<table id='{table_id}' class='cr-data{' cr-sortable' if sortable else ''}'>"
             + "<thead>" + "".join(head) + "</thead><tbody>" + "".join(body) + "</tbody></table></div></figure>")
    text = f"{html_to_text(caption)} [{len(rows)} rows × {len(columns)} columns]".strip()
    return HtmlTable(_STYLE + block + _SCRIPT, text)


def html_to_text(fragment: str) -> str:
    """A caption's HTML as plain text (tags dropped, entities decoded)."""
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


# One stylesheet and one script per table block; both are idempotent, so a page with several
# tables (or a table glued twice) works. Colours come from the theme's variables, so dark mode works.
_STYLE = """<style>
.cr-table{margin:1em 0;max-width:100%}
.cr-table figcaption{font-size:.9em;margin-bottom:.4em;text-align:left}
.cr-table .cr-tools{font-size:.85em;margin:.3em 0;display:flex;flex-wrap:wrap;gap:.5em;align-items:center}
.cr-table .cr-tools input{font:inherit;padding:.1em .3em;max-width:12em}
.cr-table .cr-hint,.cr-table .cr-count{color:var(--pst-color-text-muted,#666)}
.cr-table .cr-scroll{overflow:auto;max-width:100%;border:1px solid var(--pst-color-border,#ddd)}
.cr-table table.cr-data{border-collapse:separate;border-spacing:0;font-size:.8em;margin:0;width:auto;
  font-variant-numeric:tabular-nums;line-height:1.3}
.cr-table .cr-data th,.cr-table .cr-data td{padding:.25em .5em;border:0;border-bottom:1px solid var(--pst-color-border,#e5e5e5);
  background:var(--pst-color-background,#fff);vertical-align:bottom}
.cr-table .cr-data td.cr-num{text-align:right;white-space:nowrap}
.cr-table .cr-data td.cr-text{text-align:left;white-space:nowrap}
.cr-table .cr-data .cr-detail{display:block;font-size:.9em;color:var(--pst-color-text-muted,#666);margin-top:.15em;
  white-space:normal}
.cr-table .cr-data tbody td,.cr-table .cr-data tbody th{vertical-align:top}
.cr-table .cr-data thead th{position:sticky;top:0;z-index:2;font-weight:600;text-align:center;
  background:var(--pst-color-surface,#f5f5f5);min-width:3.5em;max-width:9em}
.cr-table .cr-data thead tr.cr-spans th{border-bottom:1px solid var(--pst-color-border,#bbb);font-weight:500}
.cr-table .cr-data thead tr.cr-spans+tr th{top:1.9em}
.cr-table .cr-data tbody th[scope=row]{position:sticky;left:0;z-index:1;text-align:left;font-weight:400;
  white-space:nowrap;border-right:1px solid var(--pst-color-border,#ddd)}
.cr-table .cr-data thead tr:last-child th:first-child{left:0;z-index:3;text-align:left}
.cr-table .cr-data thead th:first-child{position:sticky;left:0}
.cr-table .cr-data tr.cr-bold th,.cr-table .cr-data tr.cr-bold td{font-weight:700}
.cr-table .cr-data tr.cr-group th{position:static;text-align:left;font-weight:600;padding-top:.6em;
  background:var(--pst-color-surface,#f5f5f5)}
.cr-table .cr-data thead button{all:unset;cursor:pointer;display:inline-block}
.cr-table .cr-data thead button:focus-visible{outline:2px solid var(--pst-color-primary,#06c)}
.cr-table .cr-data tbody td.cr-wrap{white-space:normal;min-width:11em}
.cr-table .cr-data tbody th.cr-wrap[scope=row]{white-space:normal;min-width:6em;max-width:14em}
.cr-table .cr-data th[aria-sort=ascending] .cr-arrow::after{content:" \\25B2"}
.cr-table .cr-data th[aria-sort=descending] .cr-arrow::after{content:" \\25BC"}
</style>"""

_SCRIPT = """<script>
(function () {
  if (window.crTables) { window.crTables.init(); return; }
  function key(cell) {
    var v = cell.getAttribute("data-value"), x = Number(v);
    return v === "" ? null : (isNaN(x) ? v.toLowerCase() : x);
  }
  function sort(table, col, button) {
    var th = button.parentNode, body = table.tBodies[0];
    var dir = th.getAttribute("aria-sort") === "descending" ? "ascending" : "descending";
    Array.prototype.forEach.call(table.tHead.querySelectorAll("th[aria-sort]"), function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      if (x === null || y === null) { return x === y ? 0 : (x === null ? 1 : -1); }  // missing last
      var c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return dir === "ascending" ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function filter(table, input, count) {
    var q = input.value.trim().toLowerCase(), shown = 0, rows = table.tBodies[0].rows, groups = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (r.className === "cr-group") { groups.push([r, false]); continue; }
      var hit = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
      r.hidden = !hit; if (hit) { shown++; if (groups.length) { groups[groups.length - 1][1] = true; } }
    }
    groups.forEach(function (g) { g[0].hidden = !g[1]; });
    var total = table.tBodies[0].querySelectorAll("tr:not(.cr-group)").length;
    if (count) { count.textContent = shown + " of " + total + " rows"; }
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("figure.cr-table:not([data-ready])"), function (fig) {
      fig.setAttribute("data-ready", "1");
      var table = fig.querySelector("table.cr-data"), input = fig.querySelector("input.cr-filter");
      Array.prototype.forEach.call(fig.querySelectorAll("thead button[data-col]"), function (b) {
        b.addEventListener("click", function () { sort(table, +b.getAttribute("data-col"), b); });
      });
      if (input) { input.addEventListener("input", function () { filter(table, input, fig.querySelector(".cr-count")); }); }
    });
  }
  window.crTables = {init: init};
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
</script>"""


def render_fig4_table(compact: pd.DataFrame, *, source_names: tuple[str, str] | None, caption: str) -> HtmlTable:
    """The Fig. 4 table: one header row per group, published and recomputed deltas side by side.

    ``compact``: :func:`cornet_repro.reports.fig4_compact_table`; ``source_names``:
    :func:`cornet_repro.reports.fig4_recomputed_names` (None: published only). Recomputed columns
    are headed with their data source (``Δ simulated top-1``): a simulated measure is never called
    ImageNet.
    """
    shown = compact.assign(variant=compact["variant"].where(~compact["is_default"],
                                                            compact["variant"] + " (CORnet-S)"))
    columns = [Column("variant", "Variant", wrap=True)]
    if source_names is None:
        columns += [Column("published_top1", "Δ ImageNet top-1, %", "signed", 0, note="published, read from Fig. 4"),
                    Column("published_brain_score", "Δ Brain-Score, %", "signed", 0,
                           note="published, read from Fig. 4; V4, IT and behaviour (no OST)")]
        groups = None
    else:
        source, top1 = source_names
        columns += [Column("published_top1", "Δ ImageNet top-1 (published)", "signed", 0,
                           note="read by eye from Fig. 4"),
                    _recomputed_column(compact, "recomputed_top1", f"Δ {top1} top-1 (recomputed)"),
                    Column("published_brain_score", "Δ Brain-Score (published)", "signed", 0,
                           note="read by eye from Fig. 4"),
                    _recomputed_column(compact, "recomputed_brain_score", f"Δ Brain-Score ({source}, recomputed)"),
                    Column("top1", f"{top1} top-1", "number", 3, note="mean over seeds"),
                    Column("brain_score", "Brain-Score", "number", 3, note="mean over seeds, without OST")]
        groups = [("", 1), ("change against CORnet-S, %", 4), (f"values, {source}", 2)]
    return render_table(shown, columns, table_id="fig4-table", caption=caption, group_by="group",
                        bold=shown["is_default"], header_groups=groups, filterable=False, max_height="none")


def _recomputed_column(compact: pd.DataFrame, key: str, label: str) -> Column:
    """A recomputed delta: its mean over seeds with the 95% CI under it, or ± s.d. without CIs."""
    if f"{key}_ci" in compact:
        return Column(key, label, "signed", 1, detail=f"{key}_ci",
                      note="mean over seeds; under it the 95% CI over seeds, 'resolved' where it excludes 0")
    return Column(key, label, "signed", 1, sd=f"{key}_sd", note="mean ± s.d. over seeds")


def render_claims_table(claims: pd.DataFrame, *, caption: str) -> HtmlTable:
    """The claims check (:func:`cornet_repro.claims.check_claims`): where, claim (with how it was
    recomputed under it), printed, recomputed, agrees (yes/no); sortable and filterable (e.g. "Fig. 4")."""
    shown = claims.assign(agrees=claims["agrees"].map({True: "yes", False: "no"}))
    columns = [Column("where", "Where", wrap=True),
               Column("claim", "Claim (how it was recomputed)", detail="how",
                      note="under each claim: how it was recomputed, and the unrounded value"),
               Column("printed", "Printed"),
               Column("recomputed", "Recomputed", wrap=True, note="at the precision the paper printed"),
               Column("agrees", "Agrees")]
    return render_table(shown, columns, table_id="claims-table", caption=caption, max_height="none")


def render_emergence_table(found: pd.DataFrame, *, caption: str) -> HtmlTable:
    """Brain-Score over training (:func:`cornet_repro.figures.training.emergence`): per model and
    measure, its final value, the epoch it reached a fraction of it, its Spearman r with top-1;
    grouped by model, not sortable (a dozen rows)."""
    from .training import DYNAMICS_MEASURES, model_label

    labels = dict(DYNAMICS_MEASURES)
    order = {m: i for i, (m, _) in enumerate(DYNAMICS_MEASURES)}
    shown = found.assign(model=found["model_name"].map(model_label), measure_label=found["measure"].map(labels),
                         rank=found["measure"].map(order), later=found["model_name"] != "cornet_s")  # CORnet-S first
    shown = shown.sort_values(["later", "model_name", "rank"], kind="stable")
    columns = [Column("measure_label", "Measure"), Column("final", "Final value", "number", 3, note="after the last epoch, mean over seeds"),
               Column("epoch_reached", "Epoch it reached the fraction", "integer",
                      note="first epoch whose mean over seeds reached the fraction of the final value; – if the final value is ≤ 0"),
               Column("r_with_top1", "Spearman r with top-1", "number", 2, note="over epochs, means over seeds")]
    return render_table(shown, columns, table_id="emergence-table", caption=caption, group_by="model",
                        filterable=False, max_height="none")
