"""Mercury's magnetospheric regions and per-sample features for boundary detection.

Labels follow the five classes used to detect Mercury's bow shock and magnetopause in
MESSENGER magnetometer data: 0 IMF (solar wind), 1 SK (bow-shock crossing interval),
2 MSh (magnetosheath), 3 MP (magnetopause crossing interval), 4 MSp (magnetosphere).
Crossing intervals come from the Philpott et al. (2020) list as read by
:func:`~planetml_lib.io.catalogs.read_philpott`.

Coordinates: MSO (Mercury Solar Orbital: origin at Mercury's centre, x to the Sun, z
north, y completing the right-handed set) in km, and MSM, the same axes with the origin
moved :data:`DIPOLE_OFFSET_KM` north to the centre of the planetary dipole.
"""

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.events import events_to_mask, validate_events

#: Mercury's mean radius (km).
MERCURY_RADIUS_KM = 2440.0
#: Northward offset of the dipole centre from the planet's centre (km; Anderson et al. 2011).
DIPOLE_OFFSET_KM = 484.0
#: Dipole moment, |g10| (nT R_M^3); the moment points south, like Earth's.
DIPOLE_MOMENT_NT = 190.0
#: Mercury's gravitational parameter GM (km^3 s^-2).
MERCURY_GM_KM3_S2 = 22031.78

#: Region names; a label is the index in this tuple.
REGIONS = ("IMF", "SK", "MSh", "MP", "MSp")
IMF, SK, MSH, MP, MSP = range(len(REGIONS))
#: Philpott event label -> (region before its outer..inner traversal, crossing class, region after).
_TRAVERSALS = {
    "bow_shock_in": (IMF, SK, MSH),
    "magnetopause_in": (MSH, MP, MSP),
    "magnetopause_out": (MSP, MP, MSH),
    "bow_shock_out": (MSH, SK, IMF),
}
_BOUNDARY_VARIABLES = ("bx", "by", "bz", "x_mso", "y_mso", "z_mso")


def region_attrs() -> dict:
    """CF-style attributes of a ``region`` label variable (units, flag values and meanings)."""
    return {
        "units": "1",
        "long_name": "magnetospheric region",
        "flag_values": list(range(len(REGIONS))),
        "flag_meanings": " ".join(REGIONS),
    }


def crossings_to_regions(crossings: pd.DataFrame, time) -> np.ndarray:
    """Label every sample with its region from a table of boundary crossings.

    Precedence, from lowest to highest: IMF everywhere (the default, also with no
    crossings); then, between crossings, the region entered by the last crossing that
    ended before the sample (before the first crossing: the region it starts from, e.g.
    IMF before a ``bow_shock_in``); then SK on bow-shock intervals; then MP on
    magnetopause intervals, so MP wins where the two overlap. Intervals are closed,
    ``[start, end]``. A missing crossing therefore extends the previous region.

    Parameters
    ----------
    crossings : pandas.DataFrame
        Events with ``label`` in ``bow_shock_in``, ``magnetopause_in``,
        ``magnetopause_out``, ``bow_shock_out`` (one row per traversal, from the first
        to the last crossing of the boundary), as from
        :func:`~planetml_lib.io.catalogs.read_philpott`.
    time : array-like of datetime64, shape (n,)
        Sorted sample times.

    Returns
    -------
    numpy.ndarray of int8, shape (n,)
        Labels 0 IMF, 1 SK, 2 MSh, 3 MP, 4 MSp (see :data:`REGIONS`).

    Examples
    --------
    >>> t = pd.date_range("2011-03-24 00:00", periods=8, freq="1h")
    >>> ev = pd.DataFrame({"start": [t[1], t[4]], "end": [t[2], t[4]],
    ...                    "label": ["bow_shock_in", "magnetopause_in"]})
    >>> crossings_to_regions(ev, t)
    array([0, 1, 1, 2, 3, 4, 4, 4], dtype=int8)
    """
    events = validate_events(crossings, "crossings")
    unknown = sorted(set(events["label"]) - set(_TRAVERSALS))
    if unknown:
        raise PlanetMLError(f"crossings: unknown label(s) {unknown}; valid: {', '.join(_TRAVERSALS)}")
    times = pd.DatetimeIndex(pd.to_datetime(np.asarray(time)))
    regions = np.full(len(times), IMF, dtype=np.int8)
    if events.empty:
        return regions
    before, crossing, after = (np.array([_TRAVERSALS[label][i] for label in events["label"]]) for i in range(3))
    by_end = np.argsort(events["end"].to_numpy(), kind="stable")
    last = np.searchsorted(events["end"].to_numpy()[by_end], times.to_numpy(), side="left") - 1
    regions[:] = np.where(last >= 0, after[by_end][np.maximum(last, 0)], before[0])
    for kind in (SK, MP):
        regions[events_to_mask(events[crossing == kind], times)] = kind
    return regions


