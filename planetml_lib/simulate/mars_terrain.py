"""Simulated Mars terrain with clustered mounds: DTM, panchromatic image, mound mask.

**This is a simulation, not Mars data.** It makes labelled scenes in the image contract
for training, tests and demonstrations, where real labelled DTMs (HiRISE/CTX) cannot be
shipped. A scene is built from:

* background: a fractal surface by spectral synthesis (power spectrum ``k^-(2H+2)``,
  Hurst exponent ``H``), plus a regional planar slope;
* craters: diameters from a truncated power law (cumulative ``N(>D) ~ D^-2``), bowls
  with raised rims whose height decays as ``(r/R)^-3`` outside the rim;
* mounds (e.g. pitted cones or mud volcanoes as in Acidalia or Chryse Planitia):
  log-normal basal diameters of tens to hundreds of metres, height/diameter 0.05-0.2,
  slightly elliptical cone-to-dome profiles, some with a summit pit; centres from a
  Thomas cluster process (parents uniform, children Gaussian around them), bases not
  touching;
* image: Lambertian hillshade of the DTM under a given sun, times a smooth albedo
  field (mounds slightly brighter), plus Gaussian noise, clipped to 0-1.

Not modelled: shadows cast over distance, atmospheric haze, dunes and aeolian
bedforms, layered or eroded mounds, mounds breaching one another, DTM artefacts.
"""

import dataclasses

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.terrain import hillshade

MARS_RADIUS_M = 3396190.0  # IAU 2000 Mars sphere


def mars_equirectangular_wkt(centre_lon_deg, centre_lat_deg):
    """WKT of a Mars (IAU 2000 sphere) equirectangular projection true at the scene's latitude."""
    return (
        'PROJCS["Mars_Equirectangular",GEOGCS["GCS_Mars_2000_Sphere",DATUM["D_Mars_2000_Sphere",'
        f'SPHEROID["Mars_2000_Sphere_IAU_IAG",{MARS_RADIUS_M:.0f},0]],PRIMEM["Reference_Meridian",0],'
        'UNIT["degree",0.0174532925199433]],PROJECTION["Equirectangular"],'
        f'PARAMETER["standard_parallel_1",{centre_lat_deg}],PARAMETER["central_meridian",{centre_lon_deg}],'
        'PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["metre",1]]'
    )


@dataclasses.dataclass(frozen=True)
class MoundFieldParameters:
    """Settings of :func:`simulate_mound_field`; override with ``dataclasses.replace``."""

    relief_rms_m: float = 2.0                 # rms of the fractal background relief (m)
    hurst: float = 0.8                        # Hurst exponent of the background (0-1; Mars plains ~0.7-0.9)
    regional_slope_deg: float = 0.5           # regional tilt, in a random direction (degrees)
    crater_density_km2: float = 40.0          # craters at least crater_diameter_m[0] wide per km^2
    crater_diameter_m: tuple = (15.0, 400.0)  # smallest and largest crater diameter (m)
    crater_depth_ratio: tuple = (0.05, 0.2)   # depth/diameter, degraded to fresh; rim height = depth / 5
    mound_diameter_median_m: float = 120.0    # median basal diameter of the mounds (m)
    mound_diameter_sigma: float = 0.45        # log-normal spread of the basal diameter (natural log)
    mound_diameter_m: tuple = (30.0, 600.0)   # truncation of the diameter (m); also at most a quarter scene
    height_ratio: tuple = (0.05, 0.2)         # mound height / basal diameter, uniform
    profile_exponent: tuple = (1.0, 2.5)      # h = H (1 - r^p): p = 1 a cone, p = 2 a paraboloid dome
    min_axis_ratio: float = 0.8               # basal ellipse minor/major axis ratio, uniform in [this, 1]
    summit_pit_fraction: float = 0.35         # share of mounds with a summit pit
    pit_diameter_ratio: tuple = (0.15, 0.35)  # pit diameter / basal diameter
    pit_depth_ratio: tuple = (0.2, 0.6)       # pit depth / mound height
    mounds_per_cluster: float = 8.0           # mean number of mounds per cluster (Thomas process)
    cluster_sigma_m: float = 150.0            # Gaussian spread of a cluster around its parent (m)
    min_spacing: float = 1.1                  # centre distance >= this x (sum of the two basal major semi-axes)
    sun_azimuth_deg: float = 270.0            # light from the west, clockwise from north
    sun_elevation_deg: float = 35.0           # sun above the horizon (incidence 55 deg)
    albedo_rms: float = 0.05                  # rms of the smooth relative albedo variation
    mound_albedo: float = 0.04                # relative brightening of mound material
    noise_std: float = 0.02                   # Gaussian image noise (image units, 0-1 scale)
    centre_lon_deg: float = -29.0             # scene centre, east longitude (Acidalia Planitia)
    centre_lat_deg: float = 40.0              # scene centre, planetocentric latitude


