"""The papermill runner and its cache: re-executes exactly when an input changes."""

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cornet_repro import notebook_runner as nr

REPO = Path(__file__).resolve().parents[1]


def write_notebook(path: Path, params: str, body: str) -> None:
    nb = new_notebook(cells=[new_code_cell(params, metadata={"tags": ["parameters"]}), new_code_cell(body)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def book(tmp_path, monkeypatch):
    # A frozen copy of the package, so edits elsewhere during the test cannot change the keys.
    package = tmp_path / "frozen" / "cornet_repro"
    shutil.copytree(Path(nr.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    real_run_book = nr.run_book
    monkeypatch.setattr(nr, "run_book", lambda *a, **k: real_run_book(*a, package_dir=package, **k))
    write_notebook(tmp_path / "notebooks" / "alpha.ipynb", "x = 1", "print('alpha', x * 2)")
    write_notebook(tmp_path / "notebooks" / "beta.ipynb", "y = 'b'\ndata_dir = None",
                   "print('beta', y)")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "parameters.yml").write_text("alpha:\n  x: 3\n")
    return tmp_path


def executed(records):
    return sorted(r.name for r in records if r.executed)


def outputs(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)  # normalizes multi-line text to str
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_cache_executes_only_what_changed(book):
    assert executed(nr.run_book(book, log=lambda m: None)) == ["alpha", "beta"]
    assert "alpha 6" in outputs(book / nr.EXECUTED_DIR / "alpha.ipynb")
    # Nothing changed: nothing runs.
    assert executed(nr.run_book(book, log=lambda m: None)) == []
    # A parameter of one notebook changed: only that one runs.
    (book / "book" / "parameters.yml").write_text("alpha:\n  x: 4\n")
    assert executed(nr.run_book(book, log=lambda m: None)) == ["alpha"]
    assert "alpha 8" in outputs(book / nr.EXECUTED_DIR / "alpha.ipynb")
    # The notebook source changed.
    write_notebook(book / "notebooks" / "beta.ipynb", "y = 'c'\ndata_dir = None", "print('beta', y)")
    assert executed(nr.run_book(book, log=lambda m: None)) == ["beta"]
    # Input data named by a path parameter changed (a file inside the directory).
    data = book / "data"
    data.mkdir()
    (data / "result.json").write_text("{}")
    (book / "book" / "parameters.yml").write_text("alpha:\n  x: 4\nbeta:\n  data_dir: data\n")
    assert executed(nr.run_book(book, log=lambda m: None)) == ["beta"]
    (data / "result.json").write_text('{"score": 1}')
    assert executed(nr.run_book(book, log=lambda m: None)) == ["beta"]
    assert executed(nr.run_book(book, log=lambda m: None)) == []


def test_cache_key_covers_the_package_source(tmp_path, book):
    package = tmp_path / "frozen" / "cornet_repro"
    source = book / "notebooks" / "alpha.ipynb"
    before = nr.cache_key(source, {"x": 1}, root=book, package_dir=package)
    assert nr.cache_key(source, {"x": 1}, root=book, package_dir=package) == before
    (package / "stats.py").write_text((package / "stats.py").read_text() + "\n# a change\n")
    assert nr.cache_key(source, {"x": 1}, root=book, package_dir=package) != before
    # Parameter order does not matter; values do.
    assert nr.cache_key(source, {"x": 1, "y": 2}, root=book) == nr.cache_key(source, {"y": 2, "x": 1}, root=book)
    assert nr.cache_key(source, {"x": 1}, root=book) != nr.cache_key(source, {"x": 2}, root=book)


def test_failing_notebook_names_notebook_and_cell_and_leaves_no_output(book):
    write_notebook(book / "notebooks" / "gamma.ipynb", "z = 0", "1 / z")
    with pytest.raises(nr.NotebookError) as info:
        nr.run_book(book, log=lambda m: None)
    message = str(info.value)
    assert "gamma.ipynb" in message and "cell [2]" in message and "ZeroDivisionError" in message
    assert not (book / nr.EXECUTED_DIR / "gamma.ipynb").exists()
    assert (book / nr.EXECUTED_DIR / "alpha.ipynb").exists()  # the others still ran
    assert not list((book / nr.EXECUTED_DIR).glob(".*tmp*"))


def test_bad_parameters_are_named(book):
    (book / "book" / "parameters.yml").write_text("alpha:\n  nope: 3\n")
    with pytest.raises(nr.NotebookError, match=r"unknown parameter\(s\) \['nope'\].*defines \['x'\]"):
        nr.run_book(book, only=["alpha"], log=lambda m: None)
    (book / "book" / "parameters.yml").write_text("delta:\n  x: 3\n")
    with pytest.raises(ValueError, match="no notebook named \\['delta'\\]"):
        nr.run_book(book, log=lambda m: None)
    (book / "book" / "parameters.yml").write_text("alpha: [unclosed\n")
    with pytest.raises(ValueError, match="parameters.yml: not valid YAML"):
        nr.run_book(book, log=lambda m: None)


def test_every_book_notebook_is_a_clean_template():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        assert nr.notebook_parameter_names(path), path
        assert not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), f"{path} has outputs"


def test_sweeps_run_once_per_combination_in_parameters_order(book):
    write_notebook(book / "notebooks" / "maker.ipynb", "k = 0\nseed = 0\nrecord_out = 'made'",
                   "from pathlib import Path\nPath(record_out).mkdir(exist_ok=True)\n"
                   "Path(record_out, f'{k}-{seed}.txt').write_text('x')")
    write_notebook(book / "notebooks" / "alpha.ipynb", "x = 1\ndata_dir = None",
                   "import os\nprint(sorted(os.listdir(data_dir)) if data_dir else None)")
    (book / "book" / "parameters.yml").write_text(
        "maker:\n  record_out: made\n  sweep:\n    k: [1, 2]\n    seed: [0, 5]\nalpha:\n  data_dir: made\n")
    records = nr.run_book(book, log=lambda m: None)
    # The producer's 4 runs come first (parameters.yml order), so alpha sees all of their files.
    assert [r.name for r in records[:4]] == ["maker[k=1-seed=0]", "maker[k=1-seed=5]", "maker[k=2-seed=0]",
                                             "maker[k=2-seed=5]"]
    assert "['1-0.txt', '1-5.txt', '2-0.txt', '2-5.txt']" in outputs(book / nr.EXECUTED_DIR / "alpha.ipynb")
    assert (book / nr.EXECUTED_DIR / "maker" / "k=2-seed=5.ipynb").exists()
    # Outputs are not part of the key: a second build runs nothing...
    assert executed(nr.run_book(book, log=lambda m: None)) == []
    # ...but deleted products make every run that wrote them run again; the reader sees the
    # same file contents as before, so it stays cached.
    shutil.rmtree(book / "made")
    assert executed(nr.run_book(book, log=lambda m: None)) == [f"maker[k={k}-seed={s}]" for k in (1, 2) for s in (0, 5)]
    (book / "made" / "2-0.txt").unlink()
    assert executed(nr.run_book(book, log=lambda m: None)) == ["maker[k=2-seed=0]"]
    # A combination taken out of the sweep disappears with its products.
    (book / "book" / "parameters.yml").write_text(
        "maker:\n  record_out: made\n  sweep:\n    k: [1]\n    seed: [0, 5]\nalpha:\n  data_dir: made\n")
    assert executed(nr.run_book(book, log=lambda m: None)) == ["alpha"]
    assert sorted(p.name for p in (book / "made").iterdir()) == ["1-0.txt", "1-5.txt"]
    assert not (book / nr.EXECUTED_DIR / "maker" / "k=2-seed=5.ipynb").exists()
    (book / "book" / "parameters.yml").write_text("maker:\n  sweep: [1, 2]\n")
    with pytest.raises(ValueError, match="maker.sweep must map parameter names to non-empty lists"):
        nr.run_book(book, log=lambda m: None)
