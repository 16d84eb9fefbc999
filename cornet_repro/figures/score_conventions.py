"""Which benchmark version, ceiling convention and readout each of the book's numbers use.

So that a reader can tell why a number differs from today's Brain-Score leaderboard (the paper
gives CORnet-S a Brain-Score of .471, the leaderboard .379: dicarlolab/CORnet#13). Everything
that the code decides (identifiers, conventions, CORnet-S's committed layers and time mapping,
the presets' conventions) is read from the code, not typed here.
"""

from __future__ import annotations

import pandas as pd

from ..presets import load_preset
from ..protocol import CONVENTIONS, NEURAL_WINDOW_MS
from ..scoring import BRAIN_SCORE_IDENTIFIERS
from .tables import Column, HtmlTable, render_table

__all__ = ["cornet_s_readout", "render_score_conventions", "score_conventions"]


def cornet_s_readout() -> str:
    """CORnet-S's committed layers and the time step read on the neural window, in words."""
    from ..models.registry import region_layers
    from ..models.time_mapping import CORNET_S_TIME_MAPPING, select_step, step_windows

    layers = region_layers("cornet_s")
    parts = []
    for region in ("V4", "IT"):
        t = select_step(region, *NEURAL_WINDOW_MS, mapping=CORNET_S_TIME_MAPPING)
        start, end = step_windows(region, CORNET_S_TIME_MAPPING)[t]
        n = CORNET_S_TIME_MAPPING[region][2]
        parts.append(f"{region}: `{layers[region][0]}` at time step {t + 1} of {n} ({start:g}–{end:g} ms)")
    parts.append(f"behaviour: `{layers['behavior'][0]}`")
    return "; ".join(parts)


def score_conventions(book_preset: str = "plateau") -> pd.DataFrame:
    """One row per kind of number in the book: which data, benchmarks, ceiling convention and readout.

    ``book_preset``: the preset the book's recomputed figures score with (its ``score.conventions``).
    """
    paper, today = CONVENTIONS["paper-2019"], CONVENTIONS["brainscore-2.4"]
    book = CONVENTIONS[load_preset(book_preset).score.conventions]
    identifiers = ", ".join(f"`{v}`" for v in BRAIN_SCORE_IDENTIFIERS.values())
    window = f"{NEURAL_WINDOW_MS[0]}–{NEURAL_WINDOW_MS[1]} ms"
    rows = [
        {"numbers": "Figs. 1–3, Table A1 (published)",
         "data": "the paper's per-model scores (Brain-Score 2019, benchmarks of release 0.2: MajajHong2015 "
                 "with images of all variations)",
         "benchmarks": identifiers,
         "ceiling": paper.label,
         "readout": "comparison models: the most predictive layer per region; CORnet-S: its designated areas "
                    f"on {window}; behaviour: the layer before the classifier"},
        {"numbers": f"Figs. 4 and 5, the simulated experiment (recomputed, simulated, preset `{book_preset}`)",
         "data": "the simulated monkey and human (not a reproduction of the paper's numbers)",
         "benchmarks": "simulated stand-ins for " + identifiers,
         "ceiling": book.label,
         "readout": f"CORnet-S: {cornet_s_readout()}"},
        {"numbers": "Score your own model",
         "data": "simulated, or Brain-Score's public or private files",
         "benchmarks": identifiers,
         "ceiling": f"{paper.label} by default; {today.label} with `--conventions brainscore-2.4`",
         "readout": "your committed layers, or the layer each benchmark chooses on its training splits"},
        {"numbers": "Brain-Score leaderboard today (for comparison)",
         "data": "MajajHong2015 restricted to the high-variation images (variation 6); later benchmark versions",
         "benchmarks": identifiers + " (later versions)",
         "ceiling": today.label,
         "readout": "the submitted model's commitment (CORnet-S: as above)"},
    ]
    return pd.DataFrame(rows)


def render_score_conventions(table: pd.DataFrame) -> HtmlTable:
    """The table as the book shows it (the shared table renderer, which escapes cells: the
    Markdown backticks are dropped; not sortable: four rows)."""
    shown = table.apply(lambda column: column.str.replace("`", "", regex=False))
    columns = [Column("numbers", "Numbers", wrap=True), Column("data", "Data", wrap=True),
               Column("benchmarks", "Benchmarks", wrap=True), Column("ceiling", "Ceiling convention", wrap=True),
               Column("readout", "Readout", wrap=True)]
    caption = ("<b>Which benchmark version, ceiling convention and readout each of the book's numbers use.</b> "
               "Behaviour is ceiled per split as r/√c and OST as r/.79 under every convention.")
    return render_table(shown, columns, table_id="score-conventions", caption=caption, sortable=False,
                        filterable=False)
