"""The CORnet family: CORnet-Z, CORnet-R, CORnet-RT and CORnet-S (with its Fig. 4 variants).

Module and parameter names follow the official implementation (github.com/dicarlolab/CORnet),
so the official checkpoints load unchanged (see :mod:`cornet_repro.models.checkpoints`). The
forward passes are written anew: nothing is mutated inside ``forward`` (the official CORnet-S sets
``conv2.stride`` per time step; here the stride is an argument of the call), which keeps the models
usable with ``torch.compile``, ``torch.fx`` and DDP.

Every model has ``forward(x) -> logits`` and ``forward_time_steps(x) -> (logits, outputs)`` where
``outputs[area]`` lists that area's output at each of its time steps. Each area also calls its
``output`` module (an ``nn.Identity``) once per step, so forward hooks on ``"V4.output"`` etc. see
every step, as Brain-Score's activation extractor expects.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.fx
import torch.nn.functional as F
from torch import Tensor, nn

from .config import CORnetSConfig
from .time_mapping import CORNET_S_TIME_MAPPING, CORNET_Z_TIME_MAPPING, scaled_time_mapping

__all__ = ["CORblockRT", "CORblockS", "CORblockZ", "CORnetR", "CORnetRT", "CORnetS", "CORnetZ",
           "StrideConv2d"]

AREAS = ("V1", "V2", "V4", "IT")


def _check_input(x: Tensor, min_size: int) -> None:
    """Reject inputs the model cannot process, with a message saying what is expected."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected a batch of RGB images of shape (N, 3, H, W), got {tuple(x.shape)}")
    if min(x.shape[-2:]) < min_size:
        raise ValueError(
            f"input of {x.shape[-2]}x{x.shape[-1]} px is smaller than the model's total stride "
            f"({min_size} px); use images of at least {min_size}x{min_size} px")


# Recorded as a single call when the model is traced with torch.fx (the checks need real shapes).
torch.fx.wrap("_check_input")


def _decoder(in_features: int, num_classes: int) -> nn.Sequential:
    # Same names as the official decoder; "avgpool" is the behavioural readout layer.
    return nn.Sequential(OrderedDict([
        ("avgpool", nn.AdaptiveAvgPool2d(1)),
        ("flatten", nn.Flatten()),
        ("linear", nn.Linear(in_features, num_classes)),
        ("output", nn.Identity()),
    ]))


class StrideConv2d(nn.Conv2d):
    """A ``Conv2d`` whose stride can be chosen per call.

    CORnet-S applies the same 3x3 weights with stride 2 at t = 0 and stride 1 afterwards. Passing
    the stride to the call (instead of setting ``self.stride``) keeps ``forward`` free of side
    effects; the parameter is still ``conv2.weight``, as in the official checkpoints.
    """

    def forward(self, x: Tensor, stride: int | None = None) -> Tensor:
        if stride is None:
            return super().forward(x)
        return F.conv2d(x, self.weight, self.bias, stride, self.padding, self.dilation, self.groups)


