"""Derived solar-wind features: field magnitude, speed, temperature, plasma beta, pressure, T/T_expected.

ICME detectors (e.g. Nguyen et al. 2019; Rüdisser et al. 2022) use the features
of :data:`FEATURES`. Archives ship different subsets: CDAWeb Wind files give
field and velocity components and a thermal speed, the STEREO CSVs give
everything. :func:`add_derived_features` fills in what is missing, with the
conventions below, so that every source ends with the same columns.

Conventions (n in cm^-3, T in K, B in nT, v and W in km/s; SI constants from
:mod:`astropy.constants`):

- ``tp = m_p W^2 / (2 k_B)`` = 60.57 K x W^2: Wind SWE's thermal speed ``W`` is
  the most probable speed ``sqrt(2 k_B T / m_p)`` (Wind SWE data description,
  https://wind.nasa.gov/mission/wind/tmp/homa/DESCRIPTION; Kasper et al. 2006,
  doi:10.1029/2005JA011442), not the rms speed ``sqrt(3 k_B T / m_p)``.
- ``beta = 2 mu0 n k_B T / B^2`` = 3.46995e-5 n T / B^2, the proton beta
  (no electron or alpha pressure, unlike OMNI's beta). This is the convention
  of the shipped STEREO CSVs: recomputing their beta from their own 10-min
  np, tp, bt agrees to 0.1 % where the field is steady; their values are
  averages of beta computed at the native cadence, so they exceed the
  recomputed value where B varies within the 10 minutes (median +0.5 %, up
  to +6 % in the most variable tenth of bins).
- ``pdyn_nPa = m_p n v^2`` = 1.6726e-6 n v^2 (protons only).
- ``texrat = tp / T_exp`` with Lopez (1987, doi:10.1029/JA092iA10p11189)
  ``T_exp = (0.031 v - 5.1)^2 x 10^3 K`` for v < 500 km/s and
  ``(0.51 v - 142) x 10^3 K`` above; ICMEs are often cold, texrat < 0.5
  (Richardson & Cane 1995, J. Geophys. Res. 100, 23397).
"""

import numpy as np
import xarray as xr
from astropy import constants
from astropy import units as u

from planetml_lib.errors import PlanetMLError
from planetml_lib.io.cdf import KNOWN_VARIABLES

#: Input features of the ICME models, in this order.
FEATURES = ("bx", "by", "bz", "bt", "vt", "np", "tp", "beta", "pdyn_nPa", "texrat")
#: Features from the magnetometer alone (frame-dependent components and the frame-free |B|).
MAGNETIC_FEATURES = ("bx", "by", "bz", "bt")
#: T (K) per W^2 ((km/s)^2) for the most probable thermal speed W: m_p / (2 k_B).
KELVIN_PER_W2 = float((constants.m_p / (2 * constants.k_B) * (u.km / u.s) ** 2).to_value(u.K))
#: beta = BETA_PER_NT_B2 * n T / B^2 with n in cm^-3, T in K, B in nT: 2 mu0 k_B.
BETA_PER_NT_B2 = float((2 * constants.mu0 * constants.k_B * u.cm**-3 * u.K / u.nT**2).decompose().value)
#: pdyn (nPa) = NPA_PER_NV2 * n v^2 with n in cm^-3, v in km/s: m_p.
NPA_PER_NV2 = float((constants.m_p * u.cm**-3 * (u.km / u.s) ** 2).to_value(u.nPa))


def expected_temperature(speed):
    """Proton temperature expected from the solar-wind speed (Lopez 1987), in K.

    Parameters
    ----------
    speed : array_like
        Bulk speed in km/s; NaN stays NaN.

    Returns
    -------
    numpy.ndarray
        ``(0.031 v - 5.1)^2 * 1e3`` for v < 500 km/s, ``(0.51 v - 142) * 1e3`` otherwise.

    Examples
    --------
    >>> expected_temperature([400.0, 600.0])
    array([ 53290., 164000.])
    """
    v = np.asarray(speed, dtype="float64")
    return np.where(v < 500, (0.031 * v - 5.1) ** 2, 0.51 * v - 142) * 1e3


#: What add_derived_features can compute: (name, inputs, formula text, function of the Dataset).
RECIPES = (
    ("bt", ("bx", "by", "bz"), "sqrt(bx^2 + by^2 + bz^2)", lambda d: np.sqrt(d.bx**2 + d.by**2 + d.bz**2)),
    ("vt", ("vx", "vy", "vz"), "sqrt(vx^2 + vy^2 + vz^2)", lambda d: np.sqrt(d.vx**2 + d.vy**2 + d.vz**2)),
    ("tp", ("vth",), "m_p vth^2 / (2 k_B)", lambda d: KELVIN_PER_W2 * d.vth**2),
    ("beta", ("np", "tp", "bt"), "2 mu0 np k_B tp / bt^2", lambda d: BETA_PER_NT_B2 * d["np"] * d.tp / d.bt**2),
    ("pdyn_nPa", ("np", "vt"), "m_p np vt^2", lambda d: NPA_PER_NV2 * d["np"] * d.vt**2),
    ("texrat", ("tp", "vt"), "tp / T_exp(vt), Lopez 1987", lambda d: d.tp / expected_temperature(d.vt)),
)


