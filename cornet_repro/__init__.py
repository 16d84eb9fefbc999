"""cornet-repro: an executable edition of Kubilius, Schrimpf et al. (NeurIPS 2019).

Subpackages: ``models`` (the CORnet family), ``data`` (published, real and simulated data),
``metrics`` (Brain-Score metrics), ``figures`` (one module per paper figure).

The one function most users want, :func:`score_model`, scores any PyTorch model on the paper's
benchmarks (``cornet_repro.score_model("torchvision:resnet18")``); see
:mod:`cornet_repro.own_model`.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__", "score_model"]


def score_model(model: Any, **options: Any) -> dict[str, Any]:
    """Score any model on the paper's benchmarks; returns its result record.

    ``model``: an ``nn.Module``, ``torchvision:NAME``, ``package.module:factory`` or a registry
    name; ``options``: those of :func:`cornet_repro.own_model.score_own_model` (``weights``,
    ``layers``, ``data``, ``image_size``, ``results_dir``, ...). Imported on first call, so that
    ``import cornet_repro`` stays light.
    """
    from .own_model import score_own_model

    return score_own_model(model, **options)
