"""Tests for the Cluster bow-shock simulator (planetml_lib.simulate.cluster): contract, truth, physics, families."""

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import planetml_lib
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.catalogs import read_cluster_crossings
from planetml_lib.preprocess import earth_boundaries as eb
from planetml_lib.simulate import cluster as cl

START = "2004-02-10 06:00"
REAL = Path(planetml_lib.__file__).parent / "data" / "cluster" / "cluster_bowshock_crossings_2001_2014.txt.xz"
QUIET = dataclasses.replace(
    cl.TRAINING_FAMILY, family="quiet", solar_wind_turbulence=(0.0, 0.0), sheath_turbulence=(0.0, 0.0),
    foreshock_amplitude=(0.0, 0.0), overshoot=(0.0, 0.0), b_noise_nt=(1e-9, 1e-9), moment_noise=(0.0, 0.0),
    calibration_offset_nt=(0.0, 0.0), moment_bias=(0.0, 0.0), gap_fraction=(0.0, 0.0), ramp_width_km=(100.0, 100.0),
    cone_deg=(0.0, 5.0), imf_rotation_deg=(0.0, 1.0), pdyn_jump_log_size=(0.0, 0.0))  # no pressure jumps


@pytest.fixture(scope="module")
def coarse():
    return cl.simulate_pass(cl.TRAINING_FAMILY, START, seed=1, cadence="60s")


@pytest.fixture(scope="module")
def fine():
    return cl.simulate_pass(cl.TRAINING_FAMILY, START, seed=1, cadence="4s")


@pytest.fixture(scope="module")
def quiet():
    return cl.simulate_pass(QUIET, "2005-03-01 00:00", seed=4, cadence="4s")


def test_contract(coarse):
    ds, crossings = coarse
    assert ds["bx"].dims == ("spacecraft", "time") and ds["spacecraft"].values.tolist() == ["C1", "C2", "C3", "C4"]
    assert ds.sizes["time"] == 720 and ds["time"].dtype == np.dtype("datetime64[ns]")
    units = {"bx": "nT", "b_mag": "nT", "x_gse": "R_E", "density": "cm^-3", "vx": "km/s", "temperature": "MK"}
    assert all(ds[name].attrs["units"] == unit for name, unit in units.items())
    assert all("units" in ds[name].attrs for name in ds.data_vars)
    assert ds["region"].dtype == np.int8 and set(np.unique(ds["region"])) <= {0, 1, 2, 3}
    assert ds.attrs["spacecraft"] == "Cluster" and ds.attrs["frame"] == "GSE" and ds.attrs["seed"] == 1
    assert ds.attrs["source"] == "simulation (planetml_lib.simulate.cluster, family training)"
    assert list(crossings.columns) == ["start", "end", "label", "spacecraft", "direction", "x_gse", "y_gse", "z_gse",
                                       "normal_x", "normal_y", "normal_z", "speed_km_s", "theta_bn_deg"]
    assert (crossings["start"] == crossings["end"]).all() and crossings["start"].is_monotonic_increasing
    shock = crossings[crossings["label"] == "bow_shock"]
    assert set(shock["spacecraft"]) == {"C1", "C2", "C3", "C4"}  # the pass holds the bow shock
    normals = crossings[["normal_x", "normal_y", "normal_z"]].to_numpy()
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0)
    # where the surface moves faster than the spacecraft (2 km/s), it moves outward past one that ends up upstream
    # (this pass's shock stands still between two pressure jumps: the orbit carries it; see test_shock_speed)
    moving = shock[shock["speed_km_s"].abs() > 2]
    assert ((moving["speed_km_s"] < 0) == (moving["direction"] == "outbound")).all()


def test_deterministic_per_seed(coarse):
    ds, crossings = cl.simulate_pass(cl.TRAINING_FAMILY, START, seed=1)
    assert ds.identical(coarse[0])
    pd.testing.assert_frame_equal(crossings, coarse[1])
    other, _ = cl.simulate_pass(cl.TRAINING_FAMILY, START, seed=2)
    assert not np.allclose(other["x_gse"], ds["x_gse"])


