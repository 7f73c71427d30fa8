"""Named samples of real data shipped with the package (no network needed).

The files live in :data:`DATA_DIR` (``planetml_lib/data``); sources, licences
and the ICMECAT co-authorship request are in ``planetml_lib/data/README.md``.
Each case registers the samples and catalogues it ships (:func:`register_sample`,
:func:`register_catalog`), so this module names none of them.

Examples
--------
>>> ds = load_sample("stereoa_2019")
>>> ds.attrs["spacecraft"], ds.sizes["time"]
('STEREO-A', 47104)
>>> icmes = load_catalog("icmecat", spacecraft="STEREO-A")
>>> crossings = load_catalog("philpott2020")
>>> int(crossings["label"].value_counts()["magnetopause_in"])
4076
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.io.catalogs import read_messenger_orbits
from planetml_lib.io.cdf import read_cdaweb
from planetml_lib.io.messenger_csv import read_messenger_csv
from planetml_lib.io.pds import read_messenger_mag
from planetml_lib.io.solarwind import read_solarwind_csv
from planetml_lib.preprocess.solarwind import add_derived_features

#: Folder of the shipped data files.
DATA_DIR = Path(__file__).resolve().parent / "data"

#: Samples registered by the cases: name -> Sample (see :func:`register_sample`).
SAMPLES = {}
#: Event catalogues registered by the cases: name -> Catalog (see :func:`register_catalog`).
CATALOGS = {}


@dataclass(frozen=True)
class Sample:
    """A shipped input of case ``case``: ``file`` under DATA_DIR (a folder: its files together).

    A solar-wind series names its ``spacecraft``, the registered catalogue ``catalog`` of its
    events and the ``frame`` of its vector components; other samples have no ``spacecraft``.
    """

    file: str
    description: str
    case: str
    spacecraft: str | None = None
    catalog: str = "icmecat"
    frame: str = "SCEQ"


@dataclass(frozen=True)
class Catalog:
    """A shipped event catalogue: ``file`` under DATA_DIR, read by ``reader(path)`` (plus
    ``spacecraft=`` when ``by_spacecraft``)."""

    file: str
    description: str
    reader: Callable
    by_spacecraft: bool = False


def register_sample(name, file, description, case, spacecraft=None, catalog="icmecat", frame="SCEQ"):
    """Make a shipped input of ``case`` loadable and predictable by name (each case registers its own)."""
    SAMPLES[name] = Sample(file, description, case, spacecraft, catalog, frame)


def register_catalog(name, file, description, reader, by_spacecraft=False):
    """Make a shipped event catalogue loadable by name (each case registers its own)."""
    CATALOGS[name] = Catalog(file, description, reader, by_spacecraft)


def _registered():
    """Import the cases, which register their samples and catalogues."""
    import planetml_lib.cases  # noqa: F401

#: MESSENGER orbit list (orbit number, start, end) under DATA_DIR, from PyMess.
MESSENGER_ORBITS = "mercury/messenger_orbits.dat.gz"


def _lookup(name: str, table: dict, kind: str) -> tuple:
    """Return ``table[name]`` or raise PlanetMLError listing the valid names."""
    _registered()
    if name not in table:
        raise PlanetMLError(f"unknown {kind} {name!r}; valid: {', '.join(sorted(table))}")
    return table[name]


def list_samples() -> pd.DataFrame:
    """List the shipped samples and catalogues.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``kind`` ("sample" for :func:`load_sample`,
        "catalog" for :func:`load_catalog`), ``description``, ``file``
        (absolute path) and ``case`` (the case a sample is an input of; None
        for catalogues).
    """
    _registered()
    rows = [(name, "sample", item.description, DATA_DIR / item.file, item.case) for name, item in SAMPLES.items()]
    rows += [(name, "catalog", item.description, DATA_DIR / item.file, None) for name, item in CATALOGS.items()]
    return pd.DataFrame(rows, columns=["name", "kind", "description", "file", "case"])


def sample_files(name: str, case: str) -> list:
    """The shipped file(s) of sample ``name`` of ``case`` (a folder gives its files), for ``read_input``.

    An unknown name, or a sample of another case, is refused in one line that lists the samples of ``case``.
    """
    _registered()
    own = sorted(key for key, sample in SAMPLES.items() if sample.case == case)
    if name not in own:
        what = f"is a sample of case {SAMPLES[name].case!r}" if name in SAMPLES else "is no shipped sample"
        raise PlanetMLError(f"{name!r} {what}; samples of {case}: {', '.join(own) or 'none'} (planetml samples)")
    path = DATA_DIR / SAMPLES[name].file
    return sorted(path.iterdir()) if path.is_dir() else [path]


def load_sample(name: str) -> xr.Dataset:
    """Load a shipped sample: a solar-wind series as below, any other with its case's ``read_input``.

    Parameters
    ----------
    name : {"omni2_1998_2018", "stereoa_2019", "stereob_2013_2014", "wind_2024_05"}
        Sample name (see :func:`list_samples`).

    Returns
    -------
    xarray.Dataset
        STEREO samples: contract of
        :func:`~planetml_lib.io.solarwind.read_solarwind_csv` with ``frame``
        "SCEQ", irregular ``time`` (missing rows are data gaps) and
        ``icme_label`` (int8). ``attrs["catalog"]`` names the catalogue of
        their events (see :func:`load_catalog`).

        "omni2_1998_2018": the same contract for NASA OMNI2 hourly data,
        one row an hour (empty cells NaN), ``frame`` "HEEQ", spacecraft
        "OMNI", labels from the ``omni2_icmes`` catalogue.

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
    sample = _lookup(name, SAMPLES, "sample")
    if sample.spacecraft is None:
        from planetml_lib.cases import get_case

        return get_case(sample.case).read_input(sample_files(name, sample.case))
    path = DATA_DIR / sample.file
    if path.is_dir():
        ds = read_cdaweb(sorted(path.glob("*.cdf")), derive=add_derived_features)
        ds.attrs.update(spacecraft=sample.spacecraft, catalog=sample.catalog)
        return ds
    ds = read_solarwind_csv(path, spacecraft=sample.spacecraft, frame=sample.frame)
    ds.attrs["catalog"] = sample.catalog
    return ds


