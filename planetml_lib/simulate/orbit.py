"""A MESSENGER-like Keplerian orbit about Mercury, placed on a real orbit's times.

MESSENGER flew a near-polar, highly eccentric orbit: 12 h until April 2012 and 8 h after,
periapsis 200-500 km above the surface at 60-85 deg N, apoapsis about 15,000 km (10,300 km
on the 8-h orbit). Here the orbit is a Kepler ellipse about Mercury in a plane that holds
the planet's spin axis (inclination 90 deg; MESSENGER's 82.5 deg is neglected). The
semi-major axis follows from the period (Kepler's third law), the eccentricity from the
periapsis altitude. The plane is fixed in MSO during one orbit (it turns by only 2 deg per
12 h as Mercury goes round the Sun).

In the plane, the position is ``r (cos(theta) u + sin(theta) z)`` with ``u`` the unit
vector towards the periapsis meridian (azimuth ``periapsis_azimuth_deg`` from +x towards
+y), ``theta = periapsis_latitude - nu`` and ``nu`` the true anomaly: before periapsis the
spacecraft comes over the north pole, after it descends on the periapsis side, as
MESSENGER did (checked against the MSO positions of the Philpott et al. 2020 crossings).
"""

import dataclasses

import numpy as np
import pandas as pd
from astropy.coordinates import get_body_barycentric
from astropy.time import Time

from planetml_lib.preprocess.mercury import MERCURY_GM_KM3_S2, MERCURY_RADIUS_KM

#: Mercury's sidereal orbital period (days): the orbit plane turns once round in MSO.
MERCURY_YEAR_DAYS = 87.969
#: Periapsis azimuth (deg) fitted to orbit 12 (periapsis 2011-03-24 01:40 UT), used when
#: crossings carry no positions; it drifts by -360 deg per Mercury year.
_REFERENCE_AZIMUTH = (pd.Timestamp("2011-03-24 01:40"), 235.0)
_POSITION_COLUMNS = ["x_mso_km", "y_mso_km", "z_mso_km"]


@dataclasses.dataclass(frozen=True)
class OrbitGeometry:
    """One Keplerian orbit: when and where its periapsis is.

    Attributes
    ----------
    periapsis_time : pandas.Timestamp
        Time of periapsis (UTC).
    period_s : float
        Orbital period (s).
    periapsis_altitude_km : float
        Periapsis height above Mercury's surface (km).
    periapsis_latitude_deg : float
        Latitude of the periapsis (deg, MSO, north positive).
    periapsis_azimuth_deg : float
        Azimuth of the orbit plane's periapsis half (deg, from +x towards +y: 0 noon, 90 dusk).
    """

    periapsis_time: pd.Timestamp
    period_s: float
    periapsis_altitude_km: float = 300.0
    periapsis_latitude_deg: float = 62.0
    periapsis_azimuth_deg: float = 235.0

    @property
    def semi_major_axis_km(self) -> float:
        """Semi-major axis (km) from Kepler's third law."""
        return (MERCURY_GM_KM3_S2 * (self.period_s / (2 * np.pi)) ** 2) ** (1 / 3)

    @property
    def eccentricity(self) -> float:
        """Eccentricity from the periapsis distance and the semi-major axis."""
        return 1.0 - (MERCURY_RADIUS_KM + self.periapsis_altitude_km) / self.semi_major_axis_km


def true_anomaly(seconds: np.ndarray, period_s: float, eccentricity: float) -> np.ndarray:
    """True anomaly (rad, in (-pi, pi]) at ``seconds`` from periapsis, by Newton on Kepler's equation."""
    mean = np.angle(np.exp(2j * np.pi * np.asarray(seconds, dtype=float) / period_s))
    ecc = mean + eccentricity * np.sin(mean)
    for _ in range(12):
        ecc -= (ecc - eccentricity * np.sin(ecc) - mean) / (1 - eccentricity * np.cos(ecc))
    return 2 * np.arctan2(np.sqrt(1 + eccentricity) * np.sin(ecc / 2), np.sqrt(1 - eccentricity) * np.cos(ecc / 2))


