import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.crossings import (
    CROSSING_LABELS,
    crossing_scores,
    evaluate_crossings,
    extract_crossings,
    match_crossings,
    smooth_regions,
)
from planetml_lib.io.catalogs import read_philpott
from planetml_lib.preprocess.events import events_to_mask

PHILPOTT = Path(__file__).parent / "data" / "philpott2020_boundaries_excerpt.csv"
T0 = pd.Timestamp("2012-01-01")
#             IMF   SK    MSh   MP    MSp    MP     MSh    SK     IMF
ORBIT_RUNS = [(0, 10), (1, 5), (2, 15), (3, 5), (4, 30), (3, 4), (2, 12), (1, 6), (0, 13)]


def orbit_regions(runs=ORBIT_RUNS):
    """Region per second from ``(region, n_seconds)`` runs."""
    codes, lengths = np.array(runs).T
    return np.repeat(codes, lengths)


def seconds(n):
    return pd.date_range(T0, periods=n, freq="1s")


def spans(events):
    """``{label: (start second, end second)}`` of an events table."""
    start, end = (((events[col] - T0) / pd.Timedelta("1s")).astype(int) for col in ("start", "end"))
    return dict(zip(events["label"], zip(start, end, strict=True), strict=True))


def test_clean_orbit_gives_the_four_crossing_runs():
    regions = orbit_regions()
    events = extract_crossings(regions, seconds(regions.size))
    assert list(events["label"]) == list(CROSSING_LABELS)
    assert spans(events) == {"bow_shock_in": (10, 14), "magnetopause_in": (30, 34),
                             "magnetopause_out": (65, 68), "bow_shock_out": (81, 86)}
    assert list(events.columns) == ["start", "end", "label"]


def test_missing_crossing_classes_give_the_one_sample_jump():
    regions = orbit_regions([(0, 10), (2, 15), (4, 20), (3, 3), (2, 5), (0, 7)])
    found = spans(extract_crossings(regions, seconds(regions.size)))
    assert found == {"bow_shock_in": (9, 10), "magnetopause_in": (24, 25),
                     "magnetopause_out": (45, 47), "bow_shock_out": (52, 53)}


def test_repeated_crossings_make_one_interval_from_first_to_last():
    # IMF, SK, IMF, SK, MSh, MP, MSh, MP, MSp ... ; an SK-like sample inside the MP layer is ignored
    regions = orbit_regions([(0, 5), (1, 2), (0, 3), (1, 2), (2, 8), (3, 2), (2, 2), (3, 1), (1, 1), (3, 1),
                             (4, 10), (2, 4), (0, 4)])
    found = spans(extract_crossings(regions, seconds(regions.size)))
    assert found["bow_shock_in"] == (5, 11)
    assert found["magnetopause_in"] == (20, 26)
    assert found["magnetopause_out"] == (36, 37)
    assert found["bow_shock_out"] == (40, 41)


def test_gap_across_a_boundary_spans_the_gap():
    regions = orbit_regions([(0, 5), (-1, 4), (2, 5), (4, 10), (2, 5), (0, 5)])
    assert spans(extract_crossings(regions, seconds(regions.size)))["bow_shock_in"] == (4, 9)


def test_orbits_are_treated_separately():
    one = orbit_regions()
    no_magnetosphere = orbit_regions([(0, 10), (1, 3), (2, 20), (1, 3), (0, 10)])
    starts_inside = orbit_regions([(4, 10), (3, 3), (2, 10), (1, 2), (0, 5)])
    regions = np.concatenate([one, no_magnetosphere, starts_inside])
    orbit = np.repeat([7, 8, 9], [one.size, no_magnetosphere.size, starts_inside.size])
    events = extract_crossings(regions, seconds(regions.size), orbit=orbit)
    assert events.groupby("orbit")["label"].apply(list).to_dict() == {
        7: list(CROSSING_LABELS), 8: ["bow_shock_in", "bow_shock_out"],
        9: ["magnetopause_out", "bow_shock_out"]}
    assert events["start"].is_monotonic_increasing


