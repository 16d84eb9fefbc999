"""Tables about the models, for the book and the tests: computed vs published depth, Fig. 4 variants.

They sit above :mod:`cornet_repro.models` (which builds models) and
:mod:`cornet_repro.data.published` (which holds the paper's numbers), joining the two; keeping
them out of ``models/`` is what keeps the model code free of the published data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd
import torch
from torch import nn

from .models.config import FIG4_ROWS, FIG4_VARIANTS, CORnetSConfig
from .models.depth import depth
from .models.registry import PUBLISHED_NAMES, get_model, list_models

__all__ = ["depth_table", "fig4_variant_table"]


def depth_table(names: Iterable[str] | None = None,
                published: Mapping[str, float] | None = None,
                build: Callable[[str], nn.Module] | None = None) -> pd.DataFrame:
    """Computed vs published depth of each model.

    Args:
        names: registry names (default: every model of :func:`cornet_repro.models.list_models`
            that the paper's table names).
        published: published depth per *published* model name (e.g. ``{'ResNet-18': 18}``); by
            default the ``depth`` column of :func:`cornet_repro.data.published.load_scores`.
        build: ``name -> nn.Module`` (default: :func:`get_model` on the meta device).

    Columns: ``name``, ``published_name``, ``depth`` (computed), ``published_depth``, ``match``.
    """
    if names is None:
        names = [n for n in list_models() if n in PUBLISHED_NAMES]
    if published is None:
        published = _published_depths()
    if build is None:
        def build(name: str) -> nn.Module:
            with torch.device("meta"):
                return get_model(name)

    rows = []
    for name in names:
        published_name = PUBLISHED_NAMES.get(name)
        value = published.get(published_name) if published_name is not None else None
        value = None if value is None or value != value else int(value)  # NaN -> None
        computed = depth(build(name))
        rows.append({"name": name, "published_name": published_name, "depth": computed,
                     "published_depth": value,
                     "match": None if value is None else computed == value})
    table = pd.DataFrame(rows)
    table["published_depth"] = table["published_depth"].astype("Int64")
    table["match"] = table["match"].astype("boolean")
    return table


def _published_depths() -> dict[str, float]:
    from .data.published import load_scores

    rows = load_scores()[["model", "depth"]].dropna()
    return dict(zip(rows["model"], rows["depth"].astype(float)))


def fig4_variant_table(**config: Any) -> pd.DataFrame:
    """One row per Fig. 4 row: group, variant label, variant name, parameter count and depth.

    Models are built on the meta device (no memory, no compute); ``config`` overrides fields
    of every variant (e.g. ``width=0.25``).
    """
    rows = []
    for group, variant, name in FIG4_ROWS:
        with torch.device("meta"):
            model = get_model(name, **config)
        rows.append({"group": group, "variant": variant, "name": name,
                     "is_default": FIG4_VARIANTS[name] == CORnetSConfig(),
                     "n_parameters": sum(p.numel() for p in model.parameters()),
                     "depth": depth(model)})
    return pd.DataFrame(rows)
