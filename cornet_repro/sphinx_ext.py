"""Sphinx extension: execute the notebooks (papermill, cached) before ``jupyter-book build`` reads them.

Listed in ``_config.yml`` under ``sphinx.extra_extensions``. Parameters come from
``book/parameters.yml``; executed copies go to ``book/executed/``, which ``_toc.yml`` lists.
Set ``CORNET_REPRO_FORCE=1`` to re-execute everything, and ``CORNET_REPRO_JOBS=N`` to execute
N runs of a sweep at once (default: one per CPU core; 1 runs them one after another).

A bad parameter, or a notebook that fails, ends the build with one line per mistake on stderr and
a non-zero exit (2 for a parameter, 1 for a notebook), without a traceback: jupyter-book prints
the traceback of any exception an extension raises (an ``ExtensionError`` included), which would
bury the line that says what to fix, so the build exits through ``SystemExit``, which it lets pass.

The repository is named once, ``repository.url`` in ``_config.yml`` (with its ``branch``): the
theme's Binder and Colab launch buttons are built from it, and this extension points them at the
notebook templates (``notebooks/<name>.ipynb``, parameters cell first) instead of the executed
copies (``book/executed/``, git-ignored, so absent from the repository), and gives the pages the
substitutions ``{{ repository_url }}``, ``{{ repository_link }}``, ``{{ binder_link }}``,
``{{ colab_install }}``, ``{{ licence_link }}`` and ``{{ book_version }}`` made from it.

It also removes duplicate inline ``<script>`` tags from every page: Sphinx 7 registers a script
added with ``app.add_js_file(None, body=...)`` after the builder started twice, once with the
file name ``None`` and once with ``''`` (fixed upstream in sphinx-doc/sphinx#13402, in a Sphinx 8
release; jupyter-book 1 requires Sphinx 7), so sphinx-thebe's ``const THEBE_JS_URL = ...`` ran twice and every
page logged "Identifier 'THEBE_JS_URL' has already been declared".
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

from ._version import __version__
from .notebook_parameters import ParameterError
from .notebook_runner import NotebookError, run_book

logger = logging.getLogger(__name__)


def _run(app: Sphinx, config: Config) -> None:
    root = Path(app.srcdir)
    try:
        records = run_book(root, force=os.environ.get("CORNET_REPRO_FORCE") == "1", log=logger.info)
    except (NotebookError, ValueError) as exc:
        stop_build(exc)
    ran = [r for r in records if r.executed]
    logger.info(f"cornet-repro: {len(ran)} notebook(s) executed, {len(records) - len(ran)} from cache"
                + "".join(f"\n  {r.name}: {r.seconds:.1f} s" for r in ran))


def repository_parts(url: str) -> tuple[str, str]:
    """(owner, name) of a GitHub repository URL; a one-line ValueError for anything else."""
    parts = url.rstrip("/").removesuffix(".git").split("github.com/")
    if len(parts) != 2 or len(parts[1].split("/")) != 2 or not all(parts[1].split("/")):
        raise ValueError(f"_config.yml: repository.url = {url!r}: not a GitHub repository URL; "
                         "write https://github.com/OWNER/NAME (Binder and Colab launch from GitHub)")
    owner, name = parts[1].split("/")
    return owner, name


def book_substitutions(theme_options: dict[str, Any], version: str = __version__) -> dict[str, str]:
    """The substitutions made from ``repository.url`` (the theme's ``repository_url``): each a line of
    Markdown, so a page writes ``{{ binder_link }}`` and gets a link, never a URL typed by hand."""
    url = str(theme_options.get("repository_url", "")).rstrip("/")
    branch = theme_options.get("repository_branch") or "main"
    owner, name = repository_parts(url)
    launch = theme_options.get("launch_buttons") or {}
    binder = str(launch.get("binderhub_url") or "https://mybinder.org").rstrip("/")
    interface = {"jupyterlab": "lab/tree", "classic": "tree"}.get(launch.get("notebook_interface", "classic"), "tree")
    return {
        "repository_url": url,
        "repository_link": f"[{url}]({url})",
        "binder_link": f"[Binder]({binder}/v2/gh/{owner}/{name}/{branch}?urlpath={interface}/notebooks)",
        # a block (on a line of its own): a code box scrolls by itself on a phone, inline code would not
        "colab_install": f'```text\n!pip install "cornet-repro[book] @ git+{url}@{branch}"\n```',
        "licence_link": f"[MIT licence]({url}/blob/{branch}/pyproject.toml)",
        "book_version": version,
    }


def _add_substitutions(app: Sphinx, config: Config) -> None:
    try:
        ours = book_substitutions(dict(config.html_theme_options or {}))
    except ValueError as exc:
        stop_build(exc)
    # The book's own substitutions (parse.myst_substitutions in _config.yml) win.
    config.myst_substitutions = {**ours, **(getattr(config, "myst_substitutions", None) or {})}


def template_of(app: Sphinx, pagename: str) -> str | None:
    """The notebook template a page was executed from (``notebooks/<name>.ipynb``), None if none."""
    record = app.env.metadata.get(pagename, {}).get("cornet_repro") or {}
    if isinstance(record, str):  # myst-nb keeps a notebook's nested metadata as JSON text
        try:
            record = json.loads(record)
        except ValueError:
            return None
    source = record.get("source") if isinstance(record, dict) else None
    if isinstance(source, str) and (Path(app.srcdir) / source).is_file():
        return source
    return None


def _launch_templates(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    template = template_of(app, pagename)
    if template is None:
        return
    executed = re.compile(r"(?:\./)?" + re.escape(f"{pagename}.ipynb"))
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            for button in group.get("buttons", []):
                if "url" in button:
                    button["url"] = executed.sub(template, button["url"])


def stop_build(error: Exception) -> None:
    """End the build: ``error``'s message, one ``error: ...`` line per mistake, on stderr; exit 2 for
    a bad parameter, 1 otherwise (see the module docstring for why not an ``ExtensionError``)."""
    lines = [" ".join(line.split()) for line in str(error).splitlines() if line.strip()]
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    sys.stderr.flush()
    raise SystemExit(2 if isinstance(error, ParameterError) else 1)


def script_key(script: Any) -> tuple:
    """What makes two of a page's scripts the same script: its file (None and '' alike), priority
    and attributes (an inline script's text is its ``body`` attribute)."""
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {})
    return (str(filename), getattr(script, "priority", None), tuple(sorted(attributes.items())))


def _drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: it is the builder's list, which it resets before each page


def setup(app: Sphinx) -> dict:
    # Runs before the toc and sources are read, so the executed copies exist when Sphinx looks.
    app.connect("config-inited", _run, priority=100)
    app.connect("config-inited", _add_substitutions, priority=100)
    # Late, after the theme has made its launch buttons and extensions have added their page scripts.
    app.connect("html-page-context", _launch_templates, priority=900)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
