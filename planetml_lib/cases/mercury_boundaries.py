"""Mercury's bow shock and magnetopause in MESSENGER magnetometer data: CNN+LSTM, 5 regions.

Every sample of an orbit belongs to one of five regions: 0 IMF (solar wind), 1 SK (bow-shock
crossing), 2 MSh (magnetosheath), 3 MP (magnetopause crossing), 4 MSp (magnetosphere). A
CNN+LSTM labels each sample; smoothed labels become per-orbit inbound and outbound crossing
intervals, scored against the Philpott et al. (2020) list by timing error.

The magnetometer data cannot be shipped, so training, tests and demos run on SIMULATED orbits
(:mod:`planetml_lib.simulate.messenger`): real MESSENGER orbit times and real Philpott crossing
times, with a physics-based field. Every result of this case on simulated data says so. Real
PDS files (``MAGMSOSCIAVG*.TAB``) are read by :func:`read_input` for prediction.

Cadence: the PDS 10-second product (4,320 samples per 12-hour orbit), windows of 1 hour.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from torch import nn

from planetml_lib.cases.series_detection import VALID, input_windows, predict_series
from planetml_lib.cases.trained import TrainedModel
from planetml_lib.cases.trained import load_trained as _load_trained
from planetml_lib.datasets import DATA_DIR, load_catalog, load_messenger_orbits
from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate import evaluate_multiclass
from planetml_lib.evaluate.crossings import evaluate_crossings, extract_crossings, smooth_regions
from planetml_lib.io.pds import read_messenger_mag
from planetml_lib.models import create_model
from planetml_lib.models.rules import BowShockRules
from planetml_lib.preprocess import DatasetScaler, regularize, to_windows
from planetml_lib.preprocess.mercury import REGIONS, add_boundary_features
from planetml_lib.simulate import complete_orbits, simulate_orbits
from planetml_lib.train.active import run_active_learning
from planetml_lib.train.loop import fit, set_seed
from planetml_lib.train.systems import class_weights_from_labels
from planetml_lib.viz.regions import plot_regions

TITLE = "Mercury's bow shock and magnetopause from MESSENGER magnetometer data (CNN+LSTM, 5 regions; simulated)"
METRIC_LEVELS = ("sample", "crossing")  # the ``level`` column of evaluate()
LABEL = "region"
SHIPPED_MODEL = DATA_DIR / "models" / "mercury_cnnlstm"


@dataclass(frozen=True)
class Config:
    """Settings of the Mercury boundaries case; override with ``dataclasses.replace``."""

    cadence: str = "10s"                         # the PDS 10-s product
    fluctuation_window: str = "60s"              # rolling std of |B|
    variables: tuple = ("bx", "by", "bz", "b_mag", "bx_ext", "by_ext", "bz_ext", "b_mag_std_60s",
                        "r_msm", "mlat_deg", "lt_cos", "lt_sin", "t_periapsis_h")
    first_orbit: int = 1000                      # splits are consecutive complete orbits from here
    n_train: int = 40
    n_validation: int = 10
    n_test: int = 10
    seed: int = 0                                # simulation and training
    window: int = 360                            # samples per window (1 h at 10 s)
    stride: int = 60                             # hop between training windows (10 min)
    model: str = "cnnlstm"
    model_options: dict = field(default_factory=lambda: {"conv_channels": [32, 64, 64], "lstm_hidden": 64})
    epochs: int = 15
    batch_size: int = 32
    lr: float = 1e-3
    patience: int = 4
    smooth_window: int = 7                       # samples of the majority filter before crossings
    max_offset: str = "10min"                    # a crossing counts as found within this offset
    progress: bool = True

    @classmethod
    def fast(cls):
        """A tiny model on a few orbits at 60 s: seconds, for tests and notebooks."""
        return cls(cadence="60s", fluctuation_window="300s",
                   variables=("bx", "by", "bz", "b_mag", "bx_ext", "by_ext", "bz_ext", "b_mag_std_300s",
                              "r_msm", "mlat_deg", "lt_cos", "lt_sin", "t_periapsis_h"),
                   n_train=3, n_validation=1, n_test=1, window=120, stride=60,
                   model_options={"conv_channels": [8, 8, 8], "lstm_hidden": 8, "lstm_layers": 1},
                   epochs=1, smooth_window=3, progress=False)


def split_orbits(config):
    """Consecutive complete orbits from ``config.first_orbit``: train, then validation, then test."""
    orbits = np.sort(complete_orbits(load_catalog("philpott2020"), load_messenger_orbits()))
    orbits = orbits[orbits >= config.first_orbit]
    n = config.n_train + config.n_validation + config.n_test
    if len(orbits) < n:
        raise PlanetMLError(f"only {len(orbits)} complete orbits from orbit {config.first_orbit}; need {n}")
    cuts = np.cumsum([config.n_train, config.n_validation])
    return dict(zip(("train", "validation", "test"), np.split(orbits[:n], cuts), strict=True))


def prepare(ds, config):
    """Regular grid with gaps visible, and the boundary features of the model's inputs.

    Rows inserted in gaps take the orbit number of the sample before them.
    """
    ds = regularize(add_boundary_features(ds, window=config.fluctuation_window), config.cadence)
    if "orbit" in ds.coords:
        ds = ds.assign_coords(orbit=("time", pd.Series(ds["orbit"].values).ffill().bfill().to_numpy(int)))
    return ds


def load_data(config):
    """Simulated orbits, split by orbit: ``{"train", "validation", "test"}`` Datasets. SIMULATED."""
    crossings = load_catalog("philpott2020")
    return {name: prepare(simulate_orbits(orbits.tolist(), crossings, config.cadence, config.seed), config)
            for name, orbits in split_orbits(config).items()}


def read_input(paths):
    """Read real MESSENGER PDS magnetometer files (any cadence) and number their orbits.

    :func:`predict` averages them to the model's cadence and adds the features.
    """
    ds = read_messenger_mag(list(np.atleast_1d(paths)))
    orbits = load_messenger_orbits()
    index = np.searchsorted(orbits["start"].values, ds["time"].values, side="right") - 1
    return ds.assign_coords(orbit=("time", orbits["orbit"].values[np.clip(index, 0, None)]))


def prepare_for_model(ds, config):
    """``ds`` as the model needs it: averaged to its cadence, with features and ``valid``.

    The averaging goes through pandas (one vectorised pass; xarray's resample loops over bins).
    """
    if VALID in ds:
        return ds
    table = ds.reset_coords().to_dataframe().resample(config.cadence).mean()
    averaged = xr.Dataset.from_dataframe(table.rename_axis("time")).assign_attrs(ds.attrs)
    for name in ds.data_vars:
        averaged[name].attrs = ds[name].attrs
    if "orbit" in ds.coords:
        averaged = averaged.set_coords("orbit")
    return prepare(averaged, config)


def model_options(config):
    """All keywords of the network: one input channel per variable plus ``valid``; five regions."""
    return {"in_channels": len(config.variables) + 1, "n_classes": len(REGIONS), **config.model_options}


def build_model(config):
    """The untrained CNN+LSTM described by ``config``."""
    return create_model(config.model, **model_options(config))


def _pairs(config, ds, scaler):
    X, _ = input_windows(ds, scaler, config.variables, config.window, config.stride)
    y, _ = to_windows(ds[[LABEL]].fillna(0), [LABEL], config.window, config.stride, fill_value=0.0)
    return X, y[:, 0].astype("int64")


def fit_model(config, train_sets, val_set, epochs=None):
    """Scale on the training orbits, train with class-weighted cross-entropy; return (model, scaler, history)."""
    set_seed(config.seed)
    train = xr.concat(train_sets, "time", combine_attrs="override")
    scaler = DatasetScaler(variables=list(config.variables), method="robust").fit(train)
    X, y = _pairs(config, train, scaler)
    loss = nn.CrossEntropyLoss(weight=class_weights_from_labels(y, len(REGIONS)))
    model = build_model(config)
    history = fit(model, (X, y), _pairs(config, val_set, scaler), loss, epochs=epochs or config.epochs, lr=config.lr,
                  batch_size=config.batch_size, patience=config.patience, seed=config.seed, progress=config.progress)
    return model, scaler, history


def train(config, data):
    """Train on the training orbits with early stopping on the validation orbits."""
    model, scaler, history = fit_model(config, [data["train"]], data["validation"])
    metadata = {
        "case": "mercury_boundaries",
        "simulated_training_data": True,
        "input_variables": list(config.variables),
        "units": {v: data["train"][v].attrs.get("units", "") for v in config.variables},
        "cadence": config.cadence,
        "window": config.window,
        "normalisation": scaler.get_state(),
        "class_names": list(REGIONS),
        "training_data": {name: sorted(set(data[name]["orbit"].values.tolist())) for name in ("train", "validation")},
        "epochs_run": int(len(history)),
    }
    return TrainedModel(model=model, model_options=model_options(config), config=config, metadata=metadata,
                        history=history)


def load_trained(folder=SHIPPED_MODEL):
    """Load a model folder written by ``train(...).save(folder)``; default the shipped model."""
    return _load_trained(folder, Config)


def predict_proba(trained, ds):
    """Per-sample region probabilities ``(n_times, 5)``; NaN in data gaps."""
    config = trained.config
    scaler = DatasetScaler.from_state(trained.metadata["normalisation"])
    probabilities = predict_series(trained.model, ds, scaler, config.variables, config.window, activation="softmax")
    probabilities[~ds[VALID].values] = np.nan
    return probabilities


def predict(trained, ds):
    """Return ``(regions, crossings)``: smoothed per-sample regions (DataArray, -1 in gaps) and the
    per-orbit inbound and outbound bow-shock and magnetopause crossings (events)."""
    ds = prepare_for_model(ds, trained.config)
    regions = smooth_regions(predict_proba(trained, ds), trained.config.smooth_window)
    orbit = ds["orbit"].values if "orbit" in ds.coords else None
    crossings = extract_crossings(regions, ds["time"].values, orbit=orbit)
    return xr.DataArray(regions, coords={"time": ds["time"].values}, dims="time", name="predicted_region"), crossings


def reference_crossings(ds):
    """Philpott et al. (2020) crossings of the orbits in ``ds``."""
    crossings = load_catalog("philpott2020")
    return crossings[crossings["orbit"].isin(np.unique(ds["orbit"].values))].reset_index(drop=True)


def evaluate(trained, ds):
    """Tidy metrics: per-sample region scores (level "sample") and crossing timing (level "crossing")."""
    regions, crossings = predict(trained, ds)
    valid = ds[VALID].values
    samples = evaluate_multiclass(ds[LABEL].values, regions.values, list(REGIONS), valid=valid)
    timing = evaluate_crossings(crossings, reference_crossings(ds), max_offset=trained.config.max_offset)
    return pd.concat([samples.assign(level="sample"), timing.assign(level="crossing")], ignore_index=True)


def plot_results(trained, ds):
    """Magnetogram with the true regions and the predicted regions coloured beneath it. SIMULATED data."""
    regions, _ = predict(trained, ds)
    return plot_regions(ds, regions.values, title="simulated MESSENGER orbit(s): true regions (upper bar), "
                                                        "predicted (lower bar)")


def _orbits(ds, orbits):
    """The samples of ``ds`` on the given orbits."""
    return ds.isel(time=np.flatnonzero(np.isin(ds["orbit"].values, list(orbits))))


def active_learning_curve(config, data, strategy="entropy", initial=4, per_round=4, n_rounds=4, epochs=None):
    """Macro F1 on the test orbits against the number of labelled training orbits. SIMULATED data.

    Starts from ``initial`` orbits of the training split drawn at random (seeded), trains a
    fresh model, then adds the ``per_round`` pool orbits with the highest mean predictive
    entropy (``strategy="entropy"``) or drawn at random (``"random"``). Early stopping
    uses the validation orbits; the test orbits only score.
    """
    def fit_fn(labelled):
        return fit_model(config, [_orbits(data["train"], labelled)], data["validation"], epochs=epochs)

    def predict_proba_fn(fitted, orbits):
        trained = _as_trained(config, fitted)
        return {k: predict_proba(trained, _orbits(data["train"], [k])) for k in orbits}

    def score_fn(fitted):
        metrics = evaluate(_as_trained(config, fitted), data["test"])
        return float(metrics.query("level == 'sample' and metric == 'F1' and `class` == 'macro'")["value"].item())

    pool = sorted(set(data["train"]["orbit"].values.tolist()))
    return run_active_learning(fit_fn, predict_proba_fn, score_fn, pool, initial, per_round, n_rounds,
                               strategy=strategy, random_state=config.seed)


def _as_trained(config, fitted):
    model, scaler, _ = fitted
    return TrainedModel(model=model, model_options=model_options(config), config=config,
                        metadata={"normalisation": scaler.get_state()})


def fit_rule_baseline(config, validation, windows_s=(60, 120, 300, 600), z_thresholds=(2, 3, 4, 5)):
    """The rule-based bow-shock labeller with its smoothing window and z-score threshold chosen
    on the validation orbits (highest detection rate within ``config.max_offset``, then the
    smallest median timing error). Windows too short for the data's cadence are left out.
    Returns ``(rules, grid)``."""
    truth = reference_crossings(validation)
    truth = truth[truth["label"].str.startswith("bow_shock")]
    rows = []
    for window_s in windows_s:
        for z_threshold in z_thresholds:
            rules = BowShockRules(["bx_ext", "by_ext", "bz_ext"], orbit_variable="orbit", window_s=window_s,
                                  z_threshold=z_threshold)
            try:
                predicted = rules.predict(validation)
            except PlanetMLError:  # the window holds too few samples at this cadence
                continue
            scores = evaluate_crossings(predicted, truth, max_offset=config.max_offset)
            overall = scores[scores["class"] == "all"].set_index("metric")["value"]
            rows.append({"window_s": window_s, "z_threshold": z_threshold,
                         "detection_rate": overall["detection_rate"],
                         "centre_error_s": overall["centre_abs_error_s_median"]})
    if not rows:
        raise PlanetMLError(f"no window in {windows_s} s holds enough samples at cadence {config.cadence}")
    grid = pd.DataFrame(rows)
    best = grid.sort_values(["detection_rate", "centre_error_s"], ascending=[False, True], kind="stable").iloc[0]
    return BowShockRules(["bx_ext", "by_ext", "bz_ext"], orbit_variable="orbit", window_s=float(best["window_s"]),
                         z_threshold=float(best["z_threshold"])), grid
