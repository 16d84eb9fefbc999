"""Any PyTorch model, by object or by name, with the layers to read it at.

A model spec is one of:

* an ``nn.Module`` (used as given);
* ``torchvision:NAME``: a torchvision architecture, randomly initialised (``--weights`` loads yours);
* ``package.module:factory``: your code; ``factory()`` must return an ``nn.Module``;
* a registry name of :func:`cornet_repro.models.get_model` (``cornet_s``, ``resnet18``, ...).

:func:`candidate_layers` proposes where to read a model: for the CORnets their committed areas,
for the torchvision baselines the curated lists of :func:`~cornet_repro.models.region_layers`,
and for anything else every top-level stage before the classifier (a stage that is a plain
sequence of layers contributes its nonlinearity and pooling outputs), with the stage before the
classifier as the behavioural readout. Pass ``layers=`` to choose yourself.
"""

from __future__ import annotations

import importlib
import os
from typing import Sequence

import torch
from torch import nn

from .registry import TORCHVISION_MODELS, list_models, region_layers
from .weights import load_weights

__all__ = ["ModelSpecError", "resolve_model", "candidate_layers", "layer_shapes"]

#: module types whose outputs are candidate layers inside a plain sequential stage
_READOUT_TYPES = (nn.ReLU, nn.ReLU6, nn.GELU, nn.SiLU, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
                  nn.AdaptiveMaxPool2d)


class ModelSpecError(ValueError):
    """A model spec names nothing that can be built; the message says what to write instead."""


def resolve_model(spec: str | nn.Module, *, weights: str | os.PathLike | None = None,
                  cache: str | os.PathLike | None = None) -> tuple[nn.Module, str]:
    """``(model in eval mode, its name)`` for a model spec (see the module docstring).

    ``weights``: a state-dict file (or URL) loaded with ``torch.load(weights_only=True)``; keys
    that do not match the architecture raise :class:`~cornet_repro.models.weights.WeightsError`
    naming the missing and unexpected keys.
    """
    if isinstance(spec, nn.Module):
        model, name = spec, type(spec).__name__
    elif not isinstance(spec, str) or not spec:
        raise ModelSpecError(f"model {spec!r}: expected an nn.Module or a name such as torchvision:resnet18, "
                             "package.module:factory, or cornet_s")
    elif spec.startswith("torchvision:"):
        model, name = _torchvision(spec.split(":", 1)[1]), spec
    elif ":" in spec:
        model, name = _factory(spec), spec
    elif spec in list_models():
        from .registry import get_model

        model, name = get_model(spec), spec
    else:
        raise ModelSpecError(f"model {spec!r} is not a known name: write torchvision:NAME (e.g. torchvision:resnet18), "
                             f"package.module:factory for your own code, or one of {', '.join(list_models()[:6])}, …")
    if weights is not None:
        load_weights(model, weights, cache)
    return model.eval(), name


def _torchvision(name: str) -> nn.Module:
    import torchvision

    available = torchvision.models.list_models()
    if name not in available:
        import difflib

        close = difflib.get_close_matches(name, available, n=3)
        hint = f" (did you mean {', '.join('torchvision:' + c for c in close)}?)" if close else ""
        raise ModelSpecError(f"torchvision has no model {name!r}{hint}")
    if name == "inception_v3":
        return torchvision.models.get_model(name, weights=None, init_weights=True, aux_logits=False)
    return torchvision.models.get_model(name, weights=None)


def _factory(spec: str) -> nn.Module:
    module_name, _, attribute = spec.rpartition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ModelSpecError(f"model {spec!r}: cannot import {module_name!r} ({error}); is it on PYTHONPATH "
                             "(run from the folder that holds it)?") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ModelSpecError(f"model {spec!r}: {module_name} has no callable {attribute!r}")
    model = factory()
    if not isinstance(model, nn.Module):
        raise ModelSpecError(f"model {spec!r}: {attribute}() returned {type(model).__name__}, not a torch.nn.Module")
    return model