def _norm(kind: str, channels: int, gn_groups: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    # Group norm needs groups | channels; narrow models (small width) get fewer groups.
    return nn.GroupNorm(math.gcd(gn_groups, channels), channels)


# --------------------------------------------------------------------------------------------
# CORnet-S
# --------------------------------------------------------------------------------------------
class CORblockS(nn.Module):
    """One CORnet-S area: ``conv_input`` then a recurrent bottleneck residual block.

    At t = 0 the block sees ``conv_input(input)``; the 3x3 ``conv2`` and the ``skip`` shortcut
    reduce the resolution by ``stride``. At t > 0 the block sees its own previous output (hard
    gate), the shortcut is the identity and ``conv2`` has stride 1. Normalization layers are
    separate per time step (``norm{k}_{t}``) or, for group norm, shared (``norm{k}``). The
    defaults reproduce the official ``CORblock_S``; see :class:`CORnetSConfig` for the variants.
    """

    _KERNELS = {1: 1, 2: 3, 3: 1}

    def __init__(self, in_channels: int, out_channels: int, times: int = 1, stride: int = 2, *,
                 bottleneck: int = 4, conv_layers: tuple[int, ...] = (1, 2, 3), loop_length: int = 3,
                 gate: str = "hard", skip: bool = True, norm: str = "batch", gn_groups: int = 32) -> None:
        super().__init__()
        self.times = times
        self.stride = stride
        self.conv_layers = tuple(conv_layers)
        self.loop_layers = self.conv_layers[len(self.conv_layers) - loop_length:]
        self.gate = gate
        self.norm_kind = norm

        self.conv_input = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        if skip:
            self.skip = nn.Conv2d(out_channels, out_channels, kernel_size=1, stride=stride, bias=False)
            self.norm_skip = _norm(norm, out_channels, gn_groups)
        else:
            self.skip = self.norm_skip = None

        # Channel plan: the state (out_channels wide) re-enters the loop at its first convolution,
        # so that convolution reads out_channels; the others expand to bottleneck * out_channels.
        # Default (conv1..conv3 all in the loop): C -> 4C -> 4C -> C, as in the official code.
        n = len(self.conv_layers)
        expanded = out_channels * bottleneck
        widths = [expanded] * (n + 1)
        widths[0] = widths[n] = widths[n - loop_length] = out_channels
        for i, k in enumerate(self.conv_layers):
            kernel = self._KERNELS[k]
            conv_cls = StrideConv2d if k == 2 else nn.Conv2d
            setattr(self, f"conv{k}", conv_cls(widths[i], widths[i + 1], kernel_size=kernel,
                                               stride=stride if k == 2 else 1,
                                               padding=kernel // 2, bias=False))
            setattr(self, f"nonlin{k}", nn.ReLU())
        self.output = nn.Identity()  # called at every step: hook "<area>.output" to record it

        # A norm after every convolution. Batch norm: one per time step (training needs it;
        # Jastrzebski et al. 2018), but convolutions outside the loop only run at t = 0 and get
        # just norm{k}_0. Group norm: one per convolution, shared over time.
        for t in range(times):
            for i, k in enumerate(self.conv_layers):
                if norm == "batch" and (t == 0 or k in self.loop_layers):
                    setattr(self, f"norm{k}_{t}", nn.BatchNorm2d(widths[i + 1]))
                elif norm == "group" and t == 0:
                    setattr(self, f"norm{k}", _norm("group", widths[i + 1], gn_groups))

    def _get_norm(self, k: int, t: int) -> nn.Module:
        return getattr(self, f"norm{k}" if self.norm_kind == "group" else f"norm{k}_{t}")

    def forward(self, inp: Tensor) -> Tensor:
        return self.forward_time_steps(inp)[-1]

    def forward_time_steps(self, inp: Tensor) -> list[Tensor]:
        """The block's output at each time step."""
        u = self.conv_input(inp)
        outputs: list[Tensor] = []
        state = u
        pooled_input = None
        for t in range(self.times):
            if t == 0:
                x = u
                shortcut = self.norm_skip(self.skip(u)) if self.skip is not None else None
                layers = self.conv_layers  # the first sweep runs every convolution
            else:
                x = state
                if self.gate == "soft":
                    # The input keeps flowing in, scaled by a parameter-free gate; it is pooled
                    # to the state's (strided) resolution once.
                    if pooled_input is None:
                        pooled_input = F.adaptive_avg_pool2d(u, state.shape[-2:])
                    x = state + torch.sigmoid(pooled_input + state) * pooled_input
                shortcut = state if self.skip is not None else None
                layers = self.loop_layers
            for k in layers:
                conv = getattr(self, f"conv{k}")
                x = conv(x, stride=self.stride if t == 0 else 1) if k == 2 else conv(x)
                x = self._get_norm(k, t)(x)
                if k != layers[-1]:
                    x = getattr(self, f"nonlin{k}")(x)
            if shortcut is not None:
                x = x + shortcut
            state = getattr(self, f"nonlin{layers[-1]}")(x)
            outputs.append(self.output(state))
        return outputs


class CORnetS(nn.Module):
    """CORnet-S (Kubilius, Schrimpf et al. 2019) and its circuitry variants.

    ``CORnetS()`` is the published model (53,416,616 parameters at 224 px and 1000 classes); pass a
    :class:`CORnetSConfig` (or its fields as keyword arguments) for the Fig. 4 variants, a smaller
    ``width`` or another ``num_classes``.
    """

    def __init__(self, config: CORnetSConfig | None = None, **overrides) -> None:
        super().__init__()
        config = config or CORnetSConfig()
        if overrides:
            config = config.replace(**overrides)
        self.config = config
        channels = config.channels
        names = config.area_names

        # V1 is custom (larger, strided first convolution) to save memory.
        c1 = channels[0]
        self.V1 = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(3, c1, kernel_size=7, stride=2, padding=3, bias=False)),
            ("norm1", _norm(config.norm, c1, config.gn_groups)),
            ("nonlin1", nn.ReLU()),
            ("pool", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
            ("conv2", nn.Conv2d(c1, c1, kernel_size=3, stride=1, padding=1, bias=False)),
            ("norm2", _norm(config.norm, c1, config.gn_groups)),
            ("nonlin2", nn.ReLU()),
            ("output", nn.Identity()),
        ]))
        for i, name in enumerate(names[1:], start=1):
            setattr(self, name, CORblockS(
                channels[i - 1], channels[i], times=config.times[i - 1], stride=config.strides[i - 1],
                bottleneck=config.bottleneck, conv_layers=config.conv_layers,
                loop_length=config.loop_length, gate=config.gate, skip=config.skip,
                norm=config.norm, gn_groups=config.gn_groups))
        self.decoder = _decoder(channels[-1], config.num_classes)
        self.area_names = names
        self._init_weights()

    @torch.no_grad()
    def _init_weights(self) -> None:
        # As the official code: He-normal over fan-out for convolutions, unit norms; the linear
        # decoder keeps PyTorch's default (the official code omitted it as well).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @property
    def time_mapping(self) -> dict[str, tuple[float, float, int]]:
        """Brain-Score's time mapping for CORnet-S; other step counts get a scaled mapping."""
        steps = self.config.steps
        if all(CORNET_S_TIME_MAPPING[a][2] == steps.get(a) for a in CORNET_S_TIME_MAPPING):
            return dict(CORNET_S_TIME_MAPPING)
        return scaled_time_mapping(steps)

    def forward_time_steps(self, x: Tensor) -> tuple[Tensor, dict[str, list[Tensor]]]:
        """Logits and, per area, the list of its outputs at each time step."""
        _check_input(x, self.config.min_image_size)
        outputs = {"V1": [self.V1(x)]}
        h = outputs["V1"][0]
        for name in self.area_names[1:]:
            outputs[name] = getattr(self, name).forward_time_steps(h)
            h = outputs[name][-1]  # the next area reads the last step (areas run one after another)
        return self.decoder(h), outputs

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_time_steps(x)[0]


