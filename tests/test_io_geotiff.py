import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.io
import xarray as xr
from affine import Affine
from pyproj import CRS, Transformer
from shapely.geometry import Point, box

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.objects import mask_to_polygons
from planetml_lib.io.geotiff import (
    GEOJSON_CRS_NOTE,
    grid_transform,
    rasterize_outlines,
    read_geotiff,
    read_outlines,
    write_geotiff,
    write_objects,
)
from planetml_lib.simulate.mars_terrain import MARS_RADIUS_M, mars_equirectangular_wkt

MARS_WKT = mars_equirectangular_wkt(0.0, 0.0)
MARS_GEOGRAPHIC = CRS.from_wkt(MARS_WKT).geodetic_crs.to_wkt()
TRANSFORM = Affine(10, 0, 1000, 0, -10, 5000)


def write_raw(path, data, crs=MARS_WKT, nodata=None, transform=TRANSFORM, units=None):
    """A GeoTIFF written with rasterio itself, as a real archive file would be."""
    with rasterio.open(path, "w", driver="GTiff", count=data.shape[0], height=data.shape[1], width=data.shape[2],
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(data)
        for band, unit in enumerate(units or [], start=1):
            dst.set_band_unit(band, unit)
    return path


def test_read_geotiff_coordinates_attrs_and_nodata(tmp_path):
    data = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)
    data[0, 1, 2] = -9999
    path = write_raw(tmp_path / "dtm.tif", data, nodata=-9999, units=["m", "m"])
    da = read_geotiff(path)
    assert da.dims == ("band", "y", "x") and da.dtype == np.float32
    assert da["band"].values.tolist() == [1, 2]
    assert da["x"].values.tolist() == [1005.0, 1015.0, 1025.0, 1035.0]
    assert da["y"].values.tolist() == [4995.0, 4985.0, 4975.0]
    assert np.isnan(da.values[0, 1, 2]) and np.isnan(da.values).sum() == 1
    assert da.values[1, 2, 3] == 23
    assert da.attrs["transform"] == (10.0, 0.0, 1000.0, 0.0, -10.0, 5000.0)
    assert da.attrs["nodata"] == -9999 and da.attrs["units"] == "m"
    assert CRS.from_wkt(da.attrs["crs"]).ellipsoid.semi_major_metre == MARS_RADIUS_M


def test_read_one_band_and_band_errors(tmp_path):
    path = write_raw(tmp_path / "two.tif", np.ones((2, 3, 3), dtype=np.float64))
    one = read_geotiff(path, band=2)
    assert one.shape == (1, 3, 3) and one["band"].values.tolist() == [2] and one.dtype == np.float64
    with pytest.raises(PlanetMLError, match="two.tif: has 2 band"):
        read_geotiff(path, band=3)
    with pytest.raises(PlanetMLError, match="expected 1"):
        read_geotiff(path, n_bands=1)


def test_read_geotiff_errors_name_the_file(tmp_path):
    with pytest.raises(PlanetMLError, match="missing.tif: file not found"):
        read_geotiff(tmp_path / "missing.tif")
    text = tmp_path / "notes.tif"
    text.write_text("not an image\n")
    with pytest.raises(PlanetMLError, match="notes.tif: not a raster"):
        read_geotiff(text)
    bare = write_raw(tmp_path / "bare.tif", np.zeros((1, 2, 2), np.uint8), crs=None)
    assert read_geotiff(bare).attrs["crs"] is None
    with pytest.raises(PlanetMLError, match="bare.tif: has no coordinate reference system"):
        read_geotiff(bare, require_crs=True)


def test_write_read_round_trip_and_slices(tmp_path):
    data = np.random.default_rng(0).normal(size=(1, 6, 5)).astype(np.float32)
    data[0, 0, 0] = np.nan
    da = read_geotiff(write_raw(tmp_path / "in.tif", data, nodata=np.nan))
    back = read_geotiff(write_geotiff(da, tmp_path / "out" / "copy.tif"))
    np.testing.assert_array_equal(back.values, da.values)
    assert back.attrs["crs"] == da.attrs["crs"] and back.attrs["transform"] == da.attrs["transform"]
    part = da.isel(y=slice(2, 5), x=slice(1, 2))  # attrs keep the old transform, coordinates win
    cut = read_geotiff(write_geotiff(part, tmp_path / "cut.tif"))
    np.testing.assert_array_equal(cut.values, part.values)
    assert cut["x"].values.tolist() == part["x"].values.tolist()
    assert cut["y"].values.tolist() == part["y"].values.tolist()


