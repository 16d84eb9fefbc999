"""Model registry: the CORnet family, the Fig. 4 variants and the torchvision baselines.

``get_model(name)`` builds a randomly initialised model (offline by default);
``get_model(name, pretrained=True)`` loads published ImageNet weights (a cached, hash-verified
download; offline it fails with a message naming the URL and where to put the file).
``region_layers(name)`` gives the module names to record activations from;
``is_cornet_s_family(name)`` is the one check of "CORnet-S or one of its Fig. 4 variants", whose
config (``width``, ``times``, ...) also decides its layers.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from .config import FIG4_VARIANTS, CORnetSConfig
from .cornet import CORnetR, CORnetRT, CORnetS, CORnetZ
from .weights import load_weights, official_url, resolve_weights

__all__ = ["CORNET_MODELS", "PUBLISHED_NAMES", "TORCHVISION_MODELS", "build_model", "check_model_name", "get_model",
           "is_cornet_s_family", "layer_config", "list_models", "region_layers"]

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


def is_cornet_s_family(name: str) -> bool:
    """CORnet-S or one of its Fig. 4 variants: built from a :class:`CORnetSConfig`."""
    return name == "cornet_s" or name in FIG4_VARIANTS


def build_model(name: str, model_config: Mapping[str, Any] | None = None, *, num_classes: int,
                image_size: int | None = None) -> nn.Module:
    """A model to train: ``get_model(name, num_classes=..., **model_config)``; the CORnet-S family
    also takes the training ``image_size`` (its nominal input size)."""
    kwargs: dict[str, Any] = {"num_classes": num_classes}
    if image_size is not None and is_cornet_s_family(name):
        kwargs["image_size"] = image_size
    kwargs.update(model_config or {})
    return get_model(name, **kwargs)


def layer_config(name: str, model_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part of a model's config that decides its layers (CORnet-S family: all of it)."""
    return dict(model_config or {}) if is_cornet_s_family(name) else {}


def list_models() -> list[str]:
    """Every name :func:`get_model` accepts."""
    return [*CORNET_MODELS, *FIG4_VARIANTS, *TORCHVISION_MODELS]


def check_model_name(name: str) -> None:
    """Raise the unknown-model error (with close names) unless :func:`get_model` accepts ``name``."""
    if name not in list_models():
        raise _unknown(name)


def _unknown(name: str) -> ValueError:
    valid = list_models()
    close = difflib.get_close_matches(name, valid, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return ValueError(f"unknown model {name!r}.{hint} Valid names: {', '.join(valid)}")


def get_model(name: str, pretrained: bool = False, *, cache_dir: str | os.PathLike | None = None,
              **config: Any) -> nn.Module:
    """Build a model by registry name (see :func:`list_models`).

    Args:
        name: ``'cornet_s'``, ``'cornet_z'``, ``'cornet_rt'``, ``'cornet_r'``, a Fig. 4 variant
            (``'cornet_s_steps_1_1_1'``, ...) or a torchvision architecture (``'resnet50'``, ...).
        pretrained: load the published ImageNet weights (official CORnet checkpoints or
            torchvision's weights); needs the network once, then the cache.
        cache_dir: where CORnet checkpoints are cached (default ``$CORNET_REPRO_CACHE`` or
            ``~/.cache/cornet_repro``); torchvision weights go to torch.hub's cache.
        **config: CORnet-S / Fig. 4 variant: :class:`CORnetSConfig` fields (e.g. ``width=0.25``);
            CORnet-RT/R: ``times``, ``num_classes``; CORnet-Z: ``num_classes``; torchvision:
            keyword arguments of its builder.
    """
    if is_cornet_s_family(name):
        base = FIG4_VARIANTS.get(name, CORnetSConfig())
        cfg = base.replace(**config) if config else base
        model: nn.Module = CORnetS(cfg)
        if pretrained:
            # Only the published architecture has published weights (image_size is nominal).
            if cfg.replace(image_size=224) != CORnetSConfig():
                raise ValueError(
                    f"pretrained weights exist only for the official CORnet-S architecture, not for "
                    f"{name!r} with {config or 'its variant config'}; use pretrained=False")
            load_weights(model, official_url("cornet_s"), cache_dir)
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
            load_weights(model, official_url(name), cache_dir)
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
    resolve_weights(weights.url, hub_dir)
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
    if is_cornet_s_family(name):
        base = FIG4_VARIANTS.get(name, CORnetSConfig())
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
