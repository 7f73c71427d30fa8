"""Simulated Cluster passes through Earth's bow shock, with the true crossings of every spacecraft.

**This is a simulation, not Cluster data.** No Cluster time series are shipped; a crossing
detector is trained on these passes and must generalise to real data, so every physical and
instrumental setting is a *range* (:class:`ClusterSimulation`) from which each pass draws its
own value. :data:`TRAINING_FAMILY` spans typical solar-wind conditions; :data:`HELDOUT_FAMILY`
(fast wind with a strong IMF, low Mach number, a flatter shock, more noise and gaps) is never
used for training, to measure generalisation.

Model of one pass (times in seconds from its start):

* upstream: speed, density, IMF and temperature drawn until the fast magnetosonic Mach
  number lies in the family's range; ln(Pdyn(t) / Pdyn0) is a weak sum of slow random sinusoids
  (power-law spectrum, periods from minutes to hours) plus jumps between plateaus (the wind's
  pressure discontinuities): Poisson in time (one every 20-80 min), independent plateau levels
  (rms 0.3-0.6 in ln Pdyn), each rising over 20-120 s, so the shock sits still between jumps and
  sweeps tens of km/s during them, as observed; the IMF cone and clock angles rotate slowly;
* surfaces: :mod:`planetml_lib.preprocess.earth_boundaries` (Shue magnetopause, conic
  shock with the Farris & Russell standoff), moving with Pdyn(t) and IMF Bz(t);
* orbit: a polar Kepler ellipse (perigee 4 R_E, apogee 19.6 R_E, 57 h), apogee local time
  from the day of year (noon around 6 March), latitude drifting south by about 4 deg a year
  after 2001 (an approximation of the real orbit's evolution); the orbit phase is chosen so
  that C1 meets the pass-mean shock at 20-80 % of the pass, inbound or outbound; C2-C4 sit
  at the corners of a randomly oriented, slightly irregular tetrahedron with C1, its scale drawn
  from the year's range in :data:`CLUSTER_SEPARATIONS_KM` (approximate mission history);
* regions: 0 solar wind, 1 foreshock (upstream within a few R_E where theta_Bn < 45 deg at
  the shock point on the radial line from the focus), 2 magnetosheath, 3 magnetosphere;
* values: Rankine-Hugoniot jumps with the gas-dynamic compression ratio r(M) (density and
  tangential field times r, normal field continuous, normal flow divided by r, tangential
  flow kept, temperature from the jump); compressed dipole, tenuous hot plasma inside the
  magnetopause; foreshock ULF waves, magnetosheath turbulence, a ramp and an overshoot;
* instrument: white noise, per-spacecraft field offsets and moment biases, data gaps (NaN).

The large-scale state is a continuous function of time, evaluated on a 1-s grid: the true
crossings (sign changes of the surface distance on that grid) and the region labels are the
same at any cadence that is a whole number of seconds. Noise is drawn at the cadence.

Calibration (training family; :func:`crossing_statistics` of the 90 SIMULATED test passes of
``cases.cluster_bow_shock`` (2004, 2010, 2013) against the real Kruparova et al. (2019) list, all
years; chosen in 13 trials of 48 passes over 2001-2013, on these statistics only)::

                                       real   before   after
    successive C1 crossings < 10 min   0.20    0.31    0.15
    successive C1 crossings < 60 min   0.53    0.75    0.57
    C2-C4 minus C1 delay, 5 % (s)      -171    -851    -879
    C2-C4 minus C1 delay, 95 % (s)     +171    +885    +804
    median |delay| (s)                   27      33      16
    median |normal speed| (km/s)          -     8.0    42.6

"Before": Pdyn as slow sinusoids only (rms 0.05-0.3, spectral index 2.5-3.5), separations
100-10,000 km in every year. A breathing of the shock (0.02-0.5 R_E, periods 1-10 min) was
tried and rejected: it multiplied the crossings (0.5-0.7 of them within 3 min of the previous,
against 0.04 in the list). The delays' tails stay wide: where a jump leaves the shock between
two spacecraft, the second crosses only at a later jump; every C1 crossing in the list has
C2-C4 counterparts within an hour, which suggests the list selects crossings seen by all four.

Not modelled: dipole tilt's daily wobble, magnetic reconnection and flux transfer events,
hot flow anomalies, magnetosheath jets, plasma depletion layers, the real spacecraft
instruments' modes (e.g. the failed CIS on C2).
"""

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess import earth_boundaries as eb
from planetml_lib.simulate.fields import turbulence

#: Region names; a label is the index in this tuple.
REGIONS = ("solar_wind", "foreshock", "magnetosheath", "magnetosphere")
SOLAR_WIND, FORESHOCK, MAGNETOSHEATH, MAGNETOSPHERE = range(len(REGIONS))
#: Spacecraft names; C1 is the reference.
SPACECRAFT = ("C1", "C2", "C3", "C4")
_UNITS = {"bx": "nT", "by": "nT", "bz": "nT", "b_mag": "nT", "x_gse": "R_E", "y_gse": "R_E", "z_gse": "R_E",
          "density": "cm^-3", "vx": "km/s", "vy": "km/s", "vz": "km/s", "temperature": "MK"}
_CROSSING_COLUMNS = ["start", "end", "label", "spacecraft", "direction", "x_gse", "y_gse", "z_gse",
                     "normal_x", "normal_y", "normal_z", "speed_km_s", "theta_bn_deg"]
_EARTH_GM_KM3_S2 = 398600.4
_DIPOLE_NT = 30400.0              # equatorial surface field of the dipole (nT)
_PERIGEE_RE, _APOGEE_RE = 4.0, 19.6
_APOGEE_NOON_DOY = 65.0           # day of year when the apogee is at noon
_APOGEE_LATITUDE_DRIFT = -4.0     # deg per year after 2001
_MAGNETOPAUSE_WIDTH_KM = 800.0
_N_MODES = 48                     # sinusoids in Pdyn(t)