def test_truth_independent_of_cadence(coarse, fine):
    pd.testing.assert_frame_equal(coarse[1], fine[1])
    common = fine[0].sel(time=coarse[0]["time"])
    np.testing.assert_array_equal(common["region"], coarse[0]["region"])
    np.testing.assert_allclose(common["x_gse"], coarse[0]["x_gse"])


def _sides(crossings, craft, label, times, first_side):
    """Side of a boundary at each time from the first side and the crossings' parity."""
    mine = crossings[(crossings["spacecraft"] == craft) & (crossings["label"] == label)]
    n_before = np.searchsorted(mine["start"].to_numpy(), times, side="right")
    return first_side ^ (n_before % 2 == 1)


@pytest.mark.parametrize("which", ["coarse", "fine"])
def test_regions_follow_the_truth_crossings(which, request):
    ds, crossings = request.getfixturevalue(which)
    times = ds["time"].to_numpy()
    for k, craft in enumerate(cl.SPACECRAFT):
        region = ds["region"].values[k]
        upstream = _sides(crossings, craft, "bow_shock", times, region[0] <= cl.FORESHOCK)
        inside = _sides(crossings, craft, "magnetopause", times, region[0] == cl.MAGNETOSPHERE)
        np.testing.assert_array_equal(upstream, region <= cl.FORESHOCK)
        np.testing.assert_array_equal(inside, region == cl.MAGNETOSPHERE)
        mine = crossings[(crossings["spacecraft"] == craft) & (crossings["label"] == "bow_shock")]
        after = np.searchsorted(times, mine["start"].to_numpy())
        after = after < len(times)
        entered = region[np.searchsorted(times, mine["start"].to_numpy()[after])]
        # a sample right after an inbound crossing (and before any next one) is downstream, mostly
        assert ((entered >= cl.MAGNETOSHEATH) == (mine["direction"].to_numpy()[after] == "inbound")).mean() > 0.8


def test_rankine_hugoniot_jumps(quiet):
    ds, crossings = quiet
    r = ds.attrs["compression_ratio"]
    shock = crossings[(crossings["label"] == "bow_shock") & (crossings["spacecraft"] == "C1")]
    gaps = np.diff(shock["start"].to_numpy()) / np.timedelta64(1, "s")
    isolated = shock[np.r_[np.inf, gaps] > 900] [np.r_[gaps, np.inf][np.r_[np.inf, gaps] > 900] > 900]
    assert len(isolated) >= 1
    c1 = ds.sel(spacecraft="C1")
    for _, row in isolated.iterrows():  # without pressure jumps the orbit carries C1 through the ramp at ~1 km/s
        before, after = (c1.sel(time=row["start"] + pd.Timedelta(seconds=s), method="nearest") for s in (-450, 450))
        up, down = (before, after) if row["direction"] == "inbound" else (after, before)
        assert int(up["region"]) <= cl.FORESHOCK and int(down["region"]) == cl.MAGNETOSHEATH
        assert float(down["density"] / up["density"]) == pytest.approx(r, rel=0.1)
        angle = np.radians(row["theta_bn_deg"])
        expected = np.sqrt(np.cos(angle) ** 2 + r**2 * np.sin(angle) ** 2)
        assert float(down["b_mag"] / up["b_mag"]) == pytest.approx(expected, rel=0.15)
        assert 1.0 < float(down["b_mag"] / up["b_mag"]) < r + 0.1
        assert float(down["temperature"] / up["temperature"]) == pytest.approx(
            float(cl.temperature_ratio(ds.attrs["mach"])), rel=0.05)


