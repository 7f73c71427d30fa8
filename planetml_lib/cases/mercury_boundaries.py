"""Mercury's bow shock and magnetopause in MESSENGER magnetometer data: CNN+LSTM, 5 regions.

Every sample of an orbit belongs to one of five regions: 0 IMF (solar wind), 1 SK (bow-shock
crossing), 2 MSh (magnetosheath), 3 MP (magnetopause crossing), 4 MSp (magnetosphere). A
CNN+LSTM labels each sample; its probabilities, with the loss's class weighting divided out in
part and smoothed (both chosen on the validation orbits), become per-orbit inbound and outbound
crossing intervals, scored against the Philpott et al. (2020) list by timing error.

The magnetometer data cannot be shipped, so training, tests and demos run on SIMULATED orbits
(:mod:`planetml_lib.simulate.messenger`): real MESSENGER orbit times and real Philpott crossing
times, with a physics-based field. Every result of this case on simulated data says so. Real
PDS files (``MAGMSOSCIAVG*.TAB``) and orbits digitised from plots (10-s CSV, such as the shipped
sample ``messenger_orbit_1230``) are read by :func:`read_input` for prediction.

Cadence: the PDS 10-second product (4,320 samples per 12-hour orbit), windows of 1 hour.
"""

import shutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from torch import nn

from planetml_lib.cases import trained as _trained
from planetml_lib.cases.base import Detection, Kind
from planetml_lib.cases.kinds import check_options, data_records, guard_training_data, write_output
from planetml_lib.cases.metadata import ModelMetadata
from planetml_lib.cases.series_detection import VALID, input_windows, predict_series
from planetml_lib.cases.trained import TrainedModel
from planetml_lib.datasets import DATA_DIR, load_catalog, load_messenger_orbits, register_catalog, register_sample
from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate import evaluate_multiclass
from planetml_lib.evaluate.crossings import crossing_scores, evaluate_crossings, extract_crossings, smooth_regions
from planetml_lib.io.catalogs import read_philpott
from planetml_lib.io.messenger_csv import is_messenger_csv, read_messenger_csv
from planetml_lib.io.pds import read_messenger_mag
from planetml_lib.models import create_model
from planetml_lib.models.rules import BowShockRules
from planetml_lib.preprocess import DatasetScaler, cadence_of, regularize, to_windows
from planetml_lib.preprocess.mercury import REGIONS, add_boundary_features
from planetml_lib.simulate import complete_orbits, simulate_orbits
from planetml_lib.train.active import run_active_learning
from planetml_lib.train.loop import fit, seeded
from planetml_lib.train.systems import class_weights_from_labels
from planetml_lib.viz.regions import plot_regions

NAME = "mercury_boundaries"
TITLE = "Mercury's bow shock and magnetopause from MESSENGER magnetometer data (CNN+LSTM, 5 regions; simulated)"
KIND = Kind.INTERVAL_EVENTS
METRIC_LEVELS = ("sample", "sample_postprocessed", "crossing")  # the ``level`` column of evaluate()
LABEL = "region"
SHIPPED_MODELS = {"magnetometer": DATA_DIR / "models" / "mercury_cnnlstm"}
SIMULATION = ("magnetic field simulated by planetml_lib.simulate.messenger on real MESSENGER orbit times and "
              "real Philpott et al. (2020) crossing times")

register_catalog("philpott2020", "mercury/philpott2020_boundaries.csv.gz",
                 "MESSENGER bow-shock and magnetopause crossings, 16,239 traversals of orbits 12-4104 "
                 "(Philpott et al. 2020)", read_philpott)
register_sample("messenger_orbit_1230", "mercury/messenger_mag_10s_orbit1230.csv.gz",
                "real MESSENGER MAG, orbit 1230 (2012-09-07), 10 s, digitised from plots; Philpott crossings "
                "15:03-17:28 UT", NAME)


