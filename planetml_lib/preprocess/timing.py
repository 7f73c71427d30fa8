"""Multi-spacecraft timing of a planar boundary, e.g. Earth's bow shock seen by the four Cluster spacecraft.

A planar boundary with unit normal ``n`` moving at constant speed ``V`` along
``n`` reaches the spacecraft at positions ``r_i`` at times ``t_i`` with

    (r_i - r_0) . m = t_i - t_0,    m = n / V

(Russell et al. 1983; Schwartz 1998, ISSI Scientific Report SR-001, ch. 10).
Four spacecraft that do not lie in one plane fix the "slowness" vector ``m``
exactly; more are fitted by least squares. :func:`timing_normal` solves it,
:func:`crossing_time` and :func:`crossing_delays` give the times or the delays
it needs from each spacecraft's series, and :func:`angle_deg` compares normals
(e.g. with a model bow shock's). Positions are in km, times in seconds (or
``datetime64``), speeds in km/s, all in one frame (e.g. GSE), in the
spacecraft frame of reference.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from planetml_lib.errors import PlanetMLError


class TimingResult(NamedTuple):
    """Normal and speed of a planar boundary from multi-spacecraft timing.

    Attributes
    ----------
    normal : numpy.ndarray, shape (3,)
        Unit normal of the boundary, in the frame of the positions.
    speed_km_s : float
        Speed of the boundary along ``normal`` in km/s, in the frame of the
        spacecraft; negative when ``normal`` was flipped to point along a
        reference and the boundary moves the other way.
    residual_s : float
        Root-mean-square misfit of the crossing times, in seconds; zero with
        exactly four spacecraft, whose times are always fitted exactly.
    condition : float
        Condition number of the spacecraft separations from their centre,
        ``a / c`` for the semi-axes ``a >= b >= c`` of the tetrahedron's
        volumetric tensor: 1 for a regular tetrahedron, infinite for
        coplanar spacecraft. It equals ``1 / ((1 - E) (1 - P))`` with the
        elongation ``E = 1 - b / a`` and planarity ``P = 1 - c / b`` of Robert
        et al. (1998); timing errors are amplified by up to this factor.
    """

    normal: np.ndarray
    speed_km_s: float
    residual_s: float
    condition: float


def _positions(positions_km):
    """Return ``positions_km`` as a finite float array (n_spacecraft >= 4, 3)."""
    positions = np.asarray(positions_km, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise PlanetMLError(f"positions_km must have shape (n_spacecraft, 3), got {positions.shape}")
    if positions.shape[0] < 4:
        raise PlanetMLError(f"timing needs at least 4 spacecraft, got {positions.shape[0]}")
    if not np.isfinite(positions).all():
        raise PlanetMLError("positions_km holds NaN or infinite values")
    return positions


def _seconds(times, n_spacecraft):
    """Return ``times`` (datetime64 or seconds) as float seconds after the first, refusing NaN or NaT."""
    values = np.asarray(times)
    if values.shape != (n_spacecraft,):
        raise PlanetMLError(f"times must have shape ({n_spacecraft},) like the positions, got {values.shape}")
    if values.dtype.kind in "iuf":
        seconds = values.astype(np.float64)
        if not np.isfinite(seconds).all():
            raise PlanetMLError(f"times hold NaN at spacecraft {np.flatnonzero(~np.isfinite(seconds)).tolist()}")
        return seconds - seconds[0]
    stamps = pd.DatetimeIndex(pd.to_datetime(values)).as_unit("ns")
    if stamps.isna().any():
        raise PlanetMLError(f"times hold NaT at spacecraft {np.flatnonzero(stamps.isna()).tolist()}")
    return (stamps.asi8 - stamps.asi8[0]) / 1e9


def _unit(vector, name):
    """Return ``vector`` (3,) scaled to unit length, refusing a zero or non-finite vector."""
    vector = np.asarray(vector, dtype=np.float64)
    norm = np.linalg.norm(vector) if vector.shape == (3,) else 0.0
    if not np.isfinite(norm) or norm == 0:
        raise PlanetMLError(f"{name} must be a finite non-zero vector of shape (3,), got {vector!r}")
    return vector / norm


def timing_normal(positions_km, times, outward=None, max_condition=100.0):
    """Normal and speed of a planar boundary from the times it passes four (or more) spacecraft.

    Solves ``(r_i - r_c) . m = t_i - t_c`` for the slowness ``m = n / V``
    by least squares, with ``r_c`` and ``t_c`` the mean position and time
    (for four spacecraft the same exact solution as differences to the
    first); then ``n = m / |m|`` and ``V = 1 / |m|``.

    Parameters
    ----------
    positions_km : array-like, shape (n_spacecraft, 3)
        Spacecraft positions in km at the crossing, ``n_spacecraft >= 4``.
    times : array-like, shape (n_spacecraft,)
        Crossing time at each spacecraft: ``datetime64`` or seconds.
    outward : array-like, shape (3,), optional
        Reference direction, e.g. a spacecraft's position (away from Earth):
        the normal is flipped to have a non-negative component along it, and
        the speed's sign flips with it (negative: moving against the normal,
        e.g. a shock moving Earthward). None keeps the direction of motion.
    max_condition : float, default 100
        Largest accepted :attr:`TimingResult.condition`; flatter or longer
        configurations are refused.

    Returns
    -------
    TimingResult
        ``normal`` (3,), ``speed_km_s``, ``residual_s`` and ``condition``.

    Raises
    ------
    PlanetMLError
        For fewer than 4 spacecraft, NaN positions or times, a degenerate
        (coplanar, collinear or too elongated) configuration, or equal times
        at every spacecraft (an infinitely fast boundary).

    Examples
    --------
    A boundary with normal +x moving at 50 km/s past a regular-ish tetrahedron:

    >>> r = np.array([[0, 0, 0], [1000, 0, 0], [0, 1000, 0], [0, 0, 1000]])
    >>> result = timing_normal(r, r[:, 0] / 50.0)
    >>> bool(np.allclose(result.normal, [1, 0, 0])), round(result.speed_km_s, 6)
    (True, 50.0)
    >>> round(timing_normal(r, r[:, 0] / 50.0, outward=[-1, 0, 0]).speed_km_s, 6)
    -50.0
    """
    positions = _positions(positions_km)
    offsets = positions - positions.mean(axis=0)
    delays = _seconds(times, positions.shape[0])
    delays = delays - delays.mean()
    singular = np.linalg.svd(offsets, compute_uv=False)
    condition = singular[0] / singular[-1] if singular[-1] > 0 else np.inf
    if not condition <= max_condition:
        raise PlanetMLError(f"spacecraft configuration too degenerate for timing (coplanar, collinear or "
                            f"elongated): condition number {condition:.3g} > max_condition {max_condition:g}")
    slowness = np.linalg.lstsq(offsets, delays, rcond=None)[0]
    size = np.linalg.norm(slowness)
    if size == 0:
        raise PlanetMLError("all spacecraft cross at the same time: the boundary speed is infinite")
    normal, speed = slowness / size, 1.0 / size
    if outward is not None and normal @ _unit(outward, "outward") < 0:
        normal, speed = -normal, -speed
    residual = np.sqrt(np.mean((offsets @ slowness - delays) ** 2))
    return TimingResult(normal, float(speed), float(residual), float(condition))


def angle_deg(a, b, signless=True):
    """Angle between two normals (or batches of them), in degrees.

    Parameters
    ----------
    a, b : array-like, shape (..., 3)
        Vectors, broadcast against each other; need not be unit vectors.
    signless : bool, default True
        Treat ``n`` and ``-n`` as the same normal, giving an angle in [0, 90];
        otherwise in [0, 180].

    Returns
    -------
    numpy.float64 or numpy.ndarray
        Angles of shape ``(...)``, computed with ``arctan2`` so that small
        angles keep full precision.

    Raises
    ------
    PlanetMLError
        If the last axis is not of length 3 or a vector is zero or not finite.

    Examples
    --------
    >>> float(angle_deg([1, 0, 0], [-1, 1, 0])), float(angle_deg([1, 0, 0], [-1, 1, 0], signless=False))
    (45.0, 135.0)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape[-1:] != (3,) or b.shape[-1:] != (3,):
        raise PlanetMLError(f"angle_deg needs vectors of shape (..., 3), got {a.shape} and {b.shape}")
    lengths = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    if not (np.isfinite(lengths) & (lengths > 0)).all():
        raise PlanetMLError("angle_deg: vectors must be finite and non-zero")
    dot = np.sum(a * b, axis=-1)
    sine = np.linalg.norm(np.cross(a, b), axis=-1)
    return np.degrees(np.arctan2(sine, np.abs(dot) if signless else dot))


