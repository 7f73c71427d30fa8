"""Simulated global cubes of Mercury's visible reflectance, with the true map of surface units.

The global 1 deg x 1 deg MASCS VIRS cube is not available offline, so this makes one: Mercury-like
end-member spectra (a red-sloped continuum, the low-reflectance material's faint broad absorption
near 600 nm, fresh bright material bluer than the weathered surface) mixed over spatial units
(an equatorial intermediate terrain, polar caps with a ragged edge, smooth-plains patches dominated
by a large northern one, low-reflectance patches), fresh craters whose bright rays lie across the
units without changing them, per-cell photometric residuals that grow towards the poles (an
imperfect photometric correction), channel noise that rises at both ends of the detector, and
unobserved cells.

Each planet is drawn from a :class:`SurfaceFamily` of generator ranges. :data:`TRAINING_FAMILY`
is what configurations are developed on; :data:`HELDOUT_FAMILY` ("noisy_low_contrast", named
before any configuration was chosen) has weaker contrast between the units, more noise and
stronger photometric residuals, and is reported apart. Everything made here is SIMULATED.
"""

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.ndimage import gaussian_filter

#: Unit names of the truth, in their integer order.
UNIT_NAMES = ("intermediate_terrain", "polar", "smooth_plains", "low_reflectance")
#: The common wavelength grid of the cubes, nm (268-975 nm in 7-nm steps).
WAVELENGTHS = np.linspace(268.0, 975.0, 102)


@dataclass(frozen=True)
class SurfaceFamily:
    """Ranges the generator draws a planet from (each pair: uniform low, high)."""

    name: str
    contrast: tuple = (0.7, 1.3)            # scale of the end-members' differences from the mean terrain
    noise: tuple = (0.0005, 0.002)          # channel noise at 700 nm, reflectance units
    photometric: tuple = (0.0, 0.03)        # per-cell multiplicative residual at the equator (grows poleward)
    polar_edge_deg: tuple = (55.0, 70.0)    # latitude of the polar units' mean edge
    n_plains: tuple = (3, 8)                # smooth-plains patches besides the northern one
    n_dark: tuple = (2, 6)                  # low-reflectance patches
    n_craters: tuple = (20, 60)             # fresh rayed craters
    coverage: tuple = (0.8, 0.95)           # fraction of cells observed


TRAINING_FAMILY = SurfaceFamily("training")
HELDOUT_FAMILY = SurfaceFamily("noisy_low_contrast", contrast=(0.4, 0.7), noise=(0.002, 0.004),
                               photometric=(0.03, 0.06))
FAMILIES = {family.name: family for family in (TRAINING_FAMILY, HELDOUT_FAMILY)}


def _draw(rng, bounds, integer=False):
    low, high = bounds
    return int(rng.integers(low, high + 1)) if integer else float(rng.uniform(low, high))


def end_members(rng, contrast, wavelengths=WAVELENGTHS):
    """Spectra ``(5, wavelength)``: the four units' end-members and the fresh-crater material.

    A continuum ``albedo * (1 + slope * (w - 700) / 700)`` (reflectance at 700 nm 0.03-0.075: the real
    VIRS orbit shipped with PlanetML has a median of 0.036, global maps near 0.06; red slopes), the
    low-reflectance material darker, less red and with a broad Gaussian absorption near 600 nm;
    differences from the intermediate terrain scaled by ``contrast``.
    """
    w = (wavelengths - 700.0) / 700.0
    base_albedo, base_slope = rng.uniform(0.03, 0.075), rng.uniform(0.9, 1.3)
    offsets = {  # (albedo ratio - 1, slope change, 600-nm band depth) of each end-member
        "intermediate_terrain": (0.0, 0.0, 0.0),
        "polar": (rng.uniform(0.03, 0.08), rng.uniform(0.05, 0.15), 0.0),
        "smooth_plains": (rng.uniform(0.08, 0.15), rng.uniform(0.1, 0.25), 0.0),
        "low_reflectance": (-rng.uniform(0.2, 0.3), -rng.uniform(0.1, 0.25), rng.uniform(0.03, 0.06)),
        "fresh": (rng.uniform(0.3, 0.5), -rng.uniform(0.2, 0.4), 0.0),
    }
    spectra = []
    for albedo, slope, depth in offsets.values():
        continuum = base_albedo * (1 + contrast * albedo) * (1 + (base_slope + contrast * slope) * w)
        band = 1 - contrast * depth * np.exp(-0.5 * ((wavelengths - 600.0) / 90.0) ** 2)
        spectra.append(continuum * band)
    return np.array(spectra)


def _grid(resolution_deg):
    lat = np.arange(-90 + resolution_deg / 2, 90, resolution_deg)
    lon = np.arange(resolution_deg / 2, 360, resolution_deg)
    return lat, lon


def _angular_distance(lat, lon, lat0, lon0):
    """Great-circle distance (deg) from every cell of the ``(lat, lon)`` grid to one point."""
    la, lo = np.radians(lat)[:, None], np.radians(lon)[None, :]
    la0, lo0 = np.radians(lat0), np.radians(lon0)
    cos = np.sin(la) * np.sin(la0) + np.cos(la) * np.cos(la0) * np.cos(lo - lo0)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _smooth_field(rng, shape, sigma):
    """A zero-mean, unit-variance random field smoothed over ``sigma`` cells (wrapping in longitude)."""
    field = gaussian_filter(rng.normal(size=shape), sigma, mode=("nearest", "wrap"))
    return (field - field.mean()) / field.std()


