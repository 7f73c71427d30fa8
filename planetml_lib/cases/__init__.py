"""The science cases: one module each, all honouring the contract of :mod:`planetml_lib.cases.base`.

A new case is its module plus one line in ``_MODULES``; registering checks its surface
(:func:`~planetml_lib.cases.base.check_surface`), so a case that drifts from the contract
fails on import, not in a user's notebook.
"""

from planetml_lib.cases import (
    cluster_bow_shock,
    icme,
    mars_mounds,
    mercury_boundaries,
    mercury_surface,
    minerals,
    solarwind_tutorial,
)
from planetml_lib.cases.base import check_surface
from planetml_lib.errors import PlanetMLError
from planetml_lib.names import full_name

_MODULES = (cluster_bow_shock, icme, mars_mounds, mercury_boundaries, mercury_surface, minerals, solarwind_tutorial)


def _register(modules):
    """``{case.NAME: case}`` after checking each case's surface."""
    for case in modules:
        check_surface(case)
    return {case.NAME: case for case in modules}


CASES = _register(_MODULES)


def get_case(name):
    """Return the case module registered as ``name`` (or an alias); a clear error lists the valid names."""
    try:
        return CASES[full_name(name)]
    except KeyError:
        raise PlanetMLError(f"unknown case {name!r}; choose one of: {', '.join(CASES)}") from None
