"""The papermill runner and its cache: re-executes exactly when an input changes."""

import functools
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cornet_repro import module_deps as md
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


@pytest.fixture
def fake_book(tmp_path) -> tuple[Path, Path]:
    """A book whose notebooks import a small package ``fakepkg`` at its root: (root, package dir).

    ``uses_a`` imports ``fakepkg.a`` (which reads its data file ``a/table.csv``); ``uses_b``
    imports ``fakepkg.b``, which imports ``fakepkg.lazy`` inside a function.
    """
    package = tmp_path / "fakepkg"
    (package / "a").mkdir(parents=True)
    (package / "__init__.py").write_text('"""A fake package."""\n')
    (package / "a.py").write_text("from pathlib import Path\n\n"
                                  "def value():\n"
                                  "    table = Path(__file__).with_suffix('') / 'table.csv'\n"
                                  "    return table.read_text().split()[1]\n")
    (package / "a" / "table.csv").write_text("x\n1\n")
    (package / "b.py").write_text("try:\n    from . import optional\nexcept ImportError:\n    optional = None\n\n"
                                  "def value():\n    from .lazy import VALUE\n    return f'b says {VALUE}'\n")
    (package / "lazy.py").write_text("VALUE = 'lazy'\n")
    write_notebook(tmp_path / "notebooks" / "uses_a.ipynb", "n = 0",
                   "from fakepkg.a import value\nprint('a says', value())")
    write_notebook(tmp_path / "notebooks" / "uses_b.ipynb", "n = 0", "import fakepkg.b\nprint(fakepkg.b.value())")
    (tmp_path / "book").mkdir()
    return tmp_path, package


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


def test_cache_key_covers_what_the_notebook_imports_and_its_parameters(tmp_path, book):
    package = tmp_path / "frozen" / "cornet_repro"
    source = book / "notebooks" / "alpha.ipynb"
    write_notebook(source, "x = 1", "from cornet_repro import notebook_runner\nprint(x)")
    before = nr.cache_key(source, {"x": 1}, root=book, package_dir=package)
    assert nr.cache_key(source, {"x": 1}, root=book, package_dir=package) == before
    # notebook_runner imports files.py: a change there is a change of the notebook's input
    (package / "files.py").write_text((package / "files.py").read_text() + "\n# a change\n")
    assert nr.cache_key(source, {"x": 1}, root=book, package_dir=package) != before
    # Parameter order does not matter; values do.
    assert nr.cache_key(source, {"x": 1, "y": 2}, root=book) == nr.cache_key(source, {"y": 2, "x": 1}, root=book)
    assert nr.cache_key(source, {"x": 1}, root=book) != nr.cache_key(source, {"x": 2}, root=book)


