"""What each kind of case means to shared code: its result, its output files, its data checks.

The CLI, :func:`~planetml_lib.testing.check_case`, ``write_output`` and ``evaluate``'s guard
against training data look a case's :class:`~planetml_lib.cases.base.Kind` up here instead of
inspecting the case. A kind that no case uses yet has no entry; its first case adds one.

Data records (:func:`data_records`) describe what a model was trained, validated and tested
on, in the model's metadata: for a time series one record per series (or per orbit)
with its source and time range; for rasters one record per scene with its source and seed;
for a map cube its source (planet seed and family when simulated) and mapped longitudes.
:func:`data_role` tells whether new data lie inside them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from planetml_lib.cases.base import Detection, Kind, ObjectDetection, RowPrediction, UnitMap
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.atomic import atomic_write
from planetml_lib.io.export import read_catalog, write_catalog
from planetml_lib.io.geotiff import read_outlines, vector_driver, write_objects
from planetml_lib.io.tables import read_table
from planetml_lib.io.unit_maps import SUFFIXES as UNIT_MAP_SUFFIXES
from planetml_lib.io.unit_maps import read_unit_map, write_unit_map
from planetml_lib.preprocess.mineralogy import sample_keys


def _series_records(ds):
    """One record per orbit (if ``ds`` has an ``orbit`` coordinate) or for the whole series."""
    source = _series_source(ds)
    parts = ds.groupby("orbit") if "orbit" in ds.coords else [(None, ds)]
    records = []
    for orbit, part in parts:
        time = part["time"].values
        record = {"source": source, "start": str(time.min())[:19], "end": str(time.max())[:19]}
        records.append(record if orbit is None else {**record, "orbit": int(orbit)})
    return records


def _series_source(ds):
    """Spacecraft, marked as simulated where the data are (simulated and real data never match)."""
    spacecraft = ds.attrs.get("spacecraft", "unknown")
    return f"{spacecraft} (simulated)" if "simulat" in str(ds.attrs.get("source", "")).lower() else spacecraft


def _series_inside(records, ds):
    """Whether ``ds`` (or one of its orbits) shares time with a record of the same source.

    Orbit by orbit: orbits spread over the same year as the training orbits are not inside them.
    """
    return any(r["source"] == own["source"] and r["start"] <= own["end"] and r["end"] >= own["start"]
               for own in _series_records(ds) for r in records)


def _scene_list(data):
    return [data] if isinstance(data, xr.Dataset) else list(data)


def _scene_record(scene):
    """A scene's source and, for a simulated one, its seed and pixel size."""
    record = {"source": str(scene.attrs.get("source", scene.attrs.get("name", "unknown")))}
    if "seed" in scene.attrs:
        record.update(seed=int(scene.attrs["seed"]), pixel_m=float(scene.attrs["pixel_m"]))
    return record


def _scenes_inside(records, scenes):
    """Whether any of ``scenes`` is one of the recorded scenes (same source and seed)."""
    return any(_scene_record(scene) == record for scene in _scene_list(scenes) for record in records)


def _rows_records(ds):
    """The physical samples of a table of spectra: one record per split."""
    return [{"samples": sorted(set(sample_keys(ds)))}]


def _rows_inside(records, ds):
    """Whether any spectrum of ``ds`` is of a recorded physical sample."""
    recorded = {key for record in records for key in record["samples"]}
    return bool(recorded & set(sample_keys(ds)))


def _longitude_runs(lon):
    """Contiguous runs ``[first, last]`` of the sorted longitudes ``lon`` (cell centres, one grid step apart)."""
    if lon.size == 0:
        return []
    step = np.min(np.diff(lon)) if lon.size > 1 else 0.0
    breaks = np.flatnonzero(np.diff(lon) > step * 1.5)
    starts, ends = np.r_[0, breaks + 1], np.r_[breaks, lon.size - 1]
    return [[float(lon[a]), float(lon[b])] for a, b in zip(starts, ends, strict=True)]


def _cube_records(cube):
    """A cube's source (a simulated planet with its seed and family) and the longitudes of its mapped cells."""
    observed = np.isfinite(cube["reflectance"]).any("wavelength")
    lon = cube["lon"].values[observed.any("lat").values]
    record = {"source": str(cube.attrs.get("source", "unknown"))}
    if "seed" in cube.attrs:
        record.update(seed=int(cube.attrs["seed"]), family=str(cube.attrs.get("family", "")))
    return [{**record, "lon_ranges": _longitude_runs(np.sort(lon))}]


def _cube_inside(records, cube):
    """Whether a mapped cell of ``cube`` lies in a recorded cube's longitudes (same source, seed and family)."""
    own = _cube_records(cube)[0]
    same = [r for r in records if {k: v for k, v in r.items() if k != "lon_ranges"}
            == {k: v for k, v in own.items() if k != "lon_ranges"}]
    return any(a <= d and c <= b for r in same for a, b in r["lon_ranges"] for c, d in own["lon_ranges"])


