"""Named samples of real data shipped with the package (no network needed).

The files live in :data:`DATA_DIR` (``planetml_lib/data``); sources, licences
and the ICMECAT co-authorship request are in ``planetml_lib/data/README.md``.

Examples
--------
>>> ds = load_sample("stereoa_2019")
>>> ds.attrs["spacecraft"], ds.sizes["time"]
('STEREO-A', 47104)
>>> icmes = load_catalog("icmecat", spacecraft="STEREO-A")
"""

from pathlib import Path

import pandas as pd
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.io.catalogs import read_icmecat
from planetml_lib.io.solarwind import read_solarwind_csv

#: Folder of the shipped data files.
DATA_DIR = Path(__file__).resolve().parent / "data"

#: Solar-wind samples: name -> (file under DATA_DIR, spacecraft, description).
SAMPLES = {
    "stereoa_2019": (
        "icme/stereoa_2019_10min.csv.gz",
        "STEREO-A",
        "STEREO-A IMPACT/PLASTIC 10-min means, 2019-01-01..2019-12-03, SCEQ, ICMECAT labels",
    ),
    "stereob_2013_2014": (
        "icme/stereob_2013_2014_10min.csv.gz",
        "STEREO-B",
        "STEREO-B IMPACT/PLASTIC 10-min means, 2013-01-01..2014-09-21, SCEQ, ICMECAT labels",
    ),
}
#: Event catalogues: name -> (file under DATA_DIR, description).
CATALOGS = {
    "icmecat": (
        "icme/icmecat_v20.csv",
        "HELCATS ICMECAT v2.0, 739 ICMEs 2007-2019 (Moestl et al.)",
    ),
}


def _lookup(name: str, table: dict, kind: str) -> tuple:
    """Return ``table[name]`` or raise PlanetMLError listing the valid names."""
    if name not in table:
        raise PlanetMLError(f"unknown {kind} {name!r}; valid: {', '.join(sorted(table))}")
    return table[name]


def list_samples() -> pd.DataFrame:
    """List the shipped samples and catalogues.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``kind`` ("sample" for :func:`load_sample`,
        "catalog" for :func:`load_catalog`), ``description`` and ``file``
        (absolute path).
    """
    rows = [(name, "sample", desc, DATA_DIR / file) for name, (file, _, desc) in SAMPLES.items()]
    rows += [(name, "catalog", desc, DATA_DIR / file) for name, (file, desc) in CATALOGS.items()]
    return pd.DataFrame(rows, columns=["name", "kind", "description", "file"])


def load_sample(name: str) -> xr.Dataset:
    """Load a shipped solar-wind sample as a time-series Dataset.

    Parameters
    ----------
    name : {"stereoa_2019", "stereob_2013_2014"}
        Sample name (see :func:`list_samples`).

    Returns
    -------
    xarray.Dataset
        Contract of :func:`~planetml_lib.io.solarwind.read_solarwind_csv`
        with ``frame`` "SCEQ", irregular ``time`` (missing rows are data
        gaps) and ``icme_label`` (int8).
    """
    file, spacecraft, _ = _lookup(name, SAMPLES, "sample")
    return read_solarwind_csv(DATA_DIR / file, spacecraft=spacecraft, frame="SCEQ")


def load_catalog(name: str, spacecraft: str | None = None) -> pd.DataFrame:
    """Load a shipped event catalogue as an events DataFrame.

    Parameters
    ----------
    name : {"icmecat"}
        Catalogue name.
    spacecraft : str, optional
        Keep only this spacecraft's events (e.g. "STEREO-A").

    Returns
    -------
    pandas.DataFrame
        Events contract (see :func:`~planetml_lib.io.catalogs.read_icmecat`).
    """
    file, _ = _lookup(name, CATALOGS, "catalog")
    return read_icmecat(DATA_DIR / file, spacecraft=spacecraft)
