"""Per-sample classification skill: binary and multi-class.

Scores compare labels sample by sample (time steps or pixels). Every function
returns the package's tidy metrics frame: columns ``metric``, ``class``,
``value``, with stable metric names. Samples marked invalid (``valid`` False,
e.g. data gaps) or NaN in either input are left out of every count. A ratio
whose denominator is zero is NaN, never an error.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

from planetml_lib.errors import PlanetMLError


def to_metrics_frame(values, class_name):
    """Turn ``{metric: value}`` into the tidy frame (columns metric, class, value).

    Examples
    --------
    >>> to_metrics_frame({"recall": 0.5}, "ICME")
       metric class  value
    0  recall  ICME    0.5
    """
    return pd.DataFrame({"metric": list(values), "class": class_name,
                         "value": np.array(list(values.values()), dtype=float)})


def _ratio(num, den):
    """``num / den`` as float, NaN when ``den`` is 0."""
    return float(num) / den if den else float("nan")


def _kept_pairs(y_true, y_pred, valid):
    """Flatten both label arrays and drop invalid or NaN samples."""
    true, pred = np.asarray(y_true), np.asarray(y_pred)
    if true.shape != pred.shape:
        raise PlanetMLError(f"y_true shape {true.shape} differs from y_pred shape {pred.shape}")
    keep = np.ones(true.shape, dtype=bool)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != true.shape:
            raise PlanetMLError(f"valid shape {valid.shape} differs from label shape {true.shape}")
        keep &= valid
    for arr in (true, pred):
        if arr.dtype.kind == "f":
            keep &= ~np.isnan(arr)
    return true[keep], pred[keep]


def confusion_counts(y_true, y_pred, valid=None):
    """Count TP, FP, FN, TN of two binary label arrays.

    Parameters
    ----------
    y_true, y_pred : array-like, any shape (same for both)
        Bool or 0/1 labels (non-zero is positive); NaN samples are skipped.
    valid : array-like of bool, same shape, optional
        Samples marked False are skipped.

    Returns
    -------
    dict
        ``{"TP": int, "FP": int, "FN": int, "TN": int}``.

    Examples
    --------
    >>> confusion_counts([1, 1, 0, 0], [1, 0, 1, 0])
    {'TP': 1, 'FP': 1, 'FN': 1, 'TN': 1}
    """
    true, pred = (arr.astype(bool) for arr in _kept_pairs(y_true, y_pred, valid))
    return {"TP": int(np.sum(true & pred)), "FP": int(np.sum(~true & pred)),
            "FN": int(np.sum(true & ~pred)), "TN": int(np.sum(~true & ~pred))}


def evaluate_binary(y_true, y_pred, valid=None, class_name="positive"):
    """Score a binary per-sample prediction (e.g. ICME / no ICME at each time step).

    Metrics: ``accuracy``; ``precision`` = TP/(TP+FP); ``recall`` = TP/(TP+FN);
    ``TSS`` (Hanssen-Kuipers) = recall - FP/(FP+TN); ``HSS`` (Heidke) =
    2(TP·TN - FN·FP) / ((TP+FN)(FN+TN) + (TP+FP)(FP+TN)); ``IoU`` =
    TP/(TP+FP+FN); ``Dice`` = 2TP/(2TP+FP+FN) (equal to F1); the counts
    ``TP``, ``FP``, ``FN``, ``TN``; ``base_rate`` = (TP+FN)/N.

    Parameters
    ----------
    y_true, y_pred, valid : see :func:`confusion_counts`.
    class_name : str
        Value of the ``class`` column.

    Returns
    -------
    pd.DataFrame
        Tidy metrics, columns ``metric``, ``class``, ``value``.

    Examples
    --------
    >>> m = evaluate_binary([1, 1, 0, 0], [1, 0, 0, 0])
    >>> m.set_index("metric").loc[["recall", "TSS"], "value"].tolist()
    [0.5, 0.5]
    """
    c = confusion_counts(y_true, y_pred, valid)
    tp, fp, fn, tn = c["TP"], c["FP"], c["FN"], c["TN"]
    n = tp + fp + fn + tn
    recall = _ratio(tp, tp + fn)
    hss_den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)
    values = {
        "accuracy": _ratio(tp + tn, n),
        "precision": _ratio(tp, tp + fp),
        "recall": recall,
        "TSS": recall - _ratio(fp, fp + tn),
        "HSS": _ratio(2 * (tp * tn - fn * fp), hss_den),
        "IoU": _ratio(tp, tp + fp + fn),
        "Dice": _ratio(2 * tp, 2 * tp + fp + fn),
        **c,
        "base_rate": _ratio(tp + fn, n),
    }
    return to_metrics_frame(values, class_name)


def evaluate_multiclass(y_true, y_pred, class_names, valid=None):
    """Score a multi-class per-sample prediction (e.g. plasma regions at Mercury).

    Parameters
    ----------
    y_true, y_pred : array-like of int, any shape (same for both)
        Class indices ``0 .. len(class_names) - 1``; NaN samples are skipped.
    class_names : list of str
        Name of each class index, used in the ``class`` column.
    valid : array-like of bool, optional
        Samples marked False are skipped.

    Returns
    -------
    pd.DataFrame
        Tidy metrics: ``precision``, ``recall``, ``F1`` and ``support`` (number
        of true samples) per class; ``F1`` for class ``"macro"`` (mean of the
        per-class F1 that are defined, i.e. classes seen in truth or
        prediction); ``accuracy`` for class ``"all"``.

    Examples
    --------
    >>> m = evaluate_multiclass([0, 1, 2, 2], [0, 1, 2, 1], ["sw", "msh", "msp"])
    >>> m.query("`class` == 'macro'").value.round(3).tolist()
    [0.778]
    """
    true, pred = _kept_pairs(y_true, y_pred, valid)
    n_classes = len(class_names)
    for name, arr in (("y_true", true), ("y_pred", pred)):
        if arr.size and (arr.min() < 0 or arr.max() >= n_classes or (arr != np.round(arr)).any()):
            raise PlanetMLError(f"{name} holds values outside the class indices 0..{n_classes - 1}")
    precision, recall, f1, support = precision_recall_fscore_support(
        true.astype(int), pred.astype(int), labels=np.arange(n_classes), zero_division=np.nan)
    frames = [to_metrics_frame({"precision": precision[k], "recall": recall[k], "F1": f1[k],
                                "support": support[k]}, name) for k, name in enumerate(class_names)]
    macro = np.nanmean(f1) if np.isfinite(f1).any() else float("nan")
    frames.append(to_metrics_frame({"F1": macro}, "macro"))
    frames.append(to_metrics_frame({"accuracy": _ratio(np.sum(true == pred), true.size)}, "all"))
    return pd.concat(frames, ignore_index=True)
