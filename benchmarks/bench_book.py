"""Book build time: a clean build (every notebook executed), a rebuild with nothing changed, and
a rebuild after an edit of a figure module (``figures/style.py``); and one small training sweep
executed one run at a time vs. two at once (``CORNET_REPRO_JOBS``).

Run: .venv/bin/python benchmarks/bench_book.py [--only sweep|book]
Targets on 2 cores: the figure notebooks ≤ 180 s, the whole clean build (with the Fig. 4 training
sweep of book/parameters.yml) ≤ 600 s, a no-change rebuild ≤ 30 s, a rebuild after a figure-style
edit executing the notebooks that import the figures and no training run; the sweep at jobs=2
≥ 1.5x faster than at jobs=1 (measured 1.9x on the book's sweep).

The book is built in a copy of the repository, package included (``PYTHONPATH`` points the build
and its kernels at the copy), so the benchmark edits the copy, never the checkout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


def build(root: Path) -> tuple[float, list[tuple[str, float]]]:
    """Build the book in ``root``: (wall time, (run name, seconds) of each executed notebook run)."""
    start = time.perf_counter()
    # The copy's package, for the runner (sphinx_ext imports it) and for every kernel it starts.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([str(JUPYTER_BOOK), "build", str(root), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    lines = result.stdout.splitlines()
    summary = [line for line in lines if "notebook(s) executed" in line]
    print(f"  {summary[-1] if summary else ''}")
    # The extension logs "  <run name>: <seconds> s" per executed notebook.
    per_run = [(line.split(":")[0].strip(), float(line.rsplit(":", 1)[1].strip(" s")))
               for line in lines if line.startswith("  ") and line.rstrip().endswith(" s") and ":" in line]
    sweep = sum(t for name, t in per_run if "[" in name)
    if per_run:  # sweep runs executed in parallel: their seconds add up to more than the wall time
        print(f"  notebooks: {sum(t for _, t in per_run):.1f} s, of which sweep runs {sweep:.1f} s "
              f"({sum('[' in n for n, _ in per_run)} runs), figures and tables {sum(t for _, t in per_run) - sweep:.1f} s")
    return elapsed, per_run


def edit_figure_style(root: Path) -> Path:
    """Append a comment line to the copy's ``cornet_repro/figures/style.py`` (an edit no notebook output sees)."""
    style = root / "cornet_repro" / "figures" / "style.py"
    with style.open("a") as f:
        f.write("\n# bench_book: an edit of a figure module\n")
    return style


# One run of the sweep: a fixed number of training steps of CORnet-S at the tiny preset's size
# (width 1/8, 32 px, batch 32), the kind of work train_and_score does, without data or scoring.
SWEEP_PARAMS = "seed = 0\nsteps = 150"
SWEEP_BODY = """import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as cornet_repro.train sets it
import time
import torch
from cornet_repro.models import get_model

torch.manual_seed(seed)
model = get_model("cornet_s", width=0.125)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
images, labels = torch.randn(32, 3, 32, 32), torch.randint(0, 16, (32,))
start = time.perf_counter()
for _ in range(steps):
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"{steps} steps, {torch.get_num_threads()} thread(s): {time.perf_counter() - start:.1f} s")
"""


def sweep_jobs(runs: int = 4) -> dict[int, float]:
    """Wall time of one sweep of ``runs`` training notebooks at jobs=1 and jobs=2, from scratch."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from cornet_repro.notebook_runner import run_book

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "notebooks").mkdir()
        (root / "book").mkdir()
        nb = new_notebook(cells=[new_code_cell(SWEEP_PARAMS, metadata={"tags": ["parameters"]}),
                                 new_code_cell(SWEEP_BODY)],
                          metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                   "language": "python"}})
        nbformat.write(nb, root / "notebooks" / "train_sweep.ipynb")
        (root / "book" / "parameters.yml").write_text(f"train_sweep:\n  sweep:\n    seed: {list(range(runs))}\n")
        wall = {}
        for jobs in (1, 2):
            start = time.perf_counter()
            records = run_book(root, force=True, jobs=jobs, log=lambda m: None)
            wall[jobs] = time.perf_counter() - start
            assert sum(r.executed for r in records) == runs
        return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["sweep", "book"], help="run one of the two measurements")
    parser.add_argument("--keep", metavar="DIR", help="build the book in DIR (must not exist) and keep it, "
                                                      "e.g. to read its results/ afterwards")
    args = parser.parse_args()
    only = args.only
    if only in (None, "sweep"):
        runs = 4
        wall = sweep_jobs(runs)
        print(f"sweep of {runs} training notebooks (CORnet-S, tiny size, 150 steps each):")
        print(f"  jobs=1: {wall[1]:6.1f} s   jobs=2: {wall[2]:6.1f} s   "
              f"speed-up {wall[1] / wall[2]:.2f}x   (target ≥ 1.5x on 2 cores)")
    if only in (None, "book"):
        book(args.keep)


def book(keep: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(keep or tmp)
        if keep:
            root.mkdir(parents=True)  # an existing directory would not be a clean build
        for name in ("_config.yml", "_toc.yml"):
            shutil.copy(REPO / name, root / name)
        shutil.copytree(REPO / "notebooks", root / "notebooks")
        shutil.copytree(REPO / "book", root / "book", ignore=shutil.ignore_patterns("executed"))
        shutil.copytree(REPO / "cornet_repro", root / "cornet_repro", ignore=shutil.ignore_patterns("__pycache__"))
        n = len(list((root / "notebooks").glob("*.ipynb")))
        print(f"book with {n} notebooks, built in a clean copy at {root}")
        clean, _ = build(root)
        print(f"clean build:      {clean:7.1f} s   (target ≤ 600 s with the training sweep)")
        rebuild, _ = build(root)
        print(f"no-change build:  {rebuild:7.1f} s   (target ≤ 30 s)")
        edited = edit_figure_style(root)
        restyle, ran = build(root)
        notebooks = sorted({name.split("[")[0] for name, _ in ran})
        training = [name for name, _ in ran if name.startswith("train_and_score")]
        print(f"figure-style edit: {restyle:6.1f} s   ({len(ran)} run(s) of {len(notebooks)} notebook(s) executed "
              f"after editing {edited.relative_to(root)}: {', '.join(notebooks) or 'none'}; "
              f"training runs: {len(training)}, target 0)")
        print(f"clean {clean:.1f} s | no change {rebuild:.1f} s | figure-style edit {restyle:.1f} s; "
              f"ratio clean / no-change: {clean / rebuild:.1f}x, clean / figure-style edit: {clean / restyle:.1f}x")
        if training:
            sys.exit(f"a figure-style edit re-executed {len(training)} training run(s): {training}")


if __name__ == "__main__":
    main()
