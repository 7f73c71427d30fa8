"""Checked reading of delimited text tables, shared by the catalogue and series readers.

Every problem raises :class:`~planetml_lib.errors.PlanetMLError` (or its subclass
``DataFormatError``) naming the file and the first offending line.
"""

import lzma
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from planetml_lib.errors import DataFormatError, PlanetMLError

#: Exact fill values used by common archives (OMNI, CDAWeb, heliocats).
FILL_VALUES = (-9999.0, -9999.9, -99999.9, 9999.9, 9999.99, 99999.9, 99999.99)
#: Values at or below this are fills too (ISTP -1e31 and the like).
FILL_BELOW = -1e30


def require_columns(table: pd.DataFrame, required: Sequence[str], source) -> None:
    """Raise :class:`DataFormatError` naming the missing and the found columns."""
    missing = [name for name in required if name not in table.columns]
    if missing:
        raise DataFormatError(
            f"{source}: missing column(s) {missing}; found {[str(c) for c in table.columns]}"
        )


def error_reason(err: Exception) -> str:
    """The first line of an exception's message (its type name if it has none), for one-line errors."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def read_table(
    path: str | os.PathLike, required: Sequence[str], first_line: int = 2, **read_csv_options
) -> pd.DataFrame:
    """Read a delimited text file with :func:`pandas.read_csv`, checking it.

    The returned frame's index holds the line number of each row in the file
    (``first_line`` for the first data row), so later checks can point a user
    at the offending line.

    Raises
    ------
    PlanetMLError
        If the file does not exist.
    DataFormatError
        If the file is empty, pandas cannot parse it or a column of ``required`` is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataFormatError(f"{path}: empty file")
    try:
        table = pd.read_csv(path, **read_csv_options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, EOFError,
            zlib.error, lzma.LZMAError) as err:  # EOFError, zlib/lzma errors: a truncated or damaged compressed file
        raise DataFormatError(f"{path}: cannot read as a table ({error_reason(err)})") from err
    require_columns(table, required, path)
    table.index = pd.RangeIndex(first_line, first_line + len(table))
    return table


def require_complete(table: pd.DataFrame, path) -> None:
    """Raise DataFormatError naming the first line with an empty field (a table whose rows are all
    full, such as a fixed-column list: an empty field there is a damaged or truncated line)."""
    empty = table.isna().any(axis=1)
    if empty.any():
        line = empty.idxmax()
        raise DataFormatError(f"{path}: line {line} has empty fields {list(table.columns[table.loc[line].isna()])} "
                              "(a damaged or truncated file?)")


def parse_times(values: pd.Series, source, column: str, allow_missing: bool = False) -> pd.Series:
    """Parse ISO 8601-like time strings to datetime64[ns] UTC (naive).

    Strings with an offset are converted to UTC; strings without one are
    taken as UTC. The index of ``values`` names lines in error messages.

    Parameters
    ----------
    values : pandas.Series
        Time strings, shape (n,).
    source : str or path
        File name used in error messages.
    column : str
        Column name used in error messages.
    allow_missing : bool
        If True, empty cells become NaT instead of raising.

    Returns
    -------
    pandas.Series
        datetime64[ns], same index as ``values``.

    Examples
    --------
    >>> parse_times(pd.Series(["2019-01-01T00:10:00Z"]), "x.csv", "time").iloc[0]
    Timestamp('2019-01-01 00:10:00')
    """
    text = values.astype("string").str.strip()
    times = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    bad = times.isna() & ~(allow_missing & (text.isna() | (text == "")))
    if bad.any():
        line = bad.idxmax()
        raise DataFormatError(
            f"{source}: unparsable time {values[line]!r} in column '{column}' at line {line}"
        )
    return times.dt.tz_localize(None).astype("datetime64[ns]")


def build_events(frame: pd.DataFrame, source) -> pd.DataFrame:
    """Check ``end >= start``, sort by ``start`` and reset the index.

    ``frame`` holds ``start``, ``end``, ``label`` and extras; its index
    holds file line numbers, used to name the first bad event.

    Raises
    ------
    DataFormatError
        If an event ends before it starts.
    """
    bad = frame["end"] < frame["start"]
    if bad.any():
        line = bad.idxmax()
        start, end = frame.at[line, "start"], frame.at[line, "end"]
        raise DataFormatError(
            f"{source}: event at line {line} ends ({end}) before it starts ({start})"
        )
    events = frame.sort_values("start", kind="stable").reset_index(drop=True)
    events["label"] = events["label"].astype(str)
    return events


def integers(values: pd.Series, source, column: str) -> pd.Series:
    """Convert a column to int64, naming the first non-integer line."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | (numbers % 1 != 0)
    if bad.any():
        line = bad.idxmax()
        raise DataFormatError(
            f"{source}: non-integer {values[line]!r} in column '{column}' at line {line}"
        )
    return numbers.astype("int64")


def cadence_string(step):
    """A Timedelta as the frequency string the shipped data use: ``"1h"``, ``"10min"``, ``"92s"``."""
    for unit, name in (("1h", "h"), ("1min", "min"), ("1s", "s")):
        if step % pd.Timedelta(unit) == pd.Timedelta(0):
            return f"{step // pd.Timedelta(unit)}{name}"
    return pd.tseries.frequencies.to_offset(step).freqstr


def numeric_column(values: pd.Series, source, column: str) -> np.ndarray:
    """Convert a column to float64 with fills as NaN; empty cells are NaN.

    Raises :class:`DataFormatError` naming the first cell that is text.
    """
    numbers = pd.to_numeric(values, errors="coerce")
    if not pd.api.types.is_numeric_dtype(values):
        text = values.astype("string").str.strip()
        bad = numbers.isna() & text.notna() & (text != "") & (text.str.lower() != "nan")
        if bad.any():
            line = bad.idxmax()
            raise DataFormatError(
                f"{source}: non-numeric {values[line]!r} in column '{column}' at line {line}"
            )
    numbers = numbers.astype("float64").to_numpy()
    fill = (numbers <= FILL_BELOW) | np.isin(numbers, FILL_VALUES)
    return np.where(fill, np.nan, numbers)


def require_unique_times(time: pd.Series, source) -> None:
    """Raise if a time stamp occurs twice, naming the first repeat."""
    repeated = time.duplicated()
    if repeated.any():
        line = repeated.idxmax()
        raise DataFormatError(f"{source}: repeated time {time[line]} at line {line}")


def median_cadence(time: pd.Series) -> str:
    """Median sampling step as a pandas frequency string (e.g. "10min"); "unknown" below two samples."""
    if len(time) < 2:
        return "unknown"
    return cadence_string(time.diff().median())