def dipole_field(x_mso_km, y_mso_km, z_mso_km, moment_nt: float = DIPOLE_MOMENT_NT,
                 offset_km: float = DIPOLE_OFFSET_KM) -> np.ndarray:
    """Mercury's axial dipole field at MSO positions.

    B = (3 (m . r) r - m r^2) / r^5 with m = -moment z (southward) and r from the dipole
    centre, ``offset_km`` north of the planet's centre, in Mercury radii. On the
    magnetic equator one radius out, B = (0, 0, +moment); over the north pole,
    (0, 0, -2 moment).

    Parameters
    ----------
    x_mso_km, y_mso_km, z_mso_km : array-like, shape (n,)
        Positions in MSO (km).
    moment_nt : float
        Dipole moment |g10| (nT R_M^3).
    offset_km : float
        Northward offset of the dipole centre (km).

    Returns
    -------
    numpy.ndarray, shape (3, n)
        Bx, By, Bz (nT) in MSO (= MSM) axes.

    Examples
    --------
    >>> dipole_field([MERCURY_RADIUS_KM], [0.0], [DIPOLE_OFFSET_KM]).ravel().round(1) + 0.0
    array([  0.,   0., 190.])
    """
    x, y, z = msm_position(x_mso_km, y_mso_km, z_mso_km, offset_km)
    r2 = x**2 + y**2 + z**2
    factor = moment_nt / r2**2.5
    return np.stack([-3 * factor * x * z, -3 * factor * y * z, factor * (r2 - 3 * z**2)])


def msm_position(x_mso_km, y_mso_km, z_mso_km, offset_km: float = DIPOLE_OFFSET_KM) -> np.ndarray:
    """MSO positions (km) -> MSM positions in Mercury radii, shape (3, n)."""
    position = np.stack(np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x_mso_km, y_mso_km, z_mso_km))))
    return (position - np.array([0.0, 0.0, offset_km]).reshape(3, *[1] * (position.ndim - 1))) / MERCURY_RADIUS_KM


def time_from_periapsis(position_km: np.ndarray, time) -> np.ndarray:
    """Signed time from the nearest periapsis (h) of a spacecraft on a Keplerian orbit.

    Uses the osculating orbit at each sample: velocity from finite differences of the
    positions, semi-major axis from the vis-viva equation, eccentric anomaly from r and
    r . v, then Kepler's equation. Works on any stretch of an orbit, periapsis included or not.

    Parameters
    ----------
    position_km : numpy.ndarray, shape (3, n)
        Mercury-centred positions (km), MSO.
    time : array-like of datetime64, shape (n,)
        Sample times (n >= 2, strictly increasing).

    Returns
    -------
    numpy.ndarray, shape (n,)
        Hours since periapsis: negative inbound (before), positive outbound; NaN where
        the osculating orbit is not bound.
    """
    seconds = (pd.DatetimeIndex(time) - pd.Timestamp(time[0])).total_seconds().to_numpy()
    if seconds.size < 2 or np.any(np.diff(seconds) <= 0):
        raise PlanetMLError("time: need at least 2 strictly increasing times to derive the orbit")
    r_vec = np.asarray(position_km, dtype=float)
    v_vec = np.gradient(r_vec, seconds, axis=1)
    r = np.linalg.norm(r_vec, axis=0)
    gm = MERCURY_GM_KM3_S2
    with np.errstate(invalid="ignore", divide="ignore"):
        a = 1.0 / (2.0 / r - (v_vec**2).sum(axis=0) / gm)
        e_cos, e_sin = 1.0 - r / a, (r_vec * v_vec).sum(axis=0) / np.sqrt(gm * a)
        anomaly = np.arctan2(e_sin, e_cos)
        mean_anomaly = anomaly - e_sin
        hours = mean_anomaly / np.sqrt(gm / a**3) / 3600.0
    return np.where(a > 0, hours, np.nan)


def _check_variables(ds: xr.Dataset) -> None:
    """Raise a one-line error naming the variables that add_boundary_features needs and lacks."""
    missing = [name for name in _BOUNDARY_VARIABLES if name not in ds]
    if missing:
        raise PlanetMLError(f"add_boundary_features needs {list(_BOUNDARY_VARIABLES)}; missing {missing}")


