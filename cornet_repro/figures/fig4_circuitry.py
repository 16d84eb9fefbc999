"""Fig. 4: how top-1 and Brain-Score change per circuitry variant, published and recomputed.

The analysis (:func:`circuitry_deltas`: % change of each variant against CORnet-S, over seeds,
from result files) sits beside the figure it feeds. Published deltas are ImageNet top-1 and
Brain-Score; recomputed ones are top-1 on whatever task the runs trained on (``top1_measure``:
``imagenet_top1`` or ``validation_top1``, the simulated task) and are never called ImageNet
unless they are.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..models.config import FIG4_ROWS, FIG4_VARIANTS, CORnetSConfig, fig4_short_label
from ..claims import RECURRENCE
from ..stats import mean_ci
from .interactive import record_meta
from .style import CIRCUIT_MAGENTA, SOURCE_STYLE, paper_style

#: published delta columns and their labels
DELTAS = (("delta_imagenet_top1_pct", "Δ ImageNet top-1, %"), ("delta_brain_score_pct", "Δ Brain-Score, %"))
#: published column → the recomputed column it is compared with
RECOMPUTED = {"delta_imagenet_top1_pct": "delta_top1_pct", "delta_brain_score_pct": "delta_brain_score_pct"}
TOP1_LABELS = {"imagenet_top1": "ImageNet top-1", "validation_top1": "simulated top-1"}


def _recomputed_label(table: pd.DataFrame, column: str) -> str:
    """'Δ simulated top-1, %' (or ImageNet, when the runs trained on ImageNet)."""
    if column == "delta_brain_score_pct":
        return "Δ Brain-Score, %"
    measure = table["recomputed_top1_measure"].dropna() if "recomputed_top1_measure" in table else pd.Series([], dtype=str)
    return f"Δ {TOP1_LABELS.get(measure.iloc[0] if len(measure) else 'validation_top1')}, %"


def circuitry_deltas(results: pd.DataFrame, *, top1: str | None = None) -> pd.DataFrame:
    """Fig. 4 recomputed: % change of top-1 and Brain-Score (without OST) per variant vs CORnet-S.

    The baseline is every result of the default CORnet-S architecture (``cornet_s`` or any Fig. 4
    row whose config is the default) with the same preset and source; with several seeds, deltas
    are computed per seed against the same-seed baseline when there is one (else the baseline
    mean) and summarized as mean, s.d. and 95% Student-t CI over seeds (``_ci_low``, ``_ci_high``);
    ``_resolved`` is True where that CI excludes 0 (never on CORnet-S's own rows). ``top1``: the column for the top-1 delta (default
    ``imagenet_top1`` when present, else ``validation_top1``: top-1 on the simulated task; the
    ``top1_measure`` column names it). Columns: ``group``, ``variant``, ``delta_top1_pct`` (+ ``_sd``),
    ``delta_brain_score_pct`` (+ ``_sd``), ``n_seeds``, ``source``, ``preset``, ``conventions`` (how V4/IT
    were ceiled: deltas are taken only within one), ``top1_measure``;
    the absolute values behind the deltas (means over seeds): ``top1``, ``brain_score``, and the
    baseline's ``baseline_top1`` (+ ``_sd`` over seeds), ``baseline_brain_score`` (+ ``_sd``), and
    ``chance_top1`` (1 / number of classes), so a reader can tell a delta from noise near chance.
    """
    defaults = {"cornet_s"} | {name for name, cfg in FIG4_VARIANTS.items() if cfg == CORnetSConfig()}
    rows = []
    # deltas only between results scored alike: same preset, data and ceiling conventions
    keys = ["preset", "source"] + (["conventions"] if "conventions" in results else [])
    for key, group in results.groupby(keys, dropna=False):
        preset, source = key[0], key[1]
        conventions = key[2] if len(key) > 2 else "paper-2019"
        column = top1 or ("imagenet_top1" if group["imagenet_top1"].notna().any() else "validation_top1")
        base = group[group["model_name"].isin(defaults) & ~_has_model_overrides(group)]
        if base.empty:
            continue
        base_by_seed = base.groupby("seed")[[column, "brain_score_fig4"]].mean()
        base_mean = base[[column, "brain_score_fig4"]].mean()
        base_sd = base_by_seed.std(ddof=1) if len(base_by_seed) > 1 else pd.Series(np.nan, index=base_mean.index)
        baseline = {"baseline_top1": base_mean[column], "baseline_top1_sd": base_sd[column],
                    "baseline_brain_score": base_mean["brain_score_fig4"],
                    "baseline_brain_score_sd": base_sd["brain_score_fig4"],
                    "chance_top1": group["chance_top1"].dropna().iloc[0] if group["chance_top1"].notna().any()
                    else np.nan}
        for fig_group, variant, name in FIG4_ROWS:
            runs = group[group["model_name"] == name]
            if name in defaults and runs.empty:
                runs = base  # the default row is CORnet-S itself
            if runs.empty:
                continue
            deltas = {column: [], "brain_score_fig4": []}
            for _, run in runs.iterrows():
                ref = base_by_seed.loc[run["seed"]] if run["seed"] in base_by_seed.index else base_mean
                for measure in deltas:
                    deltas[measure].append(100.0 * (run[measure] - ref[measure]) / ref[measure])
            t, b = np.asarray(deltas[column], float), np.asarray(deltas["brain_score_fig4"], float)
            is_default = name in defaults and runs is base
            spread = {}
            for key, values in (("delta_top1_pct", t), ("delta_brain_score_pct", b)):
                mean, low, high = mean_ci(values)
                spread[key] = mean
                spread[f"{key}_sd"] = float(np.std(values, ddof=1)) if len(values) > 1 else np.nan
                spread[f"{key}_ci_low"], spread[f"{key}_ci_high"] = low, high
                # resolved: the seeds' 95% CI excludes 0 (the baseline itself has no delta to resolve)
                spread[f"{key}_resolved"] = bool(not is_default and (low > 0 or high < 0))
            rows.append({"group": fig_group, "variant": variant, **spread,
                         "n_seeds": len(runs), "source": source, "preset": preset, "conventions": conventions,
                         "top1_measure": column,
                         "top1": float(runs[column].mean()), "brain_score": float(runs["brain_score_fig4"].mean()),
                         **baseline})
    spread = [f"{key}{part}" for key in ("delta_top1_pct", "delta_brain_score_pct")
              for part in ("", "_sd", "_ci_low", "_ci_high", "_resolved")]
    return pd.DataFrame(rows, columns=["group", "variant", *spread, "n_seeds", "source",
                                       "preset", "conventions", "top1_measure", "top1", "brain_score", "baseline_top1",
                                       "baseline_top1_sd", "baseline_brain_score", "baseline_brain_score_sd",
                                       "chance_top1"])


def _has_model_overrides(frame: pd.DataFrame) -> pd.Series:
    """Rows whose model_config changes the architecture (anything beyond width/size/classes)."""
    neutral = {"width", "image_size", "num_classes"}
    if "model_config" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["model_config"].map(lambda config: bool(set(config or {}) - neutral))


def load_circuitry_results(results_dir: str | os.PathLike | None, preset: str | None = None, *,
                           shipped: str | None = None, models: list[str] | None = None) -> pd.DataFrame | None:
    """Recomputed Fig. 4 deltas from :func:`cornet_repro.figures.common.combined_results` (None → none).

    ``preset`` selects whose results to show; None takes the preset of the newest result file.
    ``attrs["setting"]`` of the frame is :func:`training_setting` of those results.
    """
    from .common import combined_results

    results = combined_results(results_dir, shipped=shipped, models=models)
    if results is None:
        return None
    where = " and ".join(filter(None, [f"shipped sweep {shipped!r}" if shipped else "", str(results_dir or "")]))
    if preset is None:
        preset = results.sort_values("created", kind="stable")["preset"].iloc[-1]
    chosen = results[results["preset"] == preset]
    if chosen.empty:
        raise ValueError(f"no results with preset {preset!r} in {where}; found {sorted(results.preset.unique())}")
    found = sorted(chosen["conventions"].dropna().unique()) if "conventions" in chosen else []
    if len(found) > 1:
        raise ValueError(f"{where}: the preset {preset!r} results were scored under {len(found)} conventions "
                         f"({', '.join(found)}); Fig. 4 compares like with like: rescore them under one, or keep "
                         "one set per folder")
    deltas = circuitry_deltas(chosen)
    if deltas.empty:
        return None
    deltas.attrs["setting"] = training_setting(chosen)  # for claim_verdicts' reasons
    return deltas


def live_check(results_dir: str | os.PathLike | None, shipped: str | None,
               tolerance: float = 1e-6) -> tuple[bool | None, str, pd.DataFrame]:
    """Compare the runs executed live (``results_dir``) with the same runs in the shipped sweep.

    Returns (matched: None when there is nothing to compare, a sentence for the page, the
    comparison of :func:`cornet_repro.results.compare_records`). Training is deterministic, so
    equal code gives equal numbers; a difference above ``tolerance`` means the shipped sweep is
    stale (made by other code) and must be remade with the command in its manifest.
    """
    from ..data.shipped import RESULTS, read_manifest, shipped_dir
    from ..results import compare_records, read_results
    from .common import read_results_dir

    live = read_results_dir(results_dir) if shipped else None
    if live is None or live.empty:
        return None, "", pd.DataFrame()
    comparison = compare_records(read_results(shipped_dir(shipped) / RESULTS), live)
    manifest = read_manifest(shipped)
    if comparison.empty:
        return None, (f"None of the {len(live)} runs in {results_dir} is in the shipped sweep {shipped!r} "
                      "(other models, seeds or preset): nothing to check it against."), comparison
    runs = comparison.drop_duplicates(["model_name", "seed"])
    names = ", ".join(f"{m} seed {s}" for m, s in zip(runs.model_name, runs.seed))
    worst = comparison["abs_diff"].max()
    if worst <= tolerance:
        return True, (f"The shipped sweep {shipped!r} is current: {len(runs)} of its runs ({names}) were trained and "
                      f"scored again in this build and gave the same {len(comparison)} numbers (largest difference "
                      f"{worst:.1g}; tolerance {tolerance:.0e})."), comparison
    bad = comparison[comparison["abs_diff"] > tolerance]
    return False, (f"STALE: the shipped sweep {shipped!r} does not match this code. {len(bad)} of {len(comparison)} "
                   f"numbers of {names} differ when trained and scored again here (largest difference {worst:.3g}, "
                   f"in {bad.iloc[bad['abs_diff'].argmax()].quantity}). Remake it: {manifest.get('command')}"), comparison


def circuitry_table(published: pd.DataFrame, recomputed: pd.DataFrame | None = None) -> pd.DataFrame:
    """The Fig. 4 table: published deltas, and recomputed ones beside them when given.

    ``recomputed`` has columns ``group``, ``variant``, the two delta columns in percent, optional
    ``*_sd`` spreads over seeds and a ``source`` column; it is matched on (group, variant).
    """
    table = published[["group_no", "group", "variant", "is_default", *[c for c, _ in DELTAS]]].copy()
    if recomputed is not None and not recomputed.empty:
        extra = recomputed.set_index(["group", "variant"]).add_prefix("recomputed_")
        table = table.join(extra, on=["group", "variant"])
    return table


def format_circuitry_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as the paper prints it: the default row per group marked, deltas as signed integers."""
    def signed(v):
        return "–" if pd.isna(v) else f"{v:+.0f}" if v != 0 else "0"

    out = pd.DataFrame({
        "group": table["group"],
        "variant": np.where(table["is_default"], table["variant"] + " (CORnet-S)", table["variant"]),
        "Δ ImageNet top-1, % (published)": table["delta_imagenet_top1_pct"].map(signed),
        "Δ Brain-Score, % (published)": table["delta_brain_score_pct"].map(signed),
    })
    for column, _ in DELTAS:
        recomputed = f"recomputed_{RECOMPUTED[column]}"
        if recomputed in table:
            values = table[recomputed].map(lambda v: "–" if pd.isna(v) else f"{v:+.1f}")
            sd = table.get(f"{recomputed}_sd")
            if sd is not None:
                values = values + sd.map(lambda v: "" if pd.isna(v) else f" ± {v:.1f}")
            out[f"{_recomputed_label(table, column)} (recomputed)"] = values
    for column, label in (("top1", "top-1 (recomputed)"), ("brain_score", "Brain-Score (recomputed)")):
        if f"recomputed_{column}" in table:  # the absolute values behind the deltas
            out[label] = table[f"recomputed_{column}"].map(lambda v: "–" if pd.isna(v) else f"{v:.3f}")
    return out


