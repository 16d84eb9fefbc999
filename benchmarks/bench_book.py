"""Book build time: a clean build (every notebook executed) and a rebuild with nothing changed.

Run: .venv/bin/python benchmarks/bench_book.py   (targets on 2 cores: clean ≤ 180 s, no-change ≤ 30 s)
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
    summary = [line for line in result.stdout.splitlines() if "notebook(s) executed" in line]
    print(f"  {summary[-1] if summary else ''}")
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
        print(f"clean build:      {clean:7.1f} s   (target ≤ 180 s)")
        rebuild = build(root)
        print(f"no-change build:  {rebuild:7.1f} s   (target ≤ 30 s)")
        print(f"ratio clean / no-change: {clean / rebuild:.1f}x")


if __name__ == "__main__":
    main()