def test_write_2d_mask_and_bad_input(tmp_path):
    grid = read_geotiff(write_raw(tmp_path / "a.tif", np.zeros((1, 4, 4), np.float32), nodata=np.nan)).isel(band=0)
    written = read_geotiff(write_geotiff(grid > -1, tmp_path / "mask.tif"))
    assert written.shape == (1, 4, 4) and float(written.sum()) == 16
    as_int = read_geotiff(write_geotiff(grid.astype(np.uint8), tmp_path / "mask.tif"))  # NaN nodata cannot be uint8
    assert as_int.attrs["nodata"] is None and as_int.attrs["crs"] == grid.attrs["crs"]
    with pytest.raises(PlanetMLError, match="dims"):
        write_geotiff(grid.expand_dims(time=[0, 1], band=[1]), tmp_path / "bad.tif")
    with pytest.raises(PlanetMLError, match="got object"):
        write_geotiff(grid.astype(object), tmp_path / "object.tif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif", "mask.tif"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    grid = read_geotiff(write_raw(tmp_path / "a.tif", np.ones((1, 4, 4), np.float32)))
    target = write_geotiff(grid, tmp_path / "b.tif")
    before = target.read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(rasterio.io.DatasetWriter, "set_band_unit", fail)
    with pytest.raises(OSError, match="disk full"):
        write_geotiff(grid * 2, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif", "b.tif"]


def test_grid_transform_needs_regular_coordinates():
    da = read_like(np.arange(3) * 10.0)
    assert tuple(grid_transform(da))[:6] == (10.0, 0.0, -5.0, 0.0, -10.0, 35.0)
    with pytest.raises(PlanetMLError, match="not regularly spaced"):
        grid_transform(read_like(np.array([0.0, 1.0, 3.0])))


def read_like(x, n_rows=3):
    """A (y, x) DataArray with 10 m rows, north-up, no attrs."""
    return xr.DataArray(np.zeros((n_rows, len(x))), coords={"y": 30.0 - 10 * np.arange(n_rows), "x": x})


def test_outlines_are_reprojected_and_rasterized(tmp_path):
    raster = read_geotiff(write_raw(tmp_path / "scene.tif", np.zeros((1, 20, 20), np.float32),
                                    transform=Affine(10, 0, 0, 0, -10, 200)))
    degrees_per_m = 180 / (np.pi * MARS_RADIUS_M)
    centre = Point(100 * degrees_per_m, 100 * degrees_per_m)  # (100 m, 100 m) in the projected CRS
    outlines = gpd.GeoDataFrame({"mound_id": [7]}, geometry=[centre.buffer(30 * degrees_per_m)],
                                crs=MARS_GEOGRAPHIC)
    outlines.to_file(tmp_path / "mounds.shp")
    read = read_outlines(tmp_path / "mounds.shp", like=raster)
    assert read.crs.equals(CRS.from_wkt(raster.attrs["crs"]))
    assert read.geometry[0].centroid.distance(Point(100, 100)) < 0.5
    mask = rasterize_outlines(read, raster, column="mound_id")
    assert set(np.unique(mask)) == {0, 7} and 24 <= (mask == 7).sum() <= 32  # about pi * 3^2 pixels
    rows, cols = np.nonzero(mask)
    assert abs(rows.mean() - 9.5) < 0.5 and abs(cols.mean() - 9.5) < 0.5


def test_outline_errors(tmp_path):
    raster = read_geotiff(write_raw(tmp_path / "scene.tif", np.zeros((1, 2, 2), np.float32)))
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]).to_file(tmp_path / "nocrs.gpkg")
    assert len(read_outlines(tmp_path / "nocrs.gpkg")) == 1
    with pytest.raises(PlanetMLError, match="nocrs.gpkg: outlines have no CRS"):
        read_outlines(tmp_path / "nocrs.gpkg", like=raster)
    with pytest.raises(PlanetMLError, match="gone.shp: file not found"):
        read_outlines(tmp_path / "gone.shp")
    (tmp_path / "junk.gpkg").write_text("junk")
    with pytest.raises(PlanetMLError, match="junk.gpkg: cannot read"):
        read_outlines(tmp_path / "junk.gpkg")
    gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:4326").to_file(tmp_path / "earth.gpkg")
    with pytest.raises(PlanetMLError, match="earth.gpkg: cannot reproject"):
        read_outlines(tmp_path / "earth.gpkg", like=raster)


