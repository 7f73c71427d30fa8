"""Choosing a decision threshold on validation data, never on the test set."""

import numpy as np
import pandas as pd

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.classes import evaluate_binary
from planetml_lib.evaluate.events import evaluate_events
from planetml_lib.preprocess.events import mask_to_events


def choose_threshold(y_true, probability, valid=None, metric="TSS", candidates=None):
    """Return the probability threshold that maximises ``metric`` on (validation) data.

    Parameters
    ----------
    y_true : array of bool, shape (n_samples,)
        True classes of the validation samples.
    probability : array of float, shape (n_samples,)
        Predicted probability of the positive class; NaN counts as negative.
    valid : array of bool, optional
        Samples to score (e.g. not in a data gap).
    metric : str
        A metric of :func:`~planetml_lib.evaluate.evaluate_binary`, e.g. ``"TSS"``, ``"F1"``, ``"IoU"``.
    candidates : array of float, optional
        Thresholds to try; default 0.05, 0.10, ..., 0.95.

    Returns
    -------
    best : float
        The threshold with the highest score (the lowest one on ties).
    scores : pandas.DataFrame
        Columns ``threshold`` and ``metric``: the whole curve, to plot and report.
    """
    candidates = np.round(np.arange(0.05, 0.951, 0.05), 2) if candidates is None else np.asarray(candidates)
    probability = np.nan_to_num(np.asarray(probability, dtype=float), nan=0.0)
    rows = []
    for threshold in candidates:
        metrics = evaluate_binary(y_true, probability > threshold, valid=valid)
        values = dict(zip(metrics["metric"], metrics["value"], strict=True))
        if metric not in values:
            raise PlanetMLError(f"unknown metric {metric!r}; choose from {sorted(values)}")
        rows.append({"threshold": float(threshold), metric: values[metric]})
    scores = pd.DataFrame(rows)
    best = float(scores.loc[scores[metric].idxmax(), "threshold"])
    return best, scores


def choose_event_postprocessing(probability, time, valid, true_events, thresholds, min_durations_h, max_gaps_h,
                                method="lenient"):
    """Grid-search the probability → events settings on (validation) data.

    Every combination of threshold, minimum duration and merging gap turns ``probability``
    into events, scored against ``true_events`` with :func:`evaluate_events`. The best
    has the highest event F1; ties go to the fewest predicted events, then to the order
    of the grid.

    Parameters
    ----------
    probability : array of float, shape (n_samples,)
        Per-sample probability; NaN (gaps) never belongs to an event.
    time : array of datetime64, shape (n_samples,)
    valid : array of bool, shape (n_samples,)
    true_events : pandas.DataFrame
        Reference events (events contract).
    thresholds, min_durations_h, max_gaps_h : sequence of float
        The grid; durations and gaps in hours.
    method : {"lenient", "strict"}
        Event scoring used for F1.

    Returns
    -------
    best : dict
        ``threshold``, ``min_duration_h``, ``max_gap_h``.
    scores : pandas.DataFrame
        One row per combination with ``F1``, ``precision``, ``recall`` and ``n_pred``.
    """
    probability = np.nan_to_num(np.asarray(probability, dtype=float), nan=0.0)
    rows = []
    for threshold in thresholds:
        for min_duration in min_durations_h:
            for max_gap in max_gaps_h:
                events = mask_to_events(probability > threshold, time, valid=valid,
                                        min_duration=pd.Timedelta(hours=min_duration),
                                        max_gap=pd.Timedelta(hours=max_gap))
                metrics = evaluate_events(events, true_events, method=method)
                values = dict(zip(metrics["metric"], metrics["value"], strict=True))
                rows.append({"threshold": float(threshold), "min_duration_h": float(min_duration),
                             "max_gap_h": float(max_gap), **{k: values[k] for k in ("F1", "precision", "recall")},
                             "n_pred": int(values["n_pred"])})
    scores = pd.DataFrame(rows)
    ranked = scores.assign(F1=scores["F1"].fillna(-1.0)).sort_values(["F1", "n_pred"], ascending=[False, True],
                                                                     kind="stable")
    best = ranked.iloc[0][["threshold", "min_duration_h", "max_gap_h"]].astype(float).to_dict()
    return best, scores
