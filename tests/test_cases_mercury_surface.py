"""The Mercury surface case beyond the shared contract: simulator, pipeline pieces, unit maps, cube input."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import rasterio

from planetml_lib.cases import mercury_surface as case
from planetml_lib.cases.kinds import data_role
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.unit_maps import read_unit_map, unit_raster, write_unit_map
from planetml_lib.models.surface_units import (
    UnitClassifier,
    choose_n_components,
    embed,
    fit_ica,
    noise_level,
    order_by_reflectance,
    reconstruction_residuals,
)
from planetml_lib.simulate.mercury_surface import HELDOUT_FAMILY, UNIT_NAMES, WAVELENGTHS, simulate_surface_cube


@pytest.fixture(scope="module")
def planet():
    return simulate_surface_cube(3, resolution_deg=5.0)


def test_the_simulated_planet_has_every_unit_polar_caps_and_unobserved_cells(planet):
    units = planet["unit"]
    assert set(np.unique(units)) == {-1, *range(len(UNIT_NAMES))}
    polar = units.where(units >= 0).sel(lat=slice(-90, -75))  # the north cap may lie under the northern plains
    assert float((polar == UNIT_NAMES.index("polar")).sum() / polar.notnull().sum()) > 0.8
    assert np.isnan(planet["reflectance"].values[:, units.values == -1]).all()
    reflectance_700 = planet["reflectance"].sel(wavelength=700, method="nearest")
    assert 0.03 < float(reflectance_700.median()) < 0.1
    red = planet["reflectance"].sel(wavelength=900, method="nearest") > planet["reflectance"].sel(
        wavelength=400, method="nearest")
    assert float(red.where(units >= 0).mean()) > 0.95  # Mercury's spectra are red


def test_the_heldout_family_is_noisier_than_the_training_family():
    estimates = {}
    for family in ("training", HELDOUT_FAMILY.name):
        cube = simulate_surface_cube(1, family, resolution_deg=6.0)
        estimates[family] = noise_level(case.cube_cells(cube)[0])
    assert estimates[HELDOUT_FAMILY.name] > 1.5 * estimates["training"]


def test_noise_and_the_number_of_components_follow_the_mixture():
    rng = np.random.default_rng(0)
    members = np.stack([np.linspace(0.04, 0.08, 60), np.linspace(0.06, 0.07, 60), 0.05 + 0.01 * np.sin(
        np.linspace(0, 3, 60))])
    spectra = rng.dirichlet(np.ones(3), 2000) @ members + rng.normal(0, 0.0005, (2000, 60))
    noise = noise_level(spectra)
    assert noise == pytest.approx(0.0005, rel=0.1)
    residuals = reconstruction_residuals(spectra, max_components=6)
    assert choose_n_components(residuals, noise, margin=1.05) == 2  # three end-members, summing to one


def test_units_are_numbered_from_the_darkest():
    labels = np.array([5, 5, 2, 2, 9])
    assert order_by_reflectance(labels, np.array([0.9, 0.8, 0.1, 0.2, 0.5])).tolist() == [2, 2, 0, 0, 1]


def test_umaps_numba_functions_are_cached_on_disk_so_later_processes_skip_compiling():
    import umap

    points = np.random.default_rng(0).random((40, 3))
    assert embed(points).shape == (40, 2)
    assert umap.layouts._nb_optimize_layout_euclidean_single_epoch.stats.cache_path is not None
    assert umap.umap_.smooth_knn_dist.stats.cache_path is not None


def test_the_classifier_reproduces_the_ica_sources_and_votes_the_nearest_units():
    rng = np.random.default_rng(1)
    spectra = rng.normal(size=(300, 8)).astype(np.float32)
    ica = fit_ica(spectra, 3)
    sources = ica.transform(spectra)
    units = (sources[:, 0] > 0).astype(int)
    model = UnitClassifier(8, 2, 3, 300, n_neighbors=1).set_state(ica, sources, units)
    import torch

    with torch.no_grad():
        np.testing.assert_allclose(model.sources(torch.as_tensor(spectra)).numpy(), sources, atol=1e-4)
        assert (model(torch.as_tensor(spectra)).argmax(1).numpy() == units).all()


def test_a_unit_map_round_trips_through_geotiff_and_csv_on_mercurys_sphere(tmp_path):
    cells = pd.DataFrame({"lat": [-1.5, -1.5, 1.5], "lon": [0.5, 3.5, 3.5], "unit": [0, 2, 1],
                          "confidence": [1.0, 0.6, 0.8]})
    tif = write_unit_map(cells, tmp_path / "units.tif")
    with rasterio.open(tif) as src:
        wkt = src.crs.to_wkt()  # GeoTIFF keeps the sphere and the axes, not the IAU code
        assert 'SPHEROID["Mercury (2015) - Sphere",2440530,0' in wkt and 'AXIS["Longitude",EAST]' in wkt
        assert (src.width, src.height, src.nodata) == (2, 2, -1)
    back = read_unit_map(tif).sort_values(["lat", "lon"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, cells.drop(columns="confidence"), check_dtype=False)
    pd.testing.assert_frame_equal(read_unit_map(write_unit_map(cells, tmp_path / "units.csv")), cells)
    assert unit_raster(cells).values.tolist() == [[-1, 1], [0, 2]]


def test_unit_maps_refuse_other_suffixes_and_tables_without_units(tmp_path):
    with pytest.raises(PlanetMLError, match="written as .tif or .csv"):
        write_unit_map(pd.DataFrame({"lat": [0], "lon": [0], "unit": [0]}), tmp_path / "units.png")
    (tmp_path / "bad.csv").write_text("lat,lon,unit\n1,2,three\n")
    with pytest.raises(PlanetMLError, match="'unit' holds a value that is not a number"):
        read_unit_map(tmp_path / "bad.csv")


def test_the_splits_are_disjoint_longitude_blocks_and_roles_follow_them(fast_case):
    run = fast_case("mercury_surface")
    observed = {split: np.isfinite(cube["reflectance"]).any(["wavelength", "lat"]).values
                for split, cube in run.data.items()}
    assert not (observed["train"] & observed["test"]).any() and not (observed["validation"] & observed["test"]).any()
    assert data_role(run.trained.metadata, run.data["validation"]) == "validation"
    other_planet = case.load_data(dataclasses.replace(run.trained.config, seed=99))["train"]
    assert data_role(run.trained.metadata, other_planet) == "held-out"


def test_a_cube_written_and_read_back_predicts_the_same_units(fast_case, tmp_path):
    run = fast_case("mercury_surface")
    path = case.example_input(tmp_path)[0]
    cube = case.read_input([path])
    assert "unit" not in cube  # the example leaves the truth out
    expected = case.predict(run.trained, run.data["test"]).values
    np.testing.assert_array_equal(case.predict(run.trained, cube).values.values, expected.values)


def test_a_cube_on_another_wavelength_grid_is_interpolated_and_one_without_valid_cells_is_refused(fast_case):
    run = fast_case("mercury_surface")
    test = run.data["test"]
    finer = test.interp(wavelength=np.linspace(WAVELENGTHS[0], WAVELENGTHS[-1], 300))
    agreement = (case.predict(run.trained, finer).values == case.predict(run.trained, test).values).mean()
    assert float(agreement) > 0.95
    with pytest.raises(PlanetMLError, match="no cell of the cube has a complete, non-negative spectrum"):
        case.predict(run.trained, test.assign(reflectance=-test["reflectance"]))


def test_a_file_that_is_not_a_cube_is_named(tmp_path):
    (tmp_path / "cube.nc").write_text("not netcdf")
    with pytest.raises(PlanetMLError, match="cube.nc: not a netCDF cube"):
        case.read_input([tmp_path / "cube.nc"])
    with pytest.raises(PlanetMLError, match="not both or several cubes"):
        case.read_input([tmp_path / "cube.nc", tmp_path / "other.nc"])


def test_evaluate_needs_a_true_unit_map(fast_case):
    run = fast_case("mercury_surface")
    with pytest.raises(PlanetMLError, match="no true unit map"):
        case.evaluate(run.trained, run.data["test"].drop_vars("unit"))


def test_the_command_maps_the_real_orbit_gridded_at_one_degree_to_a_geotiff(fast_case, tmp_path, capsys):
    from planetml_lib.cli import main

    run = fast_case("mercury_surface")
    output = tmp_path / "units.tif"
    args = ["predict", "mascs", "--model", str(run.folder), "--input", str(case.REAL_ORBIT), "--output", str(output)]
    assert main(args) == 0
    cells = read_unit_map(output)
    real = case.read_input([case.REAL_ORBIT])  # the orbit's footprints, gridded
    assert len(cells) == int((real["n_spectra"] > 0).sum()) > 20
    assert cells["lat"].between(-60, 15).all() and cells["lon"].between(40, 75).all()
    assert f"{len(cells)} cells written to" in capsys.readouterr().out
    assert data_role(run.trained.metadata, real) == "held-out"
