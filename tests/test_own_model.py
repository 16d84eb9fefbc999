"""Score your own model: any nn.Module or spec on the (tiny) simulated benchmarks, its layer map,
the memory estimate before extraction, and one-line refusals."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

import cornet_repro
from cornet_repro import cli
from cornet_repro.models.registry import region_layers
from cornet_repro.models.user import ModelSpecError, candidate_layers, layer_shapes, resolve_model
from cornet_repro.own_model import estimate_memory, score_own_model
from cornet_repro.results import read_results

pytestmark = pytest.mark.usefixtures("single_threaded")
ROOT = Path(__file__).resolve().parents[1]

# a small user-defined network, importable as ``tiny_user_net:build`` from tmp folders
USER_NET = textwrap.dedent('''
    from torch import nn

    def build():
        return nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Linear(16, 10))
''')


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def user_net(tmp_path, monkeypatch) -> str:
    (tmp_path / "tiny_user_net.py").write_text(USER_NET)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "tiny_user_net:build"


def test_a_torchvision_model_scores_end_to_end_with_its_layer_map(tmp_path, cache):
    result = cornet_repro.score_model("torchvision:resnet18", preset="tiny", cache=cache,
                                      results_dir=tmp_path / "results")
    candidates = region_layers("resnet18")["V4"]  # the registry's: every residual block, then avgpool
    assert candidates[0] == "layer1.0" and candidates[-1] == "avgpool" and len(candidates) == 9
    for region in ("V4", "IT"):
        score = result["scores"][region]
        assert math.isfinite(score["value"]) and 0 < score["ceiling"] < 1
        assert list(score["layer_scores"]) == candidates  # every candidate layer, in order
        assert score["layer"] in candidates
        # the region's score is its chosen layer's (ceiled) entry of the layer map only when that layer
        # won every split; in any case each entry is the raw held-out r over the same ceiling
        for entry in score["layer_scores"].values():
            assert entry["value"] == pytest.approx(entry["raw"] / score["ceiling"])
    assert result["scores"]["OST"]["value"] == 0.0 and "feed-forward" in result["scores"]["OST"]["note"]
    assert result["brain_score"]["value"] == pytest.approx(
        sum(result["scores"][k]["value"] for k in ("V4", "IT", "behavior", "OST")) / 4)
    assert result["source"] == "simulated" and result["model"] == "torchvision:resnet18" and result["depth"] == 18
    table = read_results(tmp_path / "results")
    assert len(table) == 1 and table.loc[0, "depth"] == 18


def test_the_same_seed_gives_the_same_scores_and_another_seed_other_ones(cache):
    a = score_own_model("torchvision:resnet18", preset="tiny", cache=cache, benchmarks=["IT"], seed=3)
    b = score_own_model("torchvision:resnet18", preset="tiny", cache=cache, benchmarks=["IT"], seed=3)
    c = score_own_model("torchvision:resnet18", preset="tiny", cache=cache, benchmarks=["IT"], seed=4)
    assert a["scores"]["IT"]["layer_scores"] == b["scores"]["IT"]["layer_scores"]
    assert a["scores"]["IT"]["layer_scores"] != c["scores"]["IT"]["layer_scores"]


def test_a_user_module_is_read_at_its_stages(user_net, cache):
    model, name = resolve_model(user_net)
    layers = candidate_layers(model, name)
    # a plain sequence: its nonlinearity and pooling outputs, the stage before the classifier reads behaviour
    assert layers["V4"] == ["1", "2", "4", "5", "7", "8"] and layers["behavior"] == ["9"]
    assert layer_shapes(model, ["2", "8"], 32) == {"2": (8, 16, 16), "8": (16, 1, 1)}
    result = score_own_model(user_net, preset="tiny", cache=cache, benchmarks=["V4", "IT", "behavior"])
    assert list(result["scores"]["IT"]["layer_scores"]) == layers["IT"]
    assert math.isfinite(result["scores"]["behavior"]["value"]) and result["depth"] == 4
    chosen = score_own_model(user_net, preset="tiny", cache=cache, benchmarks=["IT"], layers=["5", "8"])
    assert list(chosen["scores"]["IT"]["layer_scores"]) == ["5", "8"]


def test_weights_of_another_architecture_are_refused_naming_the_keys(user_net, tmp_path, capsys):
    torch.save(nn.Linear(3, 4).state_dict(), tmp_path / "wrong.pt")
    code = cli.main(["score-model", user_net, "--weights", str(tmp_path / "wrong.pt"), "--preset", "tiny",
                     "--results-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert "wrong.pt do not fit Sequential" in err and "missing key(s) (0.bias, 0.weight" in err
    assert "unexpected key(s) (bias, weight)" in err
    assert not list((tmp_path / "r").glob("*"))  # nothing scored, nothing written (the folder was only checked)
    # the right weights load, and change the scores
    model, _ = resolve_model(user_net)
    torch.save(model.state_dict(), tmp_path / "right.pt")
    loaded, _ = resolve_model(user_net, weights=tmp_path / "right.pt")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))


@pytest.mark.parametrize("spec, message", [
    ("torchvision:resnet19", "torchvision has no model 'resnet19' (did you mean torchvision:resnet18"),
    ("no_such_package.models:build", "cannot import 'no_such_package.models'"),
    ("resnet", "is not a known name: write torchvision:NAME"),
])
def test_specs_that_name_nothing_get_one_line(spec, message, tmp_path, capsys):
    assert cli.main(["score-model", spec, "--results-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_unknown_layers_are_named():
    model, name = resolve_model("torchvision:resnet18")
    with pytest.raises(ModelSpecError, match=r"layers \['layer9'\] are not modules of torchvision:resnet18"):
        candidate_layers(model, name, layers=["layer1", "layer9"])


def test_scoring_is_refused_before_extraction_above_the_free_memory(user_net, tmp_path, monkeypatch, capsys):
    import cornet_repro.own_model as own

    monkeypatch.setattr(own, "available_memory", lambda: 10 * 1024 ** 2)  # 10 MiB free
    extracted = []
    monkeypatch.setattr("cornet_repro.activations.extract_activations", lambda *a, **k: extracted.append(1))
    code = cli.main(["score-model", user_net, "--preset", "tiny", "--quiet", "--results-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and not extracted and not list((tmp_path / "r").glob("*"))
    assert err[0].startswith("memory estimate")  # printed before extraction
    assert err[-1].startswith("error: memory estimate") and "would not fit. Use fewer layers" in err[-1]
    assert "turn PCA on (pca_components=1000)" in err[-1]


def test_the_estimate_grows_with_images_layers_and_shrinks_with_pca():
    model, name = resolve_model("torchvision:resnet18")
    layers = candidate_layers(model, name)
    base = estimate_memory(model, layers, n_images=500, image_size=64, batch_size=32)
    assert base.details["n_features"] == sum(
        math.prod(s) for s in layer_shapes(model, layers["V4"], 64).values())
    more = estimate_memory(model, layers, n_images=1000, image_size=64, batch_size=32)
    assert more.parts["features"] > 1.9 * base.parts["features"]
    pca = estimate_memory(model, layers, n_images=1000, image_size=64, batch_size=32, pca_components=100,
                          n_pca_images=200)
    assert pca.parts["features"] < more.parts["features"] and pca.parts["pca"] > 0
    few = estimate_memory(model, {**layers, "V4": ["layer4"], "IT": ["layer4"]}, n_images=500, image_size=64,
                          batch_size=32)
    assert few.parts["features"] < base.parts["features"] and few.parts["layer_search"] == 0


@pytest.mark.slow
def test_the_estimate_is_within_2x_of_the_measured_peak(tmp_path, cache):
    """In a fresh process: estimate, then score resnet18 at 64 px on the small simulated data
    (576 images, 5 candidate layers), and read the process's peak resident memory (VmHWM)."""
    script = textwrap.dedent(f'''
        import json, torch
        torch.set_num_threads(1)
        from cornet_repro.own_model import score_own_model
        from cornet_repro.data.brain import BrainData
        from cornet_repro.presets import get_preset
        BrainData.simulated(get_preset("small").simulated, cache={str(cache)!r})  # generated before measuring
        result = score_own_model("torchvision:resnet18", preset="small", cache={str(cache)!r},
                                 benchmarks=["V4", "IT"])
        peak = [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
        print(json.dumps({{"estimate": result["memory"]["estimate_bytes"], "peak": peak}}))
    ''')
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    ratio = measured["estimate"] / measured["peak"]
    print(f"estimate {measured['estimate'] / 2**20:.0f} MiB, peak {measured['peak'] / 2**20:.0f} MiB, ratio {ratio:.2f}")
    assert 0.5 <= ratio <= 2.0
