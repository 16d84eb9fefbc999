"""Execute the book's notebooks with papermill, behind a cache that is never stale.

A notebook is re-executed when, and only when, its cache key changes. The key hashes:
the notebook source, its parameters, every file of the ``cornet_repro`` package (code and data),
every file named by a path-valued parameter (e.g. a results directory), and the versions of the
libraries that shape the output. Parameters whose name ends in ``_out`` are the notebook's outputs:
their content is not hashed, but a missing output makes the notebook run again.

``book/parameters.yml`` sets each notebook's parameters. Notebooks run in the order they appear
there, then the others by name, so a notebook that writes results (e.g. ``train_and_score``) runs
before the figures that read them. A ``sweep`` entry (a mapping of parameter → list of values)
runs the notebook once per combination; those executed copies go to ``book/executed/<name>/``. jupyter-cache keys only on the notebook's code cells, so a change
to the package would leave stale figures; that is why this module exists.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import yaml

from .files import atomic_path

PACKAGE_DIR = Path(__file__).resolve().parent
#: Relative to the book root: where parameters are set, templates live, executed copies go.
PARAMETERS_FILE = Path("book") / "parameters.yml"
NOTEBOOK_DIR = Path("notebooks")
EXECUTED_DIR = Path("book") / "executed"
KEY_VERSION = 1
_VERSIONED = ("papermill", "nbformat", "matplotlib", "numpy", "pandas", "scipy", "seaborn", "xarray",
              "scikit-learn", "torch", "myst-nb")


class NotebookError(RuntimeError):
    """A notebook failed: the message names the notebook, the cell and the error."""


@dataclass(frozen=True)
class RunRecord:
    name: str
    executed: bool
    seconds: float
    output: Path


def load_parameters(root: Path) -> dict[str, dict[str, Any]]:
    """Read ``book/parameters.yml``: a mapping of notebook name → its parameters."""
    path = Path(root) / PARAMETERS_FILE
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc}); fix the file or delete it") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) or v is None for v in data.values()):
        raise ValueError(f"{path}: expected 'notebook_name: {{parameter: value}}' entries, got {data!r}")
    return {name: dict(params or {}) for name, params in data.items()}


def notebook_parameter_names(notebook: Path) -> list[str]:
    """Names assigned in the notebook's cell tagged ``parameters``."""
    import ast

    nb = json.loads(Path(notebook).read_text())
    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            tree = ast.parse("".join(cell["source"]))
            return [t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Name)]
    raise ValueError(f"{notebook}: no cell tagged 'parameters' (papermill needs one)")


