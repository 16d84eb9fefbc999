"""The published tables: complete, internally consistent, and equal to the authors' file."""

import csv
from pathlib import Path

import numpy as np
import pytest

from cornet_repro.data import published

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "published"


def test_scores_have_every_model_once():
    scores = published.load_scores()
    assert len(scores) == 243
    assert scores["model"].is_unique
    assert scores["is_basenet"].sum() == 181
    assert (~scores["is_basenet"]).sum() == 62
    assert scores.loc[scores.model == "CORnet-S", "family"].item() == "CORnet"


def test_brain_score_is_the_mean_of_its_four_parts():
    scores = published.load_scores().dropna(subset=["brain_score"])
    parts = scores[["v4", "it", "behavior", "ost"]].mean(axis=1)
    np.testing.assert_allclose(parts, scores["brain_score"], atol=1e-12)


def test_ost_is_zero_for_every_feedforward_model():
    scores = published.load_scores()
    assert scores.loc[scores.model == "CORnet-S", "ost"].item() == 0.25
    assert (scores.loc[scores.model != "CORnet-S", "ost"] == 0).all()


def test_long_and_wide_tables_agree():
    long = published.load_scores_long()
    wide = published.load_scores().set_index("model")
    for row in long.sample(50, random_state=0).itertuples():
        assert wide.loc[row.model, row.measure] == row.value


@pytest.mark.skipif(not SHARED.exists(), reason="../shared (the authors' files) is not beside this clone")
def test_transcription_equals_the_authors_file():
    rows = list(csv.DictReader(open(SHARED / "neurips2019_data.csv")))
    wide = published.load_scores().set_index("model")
    columns = {"ImageNet": "imagenet_top1", "CIFAR-100": "cifar100_top1", "Brain-Score": "brain_score",
               "IT (new data)": "it_new_neurons", "Behavior (new data)": "behavior_new_images", "Depth": "depth"}
    assert [r["Model"] for r in rows] == list(wide.index)
    for row in rows:
        for source, measure in columns.items():
            if row[source]:
                assert wide.loc[row["Model"], measure] == float(row[source])
            else:
                assert np.isnan(wide.loc[row["Model"], measure])


def test_figure_tables():
    fig4 = published.load_circuitry_deltas()
    assert len(fig4) == 22 and fig4["group_no"].nunique() == 8
    defaults = fig4[fig4.is_default]
    assert defaults["delta_imagenet_top1_pct"].isna().all()
    assert fig4.loc[fig4.variant == "no recurrence (1/1/1)", "delta_imagenet_top1_pct"].item() == -7
    fig5 = published.load_ost_bins()
    assert len(fig5) == 5 and fig5["model_ost_bin_right_edge_ms"].is_monotonic_increasing
