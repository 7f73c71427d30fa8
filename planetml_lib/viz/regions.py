"""Magnetograms with plasma regions as coloured bars (Mercury's magnetosphere and its boundaries by default)."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from planetml_lib.preprocess.mercury import REGIONS

REGION_COLOURS = ("#9ecae1", "#d62728", "#fdae6b", "#2ca02c", "#756bb1")


def _region_bar(ax, time, regions, label, colours):
    """Draw ``regions`` (ints, -1 or NaN for none) as a one-row colour bar on ``ax``."""
    values = np.asarray(regions, dtype=float)
    values = np.where((values >= 0) & np.isfinite(values), values, np.nan)[np.newaxis, :]
    edges = np.asarray(time)
    ax.pcolormesh(edges, [0, 1], values[:, :-1], cmap=ListedColormap(colours), vmin=-0.5, vmax=len(colours) - 0.5,
                  shading="flat")
    ax.set_yticks([0.5], [label])


def plot_regions(ds, predicted=None, title=None, names=REGIONS, colours=REGION_COLOURS, frame="MSO"):
    """Field components and magnitude above bars of the true (``ds.region``) and predicted regions.

    Parameters
    ----------
    ds : xarray.Dataset
        Time series with ``bx``, ``by``, ``bz`` (nT); ``region`` (a number of ``names``) if known.
    predicted : array of int, shape (n_times,), optional
        Predicted region per sample (-1 where none).
    title : str, optional
    names, colours : sequence of str
        The regions' names and bar colours, one per region number (default Mercury's five).
    frame : str
        The field's frame, for the axis label.
    """
    bars = [name for name, values in (("true", ds.get("region")), ("predicted", predicted)) if values is not None]
    fig, axes = plt.subplots(1 + len(bars), 1, sharex=True, figsize=(11, 3.2 + 0.5 * len(bars)), layout="constrained",
                             gridspec_kw={"height_ratios": [6] + [1] * len(bars)}, squeeze=False)
    field_ax, bar_axes = axes[0, 0], axes[1:, 0]
    time = ds["time"].values
    for name, colour in (("bx", "tab:blue"), ("by", "tab:orange"), ("bz", "tab:green")):
        field_ax.plot(time, ds[name].values, lw=0.5, color=colour, label=name)
    field_ax.plot(time, np.linalg.norm([ds[n].values for n in ("bx", "by", "bz")], axis=0), lw=0.7, color="k",
                  label="|B|")
    field_ax.set_ylabel(f"B ({frame}) [nT]")
    components = field_ax.legend(loc="upper right", ncol=4, fontsize="small")
    for ax, name in zip(bar_axes, bars, strict=True):
        _region_bar(ax, time, ds["region"].values if name == "true" else predicted, name, colours)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours]
    field_ax.legend(handles, names, loc="upper left", ncol=len(names), fontsize="small", title="regions")
    field_ax.add_artist(components)
    if title:
        field_ax.set_title(title)
    return fig
