"""The static import graph: which modules and data files of a package a piece of code can use."""

import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cornet_repro import module_deps as md


def make_package(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (path relative to ``root`` → source) and return ``root / "pkg"``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root / "pkg"


@pytest.fixture
def pkg(tmp_path) -> Path:
    return make_package(tmp_path, {
        "pkg/__init__.py": '"""Top."""\n',
        "pkg/top.py": """
            import os
            import pkgother.thing
            from .models import get_model
            from . import stats
            """,
        "pkg/stats.py": "import numpy\n",
        "pkg/lazy.py": "X = 1\n",
        "pkg/models/__init__.py": "from .zoo import get_model\n",
        "pkg/models/zoo.py": """
            def get_model():
                from ..lazy import X  # lazy: counts
                return X
            """,
        "pkg/sub/__init__.py": "",
        "pkg/sub/x.py": "",
        "pkg/sub/deep/__init__.py": "",
        "pkg/sub/deep/m.py": """
            from .. import x
            from ...data import brainio
            from ... import stats as s, lazy
            """,
        "pkg/data/__init__.py": "",
        "pkg/data/brainio.py": "",
        "pkg/data/published.py": "",
        "pkg/data/published/scores.csv": "a,b\n",
        "pkg/data/published/raw/old.csv": "c\n",
        "pkg/data/README.md": "data\n",
        "pkg/assets/logo.txt": "unowned\n",
        "pkg/notes.md": "owned by the top package\n",
        "pkg/__pycache__/top.cpython-311.pyc": "",
        "pkg/__pycache__/stray.py": "",
    })


def test_relative_imports_resolve_at_every_level(pkg):
    assert md.module_imports(pkg / "sub/deep/m.py", "pkg.sub.deep.m", "pkg") == {
        "pkg", "pkg.sub", "pkg.sub.x", "pkg.data", "pkg.data.brainio", "pkg.stats", "pkg.lazy"}
    # from .models import get_model: get_model is a name, not a module, so only the package
    assert md.module_imports(pkg / "top.py", "pkg.top", "pkg") == {"pkg", "pkg.models", "pkg.stats"}
    # in a package __init__, "." is the package itself
    assert md.module_imports(pkg / "models/__init__.py", "pkg.models", "pkg") == {
        "pkg", "pkg.models", "pkg.models.zoo"}


def test_lazy_absolute_parent_string_star_and_type_checking_imports_count(tmp_path):
    pkg = make_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a/__init__.py": "",
        "pkg/a/b/__init__.py": "",
        "pkg/a/b/c.py": "",
        "pkg/a/b/d.py": "",
        "pkg/a/b/e/__init__.py": "",
        "pkg/f.py": "",
        "pkg/g.py": "",
        "pkg/h.py": "",
        "pkg/user.py": """
            from typing import TYPE_CHECKING
            import importlib
            if TYPE_CHECKING:
                from pkg import h
            def later():
                import pkg.a.b.c as c
                return importlib.import_module("pkg.g"), c
            class K:
                def m(self):
                    from pkg import f
            """,
        "pkg/star.py": "from pkg.a.b import *\n",
    })
    assert md.module_imports(pkg / "user.py", "pkg.user", "pkg") == {
        "pkg", "pkg.a", "pkg.a.b", "pkg.a.b.c", "pkg.f", "pkg.g", "pkg.h"}
    # a star import may import any submodule (__all__ can name them)
    assert md.module_imports(pkg / "star.py", "pkg.star", "pkg") == {
        "pkg", "pkg.a", "pkg.a.b", "pkg.a.b.c", "pkg.a.b.d", "pkg.a.b.e"}


def test_a_file_that_does_not_parse_is_read_conservatively(tmp_path):
    pkg = make_package(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "", "pkg/b.py": "",
                                  "pkg/broken.py": "from . import a\nimport pkg.b\ndef oops(:\n"})
    assert md.module_imports(pkg / "broken.py", "pkg.broken", "pkg") == {"pkg", "pkg.a", "pkg.b"}


def test_package_modules_map_names_to_files(pkg):
    modules = md.package_modules(pkg)
    assert modules["pkg"] == pkg / "__init__.py"
    assert modules["pkg.models"] == pkg / "models" / "__init__.py"
    assert modules["pkg.sub.deep.m"] == pkg / "sub" / "deep" / "m.py"
    assert not any("pycache" in name or "stray" in name for name in modules)
    assert len(modules) == 13


def test_dependencies_are_the_transitive_closure_with_parents(pkg):
    # top → models → zoo → (lazily) lazy; top → stats; every parent package
    assert md.dependencies(["pkg.top"], pkg) == {"pkg", "pkg.top", "pkg.models", "pkg.models.zoo",
                                                 "pkg.lazy", "pkg.stats"}
    assert md.dependencies(["pkg.sub.x"], pkg) == {"pkg", "pkg.sub", "pkg.sub.x"}
    assert md.dependencies(["pkg.sub.deep.m"], pkg) == {
        "pkg", "pkg.sub", "pkg.sub.deep", "pkg.sub.deep.m", "pkg.sub.x", "pkg.data", "pkg.data.brainio",
        "pkg.stats", "pkg.lazy"}
    assert md.dependencies(["pkg.models.get_model", "os"], pkg) == {"pkg", "pkg.models", "pkg.models.zoo",
                                                                    "pkg.lazy"}


