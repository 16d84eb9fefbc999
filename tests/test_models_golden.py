"""CORnet-S, -Z and -RT reproduce the official implementation's outputs.

The golden files in tests/reference/cornet_golden were made by running the official code
(github.com/dicarlolab/CORnet) in eval mode, float32 on the CPU, with deterministic weights and
input; tests/reference/PROVENANCE.md gives their origin and the recipe, which is rebuilt below.
They ship with the tests, so this check runs on every clone.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from cornet_repro.models import CORnetRT, CORnetS, CORnetZ

GOLDEN = Path(__file__).parent / "reference" / "cornet_golden"

RTOL = 1e-4


def deterministic_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The deterministic weights of tests/reference/PROVENANCE.md, keyed by official state_dict names."""
    state = {}
    for key, value in model.state_dict().items():
        module_name, attr = key.rsplit(".", 1)
        module = model.get_submodule(module_name)
        i = np.arange(value.numel(), dtype=np.float64)
        phase = (zlib.crc32(key.encode()) % 997) / 997 * 2 * math.pi
        base = np.sin(0.618 * i + phase)
        if attr == "num_batches_tracked":
            state[key] = torch.zeros_like(value)
            continue
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            array = base * math.sqrt(2 / np.prod(value.shape[1:])) if attr == "weight" else 0.01 * base
        else:  # BatchNorm / GroupNorm
            array = {"weight": 1 + 0.1 * base, "bias": 0.1 * base, "running_mean": 0.1 * base,
                     "running_var": 1 + 0.5 * np.abs(base)}[attr]
        state[key] = torch.from_numpy(array.reshape(tuple(value.shape))).to(value.dtype)
    return state


def deterministic_input() -> torch.Tensor:
    i = np.arange(2 * 3 * 224 * 224, dtype=np.float64)
    x = (np.sin(0.0137 * i) + 0.5 * np.cos(0.00071 * i + 1.0)).reshape(2, 3, 224, 224).astype(np.float32)
    return torch.from_numpy(x)


def assert_close(actual, expected, what: str) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(np.abs(expected).max(initial=0.0), 1e-12)
    error = np.abs(actual - expected).max(initial=0.0) / scale
    assert error <= RTOL, f"{what}: max error {error:.2e} relative to max |value| {scale:.3g}"


GOLDEN_FILES = {"CORnet-S": "a70e003fb4222856f68e38f7a3aff49badd70957cd5a4a6bdb6c3da27d829adb",
                "CORnet-Z": "17bcdfb7b0539f971d0330012c23017a42381ed6f234428ee19b38f76b3da0ad",
                "CORnet-RT": "1d1203495a9d9d7fc02f320157b7731e36f4db7f4b449901b53f1d83fbf439d3"}


def test_golden_files_are_the_documented_ones() -> None:
    # The sha256 of each file is recorded in tests/reference/PROVENANCE.md: an edited or
    # regenerated golden file must come with an updated provenance.
    provenance = (GOLDEN.parent / "PROVENANCE.md").read_text()
    assert sorted(p.name for p in GOLDEN.glob("*.json")) == sorted(f"golden_{n}.json" for n in GOLDEN_FILES)
    for name, digest in GOLDEN_FILES.items():
        assert hashlib.sha256((GOLDEN / f"golden_{name}.json").read_bytes()).hexdigest() == digest, name
        assert f"`golden_{name}.json`" in provenance and digest in provenance, name


@pytest.mark.parametrize("name, cls", [("CORnet-S", CORnetS), ("CORnet-Z", CORnetZ), ("CORnet-RT", CORnetRT)])
def test_matches_official_outputs(name: str, cls: type[nn.Module]) -> None:
    golden = json.loads((GOLDEN / f"golden_{name}.json").read_text())
    model = cls().eval()

    # Architecture: parameter count, official state_dict keys, shapes and dtypes, in order.
    assert sum(p.numel() for p in model.parameters()) == golden["n_parameters"]
    state = model.state_dict()
    assert len(state) == golden["n_state_dict_entries"]
    assert [(k, list(v.shape), str(v.dtype)) for k, v in state.items()] == [
        (e["key"], e["shape"], e["dtype"]) for e in golden["state_dict"]]

    x = deterministic_input()
    assert hashlib.sha256(x.numpy().tobytes()).hexdigest() == golden["input_sha256_float32"]
    model.load_state_dict(deterministic_state_dict(model))
    with torch.no_grad():
        logits, outputs = model.forward_time_steps(x)
        assert torch.equal(model(x), logits)

    assert_close(logits, golden["logits"], f"{name} logits")
    areas = [a for a in golden["areas"] if a != "decoder"]
    assert list(outputs) == areas
    for area in areas:
        records = golden["areas"][area]
        assert len(outputs[area]) == len(records), f"{name} {area}: number of time steps"
        for record in records:
            out = outputs[area][record["t"]].double()
            what = f"{name} {area} t={record['t']}"
            assert list(out.shape) == record["shape"], what
            flat = out.flatten()
            stride = max(1, flat.numel() // 64)
            assert_close(flat[:len(record["first_values"])], record["first_values"], f"{what} first values")
            assert_close(flat[::stride][:64], record["strided_values"], f"{what} strided values")
            for stat, value in [("mean", out.mean()), ("std", out.std()), ("abs_sum", out.abs().sum())]:
                assert value.item() == pytest.approx(record[stat], rel=RTOL, abs=1e-7), f"{what} {stat}"
    if "decoder" in golden["areas"]:
        assert_close(logits.flatten()[::max(1, logits.numel() // 64)][:64],
                     golden["areas"]["decoder"][0]["strided_values"], f"{name} decoder output")