def _resolved(table: pd.DataFrame, recomputed: str) -> pd.Series:
    """Where the recomputed delta's 95% CI over seeds excludes 0 (False without CIs: one seed)."""
    column = f"{recomputed}_resolved"
    return table[column].fillna(False).astype(bool) if column in table else pd.Series(False, index=table.index)


def agreement(table: pd.DataFrame) -> pd.DataFrame:
    """How the recomputed deltas compare with the published ones, over the non-default variants.

    Per measure: ``n_variants`` with a recomputed delta; ``n_resolved`` of them whose 95% CI over
    seeds excludes 0. Signs are compared over resolved variants only (an unresolved delta has no
    sign to speak of): ``n`` resolved variants with a non-zero published delta, ``same_sign`` and
    ``opposite_sign`` among them; ``zero_moved``: variants the paper prints as 0 that moved here
    (resolved). ``spearman_r`` (and ``p``) correlates all ``n_correlated`` recomputed means with
    the published deltas, resolved or not.
    """
    from scipy.stats import spearmanr

    rows = []
    for column, label in (("delta_imagenet_top1_pct", "top-1"), ("delta_brain_score_pct", "Brain-Score")):
        recomputed = f"recomputed_{RECOMPUTED[column]}"
        if recomputed not in table:
            continue
        both = table[~table["is_default"].astype(bool)].dropna(subset=[column, recomputed])
        resolved = both[_resolved(both, recomputed)]
        signed = resolved[resolved[column] != 0]
        same = int((np.sign(signed[column]) == np.sign(signed[recomputed])).sum())
        r, p = spearmanr(both[column], both[recomputed]) if len(both) > 2 else (np.nan, np.nan)
        rows.append({"measure": label, "n_variants": len(both), "n_resolved": len(resolved), "n": len(signed),
                     "same_sign": same, "opposite_sign": len(signed) - same,
                     "zero_moved": int((resolved[column] == 0).sum()),
                     "spearman_r": float(r), "p": float(p), "n_correlated": len(both)})
    return pd.DataFrame(rows, columns=["measure", "n_variants", "n_resolved", "n", "same_sign", "opposite_sign",
                                       "zero_moved", "spearman_r", "p", "n_correlated"])


