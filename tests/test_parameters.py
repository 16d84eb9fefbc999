"""Parameters a reader can trust: each notebook parameter's type, comment and range; values checked
before any notebook runs, with one line per mistake; the executed copy showing the parameters in
force once; a bad parameter stopping `jupyter-book build` without a traceback; launch buttons and
links made from the one repository URL; an environment Binder can build."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cornet_repro import cli
from cornet_repro import notebook_parameters as npar
from cornet_repro import notebook_runner as nr
from cornet_repro import sphinx_ext

REPO = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
NOTEBOOKS = {p.stem: p for p in sorted((REPO / "notebooks").glob("*.ipynb"))}

CELL = '''# ImageNet top-1 threshold (the paper: .70; range: 0..1)
threshold = 0.70
# Models labelled
label_models = ["AlexNet", "VGG"]
show = True  # draw it
# Bootstrap resamples (range: 100..)
n_resamples = 2000
# A results folder (None: published only)
results_dir = None  # type: str | None
# Candidate layers
layers = None  # type: list[str] | None
# The brain data (one of: simulated, real, real-public)
data = "simulated"
size: int = 64
'''


def write_notebook(path: Path, params: str, body: str) -> None:
    nb = new_notebook(cells=[new_markdown_cell("# A page"), new_code_cell(params, metadata={"tags": ["parameters"]}),
                             new_code_cell(body)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def cell_params() -> dict[str, npar.Parameter]:
    return npar.parse_parameters(CELL)


def test_a_parameters_cell_gives_each_parameter_its_type_comment_and_range(cell_params):
    p = cell_params
    assert list(p) == ["threshold", "label_models", "show", "n_resamples", "results_dir", "layers", "data", "size"]
    assert p["threshold"].kind == npar.Kind("float") and (p["threshold"].low, p["threshold"].high) == (0, 1)
    assert p["threshold"].comment == "ImageNet top-1 threshold (the paper: .70; range: 0..1)"
    assert p["label_models"].kind == npar.Kind("list", "str")
    assert p["show"].comment == "draw it" and p["show"].kind == npar.Kind("bool")
    assert (p["n_resamples"].low, p["n_resamples"].high) == (100, None)
    assert p["results_dir"].kind == npar.Kind("str", optional=True)
    assert p["results_dir"].comment == "A results folder (None: published only)"  # the type comment is not prose
    assert p["layers"].kind == npar.Kind("list", "str", optional=True)
    assert p["data"].choices == ("simulated", "real", "real-public")
    assert p["size"].kind == npar.Kind("int")
    assert p["threshold"].describe() == "a number from 0 to 1"
    assert p["n_resamples"].describe() == "a whole number of at least 100"


# (entry in book/parameters.yml, a piece of the one-line error; None: accepted)
STUDENT_MISTAKES = [
    ({"treshold": 0.6}, "unknown parameter 'treshold' (= 0.6); did you mean 'threshold'?"),
    ({"threshold": "high"}, "parameter threshold = 'high': a string, not a number; give a number from 0 to 1 "
                            "(e.g. threshold: 0.7)"),
    ({"threshold": "0.6"}, "threshold = '0.6': a number in quotes is a string"),
    ({"threshold": [0.6, 0.7]}, "threshold = [0.6, 0.7]: a list, not a number; give one value, a number from 0 to 1 "
                                "(e.g. threshold: 0.7), or to run the notebook once per value list them under "
                                "sweep: (sweep: {threshold: [0.6, 0.7]})"),
    ({"threshold": None}, "threshold = null: null is not allowed here"),
    ({"threshold": True}, "threshold = true: true/false, not a number"),
    ({"threshold": 1.5}, "threshold = 1.5: out of range; give a number from 0 to 1"),
    ({"threshold": 1}, None),  # an int where the default is a float
    ({"n_resamples": 2000.0}, "n_resamples = 2000.0: a number, not a whole number"),
    ({"n_resamples": 10}, "n_resamples = 10: out of range; give a whole number of at least 100"),
    ({"results_dir": None, "layers": None}, None),  # null where the type allows it
    ({"results_dir": "results/book", "layers": ["layer1", "layer2"]}, None),
    ({"results_dir": 3}, "results_dir = 3: a whole number, not a string"),
    ({"layers": "layer1"}, "layers = 'layer1': a string where a list is expected"),
    ({"label_models": ["AlexNet", 3]}, "label_models = ['AlexNet', 3]: 3 in the list is a whole number, not a string"),
    ({"data": "publc"}, "data = 'publc': not one of simulated, real, real-public"),
    ({"show": "yes please"}, "show = 'yes please': a string, not true or false"),
    ({"sweep": {"threshold": [0.6, 0.7]}}, None),
    ({"sweep": {"treshold": [0.6]}}, "sweep: unknown parameter 'treshold'; did you mean 'threshold'?"),
    ({"sweep": {"threshold": 0.6}}, "sweep: threshold = 0.6: not a non-empty list"),
    ({"sweep": {"threshold": [0.6, "high"]}}, "sweep: threshold value 'high': a string, not a number"),
    ({"sweep": [0.6, 0.7]}, "sweep = [0.6, 0.7]: not a mapping of parameter names to lists"),
    ({"threshold": 0.6, "sweep": {"threshold": [0.6]}}, "threshold is set both as a value (0.6) and in sweep"),
]


@pytest.mark.parametrize("entry, expected", STUDENT_MISTAKES, ids=[str(e) for e, _ in STUDENT_MISTAKES])
def test_the_mistakes_a_student_makes_get_one_line_naming_notebook_parameter_value_and_fix(cell_params, entry,
                                                                                            expected):
    errors = npar.check_entry("fig1", cell_params, entry)
    if expected is None:
        assert errors == []
        return
    assert len(errors) == 1 and "\n" not in errors[0], errors
    assert errors[0].startswith("book/parameters.yml: fig1: ") and expected in errors[0], errors[0]


def test_a_notebook_name_gets_did_you_mean_and_a_prefix_finds_its_notebook():
    with pytest.raises(npar.ParameterError) as info:
        npar.check_book({"fig1_brainscore_vs_imagnet": {}, "fig2": {}}, NOTEBOOKS)
    assert str(info.value).splitlines() == [
        "book/parameters.yml: no notebook named 'fig1_brainscore_vs_imagnet' in notebooks/; "
        "did you mean 'fig1_brainscore_vs_imagenet'?",
        "book/parameters.yml: no notebook named 'fig2' in notebooks/; did you mean 'fig2_generalization'?"]


def test_every_notebook_parameter_has_a_comment_a_type_and_a_default_it_accepts():
    for name, path in NOTEBOOKS.items():
        for param in npar.notebook_parameters(path).values():
            where = f"{name}.{param.name}"
            assert param.comment, f"{where} has no comment"
            assert param.kind.base != "any", f"{where} = None needs its type: '# type: str | None'"
            assert npar.problem(param, param.default) is None, f"{where}: the default breaks its own range"
    npar.check_book(nr.load_parameters(REPO), NOTEBOOKS)  # the book's own settings pass


def run_cell(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<cell>", "exec"), namespace)
    namespace.pop("__builtins__")
    namespace.pop("__annotations__", None)
    return namespace


def test_the_merged_cell_shows_each_parameter_once_with_its_comment_and_sets_what_papermill_set():
    from papermill.parameterize import parameterize_notebook

    values = {"threshold": 0.65, "label_models": ["VGG"], "results_dir": "results/book", "size": 32}
    nb = new_notebook(cells=[new_code_cell(CELL, metadata={"tags": ["parameters"]}),
                             new_code_cell("pass", metadata={"tags": []})],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                "papermill": {}})
    papermilled = parameterize_notebook(nb, values)  # what papermill runs: defaults, then an injected cell
    ran = run_cell(papermilled.cells[0].source + "\n" + papermilled.cells[1].source)
    assert "injected-parameters" in papermilled.cells[1].metadata["tags"]

    assert nr.show_parameters_in_force(papermilled, values, "book/parameters.yml")
    assert len(papermilled.cells) == 2 and "injected-parameters" not in json.dumps(papermilled.cells[1].metadata)
    shown = papermilled.cells[0].source
    assert run_cell(shown) == ran  # the cell shown sets exactly what ran
    lines = shown.splitlines()
    assert lines[0].startswith("# The parameters in force on this page. Marked ↳: set by book/parameters.yml")
    assert "threshold = 0.65  # ↳ set by book/parameters.yml (default: 0.70)" in lines
    assert 'label_models = ["VGG"]  # ↳ set by book/parameters.yml (default: ["AlexNet", "VGG"])' in lines
    # a line with its own end-of-line comment keeps it, the mark goes above
    i = lines.index('results_dir = "results/book"  # type: str | None')
    assert lines[i - 1] == "# ↳ set by book/parameters.yml (default: None)"
    assert "size: int = 32  # ↳ set by book/parameters.yml (default: 64)" in lines
    # every comment of the template is still there, and the parameters not set are untouched
    for line in CELL.splitlines():
        if line.startswith("#") or line.startswith(("show =", "n_resamples =", "data =", "layers =")):
            assert line in lines, line
    assert sum("↳ set by" in line for line in lines) == len(values)


@pytest.fixture
def tiny_book(tmp_path, monkeypatch) -> Path:
    package = tmp_path / "frozen" / "cornet_repro"  # a frozen copy: edits elsewhere cannot change the keys
    import shutil

    shutil.copytree(Path(nr.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    real_run_book = nr.run_book
    monkeypatch.setattr(nr, "run_book", lambda *a, **k: real_run_book(*a, package_dir=package, **k))
    write_notebook(tmp_path / "notebooks" / "first.ipynb", "# The output (an output)\nmarker_out = 'ran.txt'",
                   "from pathlib import Path\nPath(marker_out).write_text('ran')")
    write_notebook(tmp_path / "notebooks" / "second.ipynb", "# How many (range: 1..)\nn = 1\n# Scale\nscale = 1.0",
                   "print('second', n * scale)")
    (tmp_path / "book").mkdir()
    return tmp_path


def test_run_book_checks_every_entry_before_running_any_notebook(tiny_book):
    (tiny_book / "book" / "parameters.yml").write_text("first: {}\nsecond:\n  n: 0\n  scael: 2\n")
    with pytest.raises(nr.ParameterError) as info:
        nr.run_book(tiny_book, log=lambda m: None)
    assert str(info.value).splitlines() == [
        "book/parameters.yml: second: parameter n = 0: out of range; give a whole number of at least 1 (e.g. n: 1)",
        "book/parameters.yml: second: unknown parameter 'scael' (= 2); did you mean 'scale'?"]
    assert not (tiny_book / "ran.txt").exists()  # the first notebook, fine itself, did not run either
    assert not (tiny_book / nr.EXECUTED_DIR).exists()


def test_the_executed_copy_shows_the_parameters_in_force_once_also_when_it_comes_from_the_cache(tiny_book):
    (tiny_book / "book" / "parameters.yml").write_text("second:\n  n: 3\n")
    assert [r.name for r in nr.run_book(tiny_book, log=lambda m: None) if r.executed] == ["second", "first"]
    executed = tiny_book / nr.EXECUTED_DIR / "second.ipynb"
    nb = nbformat.read(executed, as_version=4)
    assert [c.metadata.get("tags", []) for c in nb.cells] == [[], ["parameters"], []]
    assert nb.cells[1].source.splitlines()[2:] == ["# How many (range: 1..)",
                                                   "n = 3  # ↳ set by book/parameters.yml (default: 1)",
                                                   "# Scale", "scale = 1.0"]
    assert "second 3.0" in nb.cells[2].outputs[0].text
    # A copy cached before the runner merged the cells (as papermill writes it) is shown merged
    # at the next build, without executing again.
    template = nbformat.read(tiny_book / "notebooks" / "second.ipynb", as_version=4)
    nb.cells[1].source = template.cells[1].source
    nb.cells.insert(2, new_code_cell("# Parameters\nn = 3\n", metadata={"tags": ["injected-parameters"]}))
    nbformat.write(nb, executed)
    assert [r.name for r in nr.run_book(tiny_book, log=lambda m: None) if r.executed] == []
    again = nbformat.read(executed, as_version=4)
    assert len(again.cells) == 3 and "n = 3  # ↳ set by book/parameters.yml (default: 1)" in again.cells[1].source


@pytest.mark.parametrize("value, expected", [
    ("high", "parameter threshold = 'high': a string, not a number; give a number from 0 to 1 (e.g. -p threshold 0.7)"),
    ("[0.6, 0.7]", "parameter threshold = [0.6, 0.7]: a list, not a number; give one value"),
    ("null", "parameter threshold = null: null is not allowed here"),
    ("[0.6", "parameter threshold = '[0.6': not valid YAML"),
])
def test_figure_rejects_a_bad_value_in_one_line_before_any_work(tmp_path, capsys, value, expected):
    out = tmp_path / "figs"
    code = cli.main(["figure", "fig1", "-p", "threshold", value, "--out", str(out), "--root", str(REPO)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("error: cornet-repro figure -p: ") and expected in err, err
    assert not out.exists()


def mini_book(root: Path, parameters: str) -> Path:
    """A book with the repository's _config.yml, an intro using the substitutions, and one notebook page."""
    (root / "book").mkdir(parents=True)
    (root / "_config.yml").write_text((REPO / "_config.yml").read_text())
    (root / "book" / "favicon.svg").write_bytes((REPO / "book" / "favicon.svg").read_bytes())
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/executed/demo\n")
    (root / "book" / "intro.md").write_text("# Intro\n\nRun on {{ binder_link }}; version {{ book_version }}; code "
                                            "under the {{ licence_link }}. On Colab:\n\n{{ colab_install }}\n")
    (root / "book" / "parameters.yml").write_text(parameters)
    write_notebook(root / "notebooks" / "demo.ipynb", "# How many (range: 0..)\nx = 1", "print(x * 2)")
    return root


