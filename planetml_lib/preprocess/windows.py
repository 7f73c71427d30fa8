"""Fixed-length windows for sequence models, and stitching their outputs back to a time axis.

The one boundary where the time-series contract becomes model input (DESIGN.md):
``to_windows`` makes ``(n_windows, n_channels, length)`` float32 arrays, ``from_windows``
turns per-window outputs back into a DataArray on ``time``.
"""

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.timeseries import check_variables, time_index


def _window_starts(n_times, length, stride, pad):
    """Start positions of windows; with ``pad`` the last window is aligned to the end."""
    if length < 1 or stride < 1:
        raise PlanetMLError(f"window length and stride must be >= 1 (got {length}, {stride})")
    if n_times < length:
        if not pad:
            raise PlanetMLError(f"series has {n_times} samples, fewer than the window length {length}")
        return np.array([0])
    starts = np.arange(0, n_times - length + 1, stride)
    if pad and starts[-1] + length < n_times:
        starts = np.append(starts, n_times - length)
    return starts


def to_windows(ds, variables, length, stride, pad=True, fill_value=None):
    """Cut a time series into fixed-length windows for a model.

    Windows start every ``stride`` samples. With ``pad=True`` every sample is
    covered: when the stride grid misses the tail, one extra window is aligned
    to the end of the series (so windows may overlap more there); a series
    shorter than ``length`` gives one window filled with NaN (or
    ``fill_value``) after its last sample. With ``pad=False`` the tail may be
    left out. Undo with :func:`from_windows`.

    Parameters
    ----------
    ds : xr.Dataset
        Time series (usually regularized, so windows span equal times).
    variables : list of str
        Variables to stack as channels, in this order.
    length, stride : int
        Window length and step, in samples.
    pad : bool
        See above.
    fill_value : float, optional
        Replaces NaN in the windows; None keeps NaN (let the model use ``valid``).

    Returns
    -------
    X : np.ndarray of float32, shape (n_windows, n_channels, length)
    starts : pd.DatetimeIndex, shape (n_windows,)
        Time of each window's first sample.

    Examples
    --------
    >>> t = pd.date_range("2019-01-01", periods=10, freq="10min")
    >>> ds = xr.Dataset({"bt": ("time", np.arange(10.0))}, coords={"time": t})
    >>> X, starts = to_windows(ds, ["bt"], length=4, stride=4)
    >>> X.shape, X[-1, 0].tolist()
    ((3, 1, 4), [6.0, 7.0, 8.0, 9.0])
    """
    times = time_index(ds)
    check_variables(ds, variables)
    data = np.stack([np.asarray(ds[name].values, dtype=np.float32) for name in variables])
    starts = _window_starts(times.size, length, stride, pad)
    if times.size < length:
        tail = np.full((len(variables), length - times.size), np.nan, dtype=np.float32)
        data = np.concatenate([data, tail], axis=1)
    windows = np.lib.stride_tricks.sliding_window_view(data, length, axis=1)[:, starts]
    X = np.ascontiguousarray(windows.transpose(1, 0, 2))
    if fill_value is not None:
        X = np.nan_to_num(X, nan=fill_value)
    return X, times[starts]


def _window_positions(starts, time, n_windows, stride):
    """Positions of the window starts in ``time``, checked against ``stride``."""
    if len(starts) != n_windows:
        raise PlanetMLError(f"{len(starts)} window starts for {n_windows} windows")
    positions = pd.DatetimeIndex(time).get_indexer(pd.DatetimeIndex(starts))
    if (positions < 0).any():
        raise PlanetMLError("some window starts are not in `time`; pass the time used by to_windows")
    steps = np.diff(positions)
    if steps.size and ((steps <= 0).any() or (steps[:-1] != stride).any() or steps[-1] > stride):
        raise PlanetMLError(f"window starts are not spaced by stride={stride} samples")
    return positions


def from_windows(values, starts, time, length, stride):
    """Stitch per-window model outputs back onto the time axis.

    Where windows overlap, the finite values are averaged; samples that no
    window covers (or only NaN does) are NaN. Padded tails past the end of
    ``time`` are dropped. Inverse of :func:`to_windows` for ``stride <= length``.

    Parameters
    ----------
    values : array-like, shape (n_windows, length) or (n_windows, n_classes, length)
        E.g. per-step probabilities from a model.
    starts : pd.DatetimeIndex, shape (n_windows,)
        Window start times returned by :func:`to_windows`.
    time : array-like of datetime64, shape (n_times,)
        Time axis of the dataset given to :func:`to_windows`.
    length, stride : int
        As given to :func:`to_windows` (checked against ``values`` and ``starts``).

    Returns
    -------
    xr.DataArray
        Dims ``("time",)``, or ``("time", "class")`` for 3-D ``values``.

    Examples
    --------
    >>> t = pd.date_range("2019-01-01", periods=10, freq="10min")
    >>> ds = xr.Dataset({"bt": ("time", np.arange(10.0))}, coords={"time": t})
    >>> X, starts = to_windows(ds, ["bt"], length=4, stride=2)
    >>> from_windows(X[:, 0], starts, t, length=4, stride=2).values.tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    """
    values = np.asarray(values, dtype=float)
    if values.ndim not in (2, 3) or values.shape[-1] != length:
        raise PlanetMLError(f"values must be (n_windows, [n_classes,] {length}); got shape {values.shape}")
    time = pd.DatetimeIndex(np.asarray(time)).as_unit("ns")
    positions = _window_positions(starts, time, values.shape[0], stride)
    per_step = values if values.ndim == 3 else values[:, None, :]
    per_step = per_step.transpose(0, 2, 1)  # (n_windows, length, n_classes)
    index = positions[:, None] + np.arange(length)
    inside = (index < time.size)[..., None] & np.isfinite(per_step)
    totals = np.zeros((time.size, per_step.shape[2]))
    counts = np.zeros_like(totals)
    rows, steps, classes = np.nonzero(inside)
    np.add.at(totals, (index[rows, steps], classes), per_step[rows, steps, classes])
    np.add.at(counts, (index[rows, steps], classes), 1)
    with np.errstate(invalid="ignore"):
        stitched = totals / counts
    if values.ndim == 2:
        return xr.DataArray(stitched[:, 0], dims="time", coords={"time": time})
    return xr.DataArray(stitched, dims=("time", "class"),
                        coords={"time": time, "class": np.arange(stitched.shape[1])})