#: The paper's key circuitry claims (§4.3): (claim, the variants that test it, why the simulated
#: world may not show it). The reasons name how this world differs from the paper's, in the
#: direction that matters for that claim; they are shown only where the direction differs, with
#: the training setting filled in from the runs (:func:`training_setting`).
KEY_CLAIMS: tuple[tuple[str, tuple[tuple[str, str], ...], str], ...] = (
    ("Recurrence helps: removing it costs top-1 and Brain-Score",
     ((RECURRENCE, "no recurrence (1/1/1)"),),
     "the simulated task ({classes} shapes at {image_size} px) is solved by a feed-forward stack of this "
     "width, and the simulated IT sites pool fixed Gabor energy plus an identity signal with no recurrent "
     "dynamics to match, so nothing here rewards recurrence beyond the accuracy it buys"),
    ("A skip connection helps", (("Skip connection", "absent"),),
     "with {n_train} training images and {epochs} epochs, the blocks without skip train about as well as "
     "the residual ones; the paper's gain is on ImageNet after 43 epochs"),
    ("A wide bottleneck (4x) helps: 1x and 2x cost top-1 and Brain-Score",
     (("Bottleneck size", "1x"), ("Bottleneck size", "2x")),
     "at width {width} every bottleneck has few channels, and {classes} classes need far fewer features "
     "than ImageNet's 1,000"),
    ("Five areas are no better than four", (("Number of model areas", "5"),),
     "a fifth area adds depth that {epochs} epochs on {n_train} images do not train to the same point"),
)