def _check_units(ds: xr.Dataset, names) -> None:
    """Raise PlanetMLError if an input's ``units`` attr differs from the package's units."""
    for name in names:
        units, expected = ds[name].attrs.get("units"), KNOWN_VARIABLES[name][0]
        if units is not None and units != expected:
            raise PlanetMLError(f"variable '{name}' has units {units!r}; derived features need {expected!r}")


def add_derived_features(ds: xr.Dataset) -> xr.Dataset:
    """Add the features of :data:`RECIPES` that are missing and computable from ``ds``.

    Computes, in this order and only when absent: ``bt`` from bx, by, bz;
    ``vt`` from vx, vy, vz; ``tp`` from the thermal speed ``vth``; ``beta``,
    ``pdyn_nPa`` and ``texrat`` (conventions in the module docstring).
    Existing variables are never overwritten; a feature whose inputs are
    missing is skipped. NaN inputs give NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        Time series with any of bx, by, bz, bt (nT), vx, vy, vz, vt, vth
        (km/s), np (cm^-3), tp (K); ``units`` attrs, where present, must be these.

    Returns
    -------
    xarray.Dataset
        A copy with the new float64 variables, each with exactly the attrs
        ``units``, ``long_name`` and ``formula`` (no ``frame``: magnitudes
        and scalars do not depend on it).

    Raises
    ------
    PlanetMLError
        If an input variable has other units than listed above.

    Examples
    --------
    >>> t = np.array(["2024-05-10T16:00", "2024-05-10T16:10"], dtype="datetime64[ns]")
    >>> ds = xr.Dataset({"bx": ("time", [3.0, 6.0]), "by": ("time", [4.0, 8.0]), "bz": ("time", [0.0, 0.0]),
    ...                  "vt": ("time", [400.0, 600.0]), "np": ("time", [5.0, 20.0]), "tp": ("time", [5e4, 2e5])},
    ...                 coords={"time": t})
    >>> add_derived_features(ds)[["bt", "pdyn_nPa", "texrat"]].to_dataframe().round(2).values.tolist()
    [[5.0, 1.34, 0.94], [10.0, 12.04, 1.22]]
    """
    out = ds.copy()
    for name, inputs, formula, compute in RECIPES:
        if name in out or not all(needed in out for needed in inputs):
            continue
        _check_units(out, inputs)
        units, long_name = KNOWN_VARIABLES[name]
        values = compute(out).astype("float64")
        values.attrs = {"units": units, "long_name": long_name, "formula": formula}  # none inherited from inputs
        out[name] = values
    return out


def scale_field(ds: xr.Dataset, factor: float) -> xr.Dataset:
    """The series with its magnetic field multiplied by ``factor`` and the plasma beta (∝ 1/B²) divided by ``factor²``.

    A training augmentation for solar-cycle invariance: the interplanetary field is weaker
    at solar minimum (and ICME fields with it) than near maximum, so a model trained on a
    few years should learn the shape of an ICME's field, not its strength alone.

    Examples
    --------
    >>> ds = xr.Dataset({"bt": ("time", [4.0]), "beta": ("time", [1.0])})
    >>> scaled = scale_field(ds, 0.5)
    >>> float(scaled["bt"][0]), float(scaled["beta"][0])
    (2.0, 4.0)
    """
    if not factor > 0:
        raise PlanetMLError(f"scale_field: factor must be positive, got {factor!r}")
    scaled = ds.copy()
    for name in MAGNETIC_FEATURES:
        if name in ds:
            scaled[name] = ds[name] * factor
    if "beta" in ds:
        scaled["beta"] = ds["beta"] / factor**2
    for name in scaled.data_vars:
        scaled[name].attrs = ds[name].attrs
    return scaled


#: Plausible range of a variable's median in the solar wind near 1 AU, and the unit mistake that
#: most often puts it outside: (low, high, units, mistake). Medians of whole series, so single shocks do not matter.
PLAUSIBLE_MEDIANS = {
    "bt": (0.3, 300.0, "nT", "T or gauss"),
    "vt": (150.0, 1500.0, "km/s", "m/s"),
    "np": (0.05, 200.0, "cm^-3", "m^-3"),
    "tp": (2e3, 5e6, "K", "eV: 1 eV = 11,605 K"),
}


def check_value_ranges(ds):
    """Refuse a series whose variables are in the wrong unit, judged from the median of each.

    Each variable of :data:`PLAUSIBLE_MEDIANS` in ``ds`` must have its median within the range
    seen in the solar wind; a density in m^-3 (1e6 times too large) or a temperature in eV
    (about 1e4 times too small) lies far outside and is named.

    Raises
    ------
    PlanetMLError
        Naming the first variable out of range, its median and the likely mistake.

    Examples
    --------
    >>> ds = xr.Dataset({"np": ("time", [5e6, 6e6, 4e6])})
    >>> check_value_ranges(ds)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    planetml_lib.errors.PlanetMLError: np: median 5e+06 is outside 0.05-200 cm^-3 ...; is it in cm^-3 (not m^-3)?
    """
    for name, (low, high, units, mistake) in PLAUSIBLE_MEDIANS.items():
        if name not in ds:
            continue
        values = np.asarray(ds[name].values, dtype="float64")
        values = values[np.isfinite(values)]
        if values.size and not low <= np.median(values) <= high:
            raise PlanetMLError(f"{name}: median {np.median(values):.3g} is outside {low:g}-{high:g} {units} for "
                                f"the solar wind; is it in {units} (not {mistake})?")
