"""The whole book: a strict `jupyter-book build`, its cache, failures, and what a browser shows.

The book is built once per session in a temporary copy of the repository's book sources.
"""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from cornet_repro.data.published import load_scores
from cornet_repro.figures.fig1_brainscore_vs_imagenet import fig1_statistics
from cornet_repro.notebook_runner import load_parameters
from cornet_repro.stats import fmt_r

REPO = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
pytestmark = pytest.mark.skipif(not JUPYTER_BOOK.exists(), reason="jupyter-book is not installed in this Python")


#: The book's Fig. 4 sweep, cut to two models at the tiny preset so the suite stays within its
#: time budget (the book's own preset is measured by benchmarks/bench_book.py).
TEST_SWEEP = {"model": ["cornet_s", "cornet_s_steps_1_1_1"], "seed": [0]}
TEST_PRESET = "tiny"


def copy_book(dest: Path) -> Path:
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO / name, dest / name)
    shutil.copytree(REPO / "notebooks", dest / "notebooks")
    shutil.copytree(REPO / "book", dest / "book", ignore=shutil.ignore_patterns("executed"))
    params = load_parameters(dest)
    if "train_and_score" in params:
        params["train_and_score"].update(sweep=TEST_SWEEP, preset=TEST_PRESET)
    if "score_your_model" in params:
        params["score_your_model"].update(preset=TEST_PRESET)
    (dest / "book" / "parameters.yml").write_text(yaml.safe_dump(params, sort_keys=False))
    return dest


def n_runs(root: Path) -> int:
    """Notebook executions of a full build: one per notebook, one per sweep combination."""
    from cornet_repro.notebook_runner import expand_runs, notebook_names

    params = load_parameters(root)
    return sum(len(expand_runs(name, params.get(name, {}))) for name in notebook_names(root))


