"""Convert between event tables and per-sample masks.

An *events table* is the package's contract for catalogues and predictions: a
``pd.DataFrame`` with columns ``start`` and ``end`` (``datetime64[ns]``,
UTC-naive) and ``label`` (str), one row per event, sorted by ``start``, index
0..n-1, ``end >= start``. An instantaneous crossing has ``start == end``.

Intervals are closed, ``[start, end]``: a sample at time ``t`` belongs to an
event when ``start <= t <= end``. :func:`mask_to_events` reports ``end`` as the
time of the *last* True sample, so ``events_to_mask(mask_to_events(m, t), t)``
gives back ``m`` exactly.
"""

import numpy as np
import pandas as pd

from planetml_lib.errors import PlanetMLError

EVENT_COLUMNS = ("start", "end", "label")


def _to_naive_ns(values, what):
    """Return ``values`` as UTC-naive ``datetime64[ns]`` (a DatetimeIndex)."""
    try:
        times = pd.DatetimeIndex(pd.to_datetime(np.asarray(values)))
    except (TypeError, ValueError) as err:
        raise PlanetMLError(f"{what}: cannot read times ({err})") from None
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    return times.as_unit("ns")


def validate_events(events, source=""):
    """Check an events table and return a clean copy following the contract.

    Parameters
    ----------
    events : pd.DataFrame
        Needs columns ``start``, ``end`` (anything ``pd.to_datetime`` reads;
        time-zone aware times are converted to UTC) and ``label``. Extra
        columns are kept.
    source : str
        Name of the file or catalogue, used in error messages.

    Returns
    -------
    pd.DataFrame
        Copy with ``start``/``end`` as ``datetime64[ns]``, ``label`` as str,
        sorted by ``start`` and index reset.

    Raises
    ------
    PlanetMLError
        If a column is missing, a time is missing or unreadable, or an event
        ends before it starts.

    Examples
    --------
    >>> ev = pd.DataFrame({"start": ["2019-01-02"], "end": ["2019-01-01"],
    ...                    "label": ["ICME"]})
    >>> validate_events(ev, "mycat.csv")
    Traceback (most recent call last):
    planetml_lib.errors.PlanetMLError: mycat.csv: 1 event(s) end before they start (first at row 0)
    """
    where = source or "events"
    if not isinstance(events, pd.DataFrame):
        raise PlanetMLError(f"{where}: expected a pandas DataFrame, got {type(events).__name__}")
    missing = [col for col in EVENT_COLUMNS if col not in events.columns]
    if missing:
        raise PlanetMLError(f"{where}: missing column(s) {missing}; need {list(EVENT_COLUMNS)}")
    out = events.copy()
    for col in ("start", "end"):
        out[col] = _to_naive_ns(out[col], f"{where} column '{col}'")
        if out[col].isna().any():
            row = int(np.flatnonzero(out[col].isna())[0])
            raise PlanetMLError(f"{where}: missing '{col}' time at row {row}")
    backwards = np.flatnonzero(out["end"] < out["start"])
    if backwards.size:
        raise PlanetMLError(
            f"{where}: {backwards.size} event(s) end before they start (first at row {backwards[0]})"
        )
    out["label"] = out["label"].astype(str)
    return out.sort_values("start", kind="stable").reset_index(drop=True)


def _sorted_times(time):
    """Return ``time`` as a DatetimeIndex, refusing unsorted input."""
    times = _to_naive_ns(time, "time")
    if not times.is_monotonic_increasing:
        raise PlanetMLError("time: times must be sorted in increasing order")
    return times


def events_to_mask(events, time):
    """Mark the samples that fall inside any event.

    Parameters
    ----------
    events : pd.DataFrame
        Events table (see :func:`validate_events`).
    time : array-like of datetime64, shape (n_times,)
        Sorted sample times; may be irregular.

    Returns
    -------
    np.ndarray of bool, shape (n_times,)
        True where ``start <= time <= end`` for some event. An event that
        contains no sample (e.g. an instantaneous crossing between two
        samples) leaves no trace.

    Examples
    --------
    >>> t = pd.date_range("2019-01-01", periods=6, freq="1h")
    >>> ev = pd.DataFrame({"start": [t[1]], "end": [t[3]], "label": ["ICME"]})
    >>> events_to_mask(ev, t).astype(int)
    array([0, 1, 1, 1, 0, 0])
    """
    events = validate_events(events)
    times = _sorted_times(time).asi8
    first = np.searchsorted(times, events["start"].to_numpy("datetime64[ns]").view("i8"), "left")
    after = np.searchsorted(times, events["end"].to_numpy("datetime64[ns]").view("i8"), "right")
    edges = np.zeros(times.size + 1, dtype=np.int64)
    np.add.at(edges, first, 1)
    np.add.at(edges, after, -1)
    return np.cumsum(edges[:-1]) > 0


