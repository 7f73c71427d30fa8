"""Earth's bow shock and magnetopause: model surfaces, normals and the shock-normal angle.

Coordinates are GSE (x to the Sun, z to the ecliptic north pole, y towards dusk) in Earth
radii. Both surfaces are symmetric about the *aberrated* Sun-Earth line: Earth moves at
about 30 km/s towards -y, so the solar wind arrives from ``atan(30 / V_sw)`` (about 4 deg at
400 km/s) towards dawn; :func:`to_aberrated` rotates GSE about z into that frame.

* Magnetopause: Shue et al. (1998), ``r = r0 (2 / (1 + cos theta))^alpha`` about Earth's
  centre, with ``r0 = (10.22 + 1.29 tanh(0.184 (Bz + 8.14))) Pdyn^(-1/6.6)`` and
  ``alpha = (0.58 - 0.007 Bz)(1 + 0.024 ln Pdyn)``.
* Bow shock: a conic ``r = L / (1 + eps cos theta)`` about a focus at ``x0`` on the aberrated
  axis (Slavin & Holzer 1981; Farris et al. 1991). Its standoff is the magnetopause standoff
  times ``1 + Delta / R_mp`` with the Farris & Russell (1994) relation
  ``Delta / R_mp = 1.1 ((gamma - 1) M^2 + 2) / ((gamma + 1)(M^2 - 1))``, so it moves as
  ``Pdyn^(-1/6.6)`` and outward at low Mach number; ``L`` follows from the standoff.

Distances are measured along the radial line from the surface's origin (Earth's centre for
the magnetopause, the focus for the shock) and are signed: > 0 outside (upstream).
Vectors are arrays of shape (3,) or (3, n): the components come first.
"""

import numpy as np

#: Earth's radius (km).
EARTH_RADIUS_KM = 6371.2
#: Earth's orbital speed (km/s), which aberrates the solar wind.
EARTH_ORBITAL_SPEED_KM_S = 29.8
#: Ratio of specific heats of the solar-wind plasma.
GAMMA = 5.0 / 3.0


def aberration_angle(speed_km_s) -> np.ndarray:
    """Aberration angle of the solar wind (rad): ``atan(29.8 km/s / V_sw)``, about 4.3 deg at 400 km/s."""
    return np.arctan2(EARTH_ORBITAL_SPEED_KM_S, np.asarray(speed_km_s, dtype=float))


def to_aberrated(vector, speed_km_s) -> np.ndarray:
    """Rotate GSE vectors, shape (3, ...), into the aberrated frame whose +x faces the incoming wind.

    The wind comes from ``(cos a, -sin a, 0)`` in GSE (a: :func:`aberration_angle`), which
    becomes +x.

    Examples
    --------
    >>> to_aberrated(np.array([1.0, 0.0, 0.0]), 400.0).round(3)
    array([0.997, 0.074, 0.   ])
    """
    a = aberration_angle(speed_km_s)
    x, y, z = np.asarray(vector, dtype=float)
    return np.stack([x * np.cos(a) - y * np.sin(a), x * np.sin(a) + y * np.cos(a), z])


def from_aberrated(vector, speed_km_s) -> np.ndarray:
    """Inverse of :func:`to_aberrated`: aberrated-frame vectors, shape (3, ...), back to GSE."""
    a = aberration_angle(speed_km_s)
    x, y, z = np.asarray(vector, dtype=float)
    return np.stack([x * np.cos(a) + y * np.sin(a), -x * np.sin(a) + y * np.cos(a), z])


def magnetopause_standoff(pdyn_npa, bz_nt) -> np.ndarray:
    """Subsolar magnetopause distance r0 of Shue et al. (1998) (R_E); 10.3 R_E at 2 nPa, Bz = 0.

    Examples
    --------
    >>> round(float(magnetopause_standoff(2.0, 0.0)), 2)
    10.25
    """
    bz = np.asarray(bz_nt, dtype=float)
    return (10.22 + 1.29 * np.tanh(0.184 * (bz + 8.14))) * np.asarray(pdyn_npa, dtype=float) ** (-1 / 6.6)


def magnetopause_flaring(pdyn_npa, bz_nt) -> np.ndarray:
    """Flaring exponent alpha of Shue et al. (1998) (dimensionless, about 0.58)."""
    return (0.58 - 0.007 * np.asarray(bz_nt, dtype=float)) * (1 + 0.024 * np.log(pdyn_npa))


def standoff_ratio(mach) -> np.ndarray:
    """Shock standoff over magnetopause standoff, ``1 + Delta / R_mp`` (Farris & Russell 1994).

    ``mach`` is the fast magnetosonic Mach number (> 1); 1.29 at M = 8, growing fast below M = 3.
    """
    m2 = np.asarray(mach, dtype=float) ** 2
    return 1 + 1.1 * ((GAMMA - 1) * m2 + 2) / ((GAMMA + 1) * (m2 - 1))


def shock_standoff(pdyn_npa, mach, bz_nt) -> np.ndarray:
    """Subsolar bow-shock distance (R_E): the Shue magnetopause standoff times :func:`standoff_ratio`.

    Examples
    --------
    >>> round(float(shock_standoff(2.0, 8.0, 0.0)), 1)
    13.3
    """
    return magnetopause_standoff(pdyn_npa, bz_nt) * standoff_ratio(mach)


