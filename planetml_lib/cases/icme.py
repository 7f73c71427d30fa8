"""ICME detection in solar-wind in-situ data: ResUNet++ against the Nguyen et al. (2019) baseline.

Every 10-minute sample is inside an ICME (ICMECAT ``icme_start_time`` to ``mo_end_time``)
or not. Windows of 1024 samples (about 7 days) become per-sample probabilities and, with
post-processing chosen out of fold over four periods of the training spacecraft, events
(:mod:`~planetml_lib.cases.solarwind_detection` holds the pipeline). Train and validate on
STEREO-B 2013-2014, test on STEREO-A 2019: another spacecraft and another year, never seen in
training or scaling.

Models: ``resunetpp1d`` (segmentation, Dice + BCE loss, as in Rüdisser et al. 2022) and
``nguyen2019`` (per-width causal CNNs regressing each window's overlap with an ICME).
Training drops the plasma channels of random windows, so the model still works when only
the magnetic field is available (:func:`field_only`), and sees each training series also with
its field scaled by 2/3 and 3/2 (:func:`~planetml_lib.preprocess.solarwind.scale_field`): the
field is weaker at solar minimum than in the training years near maximum.
"""

import dataclasses
import sys
from dataclasses import dataclass, field

import pandas as pd

from planetml_lib.cases import solarwind_detection as detection
from planetml_lib.cases import trained as _trained
from planetml_lib.cases.kinds import write_output
from planetml_lib.cases.solarwind_detection import (
    KIND,
    LABEL,
    METRIC_LEVELS,
    build_model,
    crossval_folds,
    evaluate,
    example_input,
    fit_network,
    load_data,
    out_of_fold_probability,
    plot_results,
    predict,
    read_input,
    train_final,
)
from planetml_lib.datasets import DATA_DIR, register_catalog, register_sample
from planetml_lib.io.catalogs import read_icmecat
from planetml_lib.preprocess.solarwind import FEATURES, MAGNETIC_FEATURES

NAME = "icme"
TITLE = "ICME detection in solar-wind in-situ data: ResUNet++ vs. the Nguyen et al. (2019) baseline"
#: Trained on every shipped series (STEREO-B 2013-2014 and STEREO-A 2019): for user data, not for scoring.
SHIPPED_MODELS = {"all inputs": DATA_DIR / "models" / "icme_resunetpp1d"}
#: Trained on STEREO-B only, with their held-out scores on STEREO-A 2019.
HELDOUT_MODELS = {"ResUNet++": DATA_DIR / "models" / "icme_resunetpp1d_heldout",
                  "Nguyen et al. 2019 (reduced)": DATA_DIR / "models" / "icme_nguyen2019_heldout"}

register_sample("stereoa_2019", "icme/stereoa_2019_10min.csv.gz", "STEREO-A",
                "STEREO-A IMPACT/PLASTIC 10-min means, 2019-01-01..2019-12-03, SCEQ, ICMECAT labels")
register_sample("stereob_2013_2014", "icme/stereob_2013_2014_10min.csv.gz", "STEREO-B",
                "STEREO-B IMPACT/PLASTIC 10-min means, 2013-01-01..2014-09-21, SCEQ, ICMECAT labels")
register_sample("wind_2024_05", "icme/cdaweb_wind_2024-05", "Wind",
                "Wind MFI (1 min, GSM) and SWE (92 s) CDFs, 2024-05-10..12, 10-min means; ICME shock 05-10 16:36 UT")
register_catalog("icmecat", "icme/icmecat_v20.csv", "HELCATS ICMECAT v2.0, 739 ICMEs 2007-2019 (Moestl et al.)",
                 read_icmecat, by_spacecraft=True)


