"""Configuration of CORnet-S and of the circuitry variants of the paper's Fig. 4.

:class:`CORnetSConfig` defaults to CORnet-S exactly as published (and as in the official code).
Each field spans one group of rows of Fig. 4; :data:`FIG4_VARIANTS` holds one named config per row
(a *variant*: usable as ``get_model(name)``) and :data:`FIG4_ROWS` links every row label of the
figure to its variant name.

Fig. 4 is terse, so several variants need an interpretation. The choices made here are:

* **Recurrent steps** (``times``): steps of V2/V4/IT (and of the extra area when there are 5).
  ``1`` means the area is purely feedforward (no recurrence).
* **Recurrent loop length** (``loop_length``): how many of the block's convolutions lie inside the
  recurrent loop. The figure's arrow "from 3 to 1" (default) leaves after conv3 and re-enters
  before conv1, so all three convolutions recur; "from 3 to 2" re-enters before conv2, so conv1
  runs once, at t = 0 only. The recurrent state always has the area's output width, so the
  convolution where the loop re-enters must read that width: with the loop entering at conv2,
  conv1 keeps the width (1x1, C -> C) and the 3x3 conv2 expands it (C -> 4C; this is also how the
  paper's text describes the 3x3 convolution); with ``loop_length=1`` only conv3 (C -> C) recurs
  and conv1/conv2 expand and contract before the loop.
* **Gating** (``gate``): ``'hard'`` (default) blocks the input at t > 0 (the area then only sees
  its own state). ``'soft'`` lets a gated share of the input through at every t > 0:
  ``x_t = h + sigmoid(u + h) * u`` with ``h`` the state and ``u`` the area's input after
  ``conv_input``, average-pooled to the state's size. The gate has no parameters; the hard gate is
  the special case ``gate = 0``.
* **Bottleneck size** (``bottleneck``): the expansion factor of the bottleneck (1x, 2x, 4x, 6x).
* **Convolutional layers** (``conv_layers``): which of conv1 (1x1), conv2 (3x3), conv3 (1x1) the
  block has. ``(2, 3)`` drops conv1, so the 3x3 conv2 reads the state and expands it.
* **Skip connection** (``skip``): ``False`` removes the residual path (``skip``/``norm_skip`` and
  the identity shortcut at t > 0).
* **Normalization** (``norm``): ``'batch'`` = batch norm with separate statistics and affine
  parameters per time step (official); ``'group'`` = one group norm per convolution shared over
  time steps ("a global group normalization"), applied in every area including V1 and the skip.
* **Number of model areas** (``n_areas``): 5 inserts an area with the same circuitry between V4
  and IT, named ``pIT`` (posterior IT/TEO), with V4's width, stride 1 (so every other area keeps
  its resolution) and ``times[2]`` steps; the last area keeps the name ``IT``.

``width`` scales every area's channel count (for small CPU runs); ``image_size`` is the nominal
input size (square); any input of at least :attr:`CORnetSConfig.min_image_size` pixels works.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["CORnetSConfig", "FIG4_VARIANTS", "FIG4_ROWS", "FIG4_SHORT_GROUPS", "fig4_short_label", "fig4_variant"]

_GATES = ("hard", "soft")
_NORMS = ("batch", "group")
_CONV_LAYERS = ((1, 2, 3), (2, 3))
_N_AREAS = (4, 5)
_LOOP_LENGTHS = (1, 2, 3)

# Official CORnet-S widths of V1, V2, V4, IT; the 5-area variant inserts pIT with V4's width.
_BASE_CHANNELS = {4: (64, 128, 256, 512), 5: (64, 128, 256, 256, 512)}
_AREA_NAMES = {4: ("V1", "V2", "V4", "IT"), 5: ("V1", "V2", "V4", "pIT", "IT")}
# Stride of each recurrent area at t = 0 (V1 reduces by 4 on its own: conv stride 2 + pool stride 2).
_STRIDES = {4: (2, 2, 2), 5: (2, 2, 1, 2)}


@dataclass(frozen=True)
class CORnetSConfig:
    """Architecture of a CORnet-S model; the defaults give CORnet-S (53,416,616 parameters).

    Attributes:
        times: recurrent steps of each area after V1 (V2, V4, IT; or V2, V4, pIT, IT).
        loop_length: number of the block's convolutions inside the recurrent loop (1, 2 or 3).
        gate: ``'hard'`` (input blocked at t > 0) or ``'soft'`` (``sigmoid(input + state)``).
        bottleneck: expansion factor of the bottleneck convolutions (positive integer).
        conv_layers: the block's convolutions, ``(1, 2, 3)`` or ``(2, 3)``.
        skip: whether the block has its skip (residual) connection.
        norm: ``'batch'`` (per time step) or ``'group'`` (shared over time).
        n_areas: 4 (V1, V2, V4, IT) or 5 (V1, V2, V4, pIT, IT).
        width: multiplier of every area's number of channels (> 0).
        image_size: nominal (square) input size in pixels, at least :attr:`min_image_size`.
        num_classes: outputs of the linear decoder.
        gn_groups: groups of each group norm (reduced to ``gcd(gn_groups, channels)``).
    """

    times: tuple[int, ...] = (2, 4, 2)
    loop_length: int = 3
    gate: str = "hard"
    bottleneck: int = 4
    conv_layers: tuple[int, ...] = (1, 2, 3)
    skip: bool = True
    norm: str = "batch"
    n_areas: int = 4
    width: float = 1.0
    image_size: int = 224
    num_classes: int = 1000
    gn_groups: int = 32

    def __post_init__(self) -> None:
        # Lists are accepted for convenience (e.g. from YAML) and stored as tuples so the
        # config stays hashable.
        for name in ("times", "conv_layers"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        self.validate()

    # ---- validation ----------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ``ValueError`` naming the offending field and its allowed values."""
        _check_choice("n_areas", self.n_areas, _N_AREAS)
        n_rec = self.n_areas - 1
        if (not isinstance(self.times, tuple) or len(self.times) != n_rec
                or not all(_is_int(t) and t >= 1 for t in self.times)):
            raise ValueError(
                f"CORnetSConfig.times={self.times!r}: expected {n_rec} integers >= 1, the recurrent "
                f"steps of {', '.join(_AREA_NAMES[self.n_areas][1:])} (n_areas={self.n_areas})")
        _check_choice("gate", self.gate, _GATES)
        _check_choice("norm", self.norm, _NORMS)
        _check_choice("conv_layers", self.conv_layers, _CONV_LAYERS)
        _check_choice("loop_length", self.loop_length, _LOOP_LENGTHS)
        if self.loop_length > len(self.conv_layers):
            raise ValueError(
                f"CORnetSConfig.loop_length={self.loop_length} exceeds the number of convolutions "
                f"in the block (conv_layers={self.conv_layers}); use loop_length <= "
                f"{len(self.conv_layers)}")
        if self.conv_layers == (2, 3) and self.loop_length == 1:
            raise ValueError(
                "CORnetSConfig.loop_length=1 with conv_layers=(2, 3) leaves no convolution to "
                "expand the bottleneck; use loop_length=2")
        if not _is_int(self.bottleneck) or self.bottleneck < 1:
            raise ValueError(
                f"CORnetSConfig.bottleneck={self.bottleneck!r}: expected an integer >= 1 "
                "(Fig. 4 uses 1, 2, 4, 6)")
        if not isinstance(self.skip, bool):
            raise ValueError(f"CORnetSConfig.skip={self.skip!r}: expected True or False")
        if (isinstance(self.width, bool) or not isinstance(self.width, (int, float))
                or not math.isfinite(self.width) or self.width <= 0):
            raise ValueError(f"CORnetSConfig.width={self.width!r}: expected a number > 0")
        smallest = min(_BASE_CHANNELS[self.n_areas]) * self.width
        if smallest < 1:
            raise ValueError(
                f"CORnetSConfig.width={self.width}: the narrowest area would have {smallest:g} "
                f"channels; use width >= {1 / min(_BASE_CHANNELS[self.n_areas]):g}")
        if not _is_int(self.image_size) or self.image_size < self.min_image_size:
            raise ValueError(
                f"CORnetSConfig.image_size={self.image_size!r}: expected an integer >= "
                f"{self.min_image_size} (the total stride of the model), e.g. 64 or 224")
        if not _is_int(self.num_classes) or self.num_classes < 1:
            raise ValueError(f"CORnetSConfig.num_classes={self.num_classes!r}: expected an integer >= 1")
        if not _is_int(self.gn_groups) or self.gn_groups < 1:
            raise ValueError(f"CORnetSConfig.gn_groups={self.gn_groups!r}: expected an integer >= 1")

    # ---- derived quantities --------------------------------------------------------------
    @property
    def area_names(self) -> tuple[str, ...]:
        """Names of the areas, V1 first (these are also the module names)."""
        return _AREA_NAMES[self.n_areas]

    @property
    def channels(self) -> tuple[int, ...]:
        """Output channels of each area, after the width multiplier."""
        return tuple(max(1, int(round(c * self.width))) for c in _BASE_CHANNELS[self.n_areas])

    @property
    def strides(self) -> tuple[int, ...]:
        """Stride at t = 0 of each area after V1."""
        return _STRIDES[self.n_areas]

    @property
    def min_image_size(self) -> int:
        """Total stride of the model: smaller inputs would leave the last area without pixels."""
        return 4 * math.prod(_STRIDES[self.n_areas])

    @property
    def steps(self) -> dict[str, int]:
        """Time steps per area name (V1 always has one)."""
        return dict(zip(self.area_names, (1, *self.times)))

    def replace(self, **changes: Any) -> "CORnetSConfig":
        """A copy with some fields changed (validated); unknown fields raise ``ValueError``."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(
                f"unknown CORnetSConfig field(s) {unknown}; valid fields: "
                f"{[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **changes)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_choice(name: str, value: object, allowed: tuple) -> None:
    if isinstance(value, list):
        value = tuple(value)
    # bool is an int in Python (True == 1): reject it explicitly.
    if isinstance(value, bool) or value not in allowed:
        raise ValueError(f"CORnetSConfig.{name}={value!r}: allowed values are {list(allowed)}")


_DEFAULT = CORnetSConfig()

# One row per row of Fig. 4: (group label, variant label, variant name). Labels are spelled as in
# the figure (and as in the transcription ../shared/reference/published/fig4_*.csv) so that
# published deltas can be joined on (group, variant).
FIG4_ROWS: tuple[tuple[str, str, str], ...] = (
    ("Number of recurrent steps in V2/V4/IT", "no recurrence (1/1/1)", "cornet_s_steps_1_1_1"),
    ("Number of recurrent steps in V2/V4/IT", "2/2/2", "cornet_s_steps_2_2_2"),
    ("Number of recurrent steps in V2/V4/IT", "2/4/2", "cornet_s_steps_2_4_2"),
    ("Number of recurrent steps in V2/V4/IT", "4/4/4", "cornet_s_steps_4_4_4"),
    ("Number of recurrent steps in V2/V4/IT", "4/8/4", "cornet_s_steps_4_8_4"),
    ("Number of recurrent steps in V2/V4/IT", "10/10/10", "cornet_s_steps_10_10_10"),
    ("Recurrent loop length", "from 3 to 1", "cornet_s_loop_3_to_1"),
    ("Recurrent loop length", "from 3 to 2", "cornet_s_loop_3_to_2"),
    ("Gating", "hard gate: input blocked at t > 0", "cornet_s_gate_hard"),
    ("Gating", "soft gate: sigmoid(input + state)", "cornet_s_gate_soft"),
    ("Bottleneck size", "1x", "cornet_s_bottleneck_1x"),
    ("Bottleneck size", "2x", "cornet_s_bottleneck_2x"),
    ("Bottleneck size", "4x", "cornet_s_bottleneck_4x"),
    ("Bottleneck size", "6x", "cornet_s_bottleneck_6x"),
    ("Convolutional layers", "2nd and 3rd", "cornet_s_convs_2_3"),
    ("Convolutional layers", "1st, 2nd, and 3rd", "cornet_s_convs_1_2_3"),
    ("Skip connection", "present", "cornet_s_skip_present"),
    ("Skip connection", "absent", "cornet_s_skip_absent"),
    ("Normalization", "Batch Normalization", "cornet_s_norm_batch"),
    ("Normalization", "Group Normalization", "cornet_s_norm_group"),
    ("Number of model areas", "4", "cornet_s_areas_4"),
    ("Number of model areas", "5", "cornet_s_areas_5"),
)

#: Fig. 4's group labels in one word, for labels that must be short (small panels, a phone's column).
FIG4_SHORT_GROUPS: dict[str, str] = {
    "Number of recurrent steps in V2/V4/IT": "steps", "Recurrent loop length": "loop", "Gating": "gate",
    "Bottleneck size": "bottleneck", "Convolutional layers": "convs", "Skip connection": "skip",
    "Normalization": "norm", "Number of model areas": "areas"}
_SHORT_VARIANTS = {"soft gate: sigmoid(input + state)": "soft", "hard gate: input blocked at t > 0": "hard",
                   "no recurrence (1/1/1)": "1/1/1 (none)", "Group Normalization": "group",
                   "Batch Normalization": "batch"}


def fig4_short_label(group: str, variant: str) -> str:
    """A Fig. 4 row in a few words: ('Gating', 'soft gate: sigmoid(input + state)') → 'gate: soft'."""
    return f"{FIG4_SHORT_GROUPS.get(group, group.lower())}: {_SHORT_VARIANTS.get(variant, variant)}"


FIG4_VARIANTS: dict[str, CORnetSConfig] = {
    "cornet_s_steps_1_1_1": _DEFAULT.replace(times=(1, 1, 1)),
    "cornet_s_steps_2_2_2": _DEFAULT.replace(times=(2, 2, 2)),
    "cornet_s_steps_2_4_2": _DEFAULT,
    "cornet_s_steps_4_4_4": _DEFAULT.replace(times=(4, 4, 4)),
    "cornet_s_steps_4_8_4": _DEFAULT.replace(times=(4, 8, 4)),
    "cornet_s_steps_10_10_10": _DEFAULT.replace(times=(10, 10, 10)),
    "cornet_s_loop_3_to_1": _DEFAULT,
    "cornet_s_loop_3_to_2": _DEFAULT.replace(loop_length=2),
    "cornet_s_gate_hard": _DEFAULT,
    "cornet_s_gate_soft": _DEFAULT.replace(gate="soft"),
    "cornet_s_bottleneck_1x": _DEFAULT.replace(bottleneck=1),
    "cornet_s_bottleneck_2x": _DEFAULT.replace(bottleneck=2),
    "cornet_s_bottleneck_4x": _DEFAULT,
    "cornet_s_bottleneck_6x": _DEFAULT.replace(bottleneck=6),
    "cornet_s_convs_2_3": _DEFAULT.replace(conv_layers=(2, 3), loop_length=2),
    "cornet_s_convs_1_2_3": _DEFAULT,
    "cornet_s_skip_present": _DEFAULT,
    "cornet_s_skip_absent": _DEFAULT.replace(skip=False),
    "cornet_s_norm_batch": _DEFAULT,
    "cornet_s_norm_group": _DEFAULT.replace(norm="group"),
    "cornet_s_areas_4": _DEFAULT,
    "cornet_s_areas_5": _DEFAULT.replace(n_areas=5, times=(2, 4, 2, 2)),
}


def fig4_variant(group: str, variant: str) -> CORnetSConfig:
    """The config of the Fig. 4 row with these labels (as spelled in the figure)."""
    for row_group, row_variant, name in FIG4_ROWS:
        if row_group == group and row_variant == variant:
            return FIG4_VARIANTS[name]
    raise ValueError(
        f"no Fig. 4 row ({group!r}, {variant!r}); rows: {[(g, v) for g, v, _ in FIG4_ROWS]}")