def candidate_layers(model: nn.Module, name: str = "", layers: Sequence[str] | None = None,
                     behavior_layer: str | None = None) -> dict[str, list[str]]:
    """Where to read ``model``: ``{"V4": candidates, "IT": candidates, "behavior": [readout]}``.

    ``layers``/``behavior_layer`` override the proposal; every name must be a module of the model.
    """
    registry = name.split(":", 1)[1] if name.startswith("torchvision:") else name
    if layers is None and registry in (*TORCHVISION_MODELS, *[n for n in list_models() if n.startswith("cornet")]):
        proposed = region_layers(registry)
    else:
        proposed = _generic_layers(model)
    if layers is not None:
        proposed["V4"] = list(layers)
        proposed["IT"] = list(layers)
    if behavior_layer is not None:
        proposed["behavior"] = [behavior_layer]
    modules = dict(model.named_modules())
    unknown = sorted({n for names in proposed.values() for n in names} - set(modules))
    if unknown:
        # the two outer levels of names: where layers are usually read, and short enough for one line
        outer = [n for n in modules if n and n.count(".") <= 1]
        raise ModelSpecError(f"layers {unknown} are not modules of {name or type(model).__name__}; its outer "
                             f"modules are {', '.join(outer[:40])}{' …' if len(outer) > 40 else ''}")
    return proposed


def _generic_layers(model: nn.Module) -> dict[str, list[str]]:
    children = list(model.named_children())
    if not children:
        raise ModelSpecError(f"{type(model).__name__} has no submodules to read; pass layers=[...]")
    *stages, (last_name, last) = children
    if not _is_classifier(last):  # no classifier at the end: every stage is a candidate
        stages, last_name = children, None
    if all(_is_leaf(m) for _, m in stages):  # the model is itself a plain sequence of layers
        candidates = [n for n, m in stages if isinstance(m, _READOUT_TYPES)]
    else:
        candidates = []
        for stage_name, stage in stages:
            grandchildren = list(stage.named_children())
            plain = isinstance(stage, nn.Sequential) and grandchildren and all(_is_leaf(m) for _, m in grandchildren)
            picked = ([f"{stage_name}.{n}" for n, m in grandchildren if isinstance(m, _READOUT_TYPES)]
                      if plain else [])
            candidates += picked or [stage_name]
    if not candidates or not stages:
        raise ModelSpecError(f"{type(model).__name__}: found no stage before its classifier {last_name!r}; "
                             "pass layers=[...]")
    return {"V4": candidates, "IT": list(candidates), "behavior": [stages[-1][0]]}


def _is_leaf(module: nn.Module) -> bool:
    return not list(module.children())


def _is_classifier(module: nn.Module) -> bool:
    if isinstance(module, nn.Linear):
        return True
    leaves = [m for m in module.modules() if not list(m.children())]
    return bool(leaves) and any(isinstance(m, nn.Linear) for m in leaves) and not any(
        isinstance(m, nn.Conv2d) for m in leaves)


def layer_shapes(model: nn.Module, layers: Sequence[str], image_size: int) -> dict[str, tuple[int, ...]]:
    """Each layer's output shape for one image (a forward pass on the meta device: no memory,
    no compute). A module called several times gives its last call, as activation extraction does."""
    import copy

    meta = copy.deepcopy(model).to("meta").eval()
    modules = dict(meta.named_modules())
    shapes: dict[str, tuple[int, ...]] = {}

    def hook(name):
        def record(_module, _inputs, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            shapes[name] = tuple(out.shape[1:])
        return record

    handles = [modules[n].register_forward_hook(hook(n)) for n in layers]
    try:
        with torch.no_grad():
            meta(torch.zeros(1, 3, image_size, image_size, device="meta"))
    finally:
        for h in handles:
            h.remove()
    missing = [n for n in layers if n not in shapes]
    if missing:
        raise ModelSpecError(f"layers {missing} produced no output in a forward pass")
    return shapes
