"""The paper's quantitative claims, each recomputed from the published table.

Agreement means: the recomputed value, rounded to the precision the paper printed, equals the
printed value (or, for a qualitative claim, the stated condition holds).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from . import selections
from .data.published import LABELS, load_circuitry_deltas
from .prose import ordinal
from .stats import correlate_columns, fmt_p, fmt_r


@dataclass(frozen=True)
class Claim:
    """One claim: where the paper makes it, what it says, the value it printed, the value recomputed
    (at the precision printed), whether they agree, how it was recomputed (with the unrounded value)."""

    where: str
    claim: str
    printed: str
    recomputed: str
    agrees: bool
    how: str


def _decimals(printed: str) -> int:
    text = printed.strip().rstrip("%")
    return len(text.split(".")[1]) if "." in text else 0


def agrees_at_printed_precision(printed: str, value: float, scale: float = 1.0) -> bool:
    """``".90"`` vs ``0.899`` → True; ``"73.1"`` vs ``0.731`` with ``scale=100`` → True."""
    decimals = _decimals(printed)
    return round(value * scale, decimals) == round(float(printed.strip().rstrip("%")), decimals)


def at_printed_precision(printed: str, value: float, scale: float = 1.0) -> str:
    """``value`` written as the paper wrote ``printed``: ``(".471", 0.47055)`` → ``".471"``,
    ``("73.1%", 0.731, 100)`` → ``"73.1%"``, ``(".90", 0.8693)`` → ``".87"``, ``("15", 15.0)`` → ``"15"``."""
    text = f"{value * scale:.{_decimals(printed)}f}"
    if printed.strip().lstrip("-").startswith("."):  # the paper drops the leading zero of fractions
        text = text.replace("0.", ".", 1)
    return text + ("%" if printed.strip().endswith("%") else "")


def _pct(value: float) -> str:
    """A published Fig. 4 delta as the figure prints it: integer percent, signed (−7%, +1%, 0%)."""
    return "0%" if value == 0 else f"{value:+.0f}%".replace("-", "\u2212")


def _rank(scores: pd.DataFrame, model: str, measure: str) -> tuple[int, int]:
    ranked = scores.dropna(subset=[measure]).sort_values(measure, ascending=False).reset_index(drop=True)
    return int(ranked.index[ranked["model"] == model][0]) + 1, len(ranked)


def check_claims(scores: pd.DataFrame, threshold: float = 0.70, n_resamples: int = 2000,
                 deltas: pd.DataFrame | None = None) -> pd.DataFrame:
    """Recompute every quantitative claim of the paper's text from ``scores`` (published table) and
    the Fig. 4 claims from ``deltas`` (published Fig. 4 deltas; default: the shipped transcription).

    ``recomputed`` is written at the precision the paper printed; ``how`` ends with the unrounded value.
    """
    claims: list[Claim] = []
    boot = dict(n_resamples=n_resamples)

    def r_claim(where: str, text: str, printed: str, df: pd.DataFrame, x: str, y: str, how: str) -> None:
        c = correlate_columns(df, x, y, **boot)
        claims.append(Claim(where, text, f"r = {printed}", f"r = {at_printed_precision(printed, c.r)}",
                            agrees_at_printed_precision(printed, c.r),
                            f"{how}; unrounded r = {c.r:.4f}, {fmt_p(c.p)}, n = {c.n}"))

    def value_claim(where: str, text: str, printed: str, value: float, scale: float = 1.0,
                    how: str = "table value") -> None:
        claims.append(Claim(where, text, printed, at_printed_precision(printed, value, scale),
                            agrees_at_printed_precision(printed, value, scale),
                            f"{how}; unrounded {value * scale:.4g}{'%' if printed.endswith('%') else ''}"))

    def rank_claim(where: str, text: str, model: str, printed_rank: int) -> None:
        rank, n = _rank(scores, model, "brain_score")
        claims.append(Claim(where, text, ordinal(printed_rank), ordinal(rank), rank == printed_rank,
                            f"rank by Brain-Score over all {n} scored models"))

    r_claim("§4.1, Fig. 1", "Models below 70% ImageNet top-1: Brain-Score correlates with ImageNet",
            ".90", selections.fig1_below(scores, threshold), "imagenet_top1", "brain_score",
            f"Pearson over all models with ImageNet < {threshold:.2f} (BaseNets included)")
    above = correlate_columns(selections.fig1_above(scores, threshold), "imagenet_top1", "brain_score", **boot)
    claims.append(Claim("§4.1, Fig. 1 inset", "Above 70% there is no significant correlation",
                        "p ≫ .05 (r: n.s.)", f"r = {fmt_r(above.r)}, {fmt_p(above.p)}",
                        above.p > 0.05,
                        f"Pearson over models with ImageNet ≥ {threshold:.2f}, CORnet-S excluded; n = {above.n}"))
    fig2 = selections.fig2_models(scores)
    for (x, y, _), printed, label in zip(selections.FIG2_PANELS, (".87", ".57", ".85", ".64"), "abcd"):
        r_claim(f"§4.1, Fig. 2{label}", f"{LABELS[y]} vs {LABELS[x]} across models", printed, fig2, x, y,
                "Pearson, BaseNets and CORnet-S excluded")

    cornet = scores.set_index("model").loc[selections.CORNET_S]
    value_claim("§4.1", "CORnet-S Brain-Score", ".471", cornet.brain_score)
    rank_claim("§4.1", "CORnet-S is the best model on Brain-Score", selections.CORNET_S, 1)
    value_claim("§1, §4.2", "CORnet-S ImageNet top-1", "73.1%", cornet.imagenet_top1, 100)
    value_claim("§4.2", "CORnet-S depth", "15", cornet.depth)
    value_claim("§4.4", "CORnet-S OST score", ".25", cornet.OST, how="table value (per-image data not public)")

    pnas = scores.set_index("model").loc["PNASnet Large"]
    value_claim("§4.1", "PNASNet ImageNet top-1", "82.9%", pnas.imagenet_top1, 100)
    rank_claim("§4.1", f"PNASNet ranks {ordinal(13)} on Brain-Score", "PNASnet Large", 13)
    for model, depth, top1 in (("AlexNet", "8", "57.7%"), ("IamNN", "14", "69.6%")):
        row = scores.set_index("model").loc[model]
        claims.append(Claim("§4.2", f"{model} depth and ImageNet top-1", f"{depth}, {top1}",
                            f"{at_printed_precision(depth, row.depth)}, {at_printed_precision(top1, row.imagenet_top1, 100)}",
                            row.depth == float(depth) and agrees_at_printed_precision(top1, row.imagenet_top1, 100),
                            f"table values; unrounded {row.depth:g}, {100 * row.imagenet_top1:.2f}%"))

    shallow = selections.named_models(scores)
    shallow = shallow[shallow["depth"] < 50]
    for measure, text in (("imagenet_top1", "best ImageNet top-1 among models with depth < 50"),
                          ("cifar100_top1", "best CIFAR-100 transfer among similarly shallow models (depth < 50)")):
        rank, n = _rank(shallow, selections.CORNET_S, measure)
        best = shallow.dropna(subset=[measure]).sort_values(measure, ascending=False).iloc[0]
        mine = shallow.set_index("model").loc[selections.CORNET_S, measure]
        recomputed = "best" if rank == 1 else f"{ordinal(rank)} (best: {best.model}, {100 * best[measure]:.1f}%)"
        claims.append(Claim("§4.2, Fig. 3", f"CORnet-S: {text}", "best", recomputed, rank == 1,
                            f"rank among the {n} non-BaseNet models with a published depth < 50; "
                            f"unrounded CORnet-S {100 * mine:.2f}%, best {best.model} {100 * best[measure]:.2f}%"))
    claims += fig4_claims(load_circuitry_deltas() if deltas is None else deltas)
    return pd.DataFrame([asdict(c) for c in claims])


#: Fig. 4's groups as the transcription names them
RECURRENCE = "Number of recurrent steps in V2/V4/IT"
_HOW_FIG4 = "published Fig. 4 deltas (integer %, read by eye: ±1 point)"


def fig4_claims(deltas: pd.DataFrame) -> list[Claim]:
    """The paper's text claims about Fig. 4 (abstract, §2.1, §4.3), checked on the published deltas.

    ``deltas``: :func:`cornet_repro.data.published.load_circuitry_deltas` (or a frame like it).
    The paper prints no number for these claims; ``printed`` quotes what it says, ``recomputed``
    gives the deltas that decide it (Δ ImageNet top-1 / Δ Brain-Score, as Fig. 4 prints them).
    """
    variants = deltas[~deltas["is_default"].astype(bool)].copy()
    variants["name"] = [v if g == RECURRENCE else f"{g.lower()} {v}" for g, v in zip(variants["group"], variants["variant"])]
    top1, bs = "delta_imagenet_top1_pct", "delta_brain_score_pct"

    def row(group: str, variant: str) -> pd.Series:
        hit = variants[(variants["group"] == group) & (variants["variant"] == variant)]
        if hit.empty:
            raise ValueError(f"Fig. 4 deltas have no variant {variant!r} in group {group!r}; "
                             f"groups: {sorted(variants['group'].unique())}")
        return hit.iloc[0]

    def both(r: pd.Series) -> str:
        return f"{r['name']}: {_pct(r[top1])} / {_pct(r[bs])}"

    claims = []
    for measure, label in ((bs, "Brain-Score"), (top1, "ImageNet top-1")):
        worst = variants.loc[variants[measure].idxmin()]
        others = variants[variants["group"] != worst["group"]]
        runner_up = others.loc[others[measure].idxmin()]
        recurrence_worst = variants[variants["group"] == RECURRENCE][measure].min()
        agrees = worst["group"] == RECURRENCE and recurrence_worst < others[measure].min()
        claims.append(Claim(
            "Abstract, §4.3, Fig. 4", f"Recurrence is the main predictive factor of {label}",
            "main factor", f"largest loss: {worst['name']} ({_pct(worst[measure])}); "
                           f"next group: {runner_up['name']} ({_pct(runner_up[measure])})",
            bool(agrees), f"the variant with the largest Δ {label} is in the recurrence group, strictly "
                          f"beyond every other group; {_HOW_FIG4}"))

    narrow = [row("Bottleneck size", v) for v in ("1x", "2x")]
    claims.append(Claim("§4.3, Fig. 4", "A wide bottleneck (at least 4x expansion) is important",
                        "important", "; ".join(both(r) for r in narrow),
                        all(r[top1] < 0 and r[bs] < 0 for r in narrow),
                        f"Δ ImageNet top-1 / Δ Brain-Score of every bottleneck below 4x < 0; {_HOW_FIG4}"))
    skip = row("Skip connection", "absent")
    claims.append(Claim("§4.3, Fig. 4", "A skip connection is important", "important", both(skip),
                        bool(skip[top1] < 0 and skip[bs] < 0),
                        f"removing the skip lowers both measures; {_HOW_FIG4}"))
    steps = deltas[(deltas["group"] == RECURRENCE)]
    default_steps = steps[steps["is_default"].astype(bool)]["variant"].iloc[0]
    more = [row(RECURRENCE, v) for v in steps["variant"] if _total_steps(v) > _total_steps(default_steps)]
    fewer = [row(RECURRENCE, v) for v in steps["variant"] if _total_steps(v) < _total_steps(default_steps)]
    for text, rows in (("More recurrence does not improve the model or hurt its Brain-Score", more),
                       ("Five areas instead of four do not improve the model or hurt its Brain-Score",
                        [row("Number of model areas", "5")])):
        claims.append(Claim("§4.3, Fig. 4", text, "no change", "; ".join(both(r) for r in rows),
                            all(r[bs] == 0 and r[top1] <= 0 for r in rows),
                            f"Δ Brain-Score = 0 and Δ ImageNet top-1 ≤ 0; {_HOW_FIG4}"))
    mostly = [row("Convolutional layers", "2nd and 3rd"), row("Number of model areas", "5"),
              row("Normalization", "Group Normalization")]
    claims.append(Claim("§4.3, Fig. 4", "Two convolutions instead of three, more areas, and group instead of "
                        "batch normalization affect mostly ImageNet performance", "mostly ImageNet",
                        "; ".join(both(r) for r in mostly), all(abs(r[top1]) > abs(r[bs]) for r in mostly),
                        f"|Δ ImageNet top-1| > |Δ Brain-Score| for each; {_HOW_FIG4}"))
    gate = row("Gating", "soft gate: sigmoid(input + state)")
    claims.append(Claim("§4.3, Fig. 4", "The type of gating does not seem to matter", "no change", both(gate),
                        bool(gate[top1] == 0 and gate[bs] == 0), f"both deltas 0; {_HOW_FIG4}"))
    claims.append(Claim("§2.1, Fig. 4", f"{default_steps} steps in V2/V4/IT is the most minimal configuration "
                        "that produced the best model", "best minimal",
                        "fewer: " + "; ".join(both(r) for r in fewer) + " · more: " + "; ".join(both(r) for r in more),
                        all(min(r[top1], r[bs]) < 0 for r in fewer) and all(max(r[top1], r[bs]) <= 0 for r in more),
                        f"every variant with fewer steps loses on a measure, none with more gains; {_HOW_FIG4}"))
    return claims


def _total_steps(variant: str) -> int:
    """'2/4/2' → 8; 'no recurrence (1/1/1)' → 3: the steps of V2, V4 and IT added up."""
    import re

    found = re.search(r"(\d+)/(\d+)/(\d+)", variant)
    if found is None:
        raise ValueError(f"Fig. 4 recurrence variant {variant!r} does not name its steps as 'a/b/c'")
    return sum(int(g) for g in found.groups())
