"""The book (``make docs``): every tutorial notebook executed in fast mode, the docs pages and the API
reference, built by Sphinx with warnings as errors.

Building it is also how the tutorial notebooks are tested: a cell that raises fails the build, and the
failure shows the end of Sphinx's log with the cell's traceback. (Dashboards are not in the book; the
browser tests of the dashboards run them in Voila.) Chromium then opens a case page, whose figures
load with nothing asked of another host, and the search page, which finds the case; screenshots go to
``tests/artifacts/book_*.png``.
"""

import json
import os
import re
import subprocess
import sys
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import pytest
from sphinx.errors import ExtensionError

from planetml_lib.cases import CASES
from planetml_lib.testing import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "book"))
import results_page  # noqa: E402 (the book's results extension, beside its pages)

ARTIFACTS = Path(__file__).parent / "artifacts"
NOTEBOOKS = sorted(path.relative_to(ROOT) for path in (ROOT / "notebooks").rglob("*.ipynb")
                   if path.name != "dashboard.ipynb" and ".ipynb_checkpoints" not in path.parts)
#: the Makefile's `docs` target, into another folder
SPHINX = [sys.executable, "-m", "sphinx", "-b", "html", "-c", "docs", "-W", "--keep-going", "."]
IMAGES_LOADED_JS = """() => Array.from(document.querySelectorAll('article img'))
    .map(image => image.complete && image.naturalWidth > 0)"""


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The book built into a temporary folder (the notebooks executed once, for every test here)."""
    html = tmp_path_factory.mktemp("book") / "html"
    done = subprocess.run([*SPHINX, str(html)], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "PLANETML_FAST": "1"})
    assert done.returncode == 0, f"the book did not build:\n{(done.stdout + done.stderr)[-8000:]}"
    return html


def built(book, source):
    """The HTML of the page built from ``source`` (a path relative to the repository)."""
    return (book / Path(source).with_suffix(".html")).read_text(encoding="utf-8")


def test_there_are_tutorial_notebooks():
    assert Path("notebooks/00_getting_started.ipynb") in NOTEBOOKS and len(NOTEBOOKS) > 10


@pytest.mark.parametrize("source", NOTEBOOKS, ids=str)
def test_every_tutorial_is_a_page_with_the_figures_its_run_drew(book, source):
    html = built(book, source)
    assert re.search(r'<img [^>]*src="[^"]*_images/', html), f"{source}: no figure in its page"
    assert "Traceback" not in html, f"{source}: an error shows in its page"
    assert f"urlpath=lab/tree/{source}" in html, f"{source}: no link to open it on Binder"
    if len(source.parts) == 3:
        assert f"urlpath=voila/render/notebooks/{source.parts[1]}/dashboard.ipynb" in html, f"{source}: no dashboard"
    assert "docs/book/launch.html" in html, f"{source}: no link to how to open it on the platforms"


def test_the_front_page_lists_every_case_and_the_reference(book):
    html = built(book, "docs/index.md")
    for source in NOTEBOOKS:
        assert f'href="../{source.with_suffix(".html")}"' in html, f"the front page does not link {source}"
    for reference in ("architecture", "platforms", "troubleshooting", "book/api", "book/launch"):
        assert f'href="{reference}.html"' in html
    assert (book / "index.html").read_text().count("docs/index.html") >= 1


def test_the_launch_page_opens_every_dashboard_on_binder_and_says_how_on_the_platforms(book):
    html = built(book, "docs/book/launch.md")
    for dashboard in sorted((ROOT / "notebooks").glob("*/dashboard.ipynb")):
        assert f"urlpath=voila/render/notebooks/{dashboard.parent.name}/dashboard.ipynb" in html
    assert "ESA Datalabs" in html and "EXPLORE" in html


def test_the_api_reference_has_a_page_per_case_with_its_config_and_shows_magnitudes_as_written(book):
    for case in CASES.values():
        name = case.__name__.rsplit(".", 1)[1]
        assert f'id="{case.__name__}.Config"' in built(book, f"docs/book/api/case_{name}.md"), name
    assert "|B|" in built(book, "docs/book/api/preprocess.md")


def test_the_api_reference_holds_every_public_module():
    documented = set(re.findall(r"automodule:: (\S+)", "".join(
        path.read_text() for path in (ROOT / "docs/book/api").glob("*.md"))))
    modules = {".".join(path.relative_to(ROOT).with_suffix("").parts)
               for path in (ROOT / "planetml_lib").rglob("*.py")
               if not any(part.startswith("_") for part in path.relative_to(ROOT).parts)
               and (path.parent / "__init__.py").exists()}  # not the Jupyter config files the package ships
    assert modules - documented == set(), "add them to a page of docs/book/api/"


def test_the_results_page_has_a_table_per_case_with_the_committed_figures(book):
    html = built(book, "docs/book/results.md")
    for spec in results_page.TABLES:
        assert spec["title"] in html.replace("&#8217;", "'"), spec["title"]
    minerals = json.loads((ROOT / "benchmarks/results/minerals.json").read_text())
    rmse = minerals["grouped_cv"]["spectranet1d ensemble (minerals.Config)"]["scores"]["RMSE_pp/mean_vol"]["mean"]
    assert f"<td><p>{rmse:.1f}</p></td>" in html


def test_a_figure_the_results_page_names_but_its_file_lacks_fails_the_build():
    with pytest.raises(ExtensionError, match="mercury.json has no cnnlstm_test / headline / F2"):
        results_page.figure({"cnnlstm_test": {"headline": {"F1": 0.9}}}, ("cnnlstm_test", "headline", "F2"),
                            "mercury.json")


@contextmanager
def served(folder):
    """``folder`` on a loopback port (Sphinx's search needs http, not file://); yields the base URL."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                              cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.browser
def test_a_case_page_shows_its_figures_offline_and_the_search_finds_the_case(book, page):
    refused = []

    def route(request):
        if urllib.parse.urlsplit(request.request.url).hostname == "127.0.0.1":
            request.continue_()
        else:
            refused.append(request.request.url)
            request.abort()

    page.route("**/*", route)
    ARTIFACTS.mkdir(exist_ok=True)
    with served(book) as url:
        page.goto(f"{url}/notebooks/mercury_boundaries/03_evaluate.html")
        page.wait_for_load_state("networkidle")
        loaded = page.evaluate(IMAGES_LOADED_JS)
        page.locator("article img").first.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "book_case_page.png", full_page=False)
        assert loaded and all(loaded), f"figures that did not load: {loaded}"
        page.goto(f"{url}/search.html?q=bow+shock")
        page.wait_for_selector("#search-results li", timeout=30_000)
        results = page.inner_text("#search-results")
        page.screenshot(path=ARTIFACTS / "book_search.png", full_page=False)
    assert "bow shock" in results.lower(), results[:500]
    assert not refused, f"the book asked other hosts for {refused}"
