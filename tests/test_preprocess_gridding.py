"""Gridding MASCS VIRS-like spectra into Mercury cubes: filters, resampling, medians, the dask path."""

import dask
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.gridding import grid_spectra, lazy_spectra, quality_mask, resample_wavelengths
from planetml_lib.simulate.mercury_surface import simulate_surface_cube

GRID = np.array([300.0, 500.0, 700.0, 900.0])


def spectra_at(reflectance, lat, lon, incidence=None, emission=None, wavelength=GRID):
    """Spectra in the reader's layout with given values, angles low unless given."""
    n = len(lat)
    return xr.Dataset(
        {"reflectance": (("sample", "wavelength"), np.asarray(reflectance, np.float32))},
        coords={"wavelength": ("wavelength", wavelength, {"units": "nm"}), "lat": ("sample", np.asarray(lat, float)),
                "lon": ("sample", np.asarray(lon, float)),
                "incidence": ("sample", np.full(n, 30.0) if incidence is None else np.asarray(incidence, float)),
                "emission": ("sample", np.full(n, 10.0) if emission is None else np.asarray(emission, float)),
                "phase": ("sample", np.full(n, 40.0)),
                "time": ("sample", pd.date_range("2012-01-01", periods=n, freq="s"))},
        attrs={"source": "synthetic"})


def random_spectra(seed, n=600):
    """SIMULATED spectra over the globe: red-sloped, noisy, 64 channels over 300-1050 nm, some fills."""
    rng = np.random.default_rng(seed)
    wavelength = np.linspace(300.0, 1050.0, 64)
    albedo = rng.uniform(0.03, 0.09, (n, 1))
    reflectance = albedo * (1 + (wavelength - 700) / 700) + rng.normal(0, 0.002, (n, 64))
    reflectance[rng.uniform(size=(n, 64)) < 0.02] = np.nan
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    return spectra_at(reflectance, lat, rng.uniform(-20, 380, n), rng.uniform(0, 90, n), rng.uniform(0, 90, n),
                      wavelength)


def test_cell_median_of_its_spectra_and_counts():
    spectra = spectra_at([[0.01, 0.02, 0.03, 0.04], [0.03, 0.04, 0.05, 0.06],
                          [0.02, 0.02, 0.02, 0.02], [0.10, 0.10, 0.10, np.nan], [0.00, 0.01, 0.50, 0.50]],
                         lat=[10.2, 10.8, -45.5, -45.4, -45.9], lon=[20.1, 20.9, 100.5, 100.5, 100.1])
    cube = grid_spectra(spectra, wavelengths=GRID)
    two = cube["reflectance"].sel(lat=10.5, lon=20.5).values
    three = cube["reflectance"].sel(lat=-45.5, lon=100.5).values
    np.testing.assert_allclose(two, [0.02, 0.03, 0.04, 0.05], rtol=1e-6)
    np.testing.assert_allclose(three, [0.02, 0.02, 0.10, 0.26], rtol=1e-6)  # median, not mean; NaN ignored
    assert cube["n_spectra"].sel(lat=10.5, lon=20.5) == 2 and cube["n_spectra"].sel(lat=-45.5, lon=100.5) == 3
    assert int(cube["n_spectra"].sum()) == 5 and int(np.isfinite(cube["reflectance"][0]).sum()) == 2


def test_cube_layout_follows_the_simulator():
    spectra = spectra_at([[0.05] * 4], lat=[0.0], lon=[0.0])
    cube = grid_spectra(spectra, resolution_deg=10, wavelengths=GRID)
    simulated = simulate_surface_cube(0, resolution_deg=10, wavelengths=GRID)
    assert cube["reflectance"].dims == ("wavelength", "lat", "lon") and cube["reflectance"].dtype == np.float32
    assert cube["n_spectra"].dims == ("lat", "lon") and cube["n_spectra"].dtype == np.int32
    for name in ("wavelength", "lat", "lon"):
        xr.testing.assert_identical(cube[name], simulated[name])
    assert cube.attrs["target"] == "Mercury" and cube.attrs["resolution_deg"] == 10.0
    assert cube.attrs["source"] == "synthetic" and cube.attrs["n_spectra_gridded"] == 1


def test_high_incidence_or_emission_is_dropped():
    spectra = spectra_at([[0.02] * 4, [0.9] * 4, [0.5] * 4], lat=[0.5, 0.5, 30.5], lon=[0.5, 0.5, 30.5],
                         incidence=[30.0, 85.0, 20.0], emission=[10.0, 10.0, 80.0])
    assert quality_mask(spectra).values.tolist() == [True, False, False]
    cube = grid_spectra(spectra, wavelengths=GRID)
    np.testing.assert_allclose(cube["reflectance"].sel(lat=0.5, lon=0.5), 0.02, rtol=1e-6)
    assert int(cube["n_spectra"].sum()) == 1 and np.isnan(cube["reflectance"].sel(lat=30.5, lon=30.5)).all()


