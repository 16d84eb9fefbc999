"""BrainIO netCDF assemblies and CSV+ZIP stimulus sets: round trips and legacy names."""

import zipfile

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cornet_repro.assemblies import AssemblyError, behavioral_assembly, neural_assembly
from cornet_repro.data.brainio import load_assembly, load_stimulus_set, write_assembly, write_stimulus_set


def _assembly():
    rng = np.random.default_rng(0)
    return neural_assembly(rng.normal(size=(4, 3, 2)), stimulus_id=["s0", "s1", "s2", "s3"],
                           neuroid_id=["n0", "n1", "n2"], region="IT", repetition=[0, 0, 1, 1],
                           time_bin_start=[70, 170], time_bin_end=[170, 270], name="test.Assembly")


def test_assembly_round_trip(tmp_path):
    a = _assembly()
    path = write_assembly(a, tmp_path / "assy_test_Assembly.nc")
    b = load_assembly(path)
    xr.testing.assert_allclose(a.reset_coords(drop=False), b.drop_attrs().reset_coords(drop=False))
    assert b.dims == ("presentation", "neuroid", "time_bin")
    assert list(b["region"].values) == ["IT"] * 3


def test_legacy_brainio_file(tmp_path):
    # as BrainIO writes: data variable named after the assembly, image_id, MultiIndex reset
    a = _assembly().rename(stimulus_id="image_id")
    a = a.set_index(presentation=["image_id", "repetition"]).reset_index("presentation")
    path = tmp_path / "assy_dicarlo_Test.nc"
    a.rename("dicarlo.Test").to_dataset().to_netcdf(path)
    b = load_assembly(path)
    assert list(b["stimulus_id"].values) == ["s0", "s1", "s2", "s3"]


def test_behavioral_legacy_names(tmp_path):
    t = behavioral_assembly(["a", "b"], stimulus_id=["x", "y"], truth=["a", "a"], distractor=["b", "b"])
    t = t.rename(truth="sample_obj", distractor="dist_obj")
    b = load_assembly(write_assembly(t, tmp_path / "t.nc"))
    assert list(b["truth"].values) == ["a", "a"] and list(b["distractor"].values) == ["b", "b"]


def test_unreadable_and_ambiguous_files(tmp_path):
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"not a netcdf file")
    with pytest.raises(AssemblyError, match="not a readable netCDF"):
        load_assembly(bad)
    two = tmp_path / "two.nc"
    xr.Dataset({"x": ("presentation", [1]), "y": ("presentation", [2])}).to_netcdf(two)
    with pytest.raises(AssemblyError, match=r"which data variable.*\['x', 'y'\]"):
        load_assembly(two)
    with pytest.raises(FileNotFoundError):
        load_assembly(tmp_path / "absent.nc")


def _images(n=3):
    return {f"s{i}": np.full((8, 8, 3), i * 40, dtype=np.uint8) for i in range(n)}


def test_stimulus_set_round_trip_and_merge(tmp_path):
    table = pd.DataFrame({"stimulus_id": ["s0", "s1", "s2"], "object_name": ["car", "dog", "car"]})
    stimuli = write_stimulus_set(table, _images(), tmp_path / "stimulus_x.csv", tmp_path / "stimulus_x.zip")
    assert len(stimuli) == 3 and stimuli.identifier == "x"
    assert np.asarray(stimuli.open_image("s2"))[0, 0, 0] == 80
    assert [sid for sid, _ in stimuli.iter_images()] == ["s0", "s1", "s2"]
    a = neural_assembly(np.zeros((3, 1)), stimulus_id=["s2", "s0", "s1"], neuroid_id=[0])
    path = write_assembly(a, tmp_path / "a.nc")
    merged = load_assembly(path, stimulus_set=stimuli)
    assert list(merged["object_name"].values) == ["car", "car", "dog"]


def test_legacy_stimulus_columns_and_zip_folder(tmp_path):
    csv = tmp_path / "legacy.csv"
    pd.DataFrame({"image_id": ["a1", "b2"], "image_file_name": ["a1.png", "b2.png"]}).to_csv(csv, index=False)
    zpath = tmp_path / "legacy.zip"
    with zipfile.ZipFile(zpath, "w") as zf:  # members inside a top-level folder
        for name in ("a1.png", "b2.png"):
            zf.writestr(f"legacy/{name}", b"x")
    s = load_stimulus_set(csv, zpath)
    assert list(s.stimulus_ids) == ["a1", "b2"] and s.read_bytes("b2") == b"x"


def test_stimulus_set_errors(tmp_path):
    csv = tmp_path / "s.csv"
    pd.DataFrame({"id": [1]}).to_csv(csv, index=False)
    with pytest.raises(AssemblyError, match="stimulus_id.*image_id.*columns are \\['id'\\]"):
        load_stimulus_set(csv)
    pd.DataFrame({"stimulus_id": ["a", "b"], "filename": ["a.png", "b.png"]}).to_csv(csv, index=False)
    zpath = tmp_path / "s.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("a.png", b"x")
    with pytest.raises(AssemblyError, match="missing from.*'b.png'"):
        load_stimulus_set(csv, zpath)