@dataclass(frozen=True)
class Config(detection.DetectionConfig):
    """Settings of the ICME case; override with ``dataclasses.replace``."""

    variables: tuple = FEATURES
    log_variables: tuple = ("np", "tp", "beta", "pdyn_nPa", "texrat")
    window: int = 1024                           # about 7 days
    stride: int = 120                            # 20 h
    model: str = "resunetpp1d"
    # filters (8, 16, 32, 64) with dropout 0.2 were chosen against (16, 32, 64, 128) without dropout
    # on validation loss and TSS
    model_options: dict = field(default_factory=lambda: {"filters": [8, 16, 32, 64], "dropout": 0.2})
    channel_dropout: float = 0.25
    # decided a priori (solar-cycle invariance); checked on the validation months by benchmarks/icme_field_scaling.py
    field_scales: tuple = (2 / 3, 1.0, 1.5)
    epochs: int = 20
    batch_size: int = 16
    weight_decay: float = 1e-4
    patience: int = 8
    # four periods of the training spacecraft holding 11, 9, 19 and 8 ICMEs
    crossval_periods: tuple = (("2013-01-01", "2013-05-31"), ("2013-06-01", "2013-10-31"),
                               ("2013-11-01", "2014-04-30"), ("2014-05-01", "2014-09-30"))
    thresholds: tuple = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    min_durations_h: tuple = (2.0, 4.0, 8.0, 12.0)
    max_gaps_h: tuple = (0.5, 1.0, 3.0, 6.0)

    @classmethod
    def fast(cls):
        """A tiny model on a slice of the data: seconds on a laptop, for tests and notebooks."""
        return cls(window=256, stride=128, model_options={"filters": [4, 8]}, epochs=1, max_samples=6000,
                   crossval_periods=(("2013-01-01", "2013-01-21"), ("2013-01-22", "2013-02-11")),
                   thresholds=(0.5,), min_durations_h=(2.0,), max_gaps_h=(1.0,), progress=False)

    def as_baseline(self):
        """These settings with the Nguyen et al. (2019) baseline: windows of 4, 12 and 24 hours (a reduced set)."""
        return dataclasses.replace(self, model="nguyen2019", model_options={"widths": [24, 72, 144]})


def train(config, data):
    """Fit the network and choose its post-processing out of fold (:func:`.solarwind_detection.train`)."""
    return detection.train(config, data, NAME)


def load_trained(folder=None):
    """Load an ICME model folder; None loads the shipped model (trained on every shipped series)."""
    return _trained.load_trained(folder, sys.modules[__name__])


def load_heldout():
    """The models trained on STEREO-B only, by name: the ones to score on STEREO-A 2019."""
    return {name: load_trained(folder) for name, folder in HELDOUT_MODELS.items()}


def field_only(ds):
    """``ds`` without its plasma variables: what a spacecraft with only a magnetometer gives."""
    return ds.drop_vars([v for v in FEATURES if v not in MAGNETIC_FEATURES and v in ds])


def score_table(scores, metrics):
    """One row per ``(level, metric)`` of ``metrics`` and one column per model of ``scores``.

    ``scores``: ``{model name: evaluate(...)}``. Rows that are NaN (no strict match) are kept.
    """
    table = pd.concat(scores, names=["model"]).reset_index(level=0)
    return table.pivot(index=["level", "metric"], columns="model", values="value").loc[metrics]


def base_rate_table(trained, datasets):
    """How the frozen threshold behaves across spacecraft and years with different ICME base rates.

    Returns one row per named Dataset: what it is to the model (held-out or validation),
    base rate, number of catalogue and predicted events, per-sample TSS and lenient event F1.
    """
    rows = []
    for name, ds in datasets.items():
        scores = evaluate(trained, ds)
        metrics = scores.set_index(["level", "metric"])["value"]
        rows.append({"data": name, "scored_on": scores["data"].iloc[0], "base_rate": metrics[("sample", "base_rate")],
                     "n_true": metrics[("event_lenient", "n_true")], "n_pred": metrics[("event_lenient", "n_pred")],
                     "TSS": metrics[("sample", "TSS")], "event_F1_lenient": metrics[("event_lenient", "F1")]})
    return pd.DataFrame(rows)


__all__ = ["KIND", "LABEL", "METRIC_LEVELS", "build_model", "crossval_folds", "evaluate", "example_input",
           "fit_network", "load_data",
           "out_of_fold_probability", "plot_results", "predict", "read_input", "train_final", "write_output"]
