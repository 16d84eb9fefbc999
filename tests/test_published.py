"""The published tables: complete, internally consistent, and equal to the authors' file.

The authors' file (``data/data.csv`` of github.com/dicarlolab/neurips2019) has no licence and is
not part of the project. Its *fingerprint* is: sha256 digests of a canonical serialization of
its table, computed by :func:`fingerprint` below and stored in
``tests/reference/published_fingerprint.json`` (not the data: the numbers cannot be read back
from it). Every clone rebuilds the same serialization from the package's transcription and
compares the digests; where ``../shared`` holds the authors' file, the tests also compare
value by value and recompute the stored fingerprint from it.

Regenerate the fingerprint (see tests/reference/PROVENANCE.md) with

    .venv/bin/python tests/test_published.py path/to/neurips2019_data.csv \
        > tests/reference/published_fingerprint.json
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from cornet_repro.data import published

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "published"
AUTHORS_FILE = SHARED / "neurips2019_data.csv"
FINGERPRINT = Path(__file__).resolve().parent / "reference" / "published_fingerprint.json"

#: column of the authors' data.csv -> measure of ``published.load_scores_long()``; the same
#: pairs as ``MEASURES`` in scripts/transcribe_published.py, with the package's spelling of the
#: four benchmarks (the CSV keeps ``v4, it, behavior, ost``; the loaders say ``V4, IT, behavior, OST``).
AUTHORS_COLUMNS = {
    "ImageNet": "imagenet_top1", "CIFAR-100": "cifar100_top1", "V4": "V4", "IT": "IT",
    "IT (new data)": "it_new_neurons", "IT (new images)": "it_new_images", "Behavior": "behavior",
    "Behavior (new data)": "behavior_new_images", "V4 (early)": "v4_early", "V4 (late)": "v4_late",
    "IT (early)": "it_early", "IT (late)": "it_late", "OST": "OST", "Brain-Score": "brain_score",
    "Depth": "depth", "V4 number of features": "v4_n_features", "IT number of features": "it_n_features",
}
SOURCE = "github.com/dicarlolab/neurips2019 data/data.csv @ 5fa576a6d39d504b2d557f05c10e124938b5a348"


# ---------------------------------------------------------------------------------------------
# the fingerprint
# ---------------------------------------------------------------------------------------------

def canonical_values(cells: Iterable[tuple[str, str, float]]) -> bytes:
    """The (model, authors' column) -> value table as bytes: one line ``model<TAB>column<TAB>repr(value)``
    per non-empty cell, the value as a Python float (``repr`` round-trips, so full precision),
    the lines sorted as strings (code-point order), each ending in a newline, UTF-8."""
    return "".join(sorted(f"{model}\t{column}\t{float(value)!r}\n" for model, column, value in cells)).encode()


def canonical_rows(rows: Iterable[tuple[str, str]]) -> bytes:
    """The models in the file's row order with their ``Paper`` URL: ``model<TAB>url\\n`` each, UTF-8."""
    return "".join(f"{model}\t{url}\n" for model, url in rows).encode()


def fingerprint(cells: list[tuple[str, str, float]], rows: list[tuple[str, str]]) -> dict:
    return {"n_rows": len(rows), "n_values": len(cells),
            "values_sha256": hashlib.sha256(canonical_values(cells)).hexdigest(),
            "rows_sha256": hashlib.sha256(canonical_rows(rows)).hexdigest()}


def authors_table(path: Path) -> tuple[list[tuple[str, str, float]], list[tuple[str, str]]]:
    """(cells, rows) read from the authors' data.csv (empty cells left out, as the transcription does)."""
    with open(path, newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    cells = [(r["Model"].strip(), column, float(r[column])) for r in records for column in AUTHORS_COLUMNS
             if r[column].strip()]
    return cells, [(r["Model"].strip(), r["Paper"].strip()) for r in records]


def transcription_table() -> tuple[list[tuple[str, str, float]], list[tuple[str, str]]]:
    """(cells, rows) rebuilt from the package's transcription, with the authors' column names."""
    to_column = {measure: column for column, measure in AUTHORS_COLUMNS.items()}
    long = published.load_scores_long()
    cells = [(m, to_column[measure], v) for m, measure, v in zip(long["model"], long["measure"], long["value"])]
    wide = published.load_scores()  # in the source's row order; an empty URL reads as NaN
    return cells, list(zip(wide["model"], wide["reference_url"].fillna("")))


def authors_fingerprint(path: Path) -> dict:
    """What tests/reference/published_fingerprint.json holds, computed from the authors' file."""
    cells, rows = authors_table(path)
    return {"source": SOURCE, "file_bytes": path.stat().st_size,
            "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(), **fingerprint(cells, rows),
            "computed_by": "tests/test_published.py (authors_fingerprint); see tests/reference/PROVENANCE.md"}


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------

def test_scores_have_every_model_once():
    scores = published.load_scores()
    assert len(scores) == 243
    assert scores["model"].is_unique
    assert scores["is_basenet"].sum() == 181
    assert (~scores["is_basenet"]).sum() == 62
    assert scores.loc[scores.model == "CORnet-S", "family"].item() == "CORnet"


def test_brain_score_is_the_mean_of_its_four_parts():
    scores = published.load_scores().dropna(subset=["brain_score"])
    parts = scores[["V4", "IT", "behavior", "OST"]].mean(axis=1)
    np.testing.assert_allclose(parts, scores["brain_score"], atol=1e-12)


def test_ost_is_zero_for_every_feedforward_model():
    scores = published.load_scores()
    assert scores.loc[scores.model == "CORnet-S", "OST"].item() == 0.25
    assert (scores.loc[scores.model != "CORnet-S", "OST"] == 0).all()


def test_long_and_wide_tables_agree():
    long = published.load_scores_long()
    wide = published.load_scores().set_index("model")
    for row in long.sample(50, random_state=0).itertuples():
        assert wide.loc[row.model, row.measure] == row.value


def test_canonical_serialization_is_exact_and_order_free():
    cells = [("B", "IT", 0.1 + 0.2), ("A", "Depth", 15)]
    assert canonical_values(cells) == b"A\tDepth\t15.0\nB\tIT\t0.30000000000000004\n"
    assert canonical_values(cells[::-1]) == canonical_values(cells)
    assert canonical_values([("B", "IT", 0.3), ("A", "Depth", 15)]) != canonical_values(cells)  # last bit counts


def test_transcription_matches_the_authors_fingerprint():
    """Runs on every clone: the package's tables rebuild the authors' table exactly (every model,
    every non-empty cell at full precision, the row order and the reference URLs)."""
    stored = json.loads(FINGERPRINT.read_text())
    assert stored["source"] == SOURCE
    assert set(AUTHORS_COLUMNS.values()) == set(published.MEASURES)
    got = fingerprint(*transcription_table())
    hint = " (with ../shared present, test_transcription_equals_the_authors_file names the cells that differ)"
    assert got == {k: stored[k] for k in got}, f"the transcription differs from the authors' file{hint}"


@pytest.mark.skipif(not AUTHORS_FILE.exists(), reason="../shared (the authors' files) is not beside this clone")
def test_stored_fingerprint_is_of_the_authors_file():
    assert authors_fingerprint(AUTHORS_FILE) == json.loads(FINGERPRINT.read_text())


@pytest.mark.skipif(not AUTHORS_FILE.exists(), reason="../shared (the authors' files) is not beside this clone")
def test_transcription_equals_the_authors_file():
    with open(AUTHORS_FILE, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    wide = published.load_scores().set_index("model")
    assert [r["Model"] for r in rows] == list(wide.index)
    for row in rows:
        url = wide.loc[row["Model"], "reference_url"]
        assert (url if isinstance(url, str) else "") == row["Paper"], row["Model"]
        for source, measure in AUTHORS_COLUMNS.items():
            if row[source]:
                assert wide.loc[row["Model"], measure] == float(row[source]), (row["Model"], source)
            else:
                assert np.isnan(wide.loc[row["Model"], measure]), (row["Model"], source)


def test_figure_tables():
    fig4 = published.load_circuitry_deltas()
    assert len(fig4) == 22 and fig4["group_no"].nunique() == 8
    defaults = fig4[fig4.is_default]
    assert defaults["delta_imagenet_top1_pct"].isna().all()
    assert fig4.loc[fig4.variant == "no recurrence (1/1/1)", "delta_imagenet_top1_pct"].item() == -7
    fig5 = published.load_ost_bins()
    assert len(fig5) == 5 and fig5["model_ost_bin_right_edge_ms"].is_monotonic_increasing


if __name__ == "__main__":  # regenerate the fingerprint: python tests/test_published.py data.csv
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(json.dumps(authors_fingerprint(Path(sys.argv[1])), indent=1))
