import dataclasses
import time

import numpy as np
import pytest
from pyproj import CRS
from scipy import ndimage
from scipy.spatial import cKDTree

from planetml_lib.errors import PlanetMLError
from planetml_lib.io.geotiff import read_geotiff, write_geotiff
from planetml_lib.simulate import MoundFieldParameters, simulate_mound_field
from planetml_lib.simulate.mars_terrain import fractal_surface


@pytest.fixture(scope="module")
def field():
    return simulate_mound_field(size=256, pixel_m=5.0, n_mounds=20, seed=3)


def test_scene_contract(field):
    scene, mounds = field
    assert set(scene.data_vars) == {"dtm", "image", "mask", "mound_id"}
    assert all(scene[name].dims == ("y", "x") for name in scene.data_vars)
    assert scene["dtm"].dtype == np.float32 and scene["dtm"].attrs["units"] == "m"
    assert 0 <= float(scene["image"].min()) and float(scene["image"].max()) <= 1
    np.testing.assert_array_equal(scene["mask"].values, scene["mound_id"].values > 0)
    assert ndimage.label(scene["mask"].values)[1] == len(mounds)  # no two mounds merge
    assert sorted(np.unique(scene["mound_id"])[1:]) == mounds["mound_id"].tolist() == list(range(1, 21))
    assert "simulation" in scene.attrs["source"]
    assert np.all(np.diff(scene["x"]) == 5.0) and np.all(np.diff(scene["y"]) == -5.0)


def test_same_seed_same_scene_other_seed_differs():
    a, ta = simulate_mound_field(size=64, n_mounds=3, seed=1)
    b, tb = simulate_mound_field(size=64, n_mounds=3, seed=1)
    c, _ = simulate_mound_field(size=64, n_mounds=3, seed=2)
    assert a.identical(b) and ta.equals(tb)
    assert not np.allclose(a["dtm"], c["dtm"])


def test_morphometry_follows_the_parameters(field):
    _, mounds = field
    p = MoundFieldParameters()
    ratio = mounds["height_m"] / mounds["diameter_m"]
    assert ratio.between(*p.height_ratio).all()
    assert mounds["diameter_m"].between(p.mound_diameter_m[0], 256 * 5.0 / 4).all()
    pits = mounds[mounds["has_summit_pit"]]
    assert 0 < len(pits) < len(mounds)
    assert (pits["pit_diameter_m"] / pits["diameter_m"]).between(*p.pit_diameter_ratio).all()
    assert (mounds.loc[~mounds["has_summit_pit"], ["pit_diameter_m", "pit_depth_m"]] == 0).all().all()


def test_mask_area_and_relief_match_the_table(field):
    scene, mounds = field
    dtm = scene["dtm"].values
    for mound in mounds.itertuples():
        inside = scene["mound_id"].values == mound.mound_id
        area = inside.sum() * 25.0
        assert area == pytest.approx(np.pi * mound.diameter_m**2 / 4, rel=0.2)
        ring = np.hypot(*(np.indices(dtm.shape) - np.argwhere(inside).mean(axis=0)[:, None, None]))
        radius_px = mound.diameter_m / 2 / 5.0
        edge = (ring > 1.25 * radius_px) & (ring < 1.25 * radius_px + 3) & (scene["mask"].values == 0)
        relief = dtm[inside].max() - np.median(dtm[edge])
        top = mound.height_m * (1 - (mound.pit_diameter_m / mound.diameter_m) ** mound.profile_exponent)
        assert relief == pytest.approx(top, abs=0.25 * mound.height_m + 1.0)


def test_mounds_are_where_the_table_says_and_lit_from_the_west(field):
    scene, mounds = field
    image = scene["image"]
    brighter = 0
    for mound in mounds.itertuples():
        assert int(scene["mound_id"].sel(x=mound.x, y=mound.y, method="nearest")) == mound.mound_id
        offset = mound.diameter_m / 4
        west = float(image.sel(x=mound.x - offset, y=mound.y, method="nearest"))
        east = float(image.sel(x=mound.x + offset, y=mound.y, method="nearest"))
        brighter += west > east
    assert brighter >= 0.9 * len(mounds)


def nearest_neighbours(mounds):
    """Distance to and index of each mound's nearest neighbour."""
    xy = mounds[["x", "y"]].to_numpy()
    distance, index = cKDTree(xy).query(xy, k=2)
    return distance[:, 1], index[:, 1]


def test_mounds_are_clustered_and_do_not_touch():
    small = dataclasses.replace(MoundFieldParameters(), mound_diameter_median_m=40.0, mound_diameter_m=(30.0, 60.0))
    ratios = []
    for seed in range(3):
        _, mounds = simulate_mound_field(size=512, n_mounds=60, seed=seed, params=small)
        distance, neighbour = nearest_neighbours(mounds)
        radii = mounds["diameter_m"].to_numpy() / 2
        assert np.all(distance >= radii + radii[neighbour])
        ratios.append(distance.mean() / (0.5 / np.sqrt(len(mounds) / (512 * 5.0) ** 2)))
    assert np.mean(ratios) < 0.8  # Clark-Evans ratio: 1 for a random (Poisson) pattern, < 1 when clustered


def test_fractal_surface_has_the_hurst_spectrum():
    surface = fractal_surface(256, 0.8, np.random.default_rng(0))
    power = np.abs(np.fft.fft2(surface)) ** 2
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(256), np.fft.fftfreq(256)))
    band = (k > 0.02) & (k < 0.3)
    slope = np.polyfit(np.log(k[band]), np.log(power[band]), 1)[0]
    assert slope == pytest.approx(-(2 * 0.8 + 2), abs=0.15)
    assert surface.std() == pytest.approx(1.0)


def test_geotiff_round_trip_keeps_mars_georeference(field, tmp_path):
    scene, _ = field
    back = read_geotiff(write_geotiff(scene["dtm"], tmp_path / "dtm.tif"), require_crs=True)
    np.testing.assert_array_equal(back.values[0], scene["dtm"].values)
    np.testing.assert_allclose(back["y"], scene["y"])
    assert CRS.from_wkt(back.attrs["crs"]).equals(CRS.from_wkt(scene.attrs["crs"]))
    assert back.attrs["transform"] == scene.attrs["transform"]


def test_parameters_and_errors():
    all_pits = dataclasses.replace(MoundFieldParameters(), summit_pit_fraction=1.0)
    _, mounds = simulate_mound_field(size=128, n_mounds=4, params=all_pits)
    assert mounds["has_summit_pit"].all()
    with pytest.raises(PlanetMLError, match="could place only"):
        simulate_mound_field(size=64, n_mounds=200)
    with pytest.raises(PlanetMLError, match="size"):
        simulate_mound_field(size=8)


def test_a_512_scene_takes_well_under_a_second():
    started = time.perf_counter()
    simulate_mound_field(size=512, n_mounds=40, seed=5)
    assert time.perf_counter() - started < 1.0