def test_write_objects_keeps_mars_crs_in_geopackage(tmp_path):
    objects = gpd.GeoDataFrame({"label": ["mound"], "score": [0.9]}, geometry=[box(0, 0, 10, 10)], crs=MARS_WKT)
    back = gpd.read_file(write_objects(objects, tmp_path / "objects.gpkg"))
    assert back.crs.equals(objects.crs) and back["score"].tolist() == [0.9] and back.geometry[0].area == 100
    plain = pd.DataFrame({"label": ["mound", "mound"], "geometry": [box(0, 0, 1, 1), box(2, 2, 4, 4)]})
    with pytest.warns(UserWarning, match="crs"):
        written = write_objects(plain, tmp_path / "o.gpkg")
    assert [geom.area for geom in gpd.read_file(written).geometry] == [1.0, 4.0]
    with pytest.raises(PlanetMLError, match=r"o.geojson: the outlines have no CRS .*; write .gpkg$"):
        write_objects(plain, tmp_path / "o.geojson")
    with pytest.raises(PlanetMLError, match="earth.geojson: cannot express the outlines as Mars longitude/latitude"):
        write_objects(objects.set_crs("EPSG:4326", allow_override=True), tmp_path / "earth.geojson")
    with pytest.raises(PlanetMLError, match="objects.shp: unknown vector format"):
        write_objects(objects, tmp_path / "objects.shp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.gpkg", "objects.gpkg"]


def test_geojson_is_mars_longitude_latitude_and_geopackage_keeps_the_projection(tmp_path):
    wkt = mars_equirectangular_wkt(137.4, -4.6)  # Gale crater
    top = MARS_RADIUS_M * np.radians(-4.6) + 250.0
    raster = read_geotiff(write_raw(tmp_path / "dtm.tif", np.zeros((1, 50, 50), np.float32), crs=wkt,
                                    transform=Affine(10, 0, -250, 0, -10, top)))
    mask = np.zeros((50, 50), bool)
    mask[10:20, 30:45] = True
    objects = mask_to_polygons(mask, raster.attrs["transform"], min_area_px=1, crs=raster.attrs["crs"])
    left, bottom, right = -250.0, top - 500.0, 250.0
    lon, lat = Transformer.from_crs(CRS.from_wkt(wkt), "IAU_2015:49900", always_xy=True).transform(
        [left, right, right, left], [bottom, bottom, top, top])
    geojson = write_objects(objects, tmp_path / "mounds.geojson")
    in_degrees = gpd.read_file(geojson)
    assert in_degrees.crs.equals(CRS("IAU_2015:49900"), ignore_axis_order=True)
    west, south, east, north = in_degrees.total_bounds
    assert min(lon) < west < east < max(lon) and min(lat) < south < north < max(lat)
    assert 137.3 < west and north < -4.5
    assert json.loads(geojson.read_text())["coordinate_system"] == GEOJSON_CRS_NOTE
    footprint = box(left, bottom, right, top)
    for path in (geojson, write_objects(objects, tmp_path / "mounds.gpkg")):
        back = gpd.read_file(path).to_crs(wkt)
        assert footprint.contains(back.union_all())
        assert back.geometry[0].symmetric_difference(objects.geometry[0]).area < 1.0  # m^2 of a 15 000 m^2 mound
    assert (rasterize_outlines(read_outlines(geojson, like=raster), raster) == mask).all()
