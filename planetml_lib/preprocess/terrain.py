"""Terrain derivatives of a digital terrain model (DTM): slope, shaded relief, model channels.

Grids are north-up: row 0 is the northern edge and ``x`` grows east; elevations
and pixel sizes are in metres. The same hillshade serves the Mars simulator
(:mod:`planetml_lib.simulate.mars_terrain`) and the models' input channels.
"""

import numpy as np

from planetml_lib.errors import PlanetMLError

#: Names of the channels of :func:`terrain_channels`, in order.
TERRAIN_CHANNELS = ("elevation", "slope", "hillshade")


def _gradients(dtm, pixel_m):
    """Elevation gradients towards east and north (m/m) of a north-up DTM ``(y, x)``."""
    d_row, d_col = np.gradient(np.asarray(dtm, dtype=np.float64), pixel_m)
    return d_col, -d_row


def slope_deg(dtm, pixel_m):
    """Surface slope in degrees of a DTM ``(y, x)`` in metres with ``pixel_m`` metre pixels.

    Examples
    --------
    >>> ramp = np.tile(np.arange(5.0), (3, 1))  # rises 1 m per 1 m pixel eastwards
    >>> float(slope_deg(ramp, 1.0)[1, 2])
    45.0
    """
    east, north = _gradients(dtm, pixel_m)
    return np.degrees(np.arctan(np.hypot(east, north)))


def hillshade(dtm, pixel_m, azimuth_deg=315.0, elevation_deg=45.0):
    """Lambertian shaded relief in [0, 1] of a DTM ``(y, x)``.

    Parameters
    ----------
    dtm : array-like, shape (y, x)
        Elevation in metres, north-up.
    pixel_m : float
        Pixel size in metres.
    azimuth_deg : float, default 315
        Direction the light comes from, clockwise from north (315 = north-west,
        the cartographic convention).
    elevation_deg : float, default 45
        Sun elevation above the horizon.

    Returns
    -------
    np.ndarray, shape (y, x)
        Cosine of the angle between the surface normal and the sun, 0 in shadow.

    Examples
    --------
    >>> round(float(hillshade(np.zeros((3, 3)), 1.0, elevation_deg=30.0)[1, 1]), 6)
    0.5
    """
    east, north = _gradients(dtm, pixel_m)
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    sun = (np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el))
    shade = (-east * sun[0] - north * sun[1] + sun[2]) / np.sqrt(east**2 + north**2 + 1)
    return np.clip(shade, 0.0, 1.0)


def _remove_plane(dtm):
    """Subtract the least-squares plane through the finite pixels of ``dtm`` ``(y, x)``."""
    rows, cols = np.indices(dtm.shape, dtype=np.float64)
    finite = np.isfinite(dtm)
    if not finite.any():
        return dtm.copy()
    design = np.stack([np.ones(finite.sum()), rows[finite], cols[finite]], axis=1)
    coef = np.linalg.lstsq(design, dtm[finite], rcond=None)[0]
    return dtm - (coef[0] + coef[1] * rows + coef[2] * cols)


def terrain_channels(dtm, pixel_m, azimuth_deg=315.0, elevation_deg=45.0):
    """Stack the model's terrain channels from a DTM: relative elevation, slope, hillshade.

    Parameters
    ----------
    dtm : array-like, shape (y, x)
        Elevation in metres (NaN for gaps, which spread to neighbouring slopes).
    pixel_m : float
        Pixel size in metres.
    azimuth_deg, elevation_deg : float
        Illumination of the hillshade, see :func:`hillshade`.

    Returns
    -------
    np.ndarray of float32, shape (3, y, x)
        :data:`TERRAIN_CHANNELS`: elevation minus its best-fit plane (m),
        slope (degrees) and hillshade (0-1). Scale with :func:`scale_to_unit`.
    """
    dtm = np.asarray(dtm, dtype=np.float64)
    if dtm.ndim != 2:
        raise PlanetMLError(f"terrain_channels needs a (y, x) DTM, got shape {dtm.shape}")
    channels = [_remove_plane(dtm), slope_deg(dtm, pixel_m),
                hillshade(dtm, pixel_m, azimuth_deg, elevation_deg)]
    return np.stack(channels).astype(np.float32)
