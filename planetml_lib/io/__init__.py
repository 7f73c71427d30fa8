"""Readers (file -> contract type) and writers for PlanetML data.

Solar-wind series become an ``xarray.Dataset`` along ``time``; event
catalogues become an events ``pandas.DataFrame`` (``start``, ``end``,
``label``); the contracts are described in the design notes.

The names below are imported on first use (PEP 562), so that a module which
needs only :mod:`planetml_lib.io.atomic` (saving a model, say) does not load
cdflib, astropy and xarray with the readers.
"""

import importlib

_HOMES = {
    "atomic_dir": "atomic",
    "atomic_write": "atomic",
    "detect_layout": "cdf",
    "download_cdaweb": "download",
    "download_messenger_mag": "download",
    "parse_cef": "cef",
    "read_catalog": "export",
    "read_cdaweb": "cdf",
    "read_cdf": "cdf",
    "read_cef": "cef",
    "read_cluster": "cluster",
    "read_cluster_crossings": "catalogs",
    "read_icmecat": "catalogs",
    "read_mascs_virs": "mascs",
    "read_messenger_mag": "pds",
    "read_messenger_orbits": "catalogs",
    "read_omni2": "omni",
    "read_philpott": "catalogs",
    "read_solarwind_csv": "solarwind",
    "read_unit_map": "unit_maps",
    "read_winslow": "catalogs",
    "write_catalog": "export",
    "write_cef": "cef_writer",
    "write_unit_map": "unit_maps",
}

__all__ = sorted(_HOMES)


def __getattr__(name):
    """Import a reader or writer from its module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOMES))