@dataclasses.dataclass(frozen=True)
class ClusterSimulation:
    """Ranges ``(low, high)`` from which each simulated pass draws its settings; override with ``dataclasses.replace``.

    Scales marked "log" are drawn log-uniformly, the others uniformly. ``tetrahedron_km=None`` takes the
    separation range from the pass's year (:data:`CLUSTER_SEPARATIONS_KM`); a ``(low, high)`` range overrides it.
    """

    family: str = "training"
    speed_km_s: tuple[float, float] = (280.0, 750.0)          # solar-wind speed
    density_cm3: tuple[float, float] = (1.0, 30.0)            # proton density (log)
    imf_nt: tuple[float, float] = (1.5, 15.0)                 # |B_IMF| (log)
    cone_deg: tuple[float, float] = (0.0, 90.0)               # angle of B from the x axis (sector drawn at random)
    clock_deg: tuple[float, float] = (0.0, 360.0)             # atan2(By, Bz)
    imf_rotation_deg: tuple[float, float] = (5.0, 40.0)       # rms slow swing of the cone angle (clock: twice)
    temperature_mk: tuple[float, float] = (0.02, 0.3)         # proton temperature (log)
    mach: tuple[float, float] = (4.0, 15.0)                   # fast magnetosonic Mach number
    pdyn_log_amplitude: tuple[float, float] = (0.0, 0.05)     # rms of ln Pdyn's slow sinusoids (calibrated)
    pdyn_short_period_s: tuple[float, float] = (120.0, 1200.0)  # shortest period of Pdyn(t) (log)
    pdyn_long_period_s: tuple[float, float] = (3600.0, 21600.0)  # longest period of Pdyn(t) (log)
    pdyn_spectral_index: tuple[float, float] = (2.5, 3.5)     # power spectrum of ln Pdyn ~ f^-index (calibrated)
    pdyn_jump_interval_s: tuple[float, float] = (1200.0, 4800.0)  # mean time between jumps of Pdyn (log, calibrated)
    pdyn_jump_log_size: tuple[float, float] = (0.3, 0.6)      # rms of ln Pdyn's plateaus between jumps (calibrated)
    pdyn_jump_rise_s: tuple[float, float] = (20.0, 120.0)     # rise time of one jump (log, calibrated)
    shock_eps: tuple[float, float] = (0.8, 1.1)               # conic eccentricity
    shock_focus_re: tuple[float, float] = (2.0, 4.0)          # focus on the aberrated axis (R_E)
    foreshock_amplitude: tuple[float, float] = (0.2, 1.0)     # ULF wave rms dB/|B| in the foreshock
    foreshock_depth_re: tuple[float, float] = (1.0, 4.0)      # upstream extent of the foreshock (R_E)
    solar_wind_turbulence: tuple[float, float] = (0.05, 0.25)  # rms dB/|B| in the pristine wind
    sheath_turbulence: tuple[float, float] = (0.2, 0.8)       # rms dB/|B| in the magnetosheath
    ramp_width_km: tuple[float, float] = (100.0, 1000.0)      # shock ramp half-width (log)
    overshoot: tuple[float, float] = (0.0, 0.8)               # extra |B| and density just behind the ramp
    magnetosphere_density_cm3: tuple[float, float] = (0.1, 1.0)  # (log)
    magnetosphere_temperature_mk: tuple[float, float] = (2.0, 50.0)  # (log)
    b_noise_nt: tuple[float, float] = (0.05, 0.5)             # white noise per component (log)
    moment_noise: tuple[float, float] = (0.02, 0.1)           # relative noise of density, speed, temperature
    tetrahedron_km: tuple[float, float] | None = None         # spacecraft separation (log); None: by year
    gap_fraction: tuple[float, float] = (0.0, 0.05)           # expected fraction of each spacecraft's pass in gaps
    gap_duration_s: tuple[float, float] = (60.0, 3600.0)      # duration of one gap (log)
    calibration_offset_nt: tuple[float, float] = (0.0, 1.0)   # rms offset of each spacecraft's field components
    moment_bias: tuple[float, float] = (0.0, 0.15)            # rms log-bias of each spacecraft's density, temperature


#: Training family: typical solar wind, Mach 4-15, eps 0.8-1.1, separations by year (:data:`CLUSTER_SEPARATIONS_KM`).
TRAINING_FAMILY = ClusterSimulation()
#: Held-out family "fast_wind_low_mach", never used for training: fast wind 600-800 km/s with
#: a strong IMF of 10-25 nT, Mach 2.5-4, a flatter shock (eps 1.15-1.35, outside training),
#: hotter wind, 2-4x the noise, more and longer gaps, larger calibration offsets, and separations drawn
#: log-uniformly 100-10,000 km whatever the year (as before the year table).
HELDOUT_FAMILY = dataclasses.replace(
    TRAINING_FAMILY, family="fast_wind_low_mach", speed_km_s=(600.0, 800.0), density_cm3=(1.0, 8.0),
    imf_nt=(10.0, 25.0), temperature_mk=(0.1, 0.6), mach=(2.5, 4.0), shock_eps=(1.15, 1.35),
    b_noise_nt=(0.5, 2.0), moment_noise=(0.1, 0.25), gap_fraction=(0.05, 0.15), gap_duration_s=(300.0, 7200.0),
    calibration_offset_nt=(1.0, 3.0), tetrahedron_km=(100.0, 10000.0))


#: Approximate separations of the Cluster tetrahedron (km) in each year's dayside season (November to
#: May), an approximate mission history, NOT ephemerides: a pass draws its scale log-uniformly within its
#: year's range (:func:`separation_range_km`; passes from November on take the next year's). Checked on
#: the real list's per-month median |C2-C4 minus C1| delays: a few s in 2001-2004 (about 1-2 s in
#: February-May 2002), 20-50 s in 2005, 40-170 s in 2006-2013; December's match the following year's.
CLUSTER_SEPARATIONS_KM = {
    2001: (400.0, 1000.0),     # ~600 km
    2002: (100.0, 200.0),      # ~100 km (January 2002 still ~2,000 km)
    2003: (3000.0, 6000.0),    # ~5,000 km
    2004: (200.0, 1500.0),     # ~200 km in late 2003, then ~1,000 km
    2005: (1000.0, 10000.0),   # multi-scale: ~1,000 km and ~10,000 km pairs
    2006: (3000.0, 12000.0),   # ~10,000 km, some pairs closer
    2007: (3000.0, 12000.0),
    2008: (3000.0, 12000.0),
    2009: (1000.0, 15000.0),   # multi-scale, ~1,000 to over 10,000 km
    2010: (1000.0, 15000.0),
    2011: (1000.0, 15000.0),
    2012: (1000.0, 15000.0),
    2013: (1000.0, 15000.0),
    2014: (1000.0, 15000.0),
}


