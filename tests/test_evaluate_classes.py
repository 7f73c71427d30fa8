"""Tests for planetml_lib.evaluate.classes (per-sample skill scores)."""

import numpy as np
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.classes import confusion_counts, evaluate_binary, evaluate_multiclass

Y_TRUE = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 0])
Y_PRED = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0])  # TP 2, FP 1, FN 2, TN 5


def metrics(frame, class_name=None):
    if class_name is not None:
        frame = frame[frame["class"] == class_name]
    return frame.set_index("metric")["value"]


def test_binary_hand_computed_scores():
    frame = evaluate_binary(Y_TRUE, Y_PRED, class_name="ICME")
    assert list(frame.columns) == ["metric", "class", "value"]
    assert (frame["class"] == "ICME").all()
    s = metrics(frame)
    assert (s.TP, s.FP, s.FN, s.TN) == (2, 1, 2, 5)
    assert s.accuracy == pytest.approx(0.7)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(0.5)
    assert s.TSS == pytest.approx(0.5 - 1 / 6)
    assert s.HSS == pytest.approx(2 * (2 * 5 - 2 * 1) / (4 * 7 + 3 * 6))
    assert s.IoU == pytest.approx(2 / 5)
    assert s.Dice == pytest.approx(4 / 7)
    assert s.base_rate == pytest.approx(0.4)


def test_valid_mask_and_nan_remove_samples_from_all_counts():
    valid = np.ones(10, bool)
    valid[[2, 3]] = False  # drops one FN and the FP
    assert confusion_counts(Y_TRUE, Y_PRED, valid) == {"TP": 2, "FP": 0, "FN": 1, "TN": 5}
    y_true_gaps = Y_TRUE.astype(float)
    y_true_gaps[[2, 3]] = np.nan
    assert confusion_counts(y_true_gaps, Y_PRED) == {"TP": 2, "FP": 0, "FN": 1, "TN": 5}
    s = metrics(evaluate_binary(Y_TRUE.reshape(2, 5), Y_PRED.reshape(2, 5), valid.reshape(2, 5)))
    assert s.precision == 1.0 and s.TSS == pytest.approx(2 / 3)


@pytest.mark.filterwarnings("error")
def test_undefined_ratios_are_nan_not_errors():
    s = metrics(evaluate_binary(np.zeros(4), np.zeros(4)))
    assert s.accuracy == 1.0 and s.TN == 4
    assert np.isnan(s.precision) and np.isnan(s.recall) and np.isnan(s.TSS) and np.isnan(s.IoU)
    assert np.isnan(metrics(evaluate_binary([1, 0], [1, 0], valid=[False, False])).accuracy)


def test_binary_shape_mismatch_raises():
    with pytest.raises(PlanetMLError, match="shape"):
        evaluate_binary([1, 0, 1], [1, 0])
    with pytest.raises(PlanetMLError, match="valid shape"):
        confusion_counts([1, 0], [1, 0], valid=[True])


def test_multiclass_per_class_and_macro_f1():
    y_true = [0, 0, 1, 1, 2, 2, 2, 0]
    y_pred = [0, 1, 1, 1, 2, 0, 2, 0]
    frame = evaluate_multiclass(y_true, y_pred, ["solar_wind", "magnetosheath", "magnetosphere"])
    sw = metrics(frame, "solar_wind")
    assert sw.precision == pytest.approx(2 / 3) and sw.recall == pytest.approx(2 / 3)
    msh = metrics(frame, "magnetosheath")
    assert msh.precision == pytest.approx(2 / 3) and msh.recall == 1.0 and msh.support == 2
    msp = metrics(frame, "magnetosphere")
    assert msp.precision == 1.0 and msp.F1 == pytest.approx(0.8)
    assert metrics(frame, "macro").F1 == pytest.approx((2 / 3 + 0.8 + 0.8) / 3)
    assert metrics(frame, "all").accuracy == pytest.approx(6 / 8)


def test_multiclass_absent_class_and_bad_indices():
    frame = evaluate_multiclass([0, 0, 1], [0, 0, 0], ["a", "b", "c"])
    assert metrics(frame, "b").F1 == 0.0  # missed class counts in the macro mean
    assert np.isnan(metrics(frame, "c").F1)  # never seen: left out of the macro mean
    assert metrics(frame, "macro").F1 == pytest.approx((0.8 + 0.0) / 2)
    with pytest.raises(PlanetMLError, match="y_pred holds values outside"):
        evaluate_multiclass([0, 1], [0, 3], ["a", "b"])
    masked = evaluate_multiclass([0, 1, 1], [0, 0, 1], ["a", "b"], valid=[True, False, True])
    assert metrics(masked, "all").accuracy == 1.0