def _write_rows(rows, path):
    """A prediction table as CSV, atomically; returns the path."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise PlanetMLError(f"{path}: tables are written as .csv")
    with atomic_write(path) as tmp:
        rows.to_csv(tmp, index=False)
    return path


def _read_rows(path):
    return read_table(path, [])


@dataclass(frozen=True)
class KindSpec:
    """How shared code handles one kind of case.

    Attributes
    ----------
    result : type
        What ``predict`` returns.
    noun : str
        What the catalogue holds, for messages ("events", "objects").
    write, read : callable
        Write the result's catalogue to a path (format from the suffix) and read it back.
    suffixes : tuple of str
        Output suffixes ``write`` accepts.
    input_options : tuple of str
        Keywords ``read_input`` takes for this kind (the CLI passes only these).
    records : callable
        ``records(data)``: data records of one split (see :func:`data_records`).
    inside : callable
        ``inside(records, data)``: whether ``data`` lies inside the recorded data.
    """

    result: type
    noun: str
    write: Callable
    read: Callable
    suffixes: tuple
    input_options: tuple
    records: Callable
    inside: Callable


KINDS = {
    Kind.INTERVAL_EVENTS: KindSpec(Detection, "events", write_catalog, read_catalog, (".csv", ".xml", ".vot", ".txt"),
                                   (), _series_records, _series_inside),
    Kind.RASTER_OBJECTS: KindSpec(ObjectDetection, "objects", write_objects, read_outlines, (".geojson", ".gpkg"),
                                  ("image", "pixel_m"),
                                  lambda scenes: [_scene_record(s) for s in _scene_list(scenes)], _scenes_inside),
    Kind.TABLE_ROWS: KindSpec(RowPrediction, "rows", _write_rows, _read_rows, (".csv",), (), _rows_records,
                              _rows_inside),
    Kind.MAP_UNITS: KindSpec(UnitMap, "cells", write_unit_map, read_unit_map, UNIT_MAP_SUFFIXES, (),
                             _cube_records, _cube_inside),
}


def kind_spec(kind):
    """The :class:`KindSpec` of ``kind``; a clear error for a kind that no case implements yet."""
    try:
        return KINDS[Kind(kind)]
    except (KeyError, ValueError):
        raise PlanetMLError(f"kind {kind!r} has no KindSpec yet; add one in planetml_lib/cases/kinds.py") from None


def result_spec(result):
    """The :class:`KindSpec` whose result type ``result`` (from a case's ``predict``) has."""
    for spec in KINDS.values():
        if isinstance(result, spec.result):
            return spec
    raise PlanetMLError(f"expected one of {[spec.result.__name__ for spec in KINDS.values()]} from predict, "
                        f"got {type(result).__name__}")


def write_output(result, path):
    """Write the catalogue of a ``predict`` result (events, objects, rows or cells) to ``path``; return the path."""
    return result_spec(result).write(result[1], path)


def check_output_path(kind, data, path):
    """Refuse, before a model runs on ``data``, an output ``path`` its result could not be written to.

    Only raster outlines have such a case: GeoJSON (longitude/latitude) of a raster without
    CRS (:func:`~planetml_lib.io.geotiff.vector_driver`).
    """
    if Kind(kind) is Kind.RASTER_OBJECTS:
        vector_driver(path, data.attrs.get("crs"))


def check_options(options, kind):
    """Raise PlanetMLError for ``read_input`` keywords that ``kind`` does not take."""
    unknown = sorted(set(options) - set(kind_spec(kind).input_options))
    if unknown:
        raise PlanetMLError(f"options {unknown} do not apply to {Kind(kind).value} cases")


def data_provenance(kind, data):
    """"real", "SIMULATED" or "real and SIMULATED": what ``data`` are, read from their records
    (a simulated series is marked in its source, a simulated scene carries its seed).

    Examples
    --------
    >>> ds = xr.Dataset(coords={"time": pd.date_range("2019-01-01", periods=2)},
    ...                 attrs={"spacecraft": "MESSENGER", "source": "simulation"})
    >>> data_provenance("interval_events", ds), data_provenance("interval_events", ds.assign_attrs(source="PDS"))
    ('SIMULATED', 'real')
    """
    simulated = {"(simulated)" in str(record.get("source", "")) or "seed" in record
                 for record in kind_spec(kind).records(data)}
    return {frozenset({False}): "real", frozenset({True}): "SIMULATED"}.get(frozenset(simulated), "real and SIMULATED")


def data_records(kind, splits):
    """``{split: records}`` for the named splits (Datasets for series, lists of scenes for rasters)."""
    spec = kind_spec(kind)
    return {name: spec.records(data) for name, data in splits.items()}


def data_role(metadata, data):
    """``"training"``, ``"validation"`` or ``"held-out"``: where ``data`` lies for a model with ``metadata``."""
    inside = kind_spec(metadata.kind).inside
    for split, role in (("train", "training"), ("validation", "validation")):
        if inside(metadata.data.get(split, []), data):
            return role
    return "held-out"


def guard_training_data(metadata, data, allow_training_data):
    """The role of ``data`` (:func:`data_role`); PlanetMLError for training data unless allowed."""
    role = data_role(metadata, data)
    if role == "training" and not allow_training_data:
        raise PlanetMLError(f"these data are inside the training data of this {metadata.case} model, so a score "
                            "on them is not a test score; to score them anyway pass allow_training_data=True "
                            "(planetml evaluate --allow-training-data), and the table says 'training'")
    return role