@pytest.mark.parametrize(("cone", "seed"), [((0.0, 5.0), 4), ((20.0, 40.0), 2)])
def test_foreshock_only_upstream_of_quasi_parallel_shock(cone, seed):
    oblique = dataclasses.replace(QUIET, cone_deg=cone, imf_rotation_deg=(10.0, 20.0))
    ds, _ = cl.simulate_pass(oblique, "2005-03-01 00:00", seed=seed, cadence="20s")
    region = ds["region"].values
    assert (region == cl.FORESHOCK).any() and (region == cl.SOLAR_WIND).any()
    position = np.stack([ds[name].values for name in ("x_gse", "y_gse", "z_gse")])
    field = np.stack([ds[name].values for name in ("bx", "by", "bz")])
    normal = eb.shock_normal(position, ds.attrs["shock_eps"], ds.attrs["shock_focus_re"], ds.attrs["speed_km_s"])
    angle = eb.theta_bn(field, normal)
    # quiet: the IMF's strength is constant; away from the ramp the measured upstream field is the IMF
    strength = ds["b_mag"].values
    pristine = np.abs(strength / np.median(strength[region <= cl.FORESHOCK]) - 1) < 0.01
    assert (pristine & (region == cl.FORESHOCK)).sum() > 20
    assert (angle[pristine & (region == cl.FORESHOCK)] < 45.0).all()
    perpendicular = dataclasses.replace(QUIET, cone_deg=(90.0, 90.0), clock_deg=(90.0, 90.0))
    ds, crossings = cl.simulate_pass(perpendicular, "2005-03-01 00:00", seed=4, cadence="60s")
    assert (crossings["theta_bn_deg"] > 60).all() and not (ds["region"] == cl.FORESHOCK).any()


def test_heldout_family_lies_outside_training():
    train, held = cl.TRAINING_FAMILY, cl.HELDOUT_FAMILY
    assert held.family != train.family
    assert held.mach[1] <= train.mach[0] and held.shock_eps[0] > train.shock_eps[1]
    assert held.imf_nt[1] > train.imf_nt[1] and held.b_noise_nt[0] >= train.b_noise_nt[1]
    assert held.gap_fraction[0] >= train.gap_fraction[1]
    ds, crossings = cl.simulate_pass(held, "2006-03-01", seed=0)
    assert held.mach[0] <= ds.attrs["mach"] <= held.mach[1] and "fast_wind_low_mach" in ds.attrs["source"]
    assert held.shock_eps[0] <= ds.attrs["shock_eps"] <= held.shock_eps[1]
    assert (crossings["label"] == "bow_shock").any()


def test_nan_in_gaps():
    gappy = dataclasses.replace(cl.TRAINING_FAMILY, gap_fraction=(0.3, 0.3))
    ds, _ = cl.simulate_pass(gappy, START, seed=3)
    gap = ds["bx"].isnull()
    assert 0.05 < float(gap.mean()) < 0.7
    for name in ("by", "bz", "b_mag", "density", "vx", "temperature"):
        np.testing.assert_array_equal(ds[name].isnull(), gap)
    assert not ds["x_gse"].isnull().any()
    assert not cl.simulate_pass(cl.TRAINING_FAMILY, START, seed=3)[0]["bx"].isnull().all()


def test_pass_plan_follows_the_real_years():
    real = read_cluster_crossings(REAL)
    stats = cl.crossing_statistics(real)
    assert stats["per_year"][2004] == 451 and stats["n_reference"] == 1942
    assert stats["within_10_min"] == pytest.approx(0.20, abs=0.01)
    assert stats["within_60_min"] == pytest.approx(0.53, abs=0.01)
    assert abs(stats["delay_quantiles_s"][0.5]) <= 2
    plan = cl.pass_plan(real, range(2001, 2015), 150, seed=0)
    counts = plan["year"].value_counts()
    assert len(plan) == 150 and (counts >= 1).all() and set(counts.index) == set(range(2001, 2015))
    expected = pd.Series(stats["per_year"]) / 1942 * (150 - 14) + 1
    assert (np.abs(counts.sort_index() - expected.sort_index()) <= 1.01).all()
    assert (np.diff(plan["start"].to_numpy()) >= np.timedelta64(12, "h")).all()
    c1 = pd.DatetimeIndex(real.loc[real["spacecraft"] == "C1", "start"])
    nearest = [np.abs(c1 - t).min() for t in plan["start"]]
    assert max(nearest) <= pd.Timedelta("9h")


