"""Evaluation: event matching and per-sample skill scores as tidy metric frames."""

from planetml_lib.evaluate.classes import (
    confusion_counts,
    evaluate_binary,
    evaluate_multiclass,
    to_metrics_frame,
)
from planetml_lib.evaluate.events import evaluate_events, match_events, overlap_matrices
from planetml_lib.evaluate.thresholds import choose_event_postprocessing, choose_threshold

__all__ = [
    "choose_event_postprocessing",
    "choose_threshold",
    "confusion_counts",
    "evaluate_binary",
    "evaluate_events",
    "evaluate_multiclass",
    "match_events",
    "overlap_matrices",
    "to_metrics_frame",
]
