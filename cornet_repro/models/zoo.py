"""Model registry: the CORnet family, the Fig. 4 presets and the torchvision baselines.

``get_model(name)`` builds a randomly initialised model (offline by default);
``get_model(name, pretrained=True)`` loads published ImageNet weights (a cached, hash-verified
download; offline it fails with a message naming the URL and where to put the file).
``region_layers(name)`` gives the module names to record activations from.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from . import checkpoints
from .config import FIG4_PRESETS, FIG4_ROWS, CORnetSConfig
from .cornet import CORnetR, CORnetRT, CORnetS, CORnetZ

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CORNET_MODELS", "PUBLISHED_NAMES", "TORCHVISION_MODELS", "fig4_preset_table",
           "get_model", "list_models", "region_layers"]

CORNET_MODELS = ("cornet_z", "cornet_r", "cornet_rt", "cornet_s")
TORCHVISION_MODELS = (
    "alexnet", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "densenet121", "densenet169", "densenet201", "squeezenet1_0", "squeezenet1_1", "mobilenet_v2",
    "inception_v3",
)

#: Registry name -> model name in the paper's data (neurips2019 data.csv). The published
#: ResNet-50/101/152 are the TF-slim "v2" (pre-activation) models; torchvision has v1, with the
#: same depth. The published MobileNet v2 is TF-slim's 1.0 multiplier at 224 px.
PUBLISHED_NAMES: dict[str, str] = {
    "cornet_s": "CORnet-S",
    "alexnet": "AlexNet",
    "vgg16": "VGG-16",
    "vgg19": "VGG-19",
    "resnet18": "ResNet-18",
    "resnet34": "ResNet-34",
    "resnet50": "ResNet-50 v2",
    "resnet101": "ResNet-101 v2",
    "resnet152": "ResNet-152 v2",
    "densenet121": "DenseNet-121",
    "densenet169": "DenseNet-169",
    "densenet201": "DenseNet-201",
    "squeezenet1_0": "SqueezeNet v1.0",
    "squeezenet1_1": "SqueezeNet v1.1",
    "mobilenet_v2": "MobileNet v2_1.0_224",
    "inception_v3": "Inception V3",
}


def list_models() -> list[str]:
    """Every name :func:`get_model` accepts."""
    return [*CORNET_MODELS, *FIG4_PRESETS, *TORCHVISION_MODELS]


def _unknown(name: str) -> ValueError:
    valid = list_models()
    close = difflib.get_close_matches(name, valid, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return ValueError(f"unknown model {name!r}.{hint} Valid names: {', '.join(valid)}")


def get_model(name: str, pretrained: bool = False, *, cache_dir: str | os.PathLike | None = None,
              **config: Any) -> nn.Module:
    """Build a model by registry name (see :func:`list_models`).

    Args:
        name: ``'cornet_s'``, ``'cornet_z'``, ``'cornet_rt'``, ``'cornet_r'``, a Fig. 4 preset
            (``'cornet_s_steps_1_1_1'``, ...) or a torchvision architecture (``'resnet50'``, ...).
        pretrained: load the published ImageNet weights (official CORnet checkpoints or
            torchvision's weights); needs the network once, then the cache.
        cache_dir: where CORnet checkpoints are cached (default ``$CORNET_REPRO_CACHE`` or
            ``~/.cache/cornet_repro``); torchvision weights go to torch.hub's cache.
        **config: CORnet-S / preset: :class:`CORnetSConfig` fields (e.g. ``width=0.25``);
            CORnet-RT/R: ``times``, ``num_classes``; CORnet-Z: ``num_classes``; torchvision:
            keyword arguments of its builder.
    """
    if name in ("cornet_s", *FIG4_PRESETS):
        base = FIG4_PRESETS.get(name, CORnetSConfig())
        cfg = base.replace(**config) if config else base
        model: nn.Module = CORnetS(cfg)
        if pretrained:
            # Only the published architecture has published weights (image_size is nominal).
            if cfg.replace(image_size=224) != CORnetSConfig():
                raise ValueError(
                    f"pretrained weights exist only for the official CORnet-S architecture, not for "
                    f"{name!r} with {config or 'its preset config'}; use pretrained=False")
            checkpoints.load_checkpoint(model, checkpoints.official_url("cornet_s"), cache_dir)
        return model
    if name in ("cornet_z", "cornet_rt", "cornet_r"):
        allowed = {"num_classes"} | ({"times"} if name != "cornet_z" else set())
        unknown = sorted(set(config) - allowed)
        if unknown:
            raise ValueError(f"{name} does not take {unknown}; it takes {sorted(allowed)}")
        if pretrained and config.get("num_classes", 1000) != 1000:
            raise ValueError(f"pretrained {name} has 1000 classes; drop num_classes or use pretrained=False")
        cls = {"cornet_z": CORnetZ, "cornet_rt": CORnetRT, "cornet_r": CORnetR}[name]
        model = cls(**config)
        if pretrained:
            checkpoints.load_checkpoint(model, checkpoints.official_url(name), cache_dir)
        return model
    if name in TORCHVISION_MODELS:
        return _torchvision_model(name, pretrained, **config)
    raise _unknown(name)


def _torchvision_model(name: str, pretrained: bool, **kwargs: Any) -> nn.Module:
    import torchvision

    if name == "inception_v3" and not pretrained:
        # torchvision warns unless the initialisation is chosen explicitly.
        kwargs.setdefault("init_weights", True)
    if not pretrained:
        return torchvision.models.get_model(name, weights=None, **kwargs)
    weights = torchvision.models.get_model_weights(name).DEFAULT
    # Fetch into torch.hub's cache with our verified, atomic download, so an offline failure
    # names the URL and the place to put the file; torchvision then finds it there.
    hub_dir = Path(torch.hub.get_dir()) / "checkpoints"
    checkpoints.resolve_checkpoint(weights.url, hub_dir)
    return torchvision.models.get_model(name, weights=weights, **kwargs)


# ---------------------------------------------------------------------------------------------
# Layers to read activations from
# ---------------------------------------------------------------------------------------------
def region_layers(name: str, **config: Any) -> dict[str, list[str]]:
    """Module names to record activations from, per brain region and for behaviour.

    CORnets commit to one layer per area (``'V4': ['V4.output']``; the ``output`` module is called
    at every time step) and read behaviour from ``decoder.avgpool``. For torchvision models the
    ``'V4'`` and ``'IT'`` entries list *candidate* layers (Brain-Score picks the best one per
    region) and ``'behavior'`` is the penultimate (pooled feature) layer.
    """
    if name in ("cornet_s", *FIG4_PRESETS):
        base = FIG4_PRESETS.get(name, CORnetSConfig())
        areas = (base.replace(**config) if config else base).area_names
    elif name in ("cornet_z", "cornet_rt", "cornet_r"):
        areas = ("V1", "V2", "V4", "IT")
    elif name in TORCHVISION_MODELS:
        candidates, behavior = _torchvision_layers(name)
        return {"V4": candidates, "IT": list(candidates), "behavior": [behavior]}
    else:
        raise _unknown(name)
    layers = {area: [f"{area}.output"] for area in areas}
    layers["behavior"] = ["decoder.avgpool"]
    return layers


def _torchvision_layers(name: str) -> tuple[list[str], str]:
    with torch.device("meta"):
        model = get_model(name)
    modules = dict(model.named_modules())
    if name == "alexnet" or name.startswith("vgg"):
        # Every rectified conv / pooling output, then the two hidden fully connected layers.
        candidates = [n for n, m in modules.items()
                      if n.startswith("features.") and isinstance(m, (nn.ReLU, nn.MaxPool2d))]
        fc = [n for n, m in modules.items() if n.startswith("classifier.") and isinstance(m, nn.ReLU)]
        return candidates + fc, fc[-1]
    if name.startswith("resnet"):
        blocks = [n for n in modules if n.count(".") == 1 and n.startswith("layer")]
        return blocks + ["avgpool"], "avgpool"
    if name.startswith("densenet"):
        # Torchvision pools norm5's output functionally (relu + global average), so the
        # behavioural readout takes norm5 and the activation code averages it spatially.
        stages = [n for n in modules if n.startswith(("features.denseblock", "features.transition"))
                  and n.count(".") == 1]
        return stages + ["features.norm5"], "features.norm5"
    if name.startswith("squeezenet") or name == "mobilenet_v2":
        # features.<i> children; the last one is the penultimate (spatially pooled afterwards).
        stages = [n for n in modules if n.startswith("features.") and n.count(".") == 1
                  and not isinstance(modules[n], (nn.ReLU, nn.Dropout))]
        return stages[1:], stages[-1]
    if name == "inception_v3":
        mixed = [n for n in modules if n.startswith("Mixed_") and "." not in n]
        return mixed + ["avgpool"], "avgpool"
    raise _unknown(name)


def fig4_preset_table(**config: Any) -> pd.DataFrame:
    """One row per Fig. 4 row: group, variant, preset name, parameter count and depth.

    Models are built on the meta device (no memory, no compute); ``config`` overrides fields
    of every preset (e.g. ``width=0.25``).
    """
    import pandas as pd

    from .depth import depth

    rows = []
    for group, variant, preset in FIG4_ROWS:
        with torch.device("meta"):
            model = get_model(preset, **config)
        rows.append({"group": group, "variant": variant, "preset": preset,
                     "is_default": FIG4_PRESETS[preset] == CORnetSConfig(),
                     "n_parameters": sum(p.numel() for p in model.parameters()),
                     "depth": depth(model)})
    return pd.DataFrame(rows)