def test_simulate_passes_and_statistics():
    starts = ["2004-02-10 06:00", "2004-02-13 06:00"]
    ds, crossings = cl.simulate_passes(cl.TRAINING_FAMILY, starts[::-1], seed=1, cadence="60s")
    assert ds["pass_id"].dims == ("time",) and ds.sizes["time"] == 1440
    assert sorted(set(crossings["pass_id"])) == [0, 1]
    single, truth = cl.simulate_pass(cl.TRAINING_FAMILY, starts[1], seed=1)
    pd.testing.assert_frame_equal(crossings[crossings["pass_id"] == 1].drop(columns="pass_id").reset_index(drop=True),
                                  truth)
    np.testing.assert_array_equal(ds["bx"].values[:, 720:], single["bx"].values)
    stats = cl.crossing_statistics(crossings)
    assert stats["per_year"] == {2004: stats["n_reference"]} and 0 <= stats["within_10_min"] <= 1
    with pytest.raises(PlanetMLError, match="overlap"):
        cl.simulate_passes(cl.TRAINING_FAMILY, ["2004-02-10 06:00", "2004-02-10 12:00"], seed=1)
    with pytest.raises(PlanetMLError, match="whole number"):
        cl.simulate_pass(cl.TRAINING_FAMILY, START, seed=1, cadence="0.5s")


def test_speed():
    cl.simulate_pass(cl.TRAINING_FAMILY, START, seed=5)
    tic = time.perf_counter()
    cl.simulate_pass(cl.TRAINING_FAMILY, START, seed=6)
    assert time.perf_counter() - tic < 0.5


def test_pass_plan_keeps_every_pass_inside_its_year_even_where_the_list_is_thin():
    real = read_cluster_crossings(REAL)
    plan = cl.pass_plan(real, [2005, 2009], 80, seed=1)  # 2009 lists 21 crossings, 2005 lists 288
    end = plan["start"] + pd.Timedelta("12h")
    assert (plan["start"].dt.year == plan["year"]).all() and (end.dt.year == plan["year"]).all()
    assert plan["start"].dt.month.isin(real["start"].dt.month.unique()).all()  # the dayside seasons of the list
    assert (plan["start"].diff().dropna() >= pd.Timedelta("12h")).all()


def test_separations_follow_the_year_table():
    for start, season in (("2002-03-01", 2002), ("2003-12-05", 2004), ("2007-02-01", 2007), ("1999-01-01", 2001)):
        assert cl.separation_range_km(cl.TRAINING_FAMILY, start) == cl.CLUSTER_SEPARATIONS_KM[season]
    for start in ("2002-03-01", "2007-02-01", "2011-01-15"):
        low, high = cl.CLUSTER_SEPARATIONS_KM[pd.Timestamp(start).year]
        for seed in range(3):
            ds, _ = cl.simulate_pass(cl.TRAINING_FAMILY, start, seed=seed, duration="2h", cadence="600s")
            position = np.stack([ds[name].values[:, 0] for name in ("x_gse", "y_gse", "z_gse")], axis=1)
            edges = np.linalg.norm(position[1:] - position[0], axis=1) * eb.EARTH_RADIUS_KM
            assert 0.8 * low / 1.3 <= np.median(edges) and edges.max() <= 1.25 * high
    assert cl.separation_range_km(cl.HELDOUT_FAMILY, "2002-03-01") == (100.0, 10000.0)


def test_shock_speed_is_tens_of_km_s():
    starts = ["2004-02-10 06:00", "2005-03-01 00:00", "2007-02-01 00:00", "2010-01-20 00:00", "2013-03-05 00:00"]
    _, crossings = cl.simulate_passes(cl.TRAINING_FAMILY, starts, seed=2, cadence="600s")
    shock = crossings[crossings["label"] == "bow_shock"]
    assert len(shock) >= 8 and shock["speed_km_s"].abs().median() > 10.0
    moving = shock[shock["speed_km_s"].abs() > 2]
    assert ((moving["speed_km_s"] < 0) == (moving["direction"] == "outbound")).mean() > 0.9
