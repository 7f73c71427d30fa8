"""Dashboard kernels end: a closed tab's kernel is shut down, an unconnected idle one is culled.

Standalone Voila as ``planetml dashboard`` starts it, and JupyterLab as ``planetml lab`` does, on
a one-cell notebook. The tests do over
HTTP what Voila's page does: load the page (which starts a kernel), then, as the page does when its
tab closes, POST ``voila/api/shutdown/<kernel>`` with the value of the ``_xsrf`` cookie. Kernels are
counted as the server's child processes.
"""

import http.cookiejar
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from planetml_lib.dashboards.serve import voila_command
from planetml_lib.lab import lab_command, lab_settings
from planetml_lib.testing import free_port, wait_for_port

NOTEBOOK = Path(__file__).parent / "data" / "voila_tiny.ipynb"

pytestmark = pytest.mark.server


@contextmanager
def voila(log, **variables):
    """Serve the tiny notebook with ``variables`` in the environment; yield (URL, process)."""
    port = free_port()
    command, environ = voila_command(NOTEBOOK, port=port, environ={**os.environ, **variables})
    with serving(command, environ, port, log) as process:
        yield f"http://127.0.0.1:{port}/", process


@contextmanager
def serving(command, environ, port, log):
    """Run a server's ``command`` until the block ends; yield its process once it listens."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environ)
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def kernels(process):
    """The kernels a server runs: its child processes."""
    return psutil.Process(process.pid).children(recursive=True)


def wait_until(condition, deadline):
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def shut_down_as_the_closing_tab_does(url, kernel, cookies, opener):
    form = urllib.parse.urlencode({"_xsrf": cookies["_xsrf"]}).encode()
    with opener.open(f"{url}voila/api/shutdown/{kernel}", data=form, timeout=30) as response:
        assert response.status == 204


def open_page(url):
    """Load the dashboard page as a browser would; return (kernel id, cookies, opener)."""
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    with opener.open(url, timeout=120) as response:
        page = response.read().decode()
    assert "voila-render-42" in page, "Voila did not execute the notebook"
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]+)"', page).group(1)
    return kernel, {cookie.name: cookie.value for cookie in cookies}, opener


def test_closing_the_tab_shuts_the_kernel_down(tmp_path):
    with voila(tmp_path / "voila.log") as (url, process):
        kernel, cookies, opener = open_page(url)
        assert len(kernels(process)) == 1
        assert "_xsrf" in cookies, "the page sets no _xsrf cookie: its shutdown request would be refused (403)"
        shut_down_as_the_closing_tab_does(url, kernel, cookies, opener)
        assert wait_until(lambda: not kernels(process), 20), "the kernel still runs after its tab closed"


def test_an_idle_kernel_without_a_tab_is_culled_and_an_open_one_is_not_by_default(tmp_path):
    with voila(tmp_path / "culled.log", PLANETML_CULL_IDLE_S="2") as (url, process):
        open_page(url)
        assert len(kernels(process)) == 1
        assert wait_until(lambda: not kernels(process), 30), "an unconnected idle kernel was not culled"
    with voila(tmp_path / "default.log") as (url, process):
        open_page(url)
        time.sleep(6)  # three times the culling time above
        assert len(kernels(process)) == 1, "a kernel was culled long before the default idle time"


def test_closing_a_dashboard_tab_in_the_lab_shuts_its_kernel_down(tmp_path):
    shutil.copy(NOTEBOOK, tmp_path / "tiny.ipynb")
    port = free_port()
    settings = lab_settings(port=port, environ={"PLANETML_TOKEN": "t0ken"})
    command, environ = lab_command(tmp_path, settings)
    with serving(command, environ, port, tmp_path / "lab.log") as process:
        url = f"http://127.0.0.1:{port}/"
        kernel, cookies, opener = open_page(f"{url}voila/render/tiny.ipynb?token=t0ken")
        assert len(kernels(process)) == 1 and "_xsrf" in cookies
        shut_down_as_the_closing_tab_does(url, kernel, cookies, opener)  # the login cookie, not the token
        assert wait_until(lambda: not kernels(process), 20), "the kernel still runs after its tab closed"