def test_orbit_without_any_sheath_or_magnetosphere_has_no_crossings():
    regions = np.array([0, 0, 1, 1, 0, 0])
    events = extract_crossings(regions, seconds(6), orbit=np.ones(6, int))
    assert events.empty and list(events.columns) == ["start", "end", "label", "orbit"]


def test_extract_rejects_mismatched_lengths():
    with pytest.raises(PlanetMLError, match="regions shape"):
        extract_crossings([0, 1, 2], seconds(4))


def test_smooth_regions_majority_with_ties_kept():
    assert smooth_regions([0, 1, 0, 0, 1, 1, 0, 1, 1], window=3).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    # window 5 at sample 2 sees 0, 0, 2, 2, 4: tie between 0 and 2, own label wins
    assert smooth_regions([0, 0, 2, 2, 4, 4, 4], window=5).tolist()[2] == 2


def test_smooth_regions_averages_probabilities_and_marks_unpredicted_samples():
    probs = np.array([[0.6, 0.4], [0.6, 0.4], [0.0, 1.0], [np.nan, np.nan], [np.nan, np.nan],
                      [np.nan, np.nan], [0.9, 0.1]])
    assert smooth_regions(probs, window=3).tolist() == [0, 1, 1, 1, -1, 0, 0]
    assert smooth_regions([0, -1, -1, -1, 2], window=3).tolist() == [0, 0, -1, 2, 2]


@pytest.mark.parametrize("window", [0, 2, 3.0])
def test_smooth_regions_needs_an_odd_window(window):
    with pytest.raises(PlanetMLError, match="odd"):
        smooth_regions([0, 1], window)


def test_noisy_labels_smoothed_then_extracted_stay_close_to_truth():
    rng = np.random.default_rng(1)
    truth = orbit_regions([(0, 600), (1, 60), (2, 900), (3, 40), (4, 1800), (3, 40), (2, 900), (1, 60), (0, 600)])
    noisy = np.where(rng.random(truth.size) < 0.15, rng.integers(0, 5, truth.size), truth)
    t = seconds(truth.size)
    true_events = extract_crossings(truth, t)
    metrics = evaluate_crossings(extract_crossings(smooth_regions(noisy, 31), t), true_events, max_offset="1min")
    values = metrics.set_index(["class", "metric"])["value"]
    assert values["all", "detection_rate"] == 1.0 and values["all", "precision"] == 1.0
    assert values["all", "centre_abs_error_s_mean"] < 5
    assert extract_crossings(noisy, t)["end"].sub(extract_crossings(noisy, t)["start"]).max() > pd.Timedelta("10min")


def philpott_regions(events, cadence):
    """Regions on a ``cadence`` grid around each complete orbit of a Philpott-style catalogue."""
    complete = events.groupby("orbit").filter(lambda g: set(g["label"]) == set(CROSSING_LABELS))
    times, regions, orbits = [], [], []
    for orbit, crossings in complete.groupby("orbit"):
        by_label = crossings.set_index("label")
        t = pd.date_range(by_label.at["bow_shock_in", "start"].floor("h") - pd.Timedelta("20min"),
                          by_label.at["bow_shock_out", "end"] + pd.Timedelta("20min"), freq=cadence)
        region = np.zeros(t.size, int)
        spans_to_fill = [("bow_shock_in", "bow_shock_out", 2), ("magnetopause_in", "magnetopause_out", 4)]
        spans_to_fill += [(label, label, code) for label, code in zip(CROSSING_LABELS, (1, 3, 3, 1), strict=True)]
        for first, last, code in spans_to_fill:  # sheath, magnetosphere, then the four crossing layers
            span = pd.DataFrame({"start": [by_label.at[first, "start"]], "end": [by_label.at[last, "end"]],
                                 "label": "span"})
            region[events_to_mask(span, t)] = code
        times.append(t)
        regions.append(region)
        orbits.append(np.full(t.size, orbit))
    return complete, times[0].append(times[1:]), np.concatenate(regions), np.concatenate(orbits)


