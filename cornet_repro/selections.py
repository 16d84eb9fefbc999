"""Which models enter which statistic: the paper's inclusion rules, in one place."""

from __future__ import annotations

import pandas as pd

CORNET_S = "CORnet-S"

#: Fig. 2 panels: (x measure, y measure, title), as in the paper.
FIG2_PANELS = (
    ("IT", "it_new_neurons", "New neural recordings,\nsame images"),
    ("IT", "it_new_images", "New neural recordings,\nnew images"),
    ("behavior", "behavior_new_images", "New behavioral recordings,\nnew images"),
    ("brain_score", "cifar100_top1", "CIFAR-100 transfer"),
)


def fig1_below(scores: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Models with ImageNet top-1 below ``threshold`` (BaseNets included), as in Fig. 1's r = .90."""
    _check_threshold(threshold)
    scored = scores.dropna(subset=["imagenet_top1", "brain_score"])
    return scored[scored["imagenet_top1"] < threshold]


def fig1_above(scores: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Models at or above ``threshold``, CORnet-S excluded: the population of Fig. 1's inset."""
    _check_threshold(threshold)
    scored = scores.dropna(subset=["imagenet_top1", "brain_score"])
    return scored[(scored["imagenet_top1"] >= threshold) & (scored["model"] != CORNET_S)]


def fig2_models(scores: pd.DataFrame) -> pd.DataFrame:
    """Fig. 2's correlations exclude BaseNets and CORnet-S."""
    return scores[~scores["is_basenet"].astype(bool) & (scores["model"] != CORNET_S)]


def named_models(scores: pd.DataFrame) -> pd.DataFrame:
    """Every model but the BaseNets (Fig. 3, Table A1's main block)."""
    return scores[~scores["is_basenet"].astype(bool)]


def _check_threshold(threshold: float) -> None:
    if not 0 < threshold < 1:
        raise ValueError(f"threshold is an ImageNet top-1 fraction in (0, 1), got {threshold!r}")
