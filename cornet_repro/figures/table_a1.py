"""Table A1: every model with its published scores."""

from __future__ import annotations

import pandas as pd

from .. import selections
from ..data.published import LABELS

COLUMNS = ("brain_score", "V4", "IT", "behavior", "OST", "imagenet_top1", "cifar100_top1", "it_new_neurons",
           "it_new_images", "behavior_new_images", "depth")


def table_a1(scores: pd.DataFrame, include_basenets: bool = False, sort_by: str = "brain_score",
             decimals: int = 3) -> pd.DataFrame:
    """One row per model, ranked by ``sort_by``; BaseNets appended only when asked for."""
    if sort_by not in COLUMNS:
        raise ValueError(f"sort_by must be one of {COLUMNS}, got {sort_by!r}")
    rows = scores if include_basenets else selections.named_models(scores)
    rows = rows.sort_values(sort_by, ascending=False, na_position="last").reset_index(drop=True)
    table = rows[["model", "family", *COLUMNS]].rename(columns={c: LABELS[c] for c in COLUMNS})
    table.insert(0, "rank", range(1, len(table) + 1))
    numeric = [LABELS[c] for c in COLUMNS if c != "depth"]
    table[numeric] = table[numeric].round(decimals)
    return table
