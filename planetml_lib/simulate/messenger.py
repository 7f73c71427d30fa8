"""Simulated MESSENGER magnetometer data around Mercury, labelled by region.

**This is a simulation, not MESSENGER data.** The real magnetometer files (NASA PDS,
read by :func:`~planetml_lib.io.pds.read_messenger_mag`) are not shipped; this module
makes data in the same contract for training, tests and demonstrations. Each orbit is
placed on a real orbit's times (``load_messenger_orbits``) and its region boundaries are
exactly the real Philpott et al. (2020) crossing intervals, so the labels are real and
only the field is modelled:

* orbit: a Kepler ellipse with the real period, periapsis at the middle of the orbit,
  plane fitted to the crossings' MSO positions (:mod:`planetml_lib.simulate.orbit`);
* regions: :func:`~planetml_lib.preprocess.mercury.crossings_to_regions`;
* field: Parker-spiral IMF with turbulence in the solar wind, compressed and draped
  turbulent IMF in the magnetosheath, KT17 (offset dipole + magnetospheric currents)
  inside (:mod:`planetml_lib.simulate.fields`), blended across each crossing interval
  by a smooth ramp that wobbles, so that a long interval holds several crossings;
* instrument: white noise on each average, and the spread of the samples within each
  average (``dbx``...) from the unresolved part of the turbulence.

Not modelled: foreshock waves, flux transfer events, Kelvin-Helmholtz waves, substorms,
data gaps and the MAG's sampling-rate changes.
"""

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.datasets import load_catalog, load_messenger_orbits
from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.events import validate_events
from planetml_lib.preprocess.mercury import MP, MSH, MSP, SK, crossings_to_regions, msm_position, region_attrs
from planetml_lib.simulate.fields import magnetosphere_field, parker_imf, sheath_field, turbulence
from planetml_lib.simulate.orbit import OrbitGeometry, default_azimuth, fit_plane, orbit_positions, sun_distance_au

_UNITS = {"bx": "nT", "by": "nT", "bz": "nT", "dbx": "nT", "dby": "nT", "dbz": "nT",
          "x_mso": "km", "y_mso": "km", "z_mso": "km", "navg": "1"}


@dataclasses.dataclass(frozen=True)
class SimulationParameters:
    """Physical and instrumental settings of the simulator; override with ``dataclasses.replace``.

    Per orbit, the IMF strength, sector polarity and north-south component are drawn at
    random; everything else is fixed here.
    """

    periapsis_altitude_km: float = 300.0     # periapsis above the surface (km); MESSENGER: 200-500 km
    periapsis_latitude_deg: float = 62.0     # used only when the crossings carry no MSO positions
    imf_radial_1au_nt: float = 3.5           # radial IMF at 1 AU (nT), x r^-2: |B| 17-38 nT at 0.47-0.31 AU
    solar_wind_speed_kms: float = 400.0      # winds the Parker spiral: about 20 deg from radial at Mercury
    imf_strength_spread: float = 0.25        # log-normal spread of |B_IMF| from orbit to orbit
    imf_bz_spread: float = 0.3               # north-south IMF component, std as a fraction of |B_IMF|
    imf_turbulence: float = 0.35             # rms of the IMF fluctuation vector / |B_IMF|
    imf_outer_scale_s: float = 1800.0        # correlation time of the IMF fluctuations (s)
    compression: float = 3.5                 # tangential field jump at the bow-shock nose (3-4)
    flaring_rm: float = 2.0                  # paraboloid scale of the draping normals (R_M)
    sheath_turbulence: float = 0.6           # rms of the magnetosheath fluctuation vector / |B_MSh|
    sheath_outer_scale_s: float = 120.0      # correlation time in the magnetosheath (s)
    dist_index: float = 50.0                 # KT17 disturbance index (0-97)
    magnetosphere_noise_nt: float = 3.0      # rms of the fluctuation vector inside the magnetosphere (nT)
    magnetosphere_outer_scale_s: float = 60.0
    boundary_wobble: float = 0.6             # back-and-forth motion of a boundary within its interval (0-1)
    boundary_outer_scale_s: float = 60.0     # time scale of that motion (s)
    instrument_noise_nt: float = 0.05        # white noise of one raw sample (nT)
    sample_rate_hz: float = 20.0             # raw MAG rate: navg = rate x cadence