def _copy_real_book(tmp_path: Path, *notebooks: str) -> tuple[Path, Path]:
    """A copy of the real package and of some real notebooks: (book root, package dir)."""
    package = tmp_path / "copy" / "cornet_repro"
    shutil.copytree(Path(nr.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "notebooks").mkdir()
    for name in notebooks:
        shutil.copy(REPO / "notebooks" / f"{name}.ipynb", tmp_path / "notebooks")
    return tmp_path, package


def _closure(notebook: Path, package: Path) -> set[str]:
    return md.dependencies(md.notebook_imports(notebook, "cornet_repro", package), package)


def _touch(path: Path) -> None:
    path.write_text(path.read_text() + "\n# an edit\n")


def test_a_figure_style_edit_reexecutes_the_figures_not_the_training(tmp_path):
    root, package = _copy_real_book(tmp_path, "train_and_score", "fig1_brainscore_vs_imagenet")
    train = root / "notebooks" / "train_and_score.ipynb"
    fig1 = root / "notebooks" / "fig1_brainscore_vs_imagenet.ipynb"
    train_uses, fig1_uses = _closure(train, package), _closure(fig1, package)
    assert "cornet_repro.figures.style" in fig1_uses and "cornet_repro.figures.style" not in train_uses

    def keys() -> tuple[str, str]:
        return tuple(nr.cache_key(nb, {}, root=root, package_dir=package) for nb in (train, fig1))

    train_key, fig1_key = keys()
    _touch(package / "figures" / "style.py")
    assert keys()[0] == train_key and keys()[1] != fig1_key
    if (package / "train.py").exists():  # (the loop below covers every module, whatever the layout)
        assert "cornet_repro.train" in train_uses
        train_key = keys()[0]
        _touch(package / "train.py")
        assert keys()[0] != train_key
    # Every module of the training notebook's closure is an input of its key; no other module is.
    # (the package's part of the key, without the 25 ms library-version look-up of a whole key)
    digest = nr.package_digest(train, package)
    for module, path in sorted(md.package_modules(package).items()):
        _touch(path)
        digest, before = nr.package_digest(train, package), digest
        assert (digest != before) == (module in train_uses), module


def test_a_lazy_import_of_a_dependency_and_data_files_are_inputs(fake_book):
    root, package = fake_book
    uses_a, uses_b = root / "notebooks" / "uses_a.ipynb", root / "notebooks" / "uses_b.ipynb"

    def keys() -> tuple[str, str]:
        return tuple(nr.cache_key(nb, {}, root=root, package_dir=package) for nb in (uses_a, uses_b))

    before = keys()
    (package / "lazy.py").write_text("VALUE = 'changed'\n")  # imported only inside b.value()
    assert keys()[0] == before[0] and keys()[1] != before[1]
    before = keys()
    (package / "a" / "table.csv").write_text("x\n2\n")  # data of module a (a.py's namesake directory)
    assert keys()[0] != before[0] and keys()[1] == before[1]
    before = keys()
    (package / "assets").mkdir()
    (package / "assets" / "logo.txt").write_text("belongs to no module")  # new unowned file: every key
    assert all(k != b for k, b in zip(keys(), before))
    before = keys()
    (package / "assets" / "logo.txt").write_text("changed")
    assert all(k != b for k, b in zip(keys(), before))
    before = keys()
    # b imports .optional behind "except ImportError": creating it is a change of b's input
    (package / "optional.py").write_text("VALUE = 'optional'\n")
    assert keys()[0] == before[0] and keys()[1] != before[1]
    before = keys()
    (package / "unused.py").write_text("X = 1\n")  # imported by nobody
    assert keys() == before


def test_editing_a_module_reexecutes_only_the_notebooks_that_import_it(fake_book):
    root, package = fake_book
    run = functools.partial(nr.run_book, root, package_dir=package, jobs=1, log=lambda m: None)
    assert executed(run()) == ["uses_a", "uses_b"]
    assert "a says 1" in outputs(root / nr.EXECUTED_DIR / "uses_a.ipynb")
    assert "b says lazy" in outputs(root / nr.EXECUTED_DIR / "uses_b.ipynb")
    assert executed(run()) == []
    (package / "b.py").write_text((package / "b.py").read_text().replace("b says", "b now says"))
    assert executed(run()) == ["uses_b"]
    assert "b now says lazy" in outputs(root / nr.EXECUTED_DIR / "uses_b.ipynb")
    (package / "lazy.py").write_text("VALUE = 'edited'\n")
    assert executed(run()) == ["uses_b"]
    assert "b now says edited" in outputs(root / nr.EXECUTED_DIR / "uses_b.ipynb")
    (package / "a" / "table.csv").write_text("x\n5\n")
    assert executed(run()) == ["uses_a"]
    assert "a says 5" in outputs(root / nr.EXECUTED_DIR / "uses_a.ipynb")
    (package / "__init__.py").write_text('"""Edited."""\n')  # imported by both
    assert executed(run()) == ["uses_a", "uses_b"]


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
    with pytest.raises(nr.ParameterError, match=r"alpha: unknown parameter 'nope' \(= 3\); the parameters are: x"):
        nr.run_book(book, only=["alpha"], log=lambda m: None)
    (book / "book" / "parameters.yml").write_text("alpha_:\n  x: 3\n")
    with pytest.raises(ValueError, match="no notebook named 'alpha_' in notebooks/; did you mean 'alpha'"):
        nr.run_book(book, log=lambda m: None)
    (book / "book" / "parameters.yml").write_text("alpha: [unclosed\n")
    with pytest.raises(ValueError, match="parameters.yml: not valid YAML"):
        nr.run_book(book, log=lambda m: None)


def test_every_book_notebook_is_a_clean_template():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        assert nr.notebook_parameter_names(path), path
        assert not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), f"{path} has outputs"