def separation_range_km(settings: "ClusterSimulation", start) -> tuple[float, float]:
    """Range (km) of the tetrahedron scale of a pass starting at ``start``: ``settings.tetrahedron_km`` if given,
    else :data:`CLUSTER_SEPARATIONS_KM` of the pass's dayside season (the year, or the next one from November;
    years outside the table take the nearest one's).

    Examples
    --------
    >>> separation_range_km(TRAINING_FAMILY, "2002-03-01"), separation_range_km(TRAINING_FAMILY, "2003-12-05")
    ((100.0, 200.0), (200.0, 1500.0))
    """
    if settings.tetrahedron_km is not None:
        return settings.tetrahedron_km
    start = pd.Timestamp(start)
    season = int(np.clip(start.year + (start.month >= 11), min(CLUSTER_SEPARATIONS_KM), max(CLUSTER_SEPARATIONS_KM)))
    return CLUSTER_SEPARATIONS_KM[season]


@dataclasses.dataclass(frozen=True)
class _Pass:
    """One pass's draws: the continuous large-scale state and the instrument's constants."""

    speed: float                # solar-wind speed (km/s)
    density: float              # mean density (cm^-3)
    temperature: float          # MK
    mach: float
    imf_nt: float
    cone: float                 # rad, 0-pi (the sector is the sign of cos)
    clock: float                # rad
    rotation: float             # rms swing of the cone angle (rad); the clock angle swings twice as far
    imf_modes: np.ndarray       # (2, 3, K) sinusoids of the cone and clock swings
    pdyn_sigma: float           # rms of ln Pdyn(t)
    pdyn_modes: np.ndarray      # (3, K) sinusoids of ln Pdyn(t)
    eps: float
    focus: float                # R_E
    apogee: np.ndarray          # unit vector (GSE)
    across: np.ndarray          # in-plane unit vector perpendicular to the apogee (GSE)
    perigee_s: float            # time of perigee from the pass start (s)
    offsets_re: np.ndarray      # (4, 3) positions of C1-C4 from C1 (R_E)
    tilt: float                 # dipole tilt towards the Sun (rad)
    values: dict                # the other drawn scalars, by ClusterSimulation field name
    gaps: tuple                 # per spacecraft: (2, n_gaps) start and end (s from the pass start)
    field_offsets: np.ndarray   # (4, 3) nT
    moment_factors: np.ndarray  # (4, 2) density and temperature factors
    pdyn_jumps: np.ndarray      # (3, n) times (s), steps of ln Pdyn and rise times (s) of its jumps

    @property
    def pdyn0(self) -> float:
        """Median dynamic pressure (nPa)."""
        return 1.6726e-6 * self.density * self.speed**2


def _draw(rng, bounds, log=False) -> float:
    """One value from a (low, high) range, uniform or log-uniform."""
    low, high = bounds
    return float(np.exp(rng.uniform(np.log(low), np.log(high)))) if log else float(rng.uniform(low, high))


def compression_ratio(mach) -> np.ndarray:
    """Gas-dynamic shock compression ratio r(M) for gamma = 5/3 (3.82 at M = 8, tending to 4).

    Examples
    --------
    >>> round(float(compression_ratio(8.0)), 2)
    3.82
    """
    m2 = np.asarray(mach, dtype=float) ** 2
    return (eb.GAMMA + 1) * m2 / ((eb.GAMMA - 1) * m2 + 2)


def temperature_ratio(mach) -> np.ndarray:
    """Gas-dynamic downstream over upstream temperature from the Rankine-Hugoniot relations (21 at M = 8)."""
    m2, g = np.asarray(mach, dtype=float) ** 2, eb.GAMMA
    return (2 * g * m2 - (g - 1)) * ((g - 1) * m2 + 2) / ((g + 1) ** 2 * m2)


def mach_number(speed_km_s, density_cm3, imf_nt, temperature_mk) -> np.ndarray:
    """Fast magnetosonic Mach number ``V / sqrt(v_A^2 + c_s^2)``, electrons as hot as protons.

    Examples
    --------
    >>> round(float(mach_number(400.0, 5.0, 5.0, 0.1)), 1)
    5.6
    """
    alfven = 21.81 * np.asarray(imf_nt) / np.sqrt(density_cm3)
    sound = 165.9 * np.sqrt(temperature_mk)
    return np.asarray(speed_km_s) / np.hypot(alfven, sound)


def _upstream(rng, s: ClusterSimulation) -> tuple[float, float, float, float, float]:
    """Speed, density, |B|, temperature and Mach number, redrawn until M lies in ``s.mach``
    (else the closest of 512 candidates, its M clipped into the range)."""
    n = 512
    speed = rng.uniform(*s.speed_km_s, n)
    bounds = (s.density_cm3, s.imf_nt, s.temperature_mk)
    density, imf, temperature = (np.exp(rng.uniform(*np.log(b), n)) for b in bounds)
    mach = mach_number(speed, density, imf, temperature)
    miss = np.maximum(s.mach[0] - mach, 0) + np.maximum(mach - s.mach[1], 0)
    k = int(np.argmin(miss))
    return float(speed[k]), float(density[k]), float(imf[k]), float(temperature[k]), float(np.clip(mach[k], *s.mach))


def _modes(rng, n_modes, short_s, long_s, index) -> np.ndarray:
    """Random sinusoids (3, n_modes): frequency (Hz, log-uniform), amplitude (power ~ f^-index, unit rms), phase."""
    frequency = np.exp(rng.uniform(np.log(1 / long_s), np.log(1 / short_s), n_modes))
    amplitude = frequency ** ((1 - index) / 2)
    amplitude *= np.sqrt(2 / (amplitude**2).sum())
    return np.stack([frequency, amplitude, rng.uniform(0, 2 * np.pi, n_modes)])


def _series(modes: np.ndarray, t_s) -> np.ndarray:
    """Sum of the sinusoids ``modes`` (see :func:`_modes`) at times ``t_s`` (s), shape (n,)."""
    return np.sin(np.multiply.outer(np.asarray(t_s, dtype=float), 2 * np.pi * modes[0]) + modes[2]) @ modes[1]


def _tetrahedron(rng, scale_km: float) -> np.ndarray:
    """Positions of C1-C4 relative to C1 (R_E), shape (4, 3): a randomly turned tetrahedron, edges 0.8-1.2 x scale."""
    corners = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float)
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    offsets = (corners - corners[0]) @ rotation.T / np.sqrt(8) * scale_km / eb.EARTH_RADIUS_KM
    return offsets * rng.uniform(0.8, 1.2, (4, 1))


def _gaps(rng, s: ClusterSimulation, duration_s: float) -> tuple:
    """Per spacecraft, data gaps as (2, n) start and end times (s from the pass start), in all about
    a drawn fraction of the pass."""
    fraction, gaps = _draw(rng, s.gap_fraction), []
    for _ in SPACECRAFT:
        mean = np.exp(np.mean(np.log(s.gap_duration_s)))
        length = np.exp(rng.uniform(*np.log(s.gap_duration_s), rng.poisson(fraction * duration_s / mean)))
        start = rng.uniform(0, duration_s, length.size)
        gaps.append(np.stack([start, start + length]))
    return tuple(gaps)