@dataclass(frozen=True)
class Config:
    """Settings of the Mercury boundaries case; override with ``dataclasses.replace``."""

    cadence: str = "10s"                         # the PDS 10-s product
    fluctuation_window: str = "60s"              # rolling std of |B|
    variables: tuple = ("bx", "by", "bz", "b_mag", "bx_ext", "by_ext", "bz_ext", "b_mag_std_60s",
                        "r_msm", "mlat_deg", "lt_cos", "lt_sin", "t_periapsis_h")
    first_orbit: int = 1000                      # the splits spread over span_orbits orbits from here
    span_orbits: int = 264                       # one Mercury year (88 days) of 8-hour orbits
    n_train: int = 120                           # chosen on validation orbits (benchmarks/mercury_training_orbits.py)
    n_validation: int = 20
    n_test: int = 20
    seed: int = 0                                # simulation and training
    window: int = 360                            # samples per window (1 h at 10 s)
    stride: int = 60                             # hop between training windows (10 min)
    model: str = "cnnlstm"
    model_options: dict = field(default_factory=lambda: {"conv_channels": [32, 64, 64], "lstm_hidden": 64})
    epochs: int = 15
    batch_size: int = 32
    lr: float = 1e-3
    patience: int = 4
    smooth_windows: tuple = (1, 3, 5, 7, 9)      # probability-smoothing lengths (samples) tried on validation
    prior_corrections: tuple = (0.0, 0.25, 0.5, 0.75, 1.0)  # class-weight exponents divided out, tried likewise
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
                   epochs=1, smooth_windows=(1, 3), prior_corrections=(0.0, 1.0), progress=False)


def split_orbits(config):
    """Complete orbits spread over one Mercury year from ``config.first_orbit``, no orbit in two splits.

    The boundaries move with Mercury's distance from the Sun, so every split samples the whole
    year: evenly spaced orbits are dealt out in turn, each split keeping its share
    (``n_train : n_validation : n_test``) all along. A model trained on consecutive orbits
    places crossings worse on orbits spread over the year than one trained on orbits spread
    over it; ``benchmarks/mercury_training_orbits.py`` compares training-set sizes.
    """
    orbits = np.sort(complete_orbits(load_catalog("philpott2020"), load_messenger_orbits()))
    orbits = orbits[(orbits >= config.first_orbit) & (orbits < config.first_orbit + config.span_orbits)]
    shares = np.array([config.n_train, config.n_validation, config.n_test])
    n = int(shares.sum())
    if len(orbits) < n:
        raise PlanetMLError(f"only {len(orbits)} complete orbits in orbits {config.first_orbit} to "
                            f"{config.first_orbit + config.span_orbits - 1}; need {n}")
    chosen = orbits[np.linspace(0, len(orbits) - 1, n).round().astype(int)]
    dealt = np.zeros(3)
    split = np.empty(n, dtype=int)
    for i in range(n):  # to the split furthest behind its share so far
        split[i] = np.argmax(shares * (i + 1) / n - dealt)
        dealt[split[i]] += 1
    return {name: chosen[split == k] for k, name in enumerate(("train", "validation", "test"))}


def simulate_prepared(orbits, config, crossings=None):
    """Simulated orbits, each prepared on its own grid and joined in time (orbits apart in time
    are not bridged by gap rows). SIMULATED."""
    crossings = load_catalog("philpott2020") if crossings is None else crossings
    parts = [prepare(simulate_orbits([int(orbit)], crossings, config.cadence, config.seed), config)
             for orbit in orbits]
    return xr.concat(parts, "time", combine_attrs="override")


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
    return {name: simulate_prepared(orbits, config, crossings) for name, orbits in split_orbits(config).items()}


def read_input(paths, **options):
    """Read real MESSENGER magnetometer files and number their orbits: PDS tables (any cadence) or, told
    by their header, the digitised 10-s CSV layout (:func:`~planetml_lib.io.messenger_csv.read_messenger_csv`).

    :func:`predict` averages them to the model's cadence and adds the features.
    """
    check_options(options, KIND)
    paths = list(np.atleast_1d(paths))
    ds = (read_messenger_csv if is_messenger_csv(paths[0]) else read_messenger_mag)(paths)
    orbits = load_messenger_orbits()
    index = np.searchsorted(orbits["start"].values, ds["time"].values, side="right") - 1
    return ds.assign_coords(orbit=("time", orbits["orbit"].values[np.clip(index, 0, None)]))


