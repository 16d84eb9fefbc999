"""Sphinx extension: execute the notebooks (papermill, cached) before ``jupyter-book build`` reads them.

Listed in ``_config.yml`` under ``sphinx.extra_extensions``. Parameters come from
``book/parameters.yml``; executed copies go to ``book/executed/``, which ``_toc.yml`` lists.
Set ``CORNET_REPRO_FORCE=1`` to re-execute everything, and ``CORNET_REPRO_JOBS=N`` to execute
N runs of a sweep at once (default: one per CPU core; 1 runs them one after another).
"""

from __future__ import annotations

import os
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

from ._version import __version__
from .notebook_runner import NotebookError, run_book

logger = logging.getLogger(__name__)


def _run(app: Sphinx, config: Config) -> None:
    root = Path(app.srcdir)
    try:
        records = run_book(root, force=os.environ.get("CORNET_REPRO_FORCE") == "1", log=logger.info)
    except (NotebookError, ValueError) as exc:
        raise ExtensionError(f"cornet-repro: {exc}") from exc
    ran = [r for r in records if r.executed]
    logger.info(f"cornet-repro: {len(ran)} notebook(s) executed, {len(records) - len(ran)} from cache"
                + "".join(f"\n  {r.name}: {r.seconds:.1f} s" for r in ran))


def setup(app: Sphinx) -> dict:
    # Runs before the toc and sources are read, so the executed copies exist when Sphinx looks.
    app.connect("config-inited", _run, priority=100)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