def _orbit_period_s() -> float:
    """Kepler period of the Cluster-like orbit (s), about 57 h."""
    a_km = (_PERIGEE_RE + _APOGEE_RE) / 2 * eb.EARTH_RADIUS_KM
    return float(2 * np.pi * np.sqrt(a_km**3 / _EARTH_GM_KM3_S2))


def _orbit_axes(rng, middle: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Apogee direction and the perpendicular in-plane direction (unit GSE vectors) of a polar orbit."""
    local = -2 * np.pi * (middle.day_of_year - _APOGEE_NOON_DOY) / 365.25 + np.radians(rng.normal(0, 5))
    latitude = np.radians(np.clip(_APOGEE_LATITUDE_DRIFT * (middle.year - 2001) + rng.normal(0, 5), -60, 30))
    apogee = np.array([np.cos(latitude) * np.cos(local), np.cos(latitude) * np.sin(local), np.sin(latitude)])
    across = np.array([0.0, 0.0, 1.0]) - apogee[2] * apogee
    return apogee, across / np.linalg.norm(across)


def _orbit(t_s, apogee, across, perigee_s) -> np.ndarray:
    """Positions (R_E, GSE), shape (3, n), on the Kepler ellipse at ``t_s`` (s from the pass start)."""
    a, e = (_PERIGEE_RE + _APOGEE_RE) / 2, (_APOGEE_RE - _PERIGEE_RE) / (_APOGEE_RE + _PERIGEE_RE)
    mean = 2 * np.pi * (np.asarray(t_s, dtype=float) - perigee_s) / _orbit_period_s()
    anomaly = mean + e * np.sin(mean)
    for _ in range(8):
        anomaly -= (anomaly - e * np.sin(anomaly) - mean) / (1 - e * np.cos(anomaly))
    along, side = a * (np.cos(anomaly) - e), a * np.sqrt(1 - e**2) * np.sin(anomaly)
    return -along * apogee[:, None] + side * across[:, None]


def _perigee_time(rng, apogee, across, shock, duration_s) -> float:
    """Perigee time (s from the pass start) putting one of C1's crossings of the mean shock at 20-80 % of the
    pass; with no crossing on the orbit, the apogee at the middle of the pass."""
    period = _orbit_period_s()
    tau = np.linspace(0, period, 4000, endpoint=False)
    outside = shock(_orbit(tau, apogee, across, 0.0)) > 0
    crossing = tau[np.flatnonzero(outside != np.roll(outside, 1))]
    if crossing.size == 0:
        return duration_s / 2 - period / 2
    return rng.uniform(0.2, 0.8) * duration_s - rng.choice(crossing)


def _draw_imf(rng, s: ClusterSimulation) -> tuple[float, float, float, np.ndarray]:
    """Mean cone (0-pi, random sector) and clock angles, rms swing (rad) and the swings' sinusoids (2, 3, 6)."""
    cone = np.radians(_draw(rng, s.cone_deg))
    cone = cone if rng.random() < 0.5 else np.pi - cone
    swings = np.stack([_modes(rng, 6, 3600.0, 6 * 3600.0, 2.0) for _ in range(2)])
    return float(cone), np.radians(_draw(rng, s.clock_deg)), np.radians(_draw(rng, s.imf_rotation_deg)), swings


def _draw_values(rng, s: ClusterSimulation) -> dict:
    """The scalar settings used only for the sampled values, by field name."""
    values = {name: _draw(rng, getattr(s, name)) for name in (
        "foreshock_amplitude", "foreshock_depth_re", "solar_wind_turbulence", "sheath_turbulence", "overshoot",
        "moment_noise")}
    for name in ("ramp_width_km", "magnetosphere_density_cm3", "magnetosphere_temperature_mk", "b_noise_nt"):
        values[name] = _draw(rng, getattr(s, name), log=True)
    return values


def _draw_pass(s: ClusterSimulation, start: pd.Timestamp, duration_s: float, rng) -> _Pass:
    """Draw every setting of one pass from the family's ranges (independent of the cadence)."""
    speed, density, imf, temperature, mach = _upstream(rng, s)
    cone, clock, rotation, swings = _draw_imf(rng, s)
    pdyn_modes = _modes(rng, _N_MODES, _draw(rng, s.pdyn_short_period_s, log=True),
                        _draw(rng, s.pdyn_long_period_s, log=True), _draw(rng, s.pdyn_spectral_index))
    eps, focus = _draw(rng, s.shock_eps), _draw(rng, s.shock_focus_re)
    middle = start + pd.Timedelta(seconds=duration_s / 2)
    apogee, across = _orbit_axes(rng, middle)
    pdyn0, bz0 = 1.6726e-6 * density * speed**2, imf * np.sin(cone) * np.cos(clock)
    perigee = _perigee_time(rng, apogee, across, lambda p: eb.shock_surface_distance(
        p, pdyn0, mach, bz0, eps, focus, speed), duration_s)
    tilt = np.radians(23.44) * np.cos(2 * np.pi * (middle.day_of_year - 172) / 365.25)
    return _Pass(speed, density, temperature, mach, imf, cone, clock, rotation, swings,
                 _draw(rng, s.pdyn_log_amplitude), pdyn_modes, eps, focus, apogee, across, perigee,
                 _tetrahedron(rng, _draw(rng, separation_range_km(s, start), log=True)), tilt, _draw_values(rng, s),
                 _gaps(rng, s, duration_s), _draw(rng, s.calibration_offset_nt) * rng.normal(size=(4, 3)),
                 np.exp(_draw(rng, s.moment_bias) * rng.normal(size=(4, 2))), _jumps(rng, s, duration_s))


def _jumps(rng, s: ClusterSimulation, duration_s: float) -> np.ndarray:
    """Jumps of ln Pdyn (3, n): times (s, Poisson, from an hour before the pass to an hour after), steps between
    independent plateau levels (rms drawn from ``s.pdyn_jump_log_size``) and rise times (s, log-uniform)."""
    interval, size = _draw(rng, s.pdyn_jump_interval_s, log=True), _draw(rng, s.pdyn_jump_log_size)
    n = rng.poisson((duration_s + 7200.0) / interval)
    levels = size * rng.normal(size=n + 1)
    times = np.sort(rng.uniform(-3600.0, duration_s + 3600.0, n))
    rise = np.exp(rng.uniform(*np.log(s.pdyn_jump_rise_s), n))
    return np.stack([np.r_[-1e9, times], np.r_[levels[0], np.diff(levels)], np.r_[1.0, rise]])


def _log_pdyn(p: _Pass, t_s) -> np.ndarray:
    """ln(Pdyn(t) / Pdyn0) at times ``t_s`` (s from the pass start): slow sinusoids plus smoothed jumps."""
    t = np.asarray(t_s, dtype=float)
    times, steps, rise = p.pdyn_jumps
    jumps = (0.5 * (1 + np.tanh(np.subtract.outer(t, times) / rise))) @ steps
    return p.pdyn_sigma * _series(p.pdyn_modes, t) + jumps


def _pdyn(p: _Pass, t_s) -> np.ndarray:
    """Dynamic pressure (nPa) at times ``t_s`` (s from the pass start)."""
    return p.pdyn0 * np.exp(_log_pdyn(p, t_s))


def _imf(p: _Pass, t_s) -> np.ndarray:
    """Slowly rotating IMF (nT, GSE), shape (3, n), at times ``t_s``."""
    cone = p.cone + p.rotation * _series(p.imf_modes[0], t_s)
    clock = p.clock + 2 * p.rotation * _series(p.imf_modes[1], t_s)
    return p.imf_nt * np.stack([np.cos(cone), np.sin(cone) * np.sin(clock), np.sin(cone) * np.cos(clock)])


def _shock_distance(p: _Pass, position, t_s) -> np.ndarray:
    """Signed distance from the bow shock (R_E, > 0 upstream) of positions (3, ...) at times ``t_s`` (...)."""
    return eb.shock_surface_distance(position, _pdyn(p, t_s), p.mach, _imf(p, t_s)[2], p.eps, p.focus, p.speed)


def _magnetopause_distance(p: _Pass, position, t_s) -> np.ndarray:
    """Signed distance from the magnetopause (R_E, > 0 outside) at times ``t_s``."""
    return eb.magnetopause_surface_distance(position, _pdyn(p, t_s), _imf(p, t_s)[2], p.speed)


def _crossing_rows(p: _Pass, start: pd.Timestamp, positions, distance, label: str) -> pd.DataFrame:
    """Crossings (events contract) where ``distance`` (4, n) on the 1-s grid changes sign, at the first
    second on the new side; ``positions`` (3, 4, n) R_E."""
    craft, index = np.nonzero(np.diff(distance > 0, axis=1))
    index = index + 1
    position, t = positions[:, craft, index], index.astype(float)
    if label == "bow_shock":
        normal = eb.shock_normal(position, p.eps, p.focus, p.speed)
        origin = eb.from_aberrated(np.array([p.focus, 0.0, 0.0]), p.speed)[:, None]
        surface = _shock_distance
    else:
        normal = eb.magnetopause_normal(position, _pdyn(p, t), _imf(p, t)[2], p.speed)
        origin, surface = np.zeros((3, 1)), _magnetopause_distance
    radial = (position - origin) / np.linalg.norm(position - origin, axis=0)
    rate = surface(p, position, t + 0.5) - surface(p, position, t - 0.5)  # R_E per s at a fixed point
    time = pd.DatetimeIndex(start + pd.to_timedelta(index, unit="s")).as_unit("ns")
    return pd.DataFrame({
        "start": time, "end": time, "label": label, "spacecraft": np.array(SPACECRAFT)[craft],
        "direction": np.where(distance[craft, index] < 0, "inbound", "outbound"),
        "x_gse": position[0], "y_gse": position[1], "z_gse": position[2],
        "normal_x": normal[0], "normal_y": normal[1], "normal_z": normal[2],
        "speed_km_s": -rate * (radial * normal).sum(axis=0) * eb.EARTH_RADIUS_KM,
        "theta_bn_deg": eb.theta_bn(_imf(p, t), normal)})


def _truth(p: _Pass, start: pd.Timestamp, duration_s: int) -> tuple[dict, pd.DataFrame]:
    """The continuous state on the 1-s grid (positions (3, 4, n), surface distances (4, n)) and the crossings."""
    t = np.arange(duration_s, dtype=float)
    positions = _orbit(t, p.apogee, p.across, p.perigee_s)[:, None, :] + p.offsets_re.T[:, :, None]
    state = {"t": t, "positions": positions, "shock": _shock_distance(p, positions, t),
             "magnetopause": _magnetopause_distance(p, positions, t)}
    crossings = pd.concat([_crossing_rows(p, start, positions, state[name], label)
                           for name, label in (("shock", "bow_shock"), ("magnetopause", "magnetopause"))])
    crossings = crossings.sort_values(["start", "spacecraft", "label"], kind="stable").reset_index(drop=True)
    return state, crossings[_CROSSING_COLUMNS]


def _regions(shock, magnetopause, foreshock) -> np.ndarray:
    """Region labels (int8) from the surface distances and the foreshock weight, all (4, m)."""
    upstream = np.where(foreshock > 0, FORESHOCK, SOLAR_WIND)
    return np.where(magnetopause < 0, MAGNETOSPHERE, np.where(shock < 0, MAGNETOSHEATH, upstream)).astype(np.int8)


def _foreshock_weight(p: _Pass, imf, positions, shock) -> np.ndarray:
    """ULF wave weight (4, m) in 0-1: > 0 upstream within the foreshock depth where theta_Bn < 45 deg at the shock
    point on the radial line from the focus; it fades with distance and towards 45 deg."""
    normal = eb.shock_normal(positions, p.eps, p.focus, p.speed)
    angle = eb.theta_bn(imf[:, None, :], normal)
    depth = np.clip(1 - shock / p.values["foreshock_depth_re"], 0, 1) * (shock > 0)
    return depth * np.clip((45 - angle) / 10, 0, 1), normal


def _solar_wind(p: _Pass, t, imf, foreshock, rng, dt) -> tuple[np.ndarray, ...]:
    """Upstream field (3, 4, m), density, velocity (3, 4, m) and temperature, with foreshock ULF waves
    (compressive, slightly slowing and heating the flow where ``foreshock`` > 0)."""
    m, v = p.values, p.values["foreshock_amplitude"] * foreshock
    waves = turbulence(rng, 16, len(t), dt, 30.0).reshape(4, 4, -1)
    wind = turbulence(rng, 12, len(t), dt, 1800.0).reshape(3, 4, -1)
    size = np.linalg.norm(imf, axis=0)
    b = imf[:, None, :] + size / np.sqrt(3) * (m["solar_wind_turbulence"] * wind + v * waves[:3])
    density = p.density * np.exp(_log_pdyn(p, t) + 0.5 * v * waves[3])
    velocity = np.array([-p.speed, eb.EARTH_ORBITAL_SPEED_KM_S, 0.0])[:, None, None] * (1 - 0.05 * v)
    return b, density, velocity, p.temperature * (1 + v)


def _sheath(p: _Pass, upstream, normal, shock_km, rng, dt) -> tuple[np.ndarray, ...]:
    """Magnetosheath values from the upstream ones by the Rankine-Hugoniot jumps across the local shock normal
    (3, 4, m), with the overshoot behind the ramp and turbulence."""
    b, density, velocity, temperature = upstream
    r, m = compression_ratio(p.mach), p.values
    b_normal, v_normal = (b * normal).sum(axis=0) * normal, (velocity * normal).sum(axis=0) * normal
    over = 1 + m["overshoot"] * np.exp(-np.abs(shock_km) / (3 * m["ramp_width_km"]))
    b_down = (b_normal + r * (b - b_normal)) * over
    eddies = turbulence(rng, 16, b.shape[2], dt, 60.0).reshape(4, 4, -1)
    b_down = b_down + m["sheath_turbulence"] * np.linalg.norm(b_down, axis=0) / np.sqrt(3) * eddies[:3]
    density_down = r * density * over * np.exp(0.3 * m["sheath_turbulence"] * eddies[3])
    return b_down, density_down, velocity - v_normal + v_normal / r, temperature * temperature_ratio(p.mach)


def _magnetosphere(p: _Pass, positions, magnetopause, rng) -> tuple[np.ndarray, ...]:
    """Compressed tilted dipole (twice the dipole at the magnetopause), tenuous hot plasma, slow flow."""
    r = np.linalg.norm(positions, axis=0)
    moment = np.array([-np.sin(p.tilt), 0.0, -np.cos(p.tilt)])[:, None, None]
    unit = positions / r
    dipole = _DIPOLE_NT / r**3 * (3 * (unit * moment).sum(axis=0) * unit - moment)
    b = dipole * (1 + np.clip(r / (r - magnetopause), 0, 1.2) ** 3)
    b = b * (1 + 0.02 * rng.normal(size=b.shape))
    velocity = 20.0 * rng.normal(size=positions.shape)
    ones = np.ones_like(r)
    return b, p.values["magnetosphere_density_cm3"] * ones, velocity, p.values["magnetosphere_temperature_mk"] * ones


def _blend(outside, inside, weight) -> tuple[np.ndarray, ...]:
    """Mix two (b, density, velocity, temperature) tuples with ``weight`` (4, m) of the inside one."""
    return tuple((1 - weight) * a + weight * b for a, b in zip(outside, inside, strict=True))


def _instrument(p: _Pass, values, t, rng) -> dict:
    """Add noise, calibration offsets and moment biases; NaN in gaps. ``values`` as from :func:`_blend`."""
    b, density, velocity, temperature = values
    noise, m = p.values["moment_noise"], p.values
    b = b + m["b_noise_nt"] * rng.normal(size=b.shape) + p.field_offsets.T[:, :, None]
    density = density * p.moment_factors[:, :1] * np.exp(noise * rng.normal(size=density.shape))
    velocity = velocity + noise * np.linalg.norm(velocity, axis=0) * rng.normal(size=velocity.shape)
    temperature = temperature * p.moment_factors[:, 1:] * np.exp(noise * rng.normal(size=temperature.shape))
    gap = np.stack([((t[:, None] >= g[0]) & (t[:, None] < g[1])).any(axis=1) for g in p.gaps])
    out = {"bx": b[0], "by": b[1], "bz": b[2], "b_mag": np.linalg.norm(b, axis=0), "density": density,
           "vx": velocity[0], "vy": velocity[1], "vz": velocity[2], "temperature": temperature}
    return {name: np.where(gap, np.nan, value) for name, value in out.items()}


def _samples(p: _Pass, state: dict, step: int, rng) -> dict:
    """Measured values and regions of the four spacecraft at every ``step``-th second, each (4, m)."""
    t, positions = state["t"][::step], state["positions"][:, :, ::step]
    shock, magnetopause = state["shock"][:, ::step], state["magnetopause"][:, ::step]
    imf = _imf(p, t)
    foreshock, normal = _foreshock_weight(p, imf, positions, shock)
    upstream = _solar_wind(p, t, imf, foreshock, rng, float(step))
    shock_km = shock * eb.EARTH_RADIUS_KM
    sheath = _sheath(p, upstream, normal, shock_km, rng, float(step))
    inside = _magnetosphere(p, positions, magnetopause, rng)
    weight_mp = 0.5 * (1 - np.tanh(magnetopause * eb.EARTH_RADIUS_KM / _MAGNETOPAUSE_WIDTH_KM))
    weight_bs = 0.5 * (1 - np.tanh(shock_km / p.values["ramp_width_km"]))
    values = _blend(upstream, _blend(sheath, inside, weight_mp), weight_bs)
    out = _instrument(p, values, t, rng)
    out.update(x_gse=positions[0], y_gse=positions[1], z_gse=positions[2],
               region=_regions(shock, magnetopause, foreshock))
    return out


def _whole_seconds(value: str, name: str) -> int:
    """A positive duration string (e.g. "60s", "12h") as whole seconds; one-line error otherwise."""
    try:
        seconds = pd.Timedelta(value).total_seconds()
    except ValueError:
        raise PlanetMLError(f"{name}={value!r} is not a duration, e.g. '60s' or '12h'") from None
    if seconds < 1 or seconds != int(seconds):
        raise PlanetMLError(f"{name}={value!r} must be a positive whole number of seconds")
    return int(seconds)


def _dataset(values: dict, time, settings: ClusterSimulation, seed: int) -> xr.Dataset:
    """Assemble the (spacecraft, time) Dataset of :func:`simulate_pass`."""
    dims = ("spacecraft", "time")
    data = {name: xr.Variable(dims, values[name], {"units": units}) for name, units in _UNITS.items()}
    data["region"] = xr.Variable(dims, values["region"], {
        "units": "1", "long_name": "region", "flag_values": list(range(len(REGIONS))),
        "flag_meanings": " ".join(REGIONS)})
    attrs = {"spacecraft": "Cluster", "frame": "GSE", "family": settings.family, "seed": seed,
             "source": f"simulation (planetml_lib.simulate.cluster, family {settings.family})"}
    return xr.Dataset(data, coords={"spacecraft": list(SPACECRAFT), "time": time}, attrs=attrs)


def simulate_pass(settings: ClusterSimulation, start, seed: int, cadence: str = "60s",
                  duration: str = "12h") -> tuple[xr.Dataset, pd.DataFrame]:
    """Simulate one pass of the four Cluster spacecraft through Earth's bow shock. A SIMULATION.

    Parameters
    ----------
    settings : ClusterSimulation
        The family of ranges the pass draws its settings from (:data:`TRAINING_FAMILY`, :data:`HELDOUT_FAMILY`).
    start : str or pandas.Timestamp
        Start of the pass (UTC); with the day of year it sets where the orbit's apogee lies.
    seed : int
        Random seed; the pass depends only on ``(settings, start, seed, duration)`` and, for the noise, the cadence.
    cadence : str
        Sampling step, a whole number of seconds ("60s" for models, "4s" or "1s" for timing).
    duration : str
        Length of the pass, a whole number of seconds.

    Returns
    -------
    dataset : xarray.Dataset
        Dims ``(spacecraft, time)``, spacecraft "C1".."C4": ``bx, by, bz, b_mag`` (nT, GSE),
        ``x_gse, y_gse, z_gse`` (R_E), ``density`` (cm^-3), ``vx, vy, vz`` (km/s, GSE), ``temperature``
        (MK), all NaN in data gaps but the positions, and ``region`` (int8, :data:`REGIONS`); attrs
        ``spacecraft``, ``frame``, ``source``, ``family``, ``seed`` and the pass's ``mach``, ``compression_ratio``,
        ``pdyn_npa`` (median), ``speed_km_s``, ``shock_eps``, ``shock_focus_re``.
    crossings : pandas.DataFrame
        Every true crossing of the bow shock and the magnetopause by each spacecraft, found on a 1-s
        grid (the first second on the new side; the same at any cadence): ``start == end``, ``label``
        ("bow_shock", "magnetopause"), ``spacecraft``, ``direction`` ("inbound" Earthward, into the
        magnetosheath or the magnetosphere; "outbound"), ``x_gse, y_gse, z_gse`` (R_E), ``normal_x,
        normal_y, normal_z`` (outward unit normal), ``speed_km_s`` (normal speed of the surface, > 0
        outward), ``theta_bn_deg`` (angle between the IMF and the normal).

    Examples
    --------
    >>> ds, crossings = simulate_pass(TRAINING_FAMILY, "2004-02-10 06:00", seed=0)
    >>> dict(ds.sizes), ds.attrs["frame"], "bow_shock" in set(crossings["label"])
    ({'spacecraft': 4, 'time': 720}, 'GSE', True)
    """
    start = pd.Timestamp(start)
    step, duration_s = _whole_seconds(cadence, "cadence"), _whole_seconds(duration, "duration")
    if start < pd.Timestamp("1900-01-01"):
        raise PlanetMLError(f"start={start} is before 1900")
    entropy = [int(seed), int((start - pd.Timestamp("1900-01-01")).total_seconds())]
    state_rng, noise_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(entropy).spawn(2))
    if duration_s < 2 * step:
        raise PlanetMLError(f"duration={duration} holds fewer than 2 samples at cadence={cadence}")
    p = _draw_pass(settings, start, duration_s, state_rng)
    state, crossings = _truth(p, start, duration_s)
    values = _samples(p, state, step, noise_rng)
    time = pd.DatetimeIndex(start + pd.to_timedelta(state["t"][::step], unit="s")).as_unit("ns")
    ds = _dataset(values, time, settings, seed)
    ds.attrs.update(mach=p.mach, compression_ratio=float(compression_ratio(p.mach)), pdyn_npa=p.pdyn0,
                    speed_km_s=p.speed, shock_eps=p.eps, shock_focus_re=p.focus)
    return ds, crossings


