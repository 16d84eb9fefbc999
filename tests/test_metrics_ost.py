"""Object solution times: planted times are recovered."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from cornet_repro.metrics.synthetic import planted_ost_world
from cornet_repro.assemblies import AssemblyError
from cornet_repro.metrics import ceiled_ost, object_solution_times
from cornet_repro.metrics.ost import model_osts


def test_planted_solution_times_are_recovered():
    source, target = planted_ost_world()
    score = object_solution_times(source, target)
    assert score.value > 0.95
    assert ceiled_ost(score).value == pytest.approx(score.value / 0.79)


def test_interpolation_between_bins():
    # OSTs are interpolated within the recorded window
    source, target = planted_ost_world(n_images=100)
    source = source.assign_coords(truth=("presentation", target["truth"].values))
    train, test = source.isel(presentation=slice(0, 80)), source.isel(presentation=slice(80, 100))
    osts = model_osts(train, test, np.full(20, 1.5))
    finite = osts[np.isfinite(osts)]
    assert len(finite) > 10 and finite.min() >= 70 and finite.max() <= 250
    # interpolated: the OSTs fall between the 10 ms bin starts, not on them (without the
    # interpolation every OST would be the start of the bin that reached the threshold)
    off_grid = np.abs(finite / 10 - np.round(finite / 10)) > 1e-6
    assert off_grid.mean() > 0.5
    # and they follow the planted times (an image's signal starts 5 ms before its planted time)
    planted = target.values[80:100][np.isfinite(osts)]
    assert spearmanr(finite, planted)[0] > 0.8 and (finite > planted - 5).all()


def test_needs_time_bins_and_thresholds():
    source, target = planted_ost_world(n_images=50)
    with pytest.raises(AssemblyError, match="time_bin"):
        object_solution_times(source.isel(time_bin=0), target)
    with pytest.raises(AssemblyError, match="i1"):
        object_solution_times(source, target.drop_vars("i1"))


def test_per_image_osts_are_the_predictions_behind_the_score():
    from cornet_repro.metrics._util import cv_splits

    source, target = planted_ost_world(n_images=100)
    score = object_solution_times(source, target, n_splits=1)
    pairs = score.details["per_image"]
    assert pairs["stimulus_id"] == target["stimulus_id"].values.tolist()
    model, monkey = np.array(pairs["model_ost_ms"]), np.array(pairs["monkey_ost_ms"])
    (_, test), = cv_splits(100, n_splits=1, test_size=0.1, random_state=1)
    untested = np.setdiff1d(np.arange(100), test)
    assert np.isnan(model[untested]).all() and np.isfinite(model[test]).sum() >= 3
    ok = test[np.isfinite(model[test]) & np.isfinite(monkey[test])]
    # one split: its Spearman r over the stored pairs is the score itself
    assert score.value == pytest.approx(spearmanr(model[ok], monkey[ok])[0])
    # ten splits: each image's OST is the mean over the splits that solved it
    ten = object_solution_times(source, target).details["per_image"]
    tested = set().union(*[set(t) for _, t in cv_splits(100, n_splits=10, test_size=0.1, random_state=1)])
    assert np.isfinite(np.array(ten["model_ost_ms"])).sum() <= len(tested) < 100


def test_no_split_with_three_solved_images_gives_nan_without_warnings():
    import warnings

    source, target = planted_ost_world(n_images=60)
    never = target.assign_coords(i1=("presentation", np.full(60, 1e6)))  # an unreachable threshold
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = object_solution_times(source, never, n_splits=3)
    assert np.isnan(score.value) and score.details["images_with_both"] == [0, 0, 0]
    assert np.isnan(score.details["per_image"]["model_ost_ms"]).all()
