"""The whole book: a strict `jupyter-book build`, its cache, failures, and what a browser shows.

The book is built once per session in a temporary copy of the repository's book sources.
"""

import functools
import http.server
import io
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
    if "fig4_circuitry" in params:  # the shipped sweep, beside the live runs of the tiny preset
        params["fig4_circuitry"].update(preset="plateau")
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


def test_fig4_page_shows_the_shipped_sweep_with_cis_verdicts_and_the_live_check(built_book):
    from cornet_repro.data.shipped import read_manifest
    from cornet_repro.figures.fig4_circuitry import KEY_CLAIMS

    import html

    page = (built_book[0] / "_build" / "html" / "book" / "executed" / "fig4_circuitry.html").read_text()
    seeds = sum(run["model_name"] == "cornet_s" for run in read_manifest("plateau")["runs"])
    assert seeds >= 3 and f"data: simulated, preset plateau, {seeds} seeds per variant" in page
    assert "not a reproduction of the paper" in page and "(recomputed)" in page and "(published)" in page
    assert "variants are resolved (95% CI over seeds excludes 0)" in page and " resolved</" in page  # summary, table
    verdicts = page.split("<ul class='cr-verdicts'>", 1)[1].split("</ul>", 1)[0]  # the output, not the code
    assert verdicts.count("<li>") == len(KEY_CLAIMS)
    # the live runs here are tiny-preset runs: nothing of the plateau sweep to compare, and the page says so
    assert "Shipped sweep not checked</p>" in page and "is in the shipped sweep 'plateau'" in html.unescape(page)
    assert "runs reached a plateau" in page and "fig4_curves.csv" in page


def test_the_papers_figures_keep_their_numbers(built_book):
    """Fig. 1-5 of the book are the paper's Fig. 1-5: other figures on their pages are unnumbered."""
    import re

    html = built_book[0] / "_build" / "html" / "book" / "executed"
    pages = ["fig1_brainscore_vs_imagenet", "fig2_generalization", "fig3_depth", "fig4_circuitry",
             "fig5_object_solution_times"]
    for number, page in enumerate(pages, 1):
        found = re.findall(r'<span class="caption-number">Fig\. (\d+) </span>', (html / f"{page}.html").read_text())
        assert found == [str(number)], (page, found)


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


#: Window widths every page is looked at: a laptop and a phone.
WIDTHS = (1280, 390)
#: The smallest text of a figure must render at least this large (CSS px): at 1280 px, and on a
#: phone (390 px), where wide figures show their narrow layout (page_figure(narrow=...)).
MIN_TEXT_PX = 9.0
MIN_TEXT_PX_PHONE = 7.5
#: Pages whose points must name themselves on hover.
HOVER_PAGES = ("book/executed/fig1_brainscore_vs_imagenet.html", "book/executed/fig2_generalization.html",
               "book/executed/fig3_depth.html")
#: Page JavaScript errors tolerated: none (sphinx_ext removes the duplicate THEBE_JS_URL script).
KNOWN_JS_ERRORS: tuple[str, ...] = ()

# rendered px of a figure's smallest text: pt × dpi/72 × displayed width / natural width; inline SVG
# figures (page_figure) and images that carry their font metadata (the circuit gallery)
_FIGURE_TEXT_JS = """() => Array.from(document.querySelectorAll("main svg.cornet-figure"))
    .filter(svg => svg.getBoundingClientRect().width > 0).map(svg => {
    const pt = parseFloat(svg.dataset.cornetMinFontsize), dpi = parseFloat(svg.dataset.cornetDpi);
    const natural = parseFloat(svg.dataset.cornetNaturalWidth), shown = svg.getBoundingClientRect().width;
    return {label: svg.getAttribute("aria-label") || "", px: pt * dpi / 72 * shown / natural};
}).concat(Array.from(document.querySelectorAll("main img[data-min-fontsize]"))
    .filter(img => img.getBoundingClientRect().width > 0).map(img => {
    const pt = parseFloat(img.dataset.minFontsize), dpi = parseFloat(img.dataset.dpi);
    return {label: img.alt || img.src.split("/").pop(),
            px: pt * dpi / 72 * img.getBoundingClientRect().width / img.naturalWidth};
}))"""
# images in cell outputs that are not measurable figures (a figure should go through page_figure)
_UNMEASURED_JS = """() => Array.from(document.querySelectorAll("main .cell_output img, main figure img"))
    .filter(img => !img.dataset.minFontsize).map(img => img.src.split("/").pop())"""
_OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _hover_a_point(page) -> tuple[str, str]:
    """Hover the first labelled point that is not covered by another one; (its title, the tooltip shown)."""
    tips = page.query_selector_all("main [data-cornet-tip]")
    assert tips, "no point with a hover title"
    for tip in tips:
        tip.scroll_into_view_if_needed()
        box = tip.bounding_box()
        if not box or box["width"] == 0:
            continue
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        on_top = page.evaluate("([x, y]) => { const e = document.elementFromPoint(x, y);"
                               " const t = e && e.closest('[data-cornet-tip]'); return t ? t.dataset.cornetTip : null; }",
                               [x, y])
        if on_top != tip.get_attribute("data-cornet-tip"):
            continue  # another point or label lies over this one: try the next
        page.mouse.move(x, y)
        tooltip = page.wait_for_selector(".cornet-tooltip", state="visible", timeout=2000)
        return on_top, tooltip.inner_text()
    raise AssertionError("no labelled point could be hovered")


def inspect_book(html: Path) -> tuple[dict[str, float], list[str], int]:
    """Open every page of a built book at 1280 and 390 px and look at what a reader sees: (the
    smallest rendered figure text per page, CSS px at 1280; every problem found; CSV links checked)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    import pandas as pd

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    # index.html only redirects to the root page; it is checked on its own below.
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if not p.relative_to(html).parts[0].startswith("_") and p.name != "index.html")
    problems, checked_links, smallest, csv_links = [], set(), {}, 0
    try:
        with sync_api.sync_playwright() as p:
            try:
                browser = p.chromium.launch(executable_path=_chromium(), args=[
                    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            except Exception as exc:  # no system Chromium and no Playwright browser
                pytest.skip(f"no Chromium to drive (install Debian's 'chromium'): {exc}")
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                errors = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
                        if r.url.startswith(base) and r.status >= 400 else None)
                for name in pages:
                    errors.clear()
                    response = page.goto(base + name, wait_until="load")
                    if response is None or response.status != 200:
                        problems.append(f"{name}: not served")
                        continue
                    images = page.eval_on_selector_all("img", "els => els.map(e => [e.src, e.naturalWidth])")
                    problems += [f"{name}: image did not render: {src}" for src, w in images if not w]
                    overflow = page.evaluate(_OVERFLOW_JS)
                    if overflow > 1:
                        problems.append(f"{name} at {width} px: the page scrolls sideways by {overflow} px")
                    problems += [f"{name} at {width} px: JavaScript error: {e}" for e in errors
                                 if not any(known in e for known in KNOWN_JS_ERRORS)]
                    least = MIN_TEXT_PX if width == 1280 else MIN_TEXT_PX_PHONE
                    for figure in page.evaluate(_FIGURE_TEXT_JS):
                        if width == 1280:
                            smallest[name] = min(smallest.get(name, float("inf")), figure["px"])
                        if figure["px"] < least:
                            problems.append(f"{name}: figure {figure['label']!r}: smallest text {figure['px']:.1f} px "
                                            f"< {least} px at {width} px")
                    if width != 1280:
                        continue
                    problems += [f"{name}: figure image {src} has no font metadata (show it with "
                                 "cornet_repro.figures.interactive.page_figure)" for src in page.evaluate(_UNMEASURED_JS)]
                    if name in HOVER_PAGES:
                        title, shown = _hover_a_point(page)
                        if shown.strip() != title.strip() or not any(ch.isdigit() for ch in shown):
                            problems.append(f"{name}: hovering {title!r} showed {shown!r}")
                    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                        target = href.split("#")[0]
                        if not target.startswith(base) or target in checked_links:
                            continue
                        checked_links.add(target)
                        try:
                            with urllib.request.urlopen(target, timeout=10) as r:
                                body = r.read()
                        except urllib.error.HTTPError as exc:
                            problems.append(f"HTTP {exc.code}: {target} (linked from {name})")
                            continue
                        if target.endswith(".csv"):  # a figure's data: header rows, then a table
                            csv_links += 1
                            text = body.decode()
                            table = pd.read_csv(io.StringIO(text), comment="#")
                            if "# source: " not in text or table.empty:
                                problems.append(f"{target} (linked from {name}): no source header or no rows")
                page.close()
            page = browser.new_page()
            page.goto(base + "index.html")
            page.wait_for_url("**/book/intro.html")
            if "CORnet-S and Brain-Score" not in page.title():
                problems.append(f"index.html: title {page.title()!r}")
            browser.close()
    finally:
        server.shutdown()
    if len(pages) < 2 or not checked_links:
        problems.append(f"only {len(pages)} page(s) and {len(checked_links)} link(s) found")
    return smallest, problems, csv_links


def check_book_in_browser(html: Path) -> dict[str, float]:
    """:func:`inspect_book`, failing with every problem listed; returns the smallest figure text per page."""
    smallest, problems, csv_links = inspect_book(html)
    assert not problems, "\n".join(problems)
    assert csv_links, "no CSV download link found"
    return smallest


@pytest.mark.browser
def test_every_page_renders_in_a_headless_browser(built_book):
    """Every page at 1280 and 390 px: no sideways scroll, no JavaScript error, figure text >= 9 px
    (>= 7.5 px on the phone),
    points that name themselves on hover (Figs. 1-3), CSV links that resolve and parse."""
    html = built_book[0] / "_build" / "html"
    smallest = check_book_in_browser(html)
    for figure_page in ("fig1_brainscore_vs_imagenet", "fig2_generalization", "fig3_depth", "fig4_circuitry",
                        "fig5_object_solution_times"):
        assert f"book/executed/{figure_page}.html" in smallest, f"{figure_page}: no measured figure"
    assert len(list(html.rglob("*.html"))) >= len(toc_files(built_book[0]))


@pytest.mark.browser
def test_fig1_page_shows_the_r_recomputed_with_the_books_parameters(built_book):
    sync_api = pytest.importorskip("playwright.sync_api")
    page_path = built_book[0] / "_build" / "html" / "book" / "executed" / "fig1_brainscore_vs_imagenet.html"
    threshold = load_parameters(built_book[0]).get("fig1_brainscore_vs_imagenet", {}).get("threshold", 0.70)
    stats = fig1_statistics(load_scores(), threshold=threshold, n_resamples=100)
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"])
        except Exception as exc:
            pytest.skip(f"no Chromium to drive (install Debian's 'chromium'): {exc}")
        page = browser.new_page()
        page.goto(page_path.as_uri())
        text = page.inner_text("main")
        browser.close()
    assert f"r = {fmt_r(stats['below'].r)}" in text and f"n = {stats['below'].n}" in text
    assert f"r = {fmt_r(stats['above'].r)}" in text


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
        assert href
        csv = urllib.request.urlopen(urllib.parse.urljoin(page.url, href)).read().decode()
        assert csv.startswith("# table_a1: ") and "\n# source: published" in csv
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


if __name__ == "__main__":  # look at an already built book: python tests/test_book.py _build/html
    smallest, problems, csv_links = inspect_book(Path(sys.argv[1]))
    for page_name, px in sorted(smallest.items()):
        print(f"{page_name}: smallest figure text {px:.1f} px at 1280 px")
    print(f"{csv_links} CSV link(s) resolved and parsed")
    print("\n".join(problems) or "no problems")
