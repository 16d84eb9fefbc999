"""Model registry: names, errors, torchvision baselines, region layers."""

from __future__ import annotations

import pytest
import torch

from cornet_repro.models import (FIG4_VARIANTS, CORnetR, CORnetRT, CORnetS, CORnetZ, get_model, list_models,
                                 region_layers)
from cornet_repro.models.registry import TORCHVISION_MODELS


def test_names() -> None:
    names = list_models()
    assert {"cornet_s", "cornet_z", "cornet_rt", "cornet_r", "resnet50", "inception_v3"} <= set(names)
    assert set(FIG4_VARIANTS) <= set(names) and len(names) == len(set(names))


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'cornet_x'\. Did you mean .*'cornet_s'.*Valid names: .*resnet50"):
        get_model("cornet_x")
    with pytest.raises(ValueError, match="unknown model 'vgg11'"):
        region_layers("vgg11")


def test_cornet_builds_and_options() -> None:
    with torch.device("meta"):
        assert type(get_model("cornet_s")) is CORnetS
        assert type(get_model("cornet_z")) is CORnetZ
        assert type(get_model("cornet_rt")) is CORnetRT and get_model("cornet_rt").times == 5
        assert type(get_model("cornet_r", times=3)) is CORnetR
        assert get_model("cornet_s_steps_4_8_4", width=0.5).config.times == (4, 8, 4)
        assert get_model("cornet_s", num_classes=10).decoder.linear.out_features == 10
    with pytest.raises(ValueError, match=r"cornet_z does not take \['times'\]"):
        get_model("cornet_z", times=3)
    with pytest.raises(ValueError, match="times=0"):
        get_model("cornet_rt", times=0)
    with pytest.raises(ValueError, match="pretrained weights exist only for the official CORnet-S"):
        get_model("cornet_s", pretrained=True, width=0.5)
    with pytest.raises(ValueError, match="pretrained weights exist only"):
        get_model("cornet_s_gate_soft", pretrained=True)


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_torchvision_models_and_layers(name: str) -> None:
    with torch.device("meta"):
        model = get_model(name)
    layers = region_layers(name)
    assert set(layers) == {"V4", "IT", "behavior"} and len(layers["behavior"]) == 1
    modules = dict(model.named_modules())
    missing = [n for names in layers.values() for n in names if n not in modules]
    assert not missing and len(layers["IT"]) >= 4


@pytest.mark.parametrize("name", ["cornet_s", "cornet_z", "cornet_rt", "cornet_r", "cornet_s_areas_5"])
def test_cornet_region_layers_are_modules_called_every_step(name: str) -> None:
    layers = region_layers(name)
    with torch.device("meta"):
        model = get_model(name)
    expected = ["V1", "V2", "V4", "pIT", "IT"] if name.endswith("areas_5") else ["V1", "V2", "V4", "IT"]
    assert list(layers) == [*expected, "behavior"]
    assert layers["IT"] == ["IT.output"] and layers["behavior"] == ["decoder.avgpool"]

    calls: dict[str, int] = {}
    for area, (layer,) in layers.items():
        model.get_submodule(layer).register_forward_hook(
            lambda m, i, o, area=area: calls.__setitem__(area, calls.get(area, 0) + 1))
    with torch.device("meta"):
        _, outputs = model.forward_time_steps(torch.empty(1, 3, 64, 64))
    assert calls == {**{a: len(o) for a, o in outputs.items()}, "behavior": 1}


def test_small_input_runs() -> None:
    model = get_model("cornet_s", width=0.125, image_size=64).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 1000)