def jupyter_book(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([str(JUPYTER_BOOK), "build", str(root), "-W", "-n", "--keep-going"], capture_output=True,
                          text=True, timeout=300, env=env)


needs_jupyter_book = pytest.mark.skipif(not JUPYTER_BOOK.exists(), reason="jupyter-book is not installed")


@needs_jupyter_book
def test_a_bad_parameter_stops_the_book_build_with_one_line_and_no_traceback(tmp_path):
    result = jupyter_book(mini_book(tmp_path, "demo:\n  X: 2\n"))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == ["error: book/parameters.yml: demo: unknown parameter 'X' (= 2); did you mean 'x'?"], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "book" / "executed").exists()


@needs_jupyter_book
def test_a_built_page_runs_each_script_once_and_launches_its_notebook_template(tmp_path):
    root = mini_book(tmp_path, "demo:\n  x: 2\n")
    result = jupyter_book(root)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    # a successful build prints no kernel noise (TCP warning, KeyboardInterrupt) and no warning
    assert "WARNING" not in result.stderr and "KeyboardInterrupt" not in result.stdout + result.stderr, result.stderr
    html = root / "_build" / "html" / "book"
    page, intro = (html / "executed" / "demo.html").read_text(), (html / "intro.html").read_text()
    for text in (page, intro):
        inline = re.findall(r"<script>(.*?)</script>", text)
        assert len(inline) == len(set(inline)), [s for s in inline if inline.count(s) > 1]
        assert text.count("const THEBE_JS_URL") == 1
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    repo, branch = config["repository"]["url"], config["repository"]["branch"]
    owner_name = repo.split("github.com/")[1]
    assert (f'href="https://mybinder.org/v2/gh/{owner_name}/{branch}?urlpath=lab/tree/notebooks/demo.ipynb"'
            in page)
    assert f'href="https://colab.research.google.com/github/{owner_name}/blob/{branch}/notebooks/demo.ipynb"' in page
    assert "book/executed/demo.ipynb" not in re.sub(r'href="[^"]*_sources[^"]*"', "", page)  # only the download
    assert f'href="https://mybinder.org/v2/gh/{owner_name}/{branch}?urlpath=lab/tree/notebooks"' in intro
    install = re.search(r'<pre>(.*?)</pre>', intro, re.S).group(1)  # a code box of its own
    assert f"!pip install \"cornet-repro[book] @ git+{repo}@{branch}\"" in re.sub(r"<[^>]+>", "", install)
    assert f'href="{repo}/blob/{branch}/pyproject.toml"' in intro
    from cornet_repro import __version__

    assert f"version {__version__};" in intro