def example_input(folder):
    """Copy the shipped PDS table in the real MAG layout (a minute of SIMULATED field) into ``folder``; return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB", folder))]


def prepare_for_model(ds, config):
    """``ds`` as the model needs it: averaged to its cadence, with features and ``valid``.

    The averaging goes through pandas (one vectorised pass; xarray's resample loops over bins).
    """
    if VALID in ds:
        return ds
    table = ds.reset_coords().to_dataframe().resample(config.cadence).mean()
    n_valid = int(np.isfinite(table["bx"]).sum())
    if n_valid < 2:
        raise PlanetMLError(f"{ds.attrs.get('source', 'the data')}: holds {n_valid} valid sample(s) at the "
                            f"model's cadence {config.cadence}; give at least two (a longer file)")
    averaged = xr.Dataset.from_dataframe(table.rename_axis("time")).assign_attrs(ds.attrs)
    for name in ds.data_vars:
        averaged[name].attrs = ds[name].attrs
    if "orbit" in ds.coords:
        averaged = averaged.set_coords("orbit")
    prepared = prepare(averaged, config)
    _warn_if_coarser(ds, prepared, config)
    return prepared


def _warn_if_coarser(ds, prepared, config):
    """Warn when ``ds`` is sampled more coarsely than the model's cadence: most bins of the model's grid are
    then empty and the fluctuation feature needs several samples a window, so few or no samples are valid
    and the model finds few or no crossings, which would otherwise look like an orbit without any."""
    step = cadence_of(ds)
    if step <= pd.Timedelta(config.cadence):
        return
    warnings.warn(f"{ds.attrs.get('source', 'the data')}: input cadence {step.total_seconds():g}s is coarser than "
                  f"the model's {config.cadence}: {int(prepared[VALID].sum())} of {prepared.sizes['time']} samples "
                  f"have all the model's inputs (the {config.fluctuation_window} fluctuation of |B| needs several "
                  f"samples), so expect few or no crossings; give data at {config.cadence} or finer", stacklevel=3)


def model_options(config):
    """All keywords of the network: one input channel per variable plus ``valid``; five regions."""
    return {"in_channels": len(config.variables) + 1, "n_classes": len(REGIONS), **config.model_options}


def build_model(config):
    """The untrained CNN+LSTM described by ``config``."""
    return create_model(config.model, **model_options(config))


def _pairs(config, ds, scaler):
    """Input windows and their labels, cut within each orbit (a split's orbits are apart in time)."""
    parts = ds.groupby("orbit") if "orbit" in ds.coords else [(None, ds)]
    X, y = [], []
    for _, part in parts:
        X.append(input_windows(part, scaler, config.variables, config.window, config.stride)[0])
        y.append(to_windows(part[[LABEL]].fillna(0), [LABEL], config.window, config.stride, fill_value=0.0)[0])
    return np.concatenate(X), np.concatenate(y)[:, 0].astype("int64")


def fit_model(config, train_sets, val_set, epochs=None, test_set=None):
    """Scale on the training orbits, train with class-weighted cross-entropy, choose the
    post-processing on ``val_set``; return a :class:`TrainedModel` with the history."""
    train = xr.concat(train_sets, "time", combine_attrs="override")
    scaler = DatasetScaler(variables=list(config.variables), method="robust").fit(train)
    X, y = _pairs(config, train, scaler)
    weights = class_weights_from_labels(y, len(REGIONS))
    with seeded(config.seed):
        model = build_model(config)
    history = fit(model, (X, y), _pairs(config, val_set, scaler), nn.CrossEntropyLoss(weight=weights),
                  epochs=epochs or config.epochs, lr=config.lr, batch_size=config.batch_size,
                  patience=config.patience, seed=config.seed, progress=config.progress)
    chosen, grid = choose_postprocessing(config, model, scaler, weights.tolist(), val_set)
    validation_scores = chosen.pop("validation")
    splits = {"train": train, "validation": val_set} | ({} if test_set is None else {"test": test_set})
    metadata = ModelMetadata.of(
        NAME, KIND, config, model_options(config), simulation=SIMULATION,
        inputs={"variables": list(config.variables), "units": {v: train[v].attrs.get("units", "")
                                                               for v in config.variables},
                "cadence": config.cadence, "window": config.window, "class_names": list(REGIONS)},
        data={"test": []} | data_records(KIND, splits), normalisation=scaler.get_state(),
        postprocessing={"class_weights": weights.tolist(), **chosen},
        postprocessing_chosen_on={"what": "validation orbits", "grid": grid.to_dict(orient="records")},
        metrics={"validation": validation_scores},
        training={"epochs_run": int(len(history)), "best_epoch": int(history.attrs["best_epoch"])})
    return TrainedModel(model=model, config=config, metadata=metadata, history=history)


def regions_from_probabilities(probabilities, class_weights, prior_correction, smooth_window):
    """Per-sample regions: divide ``class_weights ** prior_correction`` out of the probabilities,
    average them over ``smooth_window`` samples, take the most likely region (-1 in gaps).

    Class-weighted cross-entropy lets the rare crossing classes win wherever they are
    plausible, so crossing intervals come out wider than the true ones; a correction of 1
    divides all of the weighting out (posteriors under the training class frequencies), 0 none.
    """
    scores = np.asarray(probabilities, dtype=float) / np.asarray(class_weights, dtype=float) ** prior_correction
    return smooth_regions(scores, smooth_window)


def choose_postprocessing(config, model, scaler, class_weights, validation):
    """The prior correction and smoothing window of ``config``'s grids with the highest
    crossing detection rate on the validation orbits, then the smallest median crossing-centre
    error, then the highest macro F1 (the rule the rule baseline is tuned by).
    Returns ``(chosen, grid)``: a dict with the validation scores, and the whole grid."""
    ds = prepare_for_model(validation, config)
    probabilities, truth = _probabilities(config, model, scaler, ds), reference_crossings(ds)
    rows = []
    for prior_correction in config.prior_corrections:
        for smooth_window in config.smooth_windows:
            regions = regions_from_probabilities(probabilities, class_weights, prior_correction, smooth_window)
            crossings = extract_crossings(regions, ds["time"].values, orbit=ds["orbit"].values)
            timing = evaluate_crossings(crossings, truth, max_offset=config.max_offset)
            overall = timing[timing["class"] == "all"].set_index("metric")["value"]
            samples = evaluate_multiclass(ds[LABEL].values, regions, list(REGIONS), valid=ds[VALID].values)
            rows.append({"prior_correction": float(prior_correction), "smooth_window": int(smooth_window),
                         "detection_rate": float(overall["detection_rate"]),
                         "centre_error_s": float(overall["centre_abs_error_s_median"]),
                         "macro_f1": float(samples.query("`class` == 'macro' and metric == 'F1'")["value"].item())})
    grid = pd.DataFrame(rows)
    best = grid.sort_values(["detection_rate", "centre_error_s", "macro_f1"], ascending=[False, True, False],
                            kind="stable").iloc[0]
    chosen = {"prior_correction": float(best["prior_correction"]), "smooth_window": int(best["smooth_window"]),
              "validation": {k: float(best[k]) for k in ("detection_rate", "centre_error_s", "macro_f1")}}
    return chosen, grid


def train(config, data):
    """Train on the training orbits with early stopping and post-processing chosen on the validation orbits."""
    return fit_model(config, [data["train"]], data["validation"], test_set=data.get("test"))


def load_trained(folder=None):
    """Load a Mercury model folder; None loads the shipped model."""
    return _trained.load_trained(folder, sys.modules[__name__])


def _probabilities(config, model, scaler, ds):
    """Per-sample region probabilities ``(n_times, 5)`` of a prepared series; NaN in data gaps."""
    probabilities = predict_series(model, ds, scaler, config.variables, config.window, activation="softmax",
                                   batch_size=config.batch_size, progress=config.progress)
    probabilities[~ds[VALID].values] = np.nan
    return probabilities


def predict_proba(trained, ds):
    """Per-sample region probabilities ``(n_times, 5)`` of a prepared series; NaN in data gaps."""
    scaler = DatasetScaler.from_state(trained.metadata.normalisation)
    return _probabilities(trained.config, trained.model, scaler, ds)


def _postprocess(trained, ds, probabilities):
    """Regions after the validation-chosen post-processing, and the crossings read from them with their
    ``score`` (:func:`~planetml_lib.evaluate.crossings.crossing_scores`)."""
    post = trained.metadata.postprocessing
    regions = regions_from_probabilities(probabilities, post["class_weights"], post["prior_correction"],
                                         post["smooth_window"])
    orbit = ds["orbit"].values if "orbit" in ds.coords else None
    crossings = extract_crossings(regions, ds["time"].values, orbit=orbit)
    return regions, crossings.assign(score=crossing_scores(crossings, ds["time"].values, probabilities))


def predict(trained, data):
    """A :class:`Detection`: post-processed per-sample regions (-1 in gaps) and the per-orbit inbound
    and outbound bow-shock and magnetopause crossings (events) read from them, each with a ``score``:
    the highest probability the model gave the boundary layer (SK or MP) within the crossing."""
    ds = prepare_for_model(data, trained.config)
    regions, crossings = _postprocess(trained, ds, predict_proba(trained, ds))
    return Detection(xr.DataArray(regions, coords={"time": ds["time"].values}, dims="time", name="predicted_region"),
                     crossings)


def reference_crossings(ds):
    """Philpott et al. (2020) crossings of the orbits in ``ds``."""
    crossings = load_catalog("philpott2020")
    return crossings[crossings["orbit"].isin(np.unique(ds["orbit"].values))].reset_index(drop=True)


def evaluate(trained, data, allow_training_data=False):
    """Tidy metrics: per-sample region scores of the CNN+LSTM's own labels (the most likely region;
    level "sample") and of the post-processed labels (level "sample_postprocessed"), and the
    timing of the crossings read from the latter (level "crossing").

    Refuses orbits inside the model's training data unless ``allow_training_data``; the
    ``data`` column says what the scores are ("held-out", "validation" or "training").
    """
    role = guard_training_data(trained.metadata, data, allow_training_data)
    ds = prepare_for_model(data, trained.config)
    probabilities = predict_proba(trained, ds)
    regions, crossings = _postprocess(trained, ds, probabilities)
    own = regions_from_probabilities(probabilities, trained.metadata.postprocessing["class_weights"], 0.0, 1)
    truth, valid = ds[LABEL].values, ds[VALID].values
    return pd.concat([
        evaluate_multiclass(truth, own, list(REGIONS), valid=valid).assign(level="sample"),
        evaluate_multiclass(truth, regions, list(REGIONS), valid=valid).assign(level="sample_postprocessed"),
        evaluate_crossings(crossings, reference_crossings(ds), max_offset=trained.config.max_offset)
        .assign(level="crossing"),
    ], ignore_index=True).assign(data=role)


def plot_results(trained, data):
    """Magnetogram with the true regions and the predicted regions coloured beneath it. SIMULATED data."""
    regions, _ = predict(trained, data)
    return plot_regions(data, regions.values, title="simulated MESSENGER orbit(s): true regions (upper bar), "
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

    def predict_proba_fn(trained, orbits):
        return {k: predict_proba(trained, _orbits(data["train"], [k])) for k in orbits}

    def score_fn(trained):
        metrics = evaluate(trained, data["test"])
        return float(metrics.query("level == 'sample' and metric == 'F1' and `class` == 'macro'")["value"].item())

    pool = sorted(set(data["train"]["orbit"].values.tolist()))
    return run_active_learning(fit_fn, predict_proba_fn, score_fn, pool, initial, per_round, n_rounds,
                               strategy=strategy, random_state=config.seed)


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


def evaluate_rule_baseline(config, rules, ds):
    """Timing scores of the rule baseline's bow-shock crossings on ``ds`` against the Philpott list
    (tidy, as ``evaluate_crossings``)."""
    truth = reference_crossings(ds)
    return evaluate_crossings(rules.predict(ds), truth[truth["label"].str.startswith("bow_shock")],
                              max_offset=config.max_offset)


__all__ = ["write_output"]