def _as_bool_mask(mask, n_times, name):
    """Return a 1-D bool mask; NaN counts as False, any other non-zero as True."""
    arr = np.asarray(mask)
    if arr.shape != (n_times,):
        raise PlanetMLError(f"{name}: shape {arr.shape} does not match time ({n_times},)")
    if arr.dtype.kind == "f":
        return np.where(np.isnan(arr), False, arr != 0)
    return arr.astype(bool)


def mask_to_events(mask, time, min_duration=None, max_gap=None, label="event", valid=None):
    """Turn a per-sample mask into an events table.

    Runs of True samples become events with ``start`` at the first and ``end``
    at the last True sample. Runs are then merged when the gap between them,
    ``next.start - previous.end``, is at most ``max_gap``; last, merged events
    shorter than ``min_duration`` (``end - start``) are dropped. A single-sample
    event has duration zero.

    Parameters
    ----------
    mask : array-like, shape (n_times,)
        Bool, or numbers (non-zero is True, NaN is False).
    time : array-like of datetime64, shape (n_times,)
        Sorted sample times; may be irregular.
    min_duration, max_gap : str or pd.Timedelta, optional
        E.g. ``"3h"``. None disables the step.
    label : str
        Value of the ``label`` column.
    valid : array-like of bool, shape (n_times,), optional
        Samples marked False (data gaps) neither start nor extend an event;
        a gap therefore splits an event unless ``max_gap`` bridges it.

    Returns
    -------
    pd.DataFrame
        Events table with columns ``start``, ``end``, ``label``.

    Examples
    --------
    >>> t = pd.date_range("2019-01-01", periods=8, freq="1h")
    >>> m = np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)
    >>> mask_to_events(m, t, max_gap="2h", min_duration="1h")[["start", "end"]]
                    start                 end
    0 2019-01-01 01:00:00 2019-01-01 04:00:00
    """
    times = _sorted_times(time)
    flags = _as_bool_mask(mask, times.size, "mask")
    if valid is not None:
        flags &= _as_bool_mask(valid, times.size, "valid")
    padded = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts = times[np.flatnonzero(padded == 1)]
    ends = times[np.flatnonzero(padded == -1) - 1]
    if max_gap is not None and starts.size > 1:
        keep_apart = (starts[1:] - ends[:-1]) > pd.Timedelta(max_gap)
        starts = starts[np.concatenate(([True], keep_apart))]
        ends = ends[np.concatenate((keep_apart, [True]))]
    if min_duration is not None:
        long_enough = (ends - starts) >= pd.Timedelta(min_duration)
        starts, ends = starts[long_enough], ends[long_enough]
    return pd.DataFrame({"start": starts, "end": ends, "label": pd.Series([label] * starts.size, dtype=str)})


def event_statistic(events, time, values, statistic=np.nanmean):
    """``statistic`` of a per-sample series over each event's samples (``start <= t <= end``).

    Gives each event a score from the model output it came from (e.g. its mean
    probability); NaN samples (gaps) are left out, and an event without a finite
    sample gets NaN.

    Parameters
    ----------
    events : pd.DataFrame
        Events table.
    time : array-like of datetime64, shape (n_times,)
        Sorted sample times.
    values : array-like of float, shape (n_times,)
    statistic : callable
        Reduces a 1-D array without all-NaN input, e.g. ``np.nanmean``, ``np.nanmax``.

    Returns
    -------
    np.ndarray of float, shape (n_events,)

    Examples
    --------
    >>> t = pd.date_range("2019-01-01", periods=6, freq="1h")
    >>> events = mask_to_events(np.array([0, 1, 1, 0, 1, 0], bool), t)
    >>> event_statistic(events, t, [0.1, 0.8, 0.6, 0.2, 0.9, np.nan]).round(2)
    array([0.7, 0.9])
    """
    times = _sorted_times(time).to_numpy()
    values = np.asarray(values, dtype=float)
    if values.shape != times.shape:
        raise PlanetMLError(f"values: shape {values.shape} does not match time {times.shape}")
    first = np.searchsorted(times, events["start"].to_numpy("datetime64[ns]"), side="left")
    last = np.searchsorted(times, events["end"].to_numpy("datetime64[ns]"), side="right")
    slices = [values[a:b] for a, b in zip(first, last, strict=True)]
    return np.array([statistic(part) if np.isfinite(part).any() else np.nan for part in slices], dtype=float)