# --------------------------------------------------------------------------------------------
# CORnet-Z
# --------------------------------------------------------------------------------------------
class CORblockZ(nn.Module):
    """One CORnet-Z area: convolution, ReLU, 3x3 max pooling with stride 2."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                              padding=kernel_size // 2)
        self.nonlin = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.output = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.output(self.pool(self.nonlin(self.conv(x))))


class CORnetZ(nn.Module):
    """CORnet-Z: the feedforward, AlexNet-like member of the family (2,071,656 parameters)."""

    time_mapping = CORNET_Z_TIME_MAPPING
    min_image_size = 32

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.V1 = CORblockZ(3, 64, kernel_size=7, stride=2)
        self.V2 = CORblockZ(64, 128)
        self.V4 = CORblockZ(128, 256)
        self.IT = CORblockZ(256, 512)
        self.decoder = _decoder(512, num_classes)
        self.area_names = AREAS
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)

    def forward_time_steps(self, x: Tensor) -> tuple[Tensor, dict[str, list[Tensor]]]:
        """Logits and each area's (single-step) output."""
        _check_input(x, self.min_image_size)
        outputs = {}
        for name in AREAS:
            x = getattr(self, name)(x)
            outputs[name] = [x]
        return self.decoder(x), outputs

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_time_steps(x)[0]


