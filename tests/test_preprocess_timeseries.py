"""Tests for planetml_lib.preprocess.timeseries."""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess import (
    DatasetScaler,
    from_windows,
    regularize,
    split_by_time,
    to_cadence,
    to_windows,
)


def make_series(values, freq="10min", start="2019-01-01", **extra):
    """Small contract Dataset with variable bt (nT) and optional extra variables."""
    values = np.asarray(values, dtype=float)
    t = pd.date_range(start, periods=values.size, freq=freq)
    data = {"bt": ("time", values, {"units": "nT"})}
    data.update({name: ("time", np.asarray(v)) for name, v in extra.items()})
    return xr.Dataset(data, coords={"time": t}, attrs={"spacecraft": "STEREO-A"})


# --- regularize ------------------------------------------------------------

def test_regularize_snaps_jitter_and_inserts_gap_rows():
    t = pd.to_datetime(["2019-01-01 00:02", "2019-01-01 00:08", "2019-01-01 00:19",
                        "2019-01-01 00:51"])
    ds = xr.Dataset({"bt": ("time", [1.0, 2.0, 3.0, 4.0], {"units": "nT"}),
                     "icme_label": ("time", np.array([0, 1, 1, 0], dtype="int8"))},
                    coords={"time": t}, attrs={"spacecraft": "STEREO-A"})
    out = regularize(ds, "10min")
    assert out.time.dtype == "datetime64[ns]"
    assert out.time.values[0] == np.datetime64("2019-01-01T00:00")
    np.testing.assert_array_equal(out.bt.values, [1, 2, 3, np.nan, np.nan, 4])
    assert out.valid.dtype == bool
    assert out.valid.values.tolist() == [True, True, True, False, False, True]
    assert np.isnan(out.icme_label.values[3]) and out.icme_label.values[1] == 1
    assert out.bt.attrs["units"] == "nT"
    assert out.attrs["spacecraft"] == "STEREO-A" and out.attrs["cadence"] == "10min"


def test_regularize_marks_nan_samples_invalid_and_keeps_input_valid():
    ds = make_series([1.0, np.nan, 3.0, 4.0], vt=[400.0, 410.0, np.nan, 420.0],
                     valid=[True, True, True, False])
    out = regularize(ds, "10min")
    assert out.valid.values.tolist() == [True, False, False, False]


def test_regularize_refuses_two_samples_in_one_cell_and_bad_freq():
    t = pd.to_datetime(["2019-01-01 00:00", "2019-01-01 00:04", "2019-01-01 00:20"])
    ds = xr.Dataset({"bt": ("time", [1.0, 2.0, 3.0])}, coords={"time": t})
    with pytest.raises(PlanetMLError, match="grid point 2019-01-01 00:00"):
        regularize(ds, "10min")
    with pytest.raises(PlanetMLError, match="not a fixed frequency"):
        regularize(ds, "MS")
    with pytest.raises(PlanetMLError, match="empty"):
        regularize(ds.isel(time=slice(0, 0)), "10min")


# --- DatasetScaler -------------------------------------------------------------

def test_standard_scaler_ignores_nan_and_round_trips():
    values = np.array([1.0, 2.0, np.nan, 4.0, 8.0])
    ds = make_series(values, vt=np.full(5, 400.0))
    scaler = DatasetScaler(variables=["bt", "vt"])
    assert scaler.fit(ds) is scaler
    assert scaler.mean_["bt"] == pytest.approx(3.75)
    assert scaler.scale_["bt"] == pytest.approx(np.nanstd(values))
    assert scaler.scale_["vt"] == 1.0  # zero spread -> scale 1
    out = scaler.transform(ds)
    np.testing.assert_allclose(out.bt.values, (values - 3.75) / np.nanstd(values))
    np.testing.assert_allclose(out.vt.values, 0.0)
    assert out.bt.attrs["units"] == "nT"
    xr.testing.assert_allclose(scaler.inverse_transform(out), ds)


def test_robust_scaler_uses_median_and_iqr():
    ds = make_series([1.0, 2.0, 3.0, 4.0, 100.0])
    scaler = DatasetScaler(method="robust").fit(ds)
    assert scaler.variables_ == ["bt"]
    assert scaler.mean_["bt"] == 3.0
    assert scaler.scale_["bt"] == 2.0  # 75th (4) - 25th (2) percentile
    assert scaler.transform(ds).bt.values[-1] == pytest.approx(48.5)


def test_scaler_keeps_float32_and_default_variables_skip_labels():
    ds = make_series([1.0, 2.0, 3.0], icme_label=np.array([0, 1, 0], dtype="int8"))
    ds["bt"] = ds.bt.astype("float32")
    out = DatasetScaler().fit(ds).transform(ds)
    assert out.bt.dtype == np.float32
    assert out.icme_label.values.tolist() == [0, 1, 0]


