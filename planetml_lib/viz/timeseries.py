"""Plots of time series with catalogue events shaded, and of model predictions.

Every function returns a matplotlib Figure and never calls ``show()``.
"""

import matplotlib.pyplot as plt
import numpy as np

TRUE_STYLE = {"color": "0.6", "alpha": 0.35, "lw": 0}
PRED_STYLE = {"color": "tab:red", "alpha": 0.25, "lw": 0}


def shade_events(ax, events, style=None):
    """Shade each event's [start, end] on ``ax`` (grey by default); return the number drawn."""
    for start, end in zip(events["start"], events["end"], strict=True):
        ax.axvspan(start, end, **(style or TRUE_STYLE))
    return len(events)


def _stacked_axes(n_rows):
    fig, axes = plt.subplots(n_rows, 1, sharex=True, figsize=(11, 1.8 * n_rows + 0.6),
                             squeeze=False, layout="constrained")
    return fig, list(axes[:, 0])


def _draw_variables(axes, ds, variables, events):
    """Draw one variable per axis as a line; NaN gaps stay breaks, never bridged.

    The x range is the data's own: events outside it do not stretch the axes.
    """
    axes[0].set_xlim(ds["time"].values[0], ds["time"].values[-1])
    for ax, name in zip(axes, variables, strict=True):
        ax.plot(ds["time"].values, ds[name].values, lw=0.6, color="k")
        units = ds[name].attrs.get("units", "")
        ax.set_ylabel(f"{name} [{units}]" if units else name)
        if events is not None:
            shade_events(ax, events)


def plot_timeseries(ds, variables, events=None, title=None):
    """One panel per variable of a time-series Dataset, with ``events`` shaded grey.

    Parameters
    ----------
    ds : xarray.Dataset
        Time-series contract (dimension ``time``).
    variables : sequence of str
        Variables to draw, top to bottom.
    events : pandas.DataFrame, optional
        Events contract (``start``, ``end``), e.g. a catalogue.
    title : str, optional
        Title over the top panel.
    """
    fig, axes = _stacked_axes(len(variables))
    _draw_variables(axes, ds, variables, events)
    if title:
        axes[0].set_title(title)
    return fig


def plot_prediction(ds, probability, true_events, pred_events, variables=("bt", "vt"), threshold=None):
    """Input variables above the predicted probability; true events grey, predicted events red."""
    fig, axes = _stacked_axes(len(variables) + 1)
    _draw_variables(axes[:-1], ds, variables, true_events)
    prob_ax = axes[-1]
    prob_ax.plot(probability["time"].values, np.asarray(probability.values), lw=0.7, color="tab:blue")
    shade_events(prob_ax, true_events)
    if threshold is not None:
        prob_ax.axhline(threshold, color="tab:red", ls="--", lw=0.8)
    for ax in axes:
        shade_events(ax, pred_events, PRED_STYLE)
    prob_ax.set_ylim(0, 1)
    prob_ax.set_ylabel("probability")
    axes[0].set_title(f"true events (grey): {len(true_events)}, predicted events (red): {len(pred_events)}")
    return fig
