"""Tutorial case: ICME samples in STEREO solar-wind data with a small 1-D CNN.

A compact, complete pipeline that shows every layer of ``planetml_lib`` at work:
train and validate on STEREO-B 2013-2014 (validation = the later months), test on
STEREO-A 2019, a spacecraft and year never seen in training or scaling. The model is a
plain same-length convolutional network (``convnet1d``), a baseline for the ICME case's
ResUNet++; the threshold and event post-processing are fixed in ``Config`` (not tuned on
the test set).
"""

from dataclasses import dataclass, field

from planetml_lib.cases.series_detection import (
    VALID,
    catalogue_events,
    input_windows,
    load_splits,
    predict_series,
    probability_to_events,
    score_detection,
)
from planetml_lib.cases.trained import TrainedModel
from planetml_lib.cases.trained import load_trained as _load_trained
from planetml_lib.models import create_model
from planetml_lib.preprocess import DatasetScaler, regularize, to_windows
from planetml_lib.train.loop import fit, set_seed
from planetml_lib.train.systems import DiceBCELoss
from planetml_lib.viz import plot_prediction

TITLE = "Tutorial: ICME samples in STEREO solar wind with a small 1-D CNN (train STEREO-B, test STEREO-A)"
METRIC_LEVELS = ("sample", "event_lenient", "event_strict")  # the ``level`` column of evaluate()
LABEL = "icme_label"


@dataclass(frozen=True)
class Config:
    """Settings of the tutorial case; override with ``dataclasses.replace``."""

    variables: tuple = ("bx", "by", "bz", "bt", "vt", "np", "tp", "beta", "texrat", "pdyn_nPa")
    freq: str = "10min"                       # cadence of the shipped series
    train_sample: str = "stereob_2013_2014"   # training and validation spacecraft
    train_period: tuple = ("2013-01-01", "2014-03-31")
    validation_period: tuple = ("2014-04-01", "2014-09-30")
    test_sample: str = "stereoa_2019"         # another spacecraft, another year
    window: int = 256                         # samples per model window (about 43 h)
    stride: int = 64                          # hop between training windows
    model: str = "convnet1d"
    model_options: dict = field(default_factory=lambda: {"width": 32, "depth": 4, "kernel_size": 9})
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    patience: int = 5                         # early stopping on validation loss
    seed: int = 0
    threshold: float = 0.5                    # probability -> ICME sample
    min_duration_h: float = 3.0               # shorter predicted events are dropped
    max_gap_h: float = 1.0                    # predicted events closer than this are merged
    max_samples: int | None = None            # keep only the first N samples of each split
    progress: bool = True

    @classmethod
    def fast(cls):
        """A tiny model on a slice of the data: seconds on a laptop, for tests and notebooks."""
        return cls(window=128, stride=64, model_options={"width": 8, "depth": 2, "kernel_size": 5},
                   epochs=2, max_samples=4000, progress=False)


def load_data(config):
    """Return ``{"train", "validation", "test"}`` regularised Datasets (10-min grid, ``valid`` mask)."""
    return load_splits(config)


def model_options(config):
    """All keywords of the network: one input channel per variable plus the validity channel."""
    return {"in_channels": len(config.variables) + 1, "n_classes": 1, **config.model_options}


def build_model(config):
    """The untrained network described by ``config``."""
    return create_model(config.model, **model_options(config))


def _training_pairs(config, ds, scaler):
    """Input windows and per-sample ICME targets, both ``(n_windows, channels, window)``."""
    X, _ = input_windows(ds, scaler, config.variables, config.window, config.stride)
    y, _ = to_windows(ds[[LABEL]].fillna(0), [LABEL], config.window, config.stride, fill_value=0.0)
    return X, y.astype("float32")


def train(config, data):
    """Fit the scaler on the training split only, train with early stopping on validation."""
    set_seed(config.seed)
    scaler = DatasetScaler(variables=list(config.variables), method="robust").fit(data["train"])
    model = build_model(config)
    history = fit(model, _training_pairs(config, data["train"], scaler),
                  _training_pairs(config, data["validation"], scaler), DiceBCELoss(), epochs=config.epochs,
                  lr=config.lr, batch_size=config.batch_size, patience=config.patience, seed=config.seed,
                  progress=config.progress)
    metadata = {
        "case": "solarwind_tutorial",
        "input_variables": list(config.variables),
        "units": {v: data["train"][v].attrs.get("units", "") for v in config.variables},
        "cadence": config.freq,
        "window": config.window,
        "normalisation": scaler.get_state(),
        "class_names": ["solar wind", "ICME"],
        "training_data": {"sample": config.train_sample, "train": list(config.train_period),
                          "validation": list(config.validation_period)},
        "best_val_loss": float(history["val_loss"].min()),
    }
    return TrainedModel(model=model, model_options=model_options(config), config=config, metadata=metadata,
                        history=history)


def load_trained(folder):
    """Load a model folder written by ``train(...).save(folder)``."""
    return _load_trained(folder, Config)


def predict(trained, ds):
    """Return ``(probability, events)``: per-sample ICME probability on ``ds.time`` and the events.

    Windows overlap by half and are stitched back by averaging. Samples in data gaps get
    probability NaN and never belong to an event.
    """
    config = trained.config
    scaler = DatasetScaler.from_state(trained.metadata["normalisation"])
    if VALID not in ds:
        ds = regularize(ds, config.freq)
    values = predict_series(trained.model, ds, scaler, config.variables, config.window)[:, 0]
    probability = ds[VALID].copy(data=values).where(ds[VALID]).rename("probability")
    events = probability_to_events(probability.values, ds["time"].values, ds[VALID].values, config.threshold,
                                   config.min_duration_h, config.max_gap_h, label="ICME")
    return probability, events


def evaluate(trained, ds):
    """Tidy metrics on ``ds``: per sample (gaps excluded) and per event, lenient and strict."""
    _, pred_events = predict(trained, ds)
    return score_detection(ds, LABEL, pred_events, catalogue_events(ds))


def plot_results(trained, ds):
    """Field, speed and ICME probability with true (grey) and predicted (red) events."""
    probability, pred_events = predict(trained, ds)
    return plot_prediction(ds, probability, catalogue_events(ds), pred_events, variables=("bt", "vt"),
                           threshold=trained.config.threshold)