def training_setting(results: pd.DataFrame) -> dict[str, str]:
    """How the recomputed runs were trained, in words for :data:`KEY_CLAIMS`' reasons: ``classes``,
    ``image_size``, ``n_train``, ``epochs``, ``width`` (from the first result's training config)."""
    from ..results import read_result

    train = read_result(results["path"].iloc[0]).get("train") or {}
    world = train.get("simulated") or {}
    classes = world.get("n_categories", 0) * world.get("n_objects_per_category", 0) or 1000
    width = (train.get("model_config") or {}).get("width", 1.0)
    return {"classes": f"{classes:,}", "image_size": str(train.get("image_size", "?")),
            "n_train": f"{train.get('n_train', 0):,}" if train.get("n_train") else "all ImageNet",
            "epochs": str(train.get("epochs", "?")), "width": f"1/{round(1 / width)}" if width < 1 else "1"}


def _direction(published: float, mean: float, resolved: bool) -> str:
    if not resolved:
        return "no resolved change" if published == 0 else "not resolved"
    if published == 0:
        return "a change the paper does not show"
    return "same direction" if np.sign(mean) == np.sign(published) else "opposite direction"


def claim_verdicts(table: pd.DataFrame, setting: dict[str, str] | None = None) -> pd.DataFrame:
    """One sentence per key claim of §4.3 (:data:`KEY_CLAIMS`): the published deltas, the recomputed
    ones with their 95% CIs, whether the simulated world shows the same direction, and a plain
    reason where it does not. ``table``: :func:`circuitry_table` with recomputed deltas joined;
    ``setting``: :func:`training_setting` of the runs (None: reasons are left out).

    Columns: ``claim``, ``verdict`` (``same direction`` when every resolved measure agrees and
    none is unresolved; ``opposite direction`` when one resolved measure disagrees, with the claim's
    likely reason; else ``not resolved``, with the width of the CIs that did not resolve), ``sentence``.
    """
    rows = []
    top1_label = _recomputed_label(table, "delta_imagenet_top1_pct").removeprefix("Δ ").removesuffix(", %")
    for claim, variants, reason in KEY_CLAIMS:
        parts, directions, unresolved = [], [], []
        for group, variant in variants:
            hit = table[(table["group"] == group) & (table["variant"] == variant)]
            if hit.empty or "recomputed_delta_top1_pct" not in hit or hit["recomputed_delta_top1_pct"].isna().all():
                continue
            row = hit.iloc[0]
            measures = []
            for column, label in (("delta_imagenet_top1_pct", top1_label), ("delta_brain_score_pct", "Brain-Score")):
                recomputed = f"recomputed_{RECOMPUTED[column]}"
                low, high = row.get(f"{recomputed}_ci_low"), row.get(f"{recomputed}_ci_high")
                direction = _direction(row[column], row[recomputed], bool(row.get(f"{recomputed}_resolved", False)))
                directions.append(direction)
                if direction == "not resolved" and not pd.isna(low):
                    unresolved.append(high - low)
                ci = "" if pd.isna(low) else f" [{low:+.1f}, {high:+.1f}]"
                paper = f"{row[column]:+.0f}%" if row[column] != 0 else "0%"
                measures.append(f"{label} {row[recomputed]:+.1f}%{ci} ({direction}; paper {paper})")
            parts.append(f"{variant}: " + ", ".join(measures))
        if not parts:
            continue
        if any(d in ("opposite direction", "a change the paper does not show") for d in directions):
            verdict = "opposite direction"
        elif all(d in ("same direction", "no resolved change") for d in directions):
            verdict = "same direction"
        else:
            verdict = "not resolved"
        sentence = f"{claim}. Here: " + "; ".join(parts) + "."
        if verdict == "opposite direction" and setting is not None:
            sentence += f" A likely reason: {reason.format(**setting)}."
        elif verdict == "not resolved" and unresolved:
            n_seeds = int(table["recomputed_n_seeds"].max())
            low, high = f"{min(unresolved):.0f}", f"{max(unresolved):.0f}"
            widths = f"CI {low}" if len(unresolved) == 1 else f"CIs {low}" if low == high else f"CIs {low}–{high}"
            sentence += (f" Why not resolved: the seeds disagree more than the effect is large (95% {widths} "
                         f"points wide over {n_seeds} seeds); more seeds would narrow them.")
        rows.append({"claim": claim, "verdict": verdict, "sentence": sentence})
    return pd.DataFrame(rows, columns=["claim", "verdict", "sentence"])


