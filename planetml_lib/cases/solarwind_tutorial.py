"""Tutorial case: ICME samples in STEREO solar-wind data with a small 1-D CNN.

A compact, complete pipeline that shows every layer of ``planetml_lib`` at work: train and
validate on STEREO-B 2013-2014 (validation = the later months), test on STEREO-A 2019, a
spacecraft and year never seen in training or scaling. The model is a plain same-length
convolutional network (``convnet1d``), a baseline for the ICME case's ResUNet++. It shares
the ICME case's pipeline (:mod:`~planetml_lib.cases.solarwind_detection`) and keeps only its
own defaults: plain Adam at a constant learning rate, one post-processing setting, confirmed on
the validation months, no augmentation and no cross-validation.
"""

import sys
from dataclasses import dataclass, field

from planetml_lib.cases import solarwind_detection as detection
from planetml_lib.cases import trained as _trained
from planetml_lib.cases.kinds import write_output
from planetml_lib.cases.solarwind_detection import (
    KIND,
    METRIC_LEVELS,
    build_model,
    evaluate,
    example_input,
    load_data,
    plot_results,
    predict,
    read_input,
)
from planetml_lib.vo.epncore import Observation

NAME = "solarwind_tutorial"
TITLE = "Tutorial: ICME samples in STEREO solar wind with a small 1-D CNN (train STEREO-B, test STEREO-A)"
#: What the catalogue is about, in EPN-TAP terms (planetml publish).
OBSERVATION = Observation(
    "Sun", "star", "STEREO", "IMPACT, PLASTIC", "phys.magField#phys.density#phys.veloc", "interplanetary medium",
)
SHIPPED_MODELS = {}  # the tutorial trains its own


@dataclass(frozen=True)
class Config(detection.DetectionConfig):
    """Settings of the tutorial case; override with ``dataclasses.replace``."""

    variables: tuple = ("bx", "by", "bz", "bt", "vt", "np", "tp", "beta", "texrat", "pdyn_nPa")
    train_period: tuple = ("2013-01-01", "2014-03-31")
    validation_period: tuple = ("2014-04-01", "2014-09-30")
    window: int = 256                         # about 43 h
    model_options: dict = field(default_factory=lambda: {"width": 32, "depth": 4, "kernel_size": 9,
                                                         "n_classes": 1})
    optimizer: str = "adam"
    one_cycle: bool = False

    @classmethod
    def fast(cls):
        """A tiny model on a slice of the data: seconds on a laptop, for tests and notebooks."""
        return cls(window=128, stride=64, model_options={"width": 8, "depth": 2, "kernel_size": 5, "n_classes": 1},
                   epochs=2, max_samples=4000, progress=False)


def train(config, data):
    """Fit the scaler on the training split only, train with early stopping on validation."""
    return detection.train(config, data, NAME)


def load_trained(folder=None):
    """Load a tutorial model folder written by ``train(...).save(folder)`` (none ships)."""
    return _trained.load_trained(folder, sys.modules[__name__])


__all__ = ["KIND", "METRIC_LEVELS", "build_model", "evaluate", "example_input", "load_data", "plot_results", "predict",
           "read_input", "write_output"]
