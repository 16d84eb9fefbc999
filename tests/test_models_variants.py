"""CORnet-S config, the Fig. 4 presets, time-step outputs and clean (side-effect free) forwards."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from cornet_repro.models import (FIG4_ROWS, FIG4_VARIANTS, CORnetR, CORnetRT, CORnetS, CORnetSConfig,
                                 CORnetZ, fig4_variant, get_model)
from cornet_repro.reports import fig4_variant_table

SMALL = {"width": 1 / 16, "image_size": 64, "num_classes": 10}

# Full-width parameter counts of every preset (pins the interpretation of each variant).
N_PARAMETERS = {
    "cornet_s_steps_1_1_1": 53_391_272, "cornet_s_steps_2_2_2": 53_407_400,
    "cornet_s_steps_2_4_2": 53_416_616, "cornet_s_steps_4_4_4": 53_439_656,
    "cornet_s_steps_4_8_4": 53_458_088, "cornet_s_steps_10_10_10": 53_536_424,
    "cornet_s_loop_3_to_1": 53_416_616, "cornet_s_loop_3_to_2": 15_208_872,
    "cornet_s_gate_hard": 53_416_616, "cornet_s_gate_soft": 53_416_616,
    "cornet_s_bottleneck_1x": 4_875_944, "cornet_s_bottleneck_2x": 14_863_016,
    "cornet_s_bottleneck_4x": 53_416_616, "cornet_s_bottleneck_6x": 116_742_824,
    "cornet_s_convs_2_3": 14_863_016, "cornet_s_convs_1_2_3": 53_416_616,
    "cornet_s_skip_present": 53_416_616, "cornet_s_skip_absent": 53_070_760,
    "cornet_s_norm_batch": 53_416_616, "cornet_s_norm_group": 53_391_272,
    "cornet_s_areas_4": 53_416_616, "cornet_s_areas_5": 63_518_888,
}




def test_default_is_cornet_s() -> None:
    config = CORnetSConfig()
    assert config.times == (2, 4, 2) and config.area_names == ("V1", "V2", "V4", "IT")
    assert config.channels == (64, 128, 256, 512) and config.steps == {"V1": 1, "V2": 2, "V4": 4, "IT": 2}
    with torch.device("meta"):
        assert sum(p.numel() for p in CORnetS().parameters()) == 53_416_616


def test_variants_cover_every_fig4_row() -> None:
    assert set(FIG4_VARIANTS) == {name for _, _, name in FIG4_ROWS} == set(N_PARAMETERS)
    assert len(FIG4_ROWS) == len({name for _, _, name in FIG4_ROWS}) == 22  # one preset per row
    with pytest.raises(ValueError, match="no Fig. 4 row"):
        fig4_variant("Gating", "no gate")


def test_variants_join_the_packaged_fig4_deltas() -> None:
    # The package's transcription of Fig. 4 (cornet_repro/data/published/fig4_circuitry_deltas.csv):
    # its rows, in order, are FIG4_ROWS, and its bold (default) rows are CORnet-S itself.
    from cornet_repro.data.published import load_circuitry_deltas

    deltas = load_circuitry_deltas()
    assert list(zip(deltas["group"], deltas["variant"])) == [(g, v) for g, v, _ in FIG4_ROWS]
    for group, variant, is_default in zip(deltas["group"], deltas["variant"], deltas["is_default"]):
        assert (fig4_variant(group, variant) == CORnetSConfig()) == bool(is_default), (group, variant)
    assert deltas.groupby("group", sort=False)["is_default"].sum().eq(1).all()  # one default per group


def test_variant_table() -> None:
    table = fig4_variant_table()
    assert dict(zip(table["name"], table["n_parameters"])) == N_PARAMETERS
    depths = dict(zip(table["name"], table["depth"]))
    assert depths["cornet_s_steps_1_1_1"] == depths["cornet_s_steps_10_10_10"] == 15
    assert depths["cornet_s_convs_2_3"] == 12 and depths["cornet_s_areas_5"] == 19


@pytest.mark.parametrize("variant", list(FIG4_VARIANTS))
def test_variant_forward_backward(variant: str, record_property) -> None:
    torch.manual_seed(0)
    model = get_model(variant, **SMALL)
    config = model.config
    n_parameters = sum(p.numel() for p in model.parameters())
    record_property("n_parameters_small", n_parameters)
    print(f"{variant}: {n_parameters:,} parameters at width 1/16 ({N_PARAMETERS[variant]:,} at full width)")

    x = torch.randn(2, 3, 64, 64)
    logits, outputs = model.forward_time_steps(x)
    assert logits.shape == (2, 10) and torch.isfinite(logits).all()
    assert torch.equal(model(x), logits)  # forward is the last step of forward_time_steps
    assert list(outputs) == list(config.area_names)
    for area, n_steps in config.steps.items():
        assert len(outputs[area]) == n_steps, area
    assert outputs["IT"][-1].shape[1] == config.channels[-1]
    assert outputs["IT"][-1].shape[-1] == 2  # 64 px / total stride 32

    logits.square().mean().backward()
    # Every parameter takes part (DDP without find_unused_parameters needs this).
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert not unused, unused


def test_steps_and_shapes_at_224() -> None:
    with torch.device("meta"):
        model = CORnetS()
        _, outputs = model.forward_time_steps(torch.empty(1, 3, 224, 224))
    shapes = {a: [tuple(o.shape[1:]) for o in outs] for a, outs in outputs.items()}
    assert shapes == {"V1": [(64, 56, 56)], "V2": [(128, 28, 28)] * 2, "V4": [(256, 14, 14)] * 4,
                      "IT": [(512, 7, 7)] * 2}


@pytest.mark.parametrize("cls", [CORnetZ, CORnetRT, CORnetR], ids=["Z", "RT", "R"])
def test_other_cornets_time_steps(cls) -> None:
    model = cls(num_classes=5) if cls is CORnetZ else cls(times=3, num_classes=5)
    logits, outputs = model.forward_time_steps(torch.randn(1, 3, 64, 64))
    assert logits.shape == (1, 5)
    steps = 1 if isinstance(model, CORnetZ) else 3
    assert {a: len(o) for a, o in outputs.items()} == {a: steps for a in ("V1", "V2", "V4", "IT")}


def test_rt_and_r_differ_in_update_order() -> None:
    torch.manual_seed(0)
    rt = CORnetRT(times=2).eval()
    r = CORnetR(times=2).eval()
    r.load_state_dict(rt.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        _, out_rt = rt.forward_time_steps(x)
        _, out_r = r.forward_time_steps(x)
    assert torch.equal(out_rt["V2"][0], out_r["V2"][0])  # t = 0: both start from zero states
    assert torch.equal(out_rt["V1"][1], out_r["V1"][1])
    assert not torch.allclose(out_rt["IT"][1], out_r["IT"][1])  # R carries V1(t) up within step t


def test_hooks_see_every_step_and_forward_has_no_side_effects() -> None:
    model = get_model("cornet_s", **SMALL).eval()
    calls = []
    model.V4.output.register_forward_hook(lambda m, i, o: calls.append(o.shape))
    strides = {n: m.stride for n, m in model.named_modules() if hasattr(m, "stride")}
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model(torch.randn(1, 3, 64, 64))
    assert len(calls) == 4
    assert strides == {n: m.stride for n, m in model.named_modules() if hasattr(m, "stride")}
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_soft_gate_and_group_norm_details() -> None:
    model = get_model("cornet_s_norm_group", width=0.1)  # 13-channel V2... -> fewer groups
    gn = model.V1.norm1
    assert isinstance(gn, torch.nn.GroupNorm) and gn.num_channels % gn.num_groups == 0
    assert not any(n.startswith("norm1_") for n, _ in model.V2.named_children())  # shared over time
    soft = get_model("cornet_s_gate_soft", **SMALL).eval()
    hard = get_model("cornet_s", **SMALL).eval()
    hard.load_state_dict(soft.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        _, a = soft.forward_time_steps(x)
        _, b = hard.forward_time_steps(x)
    assert torch.equal(a["V2"][0], b["V2"][0]) and not torch.allclose(a["V2"][1], b["V2"][1])


@pytest.mark.parametrize("field, value, message", [
    ("gate", "leaky", r"gate='leaky': allowed values are \['hard', 'soft'\]"),
    ("norm", "layer", r"norm='layer': allowed values are \['batch', 'group'\]"),
    ("times", (2, 4), r"times=\(2, 4\): expected 3 integers >= 1"),
    ("times", (2, 0, 2), "times"),
    ("loop_length", 4, r"loop_length=4: allowed values are \[1, 2, 3\]"),
    ("loop_length", True, "loop_length=True"),
    ("conv_layers", (1, 3), "conv_layers"),
    ("bottleneck", 0, "bottleneck=0"),
    ("n_areas", 6, r"n_areas=6: allowed values are \[4, 5\]"),
    ("width", 0.01, r"width=0.01: the narrowest area would have 0.64 channels"),
    ("width", -1.0, "width=-1.0"),
    ("image_size", 16, r"image_size=16: expected an integer >= 32"),
    ("skip", "yes", "skip='yes'"),
])
def test_config_validation(field: str, value, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CORnetSConfig(**{field: value})


def test_config_combinations_and_overrides() -> None:
    with pytest.raises(ValueError, match="loop_length=3 exceeds"):
        CORnetSConfig(conv_layers=(2, 3))
    with pytest.raises(ValueError, match="no convolution to expand"):
        CORnetSConfig(conv_layers=(2, 3), loop_length=1)
    with pytest.raises(ValueError, match="expected 4 integers"):
        CORnetSConfig(n_areas=5)
    with pytest.raises(ValueError, match=r"unknown CORnetSConfig field\(s\) \['widht'\]"):
        get_model("cornet_s", widht=0.5)
    config = CORnetSConfig(times=[1, 1, 1])  # lists are accepted and stored as tuples
    assert config.times == (1, 1, 1) and hash(config)
    assert dataclasses.replace(config, gate="soft").gate == "soft"


def test_loop_length_variants_run() -> None:
    for loop_length in (1, 2):
        model = get_model("cornet_s", loop_length=loop_length, **SMALL)
        model(torch.randn(1, 3, 64, 64)).sum().backward()
        assert all(p.grad is not None for p in model.parameters())


def test_input_validation() -> None:
    model = get_model("cornet_s", **SMALL)
    with pytest.raises(ValueError, match="smaller than the model's total stride"):
        model(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match=r"shape \(N, 3, H, W\)"):
        model(torch.randn(1, 1, 64, 64))
    # any size above the minimum works, also non-square; the IT map is ceil(input / 32): 96x80 -> 3x3
    _, outputs = model.forward_time_steps(torch.randn(1, 3, 96, 80))
    assert outputs["IT"][-1].shape[-2:] == (3, 3) and model(torch.randn(1, 3, 96, 80)).shape == (1, 10)


@pytest.mark.parametrize("name", ["cornet_s", "cornet_rt"])
def test_torch_compile_full_graph(name: str) -> None:
    # Dynamo must capture the whole forward (no graph breaks from attribute mutation); the eager
    # backend skips the (slow) code generation.
    kwargs = SMALL if name == "cornet_s" else {"times": 2, "num_classes": 10}
    model = get_model(name, **kwargs).eval()
    x = torch.randn(1, 3, 64, 64)
    compiled = torch.compile(model, backend="eager", fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x))


def test_ddp_training_steps(tmp_path: Path) -> None:
    """Under DDP (find_unused_parameters=False, which raises on the 2nd step if a parameter got no
    gradient) each option trains exactly as the plain model does, and every parameter moves."""
    import copy

    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        for preset in ("cornet_s", "cornet_s_loop_3_to_2", "cornet_s_gate_soft", "cornet_s_areas_5"):
            torch.manual_seed(0)
            plain = get_model(preset, **SMALL)
            initial = copy.deepcopy(plain.state_dict())
            wrapped = copy.deepcopy(plain)
            batches = [(torch.randn(2, 3, 64, 64), torch.tensor([1, 2])) for _ in range(2)]
            for model in (plain, DistributedDataParallel(wrapped)):
                optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
                for x, y in batches:
                    optimizer.zero_grad()
                    torch.nn.functional.cross_entropy(model(x), y).backward()
                    optimizer.step()
            for (name, a), b in zip(plain.state_dict().items(), wrapped.state_dict().values()):
                torch.testing.assert_close(b, a, msg=lambda m, name=name: f"{preset} {name}: {m}")
            for name, p in plain.named_parameters():
                assert not torch.equal(p, initial[name]), f"{preset}: {name} was not updated"
    finally:
        dist.destroy_process_group()
