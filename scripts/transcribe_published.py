"""Transcribe the paper's published numbers into the project's own tidy tables.

Run once by the maintainers (the source files are not part of a user's clone):

    python scripts/transcribe_published.py path/to/neurips2019_data.csv \
        path/to/fig4_circuitry_deltas_transcribed.csv path/to/fig5_ost_binned_digitized.csv

Writes ``cornet_repro/data/published/{models,scores,fig4_circuitry_deltas,fig5_ost_bins}.csv``.
The provenance of each file is in ``cornet_repro/data/published/PROVENANCE.md``.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "cornet_repro" / "data" / "published"

# Column of the authors' data.csv -> our measure name (unit: fraction unless stated).
MEASURES = {
    "ImageNet": "imagenet_top1",
    "CIFAR-100": "cifar100_top1",
    "V4": "v4",
    "IT": "it",
    "IT (new data)": "it_new_neurons",
    "IT (new images)": "it_new_images",
    "Behavior": "behavior",
    "Behavior (new data)": "behavior_new_images",
    "V4 (early)": "v4_early",
    "V4 (late)": "v4_late",
    "IT (early)": "it_early",
    "IT (late)": "it_late",
    "OST": "ost",
    "Brain-Score": "brain_score",
    "Depth": "depth",
    "V4 number of features": "v4_n_features",
    "IT number of features": "it_n_features",
}

FAMILY_PATTERNS = [
    (r"^BaseNet", "BaseNet"),
    (r"^CORnet", "CORnet"),
    (r"^AlexNet", "AlexNet"),
    (r"^VGG", "VGG"),
    (r"^ResNet", "ResNet"),
    (r"^DenseNet", "DenseNet"),
    (r"^Inception", "Inception"),
    (r"^Xception", "Xception"),
    (r"^NASnet", "NASNet"),
    (r"^PNASnet", "PNASNet"),
    (r"^MobileNet v1", "MobileNet v1"),
    (r"^MobileNet v2", "MobileNet v2"),
    (r"^SqueezeNet", "SqueezeNet"),
    (r"^IamNN", "IamNN"),
]

SOURCE_MAIN = "dicarlolab/neurips2019@5fa576a6:data/data.csv"


def family_of(model: str) -> str:
    for pattern, family in FAMILY_PATTERNS:
        if re.match(pattern, model):
            return family
    raise ValueError(f"no family for model {model!r}: add a pattern to FAMILY_PATTERNS")


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue())
    print(f"wrote {path} ({len(rows)} rows)")


def main(data_csv: str, fig4_csv: str, fig5_csv: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(data_csv, newline="")))
    models, scores = [], []
    for rank, row in enumerate(rows):
        name = row["Model"].strip()
        family = family_of(name)
        models.append([name, family, family == "BaseNet", row["Paper"].strip(), rank])
        for column, measure in MEASURES.items():
            value = row[column].strip()
            if value:
                # repr(float) round-trips: the table keeps the authors' full precision.
                scores.append([name, measure, repr(float(value)), SOURCE_MAIN])
    _write(OUT / "models.csv", ["model", "family", "is_basenet", "reference_url", "source_row"], models)
    _write(OUT / "scores.csv", ["model", "measure", "value", "source"], scores)

    fig4 = list(csv.DictReader(open(fig4_csv, newline="")))
    group_no, previous_group = 0, None
    out4 = []
    for row in fig4:
        # The last group ("Number of model areas") has no number in the figure: give it the next one.
        if row["group_no"]:
            group_no = int(row["group_no"])
        elif row["group"] != previous_group:
            group_no += 1
        previous_group = row["group"]
        default = row["is_cornet_s_default"] == "True"
        out4.append([
            group_no, row["group"], row["variant"], default,
            "" if default else int(row["delta_imagenet_top1_pct"]),
            "" if default else int(row["delta_brain_score_pct"]),
            "transcribed by eye from Fig. 4",
        ])
    _write(OUT / "fig4_circuitry_deltas.csv",
           ["group_no", "group", "variant", "is_default", "delta_imagenet_top1_pct",
            "delta_brain_score_pct", "source"], out4)

    fig5 = list(csv.DictReader(open(fig5_csv, newline="")))
    out5 = [[float(r["bin_right_edge_model_ost_ms"]), float(r["monkey_ost_mean_ms"]),
             float(r["monkey_ost_sem_ms"]), "digitized from the Fig. 5 vector PDF (±0.05 ms)"]
            for r in fig5]
    _write(OUT / "fig5_ost_bins.csv",
           ["model_ost_bin_right_edge_ms", "monkey_ost_mean_ms", "monkey_ost_sem_ms", "source"], out5)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
