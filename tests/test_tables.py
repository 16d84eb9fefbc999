"""The book's tables: cell formats, the HTML renderer, Table A1, the Fig. 4 table, prose numbers."""

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from cornet_repro.data.published import load_circuitry_deltas, load_scores
from cornet_repro.figures.downloads import read_header, write_data
from cornet_repro.figures.fig4_circuitry import circuitry_table
from cornet_repro.figures.table_a1 import mean_check, ost_sentence, render_table_a1, table_a1
from cornet_repro.figures.tables import (Column, fmt_integer, fmt_number, fmt_signed, render_claims_table,
                                         render_fig4_table, render_table)
from cornet_repro.prose import count, join_words, ordinal, value_range
from cornet_repro.reports import fig4_compact_table, fig4_recomputed_names, published_inventory


@pytest.fixture(scope="module")
def scores():
    return load_scores()


class _Cells(HTMLParser):
    """Rows of a rendered table as lists of (tag, attrs, text)."""

    def __init__(self):
        super().__init__()
        self.rows, self._cell, self.in_script = [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = [tag, dict(attrs), ""]
        self.in_script = tag in ("script", "style")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(tuple(self._cell))
            self._cell = None
        if tag in ("script", "style"):
            self.in_script = False

    def handle_data(self, data):
        if self._cell is not None and not self.in_script:
            self._cell[2] += data


def cells(html: str) -> list[list[tuple]]:
    parser = _Cells()
    parser.feed(html)
    return parser.rows


# --- prose numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize("n, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                                     (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"),
                                     (111, "111th"), (112, "112th"), (0, "0th")])
def test_ordinal(n, text):
    assert ordinal(n) == text


def test_ordinal_rejects_fractions():
    with pytest.raises(ValueError, match="whole number"):
        ordinal(2.5)


def test_value_range_count_and_join():
    assert value_range(129.03, 148.2, "ms") == "from 129 to 148 ms"
    assert value_range(129.03, 129.4, "ms") == "129 ms"  # equal at the printed precision
    assert value_range(0.1, 0.25, decimals=2) == "from 0.10 to 0.25"
    assert (count(1, "model"), count(243, "model"), count(1234, "child", "children")) == (
        "1 model", "243 models", "1,234 children")
    assert [join_words(x) for x in (["a"], ["a", "b"], ["a", "b", "c"])] == ["a", "a and b", "a, b and c"]


# --- cell formats and the renderer -----------------------------------------------------------------

def test_cell_formats():
    assert fmt_number(-0.0704) == "\u22120.070" and fmt_number(-0.0001) == "0.000"
    assert fmt_number(0.47055) == "0.471" and fmt_number(np.nan) == "–" and fmt_number(pd.NA) == "–"
    assert fmt_integer(15.0) == "15" and fmt_integer(53416616) == "53,416,616" and fmt_integer(None) == "–"
    with pytest.raises(ValueError, match="whole number"):
        fmt_integer(15.5)
    assert [fmt_signed(v) for v in (-7, 1, 0, -0.4, np.nan)] == ["\u22127", "+1", "0", "0", "–"]
    assert fmt_signed(31.6026, 1) == "+31.6"


def test_render_table_sorts_on_raw_values_and_separates_columns():
    frame = pd.DataFrame({"model": ["a<b", "c"], "score": [0.47055, np.nan], "depth": [15.0, 101.0]})
    table = render_table(frame, [Column("model", "Model"), Column("score", "Score", "number", 3),
                                 Column("depth", "Depth", "integer")], table_id="t1", caption="<b>T.</b> x")
    rows = cells(table.html)
    header, first, second = rows
    assert [c[2] for c in header] == ["Model", "Score", "Depth"]
    # the key column is a row header (sticky), each value its own cell, raw value kept for sorting
    assert first == [("th", {"scope": "row", "class": "cr-text cr-key", "data-value": "a<b"}, "a<b"),
                     ("td", {"class": "cr-num", "data-value": "0.47055"}, "0.471"),
                     ("td", {"class": "cr-num", "data-value": "15.0"}, "15")]
    assert second[1] == ("td", {"class": "cr-num", "data-value": ""}, "–")  # missing sorts last
    assert "a&lt;b" in table.html  # escaped
    assert "<script>" in table.html and "http" not in re.sub(r"<figcaption>.*?</figcaption>", "", table.html)
    assert repr(table) == "T. x [2 rows × 3 columns]"


def test_render_table_groups_and_checks_its_input():
    frame = pd.DataFrame({"g": ["A", "A", "B"], "v": ["x", "y", "z"], "d": [1.0, -2.0, 0.0]})
    table = render_table(frame, [Column("v", "Variant"), Column("d", "Δ", "signed")], table_id="t2", group_by="g",
                         bold=pd.Series([False, True, False]), header_groups=[("", 1), ("change", 1)])
    rows = cells(table.html)
    group_rows = [r[0][2] for r in rows if len(r) == 1 and r[0][1].get("scope") == "rowgroup"]
    assert group_rows == ["A", "B"]  # one header row per group, not the name on every row
    assert "cr-sortable" not in table.html  # grouped tables keep their order
    assert table.html.count("class='cr-bold'") == 1
    with pytest.raises(ValueError, match=r"no column\(s\) \['nope'\]"):
        render_table(frame, [Column("nope", "N")], table_id="t3")
    with pytest.raises(ValueError, match="header_groups span 3"):
        render_table(frame, [Column("v", "V")], table_id="t4", header_groups=[("a", 3)])
    with pytest.raises(ValueError, match="kind must be one of"):
        Column("v", "V", kind="percent")