def _lagged_correlation(x, y, max_lag):
    """Pearson correlation of ``x[t]`` with ``y[t + k]`` for ``k = -max_lag .. max_lag`` over finite pairs.

    NaN for a lag whose overlap holds fewer than 3 finite pairs or a constant series.
    """
    n_times = x.size
    correlation = np.full(2 * max_lag + 1, np.nan)
    for row, lag in enumerate(range(-max_lag, max_lag + 1)):
        a, b = (x[:n_times - lag], y[lag:]) if lag >= 0 else (x[-lag:], y[:n_times + lag])
        finite = np.isfinite(a) & np.isfinite(b)
        if finite.sum() < 3:
            continue
        a, b = a[finite] - a[finite].mean(), b[finite] - b[finite].mean()
        scale = np.sqrt(np.sum(a * a) * np.sum(b * b))
        if scale > 0:
            correlation[row] = np.sum(a * b) / scale
    return correlation


def _peak_lag(correlation, max_lag):
    """Lag (fractional samples) of the correlation maximum, refined by a parabola through it and its neighbours.

    NaN when no lag has a correlation or the maximum lies at ``+-max_lag`` (the delay may lie beyond).
    """
    if np.isnan(correlation).all():
        return np.nan
    best = int(np.nanargmax(correlation))
    if best in (0, correlation.size - 1):
        return np.nan
    before, peak, after = correlation[best - 1:best + 2]
    curvature = before - 2 * peak + after
    offset = 0.5 * (before - after) / curvature if curvature < 0 else 0.0
    return best - max_lag + offset


