"""EPN-TAP 2.0 rows (the ``epn_core`` table that every VESPA service serves) from any catalogue.

Every catalogue of the bundle maps to the same table: events (``start``/``end``/``label``)
become ``ev`` granules with their times as Julian dates (UTC); objects with a ``geometry``
become ``ci`` granules with their longitude/latitude bounds on the body; map cells (``lat``,
``lon``, ``unit``) become ``ci`` granules one cell wide; table rows (minerals of a spectrum)
become ``ci`` granules without time or place. What a case observes (target, spacecraft,
instrument) comes from its ``OBSERVATION``; each row's ``label``, ``score`` and the other
columns of the catalogue are kept as case-specific columns after the EPN-TAP ones.

:func:`write_epncore` writes the table as a static VOTable that carries the EPN-TAP table
utype, UCDs and units (it validates with :func:`astropy.io.votable.validate`);
:func:`epncore_to_events` turns such rows (from the file or a service) back into events.
"""

import datetime
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from astropy.io import votable
from astropy.table import Table

from planetml_lib.errors import PlanetMLError
from planetml_lib.io.atomic import atomic_write

#: The utype that marks a table as an EPN-TAP 2.0 ``epn_core`` table (as GAVO DaCHS writes it).
EPNTAP_UTYPE = "ivo://ivoa.net/std/epntap#table-2.0"
#: ``target_class`` values EPN-TAP 2.0 allows.
TARGET_CLASSES = ("asteroid", "dwarf_planet", "planet", "satellite", "comet", "exoplanet",
                  "interplanetary_medium", "sample", "sky", "spacecraft", "spacejunk", "star",
                  "calibration")
SERVICE_TITLE = "PlanetML"


class Observation(NamedTuple):
    """What a case's catalogue is about, in EPN-TAP terms (each case's ``OBSERVATION``).

    Attributes
    ----------
    target_name : str
        IAU name of the target ("Mercury", "Mars", "Earth", "Sun").
    target_class : str
        One of :data:`TARGET_CLASSES`.
    instrument_host_name : str
        Spacecraft or laboratory; a catalogue's own ``spacecraft`` column overrides it per row.
    instrument_name : str
        Instrument(s) whose data the model read.
    measurement_type : str
        UCDs of those data, ``#``-separated (EPN-TAP's ``measurement_type``).
    target_region : str
        Part of the target observed ("magnetosphere", "surface", ...).
    processing_level : int
        CODMAC level: 5 (derived data) for a catalogue a model made.
    """

    target_name: str
    target_class: str
    instrument_host_name: str
    instrument_name: str
    measurement_type: str
    target_region: str = ""
    processing_level: int = 5


class Column(NamedTuple):
    """One EPN-TAP column: its VOTable datatype, unit, UCD and meaning."""

    name: str
    datatype: str
    unit: str
    ucd: str
    description: str


def _minmax(name, unit, ucd, what):
    return (Column(f"{name}_min", "double", unit, f"{ucd};stat.min", f"{what}, lower limit"),
            Column(f"{name}_max", "double", unit, f"{ucd};stat.max", f"{what}, upper limit"))