def plot_fig4(table: pd.DataFrame, columns: int | None = None) -> plt.Figure:
    """Dot plot of the deltas per variant, grouped as in the paper; default rows in bold.
    ``columns``: panels a row (default: all in one; 2 puts the recomputed pair under the published
    one, for a phone)."""
    rows = table.reset_index(drop=True)
    y = np.arange(len(rows))[::-1]
    has_recomputed = "recomputed_delta_top1_pct" in rows
    # Recomputed deltas get their own panels: on small simulated presets they can be far larger
    # than the published ±8%, and a shared axis would flatten the published values.
    panels = [(column, f"{label}\n(published)", False) for column, label in DELTAS]
    if has_recomputed:
        sources = rows["recomputed_source"].dropna() if "recomputed_source" in rows else pd.Series([], dtype=str)
        source = sources.iloc[0] if len(sources) else "simulated"
        panels += [(f"recomputed_{RECOMPUTED[column]}", f"{_recomputed_label(rows, column)}\n(recomputed here,\n{source} data)",
                    True) for column, _ in DELTAS]
    defaults = rows["is_default"].to_numpy(bool)
    with paper_style():
        # the theme's full width (~9.5 in): the row labels take ~2.3 in, the panels share the rest
        columns = min(columns or len(panels), len(panels))
        n_rows = -(-len(panels) // columns)
        narrow = columns < len(panels)
        legend_in = 0.55 if narrow else 0.1 * (0.21 * len(rows) + 1.5)
        width = 4.6 if narrow else 9.3 if len(panels) > 2 else 7.0
        fig, grid = plt.subplots(n_rows, columns, figsize=(width, (0.21 * len(rows) + 1.35) * n_rows + legend_in),
                                 sharey=True, squeeze=False)
        axes = list(grid.flat)
        for ax, (column, label, recomputed) in zip(axes, panels):
            ax.axvline(0, color="0.7", lw=0.8)
            if recomputed:
                style = {**SOURCE_STYLE[source], "zorder": 4, "s": 40}
                if f"{column}_ci_low" in rows:  # 95% CI over seeds; filled where it excludes 0
                    low, high = rows[f"{column}_ci_low"], rows[f"{column}_ci_high"]
                    xerr = np.vstack([rows[column] - low, high - rows[column]])
                    resolved = rows[f"{column}_resolved"].fillna(False).to_numpy(bool)
                    spread = "95% CI over seeds; filled: CI excludes 0"
                else:
                    xerr, resolved, spread = rows.get(f"{column}_sd"), np.ones(len(rows), bool), "± s.d. over seeds"
                ax.errorbar(rows[column], y, xerr=xerr, fmt="none", ecolor="0.3", lw=0.8)
                ax.scatter(rows[column][resolved], y[resolved], label=f"recomputed here ({source}; {spread})", **style)
                hollow = {k: v for k, v in style.items() if k != "color"}
                ax.scatter(rows[column][~resolved], y[~resolved], **{**hollow, "facecolor": "white"})
            else:
                ax.scatter(rows[column], y, color=CIRCUIT_MAGENTA, s=30, zorder=3, label="published (transcribed)")
                ax.scatter(np.zeros(defaults.sum()), y[defaults], s=30, facecolor="white",
                           edgecolor=CIRCUIT_MAGENTA, zorder=3, label="CORnet-S baseline")
            ax.set_xlabel(label, fontsize=8.5)
            ax.spines["left"].set_visible(False)
            ax.tick_params(axis="y", length=0)
        labels = [fig4_short_label(g, v) if narrow else f"{g}: {v}" for g, v in zip(rows["group"], rows["variant"])]
        for first in grid[:, 0]:
            first.set_yticks(y, labels, fontsize=8)
            first.tick_params(labelleft=True)
            for tick, default in zip(first.get_yticklabels(), rows["is_default"]):
                if default:
                    tick.set_fontweight("bold")
        for boundary in np.flatnonzero(rows["group_no"].diff().fillna(0).to_numpy() != 0):
            for ax in axes:
                ax.axhline(y[boundary] + 0.5, color="0.85", lw=0.6)
        # one legend under the panels: inside them it covered the bottom rows' points
        handles = {label: handle for ax in axes for handle, label in zip(*ax.get_legend_handles_labels())}
        fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=1 if narrow else min(len(handles), 3),
                   fontsize=8)
        fig.tight_layout(rect=(0, legend_in / fig.get_figheight(), 1, 1), w_pad=0.8)
        record_meta(fig)
    return fig


