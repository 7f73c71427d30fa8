"""Rotations of magnetic-field components between coordinate frames.

:func:`gse_to_heeq` turns near-Earth GSE components (OMNI, Wind, ACE) into
HEEQ, the frame of the STEREO series and of ICMECAT's Wind events, with the
angles of Hapgood (1992, Planet. Space Sci. 40, 711, doi:10.1016/0032-0633(92)90012-D):

- the Sun's geocentric ecliptic longitude ``lambda``, from the mean anomaly
  ``M = 357.528 + 35999.050 T0`` and mean longitude ``280.460 + 36000.772 T0``
  (degrees; ``T0`` in Julian centuries from J2000, MJD 51544.5):
  ``lambda = L + (1.915 - 0.0048 T0) sin M + 0.020 sin 2M``;
- the inclination of the solar equator on the ecliptic, ``i = 7.25`` degrees;
- the ecliptic longitude of its ascending node,
  ``Omega = 73.6667 + 0.013958 (MJD + 3242) / 365.25`` degrees.

GSE -> HAE (ecliptic of date) is the rotation ``<lambda, Z>`` undone;
HAE -> HEEQ is ``<theta, Z> <i, X> <Omega, Z>`` with ``theta`` the angle from
the node to the Earth in the solar equatorial plane,
``tan theta = cos i tan(lambda + 180 - Omega)`` (Hapgood's ``<angle, axis>`` is
a rotation of the axes by ``angle`` about ``axis``). HEEQ's X axis lies in the
plane of the solar rotation axis and the Sun-Earth line and points from the Sun
to the Earth, so for data near Earth ``bx_heeq ~ -bx_gse``.
"""

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import PlanetMLError

#: Inclination of the solar equator on the ecliptic (degrees).
SOLAR_INCLINATION_DEG = 7.25
COMPONENTS = ("bx", "by", "bz")
_MJD_ZERO = np.datetime64("1858-11-17T00:00", "ns")


def _axes_rotation(angle: np.ndarray, axis: int) -> np.ndarray:
    """Hapgood's ``<angle, axis>``: matrices (n, 3, 3) rotating the axes by ``angle`` (radians)."""
    first, second = [k for k in range(3) if k != axis]
    cos, sin = np.cos(angle), np.sin(angle)
    matrix = np.zeros(np.shape(angle) + (3, 3))
    matrix[..., axis, axis] = 1.0
    matrix[..., first, first] = cos
    matrix[..., second, second] = cos
    matrix[..., first, second] = sin
    matrix[..., second, first] = -sin
    return matrix


def gse_to_heeq_matrix(time) -> np.ndarray:
    """GSE -> HEEQ rotation matrices for a vector measured near Earth at ``time``.

    Parameters
    ----------
    time : array_like of datetime64
        UTC times, shape (n,).

    Returns
    -------
    numpy.ndarray
        Shape (n, 3, 3); ``heeq = matrix @ gse``.

    Examples
    --------
    >>> m = gse_to_heeq_matrix(np.array(["2017-01-01T00:00"], dtype="datetime64[ns]"))
    >>> earth = m[0] @ [-1.0, 0.0, 0.0]  # GSE -X, from the Sun to the Earth
    >>> earth.round(4) + 0.0, round(float(np.degrees(np.arcsin(earth[2]))), 2)  # the B0 angle on 1 January
    (array([ 0.9986,  0.    , -0.0529]), -3.03)
    """
    time = np.asarray(time, dtype="datetime64[ns]")
    mjd = (time - _MJD_ZERO) / np.timedelta64(1, "D")
    centuries = (mjd - 51544.5) / 36525.0
    anomaly = np.radians(357.528 + 35999.050 * centuries)
    mean_longitude = 280.460 + 36000.772 * centuries
    sun_longitude = np.radians(mean_longitude + (1.915 - 0.0048 * centuries) * np.sin(anomaly)
                               + 0.020 * np.sin(2 * anomaly))
    inclination = np.radians(SOLAR_INCLINATION_DEG)
    node = np.radians(73.6667 + 0.013958 * (mjd + 3242.0) / 365.25)
    earth_from_node = sun_longitude + np.pi - node
    theta = np.arctan2(np.cos(inclination) * np.sin(earth_from_node), np.cos(earth_from_node))
    gse_to_hae = np.swapaxes(_axes_rotation(sun_longitude, 2), -1, -2)
    hae_to_heeq = (_axes_rotation(theta, 2) @ _axes_rotation(np.full_like(theta, inclination), 0)
                   @ _axes_rotation(node, 2))
    return hae_to_heeq @ gse_to_hae


