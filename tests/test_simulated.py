"""The simulated experiment: deterministic, HvM-shaped stimuli, a monkey with V4/IT and OSTs, a human."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from cornet_repro.assemblies import average_repetitions, select
from cornet_repro.data import simulated as sim
from cornet_repro.presets import get_preset

CONFIG = get_preset("tiny").simulated


@pytest.fixture(autouse=True)
def single_threaded_blas():
    # Small decoders: on a shared CPU, multi-threaded BLAS spins and runs ~15x slower.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def experiment() -> sim.SimulatedExperiment:
    return sim.generate(CONFIG)


def test_deterministic_from_the_seed(experiment):
    again = sim.generate(CONFIG)
    assert np.array_equal(experiment.images, again.images)
    for name in ("neural", "neural_temporal", "ost", "human"):
        a, b = getattr(experiment, name), getattr(again, name)
        assert np.array_equal(np.asarray(a.values), np.asarray(b.values), equal_nan=a.dtype.kind == "f"), name
    other = sim.render_stimuli(dataclasses.replace(CONFIG, seed=1))
    assert not np.array_equal(other, experiment.images)


def test_stimuli_are_hvm_shaped(experiment):
    table = experiment.stimuli
    assert len(table) == CONFIG.n_stimuli == 4 * 4 * 3 * 4
    assert experiment.images.shape == (len(table), 32, 32) and experiment.images.dtype == np.uint8
    assert table["stimulus_id"].is_unique
    assert set(table["variation"]) == {0, 3, 6}
    assert table.groupby("category_name")["object_name"].nunique().tolist() == [4] * 4
    spread = table.groupby("variation")[["pos_x", "pos_y", "rotation"]].std().abs().sum(axis=1)
    assert spread[0] == 0 < spread[3] < spread[6]  # no / medium / high pose variation
    # every object looks different: mean images of the variation-0 views differ between objects
    v0 = table["variation"].to_numpy() == 0
    means = pd.DataFrame(experiment.images[v0].reshape(v0.sum(), -1)).groupby(
        table.loc[v0, "object_name"].to_numpy()).mean().to_numpy()
    distances = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert (distances[~np.eye(len(means), dtype=bool)] > 1.0).all()


def _object_r2(rates: np.ndarray, objects: np.ndarray) -> float:
    """Median over sites of the response variance explained by object identity."""
    grouped = pd.DataFrame(rates).groupby(objects).transform("mean").to_numpy()
    return float(np.median(1 - ((rates - grouped) ** 2).sum(0) / ((rates - rates.mean(0)) ** 2).sum(0)))


def test_monkey_v4_and_it(experiment):
    from cornet_repro.metrics.ceiling import internal_consistency

    neural = experiment.neural
    assert neural.dims == ("presentation", "neuroid", "time_bin")
    assert neural.sizes["presentation"] == CONFIG.n_stimuli * CONFIG.n_repetitions
    assert (neural.time_bin_start.item(), neural.time_bin_end.item()) == (70, 170)
    for coord in ("stimulus_id", "object_name", "repetition", "neuroid_id", "region"):
        assert coord in neural.coords
    r2 = {}
    for region in ("V4", "IT"):
        trials = select(neural, region=region).squeeze("time_bin", drop=True)
        ceiling = internal_consistency(trials)
        assert 0.55 < ceiling.value < 0.95, (region, ceiling.value)  # noisy, but reliable
        mean = average_repetitions(trials)
        r2[region] = _object_r2(np.asarray(mean.values), np.asarray(mean.object_name.values))
    assert r2["IT"] > r2["V4"] + 0.1, r2  # IT is more object-selective than V4


def test_it_object_information_emerges_later_for_harder_images(experiment):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    temporal = average_repetitions(experiment.neural_temporal)
    assert list(temporal.time_bin_start.values) == list(range(70, 250, 10))
    table = experiment.stimuli.set_index("stimulus_id").loc[temporal.stimulus_id.values]
    hard = (table["sim_difficulty"] > table["sim_difficulty"].median()).to_numpy()
    labels = table["category_name"].to_numpy()
    accuracy = []
    for b in range(temporal.sizes["time_bin"]):
        x = np.asarray(temporal.isel(time_bin=b).values)
        x = (x - x.mean(0)) / (x.std(0) + 1e-9)
        correct = cross_val_predict(LogisticRegression(max_iter=300), x, labels, cv=4) == labels
        accuracy.append((correct[~hard].mean(), correct[hard].mean()))
    easy, harder = np.array(accuracy).T
    assert easy[0] < 0.45 and harder[0] < 0.45  # nothing decodable at 70 ms (chance .25)
    assert easy[4:9].mean() > harder[4:9].mean() + 0.15  # 110–160 ms: easy images solved first
    assert harder[-5:].mean() > 0.6  # hard images are solved too, later


def test_monkey_osts_are_what_decoding_the_simulated_it_gives(experiment):
    """The OST target matches OSTs measured from the simulated IT with the paper's procedure."""
    from sklearn.model_selection import KFold

    from cornet_repro.metrics.ost import model_osts

    ost = experiment.ost
    assert ost.dims == ("presentation",) and {"stimulus_id", "truth", "i1"} <= set(ost.coords)
    assert np.isfinite(ost.values).mean() > 0.9 and 70 <= np.nanmin(ost.values)
    assert (0.5 <= ost.i1.values).all() and (ost.i1.values <= 5).all()
    it = average_repetitions(experiment.neural_temporal)
    it = it.assign_coords(truth=("presentation", it.category_name.values))
    assert sorted(it.stimulus_id.values) == sorted(ost.stimulus_id.values)
    position = {sid: i for i, sid in enumerate(it.stimulus_id.values)}  # averaged: Brain-Score's (sorted) order
    it = it.isel(presentation=[position[sid] for sid in ost.stimulus_id.values])
    measured = np.full(len(ost), np.nan)
    for train, test in KFold(4, shuffle=True, random_state=0).split(measured):
        measured[test] = model_osts(it.isel(presentation=train), it.isel(presentation=test), ost.i1.values[test])
    ok = np.isfinite(measured) & np.isfinite(ost.values)
    assert ok.mean() > 0.8
    assert spearmanr(measured[ok], ost.values[ok])[0] > 0.4


