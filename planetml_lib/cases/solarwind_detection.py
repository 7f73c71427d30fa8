"""The interval-detection base of the solar-wind cases: ICME intervals in in-situ series.

Every sample of a regular series is inside an event (an ICMECAT ICME) or not. A sequence
model turns windows into per-sample probabilities, stitched over a whole series; a threshold,
a merging gap and a minimum duration turn them into events. Those three are chosen on
out-of-fold predictions over ``Config.crossval_periods`` of the training spacecraft (each
period predicted by a model trained on the others) or, without periods, on the validation
split, and frozen in the model's metadata. The test series is never read to choose anything.

How each network learns (targets, loss, output to probability) is its registered
:class:`~planetml_lib.train.systems.DetectionSystem`. A case built on this module (``icme``,
``solarwind_tutorial``) keeps only its data and defaults: a ``Config`` subclass of
:class:`DetectionConfig` and its name.
"""

import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.cases.base import Detection, Kind
from planetml_lib.cases.kinds import check_options, data_records, guard_training_data
from planetml_lib.cases.metadata import ModelMetadata
from planetml_lib.cases.series_detection import (
    VALID,
    catalogue_events,
    input_windows,
    predict_series,
    probability_to_events,
    score_detection,
)
from planetml_lib.cases.trained import TrainedModel
from planetml_lib.datasets import DATA_DIR, load_sample
from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate import choose_event_postprocessing
from planetml_lib.io.cdf import read_cdaweb
from planetml_lib.io.omni import read_omni2
from planetml_lib.io.solarwind import read_solarwind_csv
from planetml_lib.models import create_model
from planetml_lib.preprocess import DatasetScaler, cadence_of, regularize, split_by_time, to_cadence, to_windows
from planetml_lib.preprocess.frames import gse_to_heeq
from planetml_lib.preprocess.solarwind import (
    FEATURES,
    MAGNETIC_FEATURES,
    add_derived_features,
    check_value_ranges,
    scale_field,
)
from planetml_lib.train.augment import ChannelDropout
from planetml_lib.train.loop import fit, seeded
from planetml_lib.train.systems import detection_system, make_optimizer, make_scheduler
from planetml_lib.viz import plot_prediction

KIND = Kind.INTERVAL_EVENTS
METRIC_LEVELS = ("sample", "event_lenient", "event_strict")  # the ``level`` column of evaluate()
LABEL = "icme_label"
EVENT_LABEL = "ICME"
CLASS_NAMES = ("solar wind", "ICME")


@dataclass(frozen=True)
class DetectionConfig:
    """Settings shared by the solar-wind detection cases; each case subclasses it with its defaults."""

    variables: tuple = FEATURES                  # model inputs, in channel order (plus ``valid``)
    log_variables: tuple = ()                    # span decades: scaled as log10
    freq: str = "10min"                          # the model's cadence: finer input is averaged onto it
    train_sample: str = "stereob_2013_2014"      # training and validation series
    train_period: tuple = ("2013-01-01", "2014-04-30")
    validation_period: tuple = ("2014-05-01", "2014-09-30")  # later months: disjoint in time
    test_sample: str = "stereoa_2019"            # another spacecraft, another year
    test_period: tuple = ()                      # the test's time range of test_sample; () = all of it
    cross_tests: tuple = ()                      # more test series (sample names): splits "test_<name>"
    scaling: str = "training"                    # "training": one scaler fitted on the training data;
                                                 # "per_series": each series scaled by its own median and IQR
    window: int = 256                            # samples per model window
    stride: int = 64                             # hop between training windows
    model: str = "convnet1d"
    model_options: dict = field(default_factory=dict)
    bce_weight: float = 0.5                      # Dice + bce_weight * BCE (segmentation models)
    channel_dropout: float = 0.0                 # chance of dropping the plasma channels of a training window
    field_scales: tuple = (1.0,)                 # training series repeated with the field scaled by these
    epochs: int = 30
    batch_size: int = 32
    optimizer: str = "adamw"                     # a name of planetml_lib.train.systems.OPTIMIZERS
    one_cycle: bool = True                       # one-cycle learning-rate schedule over the epochs
    lr: float = 1e-3                             # the learning rate (the peak of the one-cycle schedule)
    weight_decay: float = 0.0
    patience: int = 5                            # early stopping on validation loss
    seed: int = 0
    crossval_periods: tuple = ()                 # post-processing chosen out of fold over these; () = on validation
    thresholds: tuple = (0.5,)                   # post-processing grid
    min_durations_h: tuple = (3.0,)
    max_gaps_h: tuple = (1.0,)
    boosting_iterations: int = 300               # trees of the gradient-boosted baseline (solarwind_boosting)
    max_samples: int | None = None               # keep only the first N samples of each split
    progress: bool = True


