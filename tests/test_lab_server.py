"""`make run`'s server: JupyterLab starts on a free port, serves the lab and renders with Voila."""

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url, timeout=60):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def wait_for(url, process, deadline=90):
    """Poll ``url`` until it answers; fail early with the server's log if it exits."""
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{process.stdout.read()}")
        try:
            return fetch(url, timeout=5)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"no answer from {url} within {deadline} s")


@pytest.fixture
def lab(tmp_path):
    """Start `planetml lab` on a free port over a folder holding one tiny notebook."""
    shutil.copy(DATA / "voila_tiny.ipynb", tmp_path / "tiny.ipynb")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "planetml_lib.cli", "lab", "--port", str(port), "--notebook-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first_line = process.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/lab\?token=(\w+)", first_line)
    assert match, f"`planetml lab` did not print the URL first: {first_line!r}"
    yield process, match.group(1), match.group(2)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.server
def test_lab_serves_jupyterlab_and_voila(lab):
    process, base, token = lab
    status, page = wait_for(f"{base}/lab?token={token}", process)
    assert status == 200 and "JupyterLab" in page
    status, page = fetch(f"{base}/voila/render/tiny.ipynb?token={token}", timeout=120)
    assert status == 200
    assert "voila-render-42" in page, "Voila did not execute the notebook"


@pytest.mark.server
def test_lab_refuses_requests_without_the_token(lab):
    process, base, token = lab
    wait_for(f"{base}/lab?token={token}", process)
    with pytest.raises(urllib.error.HTTPError) as error:
        fetch(f"{base}/api/contents")
    assert error.value.code == 403
