"""Band analysis of VNIR spectra (Cloutis et al. 1986; Gaffey et al. 1993): the physics baseline.

The continuum is the upper convex hull of each spectrum; dividing by it leaves the absorption
bands. Band I (olivine, pyroxene; near 1 µm) is sought in :data:`BAND_I_NM`, band II
(pyroxene; near 2 µm) in :data:`BAND_II_NM`. A band's centre is the vertex of a parabola
fitted to the continuum-removed minimum and its neighbours (:data:`CENTRE_HALF_WIDTH_NM`),
its depth is one minus the continuum-removed value there, its area the integral of one minus
the continuum-removed spectrum over the band; the band area ratio (BAR) is area II / area I.
Olivine-rich spectra have band I near 1050 nm and a small BAR; pyroxenes two bands whose
centres move to longer wavelengths with Fs and Wo.
"""

import numpy as np
import pandas as pd
import xarray as xr

#: Where band I and band II are sought (nm).
BAND_I_NM = (750.0, 1350.0)
BAND_II_NM = (1600.0, 2450.0)
#: Half width (nm) of the parabola fitted around a band minimum.
CENTRE_HALF_WIDTH_NM = 30.0
#: The band parameters, in :func:`band_parameters`'s column order.
PARAMETERS = ("band_I_centre_nm", "band_I_depth", "band_I_area_nm", "band_II_centre_nm", "band_II_depth",
              "band_II_area_nm", "band_area_ratio")


def upper_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The upper convex hull of the points ``(x, y)`` (``x`` increasing), evaluated at ``x``."""
    hull = []
    for i in range(len(x)):  # Andrew's monotone chain, upper half
        while len(hull) >= 2:
            (x0, y0), (x1, y1) = (x[hull[-2]], y[hull[-2]]), (x[hull[-1]], y[hull[-1]])
            if (x1 - x0) * (y[i] - y0) - (y1 - y0) * (x[i] - x0) >= 0:  # the middle point lies under the chord
                hull.pop()
            else:
                break
        hull.append(i)
    return np.interp(x, x[hull], y[hull])


def continuum_removed(ds: xr.Dataset) -> xr.DataArray:
    """Reflectance divided by its upper-hull continuum, ``(sample, wavelength)``, 1 on the hull."""
    x = ds["wavelength"].values
    values = ds["reflectance"].values
    removed = np.stack([row / upper_hull(x, row) for row in values])
    return ds["reflectance"].copy(data=removed).rename("continuum_removed").assign_attrs(
        units="1", long_name="continuum-removed reflectance")


def _band(x, removed, window):
    """(centre nm, depth, area nm) of one band of one continuum-removed spectrum."""
    inside = (x >= window[0]) & (x <= window[1])
    xs, ys = x[inside], removed[inside]
    k = int(np.argmin(ys))
    near = np.abs(xs - xs[k]) <= CENTRE_HALF_WIDTH_NM
    a, b, c = np.polyfit(xs[near] - xs[k], ys[near], 2) if near.sum() >= 3 else (0.0, 0.0, ys[k])
    offset = -b / (2 * a) if a > 0 else 0.0
    offset = float(np.clip(offset, -CENTRE_HALF_WIDTH_NM, CENTRE_HALF_WIDTH_NM))
    centre = xs[k] + offset
    depth = 1.0 - (a * offset**2 + b * offset + c)
    area = float(np.trapezoid(1.0 - ys, xs))
    return centre, depth, area


def band_parameters(ds: xr.Dataset) -> pd.DataFrame:
    """Band I and II centres, depths and areas, and the band area ratio: one row per spectrum."""
    x = ds["wavelength"].values
    removed = continuum_removed(ds).values
    rows = []
    for spectrum in removed:
        one = _band(x, spectrum, BAND_I_NM)
        two = _band(x, spectrum, BAND_II_NM)
        rows.append((*one, *two, two[2] / one[2] if one[2] > 0 else np.nan))
    return pd.DataFrame(rows, columns=list(PARAMETERS))


def spectral_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spectral angles (radians) between the rows of ``a`` (n, w) and of ``b`` (m, w): shape (n, m)."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.arccos(np.clip(a @ b.T, -1.0, 1.0))
