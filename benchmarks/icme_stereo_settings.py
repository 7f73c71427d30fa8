"""The ICME case's settings before OMNI: 10-minute STEREO-B 2013-2014 to train, STEREO-A 2019 to test.

``icme_field_scaling.py`` and ``icme_training_size.py`` studied that set-up (their saved figures
come from it), so they keep it here instead of following ``icme.Config``, which now trains on
two decades of hourly OMNI data.
"""

import dataclasses

from planetml_lib.cases import icme

STEREO = {"freq": "10min", "train_sample": "stereob_2013_2014", "train_period": ("2013-01-01", "2014-04-30"),
          "validation_period": ("2014-05-01", "2014-09-30"), "test_sample": "stereoa_2019", "test_period": (),
          "cross_tests": ()}
FULL = {"window": 1024, "stride": 120, "batch_size": 16, "patience": 8, "field_scales": (2 / 3, 1.0, 1.5),
        "max_gaps_h": (0.5, 1.0, 3.0, 6.0),
        "crossval_periods": (("2013-01-01", "2013-05-31"), ("2013-06-01", "2013-10-31"),
                             ("2013-11-01", "2014-04-30"), ("2014-05-01", "2014-09-30"))}
FAST = {"window": 256, "stride": 128, "max_samples": 6000,
        "crossval_periods": (("2013-01-01", "2013-01-21"), ("2013-01-22", "2013-02-11"))}


def stereo_config(fast=False):
    """``icme.Config`` (or its fast variant) with the STEREO data, splits and training settings of that study."""
    base = icme.Config.fast() if fast else icme.Config(progress=False)
    return dataclasses.replace(base, **STEREO, **(FAST if fast else FULL))
