"""Reader for real MESSENGER magnetometer orbits in the digitised 10-s CSV layout.

Each file (``.csv``, ``.csv.gz`` or ``.csv.xz``) holds one row per 10-s bin: ``time_utc`` (ISO 8601, UTC),
``x_km, y_km, z_km`` (spacecraft position, MSO, km) and ``bx_nT, by_nT, bz_nT`` (mean field, MSO,
nT). The field is real MESSENGER MAG data (the PDS 1-s MSO product) recovered from the plotted
figures of epn-ml/Freddie and averaged into 10-s bins; the positions are a two-body orbit fitted to
the Philpott et al. (2020) crossing positions. Bins far from any plotted point were dropped, so the
time axis has gaps; the reader keeps them as gaps. Bx may differ from the PDS product by a constant
4.0-4.5 nT. Provenance and licences: ``planetml_lib/data/README.md``.
"""

import gzip
import lzma
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import xarray as xr

from planetml_lib.io.pds import as_paths, joined, mag_dataset
from planetml_lib.io.tables import (
    median_cadence,
    numeric_column,
    parse_times,
    read_table,
    require_complete,
    require_unique_times,
)

TIME = "time_utc"
#: File column -> Dataset variable (units and long names as in the PDS reader's VARIABLES).
COLUMNS = {"bx_nT": "bx", "by_nT": "by", "bz_nT": "bz", "x_km": "x_mso", "y_km": "y_mso", "z_km": "z_mso"}
PROVENANCE = "real MESSENGER MAG digitised from plots, see planetml_lib/data/README.md"


def is_messenger_csv(path: str | os.PathLike) -> bool:
    """Whether the first line of ``path`` is this layout's header (names ``time_utc``): how the Mercury
    case tells these files from PDS tables, whatever their names."""
    path = Path(path)
    opener = {".gz": gzip.open, ".xz": lzma.open}.get(path.suffix.lower(), open)
    try:
        with opener(path, "rt", errors="replace") as handle:
            header = handle.readline()
    except (OSError, EOFError, zlib.error, lzma.LZMAError):
        return False
    return TIME in (name.strip() for name in header.split(","))


def _read_one(path: Path) -> pd.DataFrame:
    """One file as a frame indexed by time with the Dataset's variable names; one-line errors naming it."""
    table = read_table(path, [TIME, *COLUMNS])
    require_complete(table[[TIME, *COLUMNS]], path)  # every row is full: an empty field is a cut line
    time = parse_times(table[TIME], path, TIME)
    require_unique_times(time, path)
    frame = pd.DataFrame({name: numeric_column(table[column], path, column) for column, name in COLUMNS.items()})
    frame.index = pd.DatetimeIndex(time.to_numpy(), name="time")
    return frame


def read_messenger_csv(path: str | os.PathLike | Sequence[str | os.PathLike]) -> xr.Dataset:
    """Read real MESSENGER MAG orbits in the digitised 10-s CSV layout as a time series.

    Parameters
    ----------
    path : str, os.PathLike or sequence of them
        One or more ``.csv`` / ``.csv.gz`` / ``.csv.xz`` files (e.g. one a year). Rows are sorted by
        time; a time found in two files is kept once, from the first.

    Returns
    -------
    xarray.Dataset
        Dimension ``time`` (datetime64[ns], UTC, centre of each bin; gaps left as gaps),
        variables ``bx``, ``by``, ``bz`` (nT) and ``x_mso``, ``y_mso``, ``z_mso`` (km),
        each with ``units``. ``attrs``: ``spacecraft`` "MESSENGER", ``frame`` "MSO",
        ``source`` (file names, and that the data are real, digitised from plots) and
        ``cadence`` (median step, "10s").

    Raises
    ------
    PlanetMLError
        A missing or empty file, a missing column, an empty field, a time that cannot be
        read or is repeated, or text in a number column, each naming the file.

    Examples
    --------
    >>> from planetml_lib.datasets import DATA_DIR
    >>> ds = read_messenger_csv(DATA_DIR / "mercury" / "messenger_mag_10s_orbit1230.csv.gz")
    >>> ds.attrs["cadence"], ds.attrs["frame"], ds["bx"].attrs["units"]
    ('10s', 'MSO', 'nT')
    """
    paths = as_paths(path)
    frame = joined([_read_one(p) for p in paths])
    names = ", ".join(p.name for p in paths)
    return mag_dataset(frame, {"source": f"{names} ({PROVENANCE})",
                               "cadence": median_cadence(frame.index.to_series())})
