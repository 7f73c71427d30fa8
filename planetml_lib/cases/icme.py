"""ICME detection in solar-wind in-situ data: ResUNet++ against the Nguyen et al. (2019) baseline.

Every hour of solar wind is inside an ICME or not. Windows of 256 hours (about 11 days)
become per-sample probabilities and, with post-processing chosen out of fold over four blocks
of training years, events (:mod:`~planetml_lib.cases.solarwind_detection` holds the pipeline).
Data: two decades of NASA OMNI2 hourly near-Earth data, 1998-2018, labelled with the Wind
ICMEs of Nieves-Chinchilla et al. (2018) before 2007 and of ICMECAT after, moved 60 minutes
later because OMNI is time-shifted to the bow-shock nose. Splits by year, fixed before any
score was seen: training 1998-2014, validation 2015-2016, test 2017-2018; STEREO-A 2019 and
STEREO-B 2013-2014, averaged to 1 h, are cross-spacecraft tests never trained on.

The model's cadence is 1 h (``Config.freq``, in its metadata): finer input (the STEREO
10-minute series, Wind 1-minute CDF files) is averaged onto it, coarser input is refused.

Models: ``resunetpp1d`` (segmentation, Dice + BCE loss, as in Rüdisser et al. 2022) and
``nguyen2019`` (per-width causal CNNs regressing each window's overlap with an ICME); the
gradient-boosted baseline is in :mod:`~planetml_lib.cases.solarwind_boosting`. Training drops
the plasma channels of random windows, so the model still works when only the magnetic field
is available (:func:`field_only`).
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
    network_fold,
    out_of_fold_probability,
    plot_results,
    predict,
    read_input,
    train_final,
)
from planetml_lib.datasets import DATA_DIR, register_catalog, register_sample
from planetml_lib.io.catalogs import read_icmecat
from planetml_lib.preprocess.solarwind import FEATURES, MAGNETIC_FEATURES
from planetml_lib.vo.epncore import Observation

NAME = "icme"
TITLE = "ICME detection in solar-wind in-situ data: ResUNet++ vs. the Nguyen et al. (2019) baseline"
#: What the catalogue is about, in EPN-TAP terms (planetml publish).
OBSERVATION = Observation(
    "Sun", "star", "OMNI", "OMNI2 (Wind, ACE): magnetic field and plasma",
    "phys.magField#phys.density#phys.veloc#phys.temperature", "interplanetary medium",
)
#: Trained on every shipped series (OMNI 1998-2018, STEREO-B 2013-2014, STEREO-A 2019 at 1 h): for user data.
SHIPPED_MODELS = {"all inputs": DATA_DIR / "models" / "icme_resunetpp1d"}
#: Trained on OMNI 1998-2016 only, with their held-out scores on the test years and spacecraft.
HELDOUT_MODELS = {"ResUNet++": DATA_DIR / "models" / "icme_resunetpp1d_heldout",
                  "Nguyen et al. 2019 (reduced)": DATA_DIR / "models" / "icme_nguyen2019_heldout"}
#: OMNI times are those of the bow-shock nose, about an hour after the plasma passed Wind at L1.
OMNI_LAG = pd.Timedelta(minutes=60)
#: ICMECAT's own Wind events start here; before, the Nieves-Chinchilla list they were taken from.
ICMECAT_WIND_FROM = pd.Timestamp("2007-01-01")


def read_omni_icmes(path, spacecraft=None):
    """The Wind ICMEs at OMNI's time: Nieves-Chinchilla et al. (2018) ``path`` before 2007, ICMECAT after.

    Both are moved :data:`OMNI_LAG` later (the labels of the shipped OMNI series use the same
    shift). ``spacecraft`` is accepted for the catalogue interface; the events are OMNI's.
    """
    early = read_icmecat(path, spacecraft="Wind")
    late = read_icmecat(DATA_DIR / "icme" / "icmecat_v20.csv", spacecraft="Wind")
    events = pd.concat([early[early["start"] < ICMECAT_WIND_FROM], late[late["start"] >= ICMECAT_WIND_FROM]])
    events[["start", "end", "mo_start"]] += OMNI_LAG
    return events.assign(spacecraft="OMNI").sort_values("start").reset_index(drop=True)


register_sample("omni2_1998_2018", "icme/omni2_1998_2018_1h.csv.gz",
                "NASA OMNI2 hourly near-Earth solar wind, 1998-01-01..2018-12-31, HEEQ, Wind ICME labels (+60 min)",
                NAME, "OMNI", catalog="omni2_icmes", frame="HEEQ")
register_sample("stereoa_2019", "icme/stereoa_2019_10min.csv.gz",
                "STEREO-A IMPACT/PLASTIC 10-min means, 2019-01-01..2019-12-03, SCEQ, ICMECAT labels", NAME, "STEREO-A")
register_sample("stereob_2013_2014", "icme/stereob_2013_2014_10min.csv.gz",
                "STEREO-B IMPACT/PLASTIC 10-min means, 2013-01-01..2014-09-21, SCEQ, ICMECAT labels", NAME, "STEREO-B")
register_sample("wind_2024_05", "icme/cdaweb_wind_2024-05",
                "Wind MFI (1 min, GSM) and SWE (92 s) CDFs, 2024-05-10..12, 10-min means; ICME shock 05-10 16:36 UT",
                NAME, "Wind")
register_catalog("icmecat", "icme/icmecat_v20.csv", "HELCATS ICMECAT v2.0, 739 ICMEs 2007-2019 (Moestl et al.)",
                 read_icmecat, by_spacecraft=True)
register_catalog("omni2_icmes", "icme/wind_icmes_nieves_chinchilla_1998_2006.csv",
                 "Wind ICMEs 1998-2018 at OMNI's time (Nieves-Chinchilla et al. 2018, then ICMECAT; +60 min)",
                 read_omni_icmes, by_spacecraft=True)


@dataclass(frozen=True)
class Config(detection.DetectionConfig):
    """Settings of the ICME case; override with ``dataclasses.replace``."""

    variables: tuple = FEATURES
    log_variables: tuple = ("np", "tp", "beta", "pdyn_nPa", "texrat")
    freq: str = "1h"
    # years, fixed before any score was seen: train 1998-2014, validation 2015-2016, test 2017-2018
    train_sample: str = "omni2_1998_2018"
    train_period: tuple = ("1998-01-01", "2014-12-31")
    validation_period: tuple = ("2015-01-01", "2016-12-31")
    test_sample: str = "omni2_1998_2018"
    test_period: tuple = ("2017-01-01", "2018-12-31")
    cross_tests: tuple = ("stereoa_2019", "stereob_2013_2014")  # other spacecraft, never trained on
    # each series scaled by its own median and IQR: chosen by benchmarks/icme_variants.py (out-of-fold
    # lenient F1 0.645 against 0.624, validation TSS 0.67 against 0.62; no test year read)
    scaling: str = "per_series"
    window: int = 256                            # about 11 days
    stride: int = 64
    model: str = "resunetpp1d"
    model_options: dict = field(default_factory=lambda: {"filters": [8, 16, 32, 64], "dropout": 0.2})
    channel_dropout: float = 0.25
    # two solar cycles hold weak and strong fields: no field scaling (it tripled the 21-year training time)
    field_scales: tuple = (1.0,)
    epochs: int = 20
    batch_size: int = 32
    weight_decay: float = 1e-4
    patience: int = 6
    # blocks of years over the training and validation years (rising and maximum of cycle 23, its
    # decline, the deep minimum and the rise of cycle 24, its maximum and decline)
    crossval_periods: tuple = (("1998-01-01", "2001-12-31"), ("2002-01-01", "2005-12-31"),
                               ("2006-01-01", "2010-12-31"), ("2011-01-01", "2016-12-31"))
    thresholds: tuple = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    min_durations_h: tuple = (2.0, 4.0, 8.0, 12.0)
    max_gaps_h: tuple = (1.0, 3.0, 6.0)

    @classmethod
    def fast(cls):
        """A tiny model on a slice of the data: seconds on a laptop, for tests and notebooks."""
        return cls(window=64, stride=32, model_options={"filters": [4, 8]}, epochs=1, max_samples=1500,
                   boosting_iterations=20,
                   crossval_periods=(("1998-01-01", "1998-01-31"), ("1998-02-01", "1998-02-28")),
                   thresholds=(0.5,), min_durations_h=(2.0,), max_gaps_h=(1.0,), progress=False)

    def as_baseline(self):
        """These settings for the baselines, as they were benchmarked: scaled on the training years (per-series
        scaling was chosen for ResUNet++ only), and the Nguyen et al. (2019) network with windows of 12, 24 and
        48 hours and two convolution levels (a reduced set: at 1 h a 4-h window holds too few samples to pool
        three times). The gradient-boosted trees read the scaling and ignore the network."""
        return dataclasses.replace(self, model="nguyen2019", model_options={"widths": [12, 24, 48], "n_levels": 2},
                                   scaling="training")


def train(config, data):
    """Fit the network and choose its post-processing out of fold (:func:`.solarwind_detection.train`)."""
    return detection.train(config, data, NAME)


def load_trained(folder=None):
    """Load an ICME model folder; None loads the shipped model (trained on every shipped series)."""
    return _trained.load_trained(folder, sys.modules[__name__])


def load_heldout():
    """The models trained on OMNI 1998-2016 only, by name: the ones to score on the test years and spacecraft."""
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
           "fit_network", "load_data", "network_fold", "out_of_fold_probability", "plot_results", "predict",
           "read_input", "train_final", "write_output"]