def test_sweeps_run_once_per_combination_in_parameters_order(book, monkeypatch):
    # One run at a time: only then is each file credited to exactly the run that wrote it (runs
    # executing together are credited with each other's files; see the parallel tests below).
    monkeypatch.setenv(nr.JOBS_VARIABLE, "1")
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
    # A combination taken out of the sweep disappears from the book with its products...
    (book / "book" / "parameters.yml").write_text(
        "maker:\n  record_out: made\n  sweep:\n    k: [1]\n    seed: [0, 5]\nalpha:\n  data_dir: made\n")
    assert executed(nr.run_book(book, log=lambda m: None)) == ["alpha"]
    assert sorted(p.name for p in (book / "made").iterdir()) == ["1-0.txt", "1-5.txt"]
    assert not (book / nr.EXECUTED_DIR / "maker" / "k=2-seed=5.ipynb").exists()
    # ...but is only set aside: putting it back restores it without running it
    (book / "book" / "parameters.yml").write_text(
        "maker:\n  record_out: made\n  sweep:\n    k: [1, 2]\n    seed: [0, 5]\nalpha:\n  data_dir: made\n")
    logged = []
    assert executed(nr.run_book(book, log=logged.append)) == ["alpha"]
    assert sorted(p.name for p in (book / "made").iterdir()) == ["1-0.txt", "1-5.txt", "2-0.txt", "2-5.txt"]
    assert (book / nr.EXECUTED_DIR / "maker" / "k=2-seed=5.ipynb").exists()
    assert sum("restored from" in line for line in logged) == 2 and not any((book / nr.PARKED_DIR).rglob("*.txt"))
    # set aside under an older key (the notebook changed meanwhile): it runs again
    (book / "book" / "parameters.yml").write_text(
        "maker:\n  record_out: made\n  sweep:\n    k: [1]\n    seed: [0, 5]\nalpha:\n  data_dir: made\n")
    nr.run_book(book, log=lambda m: None)
    write_notebook(book / "notebooks" / "maker.ipynb", "k = 0\nseed = 0\nrecord_out = 'made'",
                   "from pathlib import Path\nPath(record_out).mkdir(exist_ok=True)\n"
                   "Path(record_out, f'{k}-{seed}.txt').write_text('y')")
    (book / "book" / "parameters.yml").write_text(
        "maker:\n  record_out: made\n  sweep:\n    k: [1, 2]\n    seed: [0, 5]\nalpha:\n  data_dir: made\n")
    assert executed(nr.run_book(book, log=lambda m: None)) == ["alpha", *[f"maker[k={k}-seed={s}]" for k in (1, 2) for s in (0, 5)]]
    assert (book / "made" / "2-5.txt").read_text() == "y"
    (book / "book" / "parameters.yml").write_text("maker:\n  sweep: [1, 2]\n")
    with pytest.raises(ValueError, match=r"maker: sweep = \[1, 2\]: not a mapping of parameter names to lists"):
        nr.run_book(book, log=lambda m: None)


MAKER_PARAMS = "k = 0\nseed = 0\nrecord_out = 'made'"
# Writes its product, and appends to calls.log (not a parameter, so not part of any cache key).
MAKER_BODY = ("from pathlib import Path\nPath(record_out).mkdir(exist_ok=True)\n"
              "Path(record_out, f'{k}-{seed}.txt').write_text(str(k * seed))\n"
              "with open('calls.log', 'a') as f:\n    f.write(f'{k}-{seed}\\n')\n"
              "print('made', k, seed)")
SWEEP = "maker:\n  record_out: made\n  sweep:\n    k: [1, 2]\n    seed: [0, 5]\n"
MAKER_RUNS = [f"maker[k={k}-seed={s}]" for k in (1, 2) for s in (0, 5)]


def executed_copies(book: Path) -> dict[str, tuple[str, str, list[str]]]:
    """Per executed sweep copy: printed output, cache key, recorded products."""
    copies = {}
    for path in sorted((book / nr.EXECUTED_DIR / "maker").glob("*.ipynb")):
        meta = nbformat.read(path, as_version=4).metadata["cornet_repro"]
        copies[path.name] = (outputs(path), meta["cache_key"], meta.get("outputs", []))
    return copies


