"""Spectra onto the model grid, band analysis, mineral targets and groups, scores, baselines."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.minerals import mineral_scores
from planetml_lib.io.spectra import read_spectra_csv, read_spectrum_json
from planetml_lib.models.spectral_baselines import angle_neighbours, band_forest, pca_forest
from planetml_lib.preprocess.bands import band_parameters, continuum_removed, spectral_angle, upper_hull
from planetml_lib.preprocess.mineralogy import mineral_targets, physical_sample_groups
from planetml_lib.preprocess.spectra import GRID_NM, prepare_spectra

DATA = Path(__file__).parent / "data"
RELAB = DATA / "relab_spectra_excerpt.csv"


def spectra(wavelength, rows, **coords):
    return xr.Dataset({"reflectance": (("sample", "wavelength"), np.asarray(rows, dtype=float))},
                      coords={"wavelength": ("wavelength", np.asarray(wavelength, dtype=float), {"units": "nm"}),
                              **{k: ("sample", v) for k, v in coords.items()}})


def test_unsorted_repeated_percent_and_micrometre_spectra_prepare_alike():
    relab = read_spectra_csv(RELAB).isel(sample=[0])
    reference = prepare_spectra(relab)
    np.testing.assert_allclose(reference["reflectance"].values, relab["reflectance"].values, atol=1e-12)
    order = np.random.default_rng(0).permutation(relab.sizes["wavelength"])
    shuffled = relab.isel(wavelength=np.concatenate([order, order[:20]]))  # unsorted, 20 wavelengths twice
    in_percent = shuffled.assign(reflectance=shuffled["reflectance"] * 100 * 0.2)  # and darker
    np.testing.assert_allclose(prepare_spectra(in_percent)["reflectance"].values, reference["reflectance"].values)
    from_json = prepare_spectra(read_spectrum_json(DATA / "spectrum_olivine_um.json"))
    np.testing.assert_allclose(from_json["reflectance"].values, reference["reflectance"].values, atol=0.01)


def test_gaps_are_interpolated_but_a_short_spectrum_is_refused_by_name():
    wavelength = np.arange(400.0, 2501.0, 10.0)
    ds = spectra(wavelength, [np.linspace(0.2, 0.4, wavelength.size)], SpectrumID=["s1"])
    ds["reflectance"][0, 30:40] = np.nan
    ds["reflectance"][0, 50] = -0.1  # a negative point is missing
    prepared = prepare_spectra(ds, normalise_at=None)
    np.testing.assert_allclose(prepared["reflectance"].values[0], np.interp(GRID_NM, wavelength,
                                                                             np.linspace(0.2, 0.4, wavelength.size)))
    with pytest.raises(PlanetMLError, match=r"SpectrumID s1 covers 400-2000 nm; the model needs 450-2450 nm"):
        prepare_spectra(ds.sel(wavelength=slice(None, 2000)))


def test_upper_hull_and_continuum_removal_find_synthetic_bands():
    wavelength = GRID_NM
    continuum = 0.3 + 1e-4 * (wavelength - 450)
    bands = (1 - 0.4 * np.exp(-0.5 * ((wavelength - 1000) / 60) ** 2)
             - 0.2 * np.exp(-0.5 * ((wavelength - 2000) / 120) ** 2))
    ds = spectra(wavelength, [continuum * bands])
    np.testing.assert_allclose(upper_hull(wavelength, continuum), continuum)
    removed = continuum_removed(ds).values[0]
    assert removed.max() == pytest.approx(1.0) and removed.min() == pytest.approx(0.6, abs=0.01)
    parameters = band_parameters(ds).iloc[0]
    assert parameters["band_I_centre_nm"] == pytest.approx(1000, abs=3)
    assert parameters["band_II_centre_nm"] == pytest.approx(2000, abs=5)
    assert parameters["band_I_depth"] == pytest.approx(0.4, abs=0.02)
    assert parameters["band_area_ratio"] == pytest.approx((0.2 * 120) / (0.4 * 60), rel=0.15)


def test_real_olivine_and_pyroxene_bands_sit_where_the_literature_puts_them():
    ds = prepare_spectra(read_spectra_csv(RELAB))
    parameters = band_parameters(ds)
    olivine, opx = parameters.iloc[0], parameters.iloc[1]  # the excerpt's first rows (tests/data/README.md)
    assert 1040 < olivine["band_I_centre_nm"] < 1080 and olivine["band_area_ratio"] < 0.2
    assert 900 < opx["band_I_centre_nm"] < 950 and 1850 < opx["band_II_centre_nm"] < 1950
    assert opx["band_area_ratio"] > 1.0


def test_spectral_angle_ignores_brightness():
    a = np.array([[1.0, 2.0, 3.0]])
    assert spectral_angle(a, 2.5 * a)[0, 0] == pytest.approx(0.0, abs=1e-7)
    assert spectral_angle(a, np.array([[3.0, 2.0, 1.0]]))[0, 0] > 0.5


def test_sub_samples_and_same_names_share_a_group():
    ds = spectra([1, 2, 3], np.ones((5, 3)), SampleID=["MB-CMP-001", "MB-CMP-001-P2", "XX-AAA-002", "YY-B-7", "Z-Z-9"],
                 SampleName=["a", "b", "c", "C ", "d"])
    groups = physical_sample_groups(ds)
    assert groups[0] == groups[1] and groups[2] == groups[3] and len(set(groups)) == 3


def test_targets_sum_to_one_and_chemistry_needs_the_mineral():
    targets = mineral_targets(read_spectra_csv(RELAB))
    np.testing.assert_allclose(targets[["OL_vol", "OPX_vol", "CPX_vol", "PLG_vol"]].sum(axis=1), 1.0)
    olivine = targets.iloc[0]
    assert olivine["OL_present"] == 1 and olivine["OPX_present"] == 0 and np.isnan(olivine["OPX_Fs"])
    assert 0 < olivine["OL_Fa"] < 1


def test_scores_of_a_perfect_and_of_a_wrong_prediction():
    truth = mineral_targets(read_spectra_csv(RELAB))
    perfect = mineral_scores(truth, truth).set_index(["metric", "class"])["value"]
    assert perfect[("exact_match", "all")] == 1 and perfect[("RMSE_pp", "mean_vol")] == 0
    wrong = truth.copy()
    wrong["OL_vol"] = truth["OL_vol"] + 0.1
    wrong["OL_present"] = 1 - truth["OL_present"]
    scores = mineral_scores(truth, wrong).set_index(["metric", "class"])["value"]
    assert scores[("exact_match", "all")] == 0 and scores[("RMSE_pp", "OL_vol")] == pytest.approx(10.0)
    assert scores[("F1_micro", "all")] < 1


@pytest.mark.parametrize("make", [lambda w: angle_neighbours(k=1), lambda w: pca_forest(n_components=3, n_estimators=5),
                                  lambda w: band_forest(w, n_estimators=5)])
def test_baselines_predict_volumes_that_sum_to_one(make):
    ds = prepare_spectra(read_spectra_csv(RELAB))
    targets = mineral_targets(ds)
    model = make(ds["wavelength"].values).fit(ds["reflectance"].values, targets)
    predicted = model.predict(ds["reflectance"].values)
    np.testing.assert_allclose(predicted[["OL_vol", "OPX_vol", "CPX_vol", "PLG_vol"]].sum(axis=1), 1.0)
    assert list(predicted.columns) == list(pd.Index(targets.columns))


def test_angle_matching_returns_the_training_spectrum_itself():
    ds = prepare_spectra(read_spectra_csv(RELAB))
    targets = mineral_targets(ds)
    model = angle_neighbours(k=1).fit(ds["reflectance"].values, targets)
    predicted = model.predict(ds["reflectance"].values)
    np.testing.assert_allclose(predicted["OL_vol"], targets["OL_vol"])
