"""Tests for planetml_lib.preprocess.events (masks <-> events tables)."""

import numpy as np
import pandas as pd
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.events import event_statistic, events_to_mask, mask_to_events, validate_events

HOUR = pd.Timedelta("1h")


def make_events(starts, ends, label="ICME"):
    return pd.DataFrame({"start": pd.to_datetime(starts), "end": pd.to_datetime(ends), "label": label})


def irregular_times(n, seed):
    """Sorted, irregular sample times: steps of 1 to 30 minutes."""
    steps = np.random.default_rng(seed).integers(1, 31, n)
    return pd.Timestamp("2019-01-01") + pd.to_timedelta(np.cumsum(steps), unit="min")


def test_events_to_mask_uses_closed_intervals_on_irregular_time():
    t = pd.to_datetime(["2019-01-01 00:00", "2019-01-01 00:10", "2019-01-01 00:25",
                        "2019-01-01 01:00", "2019-01-01 03:00"])
    events = make_events(["2019-01-01 00:10", "2019-01-01 02:00"], ["2019-01-01 01:00", "2019-01-01 02:30"])
    assert events_to_mask(events, t).tolist() == [False, True, True, True, False]


def test_events_to_mask_zero_length_events():
    t = pd.date_range("2019-01-01", periods=4, freq="1h")
    on_sample = make_events([t[2]], [t[2]])
    between = make_events([t[1] + pd.Timedelta("30min")], [t[1] + pd.Timedelta("30min")])
    assert events_to_mask(on_sample, t).tolist() == [False, False, True, False]
    assert not events_to_mask(between, t).any()


def test_events_to_mask_overlapping_events_and_empty_table():
    t = pd.date_range("2019-01-01", periods=6, freq="1h")
    events = make_events([t[0], t[1]], [t[2], t[3]])
    assert events_to_mask(events, t).tolist() == [True, True, True, True, False, False]
    assert not events_to_mask(events.iloc[:0], t).any()


@pytest.mark.parametrize("seed", range(5))
def test_mask_round_trip_on_irregular_time(seed):
    rng = np.random.default_rng(seed)
    t = irregular_times(200, seed)
    mask = rng.random(200) < 0.4
    events = mask_to_events(mask, t, label="ICME")
    np.testing.assert_array_equal(events_to_mask(events, t), mask)
    assert (events["label"] == "ICME").all()
    assert events["start"].dtype == "datetime64[ns]"


def test_events_round_trip_when_events_sit_on_samples():
    t = pd.date_range("2019-01-01", periods=48, freq="1h")
    events = make_events([t[3], t[10], t[30]], [t[6], t[10], t[40]], label="event")
    back = mask_to_events(events_to_mask(events, t), t)
    pd.testing.assert_frame_equal(back, validate_events(events))


def test_max_gap_merges_runs_up_to_the_gap():
    t = pd.date_range("2019-01-01", periods=10, freq="1h")
    mask = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0], bool)
    # Gaps between runs (next start - previous end): 2 h, then 3 h.
    assert len(mask_to_events(mask, t)) == 3
    merged = mask_to_events(mask, t, max_gap="2h")
    assert merged["start"].tolist() == [t[0], t[6]]
    assert merged["end"].tolist() == [t[3], t[6]]
    assert len(mask_to_events(mask, t, max_gap="3h")) == 1


def test_min_duration_is_applied_after_merging():
    t = pd.date_range("2019-01-01", periods=10, freq="1h")
    mask = np.array([1, 0, 1, 0, 0, 0, 1, 1, 1, 0], bool)
    kept = mask_to_events(mask, t, min_duration="2h")
    assert kept["start"].tolist() == [t[6]]
    kept_merged = mask_to_events(mask, t, min_duration="2h", max_gap=2 * HOUR)
    assert kept_merged["start"].tolist() == [t[0], t[6]]


def test_valid_mask_and_nan_neither_start_nor_extend_events():
    t = pd.date_range("2019-01-01", periods=6, freq="1h")
    mask = np.array([1.0, 1.0, 1.0, np.nan, 1.0, 0.0])
    valid = np.array([True, True, False, True, True, True])
    events = mask_to_events(mask, t, valid=valid)
    assert events["start"].tolist() == [t[0], t[4]]
    assert events["end"].tolist() == [t[1], t[4]]


def test_empty_mask_gives_empty_contract_table():
    t = pd.date_range("2019-01-01", periods=5, freq="1h")
    events = mask_to_events(np.zeros(5, bool), t)
    assert list(events.columns) == ["start", "end", "label"]
    assert len(events) == 0
    assert events["start"].dtype == "datetime64[ns]"


def test_mask_to_events_refuses_bad_input():
    t = pd.date_range("2019-01-01", periods=5, freq="1h")
    with pytest.raises(PlanetMLError, match="shape"):
        mask_to_events(np.zeros(4, bool), t)
    with pytest.raises(PlanetMLError, match="sorted"):
        mask_to_events(np.zeros(5, bool), t[::-1])


def test_validate_events_cleans_and_sorts():
    events = pd.DataFrame({
        "start": ["2019-05-01T00:00+02:00", "2019-01-01"],
        "end": ["2019-05-01T06:00+02:00", "2019-01-02"],
        "label": ["b", "a"], "score": [0.9, 0.1],
    })
    events["start"] = pd.to_datetime(events["start"], utc=True, format="mixed")
    events["end"] = pd.to_datetime(events["end"], utc=True, format="mixed")
    out = validate_events(events)
    assert out["label"].tolist() == ["a", "b"]
    assert out["start"].dtype == "datetime64[ns]"
    assert out["start"].iloc[1] == pd.Timestamp("2019-04-30 22:00")
    assert out["score"].tolist() == [0.1, 0.9]
    assert out.index.tolist() == [0, 1]


def test_validate_events_errors_name_the_source():
    good = make_events(["2019-01-01"], ["2019-01-02"])
    with pytest.raises(PlanetMLError, match="cat.csv: missing column.*label"):
        validate_events(good.drop(columns="label"), "cat.csv")
    with pytest.raises(PlanetMLError, match="cat.csv: 1 event.*end before"):
        validate_events(make_events(["2019-01-02"], ["2019-01-01"]), "cat.csv")
    with pytest.raises(PlanetMLError, match="cat.csv: missing 'end'"):
        validate_events(good.assign(end=pd.NaT), "cat.csv")
    with pytest.raises(PlanetMLError, match="cat.csv column .start.: cannot read"):
        validate_events(good.assign(start="not a date"), "cat.csv")


def test_event_statistic_reduces_each_events_samples_and_skips_gaps():
    t = pd.date_range("2019-01-01", periods=8, freq="1h")
    events = make_events(["2019-01-01 01:00", "2019-01-01 05:00", "2019-01-01 07:00"],
                         ["2019-01-01 03:00", "2019-01-01 06:00", "2019-01-01 07:00"])
    values = [0.0, 0.2, np.nan, 0.6, 1.0, np.nan, np.nan, 0.5]
    assert event_statistic(events, t, values).tolist()[0] == pytest.approx(0.4)
    assert np.isnan(event_statistic(events, t, values)[1])  # all gap
    assert event_statistic(events, t, values, np.nanmax)[[0, 2]].tolist() == [0.6, 0.5]
    assert event_statistic(events.iloc[:0], t, values).shape == (0,)
    with pytest.raises(PlanetMLError, match="values: shape"):
        event_statistic(events, t, values[:-1])