def test_notebook_imports_skip_magics_and_markdown(tmp_path, pkg):
    nb = new_notebook(cells=[
        new_markdown_cell("from pkg import sub  # not code"),
        new_code_cell("%matplotlib inline\nimport numpy as np\nfrom pkg.models import get_model  # not pkg.sub.deep.m"),
        new_code_cell("!python -m pkg.data.brainio --help"),
        new_code_cell("%%time\ndef f():\n    from pkg import stats\n"),
        new_code_cell("files = !ls\nfrom pkg.sub import x"),  # does not parse even without the magic lines
    ])
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    found = md.notebook_imports(path, "pkg", pkg)
    assert found == {"pkg", "pkg.models", "pkg.data", "pkg.data.brainio", "pkg.stats", "pkg.sub", "pkg.sub.x"}
    # without the package directory, every "from X import n" keeps X.n (dependencies() drops non-modules)
    assert md.notebook_imports(path, "pkg") == found | {"pkg.models.get_model"}


def test_data_files_belong_to_their_namesake_module_or_package(pkg):
    assert md.data_files("pkg.data.published", pkg) == [pkg / "data/published/raw/old.csv",
                                                        pkg / "data/published/scores.csv"]
    assert md.data_files("pkg.data", pkg) == [pkg / "data/README.md"]
    assert md.data_files("pkg", pkg) == [pkg / "notes.md"]
    assert md.data_files("pkg.data.brainio", pkg) == []
    assert md.unowned_data_files(pkg) == [pkg / "assets/logo.txt"]  # no assets.py, no __init__.py
    assert md.dependency_files(["pkg.data.published"], pkg) == sorted(
        pkg / f for f in ["__init__.py", "notes.md", "data/__init__.py", "data/README.md", "data/published.py",
                          "data/published/raw/old.csv", "data/published/scores.csv", "assets/logo.txt"])


def test_a_module_created_later_joins_the_files_of_its_importers(tmp_path):
    pkg = make_package(tmp_path, {"pkg/__init__.py": "",
                                  "pkg/a.py": "try:\n    from .optional import x\nexcept ImportError:\n    x = None\n"
                                              "try:\n    from . import maybe\nexcept ImportError:\n    maybe = None\n"})
    assert md.dependency_files(["pkg.a"], pkg) == [pkg / "__init__.py", pkg / "a.py"]
    (pkg / "optional.py").write_text("x = 1\n")
    (pkg / "maybe").mkdir()
    (pkg / "maybe" / "__init__.py").write_text("")
    assert md.dependency_files(["pkg.a"], pkg) == [pkg / "__init__.py", pkg / "a.py", pkg / "maybe" / "__init__.py",
                                                   pkg / "optional.py"]


def test_import_cycles_finds_real_circles_only(tmp_path):
    circle = make_package(tmp_path / "one", {
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import g\ndef f():\n    return g()\n",
        "pkg/b.py": "def g():\n    from . import a  # lazy, but still a circle\n    return a\n",
        "pkg/c.py": "from .d import y\n",
        "pkg/d.py": "from . import e\ny = 1\n",
        "pkg/e.py": "import pkg.c\n",
        "pkg/ok.py": "from . import a\n",
    })
    assert md.import_cycles(circle, "pkg") == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d", "pkg.e"]]
    # A package __init__ re-exporting from its submodules, and submodules importing siblings
    # through the package (which executes that __init__): no circle.
    reexport = make_package(tmp_path / "two", {
        "pkg/__init__.py": "from .models import get_model\nfrom .stats import mean\n",
        "pkg/stats.py": "def mean(x):\n    return sum(x) / len(x)\n",
        "pkg/models/__init__.py": "from .zoo import get_model\n",
        "pkg/models/zoo.py": """
            from . import cornet
            from .. import stats
            from ..stats import mean
            import pkg.models.cornet
            """,
        "pkg/models/cornet.py": "from pkg import stats\n",
        "pkg/types.py": """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:  # never executed: no circle
                from .models import typed
            """,
        "pkg/models/typed.py": "import pkg.types\n",
    })
    assert md.import_cycles(reexport, "pkg") == []
    # ...but taking a *name* from the package __init__ that imports you is one (the partially
    # initialized module error waiting to happen).
    (reexport / "__init__.py").write_text("from .helper import h\nfrom .stats import mean\n")
    (reexport / "helper.py").write_text("from . import mean\ndef h():\n    return mean\n")
    assert md.import_cycles(reexport, "pkg") == [["pkg", "pkg.helper"]]
    with pytest.raises(ValueError, match="not 'other'"):
        md.import_cycles(reexport, "other")


def test_the_real_package_parses_and_its_notebooks_import_it(tmp_path):
    package = Path(md.__file__).resolve().parent
    modules = md.package_modules(package)
    assert modules["cornet_repro.module_deps"] == package / "module_deps.py"
    # the runner imports files.py: its closure holds both, and the package __init__
    assert {"cornet_repro", "cornet_repro.notebook_runner", "cornet_repro.files"} <= md.dependencies(
        ["cornet_repro.notebook_runner"], package)
    assert isinstance(md.import_cycles(package, "cornet_repro"), list)