def add_boundary_features(ds: xr.Dataset, window: str = "60s") -> xr.Dataset:
    """Add the field and orbit features that separate Mercury's regions.

    Field: ``b_mag`` (|B|, nT); ``bx_ext``, ``by_ext``, ``bz_ext`` (B minus the planetary
    dipole of :func:`dipole_field`, nT: near zero deep in the magnetosphere, the whole
    field in the solar wind); ``b_mag_std_<window>`` (centred rolling standard deviation
    of |B| over ``window``, nT: low in the magnetosphere, high in the magnetosheath).
    Orbit: ``r_msm`` (distance from the dipole centre, R_M); ``mlat_deg`` (latitude
    above the magnetic equator, deg); ``local_time_h`` (12 at noon, x > 0) with
    ``lt_cos``, ``lt_sin`` (the local-time angle, continuous across midnight);
    ``t_periapsis_h`` (hours from periapsis, negative inbound, see
    :func:`time_from_periapsis`) and ``inbound`` (1 before periapsis, else 0).

    Parameters
    ----------
    ds : xarray.Dataset
        Time series with ``bx``, ``by``, ``bz`` (nT, MSO) and ``x_mso``, ``y_mso``,
        ``z_mso`` (km), e.g. from :func:`~planetml_lib.io.pds.read_messenger_mag` or
        :func:`~planetml_lib.simulate.simulate_orbit`; may be irregular (the rolling
        window is in time, not samples).
    window : str
        Length of the fluctuation window, a pandas offset such as ``"60s"``.

    Returns
    -------
    xarray.Dataset
        A copy with the features added, each with ``units``.
    """
    _check_variables(ds)
    b = np.stack([ds[name].values for name in ("bx", "by", "bz")])
    position = np.stack([ds[name].values for name in ("x_mso", "y_mso", "z_mso")])
    b_mag = np.linalg.norm(b, axis=0)
    b_ext = b - dipole_field(*position)
    x, y, z = msm_position(*position)
    r_msm = np.sqrt(x**2 + y**2 + z**2)
    angle = np.arctan2(y, x)
    t_peri = time_from_periapsis(position, ds["time"].values)
    std = pd.Series(b_mag, index=ds.indexes["time"]).rolling(pd.Timedelta(window), center=True).std()
    features = {
        "b_mag": (b_mag, "nT", "field magnitude"),
        "bx_ext": (b_ext[0], "nT", "Bx minus the planetary dipole"),
        "by_ext": (b_ext[1], "nT", "By minus the planetary dipole"),
        "bz_ext": (b_ext[2], "nT", "Bz minus the planetary dipole"),
        f"b_mag_std_{window}": (std.to_numpy(), "nT", f"rolling standard deviation of |B| over {window}"),
        "r_msm": (r_msm, "R_M", "distance from the dipole centre"),
        "mlat_deg": (np.degrees(np.arcsin(z / r_msm)), "deg", "latitude above the magnetic equator"),
        "local_time_h": ((12.0 + angle * 12.0 / np.pi) % 24.0, "h", "local time (12 = noon)"),
        "lt_cos": (np.cos(angle), "1", "cosine of the local-time angle (1 at noon)"),
        "lt_sin": (np.sin(angle), "1", "sine of the local-time angle (1 at 18 h)"),
        "t_periapsis_h": (t_peri, "h", "time from periapsis (negative inbound)"),
        "inbound": ((t_peri < 0).astype(np.int8), "1", "1 before periapsis, else 0"),
    }
    out = ds.copy()
    for name, (values, units, long_name) in features.items():
        out[name] = xr.Variable("time", values, {"units": units, "long_name": long_name})
    return out


#: Winslow et al. (2013) average boundaries in MSM (R_M): magnetopause r = R_ss (2 / (1 + cos theta))^alpha,
#: bow shock a conic r' = p e / (1 + e cos theta') about a focus x0 sunward of the dipole centre.
WINSLOW_MAGNETOPAUSE = {"standoff_rm": 1.45, "alpha": 0.5}
WINSLOW_BOW_SHOCK = {"focus_rm": 0.5, "p_rm": 2.75, "e": 1.04}


def boundary_scale(crossings: pd.DataFrame) -> pd.Series:
    """How far out each crossing lies relative to the average boundary of its kind (1: on it, < 1: inside it).

    The average magnetopause and bow shock of Winslow et al. (2013) are scaled about the dipole centre
    (magnetopause) or the bow shock's focus until they pass through the crossing's MSM position (the
    start of the traversal). A compressed magnetosphere, as under an ICME, puts both boundaries
    well inside their averages; dividing by the average shape makes crossings at different local
    times and latitudes comparable.

    Parameters
    ----------
    crossings : pandas.DataFrame
        As from :func:`~planetml_lib.io.catalogs.read_philpott`: ``label`` and ``x_mso_km``,
        ``y_mso_km``, ``z_mso_km``.

    Returns
    -------
    pandas.Series
        One scale a crossing, on ``crossings``' index.
    """
    x, y, z = msm_position(crossings["x_mso_km"], crossings["y_mso_km"], crossings["z_mso_km"])
    magnetopause = np.sqrt(x**2 + y**2 + z**2) / np.sqrt(2 / (1 + x / np.sqrt(x**2 + y**2 + z**2)))
    magnetopause = magnetopause / WINSLOW_MAGNETOPAUSE["standoff_rm"]
    shock = WINSLOW_BOW_SHOCK
    xf = x - shock["focus_rm"]
    rf = np.sqrt(xf**2 + y**2 + z**2)
    bow_shock = rf * (1 + shock["e"] * xf / rf) / (shock["p_rm"] * shock["e"])
    is_shock = crossings["label"].str.startswith("bow_shock").to_numpy()
    return pd.Series(np.where(is_shock, bow_shock, magnetopause), index=crossings.index, name="boundary_scale")
