"""GeoTIFF rasters and vector outlines <-> the image contract.

Rasters become an ``xr.DataArray`` ``(band, y, x)``: ``x`` and ``y`` are the
map coordinates of the pixel centres (from the affine transform), the bands
are numbered from 1 as in GDAL, and ``attrs`` hold ``crs`` (WKT string or
None), ``transform`` (the six affine numbers ``a, b, c, d, e, f``:
``x = a*col + b*row + c``, ``y = d*col + e*row + f``), ``nodata`` (the file's
nodata value or None) and ``units``. Nodata pixels become NaN, so values are
always float. Outlines (shapefile, GeoPackage, GeoJSON) become a GeoDataFrame
in the raster's CRS; :func:`rasterize_outlines` burns them into a ``(y, x)``
mask. Writers are atomic (:mod:`planetml_lib.io.atomic`). GeoPackage keeps
the outlines' projected CRS; GeoJSON, which every reader takes as
longitude/latitude (RFC 7946), gets them in :data:`GEOJSON_CRS` degrees.

Only north-up grids (no rotation or shear in the transform) are supported.
"""

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import xarray as xr
from affine import Affine
from pyproj.exceptions import CRSError, ProjError
from rasterio.errors import RasterioIOError

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.atomic import atomic_write

#: Vector formats that :func:`write_objects` writes, by file suffix (pyogrio driver names).
VECTOR_DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}
#: CRS of written GeoJSON: Mars IAU 2015 sphere, planetocentric longitude (east) and latitude, degrees.
GEOJSON_CRS = "IAU_2015:49900"
#: What the top-level ``coordinate_system`` member of a written GeoJSON says.
GEOJSON_CRS_NOTE = f"{GEOJSON_CRS} (Mars 2015 sphere) planetocentric longitude east, latitude, degrees"


def _open(path):
    """Open ``path`` with rasterio; one-line PlanetMLError when missing or not a raster."""
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise DataFormatError(f"{path}: not a raster that GDAL can read ({exc})") from None


def _band_list(band, count, path):
    """1-based band numbers to read: all for None, else ``band`` (int or sequence)."""
    bands = list(range(1, count + 1)) if band is None else list(np.atleast_1d(band))
    wrong = [b for b in bands if not 1 <= int(b) <= count]
    if wrong or not bands:
        raise PlanetMLError(f"{path}: has {count} band(s) (numbered from 1), asked for band {band}")
    return [int(b) for b in bands]


def _coordinates(transform, height, width, path):
    """Pixel-centre coordinates ``x`` (width,) and ``y`` (height,) of a north-up grid."""
    if transform.b != 0 or transform.d != 0:
        raise DataFormatError(f"{path}: rotated or sheared grids are not supported")
    x = transform.c + transform.a * (np.arange(width) + 0.5)
    y = transform.f + transform.e * (np.arange(height) + 0.5)
    return x, y


def read_geotiff(path, band=None, require_crs=False, n_bands=None):
    """Read a GeoTIFF (or any GDAL raster) as a ``(band, y, x)`` DataArray.

    Parameters
    ----------
    path : str or os.PathLike
        Raster file.
    band : int or sequence of int, optional
        Band number(s) to read, counted from 1 as in GDAL; default all.
    require_crs : bool, default False
        Raise if the file has no coordinate reference system (needed when
        outlines in another CRS are to be placed on the raster).
    n_bands : int, optional
        Expected number of bands in the file; raise if it differs.

    Returns
    -------
    xr.DataArray
        Float values (float64 for float64 and 32/64-bit integer sources,
        float32 otherwise) with nodata as NaN; coordinates ``band``, ``y``, ``x`` (map units, pixel
        centres); attrs ``crs``, ``transform``, ``nodata``, ``units`` (the first
        band's units, "" when unset) and ``source``.

    Raises
    ------
    PlanetMLError
        Missing file, not a raster, no CRS with ``require_crs``, wrong band
        count or band number, rotated grid.
    """
    path = Path(path)
    with _open(path) as src:
        if n_bands is not None and src.count != n_bands:
            raise PlanetMLError(f"{path}: has {src.count} band(s), expected {n_bands}")
        if require_crs and src.crs is None:
            raise PlanetMLError(f"{path}: has no coordinate reference system (CRS)")
        bands = _band_list(band, src.count, path)
        x, y = _coordinates(src.transform, src.height, src.width, path)
        try:
            values = src.read(bands, masked=True)
        except RasterioIOError as exc:
            raise DataFormatError(f"{path}: damaged or truncated raster ({' '.join(str(exc).split())})") from None
        dtype = np.result_type(values.dtype, np.float32)
        data = values.astype(dtype).filled(np.nan)
        attrs = {"crs": None if src.crs is None else src.crs.to_wkt(),
                 "transform": tuple(src.transform)[:6], "nodata": src.nodata,
                 "units": src.units[bands[0] - 1] or "", "source": path.name}
    return xr.DataArray(data, dims=("band", "y", "x"), coords={"band": bands, "y": y, "x": x},
                        attrs=attrs, name=path.stem)


