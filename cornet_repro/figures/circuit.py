"""The CORnet-S area circuit, drawn from a model config (the paper's Fig. 1 bottom, Fig. 4 left).

:func:`draw_circuit` reads a :class:`~cornet_repro.models.config.CORnetSConfig` (or a model built
from one, or a registry name) and draws what that config builds: the areas with their time steps,
and the block every area after V1 runs: ``conv_input``, the gate, the convolutions with their
widths (a trapezoid widens where a convolution expands the channels), the normalisations, the
skip connection and the recurrent loop re-entering where ``loop_length`` says. Nothing is drawn
per variant by hand, so a changed config draws a changed circuit. With ``numbered=True`` the
elements carry the numbers of the Fig. 4 table's groups (their order in ``FIG4_ROWS``).

Every drawn element has a ``gid`` (``"area:V4"``, ``"steps:V4"``, ``"conv:conv2"``, ``"skip"``,
``"recurrence"``, ``"gate:hard"``, ``"norm:conv1"``, ``"number:3"``, ...) so tests and readers can
find it. The figure records ``fig.cornet_meta = {"min_fontsize": pt, "dpi": dpi}``: the smallest
font used and the DPI the page's PNG is rendered at, from which the rendered text size follows.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patches
from matplotlib.text import Text

from ..models.config import FIG4_ROWS, FIG4_SHORT_GROUPS, FIG4_VARIANTS, CORnetSConfig
from .style import CIRCUIT_MAGENTA, paper_style

__all__ = ["FONT_PT", "circuit_config", "circuit_gallery_html", "draw_circuit", "draw_circuit_grid", "fig4_groups",
           "group_values", "variant_panels"]

#: Smallest font of the diagrams, in points. At the DPI below and the widths used here it renders
#: at >= 9 CSS px in a 640 px text column (checked by the book's browser test through cornet_meta).
FONT_PT = 8.5
DPI = 110
PANEL_W = 2.5        # inches: one block diagram with its labels and numbers
LEGEND_W = 3.1       # inches: the legend beside a single diagram
_TINT = "#f6d3dd"    # recurrent areas (they run the block drawn below them)
_V1_FILL = "#e6e6e6"
_KERNELS = {1: 1, 2: 3, 3: 1}

# x positions (inches) inside a panel: loop line, skip path, chain centre, labels, numbers.
_X_LOOP, _X_SKIP, _X_CHAIN, _X_LABEL, _X_NUMBER = 0.12, 0.48, 1.02, 1.44, 2.36
_GAP = 0.22          # vertical gap between elements of the chain (arrow, norm bar, ReLU)


def circuit_config(config_or_model: Any) -> CORnetSConfig:
    """The config to draw: a ``CORnetSConfig``, a model with ``.config``, or a registry name."""
    if isinstance(config_or_model, CORnetSConfig):
        return config_or_model
    if isinstance(config_or_model, str):
        if config_or_model == "cornet_s":
            return CORnetSConfig()
        if config_or_model in FIG4_VARIANTS:
            return FIG4_VARIANTS[config_or_model]
        raise ValueError(f"draw_circuit: {config_or_model!r} is not CORnet-S or a Fig. 4 variant; "
                         f"use 'cornet_s' or one of {sorted(FIG4_VARIANTS)}")
    config = getattr(config_or_model, "config", None)
    if isinstance(config, CORnetSConfig):
        return config
    raise TypeError(f"draw_circuit: expected a CORnetSConfig, a CORnet-S model or a variant name, got "
                    f"{type(config_or_model).__name__}; CORnet-Z/R/RT have no CORnet-S block to draw")


def fig4_groups() -> list[str]:
    """Fig. 4's groups in table order; group ``i`` (1-based) is numbered ``i`` in the diagram."""
    return list(dict.fromkeys(group for group, _, _ in FIG4_ROWS))


def _loop_label(loop_length: int, conv_layers: tuple[int, ...]) -> str:
    """Fig. 4's "from 3 to k": the loop leaves after the last conv and re-enters before conv k."""
    return f"from {conv_layers[-1]} to {conv_layers[len(conv_layers) - loop_length]}"