def crossing_delays(series, cadence_s, max_lag_s):
    """Delay of each spacecraft's series relative to the first, by normalised cross-correlation.

    For every lag ``k`` of whole samples up to ``max_lag_s``, the Pearson
    correlation of ``series[0, t]`` with ``series[i, t + k]`` is computed
    over the pairs where both are finite; the best lag is refined to a
    fraction of a sample by a parabola through the maximum and its two
    neighbours.

    Parameters
    ----------
    series : array-like, shape (n_spacecraft, n_times)
        The same quantity at each spacecraft on one regular time grid, e.g.
        ``|B|`` at 4-s cadence around a crossing; NaN marks gaps.
    cadence_s : float
        Sampling step of the grid in seconds.
    max_lag_s : float
        Largest delay searched, in seconds (at least one cadence).

    Returns
    -------
    numpy.ndarray, shape (n_spacecraft,)
        Delays in seconds, ``0`` for the first spacecraft and positive when a
        spacecraft sees the feature later. NaN where the best lag lies at
        ``+-max_lag_s`` (the delay may be longer) or no lag has 3 finite pairs.

    Raises
    ------
    PlanetMLError
        For a series of the wrong shape, a non-positive cadence, or a
        ``max_lag_s`` shorter than a cadence or too long for the series.

    Examples
    --------
    >>> t = np.arange(100) * 4.0
    >>> jump = np.tanh((t[None, :] - 200.0 - np.array([[0.0], [6.0]])) / 10.0)
    >>> crossing_delays(jump, cadence_s=4.0, max_lag_s=40.0).round(1)
    array([0., 6.])
    """
    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 2 or series.shape[0] < 2:
        raise PlanetMLError(f"series must have shape (n_spacecraft >= 2, n_times), got {series.shape}")
    if not cadence_s > 0:
        raise PlanetMLError(f"cadence_s must be positive, got {cadence_s!r}")
    max_lag = int(max_lag_s // cadence_s)
    if not 1 <= max_lag <= series.shape[1] - 3:
        raise PlanetMLError(f"max_lag_s must span 1 to {series.shape[1] - 3} samples of {cadence_s} s, "
                            f"got {max_lag_s!r} s")
    lags = [_peak_lag(_lagged_correlation(series[0], other, max_lag), max_lag) for other in series[1:]]
    return np.array([0.0, *lags]) * cadence_s


def _robust_spread(values):
    """Scaled median absolute deviation: the standard deviation of Gaussian noise, robust to outliers."""
    return 1.4826 * np.median(np.abs(values - np.median(values)))


def _level_pass(time_ns, values, level, rising):
    """Interpolated time (ns) at which ``values`` pass ``level`` between the two sides with fewest outliers.

    Every pass from below to above ``level`` (``rising``; above to below otherwise) is a candidate;
    the chosen one leaves the fewest samples on the wrong side.
    """
    above = (values > level) if rising else (values < level)
    passes = np.flatnonzero(~above[:-1] & above[1:])
    if passes.size == 0:
        return None
    n_above = np.cumsum(above)
    wrong = n_above[passes] + (values.size - 1 - passes) - (n_above[-1] - n_above[passes])
    j = passes[np.argmin(wrong)]
    fraction = (level - values[j]) / (values[j + 1] - values[j])
    return time_ns[j] + fraction * (time_ns[j + 1] - time_ns[j])


def crossing_time(time, values, around, window, min_contrast=2.0):
    """Time at which a series jumps across a boundary, between the levels on either side.

    Within ``[around - window, around + window]``, the medians of the finite
    values before and after ``around`` give the two levels; the crossing is
    where the values pass half-way between them, linearly interpolated
    between the two samples around the pass (across a gap if there is one).
    With several passes (noise near the half level) the one that leaves the
    fewest samples on the wrong side is chosen.

    Parameters
    ----------
    time : array-like of datetime64, shape (n_times,)
        Sorted sample times; may be irregular.
    values : array-like, shape (n_times,)
        The series, e.g. ``|B|`` in nT; NaN marks gaps.
    around : datetime-like
        Approximate crossing time, e.g. from a catalogue or a model.
    window : str or pd.Timedelta
        Half-width of the search interval, e.g. ``"2min"``; the crossing
        should lie well inside it.
    min_contrast : float, default 2.0
        The jump between the two medians must exceed ``min_contrast`` times
        the larger robust spread (scaled MAD) of the two sides.

    Returns
    -------
    pd.Timestamp
        The crossing time, or ``pd.NaT`` without a clean jump: fewer than 3
        finite samples on a side, or a jump below ``min_contrast``.

    Raises
    ------
    PlanetMLError
        If the shapes differ, the times are unsorted or contain NaT, or
        ``window`` is not positive.

    Examples
    --------
    >>> t = pd.date_range("2002-02-02 10:00", periods=10, freq="4s")
    >>> b = np.array([5, 5, 5, 5, 5, 15, 15, 15, 15, 15.0])
    >>> crossing_time(t, b, around=t[4], window="20s")
    Timestamp('2002-02-02 10:00:18')
    """
    times, values = pd.DatetimeIndex(time).as_unit("ns"), np.asarray(values, dtype=np.float64)
    if values.shape != (times.size,):
        raise PlanetMLError(f"values shape {values.shape} does not match time ({times.size},)")
    if times.hasnans or not times.is_monotonic_increasing:
        raise PlanetMLError("time must be sorted and free of NaT")
    centre, half = pd.Timestamp(around).as_unit("ns").value, pd.Timedelta(window).value
    if not half > 0:
        raise PlanetMLError(f"window must be a positive duration, got {window!r}")
    keep = (np.abs(times.asi8 - centre) <= half) & np.isfinite(values)
    time_ns, values = times.asi8[keep], values[keep]
    before, after = values[time_ns < centre], values[time_ns > centre]
    if before.size < 3 or after.size < 3:
        return pd.NaT
    low, high = np.median(before), np.median(after)
    if not abs(high - low) > min_contrast * max(_robust_spread(before), _robust_spread(after)):
        return pd.NaT
    passed = _level_pass(time_ns, values, (low + high) / 2, rising=high > low)
    return pd.NaT if passed is None else pd.Timestamp(round(passed), unit="ns")