def fractal_surface(size, hurst, rng):
    """Zero-mean, unit-rms fractal surface ``(size, size)`` by spectral synthesis.

    White noise is filtered in Fourier space to the power spectrum ``k^-(2H+2)``
    of a fractional Brownian surface with Hurst exponent ``hurst``; the result
    is periodic (it wraps around at the edges).
    """
    ky, kx = np.fft.fftfreq(size)[:, None], np.fft.rfftfreq(size)[None, :]
    k = np.hypot(ky, kx)
    k[0, 0] = np.inf  # no mean
    spectrum = np.fft.rfft2(rng.standard_normal((size, size))) * k ** -(hurst + 1.0)
    surface = np.fft.irfft2(spectrum, s=(size, size))
    return surface / surface.std()


def _local(shape, row, col, reach):
    """Slices of the pixels within ``reach`` of (row, col) and their offsets (rows, cols) from it."""
    r0, r1 = max(0, int(row - reach)), min(shape[0], int(row + reach) + 2)
    c0, c1 = max(0, int(col - reach)), min(shape[1], int(col + reach) + 2)
    d_row, d_col = np.ogrid[r0 - row:r1 - row, c0 - col:c1 - col]
    return (slice(r0, r1), slice(c0, c1)), d_row, d_col


def _add_craters(dtm, pixel_m, p, rng):
    """Add a power-law population of rimmed bowl craters to ``dtm`` in place."""
    area_km2 = dtm.size * pixel_m**2 / 1e6
    d_min, d_max = p.crater_diameter_m
    u = rng.uniform(size=rng.poisson(p.crater_density_km2 * area_km2))
    diameters = d_min * (1 - u * (1 - (d_min / d_max) ** 2)) ** -0.5  # truncated Pareto, slope 2
    for diameter in diameters:
        radius = diameter / 2 / pixel_m
        row, col = rng.uniform(0, dtm.shape[0]), rng.uniform(0, dtm.shape[1])
        depth = diameter * rng.uniform(*p.crater_depth_ratio)
        window, d_row, d_col = _local(dtm.shape, row, col, 3 * radius)
        rho = np.hypot(d_row, d_col) / radius
        outer = np.clip((np.maximum(rho, 1.0) ** -3.0 - 1 / 27) / (1 - 1 / 27), 0, None)
        dtm[window] += np.where(rho < 1, depth * (rho**2 - 1) + depth / 5, depth / 5 * outer)


def _draw_sizes(n, extent_m, p, rng):
    """Basal diameters (m) from the truncated log-normal, largest first."""
    low, high = p.mound_diameter_m[0], min(p.mound_diameter_m[1], extent_m / 4)
    if low >= high:
        raise PlanetMLError(f"scene of {extent_m:.0f} m is too small for mounds of at least {low:.0f} m")
    centre, spread = np.log(p.mound_diameter_median_m), p.mound_diameter_sigma
    bounds = ((np.log(low) - centre) / spread, (np.log(high) - centre) / spread)
    logs = stats.truncnorm.rvs(*bounds, loc=centre, scale=spread, size=n, random_state=rng)
    return np.sort(np.exp(logs))[::-1]


def _place(radii, extent_m, p, rng, max_tries=500):
    """Centres (m from the north-west corner) of mounds reaching ``radii`` from a Thomas process, not touching."""
    n_clusters = max(1, round(len(radii) / p.mounds_per_cluster))
    parents = rng.uniform(0, extent_m, size=(n_clusters, 2))
    centres, clusters = [], []
    for i, radius in enumerate(radii):
        for _ in range(max_tries):
            cluster = int(rng.integers(n_clusters))
            centre = parents[cluster] + rng.normal(0, p.cluster_sigma_m, 2)
            inside = np.all((centre >= radius) & (centre <= extent_m - radius))
            gaps = [np.hypot(*(centre - c)) >= p.min_spacing * (radius + radii[j]) for j, c in enumerate(centres)]
            if inside and all(gaps):
                centres.append(centre)
                clusters.append(cluster)
                break
        else:
            raise PlanetMLError(f"could place only {i} of {len(radii)} mounds; lower n_mounds or enlarge size")
    return np.array(centres).reshape(-1, 2), np.array(clusters, dtype=int)