def _polar(position_re, speed_km_s, x0=0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance from ``(x0, 0, 0)`` (aberrated frame), cos of the angle from +x, and the
    aberrated position relative to that point, shape (3, ...)."""
    origin = np.reshape([x0, 0.0, 0.0], (3,) + (1,) * (np.ndim(position_re) - 1))
    relative = to_aberrated(position_re, speed_km_s) - origin
    r = np.linalg.norm(relative, axis=0)
    return r, relative[0] / np.maximum(r, 1e-12), relative


def shock_radius(cos_theta, pdyn, mach, bz, eps, x0) -> np.ndarray:
    """Distance of the shock conic from its focus at angle ``acos(cos_theta)`` from the axis (R_E);
    infinite where a hyperbola (``eps >= 1``) has no branch."""
    semi_latus = (shock_standoff(pdyn, mach, bz) - x0) * (1 + eps)
    denominator = 1 + eps * np.asarray(cos_theta)
    return np.where(denominator > 1e-9, semi_latus / np.maximum(denominator, 1e-9), np.inf)


def shock_surface_distance(position_re, pdyn, mach, bz, eps, x0=3.0, speed_km_s=400.0) -> np.ndarray:
    """Signed distance of points from the bow shock along the radial line from its focus (R_E).

    Parameters
    ----------
    position_re : array-like, shape (3,) or (3, n)
        GSE positions (R_E).
    pdyn, mach, bz : float or array of shape (n,)
        Solar-wind dynamic pressure (nPa), fast magnetosonic Mach number, IMF Bz (nT).
    eps, x0 : float
        Eccentricity of the conic and its focus on the aberrated axis (R_E).
    speed_km_s : float
        Solar-wind speed (km/s), for the aberration.

    Returns
    -------
    numpy.ndarray, shape () or (n,)
        > 0 upstream (solar wind), < 0 downstream (R_E).

    Examples
    --------
    >>> round(float(shock_surface_distance([15.0, 0.0, 0.0], 2.0, 8.0, 0.0, 0.9)), 1)
    1.7
    """
    r, cos_theta, _ = _polar(position_re, speed_km_s, x0)
    return r - shock_radius(cos_theta, pdyn, mach, bz, eps, x0)


def shock_normal(position_re, eps, x0=3.0, speed_km_s=400.0) -> np.ndarray:
    """Outward unit normal (GSE) of the bow shock where the radial line from the focus through the point meets it.

    On ``r + eps x = L`` (focus coordinates) the gradient is ``r_hat + eps x_hat``: the
    normal depends on the direction only, not on the standoff. Shape as ``position_re``.

    Examples
    --------
    >>> shock_normal([13.0, 0.0, 0.0], 0.9, speed_km_s=1e9).round(3).tolist()
    [1.0, -0.0, 0.0]
    """
    r, _, relative = _polar(position_re, speed_km_s, x0)
    gradient = relative / np.maximum(r, 1e-12)
    gradient[0] = gradient[0] + eps
    return from_aberrated(gradient / np.linalg.norm(gradient, axis=0), speed_km_s)


def magnetopause_radius(cos_theta, pdyn, bz) -> np.ndarray:
    """Shue et al. (1998) magnetopause distance from Earth's centre (R_E) at ``acos(cos_theta)`` from the axis."""
    ratio = 2 / np.maximum(1 + np.asarray(cos_theta), 1e-9)
    return magnetopause_standoff(pdyn, bz) * ratio ** magnetopause_flaring(pdyn, bz)


def magnetopause_surface_distance(position_re, pdyn, bz, speed_km_s=400.0) -> np.ndarray:
    """Signed distance of points from the Shue magnetopause along the radial line from Earth (R_E), > 0 outside.

    Examples
    --------
    >>> round(float(magnetopause_surface_distance([11.0, 0.0, 0.0], 2.0, 0.0, 1e9)), 2)
    0.75
    """
    r, cos_theta, _ = _polar(position_re, speed_km_s)
    return r - magnetopause_radius(cos_theta, pdyn, bz)


def magnetopause_normal(position_re, pdyn, bz, speed_km_s=400.0) -> np.ndarray:
    """Outward unit normal (GSE) of the Shue magnetopause where the radial line from Earth meets it.

    With ``theta`` the angle from the aberrated axis, the normal is
    ``e_r - alpha sin(theta) / (1 + cos(theta)) e_theta``. Shape as ``position_re``.
    """
    r, cos_theta, relative = _polar(position_re, speed_km_s)
    sin_theta = np.sqrt(np.clip(1 - cos_theta**2, 0.0, 1.0))
    rho = np.linalg.norm(relative[1:], axis=0)
    around = relative[1:] / np.maximum(rho, 1e-12)
    tilt = magnetopause_flaring(pdyn, bz) * sin_theta / np.maximum(1 + cos_theta, 1e-9)
    e_r = np.concatenate([cos_theta[None], sin_theta * around])
    e_theta = np.concatenate([-sin_theta[None], cos_theta * around])
    normal = e_r - tilt * e_theta
    return from_aberrated(normal / np.linalg.norm(normal, axis=0), speed_km_s)


def theta_bn(imf_vector, normal) -> np.ndarray:
    """Shock-normal angle (deg, 0-90) between the field and the normal, whatever their signs.

    Parameters
    ----------
    imf_vector, normal : array-like, shape (3,) or (3, n)

    Examples
    --------
    >>> round(float(theta_bn([1.0, 1.0, 0.0], [-1.0, 0.0, 0.0])), 1)
    45.0
    """
    b, n = np.asarray(imf_vector, dtype=float), np.asarray(normal, dtype=float)
    cosine = np.abs((b * n).sum(axis=0)) / np.maximum(np.linalg.norm(b, axis=0) * np.linalg.norm(n, axis=0), 1e-12)
    return np.degrees(np.arccos(np.clip(cosine, 0.0, 1.0)))
