"""Reader for NASA PDS tables of MESSENGER magnetometer averages in MSO coordinates.

The PDS data set MESS-E_V_H_SW-MAG-4-SUMM-CALIBRATED-V1.0 (PPI node; H. Korth, JHU/APL) holds one
ASCII table per day and cadence, ``MAGMSOSCIAVGyydoy_cc_V08.TAB`` with ``cc`` = 01, 05, 10
or 60 s: whitespace-separated rows of YEAR, DAY_OF_YEAR, HOUR, MINUTE, SECOND (UTC at the
centre of the averaging interval), TIME_TAG (mission elapsed time, s), NAVG (samples in
the average), X_MSO, Y_MSO, Z_MSO (spacecraft position, km), BX_MSO, BY_MSO, BZ_MSO
(mean field, nT) and DBX_MSO, DBY_MSO, DBZ_MSO (standard deviation of the samples in
the average, nT). MSO: origin at Mercury's centre, x to the Sun, z north.
Download with :func:`~planetml_lib.io.download.download_messenger_mag`.
"""

import gzip
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.tables import FILL_BELOW, read_table

#: Columns of the table, in file order.
COLUMNS = ("YEAR", "DAY_OF_YEAR", "HOUR", "MINUTE", "SECOND", "TIME_TAG", "NAVG",
           "X_MSO", "Y_MSO", "Z_MSO", "BX_MSO", "BY_MSO", "BZ_MSO", "DBX_MSO", "DBY_MSO", "DBZ_MSO")
#: Dataset variable -> (column, units, long name).
VARIABLES = {
    "bx": ("BX_MSO", "nT", "magnetic field x (MSO)"),
    "by": ("BY_MSO", "nT", "magnetic field y (MSO)"),
    "bz": ("BZ_MSO", "nT", "magnetic field z (MSO)"),
    "dbx": ("DBX_MSO", "nT", "standard deviation of Bx samples in the average"),
    "dby": ("DBY_MSO", "nT", "standard deviation of By samples in the average"),
    "dbz": ("DBZ_MSO", "nT", "standard deviation of Bz samples in the average"),
    "x_mso": ("X_MSO", "km", "spacecraft position x (MSO)"),
    "y_mso": ("Y_MSO", "km", "spacecraft position y (MSO)"),
    "z_mso": ("Z_MSO", "km", "spacecraft position z (MSO)"),
    "navg": ("NAVG", "1", "number of samples in the average"),
}
_FILE_NAME = re.compile(r"MAGMSOSCIAVG\d{5}_(01|05|10|60)_V\d\d\.TAB(\.gz)?$", re.IGNORECASE)
#: Valid ranges of the date columns, inclusive (MESSENGER flew 2004-2015; SECOND allows a leap second).
_DATE_RANGES = {"YEAR": (2004, 2015), "DAY_OF_YEAR": (1, 366), "HOUR": (0, 23), "MINUTE": (0, 59),
                "SECOND": (0, 60.999)}


def messenger_mag_cadence(path: str | os.PathLike) -> str | None:
    """Cadence ("1s", "5s", "10s" or "60s") from a PDS file name, None if the name does not tell.

    Examples
    --------
    >>> messenger_mag_cadence("2011/091_120_APR/MAGMSOSCIAVG11098_05_V08.TAB")
    '5s'
    """
    match = _FILE_NAME.search(Path(path).name)
    return f"{int(match.group(1))}s" if match else None


def _check_records(path: Path) -> None:
    """Refuse an empty table, and one whose last record is shorter than the others: PDS tables have
    fixed-length records, so that is a truncated file even where its numbers still parse."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", errors="replace") as handle:
        lengths = [len(line.rstrip("\r\n")) for line in handle if line.strip()]
    if not lengths:
        raise DataFormatError(f"{path}: empty file (no data rows)")
    if len(set(lengths[:-1])) == 1 and lengths[-1] < lengths[0]:
        raise DataFormatError(f"{path}: the last record is {lengths[-1]} characters long, the others "
                              f"{lengths[0]}; PDS records have a fixed length: a truncated file?")


def _column_count_error(path: Path, err: DataFormatError) -> DataFormatError:
    """Rephrase pandas' "Expected a fields in line n, saw b" (a is line 1's count) for the user."""
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
    if found is None:
        return err
    expected, line, saw = (int(g) for g in found.groups())
    line, saw = (1, expected) if expected != len(COLUMNS) else (line, saw)
    return DataFormatError(f"{path}: line {line} has {saw} columns, expected {len(COLUMNS)}")


def _read_rows(path: Path) -> pd.DataFrame:
    """Read the table's 16 numeric columns; one-line errors for empty files, column counts and text."""
    if path.is_file():
        _check_records(path)
    try:
        table = read_table(path, [], first_line=1, sep=r"\s+", header=None)
    except DataFormatError as err:
        raise _column_count_error(path, err) from None
    missing = table.isna().any(axis=1)
    if table.shape[1] != len(COLUMNS) or missing.any():
        line = missing.idxmax() if missing.any() else table.index[0]
        raise DataFormatError(
            f"{path}: line {line} has {int(table.loc[line].notna().sum())} columns, expected {len(COLUMNS)}")
    table.columns = list(COLUMNS)
    numbers = table.apply(pd.to_numeric, errors="coerce")
    text = numbers.isna().to_numpy()
    if text.any():
        row, column = np.argwhere(text)[0]
        raise DataFormatError(f"{path}: non-numeric {table.iat[row, column]!r} in column "
                              f"{COLUMNS[column]} at line {table.index[row]}")
    if (numbers["NAVG"] % 1 != 0).any():
        line = (numbers["NAVG"] % 1 != 0).idxmax()
        raise DataFormatError(f"{path}: NAVG {numbers.at[line, 'NAVG']:g} is not a whole number at line {line}")
    return numbers