#: Features that are not linear in the averaged ones, so averaging recomputes them (as OMNI does its hourly values).
DERIVED = ("beta", "pdyn_nPa", "texrat")
#: A bin of averaged data is valid when at least this share of its samples are (to_cadence's rule).
MIN_BIN_FRACTION = 0.5


def at_cadence(ds, freq):
    """``ds`` on the regular ``freq`` grid: as it is at that cadence, else averaged onto it.

    Averaging follows :func:`~planetml_lib.preprocess.to_cadence` (a bin counts when at least
    half its samples are finite); beta, dynamic pressure and texrat are then recomputed from the
    averaged field and plasma, as OMNI computes its hourly values, and the label is 1 where
    most of the bin was inside an event. A series coarser than ``freq`` is refused.
    """
    if cadence_of(ds) >= pd.Timedelta(freq):
        return to_cadence(ds, freq)
    averaged = to_cadence(ds, freq, MIN_BIN_FRACTION)
    averaged = add_derived_features(averaged.drop_vars([v for v in DERIVED if v in averaged]))
    if LABEL in averaged:
        averaged[LABEL] = (averaged[LABEL] >= 0.5).where(averaged[LABEL].notnull())
    return regularize(averaged.drop_vars(VALID), freq)


def load_series(name, freq):
    """A shipped sample on the model's ``freq`` grid (:func:`at_cadence`)."""
    return at_cadence(load_sample(name), freq)


def load_data(config):
    """``{"train", "validation", "test", "test_<name>"...}`` series on the ``config.freq`` grid (``valid`` mask).

    Train and validation are time ranges of ``config.train_sample``; test is
    ``config.test_period`` of ``config.test_sample`` (all of it if no period); each of
    ``config.cross_tests`` is a further test series. With ``config.max_samples`` each split
    keeps only its first samples (fast mode).
    """
    training = load_series(config.train_sample, config.freq)
    splits = split_by_time(training, train=config.train_period, validation=config.validation_period)
    test = training if config.test_sample == config.train_sample else load_series(config.test_sample, config.freq)
    splits["test"] = split_by_time(test, test=config.test_period)["test"] if config.test_period else test
    splits |= {f"test_{name}": load_series(name, config.freq) for name in config.cross_tests}
    if config.max_samples:
        splits = {name: ds.isel(time=slice(0, config.max_samples)) for name, ds in splits.items()}
    return splits


#: Suffixes of the OMNI2 hourly archive files (``omni2_YYYY.dat``).
OMNI_SUFFIXES = (".dat", ".dat.gz", ".asc")


def read_input(paths, **options):
    """Read user data for prediction: one CSV in the shipped layout, one OMNI2 yearly file, or CDAWeb CDF files.

    Returns a regular series at the data's own cadence (CDF files: 10-minute means) with the
    derived features added (those the files lack are computed where possible; the rest are left
    to the model as missing); ``predict`` averages it onto the model's cadence. OMNI2 files are
    rotated from GSE to HEEQ, the frame of the shipped series. A variable whose values show the
    wrong unit (a density in m^-3, a temperature in eV) is refused by name.
    """
    check_options(options, KIND)
    paths = [str(p) for p in np.atleast_1d(paths)]
    suffixes = {p.rsplit(".", 1)[-1].lower() for p in paths}
    if suffixes <= {"cdf"}:
        ds = read_cdaweb(paths, freq="10min", derive=add_derived_features)
    elif len(paths) == 1 and paths[0].lower().endswith(OMNI_SUFFIXES):
        omni = gse_to_heeq(read_omni2(paths[0]))
        ds = omni[[v for v in FEATURES if v in omni]]
    elif len(paths) == 1 and paths[0].lower().endswith((".csv", ".csv.gz", ".gz")):
        ds = read_solarwind_csv(paths[0])
    else:
        raise PlanetMLError(f"expected one CSV file, one OMNI2 file (.dat) or CDF files, got {paths}")
    if not any(np.isfinite(ds[v].values).any() for v in MAGNETIC_FEATURES if v in ds):
        raise PlanetMLError(f"{ds.attrs.get('source', paths)}: has no valid magnetic-field sample (all empty or "
                            "fill values)")
    ds = add_derived_features(ds)
    check_value_ranges(ds)
    return regularize(ds)