def test_parallel_sweep_executes_each_run_once_like_a_serial_one(book):
    write_notebook(book / "notebooks" / "maker.ipynb", MAKER_PARAMS, MAKER_BODY)
    write_notebook(book / "notebooks" / "alpha.ipynb", "x = 1\ndata_dir = None",
                   "import os\nprint(sorted(os.listdir(data_dir)) if data_dir else None)")
    (book / "book" / "parameters.yml").write_text(SWEEP + "alpha:\n  data_dir: made\n")
    messages = []
    records = nr.run_book(book, only=["maker", "alpha"], jobs=2, log=messages.append)
    # Records keep the sweep order, each run executed once, and the next notebook ran after all of them.
    assert [r.name for r in records] == MAKER_RUNS + ["alpha"] and all(r.executed for r in records)
    assert sorted((book / "calls.log").read_text().split()) == ["1-0", "1-5", "2-0", "2-5"]
    assert "['1-0.txt', '1-5.txt', '2-0.txt', '2-5.txt']" in outputs(book / nr.EXECUTED_DIR / "alpha.ipynb")
    finished = [m for m in messages if re.fullmatch(r"cornet-repro: maker \[\d/4\] k=\d seed=\d: \d+\.\d s", m)]
    assert sorted(finished)[0].startswith("cornet-repro: maker [1/4] k=1 seed=0: ") and len(finished) == 4
    parallel = executed_copies(book)
    # The same cache as a serial build: nothing runs again, one run at a time or not.
    assert executed(nr.run_book(book, only=["maker"], jobs=1, log=lambda m: None)) == []
    assert executed(nr.run_book(book, only=["maker"], jobs=2, log=lambda m: None)) == []
    assert len((book / "calls.log").read_text().split()) == 4
    # A serial build writes the same outputs and keys. Its products are exactly each run's file; a
    # parallel run may also be credited with the file of a run executing beside it (never fewer).
    assert executed(nr.run_book(book, only=["maker"], force=True, jobs=1, log=lambda m: None)) == MAKER_RUNS
    serial = executed_copies(book)
    assert sorted(serial) == sorted(parallel) == [f"k={k}-seed={s}.ipynb" for k in (1, 2) for s in (0, 5)]
    for name, (text, key, products) in serial.items():
        assert (text, key) == parallel[name][:2]
        k, seed = re.findall(r"\d+", name)
        assert products == [f"made/{k}-{seed}.txt"] and set(products) <= set(parallel[name][2])
        assert (book / "made" / f"{k}-{seed}.txt").read_text() == str(int(k) * int(seed))


