"""The circuit diagrams follow the config they are drawn from, and stay readable."""

from __future__ import annotations

import io
import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.image import imread
from matplotlib.text import Text

from cornet_repro.data.published import load_circuitry_deltas
from cornet_repro.figures.circuit import (FONT_PT, circuit_config, draw_circuit, draw_circuit_grid, fig4_groups,
                                          group_values, variant_panels)
from cornet_repro.models.config import FIG4_ROWS, FIG4_VARIANTS, CORnetSConfig
from cornet_repro.models.cornet import CORnetS

DISTINCT = [name for name, _ in variant_panels(include_default=True)]


def _gids(fig: plt.Figure) -> list[str]:
    return [a.get_gid() for a in fig.findobj() if a.get_gid()]


def _text_of(fig: plt.Figure, prefix: str) -> dict[str, str]:
    return {t.get_gid().split(":", 1)[1]: t.get_text() for t in fig.findobj(Text)
            if t.get_gid() and t.get_gid().startswith(prefix)}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", DISTINCT)
def test_drawn_elements_follow_the_config(name):
    config = circuit_config(name)
    fig = draw_circuit(config)
    gids = _gids(fig)
    areas = [g.split(":", 1)[1] for g in gids if g.startswith("area:")]
    assert areas == list(config.area_names)
    steps = {area: int(text.lstrip("×")) for area, text in _text_of(fig, "steps:").items()}
    assert steps == config.steps
    convs = [g.split(":", 1)[1] for g in gids if g.startswith("conv:")]
    assert convs[0] == "conv_input" and convs[1:] == [f"conv{k}" for k in config.conv_layers]
    assert sorted(g for g in gids if g.startswith("norm:")) == sorted(f"norm:conv{k}" for k in config.conv_layers)
    assert ("skip" in gids) == config.skip and ("add" in gids) == config.skip
    recurrent = any(t > 1 for t in config.times)
    assert ("recurrence" in gids) == recurrent
    assert [g for g in gids if g.startswith("gate:")] == ([f"gate:{config.gate}"] if recurrent else [])
    norm = _text_of(fig, "label:")["norm"]
    assert ("batch" if config.norm == "batch" else "group") in norm


def _conv_widths(fig: plt.Figure) -> dict[str, tuple[float, float]]:
    """(bottom, top) width of each convolution's shape: the channels in and out, drawn."""
    out = {}
    for patch in fig.findobj(matplotlib.patches.Polygon):
        if (patch.get_gid() or "").startswith("conv:"):
            xy = patch.get_xy()
            out[patch.get_gid().split(":", 1)[1]] = (xy[1, 0] - xy[0, 0], xy[2, 0] - xy[3, 0])
    return out


def test_shapes_show_the_channel_plan():
    widths = _conv_widths(draw_circuit("cornet_s"))
    assert widths["conv1"][1] > widths["conv1"][0]           # conv1 expands fourfold
    assert widths["conv2"][0] == pytest.approx(widths["conv2"][1])
    assert widths["conv3"][1] < widths["conv3"][0]           # conv3 contracts
    six = _conv_widths(draw_circuit("cornet_s_bottleneck_6x"))
    one = _conv_widths(draw_circuit("cornet_s_bottleneck_1x"))
    assert one["conv2"][0] < widths["conv2"][0] < six["conv2"][0]
    assert one["conv1"][0] == pytest.approx(one["conv1"][1])  # 1x: nothing expands
    loop2 = _conv_widths(draw_circuit("cornet_s_loop_3_to_2"))
    assert loop2["conv1"][0] == pytest.approx(loop2["conv1"][1]) and loop2["conv2"][1] > loop2["conv2"][0]


def test_the_loop_reenters_where_loop_length_says():
    def order(name):
        fig = draw_circuit(name)
        labels = {g.split(":", 1)[1]: t for g, t in ((t.get_gid(), t) for t in fig.findobj(Text))
                  if g and g.startswith("label:")}
        ys = {k: v.get_position()[1] for k, v in labels.items() if k in ("hard", "conv1", "conv2")}
        return sorted(ys, key=ys.get)
    assert order("cornet_s") == ["hard", "conv1", "conv2"]            # from 3 to 1: gate before conv1
    assert order("cornet_s_loop_3_to_2") == ["conv1", "hard", "conv2"]  # from 3 to 2: conv1 outside