def test_human_two_alternative_choices(experiment):
    from cornet_repro.metrics.behavior import behavioral_ceiling

    human = experiment.human
    assert human.dims == ("presentation",)
    assert {"stimulus_id", "truth", "distractor", "choice"} <= set(human.coords)
    assert (human.values == human.choice.values).all()
    chosen = human.choice.values
    assert np.isin(chosen, [human.truth.values, human.distractor.values]).any(axis=0).all()
    n_objects = len(CONFIG.behavior_objects)
    n_test = n_objects * CONFIG.behavior_images_per_object
    assert human.sizes["presentation"] == n_test * (n_objects - 1) * CONFIG.human_trials_per_cell
    assert len(experiment.behavior_test_ids) == n_test
    assert len(experiment.behavior_fitting_ids) == n_objects * 3 * CONFIG.images_per_object - n_test
    correct = chosen == human.truth.values
    assert 0.65 < correct.mean() < 0.95
    category = dict(zip(experiment.stimuli.object_name, experiment.stimuli.category_name))
    same = np.array([category[t] == category[d] for t, d in zip(human.truth.values, human.distractor.values)])
    assert correct[same].mean() < correct[~same].mean() - 0.05  # same-category pairs are harder
    ceiling = behavioral_ceiling(human)
    assert 0.3 < ceiling.value < 0.8  # trial noise keeps the split-half ceiling below 1 (real data: ~.48)
    subset = dataclasses.replace(CONFIG, behavior_n_objects=8).behavior_objects
    assert len(subset) == 8 and len({name.rsplit("_", 1)[0] for name in subset}) == 4  # spread over categories


def test_brainio_round_trip_and_cache(tmp_path, experiment):
    first = sim.simulated_experiment(CONFIG, cache=tmp_path)
    folder = tmp_path / "simulated" / CONFIG.digest()
    assert first.directory == folder and (folder / sim.FILES["stimuli_zip"]).is_file()
    csv = pd.read_csv(folder / sim.FILES["stimuli_csv"])
    for column in ("stimulus_id", "filename", "object_name", "category_name", "variation"):
        assert column in csv.columns
    for name in ("neural", "neural_temporal", "ost", "human"):
        a, b = getattr(experiment, name), getattr(first, name)
        assert a.dims == b.dims
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(a.values, b.values)
        else:
            assert (np.asarray(a.values).astype(str) == np.asarray(b.values).astype(str)).all()
    sid = first.stimuli["stimulus_id"].iloc[7]
    image = np.asarray(first.stimulus_set.open_image(sid).convert("L"))
    np.testing.assert_array_equal(image, experiment.images[7])
    mtime = (folder / sim.FILES["config"]).stat().st_mtime_ns
    again = sim.simulated_experiment(CONFIG, cache=tmp_path)  # from the cache, not regenerated
    assert (folder / sim.FILES["config"]).stat().st_mtime_ns == mtime and len(again.stimuli) == len(first.stimuli)
    with pytest.raises(FileNotFoundError, match="no complete simulated experiment"):
        sim.load_experiment(tmp_path)


def test_training_set_is_labelled_and_deterministic(experiment):
    data = sim.SimulatedObjects(CONFIG, 40, "train")
    image, label = data[17]
    assert image.size == (32, 32) and label == 17 % CONFIG.n_objects
    np.testing.assert_array_equal(np.asarray(image), sim.SimulatedObjects(CONFIG, 40, "train", cache=False).image_array(17))
    assert np.bincount([data.label(i) for i in range(len(data))]).min() >= 2
    val = sim.SimulatedObjects(CONFIG, 40, "val")
    assert not np.array_equal(val.image_array(17), data.image_array(17))
    stimulus_images = experiment.images.reshape(len(experiment.images), -1)
    assert not (stimulus_images == data.image_array(0).reshape(1, -1)).all(axis=1).any()
    with pytest.raises(ValueError, match="split"):
        sim.SimulatedObjects(CONFIG, 4, "test")
    with pytest.raises(ValueError, match="n_categories"):
        sim.SimulatedConfig(n_categories=9)


def test_preloaded_training_images_come_back_from_the_cache(tmp_path):
    fresh = sim.SimulatedObjects(CONFIG, 12, "train").preload(cache=tmp_path)
    stored = sorted((tmp_path / "simulated-objects").rglob("*.npy"))
    assert [p.name for p in stored] == ["train-12.npy"]
    again = sim.SimulatedObjects(CONFIG, 12, "train", cache=False).preload(cache=tmp_path)
    for i in range(12):
        np.testing.assert_array_equal(again.image_array(i), fresh.image_array(i))
    np.testing.assert_array_equal(again.image_array(5), sim.SimulatedObjects(CONFIG, 12, "train").image_array(5))
    # a damaged file is rendered again and replaced
    stored[0].write_bytes(b"not an array")
    repaired = sim.SimulatedObjects(CONFIG, 12, "train").preload(cache=tmp_path)
    np.testing.assert_array_equal(repaired.image_array(3), fresh.image_array(3))
    assert np.load(stored[0]).shape == (12, CONFIG.image_size, CONFIG.image_size)
