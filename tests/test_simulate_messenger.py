"""Tests for the MESSENGER simulator (planetml_lib.simulate): contract, labels, physics, seeds and speed."""

import dataclasses
import time

import numpy as np
import pytest
import xarray as xr

from planetml_lib.datasets import load_catalog, load_messenger_orbits
from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.mercury import IMF, MP, MSH, MSP, SK, add_boundary_features, crossings_to_regions
from planetml_lib.simulate import SimulationParameters, complete_orbits, make_messenger, simulate_orbit, simulate_orbits
from planetml_lib.testing import assert_timeseries_contract

CROSSINGS = load_catalog("philpott2020")
ORBITS = load_messenger_orbits()
ORBIT = 1000  # an 8-h orbit of 2012 with its four traversals


@pytest.fixture(scope="module")
def orbit_ds():
    return simulate_orbit(ORBIT, CROSSINGS, cadence="5s", seed=3, orbit_table=ORBITS)


def test_contract_and_metadata(orbit_ds):
    assert_timeseries_contract(orbit_ds)
    row = ORBITS[ORBITS["orbit"] == ORBIT].iloc[0]
    time_index = orbit_ds.indexes["time"]
    assert time_index[0] >= row["start"] and time_index[-1] < row["end"]
    assert (np.diff(time_index.asi8) == 5_000_000_000).all()
    assert set(orbit_ds.data_vars) == {"bx", "by", "bz", "dbx", "dby", "dbz", "x_mso", "y_mso", "z_mso", "navg",
                                       "region"}
    assert orbit_ds["region"].dtype == np.int8 and orbit_ds["region"].attrs["flag_meanings"] == "IMF SK MSh MP MSp"
    assert (orbit_ds["orbit"] == ORBIT).all() and int(orbit_ds["navg"][0]) == 100
    assert orbit_ds.attrs["spacecraft"] == "MESSENGER" and orbit_ds.attrs["frame"] == "MSO"
    assert orbit_ds.attrs["cadence"] == "5s" and "SIMULATION" in orbit_ds.attrs["source"]
    assert (orbit_ds["dbx"] > 0).all()


def test_labels_are_the_real_crossings(orbit_ds):
    expected = crossings_to_regions(CROSSINGS[CROSSINGS["orbit"] == ORBIT], orbit_ds["time"].values)
    np.testing.assert_array_equal(orbit_ds["region"].values, expected)


def test_region_fractions_are_plausible(orbit_ds):
    fractions = np.bincount(orbit_ds["region"].values, minlength=5) / orbit_ds.sizes["time"]
    assert fractions[SK] < 0.05 and fractions[MP] < 0.05  # crossings are rare
    assert fractions[[SK, MP]].min() > 0.002
    assert fractions[IMF] > 0.4 and fractions[MSH] > 0.05 and fractions[MSP] > 0.05


def test_field_strength_by_region(orbit_ds):
    features = add_boundary_features(orbit_ds)
    b_mag, region = features["b_mag"].values, orbit_ds["region"].values
    near_periapsis = (np.abs(features["t_periapsis_h"].values) < 0.2) & (region == MSP)
    imf = np.median(b_mag[region == IMF])
    assert 10 < imf < 60  # Parker-spiral IMF at Mercury, ~20-40 nT
    assert np.median(b_mag[near_periapsis]) > 5 * imf  # planetary field near periapsis
    assert np.median(b_mag[region == MSH]) > 1.5 * imf  # compressed behind the bow shock
    fluctuation = features["b_mag_std_60s"].values
    assert np.median(fluctuation[region == MSH]) > 2 * np.median(fluctuation[region == IMF])


