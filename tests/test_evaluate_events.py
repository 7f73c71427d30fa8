"""Tests for planetml_lib.evaluate.events (event matching and event-wise scores)."""

import numpy as np
import pandas as pd
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.events import evaluate_events, match_events

T0 = pd.Timestamp("2019-03-01")


def hours(*pairs, label="ICME"):
    """Events table from (start_h, end_h) pairs, hours after T0."""
    starts = [T0 + pd.Timedelta(hours=a) for a, _ in pairs]
    ends = [T0 + pd.Timedelta(hours=b) for _, b in pairs]
    return pd.DataFrame({"start": pd.to_datetime(starts), "end": pd.to_datetime(ends),
                         "label": pd.Series([label] * len(pairs), dtype=str)})


def metrics(frame):
    return frame.set_index("metric")["value"]


# true A: 24 h, B: 24 h, C: 10 h
TRUE = hours((0, 24), (48, 72), (100, 110))
# p0 touches 2 h of A (8 % <= 10 %), p1 covers 20 h of B, p2 hits nothing
PRED = hours((22, 30), (50, 70), (200, 210))


def test_lenient_hand_computed_case():
    m = match_events(PRED, TRUE, method="lenient")
    assert m["outcome"].tolist() == ["FN", "TP", "FN", "FP"]
    tp = m[m.outcome == "TP"].iloc[0]
    assert (tp.true_idx, tp.pred_idx) == (1, 1)
    assert tp.overlap_fraction == pytest.approx(20 / 24)
    assert tp.iou == pytest.approx(20 / 24)
    assert (tp.start_error_h, tp.end_error_h) == (2.0, -2.0)
    assert m[m.outcome == "FP"].pred_idx.tolist() == [2]
    s = metrics(evaluate_events(PRED, TRUE))
    # p0 touches A, so it is neither FP nor TP (Rüdisser et al. 2022 rule)
    assert (s.n_true, s.n_pred, s.TP, s.FP, s.FN) == (3, 3, 1, 1, 2)
    assert s.precision == 0.5 and s.recall == pytest.approx(1 / 3)
    assert s.F1 == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    assert s.start_error_h_mean == 2.0 and s.end_error_h_mae == 2.0


def test_lenient_threshold_is_strictly_more_than_min_overlap():
    true = hours((0, 10))
    assert match_events(hours((9, 12)), true).outcome.tolist() == ["FN"]  # exactly 10 %
    assert match_events(hours((8.9, 12)), true).outcome.tolist() == ["TP"]
    assert match_events(hours((9, 12)), true, min_overlap=0.05).outcome.tolist() == ["TP"]


def test_lenient_picks_best_partner_and_one_prediction_may_detect_two_events():
    true = hours((0, 10), (20, 30))
    m = match_events(hours((-5, 2), (3, 25)), true)
    assert m.outcome.tolist() == ["TP", "TP"]
    assert m.pred_idx.tolist() == [1, 1]
    strict = metrics(evaluate_events(hours((3, 25)), true, method="strict", iou_threshold=0.2))
    assert (strict.TP, strict.FN, strict.FP) == (1, 1, 0)


def test_strict_maximises_total_iou_not_greedy():
    # IoU: T0-P0 0.6, T0-P1 0.9, T1-P0 0 (they only touch), T1-P1 4/9.
    # Greedy would take T0-P1 first and leave T1 unmatched.
    true = hours((0, 10), (6, 10))
    pred = hours((0, 6), (1, 10))
    m = match_events(pred, true, method="strict", iou_threshold=0.3)
    assert m.outcome.tolist() == ["TP", "TP"]
    assert m.pred_idx.tolist() == [0, 1]
    np.testing.assert_allclose(m.iou, [0.6, 4 / 9])
    s = metrics(evaluate_events(pred, true, method="strict", iou_threshold=0.5))
    assert (s.TP, s.FN, s.FP) == (1, 1, 1)
    assert s.precision == 0.5 and s.recall == 0.5


@pytest.mark.filterwarnings("error")
def test_zero_length_events_do_not_divide_by_zero():
    crossing = hours((5, 5))
    lenient = match_events(hours((4, 6)), crossing)
    assert lenient.outcome.tolist() == ["TP"] and lenient.overlap_fraction[0] == 1.0
    strict = match_events(hours((4, 6)), crossing, method="strict")
    assert sorted(strict.outcome) == ["FN", "FP"]
    same = match_events(hours((5, 5)), crossing, method="strict")
    assert same.outcome.tolist() == ["TP"] and same.iou[0] == 1.0
    assert match_events(hours((6, 6)), crossing).outcome.tolist() == ["FN", "FP"]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("method", ["lenient", "strict"])
def test_empty_predictions_and_empty_truth(method):
    empty = hours()
    no_pred = metrics(evaluate_events(empty, TRUE, method=method))
    assert (no_pred.TP, no_pred.FN, no_pred.FP) == (0, 3, 0)
    assert np.isnan(no_pred.precision) and no_pred.recall == 0 and no_pred.F1 == 0
    assert np.isnan(no_pred.start_error_h_mean)
    no_true = metrics(evaluate_events(PRED, empty, method=method))
    assert (no_true.TP, no_true.FN, no_true.FP) == (0, 0, 3)
    assert no_true.precision == 0 and np.isnan(no_true.recall)
    nothing = evaluate_events(empty, empty, method=method)
    assert metrics(nothing).n_true == 0 and np.isnan(metrics(nothing).F1)
    assert list(match_events(empty, empty, method=method).columns) == [
        "true_idx", "pred_idx", "iou", "overlap_fraction", "start_error_h", "end_error_h", "outcome"]


def test_evaluate_events_is_tidy_with_stable_names():
    frame = evaluate_events(PRED, TRUE, class_name="ICME")
    assert list(frame.columns) == ["metric", "class", "value"]
    assert (frame["class"] == "ICME").all()
    assert {"n_true", "n_pred", "TP", "FP", "FN", "precision", "recall", "F1",
            "start_error_h_mean", "end_error_h_mean"} <= set(frame.metric)


def test_match_events_rejects_bad_arguments():
    with pytest.raises(PlanetMLError, match="unknown matching method 'best'"):
        match_events(PRED, TRUE, method="best")
    with pytest.raises(PlanetMLError, match="min_overlap"):
        match_events(PRED, TRUE, min_overlap=1.5)
    with pytest.raises(PlanetMLError, match="predicted events: missing column"):
        match_events(PRED.drop(columns="end"), TRUE)