def group_values(config: CORnetSConfig) -> dict[str, str]:
    """For each Fig. 4 group, this config's value, spelled as the table's row labels."""
    ordinals = {1: "1st", 2: "2nd", 3: "3rd"}
    convs = [ordinals[k] for k in config.conv_layers]
    values = ["/".join(map(str, config.times)) if any(t > 1 for t in config.times)
              else f"no recurrence ({'/'.join(map(str, config.times))})",
              _loop_label(config.loop_length, config.conv_layers),
              "hard gate: input blocked at t > 0" if config.gate == "hard"
              else "soft gate: sigmoid(input + state)",
              f"{config.bottleneck}x",
              " and ".join(convs) if len(convs) == 2 else f"{', '.join(convs[:-1])}, and {convs[-1]}",
              "present" if config.skip else "absent",
              "Batch Normalization" if config.norm == "batch" else "Group Normalization",
              str(config.n_areas)]
    return dict(zip(fig4_groups(), values))


@dataclass(frozen=True)
class _Element:
    kind: str            # "conv_input", "gate", "conv", "add"
    name: str            # gid suffix, e.g. "conv2"
    height: float
    w_in: float = 0.0    # half-widths (inches) at the bottom (input) and top (output) side
    w_out: float = 0.0
    label: str = ""


def _half_width(multiplier: float) -> float:
    # Wider for more channels, so the bottleneck's expansion is visible (1x ... 6x).
    return 0.09 + 0.045 * multiplier


def _block_elements(config: CORnetSConfig) -> list[_Element]:
    """The chain from input to output, in the order the signal passes at t = 0."""
    n = len(config.conv_layers)
    # Channel multipliers of the convolutions, as CORblockS computes them (state width re-enters).
    widths = [float(config.bottleneck)] * (n + 1)
    widths[0] = widths[n] = widths[n - config.loop_length] = 1.0
    recurrent = any(t > 1 for t in config.times)
    loop_start = n - config.loop_length
    chain = [_Element("conv_input", "conv_input", 0.16, 0.09, 0.09, "conv_input 1×1")]
    for i, k in enumerate(config.conv_layers):
        if i == loop_start and recurrent:
            chain.append(_Element("gate", config.gate, 0.2,
                                  label="hard gate" if config.gate == "hard" else "soft gate"))
        kernel = _KERNELS[k]
        change = widths[i + 1] / widths[i]
        detail = [f"{kernel}×{kernel}"]
        if k == 2:
            detail.append("stride 2")
        if change > 1:
            detail.append(f"×{change:g}")
        elif change < 1:
            detail.append(f"÷{1 / change:g}")
        chain.append(_Element("conv", f"conv{k}", 0.24, _half_width(widths[i]), _half_width(widths[i + 1]),
                              f"conv{k} {detail[0]}\n{', '.join(detail[1:])}".rstrip("\n")))
    if config.skip:
        chain.append(_Element("add", "add", 0.2, label=""))
    return chain


def _text(ax: plt.Axes, x: float, y: float, s: str, gid: str | None = None, **kw: Any) -> Text:
    kw.setdefault("fontsize", FONT_PT)
    t = ax.text(x, y, s, **kw)
    if gid:
        t.set_gid(gid)
    return t


def _arrow(ax: plt.Axes, x0: float, y0: float, x1: float, y1: float, *, dashed: bool = False,
           head: bool = True, gid: str | None = None, lw: float = 1.0) -> None:
    arrow = patches.FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>" if head else "-",
                                    mutation_scale=8, lw=lw, color="black",
                                    linestyle=(0, (3, 2)) if dashed else "-", shrinkA=0, shrinkB=0)
    if gid:
        arrow.set_gid(gid)
    ax.add_patch(arrow)


def _number(ax: plt.Axes, x: float, y: float, number: int) -> None:
    circle = patches.Circle((x, y), 0.085, facecolor="white", edgecolor="black", lw=0.9, zorder=5)
    circle.set_gid(f"number:{number}")
    ax.add_patch(circle)
    _text(ax, x, y, str(number), gid=f"number_text:{number}", ha="center", va="center", zorder=6)


def _relu(ax: plt.Axes, y: float) -> None:
    # The paper's "~" on the arrow: a small rectified ramp.
    xs = np.array([-0.07, 0.0, 0.07]) + _X_CHAIN
    line, = ax.plot(xs, [y - 0.02, y - 0.02, y + 0.04], color=CIRCUIT_MAGENTA, lw=1.3,
                    solid_capstyle="round", zorder=4)
    line.set_gid("relu")