def test_philpott_catalogue_is_recovered_from_its_own_labels():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the excerpt has half pairs
        catalogue = read_philpott(PHILPOTT)
    true, time, regions, orbit = philpott_regions(catalogue, "10s")
    pred = extract_crossings(regions, time, orbit)
    values = evaluate_crossings(pred, true, max_offset="30s").set_index(["class", "metric"])["value"]
    assert len(true) >= 40 and values["all", "n_true"] == len(true)
    assert values["all", "detection_rate"] == 1.0 and values["all", "precision"] == 1.0
    assert values["all", "start_abs_error_s_mean"] < 10 and values["all", "end_abs_error_s_mean"] < 10


def crossing(start, end, label="bow_shock_in", orbit=None):
    events = pd.DataFrame({"start": [T0 + pd.Timedelta(start)], "end": [T0 + pd.Timedelta(end)], "label": label})
    return events if orbit is None else events.assign(orbit=orbit)


def test_matching_is_one_to_one_within_the_offset():
    true = pd.concat([crossing("0s", "60s"), crossing("200s", "260s"), crossing("3h", "3h")])
    pred = pd.concat([crossing("30s", "90s"), crossing("100s", "130s"), crossing("2h", "2h")])
    matches = match_crossings(pred, true, max_offset="10min")
    # pred 0 (centre 60 s) is closest to true 0 (30 s); pred 1 (115 s) goes to true 1 (230 s)
    assert matches["pred_idx"].tolist() == [0, 1, pd.NA]
    assert matches["start_error_s"].tolist()[:2] == [30.0, -100.0]
    assert matches["centre_error_s"].tolist()[:2] == [30.0, -115.0]
    values = evaluate_crossings(pred, true, "10min").set_index(["class", "metric"])["value"]
    assert values["bow_shock_in", "n_found"] == 2 and values["bow_shock_in", "n_pred"] == 3
    assert values["bow_shock_in", "precision"] == pytest.approx(2 / 3)
    assert values["bow_shock_in", "centre_abs_error_s_median"] == pytest.approx(72.5)


def test_matching_respects_label_and_orbit():
    true = pd.concat([crossing("0s", "10s", orbit=1), crossing("100s", "110s", "magnetopause_in", orbit=1)])
    pred = pd.concat([crossing("0s", "10s", orbit=2), crossing("100s", "110s", "magnetopause_out", orbit=1)])
    assert not match_crossings(pred, true)["found"].any()
    assert match_crossings(pred.drop(columns="orbit"), true)["found"].tolist() == [True, False]
    values = evaluate_crossings(pred, true).set_index(["class", "metric"])["value"]
    assert values["magnetopause_out", "n_pred"] == 1 and values["magnetopause_out", "n_true"] == 0
    assert np.isnan(values["magnetopause_out", "detection_rate"])


def test_no_predictions_give_zero_detection_and_nan_errors():
    empty = crossing("0s", "0s").iloc[:0]
    values = evaluate_crossings(empty, crossing("0s", "1s")).set_index(["class", "metric"])["value"]
    assert values["all", "detection_rate"] == 0.0 and np.isnan(values["all", "precision"])
    assert np.isnan(values["all", "start_abs_error_s_mean"])


def test_a_crossing_scores_the_highest_probability_of_its_boundary_layer():
    t = pd.date_range("2012-01-01", periods=13, freq="1s")
    regions = np.array([0, 0, 1, 2, 3, 4, 4, 4, 3, 3, 2, 1, 0])
    probabilities = np.full((13, 5), 0.1)
    probabilities[np.arange(13), regions] = 0.6
    probabilities[2, 1] = 0.9  # the inbound bow-shock sample
    probabilities[9, 3] = np.nan  # a gap inside the outbound magnetopause
    crossings = extract_crossings(regions, t)
    scores = dict(zip(crossings["label"], crossing_scores(crossings, t, probabilities), strict=True))
    assert scores == {"bow_shock_in": 0.9, "magnetopause_in": 0.6, "magnetopause_out": 0.6, "bow_shock_out": 0.6}
