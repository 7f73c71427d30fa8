"""Writer of CEF-2.0 files in the Cluster Science Archive layout (the inverse of :func:`~planetml_lib.io.cef.read_cef`).

The CSA serves a data file ``<DATASET_ID>__<start>_<end>_V<version>.cef``
whose header INCLUDEs a product header ``<SC>_CH_<PRODUCT>.ceh`` (dataset
metadata and the variable descriptions) and holds the records, one a line,
each ending in the end-of-record marker ``$``. :func:`write_cef` writes that
pair (or one self-contained file) from a Dataset or from columns; tests and
the samples of the Cluster case use it.
"""

import gzip
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.io.atomic import atomic_write

#: Fill value written for NaN numbers (the CSA's), and for missing times.
FILL = "-1.0E31"
TIME_FILL = "9999-12-31T23:59:59.000Z"


def header_name(dataset_id: str) -> str:
    """CSA name of a product's header file: "C1_CP_FGM_SPIN" -> "C1_CH_FGM_SPIN.ceh"."""
    return dataset_id.replace("_CP_", "_CH_", 1) + ".ceh"


def _columns(data: xr.Dataset | Mapping) -> tuple[pd.DatetimeIndex, dict[str, tuple[np.ndarray, str]]]:
    """(times, name -> (values (n,) or (n, k), units)) from a Dataset on ``time`` or a mapping with a "time" key."""
    if isinstance(data, xr.Dataset):
        if "time" not in data.coords:
            raise PlanetMLError(f"write_cef needs a 'time' coordinate; got coordinates {list(data.coords)}")
        columns = {name: (var.values, var.attrs.get("units", "")) for name, var in data.data_vars.items()}
        return pd.DatetimeIndex(data["time"].values), columns
    if "time" not in data:
        raise PlanetMLError(f"write_cef needs a 'time' column; got {list(data)}")
    columns = {name: value if isinstance(value, tuple) else (value, "") for name, value in data.items()}
    columns = {name: (np.asarray(values), units) for name, (values, units) in columns.items() if name != "time"}
    return pd.DatetimeIndex(data["time"]), columns


def _value_type(values: np.ndarray) -> str:
    if values.dtype.kind == "M":
        return "ISO_TIME"
    if values.dtype.kind in "iub":
        return "INT"
    if values.dtype.kind == "f":
        return "FLOAT" if values.dtype.itemsize <= 4 else "DOUBLE"
    return "CHAR"


def _format(values: np.ndarray, value_type: str) -> np.ndarray:
    """Text cells (n, k) of a column."""
    values = values.reshape(values.shape[0], -1)
    if value_type == "ISO_TIME":
        unit = "ms" if (values.astype("datetime64[us]").astype("int64") % 1000 == 0).all() else "us"
        text = np.char.add(np.datetime_as_string(values, unit=unit), "Z")
        return np.where(np.isnat(values), TIME_FILL, text)
    if value_type in ("FLOAT", "DOUBLE"):
        text = np.char.mod("%.7g" if value_type == "FLOAT" else "%.15g", values)
        return np.where(np.isnan(values), FILL, text)
    if value_type == "INT":
        return values.astype("int64").astype(str)
    return np.char.add(np.char.add('"', values.astype(str)), '"')


def _variable_block(name: str, values: np.ndarray, units: str, time_name: str | None) -> list[str]:
    """Header lines of one variable (``time_name`` None for the time variable itself)."""
    value_type = _value_type(values)
    width = int(np.prod(values.shape[1:], dtype=int))
    lines = [f"START_VARIABLE = {name}", f'  PARAMETER_TYPE = "{"Support_Data" if time_name is None else "Data"}"',
             f"  VALUE_TYPE = {value_type}", f"  SIZES = {width}", f'  UNITS = "{units}"',
             f'  FIELDNAM = "{name.split("__")[0]}"']
    if value_type == "ISO_TIME":
        lines.append("  FILLVAL = 9999-12-31T23:59:59Z")
    elif value_type in ("FLOAT", "DOUBLE"):
        lines.append(f"  FILLVAL = {FILL}")
    if width == 3:
        lines.append('  REPRESENTATION_1 = "x", "y", "z"')
    if time_name is not None:
        lines.append(f"  DEPEND_0 = {time_name}")
    return [*lines, f"END_VARIABLE = {name}", "!"]