def test_scaler_state_survives_json():
    ds = make_series([1.0, 5.0, 9.0])
    scaler = DatasetScaler(method="robust").fit(ds)
    state = json.loads(json.dumps(scaler.get_state()))
    restored = DatasetScaler.from_state(state)
    assert restored.method == "robust"
    xr.testing.assert_allclose(restored.transform(ds), scaler.transform(ds))


def test_scaler_errors():
    ds = make_series([1.0, 2.0])
    with pytest.raises(PlanetMLError, match="not fitted"):
        DatasetScaler().transform(ds)
    with pytest.raises(PlanetMLError, match="unknown scaling method 'minmax'"):
        DatasetScaler(method="minmax").fit(ds)
    with pytest.raises(PlanetMLError, match=r"\['np'\] not in dataset"):
        DatasetScaler(variables=["bt", "np"]).fit(ds)
    with pytest.raises(PlanetMLError, match="'bt' has no finite values"):
        DatasetScaler().fit(make_series([np.nan, np.nan]))
    with pytest.raises(PlanetMLError, match="lacks key"):
        DatasetScaler.from_state({"method": "standard"})


# --- split_by_time -------------------------------------------------------------

def test_split_by_time_years_and_lists_of_ranges():
    ds = make_series(np.arange(36.0), freq="MS", start="2013-01-01")
    parts = split_by_time(ds, train=[("2013", "2013-06"), (2015, 2015)],
                          validation=("2013-07", "2013-12"), test=("2014-01-01", "2014-12-31"))
    assert list(parts) == ["train", "validation", "test"]
    assert parts["train"].sizes["time"] == 18
    assert parts["validation"].bt.values.tolist() == [6, 7, 8, 9, 10, 11]
    assert parts["test"].sizes["time"] == 12


def test_split_by_time_refuses_overlap_empty_and_reversed():
    ds = make_series(np.arange(24.0), freq="MS", start="2013-01-01")
    with pytest.raises(PlanetMLError, match="'train' and 'test' overlap"):
        split_by_time(ds, train=("2013", "2014-01"), test=("2014", "2014"))
    with pytest.raises(PlanetMLError, match="split 'test' selects no samples"):
        split_by_time(ds, train=("2013", "2013"), test=("2016", "2016"))
    with pytest.raises(PlanetMLError, match="ends before it starts"):
        split_by_time(ds, train=("2014", "2013"))
    with pytest.raises(PlanetMLError, match="cannot read time range"):
        split_by_time(ds, train="2013")


# --- to_windows / from_windows (preprocess/windows.py) ----------------------

def test_to_windows_aligns_last_window_to_the_end():
    ds = make_series(np.arange(10.0), vt=np.arange(10.0) * 10)
    X, starts = to_windows(ds, ["bt", "vt"], length=4, stride=4)
    assert X.dtype == np.float32 and X.shape == (3, 2, 4)
    assert X[:, 0, 0].tolist() == [0, 4, 6]  # last window starts at 10 - 4 = 6
    assert X[1, 1].tolist() == [40, 50, 60, 70]
    np.testing.assert_array_equal(starts.values, ds.time.values[[0, 4, 6]])
    X_nopad, _ = to_windows(ds, ["bt"], length=4, stride=4, pad=False)
    assert X_nopad.shape == (2, 1, 4)
    X_exact, _ = to_windows(ds, ["bt"], length=4, stride=3)
    assert X_exact[:, 0, 0].tolist() == [0, 3, 6]  # stride grid already reaches the end


def test_to_windows_pads_short_series_and_fills_nan():
    ds = make_series([1.0, np.nan, 3.0])
    X, starts = to_windows(ds, ["bt"], length=5, stride=5)
    np.testing.assert_array_equal(X[0, 0], [1, np.nan, 3, np.nan, np.nan])
    assert len(starts) == 1
    X_filled, _ = to_windows(ds, ["bt"], length=5, stride=5, fill_value=0.0)
    assert X_filled[0, 0].tolist() == [1, 0, 3, 0, 0]
    with pytest.raises(PlanetMLError, match="fewer than the window length"):
        to_windows(ds, ["bt"], length=5, stride=5, pad=False)
    with pytest.raises(PlanetMLError, match=">= 1"):
        to_windows(ds, ["bt"], length=0, stride=1)


@pytest.mark.parametrize("n_times", [1, 7, 16, 37])
@pytest.mark.parametrize("length", [1, 4, 8])
@pytest.mark.parametrize("stride_fraction", [0.25, 0.5, 1.0])
def test_from_windows_inverts_to_windows(n_times, length, stride_fraction):
    stride = max(1, int(length * stride_fraction))
    values = np.random.default_rng(n_times).normal(size=n_times)
    values[::5] = np.nan
    ds = make_series(values)
    X, starts = to_windows(ds, ["bt"], length, stride)
    back = from_windows(X[:, 0], starts, ds.time, length, stride)
    assert back.dims == ("time",)
    np.testing.assert_allclose(back.values, values.astype(np.float32), equal_nan=True)
    np.testing.assert_array_equal(back.time.values, ds.time.values)


