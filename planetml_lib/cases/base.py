"""The contract every science case honours: its kind, its surface and its typed results.

A case is a module in ``planetml_lib/cases/`` with the names of :data:`SURFACE`, each with
the parameters listed there, and a ``KIND`` from :class:`Kind`. Shared code (the CLI,
``check_case``, the dashboards' common parts) dispatches on ``KIND`` through
:func:`~planetml_lib.cases.kinds.kind_spec` and never inspects a case's other attributes.
:func:`check_surface` enforces the contract when a case is registered.

``predict`` returns one typed result per kind, so callers never guess its shape:

* :class:`Detection` for intervals in a time series (ICME, Mercury crossings, ...);
* :class:`ObjectDetection` for objects in a raster (mounds, pits, craters, ...);
* :class:`RowPrediction` for one prediction per row of a table (minerals of each spectrum);
* :class:`UnitMap` for the units of a map (surface units of a spectral cube).

All unpack like pairs: ``values, catalogue = case.predict(trained, data)``.
"""

import inspect
from enum import StrEnum
from typing import NamedTuple

import pandas as pd
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.vo.epncore import Observation


class Kind(StrEnum):
    """What a case finds: the closed set the CLI, ``check_case`` and the dashboards dispatch on."""

    INTERVAL_EVENTS = "interval_events"   # intervals in a time series -> events table (start, end, label)
    RASTER_OBJECTS = "raster_objects"     # objects in a raster or array -> polygons with label and score
    TABLE_ROWS = "table_rows"             # one prediction per row of a table (spectra -> minerals)
    MAP_UNITS = "map_units"               # units of a map (clustered spectra -> surface units)
    IMAGE_TRACKS = "image_tracks"         # tracks of moving objects in an image sequence


class Detection(NamedTuple):
    """What ``predict`` returns for :attr:`Kind.INTERVAL_EVENTS`.

    Attributes
    ----------
    values : xarray.DataArray
        On the input's ``time``: a probability (float, NaN in gaps) or a label (int, -1 in gaps).
    events : pandas.DataFrame
        The events contract (``start``, ``end``, ``label``, sorted), written by ``write_output``.
    """

    values: xr.DataArray
    events: pd.DataFrame


class ObjectDetection(NamedTuple):
    """What ``predict`` returns for :attr:`Kind.RASTER_OBJECTS`.

    Attributes
    ----------
    values : xarray.DataArray
        On the raster's ``(y, x)``: the per-pixel probability, NaN where the input has no data.
    objects : geopandas.GeoDataFrame
        One polygon per object with ``label`` and ``score`` (the objects contract).
    """

    values: xr.DataArray
    objects: pd.DataFrame


class RowPrediction(NamedTuple):
    """What ``predict`` returns for :attr:`Kind.TABLE_ROWS`.

    Attributes
    ----------
    values : xarray.DataArray
        ``(sample, member, output)``: what each ensemble member (or draw) predicted for each
        input row, the spread behind the table's uncertainties.
    rows : pandas.DataFrame
        One row per input row, in input order, with its identifiers and the predictions
        (written by ``write_output``).
    """

    values: xr.DataArray
    rows: pd.DataFrame


class UnitMap(NamedTuple):
    """What ``predict`` returns for :attr:`Kind.MAP_UNITS`.

    Attributes
    ----------
    values : xarray.DataArray
        On the cube's ``(lat, lon)``: the unit of each cell (int, -1 where the cube has no data).
    cells : pandas.DataFrame
        One row per mapped cell: ``lat``, ``lon``, ``unit``, ``confidence`` (the unit-map
        contract of :mod:`planetml_lib.io.unit_maps`), written by ``write_output``.
    """

    values: xr.DataArray
    cells: pd.DataFrame


#: Every name a case module defines, with the parameters of the callables (``None``: not callable).
SURFACE = {
    "NAME": None,                 # registry name, also written to every model folder of the case
    "TITLE": None,                # one line for `planetml cases` and the dashboards
    "KIND": None,                 # a Kind
    "OBSERVATION": None,          # a planetml_lib.vo.Observation: target and instrument, for EPN-TAP
    "METRIC_LEVELS": None,        # values of the ``level`` column of evaluate()
    "Config": None,               # frozen dataclass with a ``fast()`` classmethod
    "SHIPPED_MODELS": None,       # {input variant: model folder} shipped with PlanetML, default first ({}: none)
    "load_data": ("config",),
    "build_model": ("config",),
    "train": ("config", "data"),
    "load_trained": ("folder",),  # folder=None: the model shipped with PlanetML
    "read_input": ("paths", "options"),
    "example_input": ("folder",),  # writes a small valid input for read_input (real format); returns its paths
    "predict": ("trained", "data"),
    "write_output": ("result", "path"),
    "evaluate": ("trained", "data", "allow_training_data"),
    "plot_results": ("trained", "data"),
}


def _parameters(function):
    """Parameter names of ``function``, ``**options`` written as ``options``."""
    return tuple(p.name for p in inspect.signature(function).parameters.values())


def check_surface(case):
    """Raise PlanetMLError naming what ``case`` (a module) lacks or declares differently from :data:`SURFACE`."""
    name = getattr(case, "__name__", repr(case))
    missing = [attr for attr in SURFACE if not hasattr(case, attr)]
    if missing:
        raise PlanetMLError(f"case {name} lacks {missing} (see planetml_lib/cases/base.py)")
    if not isinstance(case.KIND, Kind):
        raise PlanetMLError(f"case {name}: KIND must be a Kind, got {case.KIND!r}")
    if not isinstance(case.OBSERVATION, Observation):
        raise PlanetMLError(f"case {name}: OBSERVATION must be a planetml_lib.vo.epncore.Observation")
    if not callable(getattr(case.Config, "fast", None)):
        raise PlanetMLError(f"case {name}: Config lacks the classmethod fast()")
    for attr, expected in SURFACE.items():
        if expected is not None and _parameters(getattr(case, attr)) != expected:
            raise PlanetMLError(f"case {name}: {attr}{_parameters(getattr(case, attr))} should take {expected}")
    if inspect.signature(case.load_trained).parameters["folder"].default is not None:
        raise PlanetMLError(f"case {name}: load_trained(folder=None) loads the shipped model by default")