def simulate_passes(settings: ClusterSimulation, starts: Sequence, seed: int, cadence: str = "60s",
                    duration: str = "12h", progress: bool = False) -> tuple[xr.Dataset, pd.DataFrame]:
    """Simulate many passes (see :func:`simulate_pass`) as one Dataset along ``time``. A SIMULATION.

    Pass ``k`` (in time order) equals ``simulate_pass(settings, starts[k], seed, ...)`` and carries
    ``pass_id`` k, a coordinate on ``time`` and a column of the crossings. Passes must not overlap.

    Examples
    --------
    >>> ds, crossings = simulate_passes(TRAINING_FAMILY, ["2004-02-10", "2004-02-13"], seed=0, duration="6h")
    >>> sorted(set(ds["pass_id"].values.tolist())), ds.sizes["time"]
    ([0, 1], 720)
    """
    starts = pd.DatetimeIndex(pd.to_datetime(list(starts))).as_unit("ns").sort_values()
    if len(starts) == 0:
        raise PlanetMLError("starts is empty: give at least one pass start time")
    length = pd.Timedelta(seconds=_whole_seconds(duration, "duration"))
    if (np.diff(starts.asi8) < length.value).any():
        raise PlanetMLError(f"passes overlap: starts must be at least duration={duration} apart")
    parts, tables = [], []
    for k, start in enumerate(tqdm(starts, desc="passes", unit="pass", disable=not progress)):
        ds, crossings = simulate_pass(settings, start, seed, cadence, duration)
        parts.append(ds.assign_coords(pass_id=("time", np.full(ds.sizes["time"], k, np.int32))))
        tables.append(crossings.assign(pass_id=k))
    merged = xr.concat(parts, dim="time", combine_attrs="override")
    merged.attrs = {key: parts[0].attrs[key] for key in ("spacecraft", "frame", "source", "family", "seed")}
    return merged, pd.concat(tables, ignore_index=True)


