"""Gradient-boosted trees on rolling-window statistics, per sample: the baseline for the solar-wind networks.

Any reviewer of a deep ICME detector asks whether a per-sample tree ensemble does as well. This
one sees the same variables, scaling, splits and post-processing choice as the networks
(:mod:`~planetml_lib.cases.solarwind_detection`): each sample's scaled values plus their
centred rolling mean and standard deviation over :data:`ROLLING_WINDOWS`, fed to scikit-learn's
``HistGradientBoostingClassifier`` (missing values handled natively), with its threshold,
minimum duration and merging gap chosen out of fold over the same periods.
"""

from dataclasses import dataclass

import numpy as np
import xarray as xr
from sklearn.ensemble import HistGradientBoostingClassifier

from planetml_lib.cases.base import Detection
from planetml_lib.cases.series_detection import VALID, catalogue_events, probability_to_events, score_detection
from planetml_lib.cases.solarwind_detection import (
    EVENT_LABEL,
    LABEL,
    at_cadence,
    choose_postprocessing,
    make_scaler,
    series_scaler,
)
from planetml_lib.preprocess import add_rolling_features, regularize

#: Rolling windows of the per-sample context: a few hours (sheath, shock) and a day (magnetic obstacle).
ROLLING_WINDOWS = ("6h", "24h")


@dataclass(frozen=True)
class BoostedDetector:
    """A fitted baseline: the classifier, its training scaler, the case config and the chosen post-processing."""

    model: HistGradientBoostingClassifier
    scaler: object
    config: object
    postprocessing: dict
    chosen_on: dict


def features(config, ds, scaler):
    """Per-sample feature table ``(n_times, n_features)``: scaled variables and their rolling statistics.

    Variables ``ds`` lacks are NaN columns (the trees route missing values on their own).
    """
    missing = {name: ("time", np.full(ds.sizes["time"], np.nan)) for name in config.variables if name not in ds}
    full = ds.assign(missing)
    scaled = series_scaler(config, ds, scaler).transform(full[list(config.variables)])
    scaled.attrs["cadence"] = ds.attrs.get("cadence", config.freq)
    columns = [scaled[list(config.variables)]]
    for window in ROLLING_WINDOWS:
        rolled = add_rolling_features(scaled, list(config.variables), window)
        columns.append(rolled.drop_vars(list(config.variables)))
    table = xr.merge(columns, compat="override").to_dataframe()
    return table.to_numpy(dtype="float32")


def fit_boosting(config, series, scaler):
    """The classifier fitted on every sample of ``series`` (a list of Datasets, each featured on its own)."""
    X = np.concatenate([features(config, ds, scaler) for ds in series])
    y = np.concatenate([ds[LABEL].fillna(0).values.astype(int) for ds in series])
    model = HistGradientBoostingClassifier(max_iter=config.boosting_iterations, learning_rate=0.1,
                                           class_weight="balanced",
                                           random_state=config.seed)
    return model.fit(X, y)


def boosting_probability(config, model, ds, scaler):
    """Per-sample event probability on ``ds.time`` (NaN in gaps), like the networks'."""
    values = model.predict_proba(features(config, ds, scaler))[:, 1]
    return ds[VALID].copy(data=values).where(ds[VALID]).rename("probability")


def _fold(config):
    def fit_predict(others, held_out):
        scaler = make_scaler(config).fit(xr.concat(others, "time"))
        return boosting_probability(config, fit_boosting(config, others, scaler), held_out, scaler)
    return fit_predict


def train_boosting(config, data):
    """Fit on ``data["train"]`` and choose the post-processing as the networks do; return a :class:`BoostedDetector`."""
    scaler = make_scaler(config).fit(data["train"])
    model = fit_boosting(config, [data["train"]], scaler)
    chosen, chosen_on = choose_postprocessing(config, data, _fold(config),
                                              lambda: boosting_probability(config, model, data["validation"], scaler))
    return BoostedDetector(model, scaler, config, chosen, chosen_on)


def predict_boosting(detector, data):
    """Probability and events of the baseline on ``data`` (at the model's cadence or finer), a :class:`Detection`."""
    config, post = detector.config, detector.postprocessing
    ds = at_cadence(data if VALID in data else regularize(data), config.freq)
    probability = boosting_probability(config, detector.model, ds, detector.scaler)
    events = probability_to_events(probability.values, ds["time"].values, ds[VALID].values, post["threshold"],
                                   post["min_duration_h"], post["max_gap_h"], label=EVENT_LABEL)
    return Detection(probability, events.assign(spacecraft=ds.attrs.get("spacecraft", "unknown")))


def evaluate_boosting(detector, data):
    """Tidy metrics of the baseline on ``data``, as the case's ``evaluate`` gives them (its training data is
    ``data["train"]`` of the run: score it only on validation or test series)."""
    ds = at_cadence(data if VALID in data else regularize(data), detector.config.freq)
    events = predict_boosting(detector, ds).events
    return score_detection(ds, LABEL, events, catalogue_events(ds)).assign(data="held-out")


__all__ = ["BoostedDetector", "ROLLING_WINDOWS", "evaluate_boosting", "fit_boosting", "predict_boosting",
           "train_boosting"]
