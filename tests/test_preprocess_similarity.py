import numpy as np
import pandas as pd
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.events import validate_events
from planetml_lib.preprocess.similarity import peaks_to_crossings, similarity_curve

TIME = pd.date_range("2002-02-02", periods=24 * 60, freq="1min")


def test_curve_is_triangular_with_the_max_over_overlapping_crossings():
    t = TIME[:12]
    curve = similarity_curve(t, [t[2], t[6]], half_width="3min")
    third = 1 / 3
    np.testing.assert_allclose(curve, [third, 2 * third, 1, 2 * third, third, 2 * third, 1, 2 * third, third,
                                       0, 0, 0])  # the max at t[4], not the sum (2/3)
    between = similarity_curve(t, [t[2] + pd.Timedelta("30s")], half_width="1min")
    np.testing.assert_allclose(between[:5], [0, 0, 0.5, 0.5, 0])


def test_curve_has_no_nan_and_handles_no_crossings():
    curve = similarity_curve(TIME, TIME[[100, 700]])
    assert np.isfinite(curve).all() and curve.min() == 0 and curve.max() == 1
    assert (similarity_curve(TIME, np.array([], dtype="datetime64[ns]")) == 0).all()


def test_curve_refuses_nat_and_bad_half_width():
    with pytest.raises(PlanetMLError, match="crossing_times holds NaT at position 1"):
        similarity_curve(TIME, [TIME[3], pd.NaT])
    with pytest.raises(PlanetMLError, match="half_width"):
        similarity_curve(TIME, [TIME[3]], half_width="0s")


def test_round_trip_gives_back_the_crossings():
    rng = np.random.default_rng(0)
    truth = TIME[np.sort(rng.choice(np.arange(10, TIME.size - 10, 4), size=40, replace=False))]
    crossings = peaks_to_crossings(similarity_curve(TIME, truth, half_width="5min"), TIME, height=0.5,
                                   min_separation="3min")
    assert list(crossings.columns) == ["start", "end", "label", "score"]
    pd.testing.assert_frame_equal(crossings, validate_events(crossings))
    assert (crossings["start"] == crossings["end"]).all() and (crossings["label"] == "bow_shock").all()
    np.testing.assert_array_equal(crossings["start"].to_numpy(), truth.to_numpy())
    assert (crossings["score"] == 1.0).all()


def test_round_trip_between_samples_lands_within_half_a_cadence():
    truth = TIME[[30, 90, 95]] + pd.Timedelta("20s")
    found = peaks_to_crossings(similarity_curve(TIME, truth), TIME, height=0.5, min_separation="3min")
    assert len(found) == 3
    assert (abs(found["start"].to_numpy() - truth.to_numpy()) <= pd.Timedelta("30s")).all()


def test_min_separation_merges_close_peaks_into_the_highest():
    t = TIME[:40]
    curve = np.maximum(0.9 * similarity_curve(t, [t[10]]), similarity_curve(t, [t[12]]))
    merged = peaks_to_crossings(curve, t, height=0.5, min_separation="3min")
    assert merged["start"].tolist() == [t[12]] and merged["score"].tolist() == [1.0]
    for separation in (None, "2min"):
        kept = peaks_to_crossings(curve, t, height=0.5, min_separation=separation)
        assert kept["start"].tolist() == [t[10], t[12]]
    assert peaks_to_crossings(curve, t, height=0.95)["start"].tolist() == [t[12]]


def test_invalid_and_nan_samples_are_ignored():
    t = TIME[:60]
    curve = similarity_curve(t, [t[20], t[45]])
    curve[23:27] = 5.0  # model output inside a data gap
    curve[45:48] = np.nan  # a NaN gap over the second crossing
    valid = np.ones(t.size, dtype=bool)
    valid[23:27] = False
    found = peaks_to_crossings(curve, t, height=0.5, min_separation="5min", valid=valid)
    # the invalid gap neither becomes a crossing nor suppresses t[20]; the NaN gap's crossing is
    # reported at the last valid sample before it, where the similarity still rises towards the gap
    assert found["start"].tolist() == [t[20], t[44]]
    np.testing.assert_allclose(found["score"], [1.0, 0.8])
    unmasked = peaks_to_crossings(curve, t, height=0.5, min_separation="5min")
    assert unmasked["start"].tolist() == [t[24], t[44]]


def test_no_peak_gives_an_empty_events_table():
    found = peaks_to_crossings(np.zeros(10), TIME[:10], height=0.5, label="magnetopause")
    assert found.empty and list(found.columns) == ["start", "end", "label", "score"]
    assert found["start"].dtype == "datetime64[ns]"


def test_peaks_to_crossings_refuses_bad_input():
    with pytest.raises(PlanetMLError, match="shape"):
        peaks_to_crossings(np.zeros(9), TIME[:10], height=0.5)
    with pytest.raises(PlanetMLError, match="valid shape"):
        peaks_to_crossings(np.zeros(10), TIME[:10], height=0.5, valid=np.ones(3, bool))
    with pytest.raises(PlanetMLError, match="sorted"):
        peaks_to_crossings(np.zeros(10), TIME[:10][::-1], height=0.5)
    with pytest.raises(PlanetMLError, match="min_separation"):
        peaks_to_crossings(np.zeros(10), TIME[:10], height=0.5, min_separation="-1min")
