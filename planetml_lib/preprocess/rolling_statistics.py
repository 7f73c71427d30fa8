"""Centred rolling statistics of a time series, per orbit: per-sample context for tree models.

A tree ensemble sees one sample at a time; the mean and spread of the field over a few minutes
around it tell the quiet magnetosphere from the turbulent magnetosheath and mark the jumps of
boundary crossings, which one sample cannot.
"""

import numpy as np
import pandas as pd

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.timeseries import cadence_of, check_variables, time_index

#: Rolling windows: about a crossing's length, a few crossings, a slice of a region.
WINDOWS = ("60s", "300s", "900s")
#: Statistics over each window: the level and its fluctuation.
STATISTICS = ("mean", "std")


def rolling_statistics(ds, variables, windows=WINDOWS, group="orbit", statistics=STATISTICS, min_fraction=0.5):
    """The raw ``variables`` and their centred rolling ``statistics`` over each of ``windows``.

    A window of length ``w`` at ``t`` spans ``[t - w/2, t + w/2]`` in time (gaps, NaN rows,
    simply hold no data) and is computed within each value of ``group`` when ``ds`` has it,
    so orbits apart in time are never bridged. A statistic needs at least ``min_fraction``
    of the window's samples at the cadence of ``ds`` (and at least 2), else it is NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        Time series on a sorted ``time`` dimension, ideally on a regular grid with NaN in gaps.
    variables : sequence of str
        Variables to summarise.
    windows : sequence of str
        Window lengths as pandas offsets; each must span at least 3 samples at the cadence.
    group : str or None
        Coordinate (or variable) whose values the windows stay within; ignored if absent.
    statistics : sequence of str
        pandas rolling aggregations, e.g. ``"mean"``, ``"std"``, ``"min"``, ``"max"``.
    min_fraction : float
        Fraction of a window's samples that must be finite.

    Returns
    -------
    pandas.DataFrame
        One row per time of ``ds``, in order: the columns ``variables``, then
        ``<variable>_rolling_<statistic>_<window>`` (the infix keeps them apart from
        input variables such as ``b_mag_std_60s``).

    Examples
    --------
    >>> import xarray as xr
    >>> t = pd.date_range("2012-01-01", periods=5, freq="10s")
    >>> ds = xr.Dataset({"b": ("time", [1.0, 2.0, 3.0, np.nan, 5.0])}, coords={"time": t})
    >>> rolling_statistics(ds, ["b"], windows=["20s"], statistics=["mean"])["b_rolling_mean_20s"].tolist()
    [1.5, 2.0, 2.5, 4.0, nan]
    """
    check_variables(ds, variables)
    index = time_index(ds)
    if not index.is_monotonic_increasing or not index.is_unique:
        raise PlanetMLError("rolling_statistics needs strictly increasing times")
    step = cadence_of(ds)
    frame = pd.DataFrame({name: ds[name].values.astype(float) for name in variables}, index=index)
    keys = ds[group].values if group is not None and group in ds else np.zeros(len(index))
    grouped = frame.groupby(keys, sort=False, dropna=False)
    columns = [frame]
    for window in windows:
        n_samples = 2 * (pd.Timedelta(window) / 2 // step) + 1
        if n_samples < 3:
            raise PlanetMLError(f"rolling window {window} spans {n_samples} sample(s) at the cadence "
                                f"{step.total_seconds():g}s; give windows of at least two cadence steps")
        rolled = grouped.rolling(window, center=True, closed="both",
                                 min_periods=max(int(np.ceil(min_fraction * n_samples)), 2)).agg(list(statistics))
        rolled.columns = [f"{name}_rolling_{statistic}_{window}" for name, statistic in rolled.columns]
        columns.append(rolled.droplevel(0).reindex(index))
    return pd.concat(columns, axis=1)