def seed_range(recomputed: pd.DataFrame) -> str:
    """'3' (every variant has 3 seeds) or '2–3'."""
    low, high = int(recomputed["n_seeds"].min()), int(recomputed["n_seeds"].max())
    return f"{low}" if low == high else f"{low}–{high}"


def recomputed_summary(recomputed: pd.DataFrame, table: pd.DataFrame) -> str:
    """One paragraph for the page: the recomputed baseline against chance, how many deltas are
    resolved, and their agreement with the published signs (``recomputed``: :func:`circuitry_deltas`;
    ``table``: :func:`circuitry_table` with it joined)."""
    r = recomputed.iloc[0]
    top1 = "ImageNet top-1" if r.top1_measure == "imagenet_top1" else "top-1 on the simulated validation set"

    def sd(v):
        return "" if pd.isna(v) else f" ± {v:.3f}"

    chance = "" if pd.isna(r.chance_top1) else f" (chance {r.chance_top1:.3f})"
    n_seeds = seed_range(recomputed)
    text = (f"The recomputed baseline, CORnet-S at preset {r.preset} ({r.source} data), has {top1} "
            f"{r.baseline_top1:.3f}{sd(r.baseline_top1_sd)}{chance} and Brain-Score without OST "
            f"{r.baseline_brain_score:.3f}{sd(r.baseline_brain_score_sd)} (mean ± s.d. over {n_seeds} seeds).")
    for a in agreement(table).itertuples():
        text += (f" Δ {a.measure}: {a.n_resolved} of {a.n_variants} variants are resolved (95% CI over seeds "
                 f"excludes 0); of the {a.n} resolved ones the paper prints as a change, {a.same_sign} "
                 f"{'has' if a.same_sign == 1 else 'have'} its sign and {a.opposite_sign} the opposite")
        text += (f"; {a.zero_moved} the paper prints as 0 moved here." if a.zero_moved else ".")
    return text