# --- Table A1 ----------------------------------------------------------------------------------

def test_table_a1_formats_and_caption(scores):
    table = table_a1(scores)
    assert list(table.columns[:3]) == ["model", "rank", "family"] and str(table["Depth"].dtype) == "Int64"
    html = render_table_a1(table, sort_by="brain_score", include_basenets=False, decimals=3, n_basenets=181).html
    rows = cells(html)
    header = rows[1]
    assert [c[2] for c in header][:5] == ["Model", "Rank", "Family", "Brain-Score", "V4"]
    cornet = next(r for r in rows if r and r[0][2] == "CORnet-S")
    texts = [c[2] for c in cornet]
    # V4, IT and behaviour in cells of their own at 3 decimals, depth an integer
    assert texts[3:8] == ["0.471", "0.650", "0.600", "0.382", "0.250"] and texts[-1] == "15"
    assert "{glue" not in html and "brain_score," not in html.split("Parameters")[0]
    caption = re.search(r"<figcaption>(.*?)</figcaption>", html).group(1)
    assert "62 named models" in caption and "ranked by Brain-Score" in caption and "Data: published" in caption
    with pytest.raises(ValueError, match="decimals"):
        table_a1(scores, decimals=-1)


def test_ost_sentence_is_stated_from_the_data(scores):
    named = scores[~scores.is_basenet]
    text = ost_sentence(named)
    assert text.startswith("OST is above 0 for CORnet-S (0.25) and 0 for the other 61 models")
    assert "60 feed-forward models" in text and "IamNN is recurrent" in text
    # change the data and the sentence follows
    changed = named.copy()
    changed.loc[changed.model == "IamNN", "OST"] = 0.1
    text = ost_sentence(changed)
    assert "CORnet-S (0.25) and IamNN (0.10)" in text and "IamNN is recurrent" not in text
    assert "all are feed-forward" in text


def test_brain_score_is_the_mean_of_its_four_benchmarks(scores):
    n, worst = mean_check(scores)
    assert n == 238 and worst < 1e-12


def test_published_inventory():
    inventory = published_inventory()
    assert inventory["n_models"] == "243 models" and inventory["n_named"] == "62 named networks"
    assert inventory["n_basenets"] == "181 BaseNet checkpoints" and inventory["commit"] == "5fa576a6"
    assert (inventory["fig4_rows"], inventory["fig4_groups"]) == ("22 rows", "8 groups")
    assert inventory["fig5_precision"] == "±0.05 ms" and inventory["bin_width"] == "10 ms"


# --- Fig. 4 table ----------------------------------------------------------------------------

def _recomputed(published):
    variants = published[["group", "variant"]]
    return pd.DataFrame(dict(group=variants.group, variant=variants.variant, delta_top1_pct=-1.25,
                             delta_top1_pct_sd=0.5, delta_brain_score_pct=2.0, delta_brain_score_pct_sd=np.nan,
                             source="simulated", top1_measure="validation_top1", top1=0.2, brain_score=0.3))


def test_fig4_table_groups_rows_and_heads_simulated_columns_as_simulated():
    published = load_circuitry_deltas()
    compact = fig4_compact_table(circuitry_table(published, _recomputed(published)))
    names = fig4_recomputed_names(compact)
    assert names == ("simulated", "simulated")
    html = render_fig4_table(compact, source_names=names, caption="x").html
    rows = cells(html)
    labels = [c[2] for c in rows[1]]
    assert labels[:3] == ["Variant", "Δ ImageNet top-1 (published)", "Δ simulated top-1 (recomputed)"]
    assert not any("ImageNet" in label and "recomputed" in label for label in labels)
    groups = [r[0][2] for r in rows if len(r) == 1 and r[0][1].get("scope") == "rowgroup"]
    assert groups == list(dict.fromkeys(published.group))  # each group once, in the paper's order
    skip = next(r for r in rows if r and r[0][2] == "absent")
    assert [c[2] for c in skip[1:5]] == ["\u22122", "\u22121.2 ± 0.5", "\u22121", "+2.0"]
    assert html.count("(CORnet-S)</th>") == 8  # the baseline of each group, bold
    only_published = render_fig4_table(fig4_compact_table(circuitry_table(published)), source_names=None, caption="")
    assert "recomputed" not in only_published.html


def test_fig4_names_an_imagenet_run_imagenet():
    published = load_circuitry_deltas()
    recomputed = _recomputed(published).assign(top1_measure="imagenet_top1", source="real")
    assert fig4_recomputed_names(fig4_compact_table(circuitry_table(published, recomputed))) == ("real", "ImageNet")


# --- claims table and CSVs ---------------------------------------------------------------------------

def test_claims_table_and_csv_round_trip(tmp_path):
    claims = pd.DataFrame(dict(where=["§4.1"], claim=["x"], printed=[".471"], recomputed=[".471"], agrees=[True],
                               how=["table value"]))
    rows = cells(render_claims_table(claims, caption="c").html)
    assert [c[2] for c in rows[1]] == ["§4.1", "xtable value", ".471", ".471", "yes"]
    assert "<span class='cr-detail'>table value</span>" in render_claims_table(claims, caption="c").html
    path = write_data(claims, "claims", source="published", parameters={"threshold": 0.7}, directory=tmp_path)
    assert read_header(path) == {"claims": "the values plotted or tabulated on its page", "source": "published",
                                 "parameter threshold": "0.7"}
    back = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(back, claims.astype(str), check_dtype=False)