def example_input(folder):
    """Copy the shipped Wind CDAWeb CDF files (field and plasma, 10-12 May 2024) into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shipped = sorted((DATA_DIR / "icme" / "cdaweb_wind_2024-05").glob("*.cdf"))
    return [Path(shutil.copy(path, folder)) for path in shipped]


def model_options(config):
    """All keywords of the network: one input channel per variable plus the validity channel."""
    return {"in_channels": len(config.variables) + 1, **config.model_options}


def build_model(config):
    """The untrained network described by ``config``."""
    return create_model(config.model, **model_options(config))


def _seeded_model(config):
    with seeded(config.seed):
        return build_model(config)


def _dataset(config, series, scaler, augment):
    """Windows of each series (never across two series) and their targets; if ``augment``, each
    series once per ``config.field_scales`` factor (:func:`scale_field`) and with plasma-channel dropout."""
    if augment:
        series = [scale_field(ds, factor) for ds in series for factor in config.field_scales]
    system = detection_system(config.model)
    pairs = []
    for ds in series:
        labels = to_windows(ds[[LABEL]].fillna(0), [LABEL], config.window, config.stride, fill_value=0.0)[0]
        pairs.append((input_windows(ds, series_scaler(config, ds, scaler), config.variables, config.window,
                                    config.stride)[0],
                      system.targets(labels[:, 0, :], config.model_options)))
    X, y = (np.concatenate(parts) for parts in zip(*pairs, strict=True))
    plasma = [i for i, name in enumerate(config.variables) if name not in MAGNETIC_FEATURES]
    return ChannelDropout(X, y, groups=[plasma], p=config.channel_dropout if augment else 0.0, seed=config.seed)


def make_scaler(config):
    """Median/IQR scaling (of log10 for ``config.log_variables``); fitted by the caller."""
    return DatasetScaler(variables=list(config.variables), method="robust", log_variables=list(config.log_variables))


def _fit(config, model, train_set, val_set, epochs, patience):
    optimizer = make_optimizer(model, config.optimizer, lr=config.lr, weight_decay=config.weight_decay)
    return fit(model, train_set, val_set, detection_system(config.model).loss(config.bce_weight), epochs=epochs,
               lr=config.lr, batch_size=config.batch_size, patience=patience, seed=config.seed,
               progress=config.progress, scheduler=make_scheduler if config.one_cycle else None, optimizer=optimizer,
               monitor="val_loss" if val_set is not None else "train_loss")


def fit_network(config, data):
    """Fit the scaler on ``data["train"]`` and the network with early stopping on ``data["validation"]``.

    Returns ``(model, scaler, history)``: the network alone, without post-processing.
    """
    scaler = make_scaler(config).fit(data["train"])
    model = _seeded_model(config)
    history = _fit(config, model, _dataset(config, [data["train"]], scaler, augment=True),
                   _dataset(config, [data["validation"]], scaler, augment=False), config.epochs, config.patience)
    return model, scaler, history


def _fit_on_series(config, series, epochs):
    """Scaler and network fitted on all of ``series`` for a fixed number of ``epochs`` (no validation).

    Returns ``(model, scaler, history)``.
    """
    scaler = make_scaler(config).fit(xr.concat(series, "time"))
    model = _seeded_model(config)
    history = _fit(config, model, _dataset(config, series, scaler, augment=True), None, epochs, None)
    return model, scaler, history


def series_scaler(config, ds, scaler):
    """The scaler for ``ds``: ``scaler`` (fitted on the training data), or with ``config.scaling``
    "per_series" one fitted on ``ds`` itself (quiet-time density differs twofold between spacecraft)."""
    if config.scaling == "training":
        return scaler
    if config.scaling == "per_series":
        logged = [v for v in config.log_variables if v in ds]
        # a variable with no usable value in this series stays missing (0 after scaling, as in channel dropout)
        present = [v for v in config.variables if v in ds
                   and np.isfinite(ds[v].where(ds[v] > 0) if v in logged else ds[v]).any()]
        return DatasetScaler(variables=present, method="robust",
                             log_variables=[v for v in logged if v in present]).fit(ds)
    raise PlanetMLError(f"unknown scaling {config.scaling!r}; choose 'training' or 'per_series'")


def model_probability(config, model, ds, scaler):
    """Per-sample event probability on ``ds.time`` (NaN in gaps)."""
    system = detection_system(config.model)
    length = ds.sizes["time"] if system.whole_series else config.window  # causal: every step sees its history
    scaler = series_scaler(config, ds, scaler)
    outputs = predict_series(model, ds, scaler, config.variables, length, activation=system.activation,
                             batch_size=config.batch_size, progress=config.progress)
    values = system.to_probability(outputs, config.model_options)
    return ds[VALID].copy(data=values).where(ds[VALID]).rename("probability")


def crossval_folds(config, data):
    """``(held_out, others)`` pairs over ``config.crossval_periods`` of the train and validation series.

    Each period is held out once; ``others`` are the remaining periods, kept as separate
    series so that no training window joins two of them.
    """
    series = xr.concat([data["train"], data["validation"]], "time")
    periods = split_by_time(series, **{f"period_{i}": period for i, period in enumerate(config.crossval_periods)})
    blocks = list(periods.values())
    return [(held_out, blocks[:i] + blocks[i + 1:]) for i, held_out in enumerate(blocks)]


def network_fold(config, epochs):
    """``fit_predict(others, held_out)`` for :func:`out_of_fold_probability`: a network (and its scaler)
    fitted on ``others`` for a fixed number of ``epochs`` (the main run's best epoch), predicting ``held_out``."""
    def fit_predict(others, held_out):
        model, scaler, _ = _fit_on_series(config, others, epochs)
        return model_probability(config, model, held_out, scaler)
    return fit_predict


def out_of_fold_probability(config, data, fit_predict):
    """Probability over the cross-validation periods, each from a model trained on the others.

    ``fit_predict(others, held_out)`` fits a model on the list of series ``others`` (with its
    own scaler: a held-out period informs neither its model nor its scaling) and returns its
    probability on ``held_out`` (e.g. :func:`network_fold`). Returns the probability and the
    matching series (both on the periods' joint time axis).
    """
    probabilities, held_outs = [], []
    for held_out, others in crossval_folds(config, data):
        probabilities.append(fit_predict(others, held_out))
        held_outs.append(held_out)
    return xr.concat(probabilities, "time"), xr.concat(held_outs, "time")


def choose_postprocessing(config, data, fit_predict, validation_probability):
    """Threshold, minimum duration and merging gap of ``config``'s grids with the best lenient event F1.

    Out of fold over ``config.crossval_periods`` when given (many more events than the
    validation split holds; ``fit_predict`` as in :func:`out_of_fold_probability`), else on
    the validation split (``validation_probability()``: the model's probability there).
    Returns ``(chosen, chosen_on)``.
    """
    if config.crossval_periods:
        probability, series = out_of_fold_probability(config, data, fit_predict)
        where = {"what": "out-of-fold probabilities, each period predicted by a model trained on the others",
                 "periods": [list(period) for period in config.crossval_periods]}
    else:
        series = data["validation"]
        probability = validation_probability()
        where = {"what": "validation split", "periods": [list(config.validation_period)]}
    reference = catalogue_events(series)
    chosen, grid = choose_event_postprocessing(probability.values, series["time"].values, series[VALID].values,
                                               reference, config.thresholds, config.min_durations_h,
                                               config.max_gaps_h)
    best = grid.loc[(grid[list(chosen)] == pd.Series(chosen)).all(axis=1)].iloc[0]
    return chosen, {**where, "n_events": len(reference), "F1_lenient": float(best["F1"]), "n_pred": int(best["n_pred"])}


def _metadata(name, config, scaler, units, history, postprocessing, data, **record):
    """The model's :class:`ModelMetadata` (``record``: ``postprocessing_chosen_on`` and ``metrics``)."""
    return ModelMetadata.of(
        name, KIND, config, model_options(config),
        inputs={"variables": list(config.variables), "units": units, "cadence": config.freq,
                "window": config.window, "class_names": list(CLASS_NAMES)},
        data=data, normalisation=scaler.get_state(), postprocessing=postprocessing,
        training={"epochs_run": int(len(history)), "best_epoch": int(history.attrs.get("best_epoch", len(history)))},
        **record)


def train(config, data, name):
    """Fit the network (:func:`fit_network`) and choose its post-processing (:func:`choose_postprocessing`).

    ``name`` is the case's registry name, recorded in the model's metadata.
    """
    model, scaler, history = fit_network(config, data)
    best_epoch = int(history.attrs.get("best_epoch", len(history)))
    postprocessing, chosen_on = choose_postprocessing(
        config, data, network_fold(config, best_epoch),
        lambda: model_probability(config, model, data["validation"], scaler))
    units = {v: data["train"][v].attrs.get("units", "") for v in config.variables}
    metadata = _metadata(name, config, scaler, units, history, postprocessing, data_records(KIND, data),
                         postprocessing_chosen_on=chosen_on,
                         metrics={"best_val_loss": float(history["val_loss"].min())})
    return TrainedModel(model=model, config=config, metadata=metadata, history=history)


def train_final(heldout, series, heldout_scores):
    """Retrain on all of ``series`` with the held-out run's settings, for shipping.

    The number of epochs is the held-out run's best epoch and the post-processing its
    choice: nothing is tuned on the extra data. The metadata records every series as
    training data, and the held-out scores of the run that chose its settings.

    Parameters
    ----------
    heldout : TrainedModel
        Result of ``train`` on the train/validation split.
    series : dict of str to xarray.Dataset
        Regularised series to train on (each windowed on its own).
    heldout_scores : dict
        Figures of ``heldout`` on the test split, stored as they are.
    """
    config, previous = heldout.config, heldout.metadata
    model, scaler, history = _fit_on_series(config, list(series.values()), previous.training["best_epoch"])
    records = data_records(KIND, series)
    data = {"train": [record for name in series for record in records[name]], "validation": [], "test": []}
    metadata = _metadata(previous.case, config, scaler, previous.inputs["units"], history, previous.postprocessing,
                         data, postprocessing_chosen_on=previous.postprocessing_chosen_on,
                         metrics={"heldout": {"data": previous.data, "scores": heldout_scores}})
    return TrainedModel(model=model, config=config, metadata=metadata, history=history)


def predict(trained, data):
    """Per-sample event probability and the events, with the frozen post-processing (a :class:`Detection`).

    ``data``: a time series with (some of) the model's input variables at the model's cadence
    (``metadata.inputs["cadence"]``) or a finer one that divides it, regularised or not.
    Finer data are averaged onto the model's grid (:func:`at_cadence`), the model runs there,
    and the probability comes back on the input's own time axis (each sample gets the
    probability of the bin it falls in); events are times, so they need no mapping. Variables
    it lacks are treated as missing (the models learnt to do without the plasma ones).
    """
    config = trained.config
    native = data if VALID in data else regularize(data)
    ds = at_cadence(native, config.freq)
    check_value_ranges(ds)
    available = [v for v in config.variables if v in ds]
    if not set(MAGNETIC_FEATURES) & set(available):
        raise PlanetMLError(f"no magnetic-field variable among the inputs; need some of {list(MAGNETIC_FEATURES)}, "
                            f"found {sorted(ds.data_vars)}")
    if ds.sizes["time"] < config.window:
        warnings.warn(f"the series spans {ds.sizes['time']} samples of {config.freq}, less than one model window "
                      f"({config.window}); the model sees less context than in training"
                      + (" and scales the series on itself" if config.scaling == "per_series" else "")
                      + ", so treat its events with care", stacklevel=2)
    scaler = DatasetScaler.from_state(trained.metadata.normalisation)
    probability = model_probability(config, trained.model, ds[available + [VALID]], scaler)
    post = trained.metadata.postprocessing
    events = probability_to_events(probability.values, ds["time"].values, ds[VALID].values, post["threshold"],
                                   post["min_duration_h"], post["max_gap_h"], label=EVENT_LABEL)
    bins = native.indexes["time"].floor(config.freq)
    values = probability.reindex(time=bins).assign_coords(time=native["time"].values)
    return Detection(values, events.assign(spacecraft=ds.attrs.get("spacecraft", "unknown")))


def evaluate(trained, data, allow_training_data=False):
    """Tidy metrics on ``data`` against ICMECAT: per sample and per event (lenient and strict).

    Refuses data inside the model's training data unless ``allow_training_data``; the
    ``data`` column says what the scores are ("held-out", "validation" or "training").
    """
    role = guard_training_data(trained.metadata, data, allow_training_data)
    events = predict(trained, data).events
    return score_detection(data, LABEL, events, catalogue_events(data)).assign(data=role)


def plot_results(trained, data):
    """Field, speed and event probability with catalogue events (grey) and predicted events (red)."""
    probability, events = predict(trained, data)
    return plot_prediction(data, probability, catalogue_events(data), events, variables=("bt", "vt"),
                           threshold=trained.metadata.postprocessing["threshold"])
