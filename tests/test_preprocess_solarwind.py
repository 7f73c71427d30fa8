"""Tests for planetml_lib.preprocess.solarwind: constants, formulas, the STEREO CSV and the Wind sample."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from astropy import constants
from astropy import units as u

from planetml_lib.datasets import load_sample
from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.solarwind import (
    BETA_PER_NT_B2,
    FEATURES,
    KELVIN_PER_W2,
    MAGNETIC_FEATURES,
    NPA_PER_NV2,
    add_derived_features,
    expected_temperature,
    scale_field,
)
from planetml_lib.testing import assert_timeseries_contract


def series(**columns):
    """A small Dataset on a 10-min grid with the package's units."""
    units = {"bx": "nT", "by": "nT", "bz": "nT", "bt": "nT", "vx": "km/s", "vy": "km/s", "vz": "km/s",
             "vt": "km/s", "vth": "km/s", "np": "cm^-3", "tp": "K"}
    time = pd.date_range("2024-05-10", periods=len(next(iter(columns.values()))), freq="10min")
    data = {name: ("time", np.asarray(values, float), {"units": units[name]}) for name, values in columns.items()}
    return xr.Dataset(data, coords={"time": time})


def test_constants_match_astropy_and_textbook_values():
    beta = 2 * constants.mu0 * constants.k_B * (1 * u.cm**-3) * (1 * u.K) / (1 * u.nT) ** 2
    assert BETA_PER_NT_B2 == pytest.approx(beta.decompose().value, rel=1e-12)
    assert BETA_PER_NT_B2 == pytest.approx(3.4699e-5, rel=1e-4)
    assert NPA_PER_NV2 == pytest.approx(1.6726e-6, rel=1e-4)
    assert KELVIN_PER_W2 == pytest.approx(60.57, rel=1e-4)
    assert FEATURES[:4] == MAGNETIC_FEATURES and len(FEATURES) == 10


def test_expected_temperature_lopez_1987():
    np.testing.assert_allclose(expected_temperature([300.0, 499.0, 500.0, 700.0, np.nan]),
                               [(0.031 * 300 - 5.1) ** 2 * 1e3, (0.031 * 499 - 5.1) ** 2 * 1e3, 113e3, 215e3, np.nan])


def test_add_derived_features_by_hand():
    ds = series(bx=[3.0, np.nan], by=[4.0, 1.0], bz=[0.0, 1.0], vx=[-400.0, -600.0], vy=[0.0, 0.0],
                vz=[300.0, 0.0], vth=[50.0, 100.0], np=[10.0, 4.0])
    out = add_derived_features(ds)
    np.testing.assert_allclose(out["bt"].values, [5.0, np.nan])
    np.testing.assert_allclose(out["vt"].values, [500.0, 600.0])
    tp = KELVIN_PER_W2 * np.array([2500.0, 10000.0])
    np.testing.assert_allclose(out["tp"].values, tp)
    assert out["tp"].values[0] == pytest.approx(151_434, rel=1e-4)  # W = 50 km/s is T = 1.5e5 K
    np.testing.assert_allclose(out["beta"].values, [3.46995e-5 * 10 * tp[0] / 25, np.nan], rtol=1e-5)
    np.testing.assert_allclose(out["pdyn_nPa"].values, [1.67262e-6 * 10 * 500**2, 1.67262e-6 * 4 * 600**2], rtol=1e-5)
    np.testing.assert_allclose(out["texrat"].values, tp / np.array([113e3, 164e3]))
    assert out["beta"].attrs["units"] == "1" and out["pdyn_nPa"].attrs["units"] == "nPa"
    assert out["tp"].attrs["formula"] == "m_p vth^2 / (2 k_B)"
    assert "bt" not in ds  # input untouched


def test_existing_variables_are_kept_and_missing_inputs_skipped():
    ds = series(bx=[3.0], by=[4.0], bz=[0.0], bt=[7.0])
    out = add_derived_features(ds)
    assert out["bt"].item() == 7.0
    assert set(out.data_vars) == set(ds.data_vars)


