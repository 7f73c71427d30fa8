"""Event-wise skill: match predicted events to catalogue events and score them.

Events are closed time intervals ``[start, end]`` (the package's events table,
see :func:`planetml_lib.preprocess.events.validate_events`). Two scorings:

``"lenient"`` -- the rule of the Europlanet ICME pipeline (Rüdisser et al.
2022, Space Weather 20, e2022SW003149, after Nguyen et al. 2019, ApJ 874, 145):

* a true event is a **TP** when one predicted event covers more than
  ``min_overlap`` of its duration (the pipeline uses 10 %), otherwise **FN**;
  its partner is the predicted event with the largest coverage;
* a predicted event that touches no true event at all is an **FP**; a
  predicted event that touches a true event without detecting it is neither;
* ``precision = TP / (TP + FP)`` and ``recall = TP / (TP + FN)``, where TP
  counts *detected true events* (as in the pipeline). One long prediction may
  detect several true events.

``"strict"`` -- one-to-one matching that maximises the summed IoU (Hungarian
algorithm, ``scipy.optimize.linear_sum_assignment``); a matched pair with
``IoU >= iou_threshold`` is a TP, every other true event is FN and every
other predicted event is FP, so ``precision = TP / n_pred``.

Zero-length events (``start == end``, e.g. boundary crossings) never divide
by zero: a zero-length true event is covered (fraction 1) by any predicted
event containing its instant; the IoU of two zero-length events is 1 when
they coincide, else 0; the IoU of a zero-length and a finite event is 0.
"""

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.classes import to_metrics_frame
from planetml_lib.preprocess.events import validate_events

MATCH_METHODS = ("lenient", "strict")
MATCH_COLUMNS = ("true_idx", "pred_idx", "iou", "overlap_fraction", "start_error_h", "end_error_h", "outcome")
NS_PER_HOUR = 3.6e12


def _bounds(events):
    """Start and end of each event as int64 nanoseconds."""
    return (events["start"].to_numpy("datetime64[ns]").view("i8"),
            events["end"].to_numpy("datetime64[ns]").view("i8"))


def overlap_matrices(true, pred):
    """Pairwise overlap measures of two validated events tables.

    Returns
    -------
    touch : np.ndarray of bool, shape (n_true, n_pred)
        True where the closed intervals share at least one instant.
    coverage : np.ndarray of float, shape (n_true, n_pred)
        Fraction of each true event's duration covered by each predicted event.
    iou : np.ndarray of float, shape (n_true, n_pred)
        Intersection over union of the intervals.
    """
    t_start, t_end = (b[:, None] for b in _bounds(true))
    p_start, p_end = (b[None, :] for b in _bounds(pred))
    gap = np.minimum(t_end, p_end) - np.maximum(t_start, p_start)
    touch, inter = gap >= 0, np.maximum(gap, 0).astype(float)
    t_len, p_len = (t_end - t_start).astype(float), (p_end - p_start).astype(float)
    union = t_len + p_len - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.where(t_len > 0, inter / t_len, touch)
        iou = np.where(union > 0, inter / union, touch)
    return touch, coverage.astype(float), iou.astype(float)


def _match_rows(true, pred, pairs, unmatched_true, unmatched_pred, coverage, iou):
    """Build the matches frame from TP pairs and unmatched indices."""
    t_idx = np.array([i for i, _ in pairs], dtype=int)
    p_idx = np.array([j for _, j in pairs], dtype=int)
    (t_start, t_end), (p_start, p_end) = _bounds(true), _bounds(pred)
    hits = pd.DataFrame({
        "true_idx": t_idx, "pred_idx": p_idx, "iou": iou[t_idx, p_idx],
        "overlap_fraction": coverage[t_idx, p_idx],
        "start_error_h": (p_start[p_idx] - t_start[t_idx]) / NS_PER_HOUR,
        "end_error_h": (p_end[p_idx] - t_end[t_idx]) / NS_PER_HOUR, "outcome": "TP"})
    misses = pd.DataFrame({"true_idx": np.asarray(unmatched_true, dtype=int), "outcome": "FN"})
    false_alarms = pd.DataFrame({"pred_idx": np.asarray(unmatched_pred, dtype=int), "outcome": "FP"})
    parts = [part for part in (hits, misses, false_alarms) if len(part)]
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(MATCH_COLUMNS))
    rows = rows.reindex(columns=list(MATCH_COLUMNS)).astype(
        {"true_idx": "Int64", "pred_idx": "Int64", "iou": float, "overlap_fraction": float,
         "start_error_h": float, "end_error_h": float, "outcome": str})
    return rows.sort_values(["true_idx", "pred_idx"], na_position="last", ignore_index=True)


def _lenient_pairs(touch, coverage, min_overlap):
    """TP pairs (true, best pred), missed true events and pure false alarms."""
    if coverage.shape[1] == 0:
        return [], np.arange(coverage.shape[0]), np.array([], dtype=int)
    best = np.argmax(coverage, axis=1)
    detected = coverage[np.arange(coverage.shape[0]), best] > min_overlap
    pairs = list(zip(np.flatnonzero(detected), best[detected], strict=True))
    return pairs, np.flatnonzero(~detected), np.flatnonzero(~touch.any(axis=0))