#: The mandatory EPN-TAP 2.0 columns, in the standard's order (UCDs and units as DaCHS serves them).
CORE = (
    Column("granule_uid", "char", "", "meta.id", "Unique identifier of the granule in this table"),
    Column("granule_gid", "char", "", "meta.id", "Group of granules of the same kind (case/product)"),
    Column("obs_id", "char", "", "meta.id;obs", "Granules from the same observation share it"),
    Column("dataproduct_type", "char", "", "meta.code.class", "ev event, ci catalogue item"),
    Column("target_name", "char", "", "meta.id;src", "Target name (IAU)"),
    Column("target_class", "char", "", "src.class", "Type of target"),
    Column("time_min", "double", "d", "time.start;obs", "Start time, Julian date (UTC)"),
    Column("time_max", "double", "d", "time.end;obs", "Stop time, Julian date (UTC)"),
    *_minmax("time_sampling_step", "s", "time.resolution", "Sampling step of the input data"),
    *_minmax("time_exp", "s", "time.duration;obs.exposure", "Integration time"),
    *_minmax("spectral_range", "Hz", "em.freq", "Spectral range"),
    *_minmax("spectral_sampling_step", "Hz", "em.freq;spect.binSize", "Spectral sampling step"),
    *_minmax("spectral_resolution", "", "spect.resolution", "Spectral resolution"),
    Column("c1min", "double", "deg", "pos.bodyrc.lon;stat.min", "Longitude (east), lower limit"),
    Column("c1max", "double", "deg", "pos.bodyrc.lon;stat.max", "Longitude (east), upper limit"),
    Column("c2min", "double", "deg", "pos.bodyrc.lat;stat.min", "Latitude, lower limit"),
    Column("c2max", "double", "deg", "pos.bodyrc.lat;stat.max", "Latitude, upper limit"),
    Column("c3min", "double", "km", "pos.bodyrc.alt;stat.min", "Altitude, lower limit"),
    Column("c3max", "double", "km", "pos.bodyrc.alt;stat.max", "Altitude, upper limit"),
    Column("s_region", "char", "", "pos.outline;obs.field", "Footprint (empty: none given)"),
    *_minmax("c1_resol", "deg", "pos.resolution", "Resolution in longitude"),
    *_minmax("c2_resol", "deg", "pos.resolution", "Resolution in latitude"),
    *_minmax("c3_resol", "km", "pos.resolution", "Resolution in altitude"),
    Column("spatial_frame_type", "char", "", "meta.code.class;pos.frame", "body: c1, c2 on the target; none"),
    *_minmax("incidence", "deg", "pos.incidenceAng", "Incidence angle"),
    *_minmax("emergence", "deg", "pos.emergenceAng", "Emergence angle"),
    *_minmax("phase", "deg", "pos.phaseAng", "Phase angle"),
    Column("instrument_host_name", "char", "", "meta.id;instr.obsty", "Spacecraft or laboratory"),
    Column("instrument_name", "char", "", "meta.id;instr", "Instrument"),
    Column("measurement_type", "char", "", "meta.ucd", "UCDs of the data the model read"),
    Column("processing_level", "int", "", "meta.calibLevel", "CODMAC level (5: derived)"),
    Column("creation_date", "char", "", "time.creation", "When the granule was first written (UTC)"),
    Column("modification_date", "char", "", "time.processing", "When the granule last changed (UTC)"),
    Column("release_date", "char", "", "time.release", "Start of public access (UTC)"),
    Column("service_title", "char", "", "meta.title", "Short name of the service"),
)
#: Optional EPN-TAP columns this bundle fills, and PlanetML's own columns.
OPTIONAL = (
    Column("target_region", "char", "", "meta.id;src;obs.field", "Part of the target observed"),
    Column("time_scale", "char", "", "time.scale", "Time scale of time_min and time_max"),
    Column("label", "char", "", "meta.code.class", "Class the model gave the granule"),
    Column("score", "double", "", "stat.probability", "Model score (empty: none)"),
    Column("model", "char", "", "meta.id;meta.software", "Case and model that made the catalogue"),
    Column("provenance", "char", "", "meta.note", "real, or SIMULATED when made from simulated data"),
)
_KNOWN = {column.name: column for column in CORE + OPTIONAL}
_TIME_COLUMNS = ("start", "end")


def _product(catalogue):
    """``(dataproduct_type, kind)`` of a catalogue from its columns: events, objects, cells or rows."""
    if {"start", "end", "label"} <= set(catalogue.columns):
        return "ev", "events"
    if "geometry" in catalogue.columns:
        return "ci", "objects"
    if {"lat", "lon", "unit"} <= set(catalogue.columns):
        return "ci", "cells"
    return "ci", "rows"


