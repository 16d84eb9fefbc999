"""The package's layout: no import circle, and data flows one way (no module imports from a layer above it).

The layers are CONTRIBUTING.md's table, top to bottom; a module may import from its own layer and
the layers before it. Imports inside functions count: a lazy import is still a dependency.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cornet_repro.module_deps import import_cycles, module_imports, package_modules

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "cornet_repro"

#: module-name prefixes per layer, in the order data flows (CONTRIBUTING.md, "Where things live")
LAYERS: list[tuple[str, ...]] = [
    ("cornet_repro._version", "cornet_repro.protocol", "cornet_repro.files", "cornet_repro.prose"),
    ("cornet_repro.cache", "cornet_repro.assemblies"),
    ("cornet_repro.models", "cornet_repro.metrics"),
    ("cornet_repro.data",),
    ("cornet_repro.activations",),
    ("cornet_repro.scoring",),
    ("cornet_repro.presets",),
    ("cornet_repro.runs", "cornet_repro.training_data"),
    ("cornet_repro.train",),
    ("cornet_repro.results",),
    ("cornet_repro.pipeline", "cornet_repro.own_model", "cornet_repro.sweeps"),
    ("cornet_repro.stats", "cornet_repro.selections", "cornet_repro.claims", "cornet_repro.reports"),
    ("cornet_repro.figures",),
    ("cornet_repro.module_deps", "cornet_repro.notebook_parameters", "cornet_repro.notebook_runner",
     "cornet_repro.sphinx_ext"),
    ("cornet_repro.cli", "cornet_repro.__main__"),
    # the package itself last: its score_model() is the public face of cornet_repro.own_model
    ("cornet_repro",),
]


def layer(module: str) -> int:
    """The layer of a module: the longest prefix that names it (the package name only itself)."""
    best, rank = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or (module.startswith(prefix + ".") and prefix != "cornet_repro")
            if inside and len(prefix) > best:
                best, rank = len(prefix), i
    if rank is None:
        raise KeyError(module)
    return rank


def test_no_import_circle():
    assert import_cycles(PACKAGE_DIR, "cornet_repro") == []


def test_every_module_has_a_layer():
    unplaced = []
    for name in package_modules(PACKAGE_DIR):
        try:
            layer(name)
        except KeyError:
            unplaced.append(name)
    assert not unplaced, f"add these modules to LAYERS (and to CONTRIBUTING.md's table): {unplaced}"


def test_no_module_imports_from_a_layer_above_it():
    upward = []
    for name, path in package_modules(PACKAGE_DIR).items():
        ancestors = {name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)}
        for imported in module_imports(path, name, "cornet_repro") - ancestors - {name}:
            if layer(imported) > layer(name):
                upward.append(f"{name} (layer {layer(name)}) imports {imported} (layer {layer(imported)})")
    assert not upward, "\n".join(upward)


def test_the_layer_check_can_fail(tmp_path):
    """A model module that reached up into scoring would be reported."""
    bad = tmp_path / "cornet_repro" / "models"
    bad.mkdir(parents=True)
    (bad / "leak.py").write_text("def f():\n    from ..scoring import score_model\n")
    imported = module_imports(bad / "leak.py", "cornet_repro.models.leak", "cornet_repro")
    assert "cornet_repro.scoring" in imported and layer("cornet_repro.scoring") > layer("cornet_repro.models.leak")


@pytest.mark.parametrize("old", ["cornet_repro/models/zoo.py", "cornet_repro/models/checkpoints.py",
                                 "cornet_repro/data/simulated.py"])
def test_moved_modules_are_gone(old):
    assert not (PACKAGE_DIR.parent / old).exists()