def describe_shipped(manifest: dict) -> str:
    """A sentence on how a shipped sweep was made (its manifest, :mod:`cornet_repro.data.shipped`):
    runs, preset, when, commit, command, machine, wall time of each step, and the training time
    summed over runs (from the runs' logs, so resumed and extended runs count whole)."""
    from datetime import datetime

    def hours(step: dict) -> float:
        return (datetime.fromisoformat(step["finished"]) - datetime.fromisoformat(step["started"])).total_seconds() / 3600

    def commit(step: dict) -> str:
        text = str(step.get("commit"))
        return text[:10] + ("+dirty" if text.endswith("+dirty") else "")

    steps = [*manifest.get("history", []), {k: v for k, v in manifest.items() if k != "history"}]
    made, later = steps[0], steps[1:]
    runs = manifest["runs"]
    models = len({r["model_name"] for r in runs})
    machine = made.get("machine", {})
    text = (f"The shipped sweep ({manifest['preset'].get('brain_data', 'simulated')} data) holds {len(runs)} runs "
            f"({models} models × {len(runs) // max(models, 1)} seeds) of preset {manifest['preset']['name']}. "
            f"Made on {made['started'][:10]} at commit {commit(made)} with `{made['command']}` on a "
            f"{machine.get('cores', '?')}-core {machine.get('processor', 'machine')} in {hours(made):.1f} h of wall time")
    for step in later:
        changes = step.get("preset_changes") or {}
        what = "; ".join(f"{key} {old} → {new}" for key, (old, new) in changes.items())
        text += (f"; then `{step['command']}` at commit {commit(step)} ({hours(step):.1f} h"
                 + (f"; it trained the same runs longer: {what}" if what else "")
                 + (f"; {step['note']}" if step.get("note") else "") + ")")
    seconds = [r.get("train_seconds", r["seconds"]) for r in runs]
    return text + f". Training took {sum(seconds) / 3600:.1f} h summed over runs (from their logs)."