def load_catalog(name: str, spacecraft: str | None = None) -> pd.DataFrame:
    """Load a shipped event catalogue as an events DataFrame.

    Parameters
    ----------
    name : {"icmecat", "philpott2020"}
        Catalogue name: the ICMECAT (:func:`~planetml_lib.io.catalogs.read_icmecat`) or
        the MESSENGER boundary crossings of Philpott et al. (2020), one event per
        traversal with extras ``orbit`` and the MSO position at ``start``
        (:func:`~planetml_lib.io.catalogs.read_philpott`).
    spacecraft : str, optional
        Keep only this spacecraft's events (e.g. "STEREO-A"); ICMECAT only.

    Returns
    -------
    pandas.DataFrame
        Events contract.
    """
    catalog = _lookup(name, CATALOGS, "catalog")
    if catalog.by_spacecraft:
        return catalog.reader(DATA_DIR / catalog.file, spacecraft=spacecraft)
    if spacecraft is not None:
        raise PlanetMLError(f"catalog {name!r} has no spacecraft selection; drop spacecraft={spacecraft!r}")
    return catalog.reader(DATA_DIR / catalog.file)


def load_messenger_orbits() -> pd.DataFrame:
    """Load MESSENGER's orbits around Mercury, 2011-03-23 to 2015-04-30 (PyMess list).

    Returns
    -------
    pandas.DataFrame
        One row per orbit (4,076; numbers 11-4104, 136-152 missing), apoapsis to
        apoapsis: ``start``, ``end`` (datetime64[ns], UTC), ``label`` "orbit" and
        ``orbit`` (int). Periods are 12 h until April 2012, then 8 h.

    Examples
    --------
    >>> orbits = load_messenger_orbits()
    >>> orbits.loc[orbits["orbit"] == 12, ["start", "end"]].iloc[0].tolist()
    [Timestamp('2011-03-23 19:37:54'), Timestamp('2011-03-24 07:41:54')]
    """
    return read_messenger_orbits(DATA_DIR / MESSENGER_ORBITS)


#: The 313 real MESSENGER orbits at 10 s (digitised from plots) and the 8 real 60-s PDS orbits.
REAL_MESSENGER = {"10s": "mercury/messenger_real/digitised_10s", "60s": "mercury/messenger_real/kth22_60s"}


def real_messenger_manifest(cadence: str = "10s") -> pd.DataFrame:
    """The shipped real MESSENGER orbits at ``cadence`` ("10s" or "60s"): one row an orbit with
    ``orbit`` (Philpott numbering), ``start``, ``end`` (UTC) and provenance columns."""
    if cadence not in REAL_MESSENGER:
        raise PlanetMLError(f"no real MESSENGER orbits at cadence {cadence!r}; shipped: {', '.join(REAL_MESSENGER)}")
    return pd.read_csv(DATA_DIR / REAL_MESSENGER[cadence] / "manifest.csv", parse_dates=["start", "end"])


def load_real_messenger(orbits=None, cadence: str = "10s") -> xr.Dataset:
    """Real MESSENGER magnetometer orbits (MSO field and position) with an ``orbit`` coordinate.

    Only the files covering ``orbits`` (default: all shipped at ``cadence``) are read; each sample
    takes the orbit of the manifest span holding it, and samples outside the chosen orbits are
    dropped. Gaps stay gaps. Provenance: ``planetml_lib/data/README.md``.
    """
    manifest = real_messenger_manifest(cadence)
    requested = manifest["orbit"].tolist() if orbits is None else [int(orbit) for orbit in orbits]
    chosen = manifest[manifest["orbit"].isin(requested)]
    missing = sorted(set(requested) - set(chosen["orbit"]))
    if missing or chosen.empty:
        raise PlanetMLError(f"real MESSENGER orbits at {cadence}: {missing or 'none'} not shipped; shipped: "
                            f"{len(manifest)} orbits, {', '.join(map(str, manifest['orbit'].head(8)))}, ...")
    folder = DATA_DIR / REAL_MESSENGER[cadence]
    if cadence == "10s":
        years = sorted(set(chosen["start"].dt.year) | set(chosen["end"].dt.year))
        ds = read_messenger_csv([folder / f"messenger_mag_10s_{year}.csv.xz" for year in years])
    else:
        days = sorted({f"{t:%y%j}" for t in pd.concat([chosen["start"], chosen["end"]])})
        ds = read_messenger_mag([folder / f"MAGMSOSCIAVG{day}_60_V08.TAB" for day in days])
    time = ds["time"].values
    index = np.searchsorted(chosen["start"].values, time, side="right") - 1
    inside = (index >= 0) & (time <= chosen["end"].values[np.clip(index, 0, None)])
    ds = ds.isel(time=np.flatnonzero(inside))
    return ds.assign_coords(orbit=("time", chosen["orbit"].values[index[inside]]))