def _lonlat_bounds(objects):
    """c1min..c2max of each outline in planetocentric longitude east and latitude, or NaN without a CRS."""
    import geopandas as gpd

    frame = objects if isinstance(objects, gpd.GeoDataFrame) else gpd.GeoDataFrame(objects, geometry="geometry")
    if frame.crs is None:
        return pd.DataFrame(np.nan, index=frame.index, columns=["c1min", "c1max", "c2min", "c2max"])
    if not frame.crs.is_geographic:
        frame = frame.to_crs(frame.crs.geodetic_crs)
    bounds = frame.geometry.bounds
    return pd.DataFrame({"c1min": bounds.minx % 360, "c1max": bounds.maxx % 360,
                         "c2min": bounds.miny, "c2max": bounds.maxy}, index=frame.index)


def _grid_step(centres):
    """Spacing of a grid from its cell centres (the smallest gap); 1 degree for a single cell."""
    gaps = np.diff(np.unique(centres))
    return float(gaps.min()) if len(gaps) else 1.0


def _cell_bounds(cells):
    """c1min..c2max of map cells from their centres and the grid's spacing (degrees)."""
    step = {axis: _grid_step(cells[axis]) for axis in ("lat", "lon")}
    return pd.DataFrame({"c1min": (cells.lon - step["lon"] / 2) % 360, "c1max": (cells.lon + step["lon"] / 2) % 360,
                         "c2min": cells.lat - step["lat"] / 2, "c2max": cells.lat + step["lat"] / 2},
                        index=cells.index)


def _extras(catalogue, used):
    """The catalogue's other columns, times as ISO strings, geometry dropped, EPN-TAP names left alone."""
    extras = catalogue.drop(columns=[c for c in catalogue.columns if c in used or c in _KNOWN or c == "geometry"])
    for name in extras.columns:
        if pd.api.types.is_datetime64_any_dtype(extras[name]):
            extras[name] = extras[name].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str.slice(0, 23).fillna("")
        elif not pd.api.types.is_numeric_dtype(extras[name]):
            extras[name] = extras[name].astype(str)
    return extras


