"""Rule-based bow-shock labeller: the non-neural baseline for Mercury's boundaries.

Before training networks, the MESSENGER boundary team labelled bow shocks with
a rule on the magnetometer data: the bow shock is where the field magnitude
(with Mercury's dipole removed) jumps, a jump makes the curvature (second
derivative) of the smoothed magnitude spike, and the bow shock is the
outermost boundary, so the first spike of an orbit is the inbound shock and
the last one the outbound shock. Steps, per orbit:

1. smooth the residual magnitude with a Savitzky-Golay filter and take its
   second derivative (:func:`scipy.signal.savgol_filter` with ``deriv=2``,
   the second derivative of the local smoothing polynomial);
2. z-score it over the orbit;
3. keep samples with ``|z| > z_threshold``, join spikes closer than one
   filter window into one crossing (the two lobes of a jump's curvature);
4. report the first crossing as ``bow_shock_in``, the last as
   ``bow_shock_out`` (a lone crossing gets the label of the orbit half it lies in).

The rule needs no training; it sees no magnetopause, which is why the neural
region classifiers (:class:`~planetml_lib.models.cnnlstm.CNNLSTM`) replaced it.
"""

import numpy as np
import pandas as pd
from scipy.signal import savgol_filter

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.events import mask_to_events


def curvature_zscore(values, window_length, polyorder=2):
    """Z-score of the Savitzky-Golay second derivative of one orbit's series.

    Parameters
    ----------
    values : array-like of float, shape (n_times,)
        Regularly sampled series, e.g. the residual field magnitude (nT).
        NaN samples (gaps) are bridged linearly for filtering and get NaN.
    window_length : int
        Odd filter window in samples, larger than ``polyorder``.
    polyorder : int, default 2
        Degree of the local polynomial; at least 2 (its second derivative).

    Returns
    -------
    np.ndarray of float, shape (n_times,)
        ``(d2 - mean(d2)) / std(d2)`` over the finite samples; all NaN when the
        series is shorter than the window or its curvature is constant.

    Examples
    --------
    >>> z = curvature_zscore(np.r_[np.zeros(50), np.ones(50)], window_length=11)
    >>> int(np.argmax(z)), int(np.argmin(z))
    (46, 53)
    """
    series = pd.Series(np.asarray(values, dtype=float))
    z = np.full(series.size, np.nan)
    if series.size < window_length or series.notna().sum() < 2:
        return z
    filled = series.interpolate(limit_direction="both").to_numpy()
    curvature = savgol_filter(filled, window_length, polyorder, deriv=2)
    curvature[series.isna().to_numpy()] = np.nan
    spread = np.nanstd(curvature)
    if spread > 1e3 * np.finfo(float).eps * np.abs(filled).max():  # above round-off of a flat or linear series
        z = (curvature - np.nanmean(curvature)) / spread
    return z


def _window_samples(time, window_s, polyorder):
    """Odd filter length in samples covering ``window_s`` at the median cadence of ``time``."""
    if not isinstance(polyorder, (int, np.integer)) or polyorder < 2:
        raise PlanetMLError(f"bow-shock rules: polyorder must be an integer >= 2, got {polyorder!r}")
    cadence_s = np.median((time[1:] - time[:-1]) / pd.Timedelta("1s")) if time.size > 1 else np.nan
    if not cadence_s > 0:
        raise PlanetMLError("bow-shock rules: need at least two increasing sample times")
    samples = int(np.ceil(window_s / cadence_s)) // 2 * 2 + 1
    if samples <= polyorder:
        raise PlanetMLError(
            f"bow-shock rules: window_s={window_s} spans {samples} samples; need more than polyorder={polyorder}"
        )
    return samples


def _orbit_shocks(time, z, z_threshold, window_s):
    """Inbound/outbound crossings of one orbit from its curvature z-score, as an events table."""
    spikes = mask_to_events(np.abs(z) > z_threshold, time, max_gap=pd.Timedelta(seconds=window_s))
    if spikes.empty:
        return spikes.assign(score=pd.Series(dtype=float))
    first_last = spikes.iloc[[0, -1]] if len(spikes) > 1 else spikes
    labels = ["bow_shock_in", "bow_shock_out"]
    if len(spikes) == 1:
        middle = time[0] + (time[-1] - time[0]) / 2
        labels = ["bow_shock_in" if spikes["start"].iloc[0] < middle else "bow_shock_out"]
    inside = [(time >= start) & (time <= end) for start, end in zip(first_last["start"], first_last["end"],
                                                                     strict=True)]
    scores = [float(np.nanmax(np.abs(z[mask]))) for mask in inside]
    return first_last.assign(label=labels, score=scores)


