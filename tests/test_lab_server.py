"""`make run`'s server: JupyterLab starts on a free port, serves the lab and renders with Voila.

Also as a container or a science platform starts it: under a base URL, with the token from the
environment, without a token only when asked, and as a JupyterHub single-user server.
"""

import asyncio
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ipykernel.ipkernel import IPythonKernel

from planetml_lib import lab as lab_module
from planetml_lib.cli import main
from planetml_lib.errors import PlanetMLError
from planetml_lib.lab import check_health, lab_command, lab_settings, normalize_base_url
from planetml_lib.lab_contents import NotebookContentsManager
from planetml_lib.testing import free_port

DATA = Path(__file__).parent / "data"
REPOSITORY = Path(__file__).resolve().parents[1]
# Variables that change how `planetml lab` starts; the tests set them explicitly, never inherit them.
LAB_VARIABLES = ("PLANETML_PORT", "PLANETML_BASE_URL", "PLANETML_TOKEN", "PLANETML_NO_TOKEN", "JUPYTER_TOKEN",
                 "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_SERVICE_PREFIX")


def clean_environ(**variables):
    """This process's environment without the lab's variables, plus ``variables``."""
    environ = {name: value for name, value in os.environ.items() if name not in LAB_VARIABLES}
    return {**environ, **variables}


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


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def run_lab(tmp_path):
    """Start `planetml lab ARGS` with ``environ`` over a folder holding one tiny notebook.

    Returns the process and the lines it printed up to and including the one with the lab's URL.
    """
    shutil.copy(DATA / "voila_tiny.ipynb", tmp_path / "tiny.ipynb")
    processes = []

    def start(*args, environ):
        process = subprocess.Popen([sys.executable, "-m", "planetml_lib.cli", "lab", "--notebook-dir", str(tmp_path),
                                    *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ)
        processes.append(process)
        lines = [process.stdout.readline()]
        while "JupyterLab at" not in lines[-1] and len(lines) < 5:
            lines.append(process.stdout.readline())
        return process, lines

    yield start
    for process in processes:
        stop(process)


@pytest.fixture
def lab(run_lab):
    """`planetml lab` on a free port with a generated token, as `make run` starts it."""
    process, lines = run_lab("--port", str(free_port()), environ=clean_environ())
    match = re.search(r"(http://127\.0\.0\.1:\d+)/lab\?token=(\w+)", lines[0])
    assert match, f"`planetml lab` did not print the URL first: {lines[0]!r}"
    return process, match.group(1), match.group(2)


@pytest.mark.server
def test_lab_serves_jupyterlab_and_voila(lab):
    process, base, token = lab
    status, page = wait_for(f"{base}/lab?token={token}", process)
    assert status == 200 and "JupyterLab" in page
    status, page = fetch(f"{base}/voila/render/tiny.ipynb?token={token}", timeout=120)
    assert status == 200
    assert "voila-render-42" in page, "Voila did not execute the notebook"
    assert_renders_offline(page)


def assert_renders_offline(page):
    """PlanetML's Voila template rendered the page: no stylesheet or script from another host."""
    assert "voila/templates/planetml/" in page, "the page was not rendered with PlanetML's template"
    remote = re.findall(r'<(?:link|script)[^>]+(?:href|src)="(https?://[^"]+)"', page)
    assert not remote, f"the page loads from other hosts: {remote}"


@pytest.mark.server
def test_lab_refuses_requests_without_the_token(lab):
    process, base, token = lab
    wait_for(f"{base}/lab?token={token}", process)
    with pytest.raises(urllib.error.HTTPError) as error:
        fetch(f"{base}/api/contents")
    assert error.value.code == 403


@pytest.mark.server
def test_lab_under_a_base_url_with_port_and_token_from_the_environment(run_lab):
    port, token = free_port(), "s3cret-from-env"
    process, lines = run_lab(environ=clean_environ(PLANETML_PORT=str(port), PLANETML_BASE_URL="/user/test",
                                                   PLANETML_TOKEN=token))
    assert f"http://127.0.0.1:{port}/user/test/lab (token: the value of $PLANETML_TOKEN)" in lines[-1]
    assert token not in "".join(lines), "a token from the environment must not be printed"
    base = f"http://127.0.0.1:{port}/user/test"
    status, page = wait_for(f"{base}/lab?token={token}", process)
    assert status == 200 and "JupyterLab" in page
    status, page = fetch(f"{base}/lab/tree/tiny.ipynb?token={token}")
    assert status == 200 and "JupyterLab" in page
    status, body = fetch(f"{base}/api/contents/tiny.ipynb?token={token}")
    assert "voila-render-" in json.loads(body)["content"]["cells"][0]["source"]
    status, page = fetch(f"{base}/voila/render/tiny.ipynb?token={token}", timeout=120)
    assert status == 200 and "voila-render-42" in page
    assert_renders_offline(page)
    assert check_health({"PLANETML_PORT": str(port), "PLANETML_BASE_URL": "/user/test/"}) == 0
    for url, code in [(f"{base}/api/contents?token=wrong", 403), (f"http://127.0.0.1:{port}/lab?token={token}", 404)]:
        with pytest.raises(urllib.error.HTTPError) as error:
            fetch(url)
        assert error.value.code == code, url


@pytest.mark.server
def test_lab_runs_without_a_token_only_when_asked(run_lab):
    port = free_port()
    process, lines = run_lab("--base-url", "/user/open/", environ=clean_environ(PLANETML_PORT=str(port),
                                                                               PLANETML_NO_TOKEN="1"))
    assert "warning: no token" in lines[0]
    assert f"http://127.0.0.1:{port}/user/open/lab" in lines[-1] and "token=" not in lines[-1]
    wait_for(f"http://127.0.0.1:{port}/user/open/api", process)
    status, body = fetch(f"http://127.0.0.1:{port}/user/open/api/contents")
    assert status == 200 and "tiny.ipynb" in body


def test_health_check_fails_when_nothing_listens():
    assert check_health({"PLANETML_PORT": str(free_port())}, timeout=2) == 1


def test_settings_take_arguments_then_environment_then_defaults():
    environ = {"PLANETML_PORT": "9001", "PLANETML_BASE_URL": "hub/me", "JUPYTER_TOKEN": "jt"}
    assert lab_settings(environ=environ) == lab_module.LabSettings(9001, "/hub/me/", "jt", "JUPYTER_TOKEN")
    settings = lab_settings(port=9002, base_url="/x/", environ={**environ, "PLANETML_TOKEN": "pt"})
    assert (settings.port, settings.base_url, settings.token, settings.token_source) == (9002, "/x/", "pt",
                                                                                          "PLANETML_TOKEN")
    default = lab_settings(environ={})
    assert (default.port, default.base_url, default.token_source) == (8888, "/", "generated")
    assert len(default.token) == 48 and default.token != lab_settings(environ={}).token


@pytest.mark.parametrize("environ, message", [
    ({"PLANETML_PORT": "http"}, "PLANETML_PORT='http' is not a port number"),
    ({"PLANETML_PORT": "70000"}, "port 70000 is not between 1 and 65535"),
    ({"PLANETML_NO_TOKEN": "1", "JUPYTER_TOKEN": "x"}, "PLANETML_NO_TOKEN asks for no token but JUPYTER_TOKEN"),
    ({"PLANETML_NO_TOKEN": "please"}, "set it to 1 to run without a token"),
    ({"PLANETML_BASE_URL": "http://host/user/"}, "is not a URL path"),
])
def test_bad_settings_give_one_line_errors(environ, message):
    with pytest.raises(PlanetMLError, match=re.escape(message)):
        lab_settings(environ=environ)


def test_token_reaches_the_server_through_the_environment_not_the_command_line(tmp_path):
    command, environ = lab_command(tmp_path, lab_settings(environ={"PLANETML_TOKEN": "Zq7-secret"}), environ={})
    assert environ["JUPYTER_TOKEN"] == "Zq7-secret" and not any("Zq7-secret" in arg for arg in command)
    assert "--ServerApp.base_url=/" in command and "--ServerApp.ip=127.0.0.1" in command
    command, environ = lab_command(tmp_path, lab_settings(environ={"PLANETML_NO_TOKEN": "yes"}), environ={})
    assert "--IdentityProvider.token=" in command and "JUPYTER_TOKEN" not in environ


def test_jupyterhub_token_without_jupyterhub_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # no jupyterhub-singleuser beside it
    for name in LAB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "from-the-hub")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["lab", "--notebook-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "jupyterhub-singleuser is not installed" in err[0]


def test_jupyterhub_token_starts_the_single_user_server(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    program = tmp_path / "jupyterhub-singleuser"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    hub = {"JUPYTERHUB_API_TOKEN": "from-the-hub", "PATH": str(tmp_path), "PLANETML_TOKEN": "ignored"}
    settings = lab_settings(environ=hub)
    assert settings.single_user and settings.token is None
    command, environ = lab_command(tmp_path, settings, environ=hub)
    assert command[0] == str(program)
    assert not any(arg.startswith(("--ServerApp.port=", "--ServerApp.base_url=", "--ServerApp.ip=")) for arg in command)
    assert "JUPYTER_TOKEN" not in environ, "the Hub authenticates; no token of ours"
    command, _ = lab_command(tmp_path, lab_settings(port=8890, environ=hub), ip="0.0.0.0", environ=hub)
    assert "--ServerApp.port=8890" in command and "--ServerApp.ip=0.0.0.0" in command


def test_base_urls_are_normalized():
    assert [normalize_base_url(v) for v in ("/", "a", "/a/b", "a/b/")] == ["/", "/a/", "/a/b/", "/a/b/"]


@pytest.fixture
def lab_without_server(tmp_path, monkeypatch):
    """`planetml lab` in a clean environment, recording the server it would become instead of becoming it."""
    for name in LAB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLANETML_TOKEN", "t0k")
    execs = []
    monkeypatch.setattr(os, "execve", lambda path, command, env: execs.append(command))
    return execs


def test_lab_prints_the_url_of_every_dashboard_it_serves(tmp_path, lab_without_server, capsys):
    for case in ("icme", "minerals"):
        (tmp_path / "notebooks" / case).mkdir(parents=True)
        shutil.copy(DATA / "voila_tiny.ipynb", tmp_path / "notebooks" / case / "dashboard.ipynb")
    port = free_port()
    assert main(["lab", "--notebook-dir", str(tmp_path), "--port", str(port)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [f"PlanetML: dashboard at http://127.0.0.1:{port}/voila/render/notebooks/{case}/dashboard.ipynb"
                         for case in ("icme", "minerals")]
    assert len(lab_without_server) == 1


def test_lab_serves_the_folder_holding_the_notebooks_by_default(tmp_path, lab_without_server, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["lab", "--port", str(free_port())]) == 0
    root = next(arg for arg in lab_without_server[0] if arg.startswith("--ServerApp.root_dir="))
    assert root == f"--ServerApp.root_dir={REPOSITORY}", "the repository, as on Binder"


def test_lab_refuses_a_busy_port_before_printing_a_url(tmp_path, lab_without_server, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["lab", "--notebook-dir", str(tmp_path), "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and lab_without_server == [] and f"127.0.0.1:{port} is not free" in err


def wait_for_idle_kernel(kernels_url, deadline=120):
    """Whether a kernel of the server reports itself idle (started) within ``deadline`` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        try:
            if any(kernel["execution_state"] == "idle" for kernel in json.loads(fetch(kernels_url)[1])):
                return True
        except urllib.error.HTTPError:  # the list can fail while a kernel is being started
            pass
        time.sleep(1)
    return False


@pytest.mark.browser
def test_the_getting_started_notebook_opens_unmodified_and_no_news_popup_shows(tmp_path, page):
    port, token = free_port(), "t0k"
    command, environ = lab_command(REPOSITORY, lab_settings(port=port, environ={"PLANETML_TOKEN": token}))
    command.append(f"--LabApp.workspaces_dir={tmp_path}")  # a fresh workspace: no tab restored from another run
    process = subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/api?token={token}", process)
        page.goto(f"http://127.0.0.1:{port}/lab/tree/notebooks/00_getting_started.ipynb?token={token}",
                  timeout=120_000)
        page.wait_for_selector(".jp-Notebook", timeout=120_000)
        assert wait_for_idle_kernel(f"http://127.0.0.1:{port}/api/kernels?token={token}"), "no kernel started"
        time.sleep(5)  # the kernel's info reaches the page, which then writes it into the notebook's metadata
        assert page.locator(".jp-mod-dirty").count() == 0, "opening the notebook marked it modified"
        assert "news" not in " ".join(page.locator(".Toastify__toast").all_inner_texts())
    finally:
        stop(process)


def test_notebooks_are_served_with_this_kernels_language_info_and_left_unchanged_on_disk(tmp_path):
    shutil.copy(REPOSITORY / "notebooks" / "00_getting_started.ipynb", tmp_path / "a.ipynb")
    on_disk = (tmp_path / "a.ipynb").read_bytes()
    manager = NotebookContentsManager(root_dir=str(tmp_path))
    with ThreadPoolExecutor(1) as thread:  # its own event loop: Playwright's may run in this one
        model = thread.submit(asyncio.run, manager.get("a.ipynb")).result()
    assert model["content"]["metadata"]["language_info"] == IPythonKernel.language_info
    assert model["content"]["metadata"]["language_info"]["version"] == platform.python_version()
    assert (tmp_path / "a.ipynb").read_bytes() == on_disk
    command, _ = lab_command(tmp_path, lab_settings(environ={"PLANETML_TOKEN": "x"}), environ={})
    assert "--ServerApp.contents_manager_class=planetml_lib.lab_contents.NotebookContentsManager" in command