def to_epncore(catalogue, observation, *, model="", simulated=False, created=None):
    """EPN-TAP 2.0 rows (one granule per catalogue row) for events, objects, map cells or table rows.

    Parameters
    ----------
    catalogue : pandas.DataFrame
        Events (``start``, ``end``, ``label``), objects (``geometry``), unit-map cells
        (``lat``, ``lon``, ``unit``) or prediction rows.
    observation : Observation
        What the catalogue is about (a case's ``OBSERVATION``).
    model : str
        Case and model name, e.g. ``"icme/resunetpp1d"``; also the granules' group.
    simulated : bool
        Whether the catalogue was made from simulated data (written in ``provenance``).
    created : datetime.datetime, optional
        Creation, modification and release date (UTC); now by default.

    Returns
    -------
    pandas.DataFrame
        The :data:`CORE` columns, then those of :data:`OPTIONAL`, then the catalogue's other columns.
    """
    if not isinstance(catalogue, pd.DataFrame):
        raise PlanetMLError(f"a catalogue must be a pandas DataFrame, got {type(catalogue).__name__}")
    if observation.target_class not in TARGET_CLASSES:
        raise PlanetMLError(f"target_class {observation.target_class!r} is not one of {TARGET_CLASSES}")
    product, kind = _product(catalogue)
    frame = catalogue.reset_index(drop=True)
    group = model or "planetml"
    core = pd.DataFrame({c.name: np.nan if c.datatype == "double" else "" for c in CORE + OPTIONAL},
                        index=frame.index)
    core["granule_uid"] = [f"{group}/{i:06d}" for i in range(len(frame))]
    core["granule_gid"] = f"{group}/{kind}"
    core["dataproduct_type"] = product
    for name in ("target_name", "target_class", "instrument_host_name", "instrument_name", "measurement_type",
                 "target_region"):
        core[name] = getattr(observation, name)
    if "spacecraft" in frame.columns:
        core["instrument_host_name"] = frame["spacecraft"].astype(str)
    core["processing_level"] = np.int32(observation.processing_level)
    stamp = (created or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    core[["creation_date", "modification_date", "release_date"]] = stamp
    core["service_title"] = SERVICE_TITLE
    core["spatial_frame_type"] = "none"
    if kind == "events":
        start, end = (pd.DatetimeIndex(pd.to_datetime(frame[name])) for name in _TIME_COLUMNS)
        core["time_min"], core["time_max"] = start.to_julian_date(), end.to_julian_date()
        core["time_scale"] = "UTC"
        core["obs_id"] = [f"{group}/{t:%Y%m%dT%H%M%S}" for t in start]
    else:
        core["obs_id"] = core["granule_uid"]
    bounds = {"objects": _lonlat_bounds, "cells": _cell_bounds}.get(kind)
    if bounds is not None:
        core[["c1min", "c1max", "c2min", "c2max"]] = bounds(frame)
        core.loc[core["c1min"].notna(), "spatial_frame_type"] = "body"
    label = {"cells": "unit"}.get(kind, "label")
    score = {"cells": "confidence"}.get(kind, "score")
    core["label"] = frame[label].astype(str) if label in frame.columns else ""
    core["score"] = frame[score].astype(float) if score in frame.columns else np.nan
    core["model"] = model
    core["provenance"] = "SIMULATED" if simulated else "real"
    used = set(_TIME_COLUMNS) | {label, score, "spacecraft"}
    return pd.concat([core, _extras(frame, used)], axis=1)


def votable_datatype(series):
    """The VOTable datatype of a column of rows: boolean, long, double or char."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "long"
    return "double" if pd.api.types.is_numeric_dtype(series) else "char"


def write_epncore(table, path, name="epn_core"):
    """Write EPN-TAP rows (from :func:`to_epncore`) as a VOTable with the EPN-TAP utype, UCDs and units.

    Returns the path; the write is atomic.
    """
    path = Path(path)
    missing = [c.name for c in CORE if c.name not in table.columns]
    if missing:
        raise PlanetMLError(f"{path}: not EPN-TAP rows, columns {missing} are missing (use to_epncore)")
    frame = table.reset_index(drop=True).copy()
    for column in frame.columns:
        if votable_datatype(frame[column]) == "char":
            frame[column] = frame[column].fillna("").astype(str).to_numpy(dtype=str)
    document = votable.from_table(Table.from_pandas(frame))
    resource_table = document.get_first_table()
    resource_table.name = name
    resource_table.utype = EPNTAP_UTYPE
    for field in resource_table.fields:
        spec = _KNOWN.get(field.name)
        if spec is not None:
            field.ucd, field.description = spec.ucd, spec.description
            field.unit = spec.unit or None
    with atomic_write(path) as tmp:
        votable.writeto(document, str(tmp))
    return path


def read_epncore(path: str | os.PathLike) -> pd.DataFrame:
    """Read EPN-TAP rows from a VOTable (written by :func:`write_epncore` or a service's answer)."""
    path = Path(path)
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    try:
        table = votable.parse_single_table(str(path))
    except Exception as err:  # astropy raises many types for bad XML
        raise PlanetMLError(f"{path}: cannot read as a VOTable ({type(err).__name__}: {err})") from err
    return table.to_table().to_pandas()


def _from_jd(values):
    """Julian dates -> UTC datetime64[ns] (NaN -> NaT), to the millisecond."""
    days = pd.to_numeric(pd.Series(values), errors="coerce") - 2440587.5  # JD of 1970-01-01T00:00
    return pd.to_datetime((days * 86_400_000).round(), unit="ms").astype("datetime64[ns]")


def epncore_to_events(rows):
    """The events contract (``start``, ``end``, ``label`` and the other columns) from EPN-TAP rows."""
    missing = [name for name in ("time_min", "time_max") if name not in rows.columns]
    if missing:
        raise PlanetMLError(f"EPN-TAP rows lack {missing}: they are not events")
    frame = rows.reset_index(drop=True).copy()
    frame.insert(0, "start", _from_jd(frame.pop("time_min")).to_numpy())
    frame.insert(1, "end", _from_jd(frame.pop("time_max")).to_numpy())
    if "mo_start" in frame.columns:
        frame["mo_start"] = pd.to_datetime(frame["mo_start"].replace("", None), errors="coerce")
    if "label" not in frame.columns:
        frame["label"] = frame["dataproduct_type"] if "dataproduct_type" in frame.columns else "event"
    return frame.sort_values("start", kind="stable").reset_index(drop=True)
