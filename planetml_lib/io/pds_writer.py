"""Write MESSENGER magnetometer series as PDS day tables, as :func:`~planetml_lib.io.pds.read_messenger_mag` reads them.

For tests and benchmarks that need files as the real archive ships them (``MAGMSOSCIAVGyydoy_cc_V08.TAB``,
one a UTC day, fixed-width CRLF records): simulated orbits written this way go through the same reader
as real data. TIME_TAG is an approximate mission elapsed time (leap seconds ignored); the reader does not use it.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import PlanetMLError

#: Launch, the origin of TIME_TAG (s).
MET_EPOCH = pd.Timestamp("2004-08-03 06:15:56")
#: Fill value written for NaN (the reader masks values <= -1e30).
FILL = -1e31
#: One record, the widths of the real tables; a wider value (NAVG of a 60-s average, a fill value) keeps a space.
_RECORD = " %4d %3d %2d %2d %6.3f %15.3f %3d" + " %11.3f" * 3 + " %9.3f" * 6 + "\r\n"
_CADENCES = {"1s": "01", "5s": "05", "10s": "10", "60s": "60"}


def _columns(day: xr.Dataset) -> np.ndarray:
    """The 16 columns of one day's records, shape (n, 16)."""
    time = pd.DatetimeIndex(day["time"].values)
    midnight = time.normalize()
    seconds = (time - midnight).total_seconds().to_numpy()
    n = time.size
    navg = day["navg"].values if "navg" in day else np.ones(n)
    values = [day[name].values if name in day else np.zeros(n)
              for name in ("x_mso", "y_mso", "z_mso", "bx", "by", "bz", "dbx", "dby", "dbz")]
    return np.column_stack([time.year, time.day_of_year, seconds // 3600, seconds % 3600 // 60, seconds % 60,
                            (time - MET_EPOCH).total_seconds().to_numpy(), navg,
                            np.nan_to_num(np.column_stack(values), nan=FILL)])


def write_messenger_mag(ds: xr.Dataset, folder: str | os.PathLike, cadence: str | None = None) -> list[Path]:
    """Write ``ds`` (the contract of ``read_messenger_mag``: ``bx``... in nT, ``x_mso``... in km) as one
    ``MAGMSOSCIAVGyydoy_cc_V08.TAB`` a UTC day into ``folder``; return the paths in time order.

    ``cadence`` ("1s", "5s", "10s" or "60s", default ``ds.attrs["cadence"]``) names the files; ``navg`` and
    ``dbx``... default to 1 and 0 where ``ds`` lacks them; NaN is written as the fill value.
    """
    cadence = cadence or ds.attrs.get("cadence")
    if cadence not in _CADENCES:
        raise PlanetMLError(f"cadence {cadence!r}: PDS tables come at {', '.join(_CADENCES)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    days = pd.DatetimeIndex(ds["time"].values).normalize()
    paths = []
    for day in days.unique():
        path = folder / f"MAGMSOSCIAVG{day:%y%j}_{_CADENCES[cadence]}_V08.TAB"
        rows = _columns(ds.isel(time=np.flatnonzero(days == day)))
        with open(path, "w", newline="") as handle:
            handle.writelines(_RECORD % tuple(row) for row in rows)
        paths.append(path)
    return paths
