"""Check an installed PlanetML environment the way the Jupyter Docker Stacks test their images.

Imports every module of every runtime dependency of the installed ``planetml`` distribution
(its top-level packages, found through the installed metadata) and every module of
``planetml_lib``, then multiplies two matrices with torch on CUDA when torch sees a GPU, else on
the CPU. Prints one line per check and exits 1 if any failed. ``make test`` runs it in the venv
(tests/test_dependencies.py) and ``make test-image`` inside the image.

Run: ``python tools/check_environment.py``
"""

import importlib
import importlib.metadata as metadata
import pkgutil
import sys
import time

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def runtime_modules():
    """``{distribution: [top-level modules]}`` for the runtime requirements of ``planetml``
    (names compared canonicalised: KT17 is kt17, a_b is a-b)."""
    requirements = [Requirement(text) for text in metadata.requires("planetml") or []]
    modules = {canonicalize_name(r.name): [] for r in requirements
               if r.marker is None or r.marker.evaluate({"extra": ""})}
    for module, distributions in metadata.packages_distributions().items():
        for distribution in distributions:
            if canonicalize_name(distribution) in modules and not module.startswith("_"):
                modules[canonicalize_name(distribution)].append(module)
    return modules


def library_modules():
    """Every module of planetml_lib."""
    import planetml_lib

    return ["planetml_lib"] + [info.name for info in pkgutil.walk_packages(planetml_lib.__path__, "planetml_lib.")]


def check(label, action):
    """Run ``action``; print ``ok``/``FAILED`` with the label; return whether it passed."""
    start = time.perf_counter()
    try:
        detail = action()
    except Exception as exc:  # a check reports every failure, whatever its kind
        print(f"FAILED {label}: {type(exc).__name__}: {exc}")
        return False
    print(f"ok     {label} ({time.perf_counter() - start:.1f} s){f': {detail}' if detail else ''}")
    return True


def importer(module):
    """An action for :func:`check` that imports ``module``."""
    return lambda: importlib.import_module(module) and None


def matrix_product():
    """A float32 matrix product on the device torch would pick, checked against numpy."""
    import numpy as np
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    a = torch.arange(12, dtype=torch.float32, device=device).reshape(3, 4)
    product = (a @ a.T).cpu().numpy()
    expected = np.arange(12, dtype=np.float32).reshape(3, 4) @ np.arange(12, dtype=np.float32).reshape(3, 4).T
    if not np.array_equal(product, expected):
        raise AssertionError(f"torch on {device} gave {product.tolist()}")
    return f"torch {torch.__version__} on {device}"


def main():
    results = []
    for distribution, modules in runtime_modules().items():
        if not modules:
            print(f"FAILED {distribution}: installed metadata names no importable module")
            results.append(False)
        results += [check(f"import {module} ({distribution})", importer(module)) for module in modules]
    results += [check(f"import {module}", importer(module)) for module in library_modules()]
    results.append(check("matrix product", matrix_product))
    print(f"{sum(results)} of {len(results)} checks passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
