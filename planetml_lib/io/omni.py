"""Reader for NASA OMNI2 hourly files in the archive's own format (SPDF ``low_res_omni``).

The yearly files ``omni2_YYYY.dat`` (optionally gzipped) hold one line per
hour with 55 blank-separated words (format description ``omni2.text`` at
https://spdf.gsfc.nasa.gov/pub/data/omni/low_res_omni/; King & Papitashvili
2005, doi:10.1029/2004JA010649). Missing values are written as nines filling
the word's Fortran format (999.9, 9999., 9999999., 99, ...), one fill value per
word. The reader returns the time-series contract of
:func:`~planetml_lib.io.solarwind.read_solarwind_csv`, with the same variable
names, and the indices Kp, R, Dst and F10.7.
"""

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.solarwind import VARIABLES
from planetml_lib.io.tables import error_reason

#: Words per line of an OMNI2 hourly file (low_res_omni, not the 56-word "extended" files).
N_WORDS = 55
#: Variable name -> (word number, 1-based; fill value; divisor; units; long name).
WORDS = {
    "bt": (9, 999.9, 1.0, *VARIABLES["bt"]),
    "bx": (13, 999.9, 1.0, *VARIABLES["bx"]),
    "by": (14, 999.9, 1.0, *VARIABLES["by"]),
    "bz": (15, 999.9, 1.0, *VARIABLES["bz"]),
    "tp": (23, 9999999.0, 1.0, *VARIABLES["tp"]),
    "np": (24, 999.9, 1.0, *VARIABLES["np"]),
    "vt": (25, 9999.0, 1.0, *VARIABLES["vt"]),
    "kp": (39, 99.0, 10.0, "1", "planetary geomagnetic activity index Kp (OMNI's Kp*10 / 10: 3+ = 3.3)"),
    "sunspot_r": (40, 999.0, 1.0, "1", "sunspot number R (version 2)"),
    "dst_nT": (41, 99999.0, 1.0, "nT", "Dst index"),
    "f107": (51, 999.9, 1.0, "sfu", "solar radio flux F10.7"),
}
#: Years that datetime64[ns] can hold.
YEARS = (1678, 2261)


def _text(path: Path) -> str:
    """The file's text, gunzipped when it starts with the gzip magic bytes."""
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:  # a truncated or damaged compressed file
            raise DataFormatError(f"{path}: cannot decompress ({error_reason(err)})") from err
    if not data.strip():
        raise DataFormatError(f"{path}: empty file")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataFormatError(f"{path}: line {line} is not text (byte 0x{data[err.start]:02x}); "
                              "not an OMNI2 file?") from err


def _words(text: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of shape (n, 55) and the line number of each row; trailing blank lines are ignored."""
    lines = text.rstrip().split("\n")
    rows = []
    for number, line in enumerate(lines, start=1):
        words = line.split()
        if len(words) != N_WORDS:
            count = f"{len(words)} word{'' if len(words) == 1 else 's'}"
            raise DataFormatError(f"{path}: line {number} has {count}, expected {N_WORDS} "
                                  "(a damaged or truncated file?)")
        try:
            values = [float(word) for word in words]
        except ValueError:
            values = None
        if values is None or not np.isfinite(values).all():
            for column, word in enumerate(words, start=1):
                try:
                    finite = np.isfinite(float(word))
                except ValueError:
                    finite = False
                if not finite:
                    raise DataFormatError(f"{path}: line {number}, word {column}: {word!r} is not a number") from None
        rows.append(values)
    return np.array(rows, dtype="float64"), np.arange(1, len(rows) + 1)


def _times(numbers: np.ndarray, lines: np.ndarray, path: Path) -> np.ndarray:
    """Start of each hour from words 1-3 (year, day of year, hour), datetime64[ns]."""
    year, day, hour = numbers[:, 0], numbers[:, 1], numbers[:, 2]
    whole = (year % 1 == 0) & (day % 1 == 0) & (hour % 1 == 0)
    in_range = (year >= YEARS[0]) & (year <= YEARS[1]) & (hour >= 0) & (hour <= 23) & (day >= 1)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    bad = ~(whole & in_range & (day <= np.where(leap, 366, 365)))
    if bad.any():
        row = int(bad.argmax())
        raise DataFormatError(f"{path}: line {lines[row]}: impossible date (year {year[row]:g}, "
                              f"day of year {day[row]:g}, hour {hour[row]:g})")
    start = (year.astype("int64") - 1970).astype("datetime64[Y]").astype("datetime64[ns]")
    time = (start + (day.astype("int64") - 1).astype("timedelta64[D]")
            + hour.astype("int64").astype("timedelta64[h]"))
    repeated = pd.Series(time).duplicated().to_numpy()
    if repeated.any():
        again = int(repeated.argmax())
        first = int(np.flatnonzero(time == time[again])[0])
        raise DataFormatError(f"{path}: line {lines[again]} repeats hour {pd.Timestamp(time[again])} "
                              f"of line {lines[first]}")
    return time


def read_omni2(path: str | os.PathLike) -> xr.Dataset:
    """Read an OMNI2 hourly file (``omni2_YYYY.dat``, gzipped or not) as a Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        File in the SPDF ``low_res_omni`` format: one line per hour, 55
        blank-separated words (year, day of year, hour, ...).

    Returns
    -------
    xarray.Dataset
        Dimension ``time`` (n,) datetime64[ns], UTC, sorted, the start of
        each hour as OMNI labels it. float64 variables with ``units`` and
        ``long_name`` attrs, each word's fill value as NaN: ``bx, by, bz``
        (nT, GSE), ``bt`` (nT, mean of |B|), ``vt`` (km/s), ``np``
        (cm^-3), ``tp`` (K), ``kp`` (Kp as a number, 3+ = 3.3),
        ``sunspot_r``, ``dst_nT`` (nT), ``f107`` (sfu). ``ds.attrs``:
        ``spacecraft`` "OMNI", ``frame`` "GSE", ``source`` (file name),
        ``cadence`` "1h". Beta, pressure and the like are left to
        :func:`~planetml_lib.preprocess.add_derived_features`.

    Raises
    ------
    PlanetMLError
        If the file is missing or empty, cannot be decompressed, a line has
        not 55 words (a truncated last line, say) or a word that is not a
        number, a date is impossible or an hour is repeated; the message
        names the file and the line.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> words = ["2017", "1", "0"] + ["0"] * 52
    >>> words[12:15] = ["-5.8", "-1.1", "-2.3"]  # words 13-15: Bx, By, Bz GSE
    >>> words[24] = "9999."  # word 25: flow speed, missing
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "omni2_2017.dat"
    >>> _ = path.write_text(" ".join(words) + "\\n")
    >>> ds = read_omni2(path)
    >>> ds["bx"].values, ds["vt"].values, ds.attrs["frame"]
    (array([-5.8]), array([nan]), 'GSE')
    """
    path = Path(path)
    numbers, lines = _words(_text(path), path)
    time = _times(numbers, lines, path)
    data = {}
    for name, (word, fill, divisor, units, long_name) in WORDS.items():
        values = numbers[:, word - 1]
        values = np.where(values == fill, np.nan, values / divisor)
        data[name] = xr.Variable("time", values, {"units": units, "long_name": long_name})
    attrs = {"spacecraft": "OMNI", "frame": "GSE", "source": path.name, "cadence": "1h"}
    return xr.Dataset(data, coords={"time": time}, attrs=attrs).sortby("time")
