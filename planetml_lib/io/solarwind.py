"""Reader for solar-wind in-situ time series stored as CSV (heliocats layout).

The files hold one row per sample: ``time_utc`` and any of the known
variables below (for example the STEREO 10-minute means shipped in
``planetml_lib/data/icme``). The reader returns the time-series contract: an
:class:`xarray.Dataset` with one sorted ``time`` dimension, units in each
variable's ``attrs``, fill values turned into NaN and gaps left as they are
(missing rows stay missing; see ``regularize`` to make them explicit).
"""

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import DataFormatError
from planetml_lib.io.tables import median_cadence, numeric_column, parse_times, read_table, require_unique_times

#: Known variables: name -> (units, long name).
VARIABLES = {
    "bx": ("nT", "magnetic field x component"),
    "by": ("nT", "magnetic field y component"),
    "bz": ("nT", "magnetic field z component"),
    "bt": ("nT", "magnetic field magnitude"),
    "vt": ("km/s", "proton bulk speed"),
    "np": ("cm^-3", "proton number density"),
    "tp": ("K", "proton temperature"),
    "beta": ("1", "plasma beta"),
    "texrat": ("1", "proton temperature over temperature expected from the speed"),
    "pdyn_nPa": ("nPa", "dynamic pressure"),
    "icme_label": ("1", "1 inside an ICMECAT event (icme_start_time to mo_end_time), else 0"),
}
LABEL = "icme_label"
def _label(values: np.ndarray, source) -> np.ndarray:
    """Check that labels are whole numbers without gaps and return int8."""
    bad = ~np.isfinite(values) | (values % 1 != 0)
    if bad.any():
        raise DataFormatError(
            f"{source}: '{LABEL}' has {int(bad.sum())} missing or non-integer value(s)"
        )
    return values.astype("int8")


def _infer_spacecraft(path: Path) -> str:
    """Return "STEREO-A"/"STEREO-B" from a file name like stereoa_..., "OMNI" from omni..., else "unknown"."""
    name = path.name.lower()
    match = re.search(r"stereo[-_]?([ab])", name)
    if match:
        return f"STEREO-{match.group(1).upper()}"
    return "OMNI" if name.startswith("omni") else "unknown"


def _check_columns(table: pd.DataFrame, source) -> list[str]:
    """Return the known variables present; warn about dropped unknown columns."""
    found = [str(c) for c in table.columns]
    features = [name for name in VARIABLES if name in found and name != LABEL]
    if not features:
        expected = [name for name in VARIABLES if name != LABEL]
        raise DataFormatError(
            f"{source}: no known variable; expected one of {expected}, found {found}"
        )
    dropped = [c for c in found if c not in VARIABLES and c != "time_utc"]
    if dropped:
        warnings.warn(f"{source}: dropped unknown column(s) {dropped}", stacklevel=3)
    return features + ([LABEL] if LABEL in found else [])


def read_solarwind_csv(
    path: str | os.PathLike, spacecraft: str | None = None, frame: str | None = None
) -> xr.Dataset:
    """Read a solar-wind CSV (``time_utc`` plus known variables) as a Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv`` or ``.csv.gz`` file with a ``time_utc`` column (ISO 8601,
        UTC) and at least one variable of :data:`VARIABLES`. Unknown columns
        are dropped with a warning.
    spacecraft : str, optional
        Stored in ``ds.attrs["spacecraft"]``; by default inferred from the
        file name ("stereoa..." -> "STEREO-A", "omni..." -> "OMNI"), else "unknown".
    frame : str, optional
        Coordinate frame of the vector components (e.g. "SCEQ"), stored in
        ``ds.attrs["frame"]``; "unknown" by default.

    Returns
    -------
    xarray.Dataset
        Dimension ``time`` (n,) datetime64[ns], UTC, sorted; float64
        variables with ``units`` and ``long_name`` attrs (fill values such
        as -1e31 or 9999.9 as NaN); ``icme_label`` int8 when present.
        ``ds.attrs``: ``spacecraft``, ``frame``, ``source`` (file name) and
        ``cadence`` (median step, e.g. "10min").

    Raises
    ------
    PlanetMLError
        If the file is missing, a column is missing, a time cannot be
        parsed or a time is repeated.

    Examples
    --------
    >>> from planetml_lib.datasets import DATA_DIR
    >>> ds = read_solarwind_csv(DATA_DIR / "icme" / "stereoa_2019_10min.csv.gz")
    >>> ds.attrs["spacecraft"], ds["bt"].attrs["units"]
    ('STEREO-A', 'nT')
    """
    path = Path(path)
    table = read_table(path, ["time_utc"])
    names = _check_columns(table, path)
    time = parse_times(table["time_utc"], path, "time_utc")
    require_unique_times(time, path)
    data = {}
    for name in names:
        values = numeric_column(table[name], path, name)
        values = _label(values, path) if name == LABEL else values
        units, long_name = VARIABLES[name]
        data[name] = xr.Variable("time", values, {"units": units, "long_name": long_name})
    attrs = {
        "spacecraft": spacecraft or _infer_spacecraft(path),
        "frame": frame or "unknown",
        "source": path.name,
        "cadence": median_cadence(time.sort_values()),
    }
    ds = xr.Dataset(data, coords={"time": time.to_numpy()}, attrs=attrs)
    return ds.sortby("time")