def _spacing(coord, default, name):
    """Grid step along a coordinate; ``default`` when it has a single value."""
    if coord.size < 2:
        if default is None:
            raise PlanetMLError(f"cannot tell the pixel size from a single {name} value; set attrs['transform']")
        return default
    steps = np.diff(coord)
    if not np.allclose(steps, steps[0], rtol=1e-6, atol=0):
        raise PlanetMLError(f"the {name} coordinate is not regularly spaced")
    return float(steps[0])


def grid_transform(da):
    """Affine transform of a ``(..., y, x)`` DataArray from its coordinates.

    The coordinates win over ``attrs["transform"]`` (which a slice leaves
    unchanged); the attribute only gives the pixel size of a one-pixel axis.

    Parameters
    ----------
    da : xr.DataArray
        With coordinates ``y`` and ``x`` at pixel centres.

    Returns
    -------
    affine.Affine

    Examples
    --------
    >>> da = xr.DataArray(np.zeros((2, 3)), coords={"y": [15.0, 5.0], "x": [0.0, 10.0, 20.0]})
    >>> tuple(grid_transform(da))[:6]
    (10.0, 0.0, -5.0, 0.0, -10.0, 20.0)
    """
    missing = {"x", "y"} - set(da.coords)
    if missing:
        raise PlanetMLError(f"raster has no {' or '.join(sorted(missing))} coordinate")
    old = da.attrs.get("transform")
    dx = _spacing(da["x"].values, None if old is None else old[0], "x")
    dy = _spacing(da["y"].values, None if old is None else old[4], "y")
    x0, y0 = float(da["x"][0]) - dx / 2, float(da["y"][0]) - dy / 2
    return Affine(dx, 0.0, x0, 0.0, dy, y0)


def _fits(value, dtype):
    """True if ``value`` is a whole number within the range of integer ``dtype``."""
    info = np.iinfo(dtype)
    return bool(np.isfinite(value) and float(value).is_integer() and info.min <= value <= info.max)


def _file_values(da):
    """``(band, y, x)`` array to write and its nodata value (NaN for floats, else attrs nodata)."""
    if da.dims not in (("y", "x"), ("band", "y", "x")):
        raise PlanetMLError(f"write_geotiff needs dims (y, x) or (band, y, x), got {da.dims}")
    values = np.asarray(da.values)
    values = values[None] if values.ndim == 2 else values
    if values.dtype == bool:
        values = values.astype(np.uint8)
    if values.dtype.kind not in "iuf":
        raise PlanetMLError(f"write_geotiff writes integer, float or bool values, got {values.dtype}")
    nodata = da.attrs.get("nodata")
    if values.dtype.kind == "f":
        nodata = np.nan if nodata is None else nodata
        values = np.where(np.isnan(values), nodata, values).astype(values.dtype)
    elif nodata is not None and not _fits(nodata, values.dtype):
        nodata = None  # e.g. a uint8 mask made from a float raster whose nodata was NaN
    return values, nodata


