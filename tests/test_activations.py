"""Activations: hooks, batching, PCA (exact and sketched), time bins, nested layer selection."""

import numpy as np
import pytest
import torch
from torch import nn

from cornet_repro.activations import (LayerPCA, extract_activations, extract_time_bins, imagenet_pca_images,
                                      preprocess, select_layer)
from cornet_repro.assemblies import neural_assembly, select
from cornet_repro.metrics.synthetic import linear_population


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, stride=2)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.pool(self.relu(self.conv(x)))
        return self.fc(x.flatten(1))


def _images(n, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8) for _ in range(n)]


def test_hooks_match_a_manual_forward():
    model, images = Tiny(), _images(5)
    a = extract_activations(model, images, ["conv", "fc"], batch_size=2, image_size=32, progress=False)
    x = torch.stack([preprocess(im, 32) for im in images])
    with torch.no_grad():
        conv = model.conv(x)
        expected_fc = model(x)
    assert a.dims == ("presentation", "neuroid") and a.sizes["presentation"] == 5
    # the conv output is copied before the in-place ReLU changes it
    np.testing.assert_allclose(select(a, layer="conv").values, conv.flatten(1).numpy(), atol=1e-5)
    np.testing.assert_allclose(select(a, layer="fc").values, expected_fc.numpy(), atol=1e-5)


def test_spatial_average_and_errors():
    model, images = Tiny(), _images(3)
    a = extract_activations(model, images, ["conv"], spatial_average=["conv"], image_size=32, progress=False)
    assert a.sizes["neuroid"] == 4
    with pytest.raises(KeyError, match="no module 'nope'.*conv"):
        extract_activations(model, images, ["nope"], progress=False)
    with pytest.raises(ValueError, match="pca_stimuli"):
        extract_activations(model, images, ["conv"], pca=2, progress=False)


def test_pca_matches_sklearn_on_the_fitting_images():
    from sklearn.decomposition import PCA

    model = Tiny()
    fit, images = _images(12, seed=1), _images(4, seed=2)
    pca = LayerPCA(n_components=6)
    a = extract_activations(model, images, ["conv", "fc"], pca=pca, pca_stimuli=fit, image_size=32,
                            progress=False)
    assert select(a, layer="conv").sizes["neuroid"] == 6
    assert select(a, layer="fc").sizes["neuroid"] == 5  # ≤ n_components: passed through, as Brain-Score
    raw_fit = extract_activations(model, fit, ["conv"], image_size=32, progress=False).values
    raw = extract_activations(model, images, ["conv"], image_size=32, progress=False).values
    expected = PCA(n_components=6, random_state=0).fit(raw_fit).transform(raw)
    np.testing.assert_allclose(np.abs(select(a, layer="conv").values), np.abs(expected), atol=1e-3)


def test_sketched_pca_preserves_geometry():
    rng = np.random.default_rng(0)
    # ten strong latent directions plus weak noise: a well-determined principal subspace
    X = rng.normal(size=(60, 10)) * np.linspace(5, 2, 10) @ rng.normal(size=(10, 5000)) \
        + 0.3 * rng.normal(size=(60, 5000))
    exact = LayerPCA(n_components=10, exact_max_features=10**6)
    sketched = LayerPCA(n_components=10, exact_max_features=1000, sketch_dim=2000)
    for p in (exact, sketched):
        p.collect("l", X)
        p.fit_collected()
    a, b = exact.transform("l", X), sketched.transform("l", X)
    assert b.shape == (60, 10)
    # same Gram matrix of the reduced features, up to the sketch's error
    ga, gb = a @ a.T, b @ b.T
    assert np.linalg.norm(ga - gb) / np.linalg.norm(ga) < 0.1  # ≈ 1/sqrt(k) sketch error


class Recurrent(nn.Module):
    """A stand-in with CORnet's API: forward_time_steps → (logits, {area: [per step]})."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, stride=4)

    def forward_time_steps(self, x):
        h = self.conv(x)
        steps = [h, 2 * h]
        return h.mean((1, 2, 3)), {"IT": steps}

    def forward(self, x):
        return self.forward_time_steps(x)[0]


def test_time_bins_follow_the_time_mapping():
    bins = [(70, 80), (150, 160), (160, 170), (240, 250)]
    a = extract_time_bins(Recurrent(), _images(3), "IT", bins, image_size=32, progress=False)
    assert a.dims == ("presentation", "neuroid", "time_bin")
    # Brain-Score's CORnet-S IT mapping (100, 100, 2), nearest start: t0 for 70..150, t1 from 160
    assert list(a["time_step"].values) == [0, 0, 1, 1]
    np.testing.assert_allclose(a.isel(time_bin=2).values, 2 * a.isel(time_bin=0).values, atol=1e-5)


def test_cornet_s_time_bins_are_its_it_steps():
    from cornet_repro.models import get_model

    torch.manual_seed(0)
    model = get_model("cornet_s", width=0.125, image_size=64).eval()
    images = _images(2, size=64)
    a = extract_time_bins(model, images, "IT", [(70, 80), (200, 210)], image_size=64, progress=False)
    assert a.sizes["time_bin"] == 2 and a.sizes["presentation"] == 2
    # IT steps start at 100 and 200 ms (Brain-Score's mapping): 70-80 ms is t0, 200-210 ms t1
    assert list(a["time_step"].values) == [0, 1]
    x = torch.stack([preprocess(im, 64) for im in images])
    with torch.no_grad():
        _, outputs = model.forward_time_steps(x)
    for t in (0, 1):
        np.testing.assert_allclose(a.isel(time_bin=t).values, outputs["IT"][t].flatten(1).numpy(), atol=1e-5)
    assert not np.allclose(a.isel(time_bin=0).values, a.isel(time_bin=1).values)


def test_torchvision_model_layers():
    import torchvision  # a dependency of the package: a broken install must fail here, not skip

    model = torchvision.models.resnet18(weights=None)
    a = extract_activations(model, _images(2, size=64), ["layer4", "avgpool"], image_size=64, progress=False)
    assert select(a, layer="avgpool").sizes["neuroid"] == 512


def test_nested_layer_selection_picks_the_informative_layer():
    source, target = linear_population(n_stimuli=400, n_features=10, n_neuroids=10, noise_sd=0.5)
    noise = np.random.default_rng(99).normal(size=source.shape)
    ids = source["stimulus_id"].values
    layers = {
        "noise": neural_assembly(noise, stimulus_id=ids, neuroid_id=np.arange(10)),
        "good": source,
        "half": neural_assembly(source.values + 2 * noise, stimulus_id=ids, neuroid_id=np.arange(10)),
    }
    result = select_layer(layers, target, n_splits=3, inner_splits=2, n_components=10)
    assert result.best_layer == "good" and set(result.chosen) == {"good"}
    assert result.score.value > 0.8


def test_imagenet_pca_images(tmp_path):
    for c in range(3):
        d = tmp_path / f"n{c:08d}"
        d.mkdir()
        for k in range(4):
            (d / f"img{k}.JPEG").write_bytes(b"x")
    picks = imagenet_pca_images(tmp_path, n_images=5)
    assert [p.parent.name[-1] + p.name[3] for p in picks] == ["00", "10", "20", "01", "11"]