def gse_to_heeq(ds: xr.Dataset) -> xr.Dataset:
    """Rotate the field components ``bx, by, bz`` of a near-Earth series from GSE to HEEQ.

    Parameters
    ----------
    ds : xarray.Dataset
        Dimension ``time`` (n,) datetime64, UTC; ``bx, by, bz`` in GSE
        (for example from :func:`~planetml_lib.io.read_omni2`).
        ``ds.attrs["frame"]``, when set, must be "GSE".

    Returns
    -------
    xarray.Dataset
        A copy with ``bx, by, bz`` in HEEQ (attrs kept; a sample with a
        missing component is NaN in all three) and ``attrs["frame"]``
        "HEEQ"; other variables, ``bt`` included, are unchanged.

    Raises
    ------
    PlanetMLError
        If a component or the ``time`` coordinate is missing, a time is
        NaT or the dataset says it is in another frame.

    Examples
    --------
    >>> t = np.array(["2017-01-01T00:00"], dtype="datetime64[ns]")
    >>> ds = xr.Dataset({"bx": ("time", [-5.8]), "by": ("time", [-1.1]), "bz": ("time", [-2.3])},
    ...                 coords={"time": t}, attrs={"frame": "GSE"})
    >>> heeq = gse_to_heeq(ds)
    >>> [round(float(heeq[c][0]), 3) for c in ("bx", "by", "bz")], heeq.attrs["frame"]
    ([5.664, 0.829, -2.714], 'HEEQ')
    """
    source = ds.attrs.get("source", "dataset")
    missing = [name for name in COMPONENTS if name not in ds.data_vars]
    if missing:
        raise PlanetMLError(f"{source}: cannot rotate GSE to HEEQ, missing {missing}; "
                            f"found {sorted(map(str, ds.data_vars))}")
    frame = ds.attrs.get("frame", "GSE")
    if frame != "GSE":
        raise PlanetMLError(f"{source}: the components are in frame {frame!r}, not 'GSE' "
                            "(set ds.attrs['frame'] = 'GSE' if they are GSE)")
    if "time" not in ds.coords or not np.issubdtype(ds["time"].dtype, np.datetime64):
        raise PlanetMLError(f"{source}: cannot rotate GSE to HEEQ without a datetime64 'time' coordinate")
    time = ds["time"].values
    if pd.isna(time).any():
        raise PlanetMLError(f"{source}: cannot rotate GSE to HEEQ, 'time' has {int(pd.isna(time).sum())} NaT")
    dims = ds["bx"].dims
    if dims != ("time",) or any(ds[name].dims != dims for name in COMPONENTS):
        raise PlanetMLError(f"{source}: bx, by, bz must have the single dimension 'time', found "
                            f"{[ds[name].dims for name in COMPONENTS]}")
    gse = np.stack([ds[name].values.astype("float64") for name in COMPONENTS], axis=-1)
    heeq = np.einsum("nij,nj->ni", gse_to_heeq_matrix(time), gse)
    out = ds.copy()
    for k, name in enumerate(COMPONENTS):
        out[name] = xr.Variable("time", heeq[:, k], dict(ds[name].attrs))
    out.attrs["frame"] = "HEEQ"
    return out