# --------------------------------------------------------------------------------------------
# CORnet-RT and CORnet-R
# --------------------------------------------------------------------------------------------
class CORblockRT(nn.Module):
    """One CORnet-RT area: ``state' = relu(norm1(conv1(drive(input) + state)))``.

    ``drive`` is ``relu(norm_input(conv_input(input)))``. Before anything has arrived from below
    (``inp is None``) the drive is zero; at t = 0 the state is zero.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 gn_groups: int = 32) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.conv_input = nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                                    padding=kernel_size // 2)
        self.norm_input = nn.GroupNorm(math.gcd(gn_groups, out_channels), out_channels)
        self.nonlin_input = nn.ReLU()
        self.conv1 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.norm1 = nn.GroupNorm(math.gcd(gn_groups, out_channels), out_channels)
        self.nonlin1 = nn.ReLU()
        self.output = nn.Identity()

    def zero_state(self, below: Tensor) -> Tensor:
        """Zeros shaped like this area's output for ``below`` (the area underneath's output)."""
        conv = self.conv_input
        h, w = below.shape[-2:]
        out_h = (h + 2 * conv.padding[0] - conv.kernel_size[0]) // conv.stride[0] + 1
        out_w = (w + 2 * conv.padding[1] - conv.kernel_size[1]) // conv.stride[1] + 1
        return below.new_zeros((below.shape[0], self.out_channels, out_h, out_w))

    def forward(self, inp: Tensor | None, state: Tensor | None) -> Tensor:
        if inp is None and state is None:
            raise ValueError("CORblockRT needs an input, a state or both")
        x = state
        if inp is not None:
            drive = self.nonlin_input(self.norm_input(self.conv_input(inp)))
            x = drive if state is None else drive + state
        x = self.nonlin1(self.norm1(self.conv1(x)))
        return self.output(x)


class CORnetRT(nn.Module):
    """CORnet-RT: recurrent areas updated synchronously (5,208,936 parameters).

    At step t every area reads the output of the area below at step t - 1 (V1 reads the image at
    every step) and its own previous output, so information needs one step per area to climb:
    at t = 0 only V1 has an input and V2, V4 and IT process a zero state.
    """

    sequential = False  # CORnet-R: areas read the area below at the *same* step
    min_image_size = 32

    def __init__(self, times: int = 5, num_classes: int = 1000) -> None:
        super().__init__()
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise ValueError(f"times={times!r}: expected an integer >= 1")
        self.times = times
        self.V1 = CORblockRT(3, 64, kernel_size=7, stride=4)
        self.V2 = CORblockRT(64, 128, stride=2)
        self.V4 = CORblockRT(128, 256, stride=2)
        self.IT = CORblockRT(256, 512, stride=2)
        self.decoder = _decoder(512, num_classes)
        self.area_names = AREAS

    def forward_time_steps(self, x: Tensor) -> tuple[Tensor, dict[str, list[Tensor]]]:
        """Logits (from IT's last step) and every area's output at each of the ``times`` steps."""
        _check_input(x, self.min_image_size)
        outputs: dict[str, list[Tensor]] = {name: [] for name in AREAS}
        previous: dict[str, Tensor] = {}  # each area's output at the previous step
        for t in range(self.times):
            current: dict[str, Tensor] = {}
            for i, name in enumerate(AREAS):
                block = getattr(self, name)
                if i == 0:
                    inp = x
                elif t == 0:
                    inp = None  # nothing has reached this area yet
                else:
                    inp = (current if self.sequential else previous)[AREAS[i - 1]]
                state = previous.get(name)
                if inp is None and state is None:
                    state = block.zero_state(current[AREAS[i - 1]])
                current[name] = block(inp, state)
                outputs[name].append(current[name])
            previous = current
        return self.decoder(previous["IT"]), outputs

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_time_steps(x)[0]


class CORnetR(CORnetRT):
    """CORnet-R: as CORnet-RT, but at each step an area reads the area below's output of the same
    step (the official ``CORnet_R`` update order), so one step carries the image to IT."""

    sequential = True