def test_orbit_follows_the_real_crossing_positions(orbit_ds):
    events = CROSSINGS[CROSSINGS["orbit"] == ORBIT]
    simulated = np.stack([orbit_ds[c].sel(time=events["start"].to_numpy(), method="nearest").values
                          for c in ("x_mso", "y_mso", "z_mso")])
    error = np.linalg.norm(simulated.T - events[["x_mso_km", "y_mso_km", "z_mso_km"]].to_numpy(), axis=1)
    assert error.max() < 1000  # km, of positions 4,000-11,000 km from Mercury
    r_km = np.linalg.norm(np.stack([orbit_ds[c].values for c in ("x_mso", "y_mso", "z_mso")]), axis=0)
    assert 2440 + 200 < r_km.min() < 2440 + 500 and 12000 < r_km.max() < 13500  # 8-h orbit: apoapsis ~10,300 km alt


def test_seeds_reproduce_and_differ():
    one = simulate_orbit(ORBIT, CROSSINGS, cadence="60s", seed=1, orbit_table=ORBITS)
    xr.testing.assert_identical(one, simulate_orbit(ORBIT, CROSSINGS, cadence="60s", seed=1, orbit_table=ORBITS))
    other = simulate_orbit(ORBIT, CROSSINGS, cadence="60s", seed=2, orbit_table=ORBITS)
    assert not np.allclose(one["bx"], other["bx"])
    np.testing.assert_array_equal(one["region"], other["region"])
    np.testing.assert_array_equal(one["x_mso"], other["x_mso"])


def test_several_orbits_equal_single_ones():
    both = simulate_orbits([1001, 1000], CROSSINGS, cadence="60s", seed=4, orbit_table=ORBITS)
    assert set(np.unique(both["orbit"])) == {1000, 1001} and both.indexes["time"].is_monotonic_increasing
    single = simulate_orbit(1001, CROSSINGS, cadence="60s", seed=4, orbit_table=ORBITS)
    xr.testing.assert_identical(both.sel(time=both["orbit"] == 1001), single)


def test_parameters_change_the_physics():
    calm = dataclasses.replace(SimulationParameters(), imf_turbulence=0.0, sheath_turbulence=0.0,
                               magnetosphere_noise_nt=0.0, instrument_noise_nt=0.0, boundary_wobble=0.0)
    ds = simulate_orbit(ORBIT, CROSSINGS, cadence="60s", parameters=calm, orbit_table=ORBITS)
    imf = ds.sel(time=ds["region"] == IMF)
    assert float(imf["bx"].std()) < 1e-9  # a steady Parker-spiral field without turbulence
    assert abs(np.degrees(np.arctan2(abs(float(imf["by"][0])), abs(float(imf["bx"][0])))) - 20) < 6


def test_one_second_orbit_is_fast():
    simulate_orbit(12, CROSSINGS, cadence="1s", orbit_table=ORBITS)  # warm up KT17 and caches
    start = time.perf_counter()
    ds = simulate_orbit(12, CROSSINGS, cadence="1s", orbit_table=ORBITS)
    assert ds.sizes["time"] == 43440 and time.perf_counter() - start < 2.0


def test_make_messenger():
    ds = make_messenger(n_orbits=2, seed=5, cadence="60s")
    orbits = np.unique(ds["orbit"])
    assert len(orbits) == 2 and orbits[1] == orbits[0] + 1
    assert set(orbits) <= set(complete_orbits(CROSSINGS, ORBITS).tolist())
    xr.testing.assert_identical(ds, make_messenger(n_orbits=2, seed=5, cadence="60s"))
    assert not np.array_equal(np.unique(make_messenger(n_orbits=1, seed=6, cadence="60s")["orbit"]), orbits[:1])


def test_errors_are_one_line():
    with pytest.raises(PlanetMLError, match=r"orbit 140 is not in the orbit table \(orbits 11-4104, with gaps\)"):
        simulate_orbit(140, CROSSINGS, orbit_table=ORBITS)
    with pytest.raises(PlanetMLError, match="cadence='fast' is not a time step"):
        simulate_orbit(ORBIT, CROSSINGS, cadence="fast", orbit_table=ORBITS)
    with pytest.raises(PlanetMLError, match="orbits is empty"):
        simulate_orbits([], CROSSINGS)
    with pytest.raises(PlanetMLError, match="n_orbits=0"):
        make_messenger(n_orbits=0)