def _allocate(counts: pd.Series, n_passes: int) -> pd.Series:
    """Passes per year: at least one each, the rest in proportion to ``counts`` (largest remainders)."""
    if n_passes < len(counts):
        raise PlanetMLError(f"n_passes={n_passes} is fewer than the {len(counts)} years asked for")
    share = (n_passes - len(counts)) * counts / max(counts.sum(), 1)
    extra = np.floor(share).astype(int)
    order = np.argsort(-(share - extra).to_numpy(), kind="stable")[: n_passes - len(counts) - extra.sum()]
    extra.iloc[order] += 1
    return 1 + extra


def pass_plan(real_crossings: pd.DataFrame, years: Sequence[int], n_passes: int, seed: int,
              duration: str = "12h") -> pd.DataFrame:
    """Pass start times whose years and dates follow a real crossing list.

    The passes are shared among ``years`` in proportion to the list's reference-spacecraft (C1)
    crossings per year, at least one a year; each pass is centred (within +-25 % of ``duration``)
    on a real crossing of its year picked at random (for a year without crossings, a crossing of
    another year moved to it; once those are taken up, on a random time of the year's January-May or
    December), and passes never overlap and never leave their year.

    Parameters
    ----------
    real_crossings : pandas.DataFrame
        Events with ``start`` (and ``spacecraft``), e.g. ``read_cluster_crossings(path)``.
    years : sequence of int
    n_passes : int
    seed : int
    duration : str
        Length of each pass, as given to :func:`simulate_passes`.

    Returns
    -------
    pandas.DataFrame
        ``pass_id`` (0.. in time order), ``start`` (datetime64, whole minutes), ``year``.

    Examples
    --------
    >>> real = pd.DataFrame({"start": pd.to_datetime(["2004-01-10", "2004-03-02", "2005-02-01"])})
    >>> pass_plan(real, [2004, 2005], 3, seed=0)["year"].tolist()
    [2004, 2004, 2005]
    """
    reference = real_crossings
    if "spacecraft" in real_crossings:
        reference = real_crossings[real_crossings["spacecraft"] == SPACECRAFT[0]]
    times = pd.DatetimeIndex(reference["start"])
    if len(times) == 0:
        raise PlanetMLError("real_crossings holds no crossing of C1")
    counts = pd.Series(0, index=list(years)).add(times.year.value_counts(), fill_value=0).loc[list(years)]
    rng, length = np.random.default_rng(seed), pd.Timedelta(seconds=_whole_seconds(duration, "duration"))
    starts, labels = [], []
    for year, n in _allocate(counts, n_passes).items():
        pool = times[times.year == year]
        if len(pool) == 0:
            pool = pd.DatetimeIndex([t.replace(year=year) for t in times if (t.month, t.day) != (2, 29)])
        for _ in range(n):
            starts.append(_free_start(rng, pool, length, starts))
            labels.append(year)
    plan = pd.DataFrame({"start": pd.DatetimeIndex(starts).as_unit("ns"), "year": labels})
    plan = plan.sort_values("start", kind="stable", ignore_index=True)
    return plan.assign(pass_id=np.arange(len(plan)))[["pass_id", "start", "year"]]