def _mound_table(n, extent_m, p, rng):
    """Draw the mound population: one row per mound, sizes in metres, centres from the north-west corner."""
    diameters = _draw_sizes(n, extent_m, p, rng)
    axis_ratio = rng.uniform(p.min_axis_ratio, 1.0, size=n)
    centres, clusters = _place(diameters / 2 / np.sqrt(axis_ratio), extent_m, p, rng)  # major semi-axes
    has_pit = rng.uniform(size=n) < p.summit_pit_fraction
    heights = diameters * rng.uniform(*p.height_ratio, size=n)
    return pd.DataFrame({
        "mound_id": np.arange(1, n + 1), "cluster": clusters,
        "south_m": centres[:, 0], "east_m": centres[:, 1], "diameter_m": diameters, "axis_ratio": axis_ratio,
        "orientation_deg": rng.uniform(0, 180, size=n), "height_m": heights,
        "profile_exponent": rng.uniform(*p.profile_exponent, size=n), "has_summit_pit": has_pit,
        "pit_diameter_m": np.where(has_pit, diameters * rng.uniform(*p.pit_diameter_ratio, size=n), 0.0),
        "pit_depth_m": np.where(has_pit, heights * rng.uniform(*p.pit_depth_ratio, size=n), 0.0),
    })


def _stamp_mound(dtm, labels, mound, pixel_m):
    """Add one mound (a row of the mound table) to ``dtm`` and write its id into ``labels``."""
    row, col = mound.south_m / pixel_m - 0.5, mound.east_m / pixel_m - 0.5
    major = mound.diameter_m / 2 / pixel_m / np.sqrt(mound.axis_ratio)  # keeps the mean diameter
    window, d_row, d_col = _local(dtm.shape, row, col, major)
    theta = np.radians(mound.orientation_deg)
    along = d_col * np.cos(theta) - d_row * np.sin(theta)
    across = d_col * np.sin(theta) + d_row * np.cos(theta)
    rho = np.hypot(along / major, across / (major * mound.axis_ratio))
    relief = mound.height_m * np.clip(1 - rho**mound.profile_exponent, 0, None)
    if mound.has_summit_pit:
        pit = np.hypot(d_row, d_col) * pixel_m / (mound.pit_diameter_m / 2)
        relief -= mound.pit_depth_m * np.clip(1 - pit**2, 0, None)
    dtm[window] += relief
    labels[window] = np.where(rho <= 1, mound.mound_id, labels[window])


def _scene_image(dtm, labels, pixel_m, p, rng):
    """Panchromatic image in [0, 1]: hillshade x albedo (mounds brighter) + noise."""
    shade = hillshade(dtm, pixel_m, p.sun_azimuth_deg, p.sun_elevation_deg)
    albedo = 1 + p.albedo_rms * fractal_surface(dtm.shape[0], 0.5, rng) + p.mound_albedo * (labels > 0)
    noisy = shade * albedo + rng.normal(0, p.noise_std, dtm.shape)
    return np.clip(noisy, 0.0, 1.0)


def _georeference(size, pixel_m, p):
    """CRS (WKT) and affine transform (6 numbers) of a north-up scene centred on the given lon/lat."""
    extent = size * pixel_m
    north = float(MARS_RADIUS_M * np.radians(p.centre_lat_deg) + extent / 2)
    transform = (float(pixel_m), 0.0, -extent / 2, 0.0, -float(pixel_m), north)
    return mars_equirectangular_wkt(p.centre_lon_deg, p.centre_lat_deg), transform


