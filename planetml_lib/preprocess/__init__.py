"""Preprocessing: regular time grids, scaling, time splits, windows, event masks."""

from planetml_lib.preprocess.events import events_to_mask, mask_to_events, validate_events
from planetml_lib.preprocess.features import add_rolling_features
from planetml_lib.preprocess.solarwind import FEATURES, MAGNETIC_FEATURES, add_derived_features, expected_temperature
from planetml_lib.preprocess.timeseries import DatasetScaler, cadence_of, regularize, split_by_time, to_cadence
from planetml_lib.preprocess.windows import from_windows, to_windows

__all__ = [
    "add_derived_features",
    "add_rolling_features",
    "cadence_of",
    "DatasetScaler",
    "events_to_mask",
    "expected_temperature",
    "FEATURES",
    "from_windows",
    "MAGNETIC_FEATURES",
    "mask_to_events",
    "regularize",
    "split_by_time",
    "to_cadence",
    "to_windows",
    "validate_events",
]