def _times(table: pd.DataFrame, source) -> pd.Series:
    """UTC times from YEAR, DAY_OF_YEAR, HOUR, MINUTE, SECOND, rounded to the millisecond."""
    bad = pd.Series(False, index=table.index)
    for column, (low, high) in _DATE_RANGES.items():
        values = table[column]
        bad |= (values < low) | (values > high) | ((values % 1 != 0) & (column != "SECOND"))
    if bad.any():
        line = bad.idxmax()
        date = " ".join(f"{table.at[line, c]:g}" for c in _DATE_RANGES)
        raise DataFormatError(f"{source}: unparsable date {date!r} (YEAR DOY HOUR MINUTE SECOND) at line {line}")
    year = pd.to_datetime(table["YEAR"].astype(int).astype(str), format="%Y")
    offset = pd.to_timedelta(
        (table["DAY_OF_YEAR"] - 1) * 86400 + table["HOUR"] * 3600 + table["MINUTE"] * 60 + table["SECOND"], unit="s")
    return (year + offset).dt.round("ms").astype("datetime64[ns]")


def _read_one(path: Path) -> pd.DataFrame:
    """One file as a frame indexed by time with the Dataset's variable names."""
    table = _read_rows(path)
    frame = pd.DataFrame({name: table[column].to_numpy(np.float64) for name, (column, _, _) in VARIABLES.items()
                          if name != "navg"})
    frame = frame.mask(frame <= FILL_BELOW)
    frame["navg"] = table["NAVG"].to_numpy().astype(np.int32)
    frame.index = pd.DatetimeIndex(_times(table, path).to_numpy(), name="time")
    return frame


def _cadence(paths: list[Path], time: pd.DatetimeIndex) -> str:
    """Cadence from the file names (all must agree), else the median step, else "unknown"."""
    named = {messenger_mag_cadence(p) for p in paths} - {None}
    if len(named) > 1:
        raise PlanetMLError(f"files of different cadences {sorted(named)}: read each cadence separately")
    if named:
        return named.pop()
    if len(time) < 2:
        return "unknown"
    return f"{pd.Series(time).diff().median().total_seconds():g}s"


def as_paths(path: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """One path or a sequence of them as a list of Paths; an empty sequence is refused."""
    paths = [Path(path)] if isinstance(path, str | os.PathLike) else [Path(p) for p in path]
    if not paths:
        raise PlanetMLError("no file given: pass a path or a list of paths")
    return paths


def joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Time-indexed frames of several files in one, sorted; a time found twice is kept once, from the first
    (consecutive files may overlap by a few samples)."""
    frame = pd.concat(frames).sort_index(kind="stable")
    return frame[~frame.index.duplicated(keep="first")]


def mag_dataset(frame: pd.DataFrame, attrs: dict) -> xr.Dataset:
    """The time-series contract of a MESSENGER MAG frame: the columns of :data:`VARIABLES` it holds, with
    units and long names; ``attrs`` add to spacecraft MESSENGER and frame MSO."""
    data = {name: xr.Variable("time", frame[name].to_numpy(), {"units": units, "long_name": long_name})
            for name, (_, units, long_name) in VARIABLES.items() if name in frame}
    return xr.Dataset(data, coords={"time": frame.index.to_numpy()},
                      attrs={"spacecraft": "MESSENGER", "frame": "MSO", **attrs})


def read_messenger_mag(path: str | os.PathLike | Sequence[str | os.PathLike]) -> xr.Dataset:
    """Read MESSENGER MAG averages in MSO (PDS ``MAGMSOSCIAVG*.TAB``) as a time series.

    Parameters
    ----------
    path : str, os.PathLike or sequence of them
        One or more daily ``.TAB`` files (``.TAB.gz`` accepted) of one cadence. Rows are
        sorted by time; a time found twice (consecutive day files overlap by a few
        seconds) is kept once, from the first file.

    Returns
    -------
    xarray.Dataset
        Dimension ``time`` (datetime64[ns], UTC, centre of each average), variables
        ``bx``, ``by``, ``bz``, ``dbx``, ``dby``, ``dbz`` (nT), ``x_mso``, ``y_mso``,
        ``z_mso`` (km) and ``navg``, each with ``units``; values <= -1e30 as NaN.
        ``attrs``: ``spacecraft`` "MESSENGER", ``frame`` "MSO", ``source`` (file
        names) and ``cadence`` ("1s", "5s", "10s", "60s" from the file name).

    Raises
    ------
    PlanetMLError
        A missing or empty file, a line with the wrong number of columns, a date that
        cannot be read (each naming file and line), or files of different cadences.

    Examples
    --------
    >>> from pathlib import Path
    >>> from planetml_lib.datasets import DATA_DIR
    >>> ds = read_messenger_mag(DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB")
    >>> ds.attrs["cadence"], ds["bx"].attrs["units"], ds.sizes["time"]
    ('1s', 'nT', 60)
    """
    paths = as_paths(path)
    frame = joined([_read_one(p) for p in paths])
    return mag_dataset(frame, {"source": ", ".join(p.name for p in paths), "cadence": _cadence(paths, frame.index)})
