"""Tests for planetml_lib.datasets (the shipped STEREO samples and ICMECAT)."""

import numpy as np
import pytest

from planetml_lib.datasets import DATA_DIR, list_samples, load_catalog, load_sample
from planetml_lib.errors import PlanetMLError
from planetml_lib.testing import assert_events_contract, assert_timeseries_contract


def test_list_samples_points_to_existing_files():
    samples = list_samples()
    assert list(samples.columns) == ["name", "kind", "description", "file"]
    assert set(samples["name"]) == {"stereoa_2019", "stereob_2013_2014", "wind_2024_05", "icmecat"}
    assert all(path.exists() for path in samples["file"])  # wind_2024_05 is a folder of CDF files
    assert (DATA_DIR / "README.md").is_file()


@pytest.mark.parametrize(
    ("name", "spacecraft", "n_rows", "first"),
    [
        ("stereoa_2019", "STEREO-A", 47104, "2019-01-01T00:10"),
        ("stereob_2013_2014", "STEREO-B", 86016, "2013-01-01T00:10"),
    ],
)
def test_load_sample(name, spacecraft, n_rows, first):
    ds = load_sample(name)
    assert_timeseries_contract(ds)
    assert ds.sizes["time"] == n_rows
    assert ds["time"].values[0] == np.datetime64(first)
    assert ds["time"].to_index().is_monotonic_increasing
    assert ds.attrs["spacecraft"] == spacecraft
    assert ds.attrs["frame"] == "SCEQ"
    assert ds.attrs["cadence"] == "10min"
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
    with pytest.raises(
        PlanetMLError, match="unknown sample 'wind'; valid: stereoa_2019, stereob_2013_2014, wind_2024_05"
    ):
        load_sample("wind")
    with pytest.raises(PlanetMLError, match="valid: icmecat"):
        load_catalog("donki")