def test_parallel_kernels_get_a_thread_budget_and_serial_ones_the_environment(book, monkeypatch):
    monkeypatch.setattr(nr, "cpu_count", lambda: 2)  # 2 runs at once on 2 cores → 1 thread each
    for name in (*nr.THREAD_VARIABLES, "OMP_WAIT_POLICY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # set by the user: kept
    names = [*nr.THREAD_VARIABLES, "OMP_WAIT_POLICY"]
    write_notebook(book / "notebooks" / "maker.ipynb", "k = 0\nrecord_out = 'envs'",
                   "import json, os\nfrom pathlib import Path\nPath(record_out).mkdir(exist_ok=True)\n"
                   f"Path(record_out, f'{{k}}.json').write_text(json.dumps({{v: os.environ.get(v) for v in {names!r}}}))")
    (book / "book" / "parameters.yml").write_text("maker:\n  record_out: envs\n  sweep:\n    k: [1, 2, 3]\n")

    def seen() -> list[dict]:
        return [json.loads((book / "envs" / f"{k}.json").read_text()) for k in (1, 2, 3)]

    assert len(executed(nr.run_book(book, only=["maker"], jobs=2, log=lambda m: None))) == 3
    assert seen() == [{"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "1",
                       "OMP_WAIT_POLICY": "PASSIVE"}] * 3
    assert "OMP_NUM_THREADS" not in os.environ  # the budget lives in the workers only
    assert len(executed(nr.run_book(book, only=["maker"], force=True, jobs=1, log=lambda m: None))) == 3
    assert seen() == [{"OMP_NUM_THREADS": None, "MKL_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": None,
                       "OMP_WAIT_POLICY": None}] * 3


def test_a_failing_run_of_a_parallel_sweep_spares_the_others_and_is_named(book):
    # Runs with an even k fail while the file 'fail' exists (not a parameter: the keys do not change).
    write_notebook(book / "notebooks" / "maker.ipynb", MAKER_PARAMS,
                   "from pathlib import Path\nif k % 2 == 0 and Path('fail').exists():\n"
                   "    raise ValueError(f'k={k} refused')\n" + MAKER_BODY)
    (book / "book" / "parameters.yml").write_text("maker:\n  record_out: made\n  sweep:\n    k: [1, 2, 3, 4]\n")
    (book / "fail").touch()
    with pytest.raises(nr.NotebookError) as info:
        nr.run_book(book, only=["maker"], jobs=2, log=lambda m: None)
    failures = str(info.value).splitlines()
    assert len(failures) == 2
    for k, line in zip((2, 4), sorted(failures)):
        # Cell 2 is the one papermill injects with the run's parameters.
        assert "maker.ipynb failed in cell [3]: " in line and f"ValueError: k={k} refused" in line
        assert line.endswith(f"(sweep run k={k})")
    copies = book / nr.EXECUTED_DIR / "maker"
    assert sorted(p.name for p in copies.iterdir()) == ["k=1.ipynb", "k=3.ipynb"]  # no partial or temp file
    assert sorted(p.name for p in (book / "made").iterdir()) == ["1-0.txt", "3-0.txt"]
    # The runs that succeeded are cached; only the failed ones run again.
    (book / "fail").unlink()
    assert executed(nr.run_book(book, only=["maker"], jobs=2, log=lambda m: None)) == ["maker[k=2]", "maker[k=4]"]


def test_jobs_come_from_the_environment(monkeypatch, book):
    monkeypatch.delenv(nr.JOBS_VARIABLE, raising=False)
    assert nr.default_jobs() == nr.cpu_count()
    monkeypatch.setenv(nr.JOBS_VARIABLE, "3")
    assert nr.default_jobs() == 3
    for bad in ("two", "0", "-1"):
        monkeypatch.setenv(nr.JOBS_VARIABLE, bad)
        with pytest.raises(ValueError, match=f"CORNET_REPRO_JOBS='{bad}': expected a positive integer"):
            nr.run_book(book, log=lambda m: None)
    with pytest.raises(ValueError, match="jobs must be a positive integer, got 0"):
        nr.run_book(book, jobs=0, log=lambda m: None)


def test_declared_outputs_make_parallel_attribution_exact(book):
    # Each run sleeps while the others write, so file times alone would credit it with theirs.
    body = ("import time\nfrom pathlib import Path\nfrom myst_nb import glue\nPath(record_out).mkdir(exist_ok=True)\n"
            "target = Path(record_out, f'{k}-{seed}.txt')\ntarget.write_text('x')\ntime.sleep(1.5)\n"
            "glue('outputs', [str(target)], display=False)")
    write_notebook(book / "notebooks" / "maker.ipynb", MAKER_PARAMS, body)
    (book / "book" / "parameters.yml").write_text(SWEEP)
    assert executed(nr.run_book(book, only=["maker"], jobs=2, log=lambda m: None)) == MAKER_RUNS
    products = {name: recorded for name, (_, _, recorded) in executed_copies(book).items()}
    assert products == {f"k={k}-seed={s}.ipynb": [f"made/{k}-{s}.txt"] for k in (1, 2) for s in (0, 5)}
    (book / "made" / "2-5.txt").unlink()
    assert executed(nr.run_book(book, only=["maker"], jobs=2, log=lambda m: None)) == ["maker[k=2-seed=5]"]
    # a malformed declaration is named
    write_notebook(book / "notebooks" / "maker.ipynb", MAKER_PARAMS,
                   "from myst_nb import glue\nglue('outputs', 'not a list of paths', display=False)")
    with pytest.raises(nr.NotebookError, match="must be a list of paths"):
        nr.run_book(book, only=["maker"], jobs=1, log=lambda m: None)


def test_kernels_talk_over_ipc_and_shut_down_without_a_sigint():
    """jupyter_client SIGINTs every kernel before asking it to shut down; a SIGINT landing while
    the kernel handles a message logs "KeyboardInterrupt caught in kernel" into the build log, and a
    TCP kernel warns that it is unencrypted. The runner's kernels do neither."""
    import asyncio
    import signal

    async def start_and_stop():
        km = nr.quiet_kernel_manager()(kernel_name="python3")
        sent = []
        real_signal = km._async_signal_kernel

        async def record(signum):
            sent.append(signum)
            await real_signal(signum)

        km._async_signal_kernel = record
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        info = km.get_connection_info()
        folder = Path(info["ip"]).parent
        alive = folder.is_dir() and any(folder.iterdir())
        kc.stop_channels()
        await km.shutdown_kernel()
        return info, folder, alive, sent, await km.is_alive()

    info, folder, alive, sent, still_alive = asyncio.run(start_and_stop())
    assert info["transport"] == "ipc" and alive  # its sockets are files in a folder of its own
    assert signal.SIGINT not in sent and not still_alive
    assert not folder.exists()  # removed with the kernel


def test_a_parallel_sweep_leaves_no_kernel_noise_in_the_log(book, capfd):
    write_notebook(book / "notebooks" / "maker.ipynb", MAKER_PARAMS, MAKER_BODY)
    (book / "book" / "parameters.yml").write_text(SWEEP)
    capfd.readouterr()
    records = nr.run_book(book, jobs=2, log=lambda m: None)
    assert sum(r.executed for r in records) == len(MAKER_RUNS) + 2
    err = capfd.readouterr().err  # the kernels' and the worker processes' stderr too (same file descriptor)
    assert "without encryption" not in err and "KeyboardInterrupt" not in err and "WARNING" not in err, err