def orbit_positions(time, geometry: OrbitGeometry) -> np.ndarray:
    """MSO positions (km) of the spacecraft at ``time``.

    Parameters
    ----------
    time : array-like of datetime64, shape (n,)
        Sample times.
    geometry : OrbitGeometry
        The orbit.

    Returns
    -------
    numpy.ndarray, shape (3, n)
        x, y, z in MSO (km).
    """
    seconds = (pd.DatetimeIndex(time) - geometry.periapsis_time).total_seconds().to_numpy()
    e, a = geometry.eccentricity, geometry.semi_major_axis_km
    nu = true_anomaly(seconds, geometry.period_s, e)
    r = a * (1 - e**2) / (1 + e * np.cos(nu))
    theta = np.radians(geometry.periapsis_latitude_deg) - nu
    azimuth = np.radians(geometry.periapsis_azimuth_deg)
    horizontal = r * np.cos(theta)
    return np.stack([horizontal * np.cos(azimuth), horizontal * np.sin(azimuth), r * np.sin(theta)])


def default_azimuth(time: pd.Timestamp) -> float:
    """Periapsis azimuth (deg) extrapolated from orbit 12 by the plane's turn in MSO."""
    reference, azimuth = _REFERENCE_AZIMUTH
    days = (pd.Timestamp(time) - reference) / pd.Timedelta(days=1)
    return float((azimuth - 360.0 * days / MERCURY_YEAR_DAYS) % 360.0)


def _circular_mean_spread(angles: np.ndarray) -> tuple[float, float]:
    """Circular mean (rad) and 1 - mean resultant length of ``angles``."""
    resultant = np.exp(1j * angles).mean()
    return float(np.angle(resultant)), 1.0 - float(np.abs(resultant))


def fit_plane(crossings: pd.DataFrame, geometry: OrbitGeometry) -> OrbitGeometry:
    """Fit the periapsis azimuth and latitude to the MSO positions of crossings.

    The plane holds the z axis, so the crossings' (x, y) lie on a line through the
    origin: its principal direction gives the azimuth up to 180 deg. For each crossing
    the in-plane angle plus the true anomaly at its ``start`` estimates the periapsis
    latitude; the side with the most consistent estimates is kept. ``geometry`` is
    returned unchanged when fewer than two crossings have positions.

    Parameters
    ----------
    crossings : pandas.DataFrame
        Events with ``start`` and ``x_mso_km``, ``y_mso_km``, ``z_mso_km`` (position at
        ``start``), as from :func:`~planetml_lib.io.catalogs.read_philpott`.
    geometry : OrbitGeometry
        Periapsis time, period and altitude to keep.

    Returns
    -------
    OrbitGeometry
        With ``periapsis_azimuth_deg`` and ``periapsis_latitude_deg`` fitted.
    """
    if not set(_POSITION_COLUMNS) <= set(crossings.columns):
        return geometry
    known = crossings.dropna(subset=_POSITION_COLUMNS)
    if len(known) < 2:
        return geometry
    x, y, z = known[_POSITION_COLUMNS].to_numpy(dtype=float).T
    seconds = (pd.DatetimeIndex(known["start"]) - geometry.periapsis_time).total_seconds().to_numpy()
    nu = true_anomaly(seconds, geometry.period_s, geometry.eccentricity)
    line = 0.5 * np.arctan2(2 * (x * y).sum(), (x**2 - y**2).sum())
    fits = []
    for azimuth in (line, line + np.pi):
        theta = np.arctan2(z, x * np.cos(azimuth) + y * np.sin(azimuth))
        fits.append((*_circular_mean_spread(theta + nu)[::-1], azimuth))
    _, latitude, azimuth = min(fits)
    return dataclasses.replace(
        geometry,
        periapsis_latitude_deg=float(np.degrees(latitude)),
        periapsis_azimuth_deg=float(np.degrees(azimuth) % 360.0),
    )


def sun_distance_au(time: pd.Timestamp) -> float:
    """Mercury's distance from the Sun (AU) at ``time`` (UTC), from astropy's built-in ephemeris (offline)."""
    moment = Time(pd.Timestamp(time).to_pydatetime(), scale="utc")
    offset = get_body_barycentric("mercury", moment) - get_body_barycentric("sun", moment)
    return float(offset.norm().to_value("AU"))
