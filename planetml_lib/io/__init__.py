"""Readers (file -> contract type) and writers for PlanetML data.

Solar-wind series become an ``xarray.Dataset`` along ``time``; event
catalogues become an events ``pandas.DataFrame`` (``start``, ``end``,
``label``); the contracts are described in the design notes.
"""

from planetml_lib.io.atomic import atomic_dir, atomic_write
from planetml_lib.io.catalogs import (
    read_cluster_crossings,
    read_icmecat,
    read_messenger_orbits,
    read_philpott,
    read_winslow,
)
from planetml_lib.io.cdf import detect_layout, read_cdaweb, read_cdf
from planetml_lib.io.download import download_cdaweb, download_messenger_mag
from planetml_lib.io.export import read_catalog, write_catalog
from planetml_lib.io.pds import read_messenger_mag
from planetml_lib.io.solarwind import read_solarwind_csv

__all__ = [
    "atomic_dir",
    "atomic_write",
    "detect_layout",
    "download_cdaweb",
    "download_messenger_mag",
    "read_catalog",
    "read_cdaweb",
    "read_cdf",
    "read_cluster_crossings",
    "read_icmecat",
    "read_messenger_mag",
    "read_messenger_orbits",
    "read_philpott",
    "read_solarwind_csv",
    "read_winslow",
    "write_catalog",
]