def test_from_windows_averages_overlaps_and_keeps_classes():
    ds = make_series(np.zeros(6))
    _, starts = to_windows(ds, ["bt"], length=4, stride=2)  # windows at 0 and 2
    probs = np.stack([np.full((3, 4), 0.2), np.full((3, 4), 0.6)])
    probs[:, 2] = [[0.0] * 4, [1.0] * 4]
    out = from_windows(probs, starts, ds.time, length=4, stride=2)
    assert out.dims == ("time", "class") and out.sizes["class"] == 3
    np.testing.assert_allclose(out.sel({"class": 0}).values, [0.2, 0.2, 0.4, 0.4, 0.6, 0.6])
    np.testing.assert_allclose(out.sel({"class": 2}).values, [0, 0, 0.5, 0.5, 1, 1])


def test_from_windows_leaves_uncovered_samples_nan():
    ds = make_series(np.arange(10.0))
    X, starts = to_windows(ds, ["bt"], length=2, stride=4, pad=False)
    back = from_windows(X[:, 0], starts, ds.time, length=2, stride=4)
    np.testing.assert_array_equal(back.values, [0, 1, np.nan, np.nan, 4, 5, np.nan, np.nan, 8, 9])


def test_from_windows_checks_its_inputs():
    ds = make_series(np.arange(8.0))
    X, starts = to_windows(ds, ["bt"], length=4, stride=2)
    with pytest.raises(PlanetMLError, match="values must be"):
        from_windows(X[:, 0], starts, ds.time, length=5, stride=2)
    with pytest.raises(PlanetMLError, match="not spaced by stride=3"):
        from_windows(X[:, 0], starts, ds.time, length=4, stride=3)
    with pytest.raises(PlanetMLError, match="not in `time`"):
        from_windows(X[:, 0], starts + pd.Timedelta("1min"), ds.time, length=4, stride=2)


def test_scaler_log_variables_round_trip_and_state():
    ds = make_series([1.0, 10.0, 100.0, 0.0, np.nan])
    scaler = DatasetScaler(variables=["bt"], log_variables=["bt"]).fit(ds)
    assert scaler.mean_["bt"] == pytest.approx(1.0)        # mean of log10 1, 10, 100
    scaled = scaler.transform(ds)["bt"].values
    np.testing.assert_allclose(scaled[:3], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    assert np.isnan(scaled[3:]).all(), "non-positive values have no logarithm"
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(ds))["bt"].values[:3], [1, 10, 100])
    again = DatasetScaler.from_state(json.loads(json.dumps(scaler.get_state())))
    np.testing.assert_allclose(again.transform(ds)["bt"].values, scaled, equal_nan=True)


def _ten_minute(values, start="2019-01-01"):
    time = pd.date_range(start, periods=len(values), freq="10min")
    return xr.Dataset({"bt": ("time", np.asarray(values, float), {"units": "nT"})}, coords={"time": time})


def test_to_cadence_averages_bins_labelled_by_their_start_and_keeps_units():
    hourly = to_cadence(_ten_minute([1, 2, 3, 4, 5, 6, 10, 10, 10, 10, 10, 10]), "1h")
    assert list(hourly.indexes["time"]) == list(pd.to_datetime(["2019-01-01 00:00", "2019-01-01 01:00"]))
    assert hourly["bt"].values.tolist() == [3.5, 10.0] and hourly["bt"].attrs["units"] == "nT"
    assert hourly.attrs["cadence"] == "1h" and hourly["valid"].values.all()


def test_to_cadence_needs_the_stated_share_of_a_bin():
    values = [1, 1, 1, np.nan, np.nan, np.nan, 1, 1, np.nan, np.nan, np.nan, np.nan]
    assert to_cadence(_ten_minute(values), "1h", min_fraction=0.5)["valid"].values.tolist() == [True, False]
    assert to_cadence(_ten_minute(values), "1h", min_fraction=0.3)["valid"].values.tolist() == [True, True]


def test_to_cadence_refuses_a_coarser_or_incommensurate_series():
    with pytest.raises(PlanetMLError, match="coarser than the model's"):
        to_cadence(_ten_minute(range(12)), "5min")
    with pytest.raises(PlanetMLError, match="does not divide"):
        to_cadence(_ten_minute(range(12)), "25min")


def test_regularize_defaults_to_the_series_own_cadence():
    ds = _ten_minute(range(6)).isel(time=[0, 1, 2, 4, 5])
    assert regularize(ds).attrs["cadence"] == "10min" and regularize(ds)["valid"].values.tolist() == [
        True, True, True, False, True, True]