def _hash_tree(h: "hashlib._Hash", path: Path, root: Path) -> None:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        if "__pycache__" in f.parts or f.suffix == ".pyc":
            continue
        h.update(str(f.relative_to(root) if f.is_relative_to(root) else f).encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in _VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def cache_key(notebook: Path, parameters: dict[str, Any], *, root: Path,
              package_dir: Path = PACKAGE_DIR) -> str:
    """Hash of everything the executed notebook depends on (see the module docstring)."""
    h = hashlib.sha256(f"cornet-repro notebook cache v{KEY_VERSION}".encode())
    h.update(Path(notebook).read_bytes())
    h.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    _hash_tree(h, Path(package_dir), Path(package_dir).parent)
    for name, value in parameters.items():
        if isinstance(value, str) and value and not is_output_parameter(name):
            candidate = (Path(root) / value) if not Path(value).is_absolute() else Path(value)
            if candidate.exists():
                _hash_tree(h, candidate, Path(root))
    h.update(json.dumps(_versions(), sort_keys=True).encode())
    return h.hexdigest()


def is_output_parameter(name: str) -> bool:
    """Parameters named ``*_out`` are paths the notebook writes (not inputs of its cache key)."""
    return name.endswith("_out")


def _stored_key(executed: Path) -> str | None:
    try:
        return json.loads(executed.read_text())["metadata"]["cornet_repro"]["cache_key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _describe_failure(exc: Exception, notebook: Path) -> str:
    cell = getattr(exc, "exec_count", None)
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    where = f"cell [{cell}]" if cell is not None else "a cell"
    return f"notebook {notebook} failed in {where}: {ename}: {evalue}"


def execute_notebook(source: Path, output: Path, parameters: dict[str, Any], *, cwd: Path,
                     key: str | None = None, kernel_name: str = "python3") -> Path:
    """Run ``source`` with ``parameters`` through papermill; write ``output`` atomically.

    Raises :class:`NotebookError` naming the notebook and failing cell. On failure no output is
    left behind (an old executed copy would otherwise be shown as if current).
    """
    import nbformat
    import papermill as pm

    known = notebook_parameter_names(source)
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise NotebookError(f"{source}: unknown parameter(s) {unknown}; the parameters cell defines {known}")
    output = Path(output)
    try:
        with atomic_path(output.with_suffix(".ipynb")) as tmp:
            pm.execute_notebook(str(source), str(tmp), parameters=parameters, cwd=str(cwd),
                                kernel_name=kernel_name, progress_bar=False, log_output=False)
            nb = nbformat.read(tmp, as_version=4)
            nb.metadata["cornet_repro"] = {"cache_key": key, "parameters": parameters,
                                           "source": f"notebooks/{Path(source).name}"}
            nbformat.write(nb, tmp)
    except Exception as exc:  # papermill raises PapermillExecutionError with the cell and error
        output.unlink(missing_ok=True)
        raise NotebookError(_describe_failure(exc, source)) from exc
    return output


def _record_outputs(executed: Path, products: list[str]) -> None:
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    nb.metadata["cornet_repro"]["outputs"] = products
    with atomic_path(executed) as tmp:
        nbformat.write(nb, tmp)


def notebook_names(root: Path) -> list[str]:
    """Names of the notebook templates in ``notebooks/`` (without ``.ipynb``), sorted."""
    return sorted(p.stem for p in (Path(root) / NOTEBOOK_DIR).glob("*.ipynb"))


def expand_runs(name: str, params: dict[str, Any]) -> list[tuple[str, Path, dict[str, Any]]]:
    """(run name, executed path relative to the book root, parameters) for each run of a notebook."""
    params = dict(params)
    sweep = params.pop("sweep", None)
    if sweep is None:
        return [(name, EXECUTED_DIR / f"{name}.ipynb", params)]
    if not isinstance(sweep, dict) or not all(isinstance(v, list) and v for v in sweep.values()):
        raise ValueError(f"{PARAMETERS_FILE}: {name}.sweep must map parameter names to non-empty lists, got {sweep!r}")
    runs = []
    for values in itertools.product(*sweep.values()):
        combination = dict(zip(sweep, values))
        slug = "-".join(f"{k}={v}" for k, v in combination.items()).replace("/", "_")
        runs.append((f"{name}[{slug}]", EXECUTED_DIR / name / f"{slug}.ipynb", {**params, **combination}))
    return runs


def _output_files(root: Path, params: dict[str, Any]) -> dict[str, float]:
    """Files under the ``*_out`` paths of a run, with their modification times."""
    files = {}
    for name, value in params.items():
        if is_output_parameter(name) and isinstance(value, str) and value:
            base = Path(root, value)
            for f in ([base] if base.is_file() else base.rglob("*") if base.is_dir() else []):
                if f.is_file():
                    files[str(f.relative_to(root))] = f.stat().st_mtime
    return files


def _stored_outputs(executed: Path) -> list[str]:
    try:
        return json.loads(executed.read_text())["metadata"]["cornet_repro"].get("outputs", [])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _prune_dropped_runs(root: Path, name: str, current: set[Path], log: Callable[[str], None]) -> None:
    """Delete sweep runs no longer in parameters.yml, with the files they wrote, so that a
    figure reading their directory never shows a variant that was taken out of the sweep."""
    for executed in sorted((root / EXECUTED_DIR / name).glob("*.ipynb")):
        if executed not in current:
            for product in _stored_outputs(executed):
                (root / product).unlink(missing_ok=True)
            executed.unlink()
            log(f"cornet-repro: removed {executed.relative_to(root)} and its outputs (no longer in the sweep)")


def run_book(root: str | os.PathLike, *, only: list[str] | None = None, force: bool = False,
             log: Callable[[str], None] = print, package_dir: Path = PACKAGE_DIR) -> list[RunRecord]:
    """Execute every notebook of the book whose cache key changed; return what was done.

    All notebooks are attempted; if any fail, one :class:`NotebookError` lists every failure.
    """
    root = Path(root).resolve()
    parameters = load_parameters(root)
    names = notebook_names(root)
    unknown = sorted(set(parameters) - set(names))
    if unknown:
        raise ValueError(f"{root / PARAMETERS_FILE}: no notebook named {unknown} in {root / NOTEBOOK_DIR}; "
                         f"available: {names}")
    records, failures = [], []
    ordered = [n for n in parameters if n in names] + [n for n in names if n not in parameters]
    for name in ordered:
        if only is not None and name not in only:
            continue
        source = root / NOTEBOOK_DIR / f"{name}.ipynb"
        runs = expand_runs(name, parameters.get(name, {}))
        _prune_dropped_runs(root, name, {root / relative for _, relative, _ in runs}, log)
        for run_name, relative, params in runs:
            output = root / relative
            key = cache_key(source, params, root=root, package_dir=package_dir)
            # A run whose products (files it wrote under its *_out paths) were deleted runs again.
            if (not force and output.exists() and _stored_key(output) == key
                    and all((root / f).exists() for f in _stored_outputs(output))):
                records.append(RunRecord(run_name, False, 0.0, output))
                continue
            before = _output_files(root, params)
            log(f"cornet-repro: executing {source.relative_to(root)} with {params or 'defaults'}")
            start = time.perf_counter()
            try:
                execute_notebook(source, output, params, cwd=root, key=key)
            except NotebookError as exc:
                failures.append(str(exc))
                continue
            products = sorted(f for f, mtime in _output_files(root, params).items() if before.get(f) != mtime)
            if products:
                _record_outputs(output, products)
            records.append(RunRecord(run_name, True, time.perf_counter() - start, output))
    if failures:
        raise NotebookError("\n".join(failures))
    return records
