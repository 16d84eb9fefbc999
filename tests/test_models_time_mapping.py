"""Brain-Score's mapping of CORnet time steps to milliseconds."""

from __future__ import annotations

import pytest
import torch

from cornet_repro.models import CORnetS, CORnetZ
from cornet_repro.models.time_mapping import (CORNET_S_TIME_MAPPING, OST_TIME_BINS, outputs_on_bins,
                                              overlapping_steps, scaled_time_mapping, select_step,
                                              step_windows, steps_for_bins, time_bins)


def test_windows() -> None:
    assert step_windows("V1") == [(50, 150)]
    assert step_windows("V2") == [(70, 170), (170, 270)]
    assert step_windows("V4") == [(90, 140), (140, 190), (190, 240), (240, 290)]
    assert step_windows("IT") == [(100, 200), (200, 300)]
    with pytest.raises(KeyError, match="'pIT' has no time mapping"):
        step_windows("pIT")


def test_majajhong_window_70_170() -> None:
    # The V4/IT benchmarks ask for 70-170 ms: every area answers with its first step.
    assert {area: select_step(area, 70, 170) for area in CORNET_S_TIME_MAPPING} == {
        "V1": 0, "V2": 0, "V4": 0, "IT": 0}
    assert overlapping_steps("V4", 70, 170) == [0, 1]
    assert overlapping_steps("IT", 70, 170) == [0]
    assert overlapping_steps("IT", 150, 250) == [0, 1]


def test_ost_bins() -> None:
    assert OST_TIME_BINS[0] == (70, 80) and OST_TIME_BINS[-1] == (240, 250) and len(OST_TIME_BINS) == 18
    # Brain-Score: nearest window start, ties to the earlier step -> IT t0 up to the 150 ms bin
    # (the paper: "t0 = 0-150 ms, t1 = 150+ ms").
    assert steps_for_bins("IT") == [0] * 9 + [1] * 9
    assert steps_for_bins("V4") == [0] * 5 + [1] * 5 + [2] * 5 + [3] * 3
    # Containment (clamped outside the mapped range): IT t0 for [100, 200) and earlier bins.
    assert steps_for_bins("IT", rule="contains") == [0] * 13 + [1] * 5
    assert steps_for_bins("V4", rule="contains") == [0] * 7 + [1] * 5 + [2] * 5 + [3]


def test_outputs_on_bins_uses_model_outputs() -> None:
    with torch.device("meta"):
        model = CORnetS()
        _, outputs = model.forward_time_steps(torch.empty(1, 3, 224, 224))
    binned = outputs_on_bins(outputs["IT"], "IT", mapping=model.time_mapping)
    assert len(binned) == 18 and binned[0] is outputs["IT"][0] and binned[-1] is outputs["IT"][1]
    with pytest.raises(ValueError, match="IT has 1 outputs but the time mapping has 2 steps"):
        outputs_on_bins(outputs["IT"][:1], "IT")
    assert CORnetZ.time_mapping["IT"] == (100, 100, 1)


def test_variant_mappings() -> None:
    with torch.device("meta"):
        assert CORnetS().time_mapping == CORNET_S_TIME_MAPPING
        scaled = CORnetS(times=(10, 10, 10)).time_mapping
    assert scaled["IT"] == (100, 20, 10) and scaled["V1"] == (50, 100, 1) and scaled["V4"] == (90, 20, 10)
    assert scaled_time_mapping({"IT": 3})["IT"] == (100, 200 / 3, 3)
    assert "pIT" not in scaled_time_mapping({"pIT": 2, "IT": 2})


def test_errors() -> None:
    with pytest.raises(ValueError, match="rule='latest'"):
        select_step("IT", 70, 80, rule="latest")
    with pytest.raises(ValueError, match="empty"):
        select_step("IT", 80, 70)
    with pytest.raises(ValueError, match="multiple of width"):
        time_bins(70, 255, 10)
    assert time_bins(0, 30, 10) == [(0, 10), (10, 20), (20, 30)]
