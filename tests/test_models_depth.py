"""The paper's depth (conv + FC layers on the longest feedforward path, recurrence folded)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cornet_repro.data.published import load_scores
from cornet_repro.models import depth, get_model, layer_graph
from cornet_repro.models.registry import PUBLISHED_NAMES
from cornet_repro.reports import depth_table

# The Depth column of the paper's data for these models, which the computation must reproduce.
MUST_MATCH = {
    "cornet_s": 15, "alexnet": 8, "vgg16": 16, "vgg19": 19, "resnet18": 18, "resnet34": 34,
    "resnet50": 50, "resnet101": 101, "resnet152": 152, "densenet121": 121, "densenet169": 169,
    "densenet201": 201,
}
# Computed for models whose published depth is missing or uses another count (see notebooks/models.ipynb, the book's Models page).
OTHERS = {"squeezenet1_0": 18, "squeezenet1_1": 18, "mobilenet_v2": 53, "inception_v3": 48,
          "cornet_z": 5, "cornet_rt": 9, "cornet_r": 9}


def meta_model(name: str, **config) -> nn.Module:
    with torch.device("meta"):  # nothing is allocated or computed
        return get_model(name, **config)


@pytest.mark.parametrize("name, expected", [*MUST_MATCH.items(), *OTHERS.items()])
def test_depth(name: str, expected: int) -> None:
    assert depth(meta_model(name)) == expected


def test_recurrence_is_folded() -> None:
    # Unrolling more steps adds no depth; the structure of one step does.
    for times in [(1, 1, 1), (10, 10, 10)]:
        assert depth(meta_model("cornet_s", times=times)) == 15
    assert depth(meta_model("cornet_rt", times=4)) == depth(meta_model("cornet_rt", times=7)) == 9
    # With fewer steps than areas the image never reaches IT in CORnet-RT: the longest path is
    # then V1's two convolutions (IT.conv1 -> decoder, fed by a zero state, is as long).
    assert depth(meta_model("cornet_rt", times=1)) == 2
    graph = layer_graph(meta_model("cornet_s"))
    # conv3 -> conv1 and skip -> conv1 only exist through time (t >= 1): not feedforward edges.
    assert ("V2.conv3", "V2.conv1") not in graph.edges and ("V2.skip", "V2.conv1") not in graph.edges
    assert {("V2.conv_input", "V2.conv1"), ("V2.conv3", "V4.conv_input"), ("V2.skip", "V4.conv_input")} <= set(graph.edges)


def test_functional_layers_and_modes() -> None:
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Conv2d(3, 4, 3)
            self.b = nn.Conv2d(4, 4, 3)
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            x = F.conv2d(x, self.a.weight, self.a.bias)  # functional call on a module's weight
            x = x + F.relu(self.b(x.clone().relu()[..., 1:-1, 1:-1]).mean()) if self.training else x
            return self.fc(x.mean((2, 3)))

    model = Functional().train()
    assert depth(model) == 2  # traced in eval mode: the training-only branch is left out
    assert model.training  # mode restored
    assert depth(nn.Sequential(nn.ReLU())) == 0


def test_depth_table_against_published_depths() -> None:
    # The Depth column of the authors' data.csv, as the package ships it (tests/test_published.py
    # checks that transcription against the authors' file), passed explicitly by published name.
    scores = load_scores()
    published = dict(zip(scores["model"], scores["depth"]))
    table = depth_table(published=published).set_index("name")
    assert set(table.index) == set(PUBLISHED_NAMES)
    for name, expected in MUST_MATCH.items():
        assert table.loc[name, "depth"] == table.loc[name, "published_depth"] == expected, name
        assert table.loc[name, "match"]
    # Reported side by side where the published numbers differ or are missing.
    assert table.loc["mobilenet_v2", "published_depth"] == 151 and not table.loc["mobilenet_v2", "match"]
    assert table.loc["inception_v3", ["published_depth", "match"]].isna().all()
    print(table.to_string())


def test_depth_table_uses_package_published_data() -> None:
    table = depth_table(["cornet_s", "alexnet", "inception_v3"]).set_index("name")
    assert table["published_depth"].tolist()[:2] == [15, 8] and table.loc["inception_v3", "depth"] == 48


def test_depth_table_with_mapping() -> None:
    table = depth_table(["cornet_s", "resnet18"], published={"CORnet-S": 15, "ResNet-18": 17})
    assert table["match"].tolist() == [True, False]
    assert list(table.columns) == ["name", "published_name", "depth", "published_depth", "match"]