def unit_map(rng, family, lat, lon):
    """True units ``(lat, lon)`` (indices into :data:`UNIT_NAMES`) with ragged, random patches."""
    units = np.zeros((lat.size, lon.size), dtype=np.int16)
    edge = _draw(rng, family.polar_edge_deg) + 6 * _smooth_field(rng, units.shape, 6 / (lat[1] - lat[0]))
    units[np.abs(lat)[:, None] >= edge] = 1
    patches = [(2, rng.uniform(50, 70), rng.uniform(0, 360), rng.uniform(25, 35))]  # the northern plains
    patches += [(2, rng.uniform(-50, 50), rng.uniform(0, 360), rng.uniform(6, 15))
                for _ in range(_draw(rng, family.n_plains, integer=True))]
    patches += [(3, rng.uniform(-60, 60), rng.uniform(0, 360), rng.uniform(6, 14))
                for _ in range(_draw(rng, family.n_dark, integer=True))]
    ragged = 3 * _smooth_field(rng, units.shape, 3 / (lat[1] - lat[0]))
    for unit, lat0, lon0, radius in patches:
        units[_angular_distance(lat, lon, lat0, lon0) + ragged < radius] = unit
    return units


def crater_rays(rng, family, lat, lon):
    """Fraction ``(lat, lon)`` of fresh material: bright craters with rays fading outwards."""
    fresh = np.zeros((lat.size, lon.size))
    for _ in range(_draw(rng, family.n_craters, integer=True)):
        lat0, lon0 = np.degrees(np.arcsin(rng.uniform(-1, 1))), rng.uniform(0, 360)
        distance = _angular_distance(lat, lon, lat0, lon0)
        fresh = np.maximum(fresh, rng.uniform(0.3, 0.7) * np.exp(-distance / rng.uniform(1.5, 5)))
    return fresh


def simulate_surface_cube(seed, family=TRAINING_FAMILY, resolution_deg=1.0, wavelengths=WAVELENGTHS):
    """A SIMULATED global reflectance cube of Mercury and its true unit map.

    Parameters
    ----------
    seed : int
        Draws the planet (end-members, units, craters, noise, coverage).
    family : SurfaceFamily or str
        Generator ranges (:data:`TRAINING_FAMILY`, :data:`HELDOUT_FAMILY` or their names).
    resolution_deg : float
        Cell size; cell centres from -90 + res/2 in latitude and res/2 in longitude (east, 0-360).

    Returns
    -------
    xarray.Dataset
        ``reflectance (wavelength, lat, lon)`` (I/F, NaN in unobserved cells), ``n_spectra (lat, lon)``,
        the truth ``unit (lat, lon)`` (-1 unobserved) and ``fresh_fraction (lat, lon)``; attrs
        ``target``, ``source`` ("simulation"), ``seed``, ``family``, ``resolution_deg``.

    Examples
    --------
    >>> cube = simulate_surface_cube(0, resolution_deg=10)
    >>> cube["reflectance"].dims, cube.sizes["lat"], cube.sizes["lon"]
    (('wavelength', 'lat', 'lon'), 18, 36)
    """
    family = FAMILIES[family] if isinstance(family, str) else family
    rng = np.random.default_rng(seed)
    lat, lon = _grid(resolution_deg)
    members = end_members(rng, _draw(rng, family.contrast), wavelengths)
    units = unit_map(rng, family, lat, lon)
    fresh = crater_rays(rng, family, lat, lon)
    abundance = 0.85 + 0.1 * _smooth_field(rng, units.shape, 2).clip(-1.5, 1.5)  # of the cell's own unit
    spectra = ((1 - fresh)[..., None] * (abundance[..., None] * members[units]
                                          + (1 - abundance)[..., None] * members[0]) + fresh[..., None] * members[4])
    poleward = 1 + 2 * (np.abs(lat) / 90)[:, None] ** 2
    photometric = 1 + _draw(rng, family.photometric) * poleward * _smooth_field(rng, units.shape, 1)
    spectra *= photometric[..., None]
    edge_noise = 1 + 3 * ((wavelengths - 620.0) / 355.0) ** 4
    spectra += rng.normal(size=spectra.shape) * _draw(rng, family.noise) * edge_noise
    observed = rng.uniform(size=units.shape) < _draw(rng, family.coverage)
    spectra[~observed] = np.nan
    cube = xr.Dataset(
        {"reflectance": (("wavelength", "lat", "lon"), np.moveaxis(spectra, -1, 0).astype(np.float32),
                         {"units": "1", "long_name": "photometrically normalised I/F (SIMULATED)"}),
         "n_spectra": (("lat", "lon"), observed.astype(np.int32)),
         "unit": (("lat", "lon"), np.where(observed, units, -1).astype(np.int16),
                  {"flag_meanings": " ".join(UNIT_NAMES)}),
         "fresh_fraction": (("lat", "lon"), fresh.astype(np.float32))},
        coords={"wavelength": ("wavelength", wavelengths, {"units": "nm"}),
                "lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})},
        attrs={"target": "Mercury", "source": "simulation", "seed": int(seed), "family": family.name,
               "resolution_deg": float(resolution_deg)})
    return cube
