"""Every dashboard in a real browser: standalone Voila (as `planetml dashboard` starts it), driven by Chromium.

For each ``notebooks/<case>/dashboard.ipynb``: the page asks nothing of another host (offline
first; such a request is refused here, so it cannot hang the page), the widgets render, changing
an input updates the results within seconds, no error shows in the page or the server log, a
screenshot is kept in ``tests/artifacts/<case>_dashboard.png``, and a damaged upload (the case's
``example_input`` with its header garbled) shows one message naming the file while the figures stay.
Every change shows the busy line while it is computed and clears it after; the first download link
gives a non-empty file that parses as its format; an upload of the case's example input is named
and selected in the data menu, and no server temp path shows anywhere in the page.
"""

import json
import os
import subprocess
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from planetml_lib.cases import CASES
from planetml_lib.dashboards.common import BUSY_TEXT
from planetml_lib.dashboards.serve import list_dashboards, voila_command
from planetml_lib.errors import PlanetMLError
from planetml_lib.testing import NOT_BUSY_JS, RESULTS_JS, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).parent / "artifacts"
DASHBOARDS = list_dashboards(ROOT / "notebooks")
UPDATE_TIMEOUT_MS = 10_000
IMAGES_JS = "() => Array.from(document.querySelectorAll('.jupyter-widgets img')).map(e => e.src).join('\\n')"
ERROR_MARKS = ("There was an error when executing cell", "⚠")
LOAD_TIMEOUT_MS = 90_000
# Records in window.busySeen whether the busy line was ever added to the page, however briefly it stayed.
WATCH_BUSY_JS = f"""() => {{
    const busy = n => (n.textContent || '').includes({json.dumps(BUSY_TEXT)});
    window.busySeen = false;
    window.busyWatch?.disconnect();
    window.busyWatch = new MutationObserver(records => {{
        if (records.some(r => [...r.addedNodes, r.target].some(busy))) window.busySeen = true;
    }});
    window.busyWatch.observe(document.body, {{subtree: true, childList: true, characterData: true}});
}}"""
# Every text of the page a user can see or pick, the options of its menus included.
PAGE_TEXT_JS = """() => document.body.innerText + '\\n' +
    Array.from(document.querySelectorAll('option')).map(o => o.textContent).join('\\n')"""
TEMP_MARKS = ("planetml_upload_", tempfile.gettempdir() + "/", "/tmp/")

pytestmark = pytest.mark.browser


@contextmanager
def voila(notebook, log):
    """Serve ``notebook`` with standalone Voila in fast mode; yield its URL; stop it afterwards."""
    port = free_port()
    command, environ = voila_command(notebook, port=port, environ={**os.environ, "PLANETML_FAST": "1"})
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environ, cwd=ROOT)
    try:
        try:
            wait_for_port(port, process)
        except PlanetMLError as error:
            pytest.fail(f"Voila: {error}:\n{log.read_text()}")
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()  # Voila shuts its kernels down on SIGTERM
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def refuse_other_hosts(page):
    """Abort every request that leaves this machine; return the list their URLs are recorded in."""
    refused = []

    def route(request_route):
        if urllib.parse.urlsplit(request_route.request.url).hostname in ("127.0.0.1", "localhost"):
            request_route.continue_()
        else:
            refused.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    return refused