def one_to_one_pairs(iou, iou_threshold):
    """One-to-one TP pairs maximising total IoU, plus unmatched true and predicted events."""
    rows, cols = linear_sum_assignment(iou, maximize=True)
    good = (iou[rows, cols] >= iou_threshold) & (iou[rows, cols] > 0)
    pairs = list(zip(rows[good], cols[good], strict=True))
    unmatched_true = np.setdiff1d(np.arange(iou.shape[0]), rows[good])
    unmatched_pred = np.setdiff1d(np.arange(iou.shape[1]), cols[good])
    return pairs, unmatched_true, unmatched_pred


def match_events(pred, true, method="lenient", min_overlap=0.1, iou_threshold=0.5):
    """Match predicted events to true (catalogue) events.

    Parameters
    ----------
    pred, true : pd.DataFrame
        Events tables (``start``, ``end``, ``label``); labels are not compared.
    method : {"lenient", "strict"}
        Scoring rule, see the module docstring.
    min_overlap : float
        Lenient: a true event is detected when one predicted event covers
        *more than* this fraction of its duration (0.1 as in Rüdisser et al. 2022).
    iou_threshold : float
        Strict: smallest IoU of a matched pair.

    Returns
    -------
    pd.DataFrame
        One row per TP pair, missed true event (FN) and false alarm (FP), with
        columns ``true_idx``, ``pred_idx`` (row positions in the start-sorted
        tables; <NA> when absent), ``iou``, ``overlap_fraction`` (of the true
        event), ``start_error_h`` = pred start - true start and
        ``end_error_h`` = pred end - true end in hours (NaN unless TP),
        ``outcome`` ("TP", "FN" or "FP").

    Examples
    --------
    >>> ev = lambda s, e: pd.DataFrame({"start": pd.to_datetime(s),
    ...                                 "end": pd.to_datetime(e), "label": "ICME"})
    >>> true = ev(["2019-03-01 00:00"], ["2019-03-02 00:00"])
    >>> pred = ev(["2019-03-01 06:00"], ["2019-03-02 03:00"])
    >>> match_events(pred, true)[["outcome", "start_error_h", "end_error_h"]]
      outcome  start_error_h  end_error_h
    0      TP            6.0          3.0
    """
    if method not in MATCH_METHODS:
        raise PlanetMLError(f"unknown matching method {method!r}; choose from {MATCH_METHODS}")
    if not 0 <= min_overlap < 1 or not 0 < iou_threshold <= 1:
        raise PlanetMLError(f"need 0 <= min_overlap < 1 and 0 < iou_threshold <= 1 "
                            f"(got {min_overlap}, {iou_threshold})")
    true, pred = validate_events(true, "true events"), validate_events(pred, "predicted events")
    touch, coverage, iou = overlap_matrices(true, pred)
    if method == "lenient":
        pairs, missed, false_alarms = _lenient_pairs(touch, coverage, min_overlap)
    else:
        pairs, missed, false_alarms = one_to_one_pairs(iou, iou_threshold)
    return _match_rows(true, pred, pairs, missed, false_alarms, coverage, iou)


def evaluate_events(pred, true, method="lenient", min_overlap=0.1, iou_threshold=0.5, class_name="event"):
    """Event-wise skill scores as a tidy metrics frame.

    Parameters
    ----------
    pred, true, method, min_overlap, iou_threshold
        As in :func:`match_events`.
    class_name : str
        Value of the ``class`` column.

    Returns
    -------
    pd.DataFrame
        Columns ``metric``, ``class``, ``value`` with metrics ``n_true``,
        ``n_pred``, ``TP``, ``FP``, ``FN``, ``precision`` = TP/(TP+FP),
        ``recall`` = TP/(TP+FN), ``F1`` = 2TP/(2TP+FP+FN) (= harmonic mean of
        precision and recall), ``start_error_h_mean``/``end_error_h_mean``
        (signed mean timing error of TP pairs, hours; positive = predicted
        late) and ``start_error_h_mae``/``end_error_h_mae`` (mean absolute).
        Undefined ratios are NaN: with no predictions precision is NaN and
        recall 0; with no true events recall is NaN.

    Examples
    --------
    >>> empty = pd.DataFrame({"start": pd.to_datetime([]), "end": pd.to_datetime([]), "label": []})
    >>> true = pd.DataFrame({"start": pd.to_datetime(["2019-03-01"]),
    ...                      "end": pd.to_datetime(["2019-03-02"]), "label": ["ICME"]})
    >>> evaluate_events(empty, true).set_index("metric").loc[["precision", "recall"], "value"].tolist()
    [nan, 0.0]
    """
    matches = match_events(pred, true, method, min_overlap, iou_threshold)
    counts = matches["outcome"].value_counts()
    tp, fp, fn = (int(counts.get(key, 0)) for key in ("TP", "FP", "FN"))
    hits = matches[matches["outcome"] == "TP"]
    values = {
        "n_true": len(true), "n_pred": len(pred), "TP": tp, "FP": fp, "FN": fn,
        "precision": tp / (tp + fp) if tp + fp else np.nan,
        "recall": tp / (tp + fn) if tp + fn else np.nan,
        "F1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else np.nan,
        "start_error_h_mean": hits["start_error_h"].mean(),
        "end_error_h_mean": hits["end_error_h"].mean(),
        "start_error_h_mae": hits["start_error_h"].abs().mean(),
        "end_error_h_mae": hits["end_error_h"].abs().mean(),
    }
    return to_metrics_frame(values, class_name)
