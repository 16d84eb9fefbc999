"""Assembly constructors and validators."""

import numpy as np
import pytest

from cornet_repro.assemblies import (AssemblyError, average_repetitions, behavioral_assembly, model_assembly,
                                     neural_assembly, probabilities_assembly, select, validate_behavioral,
                                     validate_model, validate_neural)


def _neural(**kw):
    return neural_assembly(np.arange(24.).reshape(6, 4), stimulus_id=list("aabbcc"), neuroid_id=range(4),
                           region=["V4", "V4", "IT", "IT"], object_name=list("xxyyzz"), repetition=[0, 1] * 3, **kw)


def test_neural_assembly_has_brainio_dims_and_coords():
    a = _neural()
    assert a.dims == ("presentation", "neuroid")
    for name in ("stimulus_id", "object_name", "repetition", "neuroid_id", "region"):
        assert name in a.coords
    timed = neural_assembly(np.zeros((2, 3, 4)), stimulus_id=["a", "b"], neuroid_id=range(3), region="IT",
                            time_bin_start=[70, 80, 90, 100], time_bin_end=[80, 90, 100, 110])
    assert timed.dims == ("presentation", "neuroid", "time_bin")
    assert list(timed["time_bin_end"].values) == [80, 90, 100, 110]
    assert list(timed["region"].values) == ["IT"] * 3


def test_missing_coord_error_names_it_and_what_was_found():
    a = _neural().drop_vars("stimulus_id")
    with pytest.raises(AssemblyError, match=r"no coord 'stimulus_id'.*presentation=6.*object_name"):
        validate_neural(a)


def test_missing_dim_error_names_it():
    a = _neural().rename(neuroid="unit")
    with pytest.raises(AssemblyError, match=r"missing dim\(s\) \['neuroid'\].*unit=4"):
        validate_neural(a)
    with pytest.raises(AssemblyError, match="time_bin"):
        validate_neural(_neural(), time=True)
    with pytest.raises(AssemblyError, match="repetition"):
        validate_neural(_neural().drop_vars("repetition"), repetition=True)


def test_transposed_input_is_canonicalized():
    a = validate_neural(_neural().transpose())
    assert a.dims == ("presentation", "neuroid")


def test_legacy_image_id_is_accepted():
    a = _neural().rename(stimulus_id="image_id")
    assert "stimulus_id" in validate_neural(a).coords


def test_average_repetitions():
    m = average_repetitions(_neural())
    np.testing.assert_allclose(m.values, [[2, 3, 4, 5], [10, 11, 12, 13], [18, 19, 20, 21]])
    assert list(m["stimulus_id"].values) == ["a", "b", "c"]
    assert "repetition" not in m.coords and list(m["object_name"].values) == ["x", "y", "z"]


def test_average_repetitions_skips_nan():
    a = _neural()
    values = a.values.copy()
    values[0, 0] = np.nan
    m = average_repetitions(a.copy(data=values))
    assert m.values[0, 0] == 4.0


def test_select_and_errors():
    a = _neural()
    assert select(a, region="IT").sizes["neuroid"] == 2
    with pytest.raises(AssemblyError, match="available"):
        select(a, region="V1")


def test_model_assembly_and_finite_check():
    m = model_assembly(np.ones((3, 5)), stimulus_id=["a", "b", "c"], layer="conv1")
    assert list(m["neuroid_id"].values)[:2] == ["conv1.0", "conv1.1"]
    bad = m.copy(data=np.full((3, 5), np.nan))
    with pytest.raises(AssemblyError, match="non-finite"):
        validate_model(bad)


def test_behavioral_assembly_and_aliases():
    t = behavioral_assembly(["a", "b"], stimulus_id=["x", "y"], truth=["a", "a"], distractor=["b", "b"])
    assert t.dims == ("presentation",)
    legacy = t.rename(truth="sample_obj", distractor="dist_obj")
    ok = validate_behavioral(legacy)
    assert list(ok["truth"].values) == ["a", "a"] and list(ok["distractor"].values) == ["b", "b"]
    with pytest.raises(AssemblyError, match="distractor"):
        validate_behavioral(t.drop_vars("distractor"))


def test_probabilities_validation():
    p = probabilities_assembly(np.full((2, 2), 0.5), stimulus_id=["x", "y"], choices=["a", "b"])
    assert p.dims == ("presentation", "choice")
    with pytest.raises(AssemblyError, match=r"\[0, 1\]"):
        probabilities_assembly(np.full((2, 2), 2.0), stimulus_id=["x", "y"], choices=["a", "b"])
    with pytest.raises(AssemblyError, match="shape"):
        neural_assembly(np.zeros((2, 3)), stimulus_id=["a"], neuroid_id=range(3))