def _header_lines(dataset_id: str, time_name: str, columns: dict) -> list[str]:
    """The product header: dataset metadata and the variable blocks, time first."""
    lines = ["START_META = DATASET_ID", f'  ENTRY = "{dataset_id}"', "END_META = DATASET_ID",
             "START_META = FILE_TYPE", '  ENTRY = "cef"', "END_META = FILE_TYPE",
             "START_META = METADATA_VERSION", '  ENTRY = "2.0"', "END_META = METADATA_VERSION", "!"]
    lines += _variable_block(time_name, np.zeros(0, "datetime64[ns]"), "s", None)
    for name, (values, units) in columns.items():
        lines += _variable_block(name, values, units, time_name)
    return lines


def _write_text(path: Path, text: str) -> None:
    with atomic_write(path) as temporary:
        if path.suffix == ".gz":
            with gzip.open(temporary, "wt", encoding="ascii") as stream:
                stream.write(text)
        else:
            temporary.write_text(text, encoding="ascii")


def write_cef(
    data: xr.Dataset | Mapping,
    path: str | os.PathLike,
    dataset_id: str,
    include_header: bool = True,
) -> Path:
    """Write time series as a CEF-2.0 file in the Cluster Science Archive layout.

    Parameters
    ----------
    data : xarray.Dataset or mapping
        A Dataset with a ``time`` coordinate and variables (time,) or
        (time, k), units in ``attrs["units"]``; or a mapping ``{"time":
        times, name: values or (values, units), ...}`` with values (n,) or
        (n, k). A name without ``__`` gets the CSA suffix ``__<dataset_id>``
        (``"B_mag"`` -> ``"B_mag__C1_CP_FGM_SPIN"``); the time variable is
        ``time_tags__<dataset_id>``. float32 becomes FLOAT (7 digits), other
        floats DOUBLE (15 digits), integers INT, datetimes ISO_TIME
        (millisecond resolution, microseconds when needed), anything else
        CHAR. NaN and NaT become the fill values ``-1.0E31`` and
        ``9999-12-31T23:59:59Z``.
    path : str or os.PathLike
        The ``.cef`` file (``.cef.gz``: gzip-compressed; the header stays plain).
    dataset_id : str
        CSA dataset id, e.g. "C1_CP_FGM_SPIN".
    include_header : bool
        True (the CSA layout): variables and metadata go to
        :func:`header_name` (``C1_CH_FGM_SPIN.ceh``) beside ``path``, which
        the ``.cef`` INCLUDEs. False: one self-contained file.

    Returns
    -------
    pathlib.Path
        ``path``. Files are written atomically.

    Raises
    ------
    PlanetMLError
        If ``data`` has no time, or a column's length differs from the time's.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, pandas as pd
    >>> time = pd.date_range("2003-02-12T10:00:02", periods=2, freq="4s")
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> path = write_cef({"time": time, "B_vec_xyz_gse": (np.ones((2, 3)), "nT")},
    ...                  folder / "C1_CP_FGM_SPIN__20030212.cef", "C1_CP_FGM_SPIN")
    >>> sorted(p.name for p in folder.iterdir())
    ['C1_CH_FGM_SPIN.ceh', 'C1_CP_FGM_SPIN__20030212.cef']
    >>> path.read_text().splitlines()[-1]
    '2003-02-12T10:00:06.000Z, 1, 1, 1 $'
    """
    path = Path(path)
    time, columns = _columns(data)
    columns = {(name if "__" in name else f"{name}__{dataset_id}"): spec for name, spec in columns.items()}
    for name, (values, _) in columns.items():
        if values.shape[:1] != (len(time),):
            raise PlanetMLError(f"write_cef: column '{name}' has {values.shape[:1]} rows, time has {len(time)}")
    time_name = f"time_tags__{dataset_id}"
    header = _header_lines(dataset_id, time_name, columns)
    lines = ["!", f"! CEF-2.0 file of {dataset_id}, written by planetml_lib", "!",
             f'FILE_NAME = "{path.name}"', 'FILE_FORMAT_VERSION = "CEF-2.0"', 'END_OF_RECORD_MARKER = "$"']
    if include_header:
        _write_text(path.parent / header_name(dataset_id), "\n".join(header) + "\n")
        lines.append(f'INCLUDE = "{header_name(dataset_id)}"')
    else:
        lines += header
    lines.append("DATA_UNTIL = EOF")
    cells = [_format(time.as_unit("ns").to_numpy(), "ISO_TIME")]
    cells += [_format(values, _value_type(values)) for values, _ in columns.values()]
    table = np.hstack(cells) if len(time) else np.zeros((0, 1), dtype=str)
    lines += [", ".join(row) + " $" for row in table]
    _write_text(path, "\n".join(lines) + "\n")
    return path
