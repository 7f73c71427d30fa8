import numpy as np
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.terrain import TERRAIN_CHANNELS, hillshade, slope_deg, terrain_channels

ROWS, COLS = np.indices((20, 30), dtype=float)


def test_slope_of_planes():
    assert slope_deg(np.zeros((5, 5)), 2.0).max() == 0
    np.testing.assert_allclose(slope_deg(ROWS * 2.0, 2.0), 45.0)  # 2 m per 2 m pixel
    np.testing.assert_allclose(slope_deg(COLS * np.tan(np.radians(10)) * 5, 5.0), 10.0)


def test_hillshade_lights_the_slopes_facing_the_sun():
    east_rising = COLS * 0.5  # faces west
    north_facing = ROWS * 0.5  # rows grow southwards, so this faces north
    assert hillshade(east_rising, 1.0, azimuth_deg=270)[5, 5] > hillshade(east_rising, 1.0, azimuth_deg=90)[5, 5]
    assert hillshade(north_facing, 1.0, azimuth_deg=0)[5, 5] > hillshade(north_facing, 1.0, azimuth_deg=180)[5, 5]
    flat = hillshade(np.zeros((4, 4)), 1.0, elevation_deg=30)
    np.testing.assert_allclose(flat, 0.5)
    steep_away = hillshade(COLS * 10.0, 1.0, azimuth_deg=90, elevation_deg=10)
    assert steep_away.max() == 0  # in shadow, never negative


def test_terrain_channels_remove_the_plane():
    bump = np.exp(-((ROWS - 10) ** 2 + (COLS - 15) ** 2) / 8)
    channels = terrain_channels(3.0 + 0.2 * ROWS - 0.1 * COLS + bump, pixel_m=1.0)
    assert channels.shape == (len(TERRAIN_CHANNELS), 20, 30) and channels.dtype == np.float32
    elevation = channels[TERRAIN_CHANNELS.index("elevation")]
    assert abs(elevation.mean()) < 1e-5 and np.argmax(elevation) == np.argmax(bump)
    assert np.all((channels[2] >= 0) & (channels[2] <= 1))
    with pytest.raises(PlanetMLError, match=r"\(y, x\)"):
        terrain_channels(np.zeros((2, 3, 3)), 1.0)


def test_gaps_stay_gaps():
    dtm = ROWS.copy()
    dtm[5, 5] = np.nan
    channels = terrain_channels(dtm, 1.0)
    assert np.isnan(channels[0, 5, 5]) and np.isfinite(channels[0]).sum() == dtm.size - 1
    assert np.isnan(channels[1, 5, 4]) and np.isfinite(channels[1, 15, 15])


def test_plane_is_fitted_to_the_finite_pixels_only():
    dtm = -2000.0 + 0.3 * ROWS - 0.7 * COLS
    dtm[:4, :6] = np.nan
    dtm[15:, 20:] = 5000.0 + 0.3 * ROWS[15:, 20:] - 0.7 * COLS[15:, 20:]  # a step: the plane fit must see it
    elevation = terrain_channels(dtm, 1.0)[0]
    assert np.isnan(elevation[:4, :6]).all() and np.isfinite(elevation[4:]).all()
    assert abs(np.nanmean(elevation)) < 1e-3  # least squares: zero mean residual over the finite pixels
    tilted = terrain_channels(-2000.0 + 0.3 * ROWS - 0.7 * COLS, 1.0)[0]
    np.testing.assert_allclose(tilted, 0.0, atol=1e-6)
