"""Tests for planetml_lib.datasets: shipped STEREO and Wind samples, ICMECAT, Philpott crossings, MESSENGER orbits."""

import numpy as np
import pandas as pd
import pytest

from planetml_lib.datasets import (
    DATA_DIR,
    list_samples,
    load_catalog,
    load_messenger_orbits,
    load_real_messenger,
    load_sample,
    real_messenger_manifest,
    sample_files,
)
from planetml_lib.errors import PlanetMLError
from planetml_lib.testing import assert_events_contract, assert_timeseries_contract


def test_list_samples_points_to_existing_files():
    samples = list_samples()
    assert list(samples.columns) == ["name", "kind", "description", "file", "case"]
    assert set(samples["name"]) == {"omni2_1998_2018", "stereoa_2019", "stereob_2013_2014", "wind_2024_05",
                                    "simulated_dtm", "messenger_orbit_1230", "asteroids_busdemeo",
                                    "simulated_csa_c1", "icmecat", "omni2_icmes", "philpott2020", "cluster_crossings"}
    assert all(path.exists() for path in samples["file"])  # wind_2024_05 is a folder of CDF files
    assert (DATA_DIR / "README.md").is_file()


def test_sample_files_of_a_case():
    assert [path.suffix for path in sample_files("wind_2024_05", "icme")] == [".cdf", ".cdf"]
    with pytest.raises(PlanetMLError, match="'wind_2024_05' is a sample of case 'icme'; samples of minerals: "
                                            "asteroids_busdemeo"):
        sample_files("wind_2024_05", "minerals")


def test_samples_of_other_cases_load_with_their_reader():
    assert load_sample("simulated_dtm")["dtm"].shape == (320, 320)
    orbit = load_sample("messenger_orbit_1230")
    assert orbit.attrs["spacecraft"] == "MESSENGER" and 1230 in orbit["orbit"].values


@pytest.mark.parametrize(
    ("name", "spacecraft", "n_rows", "first", "frame", "cadence"),
    [
        ("stereoa_2019", "STEREO-A", 47104, "2019-01-01T00:10", "SCEQ", "10min"),
        ("stereob_2013_2014", "STEREO-B", 86016, "2013-01-01T00:10", "SCEQ", "10min"),
        ("omni2_1998_2018", "OMNI", 184080, "1998-01-01T00:00", "HEEQ", "1h"),
    ],
)
def test_load_sample(name, spacecraft, n_rows, first, frame, cadence):
    ds = load_sample(name)
    assert_timeseries_contract(ds)
    assert ds.sizes["time"] == n_rows
    assert ds["time"].values[0] == np.datetime64(first)
    assert ds["time"].to_index().is_monotonic_increasing
    assert ds.attrs["spacecraft"] == spacecraft
    assert ds.attrs["frame"] == frame
    assert ds.attrs["cadence"] == cadence
    assert ds["vt"].attrs["units"] == "km/s"
    assert 250 < float(ds["vt"].median()) < 600
    assert set(np.unique(ds["icme_label"].values)) == {0, 1}


def test_sample_labels_match_the_catalogue():
    ds = load_sample("stereoa_2019")
    events = load_catalog("icmecat", spacecraft=ds.attrs["spacecraft"])
    time = ds["time"].to_index()
    inside = np.zeros(len(time), dtype=bool)
    for start, end in zip(events["start"], events["end"], strict=True):
        inside |= (time >= start) & (time <= end)
    assert inside.sum() > 1000
    np.testing.assert_array_equal(ds["icme_label"].values == 1, inside)


def test_load_catalog():
    events = load_catalog("icmecat")
    assert_events_contract(events)
    assert len(events) == 739
    assert events["spacecraft"].value_counts()["STEREO-A"] == 209


def test_unknown_names_list_valid_choices():
    valid = ("asteroids_busdemeo, messenger_orbit_1230, omni2_1998_2018, simulated_csa_c1, simulated_dtm, "
             "stereoa_2019, stereob_2013_2014, wind_2024_05")
    with pytest.raises(PlanetMLError, match=f"unknown sample 'wind'; valid: {valid}"):
        load_sample("wind")
    with pytest.raises(PlanetMLError, match="valid: cluster_crossings, icmecat, omni2_icmes, philpott2020"):
        load_catalog("donki")


def test_load_philpott_catalog_from_gzip():
    crossings = load_catalog("philpott2020")
    assert_events_contract(crossings)
    assert len(crossings) == 16239 and crossings["orbit"].nunique() == 4080
    assert crossings["label"].value_counts().to_dict() == {
        "magnetopause_in": 4076, "bow_shock_in": 4057, "magnetopause_out": 4055, "bow_shock_out": 4051}
    first = crossings.iloc[0]
    assert (first["start"], first["end"], first["label"], first["orbit"]) == (
        pd.Timestamp("2011-03-23 23:47:02.700"), pd.Timestamp("2011-03-23 23:59:44.400"), "bow_shock_in", 12)
    assert first["x_mso_km"] == pytest.approx(6275.334)
    with pytest.raises(PlanetMLError, match="catalog 'philpott2020' has no spacecraft selection"):
        load_catalog("philpott2020", spacecraft="MESSENGER")


def test_load_messenger_orbits():
    orbits = load_messenger_orbits()
    assert_events_contract(orbits)
    assert len(orbits) == 4076 and orbits["orbit"].is_unique and orbits["orbit"].dtype == np.int64
    assert orbits["orbit"].min() == 11 and orbits["orbit"].max() == 4104
    assert (orbits["start"].iloc[1:].to_numpy() >= orbits["end"].iloc[:-1].to_numpy()).all()  # no overlaps
    hours = (orbits["end"] - orbits["start"]).dt.total_seconds() / 3600
    assert hours.median() == pytest.approx(7.92, abs=0.01) and hours.max() == pytest.approx(12.07, abs=0.01)
    last = orbits.iloc[-1]
    assert (last["start"], last["end"]) == (pd.Timestamp("2015-04-30 07:00:44"), pd.Timestamp("2015-04-30 15:01:55"))


def test_real_messenger_orbits_load_with_their_orbit_numbers():
    ds = load_real_messenger([990, 4091])
    counts = ds["orbit"].to_series().value_counts()
    assert counts.to_dict() == {4091: 3006, 990: 2879} and ds.attrs["frame"] == "MSO"
    assert "real" in ds.attrs["source"] and "messenger_mag_10s_2012.csv.xz" in ds.attrs["source"]
    manifest = real_messenger_manifest().set_index("orbit")
    first = ds.isel(time=ds["orbit"].values == 990)["time"].values
    assert first[0] >= manifest.loc[990, "start"] and first[-1] <= manifest.loc[990, "end"]


def test_real_messenger_60s_orbits_come_from_pds_tables():
    ds = load_real_messenger([1230], cadence="60s")
    assert set(ds["orbit"].values) == {1230} and ds.sizes["time"] == 480 and ds.attrs["cadence"] == "60s"


@pytest.mark.parametrize(("orbits", "cadence", "message"), [
    ([990, 5000], "10s", r"\[5000\] not shipped"),
    ([20], "60s", r"\[20\] not shipped"),
    (None, "1s", "no real MESSENGER orbits at cadence '1s'"),
])
def test_unshipped_real_orbits_are_refused(orbits, cadence, message):
    with pytest.raises(PlanetMLError, match=message):
        load_real_messenger(orbits, cadence)
