"""Where the paper's data are published, with their checksums.

Provenance: the registrations in brain-score/vision (``brainscore_vision/data/<dataset>/__init__.py``:
``load_assembly_from_s3(identifier, version_id="null", sha1, bucket="brainscore-storage/brainio-brainscore")``
and ``load_stimulus_set_from_s3(identifier, csv_sha1, zip_sha1, ...)``) resolved as brain-score/core's
``get_path`` does: ``https://<bucket>.s3.amazonaws.com/<folder>/<prefix><identifier with . → _>.<ext>``
with prefix ``assy_`` for assemblies and ``stimulus_`` for stimulus sets. ``version_id="null"`` is
the object's only (pre-versioning) version, which the plain URL serves.

``access="public"`` files download without credentials. ``access="restricted"`` ones are registered
by Brain-Score but not public (their benchmarks are Brain-Score's private test sets), or were never
published (the paper's new behavioural set): the user supplies them and we verify the checksum where
one is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CatalogEntry", "Dataset", "DATASETS", "BUCKET_URL", "entry", "dataset"]

BUCKET_URL = "https://brainscore-storage.s3.amazonaws.com/brainio-brainscore"
_SOURCE = "brain-score/vision: brainscore_vision/data/{}/__init__.py"


@dataclass(frozen=True)
class CatalogEntry:
    """One published file."""

    name: str  # e.g. "MajajHong2015.public" or "hvm-public.csv"
    filename: str
    url: str | None
    sha1: str | None
    kind: Literal["assembly", "stimulus_csv", "stimulus_zip"]
    access: Literal["public", "restricted"] = "public"
    provenance: str = ""
    how_to_obtain: str = ""


@dataclass(frozen=True)
class Dataset:
    """An assembly and the stimulus set it refers to."""

    name: str
    description: str
    paper_use: str
    assembly: CatalogEntry
    stimulus_set: str | None  # key into STIMULUS_SETS
    citation: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _assembly(identifier: str, sha1: str | None, access: str, folder: str, how: str = "") -> CatalogEntry:
    filename = f"assy_{identifier.replace('.', '_')}.nc"
    return CatalogEntry(name=identifier, filename=filename, url=f"{BUCKET_URL}/{filename}", sha1=sha1,
                        kind="assembly", access=access, provenance=_SOURCE.format(folder), how_to_obtain=how)


def _stimuli(identifier: str, csv_sha1: str, zip_sha1: str, access: str, folder: str,
             how: str = "") -> tuple[CatalogEntry, CatalogEntry]:
    stem = f"stimulus_{identifier.replace('.', '_')}"
    return tuple(  # type: ignore[return-value]
        CatalogEntry(name=f"{identifier}.{ext}", filename=f"{stem}.{ext}", url=f"{BUCKET_URL}/{stem}.{ext}",
                     sha1=sha1, kind=f"stimulus_{ext}", access=access, provenance=_SOURCE.format(folder),
                     how_to_obtain=how)
        for ext, sha1 in (("csv", csv_sha1), ("zip", zip_sha1)))


_PRIVATE = ("Brain-Score keeps this as a private test set: request access from the Brain-Score team "
            "(brain-score.org) or the data's authors (DiCarlo lab)")
_NEVER = "Not published with the paper: ask the authors (DiCarlo lab)"

#: stimulus sets: identifier → (csv entry, zip entry)
STIMULUS_SETS: dict[str, tuple[CatalogEntry, CatalogEntry]] = {
    "hvm-public": _stimuli("hvm-public", "5ca7a3da00d8e9c694a9cd725df5ba0ad6d735af",
                           "8aa44e038d7b551efa8077467622f9d48d72e473", "public", "majajhong2015"),
    "hvm-private": _stimuli("hvm-private", "6ff4981722fa05feb73a2bd26bbbba8b50dc29a6",
                            "d7b1ca1876dad87e15b0242b4c82c0203ff3cbd3", "restricted", "majajhong2015", _PRIVATE),
    "hvm": _stimuli("hvm", "a56f55205904d5fb5ead4d0dc7bfad5cc4083b94",
                    "6fd5080deccfb061699909ffcb86a26209516811", "restricted", "majajhong2015", _PRIVATE),
    "objectome.public": _stimuli("objectome.public", "47884e17106a3be471d6481279cab33889b80850",
                                 "064f2955f98e63867755fee2e3ead8cddf6bfab8", "public", "rajalingham2018"),
    "objectome.private": _stimuli("objectome.private", "ac38e8f7c08fa8294ed25a3bf84a6adb108bf3fc",
                                  "ccd39f7f9b8b4a92da06e3960d06225e46208593", "restricted", "rajalingham2018",
                                  _PRIVATE),
    "Kar2019": _stimuli("Kar2019", "7f705bdea02c0a72a76d7f5e7b6963531df818a6",
                        "75ab7b8b499fc8e86c813f717b79d268bcb986be", "restricted", "kar2019", _PRIVATE),
    "Kar2018cocogray": _stimuli("Kar2018cocogray", "be9bb267b80fd7ee36a88d025b73ae8a849165da",
                                "1457003ee9b27ed51c018237009fe148c6e71fd3", "restricted", "kar2018", _PRIVATE),
}

DATASETS: dict[str, Dataset] = {
    d.name: d for d in [
        Dataset("MajajHong2015.public",
                "V4 and IT multi-unit responses to the 3,200 low- and medium-variation HvM images "
                "(variations 0 and 3), per trial, 70–170 ms",
                "public counterpart of §3.1 (not what the paper scored)",
                _assembly("dicarlo.MajajHong2015.public", "13d28ca0ce88ee550b54db3004374ae19096e9b9",
                          "public", "majajhong2015"), "hvm-public", "Majaj, Hong et al. 2015, J Neurosci"),
        Dataset("MajajHong2015.temporal.public",
                "as MajajHong2015.public in 20 ms bins", "§3.1 time course (public subset)",
                _assembly("dicarlo.MajajHong2015.temporal.public", "093ac35b3e8464c676d24cf38238415d4d6a9448",
                          "public", "majajhong2015"), "hvm-public", "Majaj, Hong et al. 2015"),
        Dataset("MajajHong2015",
                "all 5,760 HvM images (variations 0, 3 and 6), per trial, 70–170 ms: the recordings that "
                "Brain-Score splits into .public (variations 0, 3) and .private (variation 6)",
                "not scored directly: §3.1 scores MajajHong2015.private",
                _assembly("dicarlo.MajajHong2015", "bf8f8d01010d727e3db3f85a9bd5f95f9456b7ec",
                          "restricted", "majajhong2015", _PRIVATE), "hvm", "Majaj, Hong et al. 2015"),
        Dataset("MajajHong2015.private",
                "the 2,560 high-variation HvM images (variation 6; 88 V4 + 168 IT sites), per trial, 70–170 ms: "
                "what Brain-Score's MajajHong2015 V4/IT benchmarks load",
                "§3.1 neural predictivity (V4, IT)",
                _assembly("dicarlo.MajajHong2015.private", "7a40d16148d6f82939155f0bd976d310857fb156",
                          "restricted", "majajhong2015", _PRIVATE), "hvm-private", "Majaj, Hong et al. 2015"),
        Dataset("Rajalingham2018.public",
                "human 2AFC trials on objectome images (public part)", "§3.2 behaviour (I2n)",
                _assembly("dicarlo.Rajalingham2018.public", "34c6a8b6f7c523589c1861e4123232e5f7c7df4c",
                          "public", "rajalingham2018"), "objectome.public",
                "Rajalingham et al. 2018, J Neurosci",
                ("Brain-Score fits the behavioural readout on the objectome.public images",)),
        Dataset("Rajalingham2018.private",
                "human 2AFC trials on the 240 held-out objectome images (~300,000 trials)", "§3.2 behaviour (I2n)",
                _assembly("dicarlo.Rajalingham2018.private", "516f13793d1c5b72bb445bb4008448ce97a02d23",
                          "restricted", "rajalingham2018", _PRIVATE), "objectome.private",
                "Rajalingham et al. 2018"),
        Dataset("Kar2019", "per-image monkey OSTs and behavioural I1 (1,318 images)", "§3.3 object solution times",
                _assembly("dicarlo.Kar2019", "147717ce397e11d56164d472063a84a83bbcbb94", "restricted", "kar2019",
                          _PRIVATE), "Kar2019", "Kar et al. 2019, Nat Neurosci"),
        Dataset("Kar2018hvm", "288 new IT neurons on 640 HvM images", "§3.4 / Fig. 2a new neurons, old images",
                _assembly("dicarlo.Kar2018hvm", "96ccacc76c5fa30ee68bdc8736d1d43ace93f3e7", "restricted",
                          "kar2018", _PRIVATE), "hvm", "Kar et al. 2019"),
        Dataset("Kar2018cocogray", "IT neurons on 1,600 grayscale MS COCO images",
                "§3.4 / Fig. 2b new neurons, new images",
                _assembly("dicarlo.Kar2018cocogray", "4202cb3992a5d71f71a7ca9e28ba3f8b27937b43", "restricted",
                          "kar2018", _PRIVATE), "Kar2018cocogray", "Kar et al. 2019"),
        Dataset("NewBehavior2019", "human 2AFC trials on 200 images of 20 new objects (185,106 trials)",
                "§3.4 / Fig. 2c new behaviour",
                CatalogEntry(name="NewBehavior2019", filename="assy_NewBehavior2019.nc", url=None, sha1=None,
                             kind="assembly", access="restricted", provenance="paper §3.4 (not published)",
                             how_to_obtain=_NEVER), None, "Kubilius, Schrimpf et al. 2019"),
    ]
}


def dataset(name: str) -> Dataset:
    """The catalog record of a dataset, with a clear error for unknown names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}") from None


def entry(name: str) -> CatalogEntry:
    """A single file by dataset name, or stimulus file name (``"hvm-public.csv"``)."""
    if name in DATASETS:
        return DATASETS[name].assembly
    for csv, zip_ in STIMULUS_SETS.values():
        if name in (csv.name, zip_.name):
            return csv if name == csv.name else zip_
    raise KeyError(f"unknown catalog file {name!r}; datasets: {sorted(DATASETS)}; "
                   f"stimulus files: {sorted(e.name for pair in STIMULUS_SETS.values() for e in pair)}")
