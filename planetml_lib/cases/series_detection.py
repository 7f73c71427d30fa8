"""Steps shared by the cases that detect intervals (events) in a time series.

A detection case turns a regular time series into per-sample probabilities with a
sequence model, then into events, and scores both against a reference catalogue. The
pieces here carry no case-specific settings: each takes what it needs as arguments.
"""

import numpy as np
import pandas as pd

from planetml_lib.datasets import load_catalog
from planetml_lib.device import model_device
from planetml_lib.evaluate import evaluate_binary, evaluate_events
from planetml_lib.preprocess import (
    events_to_mask,
    from_windows,
    mask_to_events,
    to_windows,
)
from planetml_lib.preprocess.events import event_statistic
from planetml_lib.train.loop import predict_batches

VALID = "valid"


def model_input(ds, scaler, variables):
    """Scaled ``variables`` with gaps set to 0, plus the ``valid`` channel that marks where gaps were.

    Variables missing from ``ds`` become 0 (the training centre after scaling) without
    touching ``valid``: models trained with channel dropout expect exactly that.
    """
    missing = {name: ("time", np.full(ds.sizes["time"], np.nan)) for name in variables if name not in ds}
    scaled = scaler.transform(ds.assign(missing)[list(variables)]).fillna(0.0)
    scaled[VALID] = ds[VALID].astype("float32")
    return scaled


def input_windows(ds, scaler, variables, length, stride):
    """Model input windows ``(n_windows, n_variables + 1, length)`` and their start times."""
    inputs = model_input(ds, scaler, variables)
    return to_windows(inputs, list(variables) + [VALID], length, stride, fill_value=0.0)


def predict_series(model, ds, scaler, variables, length, activation="sigmoid", batch_size=32, device=None,
                   progress=False):
    """Run ``model`` over a whole series in half-overlapping windows and stitch the outputs.

    Returns an array ``(n_times, n_outputs)``: the mean of the overlapping windows' outputs
    at each sample. A series shorter than one window is padded (with the ``valid`` channel 0).
    ``batch_size`` windows go through the model at once, on ``device`` (default: where the
    model's weights are), with a progress bar if ``progress`` (see
    :func:`~planetml_lib.train.loop.predict_batches`).
    """
    X, starts = input_windows(ds, scaler, variables, length, max(length // 2, 1))
    device = model_device(model) if device is None else device
    outputs = predict_batches(model, X, batch_size=batch_size, device=device, activation=activation,
                              progress=progress)
    stitched = from_windows(outputs, starts, ds["time"].values, length, max(length // 2, 1))
    return np.asarray(stitched.values).reshape(ds.sizes["time"], -1)


def probability_to_events(probability, time, valid, threshold, min_duration_h, max_gap_h, label):
    """Threshold a per-sample probability and clean the runs into events (gaps never count).

    Each event's ``score`` is the mean probability over its samples (gaps left out, bridged
    stretches below the threshold counted): how sure the model was across the whole event.
    """
    events = mask_to_events(np.asarray(probability) > threshold, time, label=label, valid=valid,
                            min_duration=pd.Timedelta(hours=min_duration_h), max_gap=pd.Timedelta(hours=max_gap_h))
    return events.assign(score=event_statistic(events, time, probability))


def catalogue_events(ds, catalogue=None):
    """Events of ``ds.attrs["spacecraft"]`` in ``catalogue`` that overlap the time range of ``ds``.

    ``catalogue`` defaults to the one the series names (``attrs["catalog"]``, set by
    :func:`~planetml_lib.datasets.load_sample`), else "icmecat".

    The catalogue, not the per-sample label, is the reference for event scores: the label
    is cut by every data gap, the catalogue's events are not.
    """
    catalogue = catalogue or ds.attrs.get("catalog", "icmecat")
    events = load_catalog(catalogue, spacecraft=ds.attrs.get("spacecraft", "unknown"))
    first, last = ds["time"].values[0], ds["time"].values[-1]
    return events[(events["end"] >= first) & (events["start"] <= last)].reset_index(drop=True)


def score_detection(ds, label, pred_events, true_events):
    """Tidy metrics: per sample (gaps excluded; column ``level`` "sample") and per event
    with the lenient and the strict scoring (levels "event_lenient", "event_strict")."""
    true_mask = ds[label].fillna(0).values.astype(bool)
    pred_mask = events_to_mask(pred_events, ds["time"].values)
    tables = [evaluate_binary(true_mask, pred_mask, valid=ds[VALID].values).assign(level="sample")]
    for method in ("lenient", "strict"):
        tables.append(evaluate_events(pred_events, true_events, method=method).assign(level=f"event_{method}"))
    return pd.concat(tables, ignore_index=True)
