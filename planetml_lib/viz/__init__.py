"""Figures for notebooks and dashboards; every function returns a figure, none calls ``show()``."""

from planetml_lib.viz.metrics import plot_confusion_matrix
from planetml_lib.viz.timeseries import plot_prediction, plot_timeseries, shade_events

__all__ = ["plot_confusion_matrix", "plot_prediction", "plot_timeseries", "shade_events"]
