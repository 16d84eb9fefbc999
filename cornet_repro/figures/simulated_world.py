"""The simulated experiment, shown: example stimuli, IT's time course and what its ceilings are.

Not a paper figure: the book's *Simulated experiment* page uses it to show what the offline
stand-in for the paper's data looks like (see :mod:`cornet_repro.data.simulated`).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..data.simulated import SimulatedExperiment
from .interactive import record_meta
from .style import CIRCUIT_MAGENTA, paper_style

VARIATION_NAMES = {0: "low", 3: "medium", 6: "high"}
VARIATION_COLOURS = {0: "0.75", 3: "0.45", 6: CIRCUIT_MAGENTA}


def plot_stimuli(experiment: SimulatedExperiment, *, per_level: int = 2, cell: float = 1.0) -> plt.Figure:
    """One object per category (rows) at low / medium / high variation (``per_level`` images each);
    ``cell``: inches per image (0.55 fits a phone's column with the same images)."""
    if experiment.images is None:
        raise ValueError("this experiment was loaded from files; pass one from cornet_repro.data.simulated.generate()")
    table = experiment.stimuli.reset_index(drop=True)
    categories = list(dict.fromkeys(table["category_name"]))
    levels = sorted(table["variation"].unique())
    with paper_style():
        fig, axes = plt.subplots(len(categories), len(levels) * per_level,
                                 figsize=(cell * len(levels) * per_level, cell * len(categories)), squeeze=False)
        for row, category in enumerate(categories):
            first_object = table.loc[table["category_name"] == category, "object_name"].iloc[0]
            for j, level in enumerate(levels):
                rows = table.index[(table["object_name"] == first_object) & (table["variation"] == level)][:per_level]
                for k in range(per_level):
                    ax = axes[row, j * per_level + k]
                    if k < len(rows):
                        ax.imshow(experiment.images[rows[k]], cmap="gray", vmin=0, vmax=255)
                    ax.set_xticks([])
                    ax.set_yticks([])
                    for spine in ax.spines.values():
                        spine.set_visible(False)
            axes[row, 0].set_ylabel(category, rotation=0, ha="right", va="center", fontsize=8, fontweight="normal")
        narrow = cell * per_level < 1.6  # "medium variation" needs ~1.1 in at 9 pt: say "variation" once
        for j, level in enumerate(levels):
            name = VARIATION_NAMES.get(level, level)
            axes[0, j * per_level].set_title(name if narrow else f"{name} variation", fontsize=9, loc="left")
        if narrow:
            # just under the grid (subplots_adjust's default bottom is .11 of the height)
            fig.supxlabel("variation (columns)", fontsize=9, fontweight="normal", va="top",
                          y=0.11 - 0.06 / fig.get_figheight())
        fig.subplots_adjust(wspace=0.05, hspace=0.05)
        record_meta(fig)
    return fig


#: cross-validation folds of the time-course decoder (a page's prose pastes it)
DECODING_FOLDS = 3


def time_course_data(experiment: SimulatedExperiment) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What :func:`plot_time_course` draws: IT category decoding per variation level and 10 ms bin
    (``variation``, ``time_bin_start_ms``, ``accuracy``: logistic regression, 3-fold CV on the
    repetition-averaged population), and the monkey's OST per image (``stimulus_id``, ``variation``, ``ost_ms``)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    temporal = experiment.neural_temporal
    # average the repetitions: one response vector per image and bin
    mean = temporal.groupby("stimulus_id").mean("presentation")
    order = experiment.stimuli.set_index("stimulus_id").loc[np.asarray(mean["stimulus_id"].values)]
    starts = np.asarray(mean["time_bin_start"].values)
    rows = []
    for level in sorted(order["variation"].unique()):
        keep = (order["variation"] == level).to_numpy()
        labels = order["category_name"].to_numpy()[keep]
        for b in range(len(starts)):
            accuracy = cross_val_score(LogisticRegression(max_iter=300), np.asarray(mean.isel(time_bin=b).values)[keep],
                                       labels, cv=DECODING_FOLDS).mean()
            rows.append({"variation": level, "time_bin_start_ms": float(starts[b]), "accuracy": float(accuracy)})
    ost = pd.DataFrame({"stimulus_id": np.asarray(experiment.ost["stimulus_id"].values),
                        "ost_ms": np.asarray(experiment.ost.values, dtype=float)})
    ost = ost.join(experiment.stimuli.set_index("stimulus_id")["variation"], on="stimulus_id")
    return pd.DataFrame(rows), ost[["stimulus_id", "variation", "ost_ms"]]


def plot_time_course(experiment: SimulatedExperiment, *, stacked: bool = False,
                     data: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> plt.Figure:
    """Left: IT's object information over time by variation level (cross-validated category
    decoding per 10 ms bin). Right: the simulated monkey's object solution times by level.
    ``stacked``: the second panel under the first (a phone's column); ``data``: what
    :func:`time_course_data` returned for ``experiment``, if at hand (it decodes, which takes a while)."""
    decoding, ost = data if data is not None else time_course_data(experiment)
    levels = sorted(decoding["variation"].unique())
    with paper_style():
        fig, (left, right) = plt.subplots(2, 1, figsize=(3.8, 6.4)) if stacked else plt.subplots(1, 2, figsize=(7.0, 3.2))
        for level in levels:
            rows = decoding[decoding["variation"] == level]
            left.plot(rows["time_bin_start_ms"] + 5, rows["accuracy"], marker="o", ms=3,
                      color=VARIATION_COLOURS.get(level, "k"), label=f"{VARIATION_NAMES.get(level, level)} variation")
        left.axhline(1 / experiment.stimuli["category_name"].nunique(), color="0.6", ls=":", lw=1, label="chance")
        left.set_xlabel("time after image onset (ms)")
        left.set_ylabel("IT category decoding\n(accuracy, 3-fold)")
        left.legend(fontsize=8)
        data = [ost.loc[ost["variation"] == level, "ost_ms"].dropna() for level in levels]
        parts = right.violinplot(data, showmedians=True)
        for body, level in zip(parts["bodies"], levels):
            body.set_facecolor(VARIATION_COLOURS.get(level, "k"))
        for key in ("cbars", "cmins", "cmaxes", "cmedians"):
            parts[key].set_color("0.2")
        right.set_xticks(range(1, len(levels) + 1), [VARIATION_NAMES.get(level, level) for level in levels])
        right.set_xlabel("variation")
        right.set_ylabel("monkey object solution time (ms)")
        fig.tight_layout()
        record_meta(fig)
    return fig


def stimuli_data(experiment: SimulatedExperiment, *, per_level: int = 2) -> pd.DataFrame:
    """The images :func:`plot_stimuli` shows: one object per category, ``per_level`` images per level."""
    table = experiment.stimuli.reset_index(drop=True)
    shown = []
    for category in dict.fromkeys(table["category_name"]):
        first_object = table.loc[table["category_name"] == category, "object_name"].iloc[0]
        for level in sorted(table["variation"].unique()):
            shown += list(table.index[(table["object_name"] == first_object) & (table["variation"] == level)][:per_level])
    columns = [c for c in ("stimulus_id", "category_name", "object_name", "variation") if c in table]
    return table.loc[shown, columns].reset_index(drop=True)


def experiment_summary(experiment: SimulatedExperiment) -> dict[str, Any]:
    """Sizes and ceilings of the simulated experiment, as the book quotes them."""
    from ..metrics.behavior import behavioral_ceiling
    from ..protocol import NEURAL_REGIONS
    from ..scoring import NeuralBenchmark

    config = experiment.config
    # the ceilings the V4 and IT benchmarks divide by
    ceilings = {region: float(NeuralBenchmark(experiment.neural, experiment.stimulus_set, region).ceiling.value)
                for region in NEURAL_REGIONS}
    ost = np.asarray(experiment.ost.values, dtype=float)
    return {"n_images": len(experiment.stimuli), "n_categories": config.n_categories, "n_objects": config.n_objects,
            "n_v4": config.n_v4, "n_it": config.n_it, "n_repetitions": config.n_repetitions,
            "image_size": config.image_size, "ceiling_v4": ceilings["V4"], "ceiling_it": ceilings["IT"],
            "ceiling_behavior": float(behavioral_ceiling(experiment.human).value),
            "n_behavior_images": len(experiment.behavior_test_ids),
            "n_human_trials": int(experiment.human.sizes["presentation"]),
            "fraction_with_ost": float(np.isfinite(ost).mean()),
            "median_ost_ms": float(np.nanmedian(ost))}