def _free_start(rng, pool: pd.DatetimeIndex, length: pd.Timedelta, taken: list) -> pd.Timestamp:
    """A start placing a pass of ``length`` around a random time of ``pool``, overlapping no start in ``taken``;
    once the times of ``pool`` are taken up, around a random time of the same year's January-May or December
    (the dayside season: a year with few listed crossings still had its passes through the shock region)."""
    hours = pd.date_range(f"{pool[0].year}-01-01", f"{pool[0].year}-12-31", freq="h")
    season = hours[(hours.month <= 5) | (hours.month == 12)]
    for attempt in range(400):
        centres = pool if attempt < 200 else season
        start = (centres[rng.integers(len(centres))] - length * rng.uniform(0.25, 0.75)).floor("min")
        inside = start.year == (start + length).year == pool[0].year  # passes stay inside their year
        if inside and all(abs(start - other) >= length for other in taken):
            return start
    raise PlanetMLError("cannot place another pass without overlap: ask for fewer passes or shorter ones")


def _nearest_delays(reference: np.ndarray, other: np.ndarray, limit_s: float) -> np.ndarray:
    """For each reference time (ns), the delay (s) to the nearest ``other`` time, kept if within ``limit_s``."""
    if len(other) == 0:
        return np.array([])
    index = np.clip(np.searchsorted(other, reference), 1, max(len(other) - 1, 1))
    before, after = other[index - 1], other[np.minimum(index, len(other) - 1)]
    nearest = np.where(np.abs(after - reference) < np.abs(reference - before), after, before)
    delay = (nearest - reference) / 1e9
    return delay[np.abs(delay) <= limit_s]


