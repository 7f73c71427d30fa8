"""Maps of surface units <-> files: a GeoTIFF on Mercury's sphere, or a table with one row per cell.

The unit table (the map-units contract) has one row per mapped cell: ``lat`` and ``lon`` (cell
centres, degrees; longitude east 0-360), ``unit`` (integer, 0 the darkest at 700 nm) and
``confidence`` (the share of the classifier's votes). The GeoTIFF holds the units as one
``int16`` band (-1 where no cell was mapped) on an equirectangular latitude/longitude grid in
:data:`MERCURY_CRS`, which GIS tools (QGIS, GDAL, rasterio) read as a map of Mercury.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from rasterio.crs import CRS

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.atomic import atomic_write
from planetml_lib.io.geotiff import read_geotiff, write_geotiff
from planetml_lib.io.tables import read_table

#: Mercury's IAU 2015 sphere, planetocentric latitude and longitude (authority definition: radius 2,440.53 km).
MERCURY_CRS = "IAU_2015:19900"
UNIT_COLUMNS = ("lat", "lon", "unit", "confidence")
SUFFIXES = (".tif", ".csv")


def _step(values):
    """The grid step of sorted unique cell centres (the smallest gap between neighbours)."""
    gaps = np.diff(np.unique(values))
    if gaps.size == 0:
        raise PlanetMLError("a unit map of one row or column has no grid step; write it as .csv")
    return float(gaps.min())


def unit_raster(cells):
    """The unit table as a ``(y, x)`` DataArray: latitude north-up, -1 where no cell is mapped."""
    lat_step, lon_step = _step(cells["lat"]), _step(cells["lon"])
    lat = np.arange(cells["lat"].max(), cells["lat"].min() - lat_step / 2, -lat_step)
    lon = np.arange(cells["lon"].min(), cells["lon"].max() + lon_step / 2, lon_step)
    rows = np.rint((lat[0] - cells["lat"].to_numpy()) / lat_step).astype(int)
    columns = np.rint((cells["lon"].to_numpy() - lon[0]) / lon_step).astype(int)
    units = np.full((lat.size, lon.size), -1, dtype=np.int16)
    units[rows, columns] = cells["unit"].to_numpy()
    return xr.DataArray(units, dims=("y", "x"), coords={"y": lat, "x": lon}, name="unit",
                        attrs={"crs": CRS.from_user_input(MERCURY_CRS).to_wkt(), "nodata": -1, "units": ""})


def write_unit_map(cells, path):
    """Write the unit table as a GeoTIFF (``.tif``) or a CSV table (``.csv``), atomically; return the path."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise PlanetMLError(f"{path}: unit maps are written as {' or '.join(SUFFIXES)}")
    missing = [c for c in UNIT_COLUMNS[:3] if c not in cells.columns]
    if missing:
        raise PlanetMLError(f"{path}: the unit table lacks columns {missing}")
    if path.suffix.lower() == ".tif":
        return write_geotiff(unit_raster(cells), path)
    with atomic_write(path) as tmp:
        cells.to_csv(tmp, index=False)
    return path


def read_unit_map(path):
    """The unit table of a file written by :func:`write_unit_map` (a GeoTIFF has no ``confidence``)."""
    path = Path(path)
    if path.suffix.lower() == ".tif":
        raster = read_geotiff(path, n_bands=1)[0]
        rows, columns = np.nonzero(np.isfinite(raster.values) & (raster.values >= 0))
        return pd.DataFrame({"lat": raster["y"].values[rows], "lon": raster["x"].values[columns],
                             "unit": raster.values[rows, columns].astype(int)})
    cells = read_table(path, UNIT_COLUMNS[:3]).reset_index(drop=True)
    for column in UNIT_COLUMNS[:3]:
        values = pd.to_numeric(cells[column], errors="coerce")
        if values.isna().any():
            raise DataFormatError(f"{path}: column {column!r} holds a value that is not a number "
                                  f"(row {int(values.isna().to_numpy().argmax()) + 1})")
        cells[column] = values
    cells["unit"] = cells["unit"].astype(int)
    return cells
