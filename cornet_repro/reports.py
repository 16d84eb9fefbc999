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

__all__ = ["depth_table", "fig4_compact_table", "fig4_recomputed_names", "fig4_variant_table", "published_inventory"]


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


#: what a recomputed top-1 measured (``top1_measure`` of the Fig. 4 deltas) → how a table heads it
TOP1_NAMES = {"imagenet_top1": "ImageNet", "validation_top1": "simulated"}


def fig4_compact_table(table: pd.DataFrame) -> pd.DataFrame:
    """The Fig. 4 table for the page: published and recomputed deltas side by side.

    ``table``: :func:`cornet_repro.figures.fig4_circuitry.circuitry_table` (published deltas,
    recomputed ones joined with a ``recomputed_`` prefix when there are any). One row per variant,
    in the paper's order. Columns: ``group``, ``variant``, ``is_default``, ``published_top1``,
    ``published_brain_score`` (% change, as printed: integers), and when recomputed:
    ``recomputed_top1`` (+ ``_sd``, and ``_ci``: the 95% CI over seeds in words, "resolved" where it
    excludes 0), ``recomputed_brain_score`` (likewise), ``top1``,
    ``brain_score`` (the absolute values behind the deltas), ``source``, ``top1_measure``.
    The baseline rows (CORnet-S itself, ``is_default``) have no published delta, as in the paper.
    """
    out = pd.DataFrame({
        "group": table["group"], "variant": table["variant"], "is_default": table["is_default"].astype(bool),
        "published_top1": table["delta_imagenet_top1_pct"],
        "published_brain_score": table["delta_brain_score_pct"],
    })
    if "recomputed_delta_top1_pct" in table:
        for measure, column in (("top1", "delta_top1_pct"), ("brain_score", "delta_brain_score_pct")):
            out[f"recomputed_{measure}"] = table[f"recomputed_{column}"]
            out[f"recomputed_{measure}_sd"] = table.get(f"recomputed_{column}_sd", pd.Series(float("nan"),
                                                                                              index=table.index))
            if f"recomputed_{column}_ci_low" in table:
                out[f"recomputed_{measure}_ci"] = [
                    _ci_text(low, high, resolved, default)
                    for low, high, resolved, default in zip(table[f"recomputed_{column}_ci_low"],
                                                            table[f"recomputed_{column}_ci_high"],
                                                            table[f"recomputed_{column}_resolved"], out["is_default"])]
        out["top1"] = table.get("recomputed_top1")
        out["brain_score"] = table.get("recomputed_brain_score")
        out["source"] = table.get("recomputed_source")
        out["top1_measure"] = table.get("recomputed_top1_measure")
    return out.reset_index(drop=True)


def _ci_text(low: float, high: float, resolved: bool, default: bool) -> str:
    """'[−5, −1] resolved' (a 95% CI over seeds, whole percent); '' where there is none (one seed, the baseline)."""
    if default or pd.isna(low):
        return ""
    signed = lambda v: f"{v:+.0f}".replace("-", "−")  # noqa: E731 - the tables' minus sign
    # no-break space inside the interval: a narrow column wraps before "resolved", never inside it
    return f"[{signed(low)},\u00a0{signed(high)}]" + (" resolved" if resolved else "")


def fig4_recomputed_names(compact: pd.DataFrame) -> tuple[str, str] | None:
    """(data source, top-1 name) of the recomputed columns, e.g. ``('simulated', 'simulated')``;
    None when there are none. A top-1 is called ImageNet only when it was measured on ImageNet."""
    if "recomputed_top1" not in compact:
        return None
    source = compact["source"].dropna()
    measure = compact["top1_measure"].dropna()
    return (source.iloc[0] if len(source) else "simulated",
            TOP1_NAMES.get(measure.iloc[0] if len(measure) else "validation_top1", "simulated"))


def published_inventory() -> dict[str, str]:
    """What ships as published data, in words for the Data sources page (each value a string).

    Keys: ``n_models``, ``n_named``, ``n_basenets`` ("243 models" style counts), ``commit`` (of the
    authors' data file), ``fig4_rows`` / ``fig4_groups``, ``fig5_bins``, ``fig5_precision``
    (e.g. ``"±0.05 ms"``, from the transcription's own source note) and ``bin_width`` (the OST
    bins of the protocol, which the simulated monkey's time bins follow).
    """
    import re

    from .data.published import load_circuitry_deltas, load_ost_bins, load_scores, load_scores_long
    from .prose import count
    from .protocol import OST_BIN_WIDTH_MS

    scores = load_scores()
    basenets = int(scores["is_basenet"].astype(bool).sum())
    commits = {re.search(r"@([0-9a-f]{7,40})", s).group(1) for s in load_scores_long()["source"]}
    if len(commits) != 1:
        raise ValueError(f"published scores.csv cites {len(commits)} commits of the authors' data, expected one")
    deltas, bins = load_circuitry_deltas(), load_ost_bins()
    precision = {m.group(0) for s in bins["source"] if (m := re.search(r"±\s*[\d.]+\s*ms", s))}
    return {"n_models": count(len(scores), "model"), "n_named": count(len(scores) - basenets, "named network"),
            "n_basenets": count(basenets, "BaseNet checkpoint"), "commit": commits.pop()[:8],
            "fig4_rows": count(len(deltas), "row"), "fig4_groups": count(deltas["group"].nunique(), "group"),
            "fig5_bins": count(len(bins), "bin"),
            "fig5_precision": precision.pop() if len(precision) == 1 else "as digitized",
            "bin_width": f"{OST_BIN_WIDTH_MS} ms"}