def _draw_areas(ax: plt.Axes, config: CORnetSConfig, top: float, width: float, numbered: bool) -> float:
    """Area boxes left to right with their steps; returns the row's bottom y."""
    names, steps = config.area_names, config.steps
    n = len(names)
    usable = width - (0.34 if numbered else 0.1)
    gap = 0.1
    box_w = min(0.5, (usable - (n - 1) * gap) / n)
    box_h = _AREA_H
    bottom = top - box_h
    for i, name in enumerate(names):
        x = 0.06 + i * (box_w + gap)
        box = patches.FancyBboxPatch((x, bottom), box_w, box_h, boxstyle="round,pad=0,rounding_size=0.04",
                                     facecolor=_V1_FILL if i == 0 else _TINT, edgecolor="0.35", lw=0.8)
        box.set_gid(f"area:{name}")
        ax.add_patch(box)
        _text(ax, x + box_w / 2, bottom + 0.275, name, gid=f"area_name:{name}", ha="center", va="center",
              fontweight="bold")
        _text(ax, x + box_w / 2, bottom + 0.11, f"×{steps[name]}", gid=f"steps:{name}", ha="center",
              va="center")
        if i:
            _arrow(ax, x - gap, bottom + box_h / 2, x, bottom + box_h / 2)
    if numbered:
        _number(ax, _X_NUMBER, bottom + box_h / 2, fig4_groups().index("Number of model areas") + 1)
    return bottom


@dataclass(frozen=True)
class _Layout:
    chain: list[_Element]
    bottoms: list[float]     # y of each element's bottom
    out_base: float          # where the output leaves the chain (and the state loop starts)
    out_top: float           # tip of the output arrow
    top: float               # top of the block, "output" label included


def _layout(config: CORnetSConfig) -> _Layout:
    """Vertical positions (inches) of the block's elements, input at y = 0."""
    chain = _block_elements(config)
    bottoms, y = [], 0.32
    for element in chain:
        bottoms.append(y)
        y += element.height + (0.26 if element.kind == "conv" else 0.16)
    last_top = bottoms[-1] + chain[-1].height
    out_base = last_top + (0.18 if config.skip else 0.24)
    return _Layout(chain, bottoms, out_base, out_base + 0.2, out_base + 0.2 + 0.2)