def load(page, url, log):
    """Open ``url``; Voila streams the page, so it has loaded once every cell has run."""
    try:
        page.goto(url, timeout=LOAD_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        pytest.fail(f"the page did not load within {LOAD_TIMEOUT_MS / 1000:.0f} s\n"
                    f"--- Voila log ---\n{log.read_text()}")


def settled_results(page, pause_s=0.75, deadline_s=15):
    """The results once they stop changing and the busy line is gone (an output is cleared before it is redrawn)."""
    previous, start = page.evaluate(RESULTS_JS), time.monotonic()
    while time.monotonic() - start < deadline_s:
        time.sleep(pause_s)
        current = page.evaluate(RESULTS_JS)
        if current == previous and page.evaluate(NOT_BUSY_JS):
            return current
        previous = current
    pytest.fail(f"the dashboard's results kept changing for {deadline_s} s")


def assert_updates(page, before, action, log):
    """The results differ from ``before`` within a few seconds; return the settled new results."""
    try:
        page.wait_for_function(f"before => ({RESULTS_JS})() !== before && ({NOT_BUSY_JS})()", arg=before,
                               timeout=UPDATE_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        pytest.fail(f"{action}: the results did not change within {UPDATE_TIMEOUT_MS / 1000:.0f} s\n"
                    f"--- Voila log ---\n{log.read_text()}")
    after = settled_results(page)
    assert after != before, f"{action}: the results changed, then changed back"
    return after


def change_dropdown(page):
    """Pick the next option of the first dropdown; False when the dashboard has none."""
    select = page.locator(".widget-dropdown select").first
    if not select.count():
        return False
    options = select.locator("option").all_text_contents()
    assert len(options) > 1, "the dropdown offers a single choice"
    current = select.evaluate("s => s.selectedIndex")
    select.select_option(index=(current + 1) % len(options))
    return True


def move_slider(page):
    """Move the last handle of the first slider to its lowest position; False when there is none."""
    handle = page.locator(".widget-slider .noUi-handle").last
    if not handle.count():
        return False
    handle.focus()
    handle.press("Home")
    return True


def assert_busy_came_and_went(page, action, log):
    """Since :data:`WATCH_BUSY_JS` ran, the busy line appeared and is gone now."""
    try:
        page.wait_for_function(NOT_BUSY_JS, timeout=UPDATE_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        pytest.fail(f"{action}: still busy after {UPDATE_TIMEOUT_MS / 1000:.0f} s\n"
                    f"--- Voila log ---\n{log.read_text()}")
    assert page.evaluate("() => window.busySeen"), f"{action}: no busy line ({BUSY_TEXT!r}) while it was computed"


def assert_no_temp_path_shown(page):
    text = page.evaluate(PAGE_TEXT_JS)
    for mark in TEMP_MARKS:
        assert mark not in text, f"the page shows a server path ({mark}):\n{text}"


def assert_first_download_parses(page, tmp_path):
    """Click the first download link: the file is not empty and reads back as its format."""
    with page.expect_download(timeout=UPDATE_TIMEOUT_MS) as download:
        page.locator("a[download]").first.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.stat().st_size, f"{path.name} is empty"
    suffix = path.suffix.lower()
    if suffix == ".csv":
        assert len(pd.read_csv(path)), f"{path.name} holds no row"
    elif suffix == ".geojson":
        assert json.loads(path.read_text())["features"], f"{path.name} holds no feature"
    elif suffix in (".xml", ".vot"):
        ET.parse(path)
    else:
        pytest.fail(f"teach this test to read the first download {path.name}")


def upload_example(page, case, folder, log):
    """Upload the case's example input: the data menu then names its files and selects them, and the busy
    line comes and goes."""
    paths = CASES[case].example_input(folder)
    page.evaluate(WATCH_BUSY_JS)
    with page.expect_file_chooser() as chooser:
        page.locator(".widget-upload").first.click()
    chooser.value.set_files([str(path) for path in paths])
    menu = page.locator(".widget-dropdown select").first
    names = [path.name for path in paths]
    try:
        page.wait_for_function("([select, names]) => names.every(n => select.selectedOptions[0].text.includes(n))",
                               arg=[menu.element_handle(), names], timeout=UPDATE_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        pytest.fail(f"the data menu shows {menu.evaluate('s => s.selectedOptions[0].text')!r}, not the upload "
                    f"{names}\n--- Voila log ---\n{log.read_text()}")
    assert_busy_came_and_went(page, "upload", log)


def assert_no_error_shown(page, log):
    text = page.inner_text("body")
    for mark in ERROR_MARKS:
        assert mark not in text, f"the page shows an error:\n{text}\n--- Voila log ---\n{log.read_text()}"


def upload_damaged_file(page, case, folder):
    """Upload the case's example input with its header garbled; return the file's name."""
    path = CASES[case].example_input(folder)[0]
    path.write_bytes(b"\xff\xfe garbled header \x00" * 4 + path.read_bytes()[88:])
    with page.expect_file_chooser() as chooser:  # the upload button makes its file input on click
        page.locator(".widget-upload").first.click()
    chooser.value.set_files(str(path))
    return path.name


def assert_upload_fault_is_shown_and_data_kept(page, case, tmp_path, log):
    """A damaged upload: one message naming the file appears in the page; the figures stay as they were."""
    figures = page.evaluate(IMAGES_JS)
    name = upload_damaged_file(page, case, tmp_path / "upload")
    try:
        page.wait_for_function("name => document.body.innerText.includes('⚠') && "
                               "document.body.innerText.includes(name)", arg=name, timeout=UPDATE_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        pytest.fail(f"no message for the damaged upload {name}\n--- Voila log ---\n{log.read_text()}")
    message = [line for line in page.inner_text("body").splitlines() if "⚠" in line]
    assert len(message) == 1 and "unexpected" not in message[0], message
    assert_no_temp_path_shown(page)
    assert page.evaluate(IMAGES_JS) == figures, "a damaged upload changed the figures"


@pytest.mark.parametrize("case", list(DASHBOARDS))
def test_dashboard_renders_and_updates_in_a_browser(case, page, tmp_path):
    log = tmp_path / "voila.log"
    refused = refuse_other_hosts(page)
    with voila(DASHBOARDS[case], log) as url:
        load(page, url, log)
        assert_no_error_shown(page, log)
        page.wait_for_selector(".jupyter-widgets", timeout=30_000)
        assert not page.locator(".widget-output").count(), \
            "an Output widget: draw figures with dashboards.common.figure_widget (see its docstring)"
        results = settled_results(page)
        assert results, "the dashboard shows no results (no HTML output, no figure)"
        assert_no_error_shown(page, log)
        changed = 0
        for action in (move_slider, change_dropdown):
            page.evaluate(WATCH_BUSY_JS)
            if action(page):
                results = assert_updates(page, results, action.__name__, log)
                assert_busy_came_and_went(page, action.__name__, log)
                assert_no_error_shown(page, log)
                changed += 1
        assert changed, "no input to change: teach this test how to drive the dashboard"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{case}_dashboard.png", full_page=True)
        assert_first_download_parses(page, tmp_path)
        assert_upload_fault_is_shown_and_data_kept(page, case, tmp_path, log)
        upload_example(page, case, tmp_path / "example", log)
        assert_no_error_shown(page, log)
        assert_no_temp_path_shown(page)
    assert "Traceback" not in log.read_text(), log.read_text()
    assert not refused, f"the page asked other hosts for: {refused}"


def test_every_case_folder_with_a_dashboard_is_tested():
    assert "icme" in DASHBOARDS
