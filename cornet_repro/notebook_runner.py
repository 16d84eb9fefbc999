"""Execute the book's notebooks with papermill, behind a cache that is never stale.

A notebook is re-executed when, and only when, its cache key changes. The key hashes:

* the notebook file and its parameters;
* the ``cornet_repro`` code the notebook can run: the modules its code cells import, and every
  module those import in turn (at module level or inside a function, see
  :mod:`cornet_repro.module_deps`), with their parent packages; each file as its path and content,
  in path order;
* the data files those modules own (``data/published.py`` owns ``data/published/``), and every
  file of the package that belongs to no module (a file nobody can be shown not to read); so a
  module must read only the data it owns, or import the module that owns it;
* every file named by a path-valued parameter (e.g. a results directory);
* the versions of Python and of the libraries that shape the output.

So editing ``figures/style.py`` re-executes the figures, not the training sweep. Parameters whose
name ends in ``_out`` are the notebook's outputs: their content is not hashed, but a missing output
makes the notebook run again. The runner's own code is not part of the key: a change to how
notebooks execute that changes what they output must bump ``KEY_VERSION``.

``book/parameters.yml`` sets each notebook's parameters; every entry is checked against its
notebook's parameters cell (:mod:`cornet_repro.notebook_parameters`) before any notebook runs, and
each executed copy shows its parameters in force once (:func:`show_parameters_in_force`). Kernels
start through :func:`quiet_kernel_manager`, so a build log carries no kernel noise. Notebooks run in the order they appear
there, then the others by name, so a notebook that writes results (e.g. ``train_and_score``) runs
before the figures that read them. A ``sweep`` entry (a mapping of parameter → list of values)
runs the notebook once per combination; those executed copies go to ``book/executed/<name>/``. A combination taken out
of the sweep is set aside with the files it wrote (``.cache/dropped-runs/``), and comes back
without running when it is put back unchanged. jupyter-cache keys only on the notebook's code cells, so a change
to the package would leave stale figures; that is why this module exists.

The runs of one sweep that must execute run ``jobs`` at a time (``$CORNET_REPRO_JOBS``, default:
the number of CPU cores), each kernel with ``cores // jobs`` threads; notebooks themselves always
run one after another, in the order above.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import yaml

from .files import atomic_path
from .module_deps import dependency_files, notebook_imports
from .notebook_parameters import (BOOK_FILE, ParameterError, check_book, check_values, merged_cell,
                                  notebook_parameters, parameters_cell)

PACKAGE_DIR = Path(__file__).resolve().parent
#: Relative to the book root: where parameters are set, templates live, executed copies go.
PARAMETERS_FILE = Path(BOOK_FILE)
NOTEBOOK_DIR = Path("notebooks")
EXECUTED_DIR = Path("book") / "executed"
KEY_VERSION = 2
_VERSIONED = ("papermill", "nbformat", "matplotlib", "numpy", "pandas", "scipy", "seaborn", "xarray",
              "scikit-learn", "torch", "myst-nb")
#: Environment variable: how many runs of one sweep execute at once (default: the CPU cores).
JOBS_VARIABLE = "CORNET_REPRO_JOBS"
#: Thread-pool sizes a kernel's libraries read at start-up (PyTorch and OpenMP, MKL, OpenBLAS).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


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
    return list(notebook_parameters(notebook))


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


def package_digest(notebook: Path, package_dir: Path = PACKAGE_DIR) -> bytes:
    """The package's part of the key: what the notebook imports (see the module docstring)."""
    package_dir = Path(package_dir)
    h = hashlib.sha256()
    for f in dependency_files(notebook_imports(notebook, package_dir.name, package_dir), package_dir):
        h.update(f"{f.relative_to(package_dir.parent)}\0".encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.digest()


def cache_key(notebook: Path, parameters: dict[str, Any], *, root: Path,
              package_dir: Path = PACKAGE_DIR) -> str:
    """Hash of everything the executed notebook depends on (see the module docstring)."""
    return _cache_key(notebook, parameters, root, package_digest(notebook, package_dir), _versions())


def _cache_key(notebook: Path, parameters: dict[str, Any], root: Path, package: bytes,
               versions: dict[str, str]) -> str:
    h = hashlib.sha256(f"cornet-repro notebook cache v{KEY_VERSION}".encode())
    h.update(Path(notebook).read_bytes())
    h.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    h.update(package)
    for name, value in parameters.items():
        if isinstance(value, str) and value and not is_output_parameter(name):
            candidate = (Path(root) / value) if not Path(value).is_absolute() else Path(value)
            if candidate.exists():
                _hash_tree(h, candidate, Path(root))
    h.update(json.dumps(versions, sort_keys=True).encode())
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


@functools.cache
def quiet_kernel_manager() -> type:
    """The kernel manager the runner starts kernels with: jupyter_client's, with two changes that
    keep a build log free of kernel noise.

    * IPC transport (Unix sockets in Jupyter's runtime folder) instead of TCP on localhost: a local
      kernel needs no network port, and ipykernel warns that an unencrypted TCP kernel can be
      eavesdropped on (once per kernel). Windows has no IPC transport and keeps TCP.
    * No SIGINT before the shutdown request. jupyter_client interrupts every kernel it shuts down,
      in case it is busy; nbclient shuts a kernel down only when it is idle (after the last cell,
      or after interrupting a cell that timed out itself), and a SIGINT landing while the kernel
      still handles a message makes it log "KeyboardInterrupt caught in kernel" (often under load,
      e.g. with parallel sweep runs). The shutdown request, then SIGTERM and SIGKILL after
      ``shutdown_wait_time``, still stop any kernel.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class QuietKernelManager(AsyncKernelManager):
        @default("transport")
        def _transport_default(self) -> str:
            return "tcp" if os.name == "nt" else "ipc"

        @default("ip")
        def _ip_default(self) -> str:
            if self.transport != "ipc":
                return super()._ip_default()
            # A folder of its own: jupyter_client numbers IPC sockets from 1 in one shared place,
            # so kernels started at once (a parallel sweep) would take each other's sockets.
            self._ipc_folder = tempfile.mkdtemp(prefix="cornet-repro-kernel-")
            return os.path.join(self._ipc_folder, "kernel")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart and getattr(self, "_ipc_folder", None):
                shutil.rmtree(self._ipc_folder, ignore_errors=True)

        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return QuietKernelManager


def show_parameters_in_force(nb: Any, parameters: dict[str, Any], set_by: str) -> bool:
    """Make an executed notebook show its parameters once; return whether it changed.

    papermill runs the defaults cell, then an ``injected-parameters`` cell; the copy keeps one
    cell, the defaults cell with the injected values written in, each parameter with its comment,
    those set from outside marked. Only what is shown changes, not what ran.
    """
    injected = [c for c in nb.cells if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    if not injected:
        return False
    index, source = parameters_cell(nb)
    nb.cells[index].source = merged_cell(source, parameters, set_by)
    nb.cells = [c for c in nb.cells if not any(c is i for i in injected)]
    return True


def _show_parameters_in_force_on_file(executed: Path, parameters: dict[str, Any]) -> None:
    """:func:`show_parameters_in_force` for an executed copy from the cache (made before the runner
    merged the cells): a change of display, so it needs no re-execution and no new cache key."""
    import nbformat

    if '"injected-parameters"' not in executed.read_text():
        return
    nb = nbformat.read(executed, as_version=4)
    if show_parameters_in_force(nb, parameters, BOOK_FILE):
        with atomic_path(executed) as tmp:
            nbformat.write(nb, tmp)


def execute_notebook(source: Path, output: Path, parameters: dict[str, Any], *, cwd: Path,
                     key: str | None = None, kernel_name: str = "python3", set_by: str = BOOK_FILE) -> Path:
    """Run ``source`` with ``parameters`` through papermill; write ``output`` atomically.

    The executed copy shows the parameters in force once (:func:`show_parameters_in_force`),
    those in ``parameters`` marked as set by ``set_by``. Raises :class:`ParameterError` for a value
    the notebook cannot take (before running it), and :class:`NotebookError` naming the notebook
    and failing cell. On failure no output is left behind (an old executed copy would otherwise be
    shown as if current).
    """
    import nbformat
    import papermill as pm

    errors = check_values(Path(source).stem, notebook_parameters(source), parameters, where=set_by)
    if errors:
        raise ParameterError("\n".join(errors))
    output = Path(output)
    try:
        with atomic_path(output.with_suffix(".ipynb")) as tmp:
            pm.execute_notebook(str(source), str(tmp), parameters=parameters, cwd=str(cwd),
                                kernel_name=kernel_name, progress_bar=False, log_output=False,
                                kernel_manager_class=quiet_kernel_manager())
            nb = nbformat.read(tmp, as_version=4)
            show_parameters_in_force(nb, parameters, set_by)
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


#: A notebook may ``glue`` this name (``display=False``) with the list of paths it wrote, relative
#: to the book root (files or directories): the runner then records exactly those as its outputs.
OUTPUTS_GLUE = "outputs"


def declared_outputs(executed: Path, root: Path) -> list[str] | None:
    """Files a notebook declared as its outputs (its ``glue("outputs", [...])``), None if it declared none.

    Declared outputs make attribution exact when runs execute in parallel: file times alone
    cannot tell which of two runs writing into one directory wrote a file.
    """
    import ast

    import nbformat

    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            record = out.get("metadata", {}).get("scrapbook", {})
            if record.get("name") != OUTPUTS_GLUE:
                continue
            text = out.get("data", {}).get(record.get("mime_prefix", "") + "text/plain", "")
            try:
                paths = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                paths = None
            if not isinstance(paths, (list, tuple)) or not all(isinstance(p, str) for p in paths):
                raise NotebookError(f"{executed}: glue({OUTPUTS_GLUE!r}, ...) must be a list of paths, got {text}")
            files = []
            for path in map(Path, paths):
                path = (path if path.is_absolute() else root / path).resolve()
                if root not in path.parents:
                    continue  # outside the book: not the runner's to track or delete
                files += [path] if path.is_file() else sorted(f for f in path.rglob("*") if f.is_file())
            return sorted(str(f.relative_to(root)) for f in files)
    return None


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


#: Relative to the book root: where runs taken out of a sweep are set aside (see _park_dropped_runs).
PARKED_DIR = Path(".cache") / "dropped-runs"


def _park_dropped_runs(root: Path, name: str, current: set[Path], log: Callable[[str], None]) -> None:
    """Set aside sweep runs no longer in parameters.yml, with the files they wrote, under
    :data:`PARKED_DIR`: a figure reading their folder no longer shows them, and putting the entry
    back restores them (:func:`_restore_parked`) instead of running it again."""
    for executed in sorted((root / EXECUTED_DIR / name).glob("*.ipynb")):
        if executed in current:
            continue
        park = root / PARKED_DIR / name / executed.stem
        shutil.rmtree(park, ignore_errors=True)
        (park / "files").mkdir(parents=True)
        for product in _stored_outputs(executed):
            if (root / product).exists():
                (park / "files" / product).parent.mkdir(parents=True, exist_ok=True)
                os.replace(root / product, park / "files" / product)
        os.replace(executed, park / executed.name)
        log(f"cornet-repro: set {executed.relative_to(root)} and its outputs aside in {park.relative_to(root)} "
            "(no longer in the sweep; put it back and they return without running)")


def _restore_parked(root: Path, name: str, output: Path, key: str) -> bool:
    """Bring back a run set aside by :func:`_park_dropped_runs` if it was made with the same cache
    key and every file it wrote is there, and nothing has taken their places since."""
    park = root / PARKED_DIR / name / output.stem
    parked = park / output.name
    if not parked.exists() or _stored_key(parked) != key:
        return False
    products = _stored_outputs(parked)
    if not all((park / "files" / p).exists() and not (root / p).exists() for p in products):
        return False
    for product in products:
        (root / product).parent.mkdir(parents=True, exist_ok=True)
        os.replace(park / "files" / product, root / product)
    output.parent.mkdir(parents=True, exist_ok=True)
    os.replace(parked, output)
    shutil.rmtree(park)
    return True


def cpu_count() -> int:
    """CPU cores this process may use (a container or ``taskset`` can allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_jobs() -> int:
    """Sweep runs executed at once: ``$CORNET_REPRO_JOBS`` if set, else :func:`cpu_count`."""
    raw = os.environ.get(JOBS_VARIABLE, "").strip()
    if not raw:
        return cpu_count()
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{JOBS_VARIABLE}={raw!r}: expected a positive integer, the number of sweep runs "
                         f"executed at once (1 runs them one after another); unset it to use every core")
    return int(raw)


def kernel_thread_env(workers: int, cores: int | None = None) -> dict[str, str]:
    """Thread budget of each kernel when ``workers`` run at once: ``cores // workers`` threads (at least 1).

    Small convolutions scale badly over threads, so two 1-thread runs beat one 2-thread run; and
    with more threads than cores, spinning OpenMP/OpenBLAS threads slow every run down (PASSIVE
    makes idle OpenMP threads sleep).
    """
    threads = str(max(1, (cores or cpu_count()) // workers))
    return {**{name: threads for name in THREAD_VARIABLES}, "OMP_WAIT_POLICY": "PASSIVE"}


@dataclass(frozen=True)
class _Run:
    """One run that must execute (a cache miss), with what is needed to log and report it."""
    name: str  # run name, e.g. train_and_score[model=cornet_s-seed=0]
    notebook: str
    index: int  # 1-based position in its notebook's runs (the sweep order)
    total: int
    label: str  # the sweep combination, "model=cornet_s seed=0" ("" outside a sweep)
    source: Path
    output: Path
    params: dict[str, Any]
    key: str


@dataclass(frozen=True)
class _Outcome:
    seconds: float
    error: str | None = None  # the NotebookError message


def _execute_run(run: _Run, root: Path) -> _Outcome:
    """Execute one run and record the files it wrote under its ``*_out`` paths.

    Also the task of a worker process: the before/after comparison then brackets the run itself,
    not its wait in the queue. A notebook that declares its outputs (:func:`declared_outputs`)
    gets exactly those recorded. Otherwise, runs executing at the same time may write into the
    same ``*_out`` directory, and a file they write while both run is recorded as a product of
    both (file times cannot tell the writers apart). That errs on the safe side: deleting or
    dropping either run also deletes the file, and the other run executes again, instead of a
    stale file surviving.
    """
    before = _output_files(root, run.params)
    start = time.perf_counter()
    try:
        execute_notebook(run.source, run.output, run.params, cwd=root, key=run.key)
    except NotebookError as exc:
        return _Outcome(time.perf_counter() - start, str(exc))
    try:
        products = declared_outputs(run.output, root)
    except NotebookError as exc:
        run.output.unlink(missing_ok=True)
        return _Outcome(time.perf_counter() - start, str(exc))
    if products is None:
        products = sorted(f for f, mtime in _output_files(root, run.params).items() if before.get(f) != mtime)
    if products:
        _record_outputs(run.output, products)
    return _Outcome(time.perf_counter() - start)


def _init_worker(env: dict[str, str]) -> None:
    # Kernels inherit this worker's environment; a value the user set explicitly is kept.
    for name, value in env.items():
        os.environ.setdefault(name, value)


def _execute_parallel(runs: list[_Run], workers: int, root: Path,
                      done: Callable[[_Run, _Outcome], None]) -> None:
    """Execute ``runs`` in ``workers`` processes; call ``done`` in this process as each one ends."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # spawn, not fork: the parent (Sphinx, pytest) may hold threads or an initialised OpenMP
    # runtime (torch), which a forked child inherits in a broken state.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(kernel_thread_env(workers),))
    try:
        futures = {pool.submit(_execute_run, run, root): run for run in runs}
        for future in as_completed(futures):
            run = futures[future]
            try:
                outcome = future.result()
            except BrokenProcessPool as exc:  # a worker was killed (e.g. out of memory)
                outcome = _Outcome(0.0, f"notebook {run.source} did not finish: its worker process died ({exc}); "
                                        f"run it alone with {JOBS_VARIABLE}=1 to see why")
            done(run, outcome)
    finally:
        # On an error here (or Ctrl-C), queued runs are dropped; running ones end first.
        pool.shutdown(wait=True, cancel_futures=True)


def run_book(root: str | os.PathLike, *, only: list[str] | None = None, force: bool = False,
             log: Callable[[str], None] = print, package_dir: Path = PACKAGE_DIR,
             jobs: int | None = None) -> list[RunRecord]:
    """Execute every notebook of the book whose cache key changed; return what was done.

    Notebooks run one after another (parameters.yml order); the runs of one sweep that must
    execute run ``jobs`` at a time (default :func:`default_jobs`), each kernel with the thread
    budget of :func:`kernel_thread_env`. ``jobs=1`` executes everything in this process, in order.
    All runs are attempted; if any fail, one :class:`NotebookError` lists every failure.
    """
    jobs = default_jobs() if jobs is None else jobs
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"run_book: jobs must be a positive integer, got {jobs!r}")
    root = Path(root).resolve()
    parameters = load_parameters(root)
    names = notebook_names(root)
    # Every entry, before any notebook runs: a typo found after an hour of training is an hour lost.
    check_book(parameters, {name: root / NOTEBOOK_DIR / f"{name}.ipynb" for name in names})
    records, failures = [], []
    # Looked up once per build (the versions take 25 ms, the package's part 10 ms), not once per
    # run of a sweep. Never stale: what is hashed is read before any run that uses it starts, so a
    # file edited during the build leaves a key that no longer matches, and the run executes again.
    versions = _versions()
    ordered = [n for n in parameters if n in names] + [n for n in names if n not in parameters]
    for name in ordered:
        if only is not None and name not in only:
            continue
        source = root / NOTEBOOK_DIR / f"{name}.ipynb"
        runs = expand_runs(name, parameters.get(name, {}))
        _park_dropped_runs(root, name, {root / relative for _, relative, _ in runs}, log)
        swept = list((parameters.get(name) or {}).get("sweep") or {})
        # One slot per run, so records keep the sweep order whatever order parallel runs end in.
        slots: list[RunRecord | None] = [None] * len(runs)

        def done(run: _Run, outcome: _Outcome) -> None:
            where = run.notebook + (f" [{run.index}/{run.total}] {run.label}" if run.label else "")
            if outcome.error is None:
                log(f"cornet-repro: {where}: {outcome.seconds:.1f} s")
                slots[run.index - 1] = RunRecord(run.name, True, outcome.seconds, run.output)
            else:
                log(f"cornet-repro: {where}: failed after {outcome.seconds:.1f} s")
                failures.append(outcome.error + (f" (sweep run {run.label})" if run.label else ""))

        pending = []
        package_part = package_digest(source, package_dir)
        for index, (run_name, relative, params) in enumerate(runs, 1):
            output = root / relative
            key = _cache_key(source, params, root, package_part, versions)
            if not force and not output.exists() and _restore_parked(root, name, output, key):
                log(f"cornet-repro: {run_name}: restored from {PARKED_DIR} (unchanged since it left the sweep)")
            # A run whose products (files it wrote under its *_out paths) were deleted runs again.
            if (not force and output.exists() and _stored_key(output) == key
                    and all((root / f).exists() for f in _stored_outputs(output))):
                _show_parameters_in_force_on_file(output, params)
                slots[index - 1] = RunRecord(run_name, False, 0.0, output)
                continue
            run = _Run(run_name, name, index, len(runs), " ".join(f"{k}={params[k]}" for k in swept),
                       source, output, params, key)
            if jobs == 1:
                log(f"cornet-repro: executing {source.relative_to(root)} with {params or 'defaults'}")
                done(run, _execute_run(run, root))
            else:
                pending.append(run)
        workers = min(jobs, len(pending))
        if workers > 1:
            threads = os.environ.get("OMP_NUM_THREADS", kernel_thread_env(workers)["OMP_NUM_THREADS"])
            log(f"cornet-repro: executing {len(pending)} runs of {source.relative_to(root)}, {workers} at a time "
                f"({threads} thread(s) each; {JOBS_VARIABLE} sets how many)")
            _execute_parallel(pending, workers, root, done)
        else:
            for run in pending:  # a single miss: this process, all cores
                log(f"cornet-repro: executing {source.relative_to(root)} with {run.params or 'defaults'}")
                done(run, _execute_run(run, root))
        records += [r for r in slots if r is not None]
    if failures:
        raise NotebookError("\n".join(failures))
    return records