def write_geotiff(da, path):
    """Write a ``(band, y, x)`` or ``(y, x)`` DataArray as a GeoTIFF, atomically.

    Parameters
    ----------
    da : xr.DataArray
        Coordinates ``y``, ``x`` at pixel centres (regular spacing); CRS from
        ``attrs["crs"]`` (WKT or None) and units from ``attrs["units"]``. NaN is
        written as ``attrs["nodata"]`` (NaN when unset); bool becomes uint8.
        xarray arithmetic drops ``attrs``: copy them onto a derived array
        (``mask.attrs.update(crs=...)``) to keep its CRS.
    path : str or os.PathLike
        Output ``.tif`` file, deflate-compressed; parent folders are created.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    values, nodata = _file_values(da)
    profile = {"driver": "GTiff", "count": values.shape[0], "height": values.shape[1],
               "width": values.shape[2], "dtype": values.dtype, "crs": da.attrs.get("crs"),
               "transform": grid_transform(da), "nodata": nodata, "compress": "deflate"}
    with atomic_write(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(values)
        for index in range(1, values.shape[0] + 1):
            dst.set_band_unit(index, da.attrs.get("units") or "")
    return path


def read_outlines(path, like=None):
    """Read polygon outlines (shapefile, GeoPackage, GeoJSON) in the raster's CRS.

    Parameters
    ----------
    path : str or os.PathLike
        Any vector file that GDAL reads (for a shapefile, the ``.shp``).
    like : xr.DataArray, optional
        Raster whose ``attrs["crs"]`` the outlines are reprojected to.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per feature with a non-empty geometry, index reset.

    Raises
    ------
    PlanetMLError
        Missing or unreadable file; outlines without a CRS while ``like`` has
        one; CRSs that cannot be transformed into each other (other bodies).
    """
    path = Path(path)
    if not path.exists():
        raise PlanetMLError(f"{path}: file not found")
    try:
        outlines = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several DataSourceError types
        raise DataFormatError(f"{path}: cannot read as vector outlines ({type(exc).__name__}: {exc})") from None
    outlines = outlines[~(outlines.geometry.isna() | outlines.geometry.is_empty)].reset_index(drop=True)
    target = None if like is None else like.attrs.get("crs")
    if target is None:
        return outlines
    if outlines.crs is None:
        raise PlanetMLError(f"{path}: outlines have no CRS (no .prj?), cannot place them on the raster")
    try:
        return outlines.to_crs(target)
    except (CRSError, ProjError, ValueError) as exc:
        raise PlanetMLError(f"{path}: cannot reproject outlines to the raster's CRS ({exc})") from None


def rasterize_outlines(outlines, like, column=None):
    """Burn outlines into a ``(y, x)`` integer mask on the grid of ``like``.

    Parameters
    ----------
    outlines : geopandas.GeoDataFrame or DataFrame with a ``geometry`` column
        In the raster's CRS (see :func:`read_outlines`).
    like : xr.DataArray
        Raster ``(..., y, x)`` giving the grid.
    column : str, optional
        Integer column to burn (e.g. instance ids); default 1 everywhere inside.

    Returns
    -------
    np.ndarray of int32, shape (y, x)
        0 outside every outline; pixels whose centre lies inside are burnt.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> like = xr.DataArray(np.zeros((4, 4)), coords={"y": [3.5, 2.5, 1.5, 0.5], "x": [0.5, 1.5, 2.5, 3.5]})
    >>> rasterize_outlines(pd.DataFrame({"geometry": [box(0, 0, 2, 2)]}), like).sum()
    np.int64(4)
    """
    shape = (like.sizes["y"], like.sizes["x"])
    if len(outlines) == 0:
        return np.zeros(shape, dtype=np.int32)
    values = np.ones(len(outlines), dtype=np.int32) if column is None else outlines[column].to_numpy(np.int32)
    pairs = zip(outlines["geometry"], values.tolist(), strict=True)
    return rasterio.features.rasterize(pairs, out_shape=shape, transform=grid_transform(like),
                                       fill=0, dtype=np.int32)


def vector_driver(path, crs):
    """The pyogrio driver for ``path``'s suffix, refusing GeoJSON for outlines without a CRS.

    GeoJSON is longitude/latitude, so outlines that cannot be placed on Mars (a raster
    without CRS, given ``--pixel-m``) go to GeoPackage. Cheap: call it before predicting.

    Raises
    ------
    PlanetMLError
        Unknown suffix; GeoJSON with ``crs`` None.
    """
    path = Path(path)
    driver = VECTOR_DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise PlanetMLError(f"{path}: unknown vector format; use a suffix of {sorted(VECTOR_DRIVERS)}")
    if driver == "GeoJSON" and crs is None:
        raise PlanetMLError(f"{path}: the outlines have no CRS (raster without one), so GeoJSON (longitude/latitude) "
                            "cannot place them; write .gpkg")
    return driver


def _as_geojson(frame, path):
    """``frame`` in :data:`GEOJSON_CRS` and the layer options that name it in the file."""
    try:
        frame = frame.to_crs(GEOJSON_CRS)
    except (CRSError, ProjError, ValueError) as exc:
        raise PlanetMLError(f"{path}: cannot express the outlines as Mars longitude/latitude ({exc}); "
                            "write .gpkg") from None
    return frame, {"FOREIGN_MEMBERS_COLLECTION": json.dumps({"coordinate_system": GEOJSON_CRS_NOTE})}


def write_objects(objects, path):
    """Write object outlines as a GeoPackage (``.gpkg``) or GeoJSON (``.geojson``/``.json``), atomically.

    GeoPackage keeps the outlines' CRS (full WKT). GeoJSON holds them reprojected to
    :data:`GEOJSON_CRS` (planetocentric longitude east, latitude, degrees on the Mars 2015
    sphere), names it in its ``crs`` member (GDAL, QGIS and geopandas read it) and says so in a
    top-level ``coordinate_system`` member; :func:`read_outlines` with ``like`` puts it back.

    Parameters
    ----------
    objects : geopandas.GeoDataFrame or pandas.DataFrame with a ``geometry`` column
        One row per object (e.g. from
        :func:`planetml_lib.evaluate.objects.mask_to_polygons`); GeoJSON needs a CRS.
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    if not isinstance(objects, pd.DataFrame) or "geometry" not in objects.columns:
        raise PlanetMLError(f"{path}: objects must be a DataFrame with a geometry column")
    frame = objects if isinstance(objects, gpd.GeoDataFrame) else gpd.GeoDataFrame(objects, geometry="geometry")
    driver = vector_driver(path, frame.crs)
    frame, options = _as_geojson(frame, path) if driver == "GeoJSON" else (frame, {})
    with atomic_write(path) as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The filename extension should be", RuntimeWarning)  # the temporary name
        frame.to_file(tmp, driver=driver, engine="pyogrio", layer=path.stem, **options)
    return path