def _draw_block(ax: plt.Axes, config: CORnetSConfig, numbered: bool) -> None:
    """The block of every area after V1, from input (bottom) to output (top)."""
    groups = fig4_groups()
    no = {key: groups.index(group) + 1 for group, key in FIG4_SHORT_GROUPS.items() if key != "areas"}  # in the block
    layout = _layout(config)
    chain = layout.chain
    _text(ax, _X_CHAIN, 0.0, "input", gid="block_input", ha="center", va="bottom")
    centres: dict[str, float] = {}
    previous_top = 0.16
    last_conv = f"conv{config.conv_layers[-1]}"
    for element, y in zip(chain, layout.bottoms):
        _arrow(ax, _X_CHAIN, previous_top, _X_CHAIN, y, gid=f"arrow:{element.name}")
        mid = y + element.height / 2
        centres[element.name] = mid
        top_y = y + element.height
        if element.kind in ("conv", "conv_input"):
            b, t = element.w_in, element.w_out
            shape = patches.Polygon([(_X_CHAIN - b, y), (_X_CHAIN + b, y), (_X_CHAIN + t, top_y),
                                     (_X_CHAIN - t, top_y)], closed=True,
                                    facecolor=CIRCUIT_MAGENTA, edgecolor="none", zorder=3)
            shape.set_gid(f"conv:{element.name}")
            ax.add_patch(shape)
            if element.kind == "conv":
                # Normalisation after every convolution (a bar across the arrow, as the paper draws
                # it), then ReLU, except where the ReLU follows the sum with the skip.
                bar, = ax.plot([_X_CHAIN - 0.1, _X_CHAIN + 0.1], [top_y + 0.05] * 2, color="black", lw=1.6,
                               solid_capstyle="butt", zorder=4)
                bar.set_gid(f"norm:{element.name}")
                if element.name != last_conv or not config.skip:
                    _relu(ax, top_y + 0.15)
        else:
            r = element.height / 2
            circle = patches.Circle((_X_CHAIN, mid), r, facecolor="white", edgecolor=CIRCUIT_MAGENTA,
                                    lw=1.4, zorder=3)
            circle.set_gid(f"gate:{element.name}" if element.kind == "gate" else "add")
            ax.add_patch(circle)
            if element.kind == "add":
                ax.plot([_X_CHAIN - 0.6 * r, _X_CHAIN + 0.6 * r], [mid, mid], color=CIRCUIT_MAGENTA, lw=1.2, zorder=4)
                ax.plot([_X_CHAIN, _X_CHAIN], [mid - 0.6 * r, mid + 0.6 * r], color=CIRCUIT_MAGENTA, lw=1.2, zorder=4)
                _relu(ax, top_y + 0.08)
            elif element.name == "hard":
                for dy in (-0.03, 0.03):  # the paper's "=": the input is blocked after t = 0
                    ax.plot([_X_CHAIN - 0.5 * r, _X_CHAIN + 0.5 * r], [mid + dy] * 2, color=CIRCUIT_MAGENTA,
                            lw=1.2, zorder=4)
            else:
                _text(ax, _X_CHAIN, mid, "σ", gid="gate_symbol", ha="center", va="center", zorder=4,
                      color=CIRCUIT_MAGENTA)
        if element.label:
            _text(ax, _X_LABEL, mid, element.label, gid=f"label:{element.name}", ha="left", va="center")
        previous_top = top_y
    _arrow(ax, _X_CHAIN, previous_top, _X_CHAIN, layout.out_top, gid="arrow:output")
    _text(ax, _X_CHAIN, layout.out_top + 0.02, "output", gid="block_output", ha="center", va="bottom")
    # Which normalisation every bar stands for: the one drawn property that has no shape of its own.
    norm_y = layout.out_top + 0.09
    _text(ax, _X_LABEL, norm_y, "norm: batch,\nper step" if config.norm == "batch"
          else "norm: group,\nshared", gid="label:norm", ha="left", va="center")
    if numbered:
        _number(ax, _X_NUMBER, norm_y, no["norm"])
        convs = [e for e in chain if e.kind == "conv"]
        expanding = next((e for e in convs if e.w_out > e.w_in), convs[0])
        _number(ax, _X_NUMBER, centres[expanding.name], no["bottleneck"])
        middle = "conv2" if "conv2" in centres else convs[0].name
        offset = 0.0 if middle != expanding.name else 0.22
        _number(ax, _X_NUMBER, centres[middle] + offset, no["convs"])

    gate = next((e for e in chain if e.kind == "gate"), None)
    entry_y = centres[gate.name] if gate else None
    loop_top = layout.out_base
    if config.skip:
        # At t = 0 a strided 1x1 conv, at t > 0 the identity: branches off where the block's input
        # (or the state) enters, rejoins at the sum.
        start_y = (entry_y if entry_y is not None else centres["conv_input"]) + 0.14
        add_y = centres["add"]
        ax.plot([_X_CHAIN, _X_SKIP, _X_SKIP], [start_y, start_y, add_y], color="black", lw=1.0, zorder=2,
                gid="skip_path")
        _arrow(ax, _X_SKIP, add_y, _X_CHAIN - 0.1, add_y, gid="skip_arrow")
        skip_y = (start_y + add_y) / 2
        box = patches.Rectangle((_X_SKIP - 0.07, skip_y - 0.07), 0.14, 0.14, facecolor=CIRCUIT_MAGENTA,
                                edgecolor="none", zorder=3)
        box.set_gid("skip")
        ax.add_patch(box)
        _text(ax, _X_SKIP, skip_y + 0.12, "skip", gid="label:skip", ha="center", va="bottom",
              bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
        if numbered:
            _number(ax, _X_SKIP - 0.22, skip_y, no["skip"])
    if gate is not None:
        # The recurrence: the output, as the state, re-enters at the gate.
        ax.plot([_X_CHAIN, _X_LOOP, _X_LOOP], [loop_top, loop_top, entry_y], color="black", lw=1.0,
                linestyle=(0, (3, 2)), zorder=2, gid="recurrence")
        _arrow(ax, _X_LOOP, entry_y, _X_CHAIN - gate.height / 2, entry_y, dashed=True, gid="recurrence_entry")
        _text(ax, _X_LOOP + 0.05, loop_top + 0.03, "state", gid="label:state", ha="left", va="bottom")
        if numbered:
            _number(ax, _X_LOOP, loop_top - 0.3, no["steps"])
            _number(ax, (_X_LOOP + _X_SKIP) / 2 + 0.06, entry_y - 0.17, no["loop"])
            _number(ax, _X_NUMBER, entry_y, no["gate"])
    else:
        _text(ax, _X_LOOP - 0.08, loop_top + 0.03, "no recurrence", gid="label:no_recurrence",
              ha="left", va="bottom")
        if numbered:
            _number(ax, _X_LOOP, loop_top - 0.15, no["steps"])


_TITLE_LINE = 0.17
_AREA_H = 0.4


def _panel_height(config: CORnetSConfig, title_lines: int) -> float:
    return _layout(config).top + 0.14 + _AREA_H + 0.04 + (_TITLE_LINE * title_lines + 0.06 if title_lines else 0.0)


def _legend_lines(config: CORnetSConfig, numbered: bool) -> list[tuple[str, str]]:
    """(heading, text) pairs describing the drawn config."""
    if numbered:
        return [(f"{i}  {group}", value) for i, (group, value) in enumerate(group_values(config).items(), 1)]
    names = config.area_names
    steps = ", ".join(f"{name} {config.steps[name]}" for name in names[1:])
    recurrent = any(t > 1 for t in config.times)
    lines = [
        ("V1 (grey)", "7×7 conv, stride 2; max pool, stride 2;\n3×3 conv. One step, feedforward"),
        (f"{', '.join(names[1:])} (pink)", f"the block at left, with {config.bottleneck}x bottleneck;\n"
                                           f"steps: {steps}"),
        ("dashed loop", "the output re-enters as the state\n(" + _loop_label(config.loop_length, config.conv_layers)
         + ")" if recurrent else "none: every area runs once"),
    ]
    if recurrent:
        lines.append(("gate", "input blocked at t > 0 (hard)" if config.gate == "hard"
                      else "state + σ(input + state) · input (soft)"))
    lines.append(("skip", "1×1 conv, stride 2 at t = 0; identity\nat t > 0" if config.skip else "none"))
    lines.append(("bar, ramp", ("batch norm, one per time step" if config.norm == "batch"
                                else "group norm, shared over time") + "; ReLU"))
    return lines


def _draw_panel(ax: plt.Axes, config: CORnetSConfig, numbered: bool, title: str | None) -> None:
    lines = title.count("\n") + 1 if title else 0
    height = _panel_height(config, lines)
    ax.set_xlim(0, PANEL_W)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        _text(ax, 0.05, height - 0.04, title, gid="title", ha="left", va="top", fontweight="bold")
    _draw_areas(ax, config, _layout(config).top + 0.14 + _AREA_H, PANEL_W, numbered)
    _draw_block(ax, config, numbered)


def _finish(fig: plt.Figure) -> plt.Figure:
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    fig.cornet_meta = {"min_fontsize": float(min(sizes)), "dpi": float(fig.dpi)}
    return fig


def draw_circuit(config_or_model: Any, ax: plt.Axes | None = None, *, numbered: bool = False,
                 title: str | None = None, legend: bool | str | None = None) -> plt.Figure:
    """Draw a CORnet-S-family circuit from its config; returns the figure.

    ``config_or_model``: a ``CORnetSConfig``, a model built from one, or a registry name
    (``'cornet_s'``, a Fig. 4 variant). ``numbered``: number the elements as Fig. 4's table groups.
    ``ax``: draw into this axes (its figure should give it ``PANEL_W`` inches of width, see
    :func:`draw_circuit_grid`); otherwise a new figure, with a legend (``legend``, default on,
    beside the diagram; ``"below"`` puts it under the diagram, for a phone's column).
    """
    config = circuit_config(config_or_model)
    with paper_style():
        if ax is not None:
            _draw_panel(ax, config, numbered, title)
            return _finish(ax.figure)
        legend = True if legend is None else legend
        lines = title.count("\n") + 1 if title else 0
        height = _panel_height(config, lines)
        entries = _legend_lines(config, numbered) if legend else []
        legend_h = 0.1 + sum(0.17 + 0.15 * (text.count("\n") + 1) + 0.08 for _, text in entries)
        below = legend == "below"
        width = max(PANEL_W, LEGEND_W) if below else PANEL_W + (LEGEND_W if legend else 0.0)
        total = height + legend_h if below else height
        fig = plt.figure(figsize=(width, total), dpi=DPI)
        ax = fig.add_axes(((width - PANEL_W) / 2 / width, legend_h / total, PANEL_W / width, height / total)
                          if below else (0, 0, PANEL_W / width, 1))
        _draw_panel(ax, config, numbered, title)
        if legend:
            box = (0, 0, 1, legend_h / total) if below else (PANEL_W / width, 0, 1 - PANEL_W / width, 1)
            lax = fig.add_axes(box)
            lax.set_xlim(0, LEGEND_W)
            top = legend_h if below else height
            lax.set_ylim(0, top)
            lax.axis("off")
            y = top - 0.1
            for heading, text in entries:
                _text(lax, 0.1, y, heading, gid="legend_heading", ha="left", va="top", fontweight="bold")
                y -= 0.17
                _text(lax, 0.1, y, text, gid="legend_text", ha="left", va="top")
                y -= 0.15 * (text.count("\n") + 1) + 0.08
        return _finish(fig)


def variant_panels(include_default: bool = False) -> list[tuple[str, str]]:
    """(variant name, panel title) for each distinct Fig. 4 config, in table order.

    Rows whose config is CORnet-S itself (the bold rows) are drawn once, as the baseline, when
    ``include_default``.
    """
    groups = fig4_groups()
    panels, seen = [], set()
    default = CORnetSConfig()
    if include_default:
        panels.append(("cornet_s", "CORnet-S (bold rows)"))
    seen.add(default)
    for group, variant, name in FIG4_ROWS:
        config = FIG4_VARIANTS[name]
        if config in seen:
            continue
        seen.add(config)
        panels.append((name, f"{groups.index(group) + 1}  {group}:\n{variant}"))
    return panels


def draw_circuit_grid(panels: Sequence[tuple[str, str]] | None = None, *, ncols: int = 3,
                      numbered: bool = False) -> plt.Figure:
    """Several circuits side by side (default: every distinct Fig. 4 variant, with CORnet-S first).

    ``panels``: (registry name or config, title) pairs. Each panel is ``PANEL_W`` inches wide, so
    text keeps its size whatever the number of panels.
    """
    panels = list(panels) if panels is not None else variant_panels(include_default=True)
    if not panels:
        raise ValueError("draw_circuit_grid: no panels to draw; pass (name, title) pairs")
    titles = [textwrap.fill(t, 34) if "\n" not in t else "\n".join(textwrap.fill(p, 34) for p in t.split("\n"))
              for _, t in panels]
    configs = [circuit_config(name) for name, _ in panels]
    heights = [_panel_height(c, t.count("\n") + 1) for c, t in zip(configs, titles)]
    nrows = -(-len(panels) // ncols)
    row_h = [max(heights[r * ncols:(r + 1) * ncols]) + 0.15 for r in range(nrows)]
    width, height = ncols * PANEL_W, sum(row_h)
    with paper_style():
        fig = plt.figure(figsize=(width, height), dpi=DPI)
        y_top = height
        for r in range(nrows):
            for c in range(ncols):
                i = r * ncols + c
                if i >= len(panels):
                    break
                h = heights[i]
                ax = fig.add_axes((c * PANEL_W / width, (y_top - h) / height, PANEL_W / width, h / height))
                ax.set_gid(f"panel:{panels[i][0]}")
                _draw_panel(ax, configs[i], numbered, titles[i])
            y_top -= row_h[r]
    return _finish(fig)


def circuit_gallery_html(panels: Sequence[tuple[str, str]] | None = None, *, scale: int = 2) -> str:
    """Every panel as its own image in a grid that wraps to the page's width (HTML, offline).

    Three panels a row in a book column, one a row on a phone, each shown at most at its natural
    size, so its text keeps >= 9 CSS px wherever it is shown. Each ``<img>`` carries
    ``data-min-fontsize`` and ``data-dpi`` (the ``cornet_meta`` of its figure) for the browser test;
    ``scale``: PNG pixels per CSS pixel (2 keeps the lines sharp on high-density screens).
    """
    import base64
    import html
    import io

    panels = list(panels) if panels is not None else variant_panels(include_default=True)
    cells = []
    for name, title in panels:
        title = "\n".join(textwrap.fill(part, 34) for part in title.split("\n"))
        fig = draw_circuit(name, title=title, legend=False)
        meta = fig.cornet_meta
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=meta["dpi"] * scale)
        plt.close(fig)
        width = round(fig.get_figwidth() * meta["dpi"])  # CSS px at natural size
        alt = html.escape(f"Circuit of {name}: {title.replace(chr(10), ' ')}", quote=True)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        cells.append(f'<figure style="margin:0"><img src="data:image/png;base64,{data}" alt="{alt}" '
                     f'style="width:100%;max-width:{width}px;height:auto" data-circuit="{html.escape(str(name))}" '
                     f'data-min-fontsize="{meta["min_fontsize"]:g}" data-dpi="{meta["dpi"] * scale:g}"></figure>')
    return ('<div class="cornet-circuit-gallery" style="display:grid;gap:10px 6px;align-items:start;'
            'grid-template-columns:repeat(auto-fill,minmax(210px,1fr))">' + "".join(cells) + "</div>")
