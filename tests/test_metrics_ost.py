"""Object solution times: planted times are recovered."""

import numpy as np
import pytest

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


def test_needs_time_bins_and_thresholds():
    source, target = planted_ost_world(n_images=50)
    with pytest.raises(AssemblyError, match="time_bin"):
        object_solution_times(source.isel(time_bin=0), target)
    with pytest.raises(AssemblyError, match="i1"):
        object_solution_times(source, target.drop_vars("i1"))
