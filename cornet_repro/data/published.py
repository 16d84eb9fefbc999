"""The paper's published per-model numbers, shipped with the package (see published/PROVENANCE.md).

The CSV files keep the transcription's spelling; the loaders name the four benchmarks as every
other part of the package does (:data:`cornet_repro.protocol.BENCHMARK_NAMES`: ``V4``, ``IT``,
``behavior``, ``OST``), so a published and a computed score sit in columns of the same name.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from ..protocol import BENCHMARK_NAMES

PUBLISHED_DIR = resources.files("cornet_repro") / "data" / "published"

#: Measures in ``scores.csv``, in the order of the paper's Table A1.
MEASURES = (
    "imagenet_top1", "cifar100_top1", "V4", "IT", "it_new_neurons", "it_new_images", "behavior",
    "behavior_new_images", "v4_early", "v4_late", "it_early", "it_late", "OST", "brain_score",
    "depth", "v4_n_features", "it_n_features",
)

#: Human-readable labels, as the paper's figures print them.
LABELS = {
    "imagenet_top1": "ImageNet top-1",
    "cifar100_top1": "CIFAR-100 transfer",
    "V4": "V4",
    "IT": "IT",
    "it_new_neurons": "IT (new neurons)",
    "it_new_images": "IT (new images)",
    "behavior": "Behavior",
    "behavior_new_images": "Behavior (new images)",
    "v4_early": "V4 (early)",
    "v4_late": "V4 (late)",
    "it_early": "IT (early)",
    "it_late": "IT (late)",
    "OST": "OST",
    "brain_score": "Brain-Score",
    "depth": "Depth",
    "v4_n_features": "V4 features",
    "it_n_features": "IT features",
}

SOURCE_LABEL = "published (Kubilius, Schrimpf et al. 2019; dicarlolab/neurips2019 data.csv)"


#: the transcription's spelling of a benchmark → the package's one
_CSV_NAMES = {name.lower(): name for name in BENCHMARK_NAMES}


def _read(name: str) -> pd.DataFrame:
    with resources.as_file(PUBLISHED_DIR / name) as path:
        table = pd.read_csv(path)
    if "measure" in table:
        table["measure"] = table["measure"].replace(_CSV_NAMES)
    return table


def load_scores_long() -> pd.DataFrame:
    """The published scores, one row per (model, measure), with family, BaseNet flag and source."""
    models = _read("models.csv")
    scores = _read("scores.csv")
    unknown = set(scores["measure"]) - set(MEASURES)
    if unknown:
        raise ValueError(f"scores.csv has unknown measures {sorted(unknown)}; expected {MEASURES}")
    return scores.merge(models[["model", "family", "is_basenet"]], on="model", how="left", validate="m:1")


def load_scores() -> pd.DataFrame:
    """The published scores, one row per model (243) and one column per measure (NaN where absent).

    Columns: ``model, family, is_basenet, reference_url`` and every name in :data:`MEASURES`,
    in the source's row order (sorted by Brain-Score, as the authors shipped it).
    """
    models = _read("models.csv").sort_values("source_row")
    wide = _read("scores.csv").pivot(index="model", columns="measure", values="value")
    wide = wide.reindex(columns=list(MEASURES))
    out = models.drop(columns="source_row").merge(wide, left_on="model", right_index=True, how="left")
    out.columns.name = None
    return out.reset_index(drop=True)


def load_circuitry_deltas() -> pd.DataFrame:
    """Fig. 4 (transcribed by eye): % deltas of ImageNet top-1 and Brain-Score per circuitry variant."""
    return _read("fig4_circuitry_deltas.csv")


def load_ost_bins() -> pd.DataFrame:
    """Fig. 5 (digitized): monkey IT OST mean ± s.e.m. per bin of CORnet-S IT OST (ms)."""
    return _read("fig5_ost_bins.csv")