def test_duplicate_scripts_are_told_apart_by_file_priority_and_attributes():
    from sphinx.builders.html._assets import _JavaScript

    body = "const THEBE_JS_URL = 'x'"
    context = {"script_files": [_JavaScript(None, body=body), _JavaScript("a.js"), _JavaScript("", body=body),
                                _JavaScript("a.js", priority=200), _JavaScript(None, body="other")]}
    sphinx_ext._drop_duplicate_scripts(None, "p", "page.html", context, None)
    assert [(s.filename, s.priority, s.attributes) for s in context["script_files"]] == [
        (None, 500, {"body": body}), ("a.js", 500, {}), ("a.js", 200, {}), (None, 500, {"body": "other"})]


def test_the_links_come_from_the_one_repository_url():
    subs = sphinx_ext.book_substitutions({"repository_url": "https://github.com/me/fork/", "repository_branch": "dev",
                                          "launch_buttons": {"binderhub_url": "https://binder.example.org/",
                                                             "notebook_interface": "classic"}})
    assert subs["binder_link"] == "[Binder](https://binder.example.org/v2/gh/me/fork/dev?urlpath=tree/notebooks)"
    assert subs["colab_install"] == '```text\n!pip install "cornet-repro[book] @ git+https://github.com/me/fork@dev"\n```'
    assert subs["repository_link"] == "[https://github.com/me/fork](https://github.com/me/fork)"
    with pytest.raises(ValueError, match=r"^_config.yml: repository.url = 'https://gitlab.com/me/fork': not a GitHub"):
        sphinx_ext.book_substitutions({"repository_url": "https://gitlab.com/me/fork"})