def crossing_statistics(crossings: pd.DataFrame, max_delay_s: float = 3600.0) -> dict:
    """Statistics of bow-shock crossings that compare simulated passes with a real list.

    Parameters
    ----------
    crossings : pandas.DataFrame
        Events with ``start`` and ``spacecraft`` (``read_cluster_crossings`` or
        :func:`simulate_passes`); rows with a ``label`` other than "bow_shock" are ignored.
    max_delay_s : float
        Largest |delay| (s) kept when pairing a C1 crossing with the nearest one of C2-C4.

    Returns
    -------
    dict
        ``n_reference`` (C1 crossings), ``per_year`` ({year: C1 crossings}), ``within_10_min`` and
        ``within_60_min`` (fractions of successive C1 crossings closer than 10 and 60 min),
        ``delay_quantiles_s`` ({0.05, 0.25, 0.5, 0.75, 0.95: signed delay of C2/C3/C4 minus C1, s}),
        ``abs_delay_median_s`` and ``abs_delay_p90_s``.

    Examples
    --------
    >>> t = pd.to_datetime(["2004-02-01 10:00:00", "2004-02-01 10:00:20", "2004-02-01 10:05:00"])
    >>> crossing_statistics(pd.DataFrame({"start": t, "spacecraft": ["C1", "C2", "C1"]}))["within_10_min"]
    1.0
    """
    shock = crossings if "label" not in crossings else crossings[crossings["label"] == "bow_shock"]
    times = {name: np.sort(pd.DatetimeIndex(group["start"]).as_unit("ns").asi8)
             for name, group in shock.groupby("spacecraft")}
    reference = times.get(SPACECRAFT[0], np.array([], dtype=np.int64))
    gaps = np.diff(reference) / 1e9
    delays = np.concatenate([[]] + [_nearest_delays(reference, times.get(k, np.array([])), max_delay_s)
                                    for k in SPACECRAFT[1:]])
    quantiles = (0.05, 0.25, 0.5, 0.75, 0.95)
    nan = float("nan")
    years = pd.DatetimeIndex(reference.astype("datetime64[ns]")).year.value_counts().sort_index()
    return {"n_reference": len(reference), "per_year": {int(y): int(n) for y, n in years.items()},
            "within_10_min": float((gaps < 600).mean()) if gaps.size else nan,
            "within_60_min": float((gaps < 3600).mean()) if gaps.size else nan,
            "delay_quantiles_s": {q: float(np.quantile(delays, q)) if delays.size else nan for q in quantiles},
            "abs_delay_median_s": float(np.median(np.abs(delays))) if delays.size else nan,
            "abs_delay_p90_s": float(np.quantile(np.abs(delays), 0.9)) if delays.size else nan}