def build(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CORNET_REPRO_FORCE": ""}
    return subprocess.run([str(JUPYTER_BOOK), "build", str(root), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=1200, env=env)


def toc_files(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    root = copy_book(tmp_path_factory.mktemp("book"))
    result = build(root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root, result.stdout


def test_clean_build_executes_every_notebook_and_writes_every_page(built_book):
    root, log = built_book
    assert f"cornet-repro: {n_runs(root)} notebook(s) executed, 0 from cache" in log
    for docname in toc_files(root):
        assert (root / "_build" / "html" / f"{docname}.html").exists(), docname
    assert (root / "_build" / "html" / "index.html").exists()


def test_rebuild_without_changes_executes_nothing(built_book):
    root, _ = built_book
    result = build(root)
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"cornet-repro: 0 notebook(s) executed, {n_runs(root)} from cache" in result.stdout


def test_fig4_page_shows_the_recomputed_variants_beside_the_published(built_book):
    page = (built_book[0] / "_build" / "html" / "book" / "executed" / "fig4_circuitry.html").read_text()
    assert "data: simulated, preset tiny" in page and "not a reproduction of the paper" in page
    assert "(recomputed)" in page and "(published)" in page


def test_a_failing_notebook_fails_the_build_naming_notebook_and_cell(tmp_path):
    root = copy_book(tmp_path)
    (root / "notebooks" / "train_and_score.ipynb").unlink()  # no training needed to test a failure
    (root / "book" / "parameters.yml").write_text("table_a1:\n  sort_by: not_a_column\n")
    result = build(root)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "notebooks/table_a1.ipynb failed in cell [" in output
    assert "ValueError: sort_by must be one of" in output


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.browser
def test_every_page_renders_in_a_headless_browser(built_book):
    sync_api = pytest.importorskip("playwright.sync_api")
    html = built_book[0] / "_build" / "html"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    # index.html only redirects to the root page; it is checked on its own below.
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if not p.relative_to(html).parts[0].startswith("_") and p.name != "index.html")
    failed_requests, checked_links = [], set()
    try:
        with sync_api.sync_playwright() as p:
            exe = _chromium()
            try:
                browser = p.chromium.launch(executable_path=exe, args=[
                    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            except Exception as exc:  # no system Chromium and no Playwright browser
                pytest.skip(f"no Chromium to drive (install Debian's 'chromium'): {exc}")
            page = browser.new_page()
            page.on("response", lambda r: failed_requests.append((r.status, r.url))
                    if r.url.startswith(base) and r.status >= 400 else None)
            for name in pages:
                response = page.goto(base + name, wait_until="load")
                assert response is not None and response.status == 200, name
                images = page.eval_on_selector_all("img", "els => els.map(e => [e.src, e.naturalWidth])")
                broken = [src for src, width in images if not width]
                assert not broken, f"{name}: images that did not render: {broken}"
                for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                    target = href.split("#")[0]
                    if target.startswith(base) and target not in checked_links:
                        checked_links.add(target)
                        try:
                            urllib.request.urlopen(target, timeout=10).close()
                        except urllib.error.HTTPError as exc:
                            failed_requests.append((exc.code, f"{target} (linked from {name})"))
            page.goto(base + "index.html")
            page.wait_for_url("**/book/intro.html")
            assert "CORnet-S and Brain-Score" in page.title()
            # The Fig. 1 page shows the r recomputed from the published table with the book's parameters.
            threshold = load_parameters(built_book[0]).get("fig1_brainscore_vs_imagenet", {}).get("threshold", 0.70)
            stats = fig1_statistics(load_scores(), threshold=threshold, n_resamples=100)
            page.goto(base + "book/executed/fig1_brainscore_vs_imagenet.html")
            text = page.inner_text("main")
            assert f"r = {fmt_r(stats['below'].r)}" in text and f"n = {stats['below'].n}" in text
            assert f"r = {fmt_r(stats['above'].r)}" in text
            browser.close()
    finally:
        server.shutdown()
    assert not failed_requests, failed_requests
    assert len(pages) >= len(toc_files(built_book[0])) and checked_links


# --- tables (helper: tables) ---

def _open_page(html_root: Path, sync_api, name: str, width: int = 1280):
    """(playwright, browser, page, server) with ``name`` loaded; close with :func:`_close_page`."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(html_root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    p = sync_api.sync_playwright().start()
    try:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"])
    except Exception as exc:
        p.stop()
        server.shutdown()
        pytest.skip(f"no Chromium to drive (install Debian's 'chromium'): {exc}")
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"http://127.0.0.1:{server.server_address[1]}/{name}", wait_until="load")
    return p, browser, page, server


def _close_page(p, browser, server):
    browser.close()
    p.stop()
    server.shutdown()


def _column(page, table: str, index: int) -> list[str]:
    return page.eval_on_selector_all(f"#{table} tbody tr:not([hidden]):not(.cr-group)",
                                     f"rows => rows.map(r => r.cells[{index}].textContent.trim())")


@pytest.mark.browser
def test_table_a1_sorts_and_filters_in_the_page(built_book):
    sync_api = pytest.importorskip("playwright.sync_api")
    p, browser, page, server = _open_page(built_book[0] / "_build" / "html", sync_api, "book/executed/table_a1.html")
    try:
        assert "{glue" not in page.content()
        models = _column(page, "table-a1", 0)
        assert models[0] == "CORnet-S" and len(models) == 62
        page.click("#table-a1 thead button:text-is('V4')")  # descending first
        v4 = [float(v) for v in _column(page, "table-a1", 4) if v != "–"]
        assert v4 == sorted(v4, reverse=True) and v4[0] > 0.65
        page.click("#table-a1 thead button:text-is('Depth')")
        page.click("#table-a1 thead button:text-is('Depth')")  # ascending; missing depths last
        depth = _column(page, "table-a1", 13)
        known = [int(d) for d in depth if d != "–"]
        assert known == sorted(known) and known[0] == 8 and depth[-1] == "–"
        page.fill("#table-a1-figure input.cr-filter", "resnet")
        shown = _column(page, "table-a1", 0)
        assert shown and all("resnet" in m.lower() or "ResNet" in f
                             for m, f in zip(shown, _column(page, "table-a1", 2)))
        assert page.inner_text("#table-a1-figure .cr-count") == f"{len(shown)} of 62 rows"
        # the box scrolls, not the page; the model column stays in view
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        page.eval_on_selector("#table-a1-figure .cr-scroll", "el => el.scrollLeft = 400")
        x = page.eval_on_selector("#table-a1 tbody tr:not([hidden]) th", "el => el.getBoundingClientRect().left")
        box = page.eval_on_selector("#table-a1-figure .cr-scroll", "el => el.getBoundingClientRect().left")
        assert abs(x - box) < 3
        href = page.get_attribute("a.download[href$='table_a1.csv']", "href")
        assert href and urllib.request.urlopen(urllib.parse.urljoin(page.url, href)).read().startswith(b"# source:")
    finally:
        _close_page(p, browser, server)


@pytest.mark.browser
def test_fig4_and_claims_tables_fit_the_column(built_book):
    sync_api = pytest.importorskip("playwright.sync_api")
    html_root = built_book[0] / "_build" / "html"
    for name, table in (("book/executed/fig4_circuitry.html", "fig4-table"),
                        ("book/executed/claims_check.html", "claims-table")):
        p, browser, page, server = _open_page(html_root, sync_api, name)
        try:
            widths = page.eval_on_selector(f"#{table}", "t => [t.scrollWidth, t.closest('figure').clientWidth]")
            assert widths[0] <= widths[1], f"{name}: table {widths[0]} px in a {widths[1]} px column"
            if table == "fig4-table":  # one header row per group, simulated measures never called ImageNet
                groups = page.eval_on_selector_all("#fig4-table tr.cr-group", "rows => rows.length")
                assert groups == 8
                heads = page.eval_on_selector_all("#fig4-table thead th", "hs => hs.map(h => h.textContent)")
                assert not any("ImageNet" in h and "recomputed" in h for h in heads)
        finally:
            _close_page(p, browser, server)


# --- parameters (helper: params) ---

@pytest.mark.browser
def test_pages_log_no_javascript_error_and_figure_pages_launch_their_notebook_templates(built_book):
    """No page logs a JavaScript error (THEBE_JS_URL was declared twice on every page); each
    notebook page shows its parameters once and its launch buttons open notebooks/<name>.ipynb."""
    sync_api = pytest.importorskip("playwright.sync_api")
    root = built_book[0]
    html = root / "_build" / "html"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    errors, launches = [], {}
    try:
        with sync_api.sync_playwright() as p:
            try:
                browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"])
            except Exception as exc:
                pytest.skip(f"no Chromium to drive (install Debian's 'chromium'): {exc}")
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append((page.url, str(exc))))
            page.on("console", lambda m: errors.append((page.url, m.text)) if m.type == "error" else None)
            for docname in toc_files(root):
                page.goto(base + f"{docname}.html", wait_until="load")
                links = page.eval_on_selector_all(".dropdown-launch-buttons a", "els => els.map(e => e.href)")
                launches[docname] = links
                if docname.startswith("book/executed/"):
                    name = docname.rsplit("/", 1)[1]
                    assert links and all(f"notebooks/{name}.ipynb" in link for link in links), (docname, links)
                    text = page.inner_text("main")
                    assert "# Parameters" not in text and text.count("The parameters in force on this page") <= 1
            browser.close()
    finally:
        server.shutdown()
    assert not errors, errors
    assert launches["book/intro"] == []  # a prose page has no notebook to launch