def test_wrong_units_are_refused():
    ds = series(np=[5.0], vt=[400.0], tp=[10.0])
    ds["tp"].attrs["units"] = "eV"
    with pytest.raises(PlanetMLError, match="variable 'tp' has units 'eV'; derived features need 'K'"):
        add_derived_features(ds)


def test_formulas_reproduce_the_stereo_csv():
    """pdyn and texrat agree; beta agrees where the field is steady within the 10 min (see module docstring)."""
    csv = load_sample("stereoa_2019").to_dataframe()
    ours = add_derived_features(load_sample("stereoa_2019").drop_vars(["beta", "pdyn_nPa", "texrat"])).to_dataframe()
    np.testing.assert_allclose(ours["pdyn_nPa"], csv["pdyn_nPa"], rtol=1e-4)  # the CSV used m_p = 1.6726e-27 kg
    texrat = csv["texrat"] / ours["texrat"]
    assert texrat.median() == pytest.approx(1.0, abs=1e-4) and (abs(texrat - 1) < 0.01).mean() > 0.8
    beta = csv["beta"] / ours["beta"]
    steady = np.sqrt(csv.bx**2 + csv.by**2 + csv.bz**2) / csv.bt > 0.999  # |<B>| = <|B|>: B barely varies
    assert beta[steady].median() == pytest.approx(1.0, abs=2e-3)
    assert (abs(beta[steady] - 1) < 0.01).mean() > 0.85
    # The CSV averaged beta computed at native cadence, and a mean of n T / B^2 exceeds n T / B^2 of the means.
    assert beta.median() == pytest.approx(1.005, abs=2e-3) and (beta > 0.999).mean() > 0.9


def test_wind_sample_has_every_feature_and_the_shock():
    ds = load_sample("wind_2024_05")
    assert_timeseries_contract(ds)
    assert {"spacecraft": "Wind", "frame": "GSM", "cadence": "10min"}.items() <= ds.attrs.items()
    assert set(FEATURES) <= set(ds.data_vars) and ds.sizes["time"] == 367
    before = ds.sel(time=slice("2024-05-10T16:00", "2024-05-10T16:20"))
    after = ds.sel(time=slice("2024-05-10T16:40", "2024-05-10T17:10"))
    assert float(before["bt"].max()) < 7 and float(after["bt"].min()) > 20
    assert float(before["np"].max()) < 25 and float(after["np"].min()) > 30
    assert 445 < float(before["vt"].mean()) < 455 and 680 < float(after["vt"].mean()) < 720
    assert float(before["tp"].max()) < 1.5e5 and float(after["tp"].min()) > 7e5
    assert float(after["pdyn_nPa"].min()) > 3 * float(before["pdyn_nPa"].max())
    assert np.isfinite(ds["beta"].sel(time="2024-05-11")).all()
    assert ds["vt"].attrs == {"units": "km/s", "long_name": "proton bulk speed", "formula": "sqrt(vx^2 + vy^2 + vz^2)"}
    assert ds["bx"].attrs["frame"] == "GSM" and "frame" not in ds["pdyn_nPa"].attrs


def test_scale_field_keeps_beta_consistent_with_the_field():
    ds = add_derived_features(load_sample("stereob_2013_2014").isel(time=slice(0, 500)))
    scaled = scale_field(ds, 0.6)
    for name in MAGNETIC_FEATURES:
        np.testing.assert_allclose(scaled[name], 0.6 * ds[name])
    beta = lambda d: BETA_PER_NT_B2 * d["np"] * d["tp"] / d["bt"] ** 2  # noqa: E731
    np.testing.assert_allclose(scaled["beta"] / beta(scaled), ds["beta"] / beta(ds))  # same n T / B² relation
    for name in ("vt", "np", "tp", "pdyn_nPa", "texrat"):
        xr.testing.assert_identical(scaled[name], ds[name])
    assert scaled["bt"].attrs == ds["bt"].attrs


def test_scale_field_rejects_a_non_positive_factor():
    ds = series(bt=[5.0])
    with pytest.raises(PlanetMLError, match="positive"):
        scale_field(ds, 0.0)
