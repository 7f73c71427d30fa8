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
    np.negative(d_row, out=d_row)
    return d_col, d_row


def _slope_from(east, north):
    """Slope in degrees from the gradients (in place where it can: rasters can be large)."""
    slope = np.hypot(east, north)
    np.arctan(slope, out=slope)
    return np.degrees(slope, out=slope)


def _shade_from(east, north, azimuth_deg, elevation_deg):
    """Lambertian shading in [0, 1] from the gradients, one full-size temporary at a time."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    shade = east * -(np.sin(az) * np.cos(el))
    shade -= north * (np.cos(az) * np.cos(el))
    shade += np.sin(el)
    norm = np.square(east)
    norm += np.square(north)
    norm += 1
    np.sqrt(norm, out=norm)
    shade /= norm
    return np.clip(shade, 0.0, 1.0, out=shade)


def slope_deg(dtm, pixel_m):
    """Surface slope in degrees of a DTM ``(y, x)`` in metres with ``pixel_m`` metre pixels.

    Examples
    --------
    >>> ramp = np.tile(np.arange(5.0), (3, 1))  # rises 1 m per 1 m pixel eastwards
    >>> float(slope_deg(ramp, 1.0)[1, 2])
    45.0
    """
    return _slope_from(*_gradients(dtm, pixel_m))


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
    return _shade_from(*_gradients(dtm, pixel_m), azimuth_deg, elevation_deg)


def _remove_plane(dtm, out):
    """Write ``dtm`` ``(y, x)`` minus its least-squares plane through the finite pixels into ``out``.

    The plane comes from the 3 x 3 normal equations, summed row- and column-wise, so no
    ``(n_pixels, 3)`` design matrix is built (it took 400 MB on a 4096 x 4096 raster).
    """
    finite = np.isfinite(dtm)
    if not finite.any():
        out[...] = dtm
        return out
    rows = np.arange(dtm.shape[0], dtype=np.float64) - dtm.shape[0] / 2  # centred: well conditioned
    cols = np.arange(dtm.shape[1], dtype=np.float64) - dtm.shape[1] / 2
    per_row, per_col = finite.sum(axis=1), finite.sum(axis=0)
    values = np.where(finite, dtm, 0.0)
    cross = rows @ (finite.astype(np.float64) @ cols)  # sum of row * col over finite pixels
    normal = np.array([[per_row.sum(), per_row @ rows, per_col @ cols],
                       [per_row @ rows, per_row @ rows**2, cross],
                       [per_col @ cols, cross, per_col @ cols**2]])
    target = np.array([values.sum(), rows @ values.sum(axis=1), values.sum(axis=0) @ cols])
    coef = np.linalg.lstsq(normal, target, rcond=None)[0]
    row_part, col_part = coef[0] + coef[1] * rows, coef[2] * cols
    for start in range(0, dtm.shape[0], 256):  # float64 arithmetic, one block of rows at a time
        block = slice(start, start + 256)
        out[block] = dtm[block] - row_part[block, None] - col_part[None, :]
    return out


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
    channels = np.empty((len(TERRAIN_CHANNELS), *dtm.shape), dtype=np.float32)
    _remove_plane(dtm, out=channels[0])
    east, north = _gradients(dtm, pixel_m)
    del dtm  # the caller may still hold it; here it is no longer needed
    channels[2] = _shade_from(east, north, azimuth_deg, elevation_deg)
    channels[1] = _slope_from(east, north)
    return channels