def _as_dataset(dtm, image, labels, pixel_m, seed, p):
    """Wrap the scene arrays as a Dataset (y, x) with map coordinates, units and georeference."""
    crs, transform = _georeference(dtm.shape[0], pixel_m, p)
    centres = np.arange(dtm.shape[0]) + 0.5
    geo = {"crs": crs, "transform": transform}
    variables = {
        "dtm": (("y", "x"), dtm.astype(np.float32), {"units": "m", "long_name": "elevation", **geo}),
        "image": (("y", "x"), image.astype(np.float32), {"units": "1", "long_name": "panchromatic reflectance", **geo}),
        "mask": (("y", "x"), (labels > 0).astype(np.uint8), {"units": "1", "long_name": "1 inside mounds", **geo}),
        "mound_id": (("y", "x"), labels, {"units": "1", "long_name": "mound id, 0 outside", **geo}),
    }
    coords = {"y": ("y", transform[5] - pixel_m * centres, {"units": "m"}),
              "x": ("x", transform[2] + pixel_m * centres, {"units": "m"})}
    attrs = {"source": "simulation (planetml_lib.simulate.mars_terrain), not Mars data", "seed": seed,
             "pixel_m": pixel_m, "sun_azimuth_deg": p.sun_azimuth_deg,
             "sun_elevation_deg": p.sun_elevation_deg, **geo}
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def simulate_mound_field(size=512, pixel_m=5.0, n_mounds=40, seed=0, params=MoundFieldParameters()):
    """Simulate a Mars scene with a clustered mound field, its image and its labels.

    **A simulation**, see the module docstring for what is and is not modelled.

    Parameters
    ----------
    size : int, default 512
        Scene side in pixels (square scene).
    pixel_m : float, default 5.0
        Pixel size in metres (5 m: a HiRISE DTM downsampled; CTX DTMs are 18-24 m).
    n_mounds : int, default 40
        Number of mounds; PlanetMLError if they cannot all be placed without touching.
    seed : int, default 0
        Seed of everything random; the same arguments give the same scene.
    params : MoundFieldParameters
        Terrain, mound, illumination and noise settings.

    Returns
    -------
    scene : xr.Dataset
        Variables on ``(y, x)`` (north-up, map metres at pixel centres): ``dtm``
        (float32, m), ``image`` (float32, 0-1), ``mask`` (uint8, 1 inside a mound
        base) and ``mound_id`` (int32, row ``mound_id`` of the table, 0 outside).
        Each variable and the Dataset carry ``crs`` (Mars equirectangular WKT)
        and ``transform`` in ``attrs``, so
        :func:`planetml_lib.io.geotiff.write_geotiff` writes them.
    mounds : pd.DataFrame
        One row per mound: ``mound_id``, ``cluster``, ``x``, ``y`` (map m),
        ``diameter_m`` (mean basal diameter), ``axis_ratio``,
        ``orientation_deg``, ``height_m`` (above the local terrain, without the
        pit), ``profile_exponent``, ``has_summit_pit``, ``pit_diameter_m``,
        ``pit_depth_m`` (0 without a pit).

    Examples
    --------
    >>> scene, mounds = simulate_mound_field(size=128, n_mounds=5, seed=1)
    >>> scene["dtm"].shape, len(mounds), sorted(np.unique(scene["mask"]).tolist())
    ((128, 128), 5, [0, 1])
    """
    if not (isinstance(size, (int, np.integer)) and size >= 16 and pixel_m > 0 and n_mounds >= 0):
        raise PlanetMLError(f"need size >= 16 pixels, pixel_m > 0 and n_mounds >= 0, got {size}, {pixel_m}, {n_mounds}")
    rng = np.random.default_rng(seed)
    extent = size * pixel_m
    yy, xx = np.mgrid[0:size, 0:size] * pixel_m
    azimuth = rng.uniform(0, 2 * np.pi)
    tilt = np.tan(np.radians(params.regional_slope_deg)) * (xx * np.sin(azimuth) - yy * np.cos(azimuth))
    dtm = params.relief_rms_m * fractal_surface(size, params.hurst, rng) + tilt
    _add_craters(dtm, pixel_m, params, rng)
    table = _mound_table(n_mounds, extent, params, rng)
    labels = np.zeros((size, size), dtype=np.int32)
    for mound in table.itertuples():
        _stamp_mound(dtm, labels, mound, pixel_m)
    scene = _as_dataset(dtm, _scene_image(dtm, labels, pixel_m, params, rng), labels, pixel_m, seed, params)
    mounds = table.assign(x=scene.x.values[0] - pixel_m / 2 + table["east_m"],
                          y=scene.y.values[0] + pixel_m / 2 - table["south_m"])
    columns = ["mound_id", "cluster", "x", "y"] + list(table.columns[4:])
    return scene, mounds[columns]
