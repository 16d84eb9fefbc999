"""Book build time: a clean build (every notebook executed) and a rebuild with nothing changed.

Run: .venv/bin/python benchmarks/bench_book.py
Targets on 2 cores: the figure notebooks ≤ 180 s, the whole clean build (with the Fig. 4 training
sweep of book/parameters.yml) ≤ 600 s, a no-change rebuild ≤ 30 s.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


def build(root: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run([str(JUPYTER_BOOK), "build", str(root), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True)
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
    if per_run:
        print(f"  notebooks: {sum(t for _, t in per_run):.1f} s, of which sweep runs {sweep:.1f} s "
              f"({sum('[' in n for n, _ in per_run)} runs), figures and tables {sum(t for _, t in per_run) - sweep:.1f} s")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("_config.yml", "_toc.yml"):
            shutil.copy(REPO / name, root / name)
        shutil.copytree(REPO / "notebooks", root / "notebooks")
        shutil.copytree(REPO / "book", root / "book", ignore=shutil.ignore_patterns("executed"))
        n = len(list((root / "notebooks").glob("*.ipynb")))
        print(f"book with {n} notebooks, built in a clean copy at {root}")
        clean = build(root)
        print(f"clean build:      {clean:7.1f} s   (target ≤ 600 s with the training sweep)")
        rebuild = build(root)
        print(f"no-change build:  {rebuild:7.1f} s   (target ≤ 30 s)")
        print(f"ratio clean / no-change: {clean / rebuild:.1f}x")


if __name__ == "__main__":
    main()