def test_empty_negative_and_unlocated_spectra_are_dropped():
    spectra = spectra_at([[np.nan] * 4, [-0.01, -0.02, 0.01, -0.01], [0.02] * 4, [0.02] * 4, [0.02] * 4],
                         lat=[0.0, 0.0, np.nan, 95.0, 0.0], lon=[0.0, 0.0, 0.0, 0.0, np.nan])
    assert not quality_mask(spectra).values.any()


def test_longitudes_outside_0_360_wrap():
    spectra = spectra_at([[0.01] * 4, [0.02] * 4], lat=[0.5, 0.5], lon=[360.2, -0.5])
    cube = grid_spectra(spectra, wavelengths=GRID)
    assert cube["n_spectra"].sel(lat=0.5, lon=0.5) == 1 and cube["n_spectra"].sel(lat=0.5, lon=359.5) == 1
    np.testing.assert_allclose(cube["reflectance"].sel(lat=0.5, lon=[0.5, 359.5])[0], [0.01, 0.02], rtol=1e-6)


def test_resampling_matches_np_interp_in_memory_and_lazily():
    spectra = random_spectra(1, n=50).isel(wavelength=slice(5, 60))  # measured 360-1000 nm: NaN outside
    spectra["reflectance"][:] = np.nan_to_num(spectra["reflectance"].values, nan=0.04)
    target = np.linspace(268.0, 975.0, 102)
    expected = [np.interp(target, spectra["wavelength"], row, left=np.nan, right=np.nan)
                for row in spectra["reflectance"].values]
    resampled = resample_wavelengths(spectra, target)
    np.testing.assert_allclose(resampled["reflectance"].values, expected, rtol=1e-6)
    assert resampled["reflectance"].dtype == np.float32 and resampled["lat"].equals(spectra["lat"])
    lazy = resample_wavelengths(spectra.chunk(sample=20), target)
    assert lazy["reflectance"].chunks is not None
    np.testing.assert_array_equal(lazy["reflectance"].values, resampled["reflectance"].values)


def test_dask_path_gives_exactly_the_in_memory_cube():
    seeds, reads = [3, 4, 5, 6, 7], []

    def reader(seed):
        reads.append(seed)
        return random_spectra(seed)

    lazy = lazy_spectra(seeds, reader, n_samples=[600] * 5)
    assert reads == [3] and lazy["reflectance"].chunksizes["sample"] == (600,) * 5
    in_memory = xr.concat([random_spectra(seed) for seed in seeds], "sample")
    with dask.config.set(scheduler="threads", num_workers=2):
        cube = grid_spectra(lazy, resolution_deg=10)
    assert sorted(reads[1:]) == seeds  # every file read once, when computed
    expected = grid_spectra(in_memory, resolution_deg=10)
    assert 500 < expected.attrs["n_spectra_gridded"] < 3000 and expected["n_spectra"].max() > 3
    xr.testing.assert_identical(cube, expected)
    xr.testing.assert_identical(grid_spectra(in_memory.chunk(sample=700), resolution_deg=10), expected)


def test_lazy_spectra_counts_samples_itself_and_checks_them():
    lazy = lazy_spectra([8, 9], lambda seed: random_spectra(seed, n=seed))
    assert lazy["reflectance"].chunksizes["sample"] == (8, 9) and lazy["time"].dtype.kind == "M"
    wrong = lazy_spectra([8, 9], lambda seed: random_spectra(seed, n=seed), n_samples=[8, 10])
    with pytest.raises(PlanetMLError, match="9 spectra on 64 wavelengths, expected 10"):
        wrong["reflectance"].compute()


@pytest.mark.parametrize("chunked", [False, True])
def test_nothing_passing_the_filters_is_one_clear_line(chunked):
    spectra = spectra_at([[0.02] * 4] * 3, lat=[0.0] * 3, lon=[0.0] * 3, incidence=[85.0, 89.0, 30.0],
                         emission=[10.0, 10.0, 81.0])
    with pytest.raises(PlanetMLError) as error:
        grid_spectra(spectra.chunk(sample=2) if chunked else spectra, wavelengths=GRID)
    message = str(error.value)
    assert "none of 3 spectra pass" in message and "incidence < 80 and emission < 80" in message
    assert "\n" not in message


def test_missing_coordinates_are_named():
    spectra = spectra_at([[0.02] * 4], lat=[0.0], lon=[0.0]).drop_vars(["incidence", "emission"])
    with pytest.raises(PlanetMLError, match="spectra lack incidence, emission") as error:
        grid_spectra(spectra)
    assert "\n" not in str(error.value)
    with pytest.raises(PlanetMLError, match="resolution_deg must be positive"):
        grid_spectra(spectra_at([[0.02] * 4], lat=[0.0], lon=[0.0]), resolution_deg=0)
