"""The paper's quantitative claims, each recomputed from the published table.

Agreement means: the recomputed value, rounded to the precision the paper printed, equals the
printed value (or, for a qualitative claim, the stated condition holds).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from . import selections
from .data.published import LABELS
from .stats import correlate_columns, fmt_p, fmt_r


@dataclass(frozen=True)
class Claim:
    where: str
    claim: str
    printed: str
    recomputed: str
    agrees: bool
    how: str


def agrees_at_printed_precision(printed: str, value: float, scale: float = 1.0) -> bool:
    """``".90"`` vs ``0.899`` → True; ``"73.1"`` vs ``0.731`` with ``scale=100`` → True."""
    text = printed.strip().rstrip("%")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return round(value * scale, decimals) == round(float(text), decimals)


def _rank(scores: pd.DataFrame, model: str, measure: str) -> tuple[int, int]:
    ranked = scores.dropna(subset=[measure]).sort_values(measure, ascending=False).reset_index(drop=True)
    return int(ranked.index[ranked["model"] == model][0]) + 1, len(ranked)


def check_claims(scores: pd.DataFrame, threshold: float = 0.70, n_resamples: int = 2000) -> pd.DataFrame:
    """Recompute every quantitative claim of the paper's text from ``scores`` (published table)."""
    claims: list[Claim] = []
    boot = dict(n_resamples=n_resamples)

    def r_claim(where: str, text: str, printed: str, df: pd.DataFrame, x: str, y: str, how: str) -> None:
        c = correlate_columns(df, x, y, **boot)
        claims.append(Claim(where, text, f"r = {printed}", f"r = {c.r:.3f} ({fmt_p(c.p)}, n = {c.n})",
                            agrees_at_printed_precision(printed, c.r), how))

    r_claim("§4.1, Fig. 1", "Models below 70% ImageNet top-1: Brain-Score correlates with ImageNet",
            ".90", selections.fig1_below(scores, threshold), "imagenet_top1", "brain_score",
            f"Pearson over all models with ImageNet < {threshold:.2f} (BaseNets included)")
    above = correlate_columns(selections.fig1_above(scores, threshold), "imagenet_top1", "brain_score", **boot)
    claims.append(Claim("§4.1, Fig. 1 inset", "Above 70% there is no significant correlation",
                        "p ≫ .05 (r: n.s.)", f"r = {fmt_r(above.r)}, {fmt_p(above.p)}, n = {above.n}",
                        above.p > 0.05, f"Pearson over models with ImageNet ≥ {threshold:.2f}, CORnet-S excluded"))
    fig2 = selections.fig2_models(scores)
    for (x, y, _), printed, label in zip(selections.FIG2_PANELS, (".87", ".57", ".85", ".64"), "abcd"):
        r_claim(f"§4.1, Fig. 2{label}", f"{LABELS[y]} vs {LABELS[x]} across models", printed, fig2, x, y,
                "Pearson, BaseNets and CORnet-S excluded")

    cornet = scores.set_index("model").loc[selections.CORNET_S]
    claims.append(Claim("§4.1", "CORnet-S Brain-Score", ".471", f"{cornet.brain_score:.4f}",
                        agrees_at_printed_precision(".471", cornet.brain_score), "table value"))
    rank, n = _rank(scores, selections.CORNET_S, "brain_score")
    claims.append(Claim("§4.1", "CORnet-S is the best model on Brain-Score", "1st", f"{rank} of {n}",
                        rank == 1, "rank by Brain-Score over all scored models"))
    claims.append(Claim("§1, §4.2", "CORnet-S ImageNet top-1", "73.1%", f"{100 * cornet.imagenet_top1:.2f}%",
                        agrees_at_printed_precision("73.1", cornet.imagenet_top1, 100), "table value"))
    claims.append(Claim("§4.2", "CORnet-S depth", "15", f"{cornet.depth:g}", cornet.depth == 15, "table value"))
    claims.append(Claim("§4.4", "CORnet-S OST score", ".25", f"{cornet.OST:.2f}",
                        agrees_at_printed_precision(".25", cornet.OST), "table value (per-image data not public)"))

    pnas = scores.set_index("model").loc["PNASnet Large"]
    claims.append(Claim("§4.1", "PNASNet ImageNet top-1", "82.9%", f"{100 * pnas.imagenet_top1:.2f}%",
                        agrees_at_printed_precision("82.9", pnas.imagenet_top1, 100), "table value"))
    rank, n = _rank(scores, "PNASnet Large", "brain_score")
    claims.append(Claim("§4.1", "PNASNet ranks 13th on Brain-Score", "13th", f"{rank} of {n}", rank == 13,
                        "rank by Brain-Score over all scored models"))
    for model, depth, top1 in (("AlexNet", "8", "57.7"), ("IamNN", "14", "69.6")):
        row = scores.set_index("model").loc[model]
        claims.append(Claim("§4.2", f"{model} depth and ImageNet top-1", f"{depth}, {top1}%",
                            f"{row.depth:g}, {100 * row.imagenet_top1:.2f}%",
                            row.depth == float(depth) and agrees_at_printed_precision(top1, row.imagenet_top1, 100),
                            "table values"))

    shallow = selections.named_models(scores)
    shallow = shallow[shallow["depth"] < 50]
    for measure, text in (("imagenet_top1", "best ImageNet top-1 among models with depth < 50"),
                          ("cifar100_top1", "best CIFAR-100 transfer among similarly shallow models (depth < 50)")):
        rank, n = _rank(shallow, selections.CORNET_S, measure)
        best = shallow.dropna(subset=[measure]).sort_values(measure, ascending=False).iloc[0]
        claims.append(Claim("§4.2, Fig. 3", f"CORnet-S: {text}", "best", 
                            f"rank {rank} of {n} (best: {best.model}, {best[measure]:.4f})", rank == 1,
                            "rank among non-BaseNet models with a published depth < 50"))
    return pd.DataFrame([asdict(c) for c in claims])
