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
from planetml_lib.io.cdf import read_cdaweb
from planetml_lib.io.solarwind import read_solarwind_csv
from planetml_lib.preprocess.solarwind import add_derived_features

#: Folder of the shipped data files.
DATA_DIR = Path(__file__).resolve().parent / "data"

#: Solar-wind samples: name -> (file under DATA_DIR, spacecraft, description); a folder holds CDAWeb CDF files.
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
    "wind_2024_05": (
        "icme/cdaweb_wind_2024-05",
        "Wind",
        "Wind MFI (1 min, GSM) and SWE (92 s) CDFs, 2024-05-10..12, 10-min means; ICME shock 05-10 16:36 UT",
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
    name : {"stereoa_2019", "stereob_2013_2014", "wind_2024_05"}
        Sample name (see :func:`list_samples`).

    Returns
    -------
    xarray.Dataset
        STEREO samples: contract of
        :func:`~planetml_lib.io.solarwind.read_solarwind_csv` with ``frame``
        "SCEQ", irregular ``time`` (missing rows are data gaps) and
        ``icme_label`` (int8).

        "wind_2024_05": the two NASA CDAWeb files (Wind MFI 1-min field,
        Wind SWE 92-s proton moments, 2024-05-09 23:00 to 2024-05-12 12:00)
        read by :func:`~planetml_lib.io.cdf.read_cdaweb` as 10-min means on a
        regular grid (empty bins NaN), with
        :func:`~planetml_lib.preprocess.solarwind.add_derived_features`
        (bt, vt, tp, pdyn_nPa, texrat from the native samples, beta from the
        10-min means); no ``icme_label``. It holds the
        shock of the May 2024 ("Gannon") storm ICME, 2024-05-10 16:36 UT.
        ``attrs["frame"]`` is "GSM": bx, by, bz are geocentric solar
        magnetospheric, unlike the STEREO samples (SCEQ) and STEREO CDFs (RTN),
        and vx, vy, vz are GSE. A model trained on STEREO should therefore use
        frame-free features (bt, vt, np, tp, beta, pdyn_nPa, texrat) or be
        shown to be robust to the frame of the components.
    """
    file, spacecraft, _ = _lookup(name, SAMPLES, "sample")
    path = DATA_DIR / file
    if path.is_dir():
        ds = read_cdaweb(sorted(path.glob("*.cdf")), derive=add_derived_features)
        ds.attrs["spacecraft"] = spacecraft
        return ds
    return read_solarwind_csv(path, spacecraft=spacecraft, frame="SCEQ")


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
