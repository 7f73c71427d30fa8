"""Similarity to a crossing: the regression target of the causal CNN baseline and its read-out.

The Cluster bow-shock baseline (:class:`~planetml_lib.models.causalcnn1d.CausalCNN1d`)
does not classify regions; it regresses, at every time step, how close the
step is to a boundary crossing: 1 at a crossing, falling linearly to 0 at
``half_width`` from it (:func:`similarity_curve`). The peaks of its
prediction become instantaneous crossings in the events contract
(:func:`peaks_to_crossings`), ready for
:func:`~planetml_lib.evaluate.events.match_events`.
"""

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.events import validate_events


def _times(values, what):
    """Return ``values`` as a ``datetime64[ns]`` DatetimeIndex, refusing NaT."""
    times = pd.DatetimeIndex(pd.to_datetime(np.asarray(values))).as_unit("ns")
    if times.hasnans:
        raise PlanetMLError(f"{what} holds NaT at position {int(np.flatnonzero(times.isna())[0])}")
    return times


def _positive(duration, what):
    """Return ``duration`` as a positive Timedelta or raise PlanetMLError."""
    duration = pd.Timedelta(duration)
    if not duration > pd.Timedelta(0):
        raise PlanetMLError(f"{what} must be a positive duration, got {duration}")
    return duration


def similarity_curve(time, crossing_times, half_width="5min"):
    """Triangular "similarity to a crossing" at each sample: 1 at a crossing, 0 beyond ``half_width``.

    Parameters
    ----------
    time : array-like of datetime64, shape (n_times,)
        Sample times; may be irregular or unsorted.
    crossing_times : array-like of datetime64, shape (n_crossings,)
        Crossing times, e.g. ``events["start"]`` of a crossing catalogue; may
        be empty.
    half_width : str or pd.Timedelta, default "5min"
        Distance from a crossing at which the similarity reaches 0.

    Returns
    -------
    numpy.ndarray
        Float64 ``(n_times,)`` in [0, 1], free of NaN:
        ``max(0, 1 - |t - c| / half_width)`` for the nearest crossing ``c``
        (the maximum over overlapping crossings).

    Raises
    ------
    PlanetMLError
        If a time or crossing time is NaT or ``half_width`` is not positive.

    Examples
    --------
    >>> t = pd.date_range("2002-02-02 10:00", periods=9, freq="1min")
    >>> similarity_curve(t, [t[2], t[5]], half_width="2min")
    array([0. , 0.5, 1. , 0.5, 0.5, 1. , 0.5, 0. , 0. ])
    """
    samples = _times(time, "time").asi8
    crossings = np.sort(_times(crossing_times, "crossing_times").asi8)
    width = _positive(half_width, "half_width").value
    if crossings.size == 0:
        return np.zeros(samples.size)
    after = np.searchsorted(crossings, samples)
    previous = crossings[np.maximum(after - 1, 0)]
    following = crossings[np.minimum(after, crossings.size - 1)]
    distance = np.minimum(np.abs(samples - previous), np.abs(following - samples))
    return np.clip(1.0 - distance / width, 0.0, None)


def _min_distance(times, min_separation):
    """``find_peaks``'s ``distance`` in samples for ``min_separation`` at the median cadence (None if < 2 samples)."""
    if min_separation is None or times.size < 2:
        return None
    cadence = np.median(np.diff(times.asi8))
    return max(1.0, _positive(min_separation, "min_separation").value / cadence)


def peaks_to_crossings(similarity, time, height, min_separation="3min", valid=None, label="bow_shock"):
    """Instantaneous crossings at the peaks of a similarity curve (e.g. a model's prediction).

    Peaks are found by :func:`scipy.signal.find_peaks` with ``height``;
    of peaks closer than ``min_separation`` only the highest is kept (its
    ``distance``, in samples at the median cadence). NaN and invalid samples
    are set below any height first, so they are never crossings and never
    suppress a valid neighbour; a valid sample next to a gap is a peak when
    the similarity still rises towards the gap (a crossing hidden in a gap is
    reported at its edge).

    Parameters
    ----------
    similarity : array-like, shape (n_times,)
        Similarity to a crossing, e.g. the sigmoid of
        :class:`~planetml_lib.models.causalcnn1d.CausalCNN1d`'s output; NaN
        marks gaps.
    time : array-like of datetime64, shape (n_times,)
        Sorted sample times, about regular.
    height : float
        Smallest similarity of a peak, e.g. 0.5.
    min_separation : str or pd.Timedelta or None, default "3min"
        Peaks closer than this merge into the highest; None keeps all.
    valid : array-like of bool, shape (n_times,), optional
        False marks samples (data gaps) that cannot hold a crossing.
    label : str, default "bow_shock"
        Value of the ``label`` column.

    Returns
    -------
    pd.DataFrame
        Events table with ``start == end`` at each peak's sample time,
        ``label`` and ``score`` (the similarity at the peak), sorted by time.

    Raises
    ------
    PlanetMLError
        If shapes differ, the times are unsorted or NaT, or
        ``min_separation`` is not positive.

    Examples
    --------
    >>> t = pd.date_range("2002-02-02 10:00", periods=30, freq="1min")
    >>> curve = similarity_curve(t, [t[5], t[20]], half_width="4min")
    >>> peaks_to_crossings(curve, t, height=0.5)[["start", "score"]]
                    start  score
    0 2002-02-02 10:05:00    1.0
    1 2002-02-02 10:20:00    1.0
    """
    times = _times(time, "time")
    values = np.asarray(similarity, dtype=np.float64)
    if values.shape != (times.size,):
        raise PlanetMLError(f"similarity shape {values.shape} does not match time ({times.size},)")
    if not times.is_monotonic_increasing:
        raise PlanetMLError("time must be sorted in increasing order")
    usable = np.isfinite(values)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != values.shape:
            raise PlanetMLError(f"valid shape {valid.shape} does not match time ({times.size},)")
        usable &= valid
    peaks, _ = find_peaks(np.where(usable, values, -np.inf), height=height,
                          distance=_min_distance(times, min_separation))
    return validate_events(pd.DataFrame({"start": times[peaks], "end": times[peaks],
                                         "label": pd.Series([label] * peaks.size, dtype=str),
                                         "score": values[peaks]}))
