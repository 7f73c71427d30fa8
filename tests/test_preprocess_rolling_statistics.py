import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.rolling_statistics import rolling_statistics

N = 200  # samples per orbit at 10 s


def two_orbits(seed=0, consecutive=True):
    """Two orbits of ``bx`` and ``bz`` at 10 s; the second starts right after the first when ``consecutive``."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2012-01-01") + pd.Timedelta(seconds=10 * N if consecutive else 86400)
    time = pd.date_range("2012-01-01", periods=N, freq="10s").append(pd.date_range(start, periods=N, freq="10s"))
    return xr.Dataset({"bx": ("time", rng.normal(size=2 * N)), "bz": ("time", rng.normal(size=2 * N))},
                      coords={"time": time, "orbit": ("time", np.repeat([7, 8], N))}, attrs={"cadence": "10s"})


def test_columns_rows_and_values():
    ds = two_orbits()
    table = rolling_statistics(ds, ["bx", "bz"], windows=["60s"])
    assert table.columns.tolist() == ["bx", "bz", "bx_rolling_mean_60s", "bx_rolling_std_60s",
                                      "bz_rolling_mean_60s", "bz_rolling_std_60s"]
    assert table.index.equals(pd.DatetimeIndex(ds["time"].values))
    np.testing.assert_array_equal(table["bx"], ds["bx"].values)
    # centred and symmetric: sample 50 sees samples 47..53 (+-30 s)
    np.testing.assert_allclose(table["bx_rolling_mean_60s"].iloc[50], ds["bx"].values[47:54].mean())
    np.testing.assert_allclose(table["bz_rolling_std_60s"].iloc[50], ds["bz"].values[47:54].std(ddof=1))


def test_statistics_stay_within_their_orbit():
    ds = two_orbits()
    before = rolling_statistics(ds, ["bx"], windows=["300s"], statistics=["mean", "max"])
    changed = ds.copy(deep=True)
    changed["bx"][N:] += 100.0  # orbit 8 only, right after orbit 7 in time
    after = rolling_statistics(changed, ["bx"], windows=["300s"], statistics=["mean", "max"])
    pd.testing.assert_frame_equal(before.iloc[:N], after.iloc[:N])
    assert (after["bx_rolling_mean_300s"].iloc[N:] > 90).all()  # the whole window moved within orbit 8
    # without the orbit coordinate the same windows do bridge the two
    bridged = rolling_statistics(changed, ["bx"], windows=["300s"], group=None)
    assert (bridged["bx_rolling_mean_300s"].iloc[N - 10:N] > 10).all()


def test_gaps_stay_gaps_where_a_window_has_too_little_data():
    ds = two_orbits()
    ds["bx"][100:150] = np.nan  # 500 s without data, longer than every window
    ds["bx"][20:22] = np.nan  # 20 s, shorter than every window
    table = rolling_statistics(ds, ["bx"], windows=["60s", "300s"])
    # a sample outside a gap sees itself and one whole side, half its window: enough for min_fraction=0.5;
    # one inside the long gap sees less than half, so every column is NaN exactly on the long gap
    long_gap = np.isin(np.arange(2 * N), np.arange(100, 150))
    np.testing.assert_array_equal(table.drop(columns="bx").isna().to_numpy(), np.tile(long_gap, (4, 1)).T)
    assert table["bx"].iloc[20:22].isna().all() and table["bx_rolling_mean_300s"].iloc[20:22].notna().all()
    np.testing.assert_allclose(table["bx_rolling_mean_60s"].iloc[21], np.nanmean(ds["bx"].values[18:25]))
    # the last sample of an orbit has half a window: enough for min_fraction=0.5, not 0.6
    assert np.isfinite(table["bx_rolling_mean_300s"].iloc[N - 1])
    strict = rolling_statistics(ds, ["bx"], windows=["300s"], min_fraction=0.6)
    assert np.isnan(strict["bx_rolling_mean_300s"].iloc[N - 1])


def test_bad_inputs_are_refused():
    ds = two_orbits()
    with pytest.raises(PlanetMLError, match="by"):
        rolling_statistics(ds, ["bx", "by"])
    with pytest.raises(PlanetMLError, match="two cadence steps"):
        rolling_statistics(ds, ["bx"], windows=["10s"])
    with pytest.raises(PlanetMLError, match="increasing"):
        rolling_statistics(ds.isel(time=slice(None, None, -1)), ["bx"])