def _orbit_window(orbit: int, orbit_table: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start and end of ``orbit`` in the orbit table; one-line error if it is not there."""
    row = orbit_table[orbit_table["orbit"] == orbit]
    if row.empty:
        first, last = orbit_table["orbit"].min(), orbit_table["orbit"].max()
        raise PlanetMLError(f"orbit {orbit} is not in the orbit table (orbits {first}-{last}, with gaps)")
    return row["start"].iloc[0], row["end"].iloc[0]


def _time_grid(start: pd.Timestamp, end: pd.Timestamp, cadence: str) -> pd.DatetimeIndex:
    """Regular times from ``start`` (rounded up to the cadence) to before ``end``."""
    try:
        step = pd.Timedelta(cadence)
    except ValueError:
        raise PlanetMLError(f"cadence={cadence!r} is not a time step, e.g. '1s' or '10s'") from None
    if step <= pd.Timedelta(0):
        raise PlanetMLError(f"cadence={cadence!r} must be positive")
    return pd.date_range(start.ceil(step), end, freq=step, inclusive="left")


def _boundary_weights(regions, events, time, wobble, noise) -> tuple[np.ndarray, np.ndarray]:
    """Weights of the magnetosheath-or-inside and of the magnetosphere fields, each (n,) in [0, 1].

    Across each crossing interval the weight ramps from the outer (0) to the inner (1)
    side as 0.5 - 0.5 cos(pi s), s = 0..1 the fraction of the interval, plus
    ``wobble sin(pi s) noise``, clipped: the boundary moves back and forth in between.
    """
    sheath = np.isin(regions, (MSH, MP, MSP)).astype(float)
    inner = (regions == MSP).astype(float)
    times = time.asi8
    for start, end, label in zip(events["start"], events["end"], events["label"], strict=True):
        kind, weight = (SK, sheath) if label.startswith("bow_shock") else (MP, inner)
        first, after = np.searchsorted(times, start.value, "left"), np.searchsorted(times, end.value, "right")
        span = np.arange(first, after)[regions[first:after] == kind]
        s = (times[span] - start.value) / max(end.value - start.value, 1)
        ramp = np.clip(0.5 - 0.5 * np.cos(np.pi * s) + wobble * np.sin(np.pi * s) * noise[span], 0.0, 1.0)
        weight[span] = 1.0 - ramp if label.endswith("_out") else ramp
    return sheath, inner


def _imf(rng, n, dt_s, r_sun_au, p: SimulationParameters) -> tuple[np.ndarray, float]:
    """Turbulent Parker-spiral IMF for one orbit (nT), shape (3, n), and its rms fluctuation (nT)."""
    strength = p.imf_radial_1au_nt * np.exp(rng.normal(0.0, p.imf_strength_spread))
    mean = parker_imf(r_sun_au, strength, p.solar_wind_speed_kms, polarity=rng.choice([-1, 1]))
    mean[2] = rng.normal(0.0, p.imf_bz_spread) * np.linalg.norm(mean)
    rms = p.imf_turbulence * np.linalg.norm(mean)
    return mean[:, None] + rms / np.sqrt(3) * turbulence(rng, 3, n, dt_s, p.imf_outer_scale_s), rms


def _fields(rng, time, position, r_sun_au, p: SimulationParameters) -> tuple[np.ndarray, ...]:
    """IMF, magnetosheath and magnetosphere fields (nT), each (3, n), and their rms fluctuations, (3, n).

    An rms is that of the fluctuation vector; each component gets rms / sqrt(3).
    """
    n, dt_s = len(time), (time[1] - time[0]).total_seconds()
    imf, imf_rms = _imf(rng, n, dt_s, r_sun_au, p)
    sheath = sheath_field(imf, msm_position(*position), p.compression, p.flaring_rm)
    sheath_rms = p.sheath_turbulence * np.linalg.norm(sheath, axis=0)
    sheath = sheath + sheath_rms / np.sqrt(3) * turbulence(rng, 3, n, dt_s, p.sheath_outer_scale_s)
    inside = magnetosphere_field(position, r_sun_au, p.dist_index)
    inside_rms = p.magnetosphere_noise_nt
    inside = inside + inside_rms / np.sqrt(3) * turbulence(rng, 3, n, dt_s, p.magnetosphere_outer_scale_s)
    return imf, sheath, inside, np.stack([np.full(n, imf_rms), sheath_rms, np.full(n, inside_rms)])


def _spread(rng, rms: np.ndarray, weights: np.ndarray, dt_s: float, p: SimulationParameters) -> np.ndarray:
    """Standard deviation of the raw samples within each average (nT), shape (3, n).

    The turbulence below the averaging time holds a fraction (dt / outer scale)^(1/3)
    of the rms for a -5/3 spectrum; the instrument adds its raw-sample noise.
    """
    scales = np.array([p.imf_outer_scale_s, p.sheath_outer_scale_s, p.magnetosphere_outer_scale_s])
    unresolved = (weights * rms * np.minimum(dt_s / scales, 1.0)[:, None] ** (1 / 3)).sum(axis=0)
    base = np.sqrt(p.instrument_noise_nt**2 + unresolved**2 / 3)
    return base * np.abs(1.0 + 0.3 * rng.normal(size=(3, base.size)))


def _dataset(time, position, b, spread, regions, orbit, cadence, p: SimulationParameters) -> xr.Dataset:
    """Assemble the time-series contract of :func:`~planetml_lib.io.pds.read_messenger_mag` plus ``region``."""
    navg = np.full(len(time), max(round(p.sample_rate_hz * pd.Timedelta(cadence).total_seconds()), 1), np.int32)
    values = {"bx": b[0], "by": b[1], "bz": b[2], "dbx": spread[0], "dby": spread[1], "dbz": spread[2],
              "x_mso": position[0], "y_mso": position[1], "z_mso": position[2], "navg": navg}
    data = {name: xr.Variable("time", value, {"units": _UNITS[name]}) for name, value in values.items()}
    data["region"] = xr.Variable("time", regions, region_attrs())
    attrs = {"spacecraft": "MESSENGER", "frame": "MSO", "cadence": cadence,
             "source": "SIMULATION by planetml_lib.simulate.messenger (not MESSENGER data)"}
    coords = {"time": time.as_unit("ns"), "orbit": ("time", np.full(len(time), orbit, np.int32))}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def simulate_orbit(orbit: int, crossings: pd.DataFrame, cadence: str = "1s", seed: int = 0,
                   parameters: SimulationParameters | None = None,
                   orbit_table: pd.DataFrame | None = None) -> xr.Dataset:
    """Simulate one MESSENGER orbit's magnetometer data, labelled by region. A SIMULATION.

    Parameters
    ----------
    orbit : int
        Orbit number; its times come from ``orbit_table``.
    crossings : pandas.DataFrame
        Philpott crossing events (``read_philpott`` / ``load_catalog("philpott2020")``),
        all or this orbit's: the rows overlapping the orbit's times set the regions, and
        their MSO positions orient the orbit plane.
    cadence : str
        Sampling step, e.g. "1s" (43,200 samples per 12-h orbit) or "10s" (faster).
    seed : int
        Random seed; the noise of orbit ``k`` depends only on ``(seed, k)``.
    parameters : SimulationParameters, optional
        Physics and instrument settings (defaults when None).
    orbit_table : pandas.DataFrame, optional
        Columns ``orbit``, ``start``, ``end``; :func:`~planetml_lib.datasets.load_messenger_orbits` by default.

    Returns
    -------
    xarray.Dataset
        Along ``time`` (regular, datetime64[ns]): ``bx``, ``by``, ``bz``, ``dbx``, ``dby``,
        ``dbz`` (nT, MSO), ``x_mso``, ``y_mso``, ``z_mso`` (km), ``navg`` and ``region``
        (int8: 0 IMF, 1 SK, 2 MSh, 3 MP, 4 MSp, equal to ``crossings_to_regions``);
        coordinate ``orbit``; attrs ``spacecraft`` "MESSENGER", ``frame`` "MSO",
        ``cadence`` and ``source`` (marking the simulation).

    Examples
    --------
    >>> ds = simulate_orbit(12, load_catalog("philpott2020"), cadence="60s")
    >>> ds.sizes["time"], ds.attrs["frame"], int(ds["region"].max())
    (724, 'MSO', 4)
    """
    p = parameters or SimulationParameters()
    table = load_messenger_orbits() if orbit_table is None else orbit_table
    start, end = _orbit_window(orbit, table)
    time = _time_grid(start, end, cadence)
    if len(time) < 2:
        raise PlanetMLError(f"orbit {orbit}: fewer than 2 samples at cadence {cadence!r}")
    events = validate_events(crossings, "crossings")
    events = events[(events["end"] >= time[0]) & (events["start"] <= time[-1])].reset_index(drop=True)
    middle = start + (end - start) / 2
    geometry = OrbitGeometry(middle, (end - start).total_seconds(), p.periapsis_altitude_km,
                             p.periapsis_latitude_deg, default_azimuth(middle))
    position = orbit_positions(time, fit_plane(events, geometry))
    regions = crossings_to_regions(events, time)
    rng = np.random.default_rng([seed, orbit])
    imf, sheath, inside, rms = _fields(rng, time, position, sun_distance_au(middle), p)
    wobble = turbulence(rng, 1, len(time), (time[1] - time[0]).total_seconds(), p.boundary_outer_scale_s)[0]
    outer, inner = _boundary_weights(regions, events, time, p.boundary_wobble, wobble)
    b = (1 - outer) * imf + outer * ((1 - inner) * sheath + inner * inside)
    b += p.instrument_noise_nt * rng.normal(size=b.shape)
    weights = np.stack([1 - outer, outer * (1 - inner), outer * inner])
    spread = _spread(rng, rms, weights, (time[1] - time[0]).total_seconds(), p)
    return _dataset(time, position, b, spread, regions, orbit, cadence, p)


def simulate_orbits(orbits: Sequence[int], crossings: pd.DataFrame, cadence: str = "1s", seed: int = 0,
                    parameters: SimulationParameters | None = None,
                    orbit_table: pd.DataFrame | None = None) -> xr.Dataset:
    """Simulate several orbits (see :func:`simulate_orbit`) as one Dataset, sorted in time.

    Each orbit equals ``simulate_orbit(k, ...)`` with the same ``seed``, whatever the
    other orbits. Gaps between orbits in the orbit table stay gaps (no rows).
    """
    if len(orbits) == 0:
        raise PlanetMLError("orbits is empty: give at least one orbit number")
    table = load_messenger_orbits() if orbit_table is None else orbit_table
    parts = [simulate_orbit(k, crossings, cadence, seed, parameters, table) for k in sorted(orbits)]
    return xr.concat(parts, dim="time", combine_attrs="override")


def complete_orbits(crossings: pd.DataFrame, orbit_table: pd.DataFrame) -> np.ndarray:
    """Orbit numbers whose four traversals all lie within the orbit's times in ``orbit_table``."""
    merged = crossings.merge(orbit_table[["orbit", "start", "end"]], on="orbit", suffixes=("", "_orbit"))
    inside = (merged["start"] >= merged["start_orbit"]) & (merged["end"] <= merged["end_orbit"])
    counts = merged[inside].groupby("orbit")["label"].nunique()
    return counts.index[counts == 4].to_numpy()


def make_messenger(n_orbits: int = 2, seed: int = 0, cadence: str = "10s") -> xr.Dataset:
    """A small simulated MESSENGER data set for tests and demos (see :func:`simulate_orbit`). A SIMULATION.

    Picks ``n_orbits`` consecutive complete orbits (all four Philpott traversals inside
    the orbit's times) at a place chosen by ``seed``, and simulates them at ``cadence``.
    The matching crossings are ``load_catalog("philpott2020")`` restricted to
    ``ds["orbit"]``'s values.

    Examples
    --------
    >>> ds = make_messenger(n_orbits=1, seed=0, cadence="60s")
    >>> ds.attrs["spacecraft"], sorted(set(ds["region"].values.tolist()))
    ('MESSENGER', [0, 1, 2, 3, 4])
    """
    crossings, table = load_catalog("philpott2020"), load_messenger_orbits()
    complete = set(complete_orbits(crossings, table).tolist())
    starts = [k for k in sorted(complete) if all(k + i in complete for i in range(n_orbits))]
    if n_orbits < 1 or not starts:
        raise PlanetMLError(f"n_orbits={n_orbits}: no run of that many consecutive complete orbits")
    first = starts[np.random.default_rng(seed).integers(len(starts))]
    return simulate_orbits(range(first, first + n_orbits), crossings, cadence, seed, orbit_table=table)
