"""The real-data path end to end, on miniature Brain-Score files served from 127.0.0.1.

The real files cannot be fetched here (most are restricted, and there is no internet), so a module
fixture writes small files in the formats Brain-Score publishes them in, as its 2020 repackaging
(brain-score/brainio_collection ``migrations/convert_db_to_csv_20200728.py``) left them:

- assemblies are ``DataArray.to_netcdf`` files whose one variable is named after the assembly
  (``dicarlo.MajajHong2015.private``), MultiIndexes reset to plain coords, the legacy ``image_id``
  (no ``stimulus_id``), and no presentation coord that the stimulus set also has (``object_name``,
  ``image_label``...: they come back from the CSV when loading);
- MajajHong2015 is ``neuroid × presentation × time_bin`` (one 70–170 ms bin), float32, with the
  neuroid coords of the Utah arrays (``animal``, ``arr``, ``row``, ``col``, ``region``...);
- Rajalingham2018 holds one human trial per presentation, the chosen object as the value, with
  ``sample_obj``/``dist_obj``/``choice``/``truth`` and the mTurk ids;
- Kar2019 is ``decoder × presentation`` (``svm``, ``logistic``) of per-image OSTs with ``i1``; like
  the real one (1,320 presentations of 1,318 images) a few images appear twice;
- stimulus sets are a CSV (``image_id``, ``filename`` = ``<image_id>.<ext>``, the DB's ``id``,
  metadata: HvM's ``object_name``/``category_name``/``variation``..., objectome's ``image_label``
  and ``image_sample_obj`` but no ``object_name``, Kar2019's ``image_label``) and a ZIP of images
  (PNG; Kar2019's are grayscale JPEGs).

(Brain-Score's own loaders, ``brainscore_core``'s ``StimulusMergeAssemblyLoader`` and
``StimulusSetLoader``, and the preparation steps of its Kar2019 and Rajalingham2018 benchmarks
accept these files.)

The catalog entries are pointed at the local server with the miniatures' SHA-1s; the public file
(objectome.public) is downloaded, the restricted ones are supplied the way a user supplies them:
saved under the name the error message gives, in ``<cache>/brainio/``.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import math
import shutil
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from threadpoolctl import threadpool_limits
import xarray as xr

from cornet_repro import pipeline, results
from cornet_repro.data import catalog
from cornet_repro.data.brain import BrainData
from cornet_repro.data.fetch import DataUnavailableError
from cornet_repro.protocol import BENCHMARK_NAMES
from cornet_repro.scoring import Candidate, benchmarks_for, ost_target, score_model

# An untrained model solves the Kar2019 images at its first IT step or never: some OST splits have
# constant model OSTs, for which scipy warns that the Spearman r is undefined.
pytestmark = [pytest.mark.filterwarnings("ignore:An input array is constant"),
              pytest.mark.usefixtures("single_threaded")]

RNG_SEED = 2019
IMAGE_SIZE = 32  # the miniatures' images; the tiny preset scores at 32 px

# MajajHong2015.private: variation-6 HvM images of 4 objects (real: 2,560 images of 64 objects)
HVM_OBJECTS = [("Animals", "bear"), ("Animals", "ELEPHANT_M"), ("Cars", "alfa155"), ("Cars", "astra")]
# 10 % test splits stratified on object_name need a test image per object, PLS 25 training images
HVM_IMAGES_PER_OBJECT = 12
N_V4, N_IT, N_REPETITIONS = 6, 10, 6  # repetitions: at most (they vary per image)
# Rajalingham2018 / objectome: 4 of the 24 objects; fitting images (public) and test images (private)
OBJECTOME_OBJECTS = ["bear", "ELEPHANT_M", "alfa155", "breed_pug"]
FIT_PER_OBJECT, TEST_PER_OBJECT, TRIALS_PER_CELL = 6, 3, 10
# Kar2019: 4 of the 10 labels; 2 images presented twice (real: 1,320 presentations, 1,318 images)
KAR_LABELS = ["bear", "elephant", "car", "dog"]
KAR_PER_LABEL, KAR_DUPLICATES = 10, 2

# the catalog entries that BrainData.real reads by default
ASSEMBLIES = ["MajajHong2015.private", "Rajalingham2018.private", "Kar2019"]
STIMULI = ["hvm-private", "objectome.public", "objectome.private", "Kar2019"]


# ---------------------------------------------------------------------------------------------
# miniature files in the published formats

def _image(rng: np.random.Generator, prototype: np.ndarray, fmt: str) -> bytes:
    """An image near its object's prototype (so that object identity is decodable), encoded."""
    from PIL import Image

    pixels = np.clip(prototype + rng.normal(0, 40, prototype.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    if fmt == "JPEG":
        Image.fromarray(pixels.mean(axis=2).astype(np.uint8)).save(buffer, format="JPEG", quality=90)  # mode L
    else:
        Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _images(rng: np.random.Generator, labels: list[str], per_label: int, fmt: str = "PNG"
            ) -> tuple[list[str], list[str], dict[str, bytes]]:
    """(image_ids, labels, {image_id: bytes}); ids are the files' SHA-1s, as BrainIO's are."""
    prototypes = {label: rng.uniform(0, 255, (IMAGE_SIZE, IMAGE_SIZE, 3)) for label in labels}
    ids, names, data = [], [], {}
    for label in labels:
        for _ in range(per_label):
            payload = _image(rng, prototypes[label], fmt)
            sid = hashlib.sha1(payload).hexdigest()
            ids.append(sid)
            names.append(label)
            data[sid] = payload
    return ids, names, data


def _write_stimulus_set(folder: Path, identifier: str, table: pd.DataFrame, data: dict[str, bytes],
                        ext: str) -> None:
    """CSV + ZIP as BrainIO packages them: members ``<image_id>.<ext>``, a ``filename`` column, the
    metadata database's integer ``id``; columns in no particular order (BrainIO wrote a set)."""
    table = table.copy()
    table.insert(0, "id", np.arange(1, len(table) + 1))
    table["filename"] = [f"{sid}.{ext}" for sid in table["image_id"]]
    stem = f"stimulus_{identifier.replace('.', '_')}"
    with zipfile.ZipFile(folder / f"{stem}.zip", "w") as zf:
        for sid, filename in zip(table["image_id"], table["filename"]):
            zf.writestr(filename, data[sid])
    table[sorted(table.columns, key=lambda c: hashlib.md5(c.encode()).hexdigest())].to_csv(
        folder / f"{stem}.csv", index=False)


def _decode(payload: bytes):
    from PIL import Image
    return Image.open(io.BytesIO(payload)).convert("RGB")


def _write_assembly(folder: Path, identifier: str, da: xr.DataArray) -> None:
    da.name = identifier
    da.to_netcdf(folder / f"assy_{identifier.replace('.', '_')}.nc")


def _majajhong(folder: Path, rng: np.random.Generator) -> None:
    labels = [name for _, name in HVM_OBJECTS]
    ids, objects, data = _images(rng, labels, HVM_IMAGES_PER_OBJECT)
    category = {name: cat for cat, name in HVM_OBJECTS}
    n = len(ids)
    table = pd.DataFrame({
        "image_id": ids, "object_name": objects, "category_name": [category[o] for o in objects],
        "variation": 6, "background_id": [hashlib.sha1(str(i).encode()).hexdigest() for i in range(n)],
        "s": rng.uniform(0.7, 1.3, n), "ty": rng.normal(0, 0.3, n), "tz": rng.normal(0, 0.3, n),
        "rxy": rng.uniform(-90, 90, n), "rxz": rng.uniform(-90, 90, n), "ryz": rng.uniform(-90, 90, n),
        "rxy_semantic": rng.uniform(-90, 90, n), "rxz_semantic": rng.uniform(-90, 90, n),
        "ryz_semantic": rng.uniform(-90, 90, n), "size": 256,
        "image_file_name": [f"{category[o]}_{o}_{sid[:8]}.png" for o, sid in zip(objects, ids)]})
    _write_stimulus_set(folder, "hvm-private", table, data, "png")

    # rates that depend on the image (a random linear read-out of its pixels) plus trial noise
    n_neuroids = N_V4 + N_IT
    pixels = np.stack([np.asarray(_decode(data[sid]), dtype=float).ravel() for sid in ids])
    pixels = (pixels - pixels.mean(0)) / (pixels.std(0) + 1e-6)
    signal = pixels @ rng.normal(0, 1 / np.sqrt(pixels.shape[1]), (pixels.shape[1], n_neuroids))
    # repetitions per image vary, as in the real recordings (~50 on average)
    presentations = [(i, r) for i in range(n) for r in range(N_REPETITIONS - i % 3)]
    order = rng.permutation(len(presentations))  # recordings are not sorted by image
    image_index = np.array([presentations[k][0] for k in order])
    repetition = np.array([presentations[k][1] for k in order])
    rates = signal[image_index] + rng.normal(0, 0.5, (len(order), n_neuroids))
    animal = ["Chabo"] * (n_neuroids // 2) + ["Tito"] * (n_neuroids - n_neuroids // 2)
    arr = ["M"] * N_V4 + ["A"] * (N_IT // 2) + ["P"] * (N_IT - N_IT // 2)
    row, col = np.arange(n_neuroids) % 10, np.arange(n_neuroids) // 10
    da = xr.DataArray(
        rates.T[:, :, None].astype(np.float32), dims=["neuroid", "presentation", "time_bin"],
        coords={"neuroid_id": ("neuroid", [f"{a}_L_{r}_{x}_{y}" for a, r, x, y in zip(animal, arr, row, col)]),
                "arr": ("neuroid", arr), "col": ("neuroid", col), "row": ("neuroid", row),
                "bank": ("neuroid", np.array(["A", "B", "C", "D"])[np.arange(n_neuroids) % 4]),
                "elec": ("neuroid", np.arange(n_neuroids) % 32),
                "label": ("neuroid", [f"elec{i}" for i in range(n_neuroids)]),
                "animal": ("neuroid", animal), "region": ("neuroid", ["V4"] * N_V4 + ["IT"] * N_IT),
                "image_id": ("presentation", np.array(ids)[image_index]), "repetition": ("presentation", repetition),
                "time_bin_start": ("time_bin", [70]), "time_bin_end": ("time_bin", [170])})
    _write_assembly(folder, "dicarlo.MajajHong2015.private", da)


def _objectome(folder: Path, rng: np.random.Generator) -> None:
    fit_ids, fit_objects, fit_data = _images(rng, OBJECTOME_OBJECTS, FIT_PER_OBJECT)
    test_ids, test_objects, test_data = _images(rng, OBJECTOME_OBJECTS, TEST_PER_OBJECT)
    for identifier, ids, objects, data in (("objectome.public", fit_ids, fit_objects, fit_data),
                                           ("objectome.private", test_ids, test_objects, test_data)):
        table = pd.DataFrame({"image_id": ids, "image_sample_obj": objects, "image_label": objects})
        _write_stimulus_set(folder, identifier, table, data, "png")
    rows = []
    for sid, truth in zip(test_ids, test_objects):
        p_correct = rng.uniform(0.55, 0.95)  # images differ in difficulty: the I2n signal
        for distractor in OBJECTOME_OBJECTS:
            if distractor == truth:
                continue
            for _ in range(TRIALS_PER_CELL):
                rows.append({"image_id": sid, "sample_obj": truth, "dist_obj": distractor, "truth": truth,
                             "choice": truth if rng.random() < p_correct else distractor,
                             "WorkerID": f"A{rng.integers(1000, 9999)}", "AssignmentID": f"3{rng.integers(10**8)}",
                             "enough_human_data": True})
    trials = pd.DataFrame(rows).sample(frac=1, random_state=0)
    da = xr.DataArray(trials["choice"].to_numpy(dtype=object), dims=["presentation"],
                      coords={c: ("presentation", trials[c].to_numpy()) for c in trials.columns})
    _write_assembly(folder, "dicarlo.Rajalingham2018.private", da)


def _kar(folder: Path, rng: np.random.Generator) -> None:
    ids, labels, data = _images(rng, KAR_LABELS, KAR_PER_LABEL, fmt="JPEG")
    table = pd.DataFrame({"image_id": ids, "image_file_sha1": ids, "image_num": np.arange(len(ids)),
                          "image_label": labels})
    _write_stimulus_set(folder, "Kar2019", table, data, "jpg")
    index = np.concatenate([np.arange(len(ids)), rng.choice(len(ids), KAR_DUPLICATES, replace=False)])
    ost = rng.uniform(90, 200, len(ids))
    ost[rng.choice(len(ids), 3, replace=False)] = np.nan  # images the monkeys' IT never solved
    i1 = rng.uniform(-0.5, 1.0, len(ids))
    values = np.stack([ost[index], ost[index] + rng.normal(0, 5, len(index))])  # svm, logistic decoder
    da = xr.DataArray(values, dims=["decoder", "presentation"],
                      coords={"decoder": ["svm", "logistic"], "image_id": ("presentation", np.array(ids)[index]),
                              "i1": ("presentation", i1[index])})
    _write_assembly(folder, "dicarlo.Kar2019", da)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The miniature files, served over HTTP; yields (server URL, folder)."""
    folder = tmp_path_factory.mktemp("brainio-bucket")
    rng = np.random.default_rng(RNG_SEED)
    _majajhong(folder, rng)
    _objectome(folder, rng)
    _kar(folder, rng)
    handler = lambda *a, **kw: _Quiet(*a, directory=str(folder), **kw)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    httpd.shutdown()
    httpd.server_close()


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def real_catalog(served):
    """The catalog pointed at the local server, with the miniatures' SHA-1s (access levels unchanged)."""
    url, folder = served
    with pytest.MonkeyPatch.context() as mp:
        for name in ASSEMBLIES:
            d = catalog.DATASETS[name]
            a = d.assembly
            mp.setitem(catalog.DATASETS, name, replace(d, assembly=replace(
                a, url=f"{url}/{a.filename}", sha1=_sha1(folder / a.filename))))
        for name in STIMULI:
            mp.setitem(catalog.STIMULUS_SETS, name, tuple(
                replace(e, url=f"{url}/{e.filename}", sha1=_sha1(folder / e.filename))
                for e in catalog.STIMULUS_SETS[name]))
        yield folder


def _restricted_files() -> list[catalog.CatalogEntry]:
    entries = [catalog.DATASETS[name].assembly for name in ASSEMBLIES]
    entries += [e for name in STIMULI for e in catalog.STIMULUS_SETS[name]]
    return [e for e in entries if e.access == "restricted"]


def supply_restricted(folder: Path, cache: Path) -> list[str]:
    """What a user does with the files they were given: save them where the error says."""
    target = cache / "brainio"
    target.mkdir(parents=True, exist_ok=True)
    names = []
    for e in _restricted_files():
        shutil.copy(folder / e.filename, target / e.filename)
        names.append(e.filename)
    return names


@pytest.fixture(scope="module")
def cache(real_catalog, tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    supply_restricted(real_catalog, cache)
    return cache


@pytest.fixture(scope="module")
def brain(cache) -> BrainData:
    return BrainData.real(cache=cache)


# ---------------------------------------------------------------------------------------------
# tests

def test_real_data_load_and_line_up(brain, cache):
    assert brain.source == "real"
    # the public file was downloaded (and verified); the restricted ones came from the cache
    assert (cache / "brainio" / "stimulus_objectome_public.zip.verified.json").is_file()

    neural = brain.neural
    assert set(neural.dims) == {"presentation", "neuroid", "time_bin"}
    regions = list(neural["region"].values)
    assert (regions.count("V4"), regions.count("IT")) == (N_V4, N_IT)
    n_images = len(HVM_OBJECTS) * HVM_IMAGES_PER_OBJECT
    assert neural.sizes["presentation"] == sum(N_REPETITIONS - i % 3 for i in range(n_images))
    assert set(neural["stimulus_id"].values) == set(brain.neural_stimuli.stimulus_ids)
    assert len(brain.neural_stimuli) == n_images
    # object_name (the stratification of the splits) comes from the stimulus set
    by_id = brain.neural_stimuli.table.set_index("stimulus_id")["object_name"]
    assert list(neural["object_name"].values) == list(by_id.loc[neural["stimulus_id"].values])

    objects = set(OBJECTOME_OBJECTS)
    fit, test = brain.behavior_fitting_stimuli, brain.behavior_test_stimuli
    assert len(brain.behavior_fitting_ids) == len(objects) * FIT_PER_OBJECT
    assert len(brain.behavior_test_ids) == len(objects) * TEST_PER_OBJECT
    assert not set(brain.behavior_fitting_ids) & set(brain.behavior_test_ids)
    assert set(brain.behavior_test_ids) == set(brain.human["stimulus_id"].values) == set(test.stimulus_ids)
    for stimuli in (fit, test):
        assert set(stimuli.table["object_name"]) == objects
    assert set(brain.human["truth"].values) == objects and set(brain.human["distractor"].values) == objects
    assert brain.human.sizes["presentation"] == len(objects) * TEST_PER_OBJECT * (len(objects) - 1) * TRIALS_PER_CELL

    ost = ost_target(brain.ost)  # the OST benchmark's preparation of the Kar2019 file
    n_kar = len(KAR_LABELS) * KAR_PER_LABEL
    assert ost.dims == ("presentation",) and ost.sizes["presentation"] == n_kar  # duplicates dropped
    assert set(ost["stimulus_id"].values) == set(brain.ost_stimuli.stimulus_ids)
    assert set(ost["truth"].values) == set(KAR_LABELS)
    assert np.isfinite(ost["i1"].values).all() and np.isnan(ost.values).sum() == 3
    # grayscale JPEGs come out as RGB images
    assert brain.ost_stimuli.open_image(ost["stimulus_id"].values[0]).mode == "RGB"


def _finite_scores(scored: dict) -> dict[str, float]:
    values = {k: scored["scores"][k]["value"] for k in BENCHMARK_NAMES}
    assert all(v is not None and math.isfinite(v) for v in values.values()), values
    return values


def test_score_model_on_real_data(brain):
    from cornet_repro.models import get_model

    torch.manual_seed(0)
    config = {"width": 0.125, "image_size": IMAGE_SIZE, "num_classes": 16}
    model = get_model("cornet_s", **config)
    candidate = Candidate.from_registry(model, "cornet_s", config, image_size=IMAGE_SIZE)
    scored = results.make_result(score_model(candidate, benchmarks_for(brain)), model_name="cornet_s",
                                 model_config=config, preset="tiny", source="real", seed=0)
    values = _finite_scores(scored)
    for region in ("V4", "IT"):
        s = scored["scores"][region]
        assert 0 < s["ceiling"] <= 1 and math.isclose(s["value"], s["raw"] / s["ceiling"])
    assert 0 < scored["scores"]["behavior"]["ceiling"] <= 1
    # the OST metric ran on the Kar2019 images: the model's OSTs met the monkeys' on some of them. (An
    # untrained model solves images at its first IT step or never, so the Spearman r of a split may be
    # undefined; score_model then counts the OST as 0, which is what the paper gives models without dynamics.)
    assert sum(scored["scores"]["OST"]["images_with_both"]) > 0
    assert math.isclose(scored["brain_score"]["value"], np.mean(list(values.values())))
    pairs = scored["ost_pairs"]
    assert set(pairs["stimulus_id"]) == set(brain.ost["stimulus_id"].values)


@pytest.fixture(scope="module")
def real_run(cache, tmp_path_factory) -> tuple[Path, dict]:
    """The tiny preset trained as usual (1 epoch, on the simulated task) and scored with ``brain_data: real``."""
    tmp = tmp_path_factory.mktemp("real-run")
    with threadpool_limits(1):
        result = pipeline.train_and_score(
            "tiny", tmp / "results", runs_dir=tmp / "runs", cache=cache,
            overrides={"brain_data": "real", "train.epochs": 1, "train.progress": False, "train.threads": 1})
    return tmp / "runs" / "tiny" / "cornet_s-seed0", result


def test_score_run_with_a_real_data_preset_writes_a_real_result(real_run):
    run, result = real_run
    assert result["source"] == "real" and result["preset"] == "tiny"
    assert result["data"] == {"neural": "MajajHong2015.private", "behavior": "Rajalingham2018.private",
                              "behavior_fitting": "objectome.public", "ost": "Kar2019"}
    _finite_scores(result)
    table = results.read_results(run.parents[2] / "results")
    assert list(table["source"]) == ["real"] and table.loc[0, "V4"] == result["scores"]["V4"]["value"]


def test_cli_scores_a_run_on_real_data(real_run, cache, tmp_path, capsys):
    """``cornet-repro score RUN --preset tiny-real.yaml``: a run trained with tiny, scored on real data."""
    from cornet_repro import cli

    run, result = real_run
    preset = tmp_path / "tiny-real.yaml"
    preset.write_text("base: tiny\nbrain_data: real\n")
    args = ["score", str(run), "--preset", str(preset), "--results-dir", str(tmp_path / "results")]
    assert cli.main([*args, "--cache", str(cache)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["source"] == "real"
    written = results.read_result(printed["result"])
    assert written["source"] == "real" and written["scores"]["IT"] == result["scores"]["IT"]
    # without the restricted files: exit status 1 and a message naming the file and where it goes
    empty = tmp_path / "empty-cache"
    assert cli.main([*args, "--cache", str(empty)]) == 1
    error = capsys.readouterr().err
    assert "error: hvm-private.csv is not public" in error
    assert str(empty / "brainio" / "stimulus_hvm-private.csv") in error


def test_missing_restricted_file_is_named_with_where_to_put_it(real_catalog, tmp_path, capsys):
    cache = tmp_path / "empty-cache"
    with pytest.raises(DataUnavailableError) as error:
        BrainData.real(cache=cache)
    message = str(error.value)
    assert "not public" in message and f"save it as {cache / 'brainio' / 'stimulus_hvm-private.csv'}" in message
    # everything but one file supplied: the error names that one
    supply_restricted(real_catalog, cache)
    (cache / "brainio" / "assy_dicarlo_Kar2019.nc").unlink()
    with pytest.raises(DataUnavailableError, match=r"Kar2019 is not public.*assy_dicarlo_Kar2019\.nc"):
        BrainData.real(cache=cache)

