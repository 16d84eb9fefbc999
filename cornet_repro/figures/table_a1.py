"""Table A1: every model with its published scores, ranked, and the sentences stated from it."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from .. import selections
from ..data.published import LABELS, SOURCE_LABEL
from ..prose import count, join_words
from .tables import Column, HtmlTable, render_table

COLUMNS = ("brain_score", "V4", "IT", "behavior", "OST", "imagenet_top1", "cifar100_top1", "it_new_neurons",
           "it_new_images", "behavior_new_images", "depth")

#: The Brain-Score benchmarks whose mean is Brain-Score.
COMPONENTS = ("V4", "IT", "behavior", "OST")

#: Models of the published table whose architecture is recurrent, with where the paper says so.
#: Every other model there is feed-forward (the paper's §4.4: "Feed-forward models cannot capture
#: neural dynamics and thus scored 0").
RECURRENT_MODELS = {
    "CORnet-S": "the paper's §2.1",
    "IamNN": "Leroux et al. 2018, the paper's ref. [23] (§3)",
}

#: Column groups of the rendered table: (heading, columns under it).
_GROUPS = (("", ("model", "rank", "family")),
           ("Brain-Score and its benchmarks", ("brain_score", "V4", "IT", "behavior", "OST")),
           ("Machine learning", ("imagenet_top1", "cifar100_top1")),
           ("Generalization (Fig. 2)", ("it_new_neurons", "it_new_images", "behavior_new_images")),
           ("", ("depth",)))
_SHORT = {"it_new_neurons": "IT, new neurons", "it_new_images": "IT, new images",
          "behavior_new_images": "Behavior, new images", "cifar100_top1": "CIFAR-100 transfer"}
_NOTES = {"depth": "convolutional and fully connected layers on the longest path (the paper's §2)",
          "OST": "object solution times: correlation with monkey IT per image (0 for feed-forward models)",
          "brain_score": "mean of V4, IT, Behavior and OST"}


def table_a1(scores: pd.DataFrame, include_basenets: bool = False, sort_by: str = "brain_score",
             decimals: int = 3) -> pd.DataFrame:
    """One row per model, ranked by ``sort_by``; BaseNets appended only when asked for.

    Columns: ``model``, ``rank``, ``family`` and every measure of :data:`COLUMNS` headed as the
    paper labels it (:data:`cornet_repro.data.published.LABELS`); scores rounded to ``decimals``.
    """
    if sort_by not in COLUMNS:
        raise ValueError(f"sort_by must be one of {COLUMNS}, got {sort_by!r}")
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)) or not 0 <= decimals <= 6:
        raise ValueError(f"decimals must be a whole number from 0 to 6, got {decimals!r}")
    rows = scores if include_basenets else selections.named_models(scores)
    rows = rows.sort_values(sort_by, ascending=False, na_position="last").reset_index(drop=True)
    table = rows[["model", "family", *COLUMNS]].rename(columns={c: LABELS[c] for c in COLUMNS})
    table.insert(1, "rank", range(1, len(table) + 1))
    numeric = [LABELS[c] for c in COLUMNS if c != "depth"]
    table[numeric] = table[numeric].round(decimals)
    table[LABELS["depth"]] = table[LABELS["depth"]].astype("Int64")
    return table


def render_table_a1(table: pd.DataFrame, *, sort_by: str, include_basenets: bool, decimals: int,
                    n_basenets: int) -> HtmlTable:
    """Table A1 for the page: grouped headers, depth as an integer, scores at ``decimals`` places,
    a caption in words naming the source and the parameters; sortable and filterable."""
    columns = []
    for _, keys in _GROUPS:
        for key in keys:
            if key in ("model", "rank", "family"):
                columns.append(Column(key, key.capitalize() if key != "rank" else "Rank",
                                      "integer" if key == "rank" else "text",
                                      note=f"rank by {LABELS[sort_by]}, highest first" if key == "rank" else ""))
            else:
                columns.append(Column(LABELS[key], _SHORT.get(key, LABELS[key]),
                                      "integer" if key == "depth" else "number", decimals, note=_NOTES.get(key, "")))
    groups = [(label, len(keys)) for label, keys in _GROUPS]
    which = (f"all {count(len(table), 'model')}, the {count(n_basenets, 'BaseNet')} included" if include_basenets
             else f"{count(len(table), 'named model')} (the {count(n_basenets, 'BaseNet')} left out)")
    caption = (f"<b>Table A1. Published scores of {html.escape(which)}, ranked by "
               f"{html.escape(LABELS[sort_by])}.</b> Data: {html.escape(SOURCE_LABEL)}. "
               f"Scores are fractions from 0 to 1, at {decimals} decimals; depth counts layers (hover a heading "
               f"for its definition); – where the published data have no value. Parameters: "
               f"<code>include_basenets = {include_basenets}</code>, <code>sort_by = {html.escape(repr(sort_by))}</code>, "
               f"<code>decimals = {decimals}</code>.")
    return render_table(table, columns, table_id="table-a1", caption=caption, header_groups=groups)


def mean_check(scores: pd.DataFrame) -> tuple[int, float]:
    """How many models have all four benchmarks, and the largest |Brain-Score − their mean| over them."""
    full = scores.dropna(subset=[*COMPONENTS, "brain_score"])
    diff = (full[list(COMPONENTS)].mean(axis=1) - full["brain_score"]).abs()
    return len(full), float(diff.max()) if len(full) else float("nan")


def mean_sentence(scores: pd.DataFrame) -> str:
    """'Brain-Score is the mean of ... (checked on N models: exact)', from :func:`mean_check`."""
    n, worst = mean_check(scores)
    names = join_words([LABELS[c] for c in COMPONENTS])
    agreement = "exactly" if worst == 0 else f"to within {worst:.1e}"
    return (f"Brain-Score is the mean of {names}: on the {count(n, 'model')} that have all four, "
            f"the published Brain-Score equals their mean {agreement}.")


def ost_sentence(scores: pd.DataFrame) -> str:
    """What the OST column says, stated from ``scores``: who scores above 0, who scores 0, and which
    of those are recurrent (:data:`RECURRENT_MODELS`) rather than feed-forward."""
    rows = scores.dropna(subset=["OST"])
    positive = rows[rows["OST"] > 0].sort_values("OST", ascending=False)
    zero = rows[rows["OST"] == 0]
    named = join_words([f"{m} ({v:.2f})" for m, v in zip(positive["model"], positive["OST"])]) or "no model"
    text = f"OST is above 0 for {named}"
    if len(zero) == 0:
        return text + "."
    recurrent_zero = zero[zero["model"].isin(RECURRENT_MODELS)]
    feedforward = len(zero) - len(recurrent_zero)
    text += (f" and 0 for the other {count(len(zero), 'model')}: "
             f"{'all' if not len(recurrent_zero) else count(feedforward, 'feed-forward model') + ', which'} "
             + ("are feed-forward, " if not len(recurrent_zero) else "")
             + "make no predictions over time and score 0 by the paper's rule (§4.4)")
    for r in recurrent_zero.itertuples():
        missing_bs = pd.isna(r.brain_score)
        text += (f"; {r.model} is recurrent ({RECURRENT_MODELS[r.model]}) and yet has OST 0"
                 + (" (and no published Brain-Score)" if missing_bs else ""))
    return text + "."
