"""One source of truth: pyproject.toml declares, the lock pins, and every installer uses the lock."""

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def read_pins(path):
    """Return {canonical name: version} of the ``name==version`` lines of a requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


LOCK = read_pins(ROOT / "requirements/lock.txt")
LOCK_TEST = read_pins(ROOT / "requirements/lock-test.txt")


def test_every_declared_dependency_is_pinned_in_the_lock_within_its_range():
    for spec in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in LOCK, f"{name} is declared in pyproject.toml but missing from requirements/lock.txt"
        assert requirement.specifier.contains(LOCK[name]), f"lock pins {name}=={LOCK[name]}, outside {spec}"


def test_the_test_extra_is_pinned():
    for spec in PYPROJECT["project"]["optional-dependencies"]["test"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        pinned = LOCK_TEST.get(name) or LOCK.get(name)
        assert pinned, f"{name} (test extra) is missing from the lock files"
        assert requirement.specifier.contains(pinned), f"{name}=={pinned} is outside {spec}"


def test_torch_pair_is_pinned_everywhere():
    assert LOCK["torch"] == "2.14.1" and LOCK["torchvision"] == "0.29.1"
    declared = PYPROJECT["project"]["dependencies"]
    assert "torch==2.14.1" in declared and "torchvision==0.29.1" in declared


def test_binder_installs_the_lock_with_cpu_torch():
    text = (ROOT / "binder/requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    binder = read_pins(ROOT / "binder/requirements.txt")
    gpu_only = {name for name in LOCK if re.match(r"^(nvidia-|cuda-|triton$)", name)}
    assert binder == {name: version for name, version in LOCK.items() if name not in gpu_only}
    assert (ROOT / "binder/runtime.txt").read_text().strip() == "python-3.11"


def test_environment_yml_and_dockerfile_install_the_lock():
    environment = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*- python=3\.11\s*$", environment, re.M)
    assert "-r requirements/lock.txt" in environment
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"pip install .*-r /tmp/requirements/lock\.txt", dockerfile)
    assert "COPY requirements/lock.txt" in dockerfile
    assert "-r requirements/lock.txt" in (ROOT / "Makefile").read_text()


def third_party_imports():
    """Top-level modules imported anywhere in planetml_lib that are not stdlib or our own."""
    names = set()
    for path in (ROOT / "planetml_lib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"planetml_lib"}


def test_every_imported_package_is_declared():
    declared = {canonicalize_name(Requirement(s).name) for s in PYPROJECT["project"]["dependencies"]}
    providers = packages_distributions()
    for module in sorted(third_party_imports()):
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        assert dists & declared, f"planetml_lib imports {module!r} ({sorted(dists)}): declare it in pyproject.toml"


def test_check_environment_imports_every_runtime_dependency():
    """tools/check_environment.py (run inside the image by make test-image) passes here, and
    covers every runtime dependency of pyproject.toml (stale installed metadata would miss some)."""
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "check_environment.py")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    declared = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    checked = set(re.findall(r"^ok +import \S+ \((\S+)\)", result.stdout, re.M))
    assert declared == checked
    assert re.search(r"^ok +matrix product .*: torch \S+ on (cpu|cuda)$", result.stdout, re.M)