def detect_bow_shocks(time, values, orbit=None, *, window_s=120.0, polyorder=2, z_threshold=5.0):
    """Find each orbit's inbound and outbound bow shock from curvature spikes.

    Parameters
    ----------
    time : array-like of datetime64, shape (n_times,)
        Sorted, regularly sampled times (e.g. 1-s MESSENGER magnetometer data).
    values : array-like of float, shape (n_times,)
        Field magnitude with the planetary dipole removed (nT); NaN = gap.
    orbit : array-like, shape (n_times,), optional
        Orbit number per sample; None treats the series as one orbit.
    window_s : float, default 120.0
        Savitzky-Golay window in seconds (rounded up to an odd number of
        samples); spikes closer than this merge into one crossing.
    polyorder : int, default 2
        Savitzky-Golay polynomial degree.
    z_threshold : float, default 5.0
        A sample spikes when the absolute curvature z-score exceeds it.

    Returns
    -------
    pd.DataFrame
        Events table: ``start``/``end`` bracket the merged spikes (the jump lies
        inside), ``label`` ``"bow_shock_in"``/``"bow_shock_out"``, ``score`` (peak
        absolute z-score), plus ``orbit`` when given. At most one of each per orbit.

    Examples
    --------
    >>> t = pd.date_range("2012-01-01", periods=3600, freq="1s")
    >>> b = np.where((t >= "2012-01-01 00:20") & (t < "2012-01-01 00:40"), 40.0, 20.0)
    >>> detect_bow_shocks(t, b, window_s=60)[["start", "end", "label"]]
                    start                 end          label
    0 2012-01-01 00:19:35 2012-01-01 00:20:24   bow_shock_in
    1 2012-01-01 00:39:35 2012-01-01 00:40:24  bow_shock_out
    """
    time = pd.DatetimeIndex(np.asarray(time))
    values = np.asarray(values, dtype=float)
    if values.shape != (time.size,):
        raise PlanetMLError(f"bow-shock rules: values shape {values.shape} does not match time ({time.size},)")
    window = _window_samples(time, window_s, polyorder)
    groups = [(None, np.ones(time.size, bool))] if orbit is None else [
        (ident, np.asarray(orbit) == ident) for ident in pd.unique(np.asarray(orbit))]
    frames = []
    for ident, rows in groups:
        z = curvature_zscore(values[rows], window, polyorder)
        frames.append(_orbit_shocks(time[rows], z, z_threshold, window_s).assign(orbit=ident))
    events = pd.concat(frames, ignore_index=True).sort_values("start", ignore_index=True)
    return events.drop(columns="orbit") if orbit is None else events


class BowShockRules:
    """The bow-shock rule as a predictor on a MESSENGER time-series Dataset.

    Holds the rule's settings (nothing is learned, so there is no ``fit``)
    and the names of the variables to read, so it can stand beside the
    trained models of the Mercury case: ``BowShockRules(...).predict(ds)``.

    Parameters
    ----------
    variable : str or sequence of str
        Residual field magnitude (nT, dipole removed), or the names of its
        components, whose Euclidean norm is taken.
    orbit_variable : str or None, default "orbit"
        Variable holding the orbit number of each sample; None treats the
        Dataset as one orbit.
    window_s, polyorder, z_threshold
        See :func:`detect_bow_shocks`.

    Examples
    --------
    >>> t = pd.date_range("2012-01-01", periods=3600, freq="1s")
    >>> b = np.where((t >= "2012-01-01 00:20") & (t < "2012-01-01 00:40"), 40.0, 20.0)
    >>> ds = xr.Dataset({"db": ("time", b)}, coords={"time": t})
    >>> BowShockRules("db", orbit_variable=None, window_s=60).predict(ds)["label"].tolist()
    ['bow_shock_in', 'bow_shock_out']
    """

    def __init__(self, variable, orbit_variable="orbit", window_s=120.0, polyorder=2, z_threshold=5.0):
        self.variable = variable
        self.orbit_variable = orbit_variable
        self.window_s = window_s
        self.polyorder = polyorder
        self.z_threshold = z_threshold

    def _needed(self):
        """Names of the Dataset variables the rule reads."""
        names = [self.variable] if isinstance(self.variable, str) else list(self.variable)
        return names + ([] if self.orbit_variable is None else [self.orbit_variable])

    def predict(self, ds):
        """Return the bow-shock crossings of ``ds`` (dimension ``time``) as an events table.

        See :func:`detect_bow_shocks` for the columns.
        """
        missing = [name for name in self._needed() if name not in ds.variables]
        if missing:
            raise PlanetMLError(f"BowShockRules: dataset lacks variable(s) {missing}; has {sorted(ds.data_vars)}")
        if isinstance(self.variable, str):
            magnitude = ds[self.variable].values
        else:
            magnitude = np.sqrt(sum(ds[name].values.astype(float) ** 2 for name in self.variable))
        orbit = None if self.orbit_variable is None else ds[self.orbit_variable].values
        return detect_bow_shocks(ds["time"].values, magnitude, orbit, window_s=self.window_s,
                                 polyorder=self.polyorder, z_threshold=self.z_threshold)