def test_accepts_a_model_and_rejects_other_things():
    with torch.device("meta"):
        model = CORnetS(CORnetSConfig(n_areas=5, times=(1, 3, 1, 1)))
    fig = draw_circuit(model)
    assert {a: int(t.lstrip("×")) for a, t in _text_of(fig, "steps:").items()} == model.config.steps
    with pytest.raises(ValueError, match="not CORnet-S or a Fig. 4 variant"):
        draw_circuit("resnet18")
    with pytest.raises(TypeError, match="CORnet-Z/R/RT have no CORnet-S block"):
        draw_circuit(object())


def test_group_values_are_the_table_rows():
    """Each Fig. 4 row's config, read back from the drawing's data, gives that row's label."""
    for group, variant, name in FIG4_ROWS:
        assert group_values(FIG4_VARIANTS[name])[group] == variant, name


def test_numbers_match_the_table_groups():
    published = load_circuitry_deltas()[["group_no", "group"]].drop_duplicates()
    assert list(zip(published.group_no, published.group)) == list(enumerate(fig4_groups(), 1))
    fig = draw_circuit("cornet_s", numbered=True)
    drawn = sorted(int(g.split(":")[1]) for g in _gids(fig) if g.startswith("number:"))
    assert drawn == list(published.group_no)
    headings = [t.get_text() for t in fig.findobj(Text) if t.get_gid() == "legend_heading"]
    assert headings == [f"{no}  {group}" for no, group in zip(published.group_no, published.group)]
    # the number sits beside the element it names
    centres = {g.get_gid(): g.center for g in fig.findobj(matplotlib.patches.Circle) if g.get_gid()}
    labels = {t.get_gid(): t.get_position()[1] for t in fig.findobj(Text) if t.get_gid()}
    assert centres["number:3"][1] == pytest.approx(centres["gate:hard"][1])
    assert centres["number:5"][1] == pytest.approx(labels["label:conv2"])


def _overlaps(fig: plt.Figure) -> list[tuple[str, str]]:
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    boxes = [(t.get_gid() or t.get_text(), t.get_window_extent(renderer)) for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]


@pytest.mark.parametrize("numbered", [False, True])
@pytest.mark.parametrize("name", DISTINCT)
def test_no_two_texts_overlap(name, numbered):
    assert _overlaps(draw_circuit(name, numbered=numbered)) == []


def test_no_two_texts_overlap_in_the_grid():
    fig = draw_circuit_grid()
    assert _overlaps(fig) == []
    panels = [a.get_gid() for a in fig.axes]
    assert panels == [f"panel:{name}" for name in DISTINCT]


def _rendered_css_px(fig: plt.Figure, column_px: float = 640.0) -> float:
    """The smallest text's height in CSS px when the PNG the book shows sits in a text column."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    natural = imread(io.BytesIO(buffer.getvalue())).shape[1]
    meta = fig.cornet_meta
    return meta["min_fontsize"] * meta["dpi"] / 72 * min(1.0, column_px / natural)


@pytest.mark.parametrize("make", [lambda: draw_circuit("cornet_s"), lambda: draw_circuit("cornet_s", numbered=True),
                                  lambda: draw_circuit("cornet_s_areas_5"), draw_circuit_grid])
def test_text_is_readable_where_shown(make):
    fig = make()
    fonts = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip()]
    assert fig.cornet_meta == {"min_fontsize": min(fonts), "dpi": fig.dpi}
    assert min(fonts) >= FONT_PT >= 8
    assert _rendered_css_px(fig) >= 9.0


def test_gallery_has_one_readable_image_per_variant():
    import base64
    import re

    from cornet_repro.figures.circuit import circuit_gallery_html

    page = circuit_gallery_html()
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"[^>]*max-width:(\d+)px[^>]*'
                        r'data-circuit="([^"]+)" data-min-fontsize="([\d.]+)" data-dpi="([\d.]+)"', page)
    assert [name for *_, name, _, _ in images] == DISTINCT
    # the grid never makes a panel narrower than its minmax() minimum, nor wider than max-width
    narrowest = int(re.search(r"minmax\((\d+)px", page).group(1))
    for data, max_width, _, font, dpi in images:
        natural = imread(io.BytesIO(base64.b64decode(data))).shape[1]
        shown = min(int(max_width), narrowest)
        assert float(font) * float(dpi) / 72 * shown / natural >= 9.0