def notebook_import_roots() -> set[str]:
    roots = set()
    for path in NOTEBOOKS.values():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Import):
                    roots |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    roots.add(node.module.split(".")[0])
    return roots


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[;\s]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_binder_builds_an_environment_with_everything_the_notebooks_import():
    env = yaml.safe_load((REPO / "binder" / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    minimum = tuple(int(x) for x in project["requires-python"].removeprefix(">=").split("."))
    assert tuple(int(x) for x in python.removeprefix("python=").split(".")) >= minimum
    assert "pip" in env["dependencies"]
    post_build = REPO / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK) and post_build.read_text().startswith("#!/bin/bash")
    install = [line for line in post_build.read_text().splitlines() if "pip install" in line]
    assert len(install) == 1 and install[0].endswith("-e '.[book]'")
    # what Binder installs (the package with its book extra) provides every module a notebook imports
    installed = {requirement_name(d) for d in project["dependencies"] + project["optional-dependencies"]["book"]}
    installed |= {"cornet-repro"}
    distributions = metadata.packages_distributions()
    missing = []
    for module in sorted(notebook_import_roots() - set(sys.stdlib_module_names)):
        names = {requirement_name(d) for d in distributions.get(module, [])} or {module}
        if module != "cornet_repro" and not names & installed:
            missing.append(f"{module} (from {sorted(names)})")
    assert not missing, f"notebooks import modules Binder would not install: {missing}"


def test_the_errors_shown_in_the_parameters_page_are_the_ones_the_build_prints():
    page = (REPO / "book" / "parameters.md").read_text()
    for entry in ({"treshold": 0.65}, {"threshold": "high"}):
        with pytest.raises(npar.ParameterError) as info:
            npar.check_book({"fig1_brainscore_vs_imagenet": entry}, NOTEBOOKS)
        assert f"error: {info.value}\n" in page
