"""Choosing a decision threshold on validation data, never on the test set."""

import numpy as np
import pandas as pd

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.classes import evaluate_binary


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
