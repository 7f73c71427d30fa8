"""Time-series preparation: regular grid, scaling, time splits.

All functions take the package's time-series contract: an ``xr.Dataset`` with
one dimension ``time`` (``datetime64``, sorted, UTC-naive). Gaps are never
interpolated or dropped: they stay NaN and are flagged by the boolean ``valid``
variable that :func:`regularize` adds, so models and metrics can see them.
"""

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.io.tables import cadence_string

SCALER_METHODS = ("standard", "robust")


def time_index(ds):
    """Return the ``time`` coordinate of ``ds`` as a DatetimeIndex, checking it exists."""
    if "time" not in ds.dims:
        raise PlanetMLError(f"dataset has no 'time' dimension (dims: {list(ds.dims)})")
    return pd.DatetimeIndex(ds["time"].values).as_unit("ns")


def _float_variables(ds):
    """Names of the floating-point data variables, except ``valid``."""
    return [name for name, var in ds.data_vars.items() if var.dtype.kind == "f" and name != "valid"]


def check_variables(ds, names):
    """Raise PlanetMLError naming any of ``names`` missing from ``ds``."""
    missing = [name for name in names if name not in ds]
    if missing:
        raise PlanetMLError(f"variable(s) {missing} not in dataset (has {list(ds.data_vars)})")


def regularize(ds, freq=None):
    """Put a time series on a regular grid without interpolating.

    The grid runs from the first to the last sample, with points at whole
    multiples of ``freq`` (e.g. every ``"10min"`` at :00, :10, ...). Each
    sample moves to the nearest grid point, i.e. by at most half a step;
    grid points without a sample get NaN. Integer and bool variables become
    float so they can hold NaN.

    Parameters
    ----------
    ds : xr.Dataset
        Time series with dimension ``time``, possibly irregular or with gaps.
    freq : str, optional
        Grid step as a fixed pandas frequency, e.g. ``"1min"``, ``"10min"``, ``"1h"``;
        default the series' own cadence (:func:`cadence_of`).

    Returns
    -------
    xr.Dataset
        Same variables and attrs on the grid (``datetime64[ns]``), plus the
        bool variable ``valid``: True where every floating-point variable is
        finite (and the input's own ``valid``, if any, was True).
        ``attrs["cadence"]`` is set to ``freq``.

    Raises
    ------
    PlanetMLError
        If ``freq`` is not a fixed frequency, ``ds`` is empty, or two samples
        fall on the same grid point (resample or average them first).

    Examples
    --------
    >>> t = pd.to_datetime(["2019-01-01 00:01", "2019-01-01 00:09", "2019-01-01 00:31"])
    >>> ds = xr.Dataset({"bt": ("time", [5.0, 6.0, 7.0])}, coords={"time": t})
    >>> regularize(ds, "10min").valid.values
    array([ True,  True, False,  True])
    """
    times = time_index(ds)
    if times.size == 0:
        raise PlanetMLError("cannot regularize an empty dataset (no time samples)")
    freq = freq or cadence_string(cadence_of(ds))
    try:
        snapped = times.round(freq).as_unit("ns")
    except ValueError as err:
        raise PlanetMLError(f"freq={freq!r} is not a fixed frequency ({err})") from None
    if snapped.has_duplicates:
        first = snapped[snapped.duplicated()][0]
        raise PlanetMLError(f"two or more samples fall on the {freq} grid point {first}; resample first")
    grid = pd.date_range(snapped.min(), snapped.max(), freq=freq).as_unit("ns")
    out = ds.assign_coords(time=snapped).sortby("time").reindex(time=grid)
    valid = np.ones(grid.size, dtype=bool)
    for name in _float_variables(ds):
        valid &= np.isfinite(out[name].values)
    if "valid" in ds:
        valid &= out["valid"].fillna(0).values.astype(bool)
    out["valid"] = ("time", valid)
    out.attrs = {**ds.attrs, "cadence": freq}
    return out


def cadence_of(ds):
    """The sampling step of ``ds`` as a Timedelta: ``attrs["cadence"]`` when set, else the median step."""
    stated = ds.attrs.get("cadence", "unknown")
    if stated != "unknown":
        try:
            return pd.Timedelta(pd.tseries.frequencies.to_offset(stated))
        except ValueError:
            pass
    times = time_index(ds)
    if times.size < 2:
        raise PlanetMLError(f"cannot tell the cadence of a series with {times.size} sample(s)")
    return pd.Timedelta(np.median(np.diff(times.asi8)), unit="ns")


def to_cadence(ds, freq, min_fraction=0.5):
    """Put a series on the regular ``freq`` grid: as it is if that is its cadence, else averaged onto it.

    Averaging never invents data: bin ``[t, t + freq)``, labelled ``t`` as OMNI labels its hours,
    is the mean of the finite samples inside it, and a variable's bin is valid only when at least
    ``min_fraction`` of the bin's expected samples (``freq`` / the input's cadence) are finite;
    otherwise NaN. ``valid`` is then recomputed as in :func:`regularize`. Integer variables
    (labels) become the fraction of their samples that are 1.

    Parameters
    ----------
    ds : xr.Dataset
        Time series (regularised or not) with a cadence that divides ``freq`` or equals it.
    freq : str
        Target cadence, e.g. ``"1h"``.
    min_fraction : float
        Share of a bin's samples that must be finite for the bin to count.

    Raises
    ------
    PlanetMLError
        If the series is coarser than ``freq`` (or its cadence does not divide ``freq``).

    Examples
    --------
    >>> t = pd.date_range("2019-01-01", periods=12, freq="10min")
    >>> ds = xr.Dataset({"bt": ("time", [1.0] * 5 + [np.nan] + [3.0] * 2 + [np.nan] * 4)}, coords={"time": t})
    >>> to_cadence(ds, "1h").bt.values
    array([ 1., nan])
    """
    native = cadence_of(ds)
    target = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    if native > target:
        raise PlanetMLError(f"the series' cadence ({native}) is coarser than the model's ({target}); a model "
                            f"trained at {freq} needs data at {freq} or finer")
    regular = regularize(ds)
    if native == target:
        return regularize(ds, freq)
    if target % native != pd.Timedelta(0):
        raise PlanetMLError(f"the series' cadence ({native}) does not divide the model's ({target})")
    table = regular.drop_vars("valid").to_dataframe()
    bins = table.resample(freq, closed="left", label="left")
    means = bins.mean().where(bins.count() >= min_fraction * (target / native))
    out = xr.Dataset.from_dataframe(means.rename_axis("time"))
    for name, var in regular.data_vars.items():
        if name in out:
            out[name] = out[name].astype("float64" if var.dtype.kind == "f" else "float32").assign_attrs(var.attrs)
    out.attrs = regular.attrs
    return regularize(out, freq)


class DatasetScaler:
    """Centre and scale Dataset variables, fitted on training data only.

    Follows scikit-learn's conventions: ``__init__`` stores the arguments,
    :meth:`fit` learns ``variables_``, ``mean_`` and ``scale_`` and returns
    ``self``. NaN samples are ignored when fitting and stay NaN. A variable
    with zero spread gets ``scale = 1``.

    Parameters
    ----------
    variables : list of str, optional
        Variables to scale; default all floating-point variables except ``valid``.
    method : {"standard", "robust"}
        ``"standard"``: mean and standard deviation. ``"robust"``: median and
        interquartile range (75th - 25th percentile), less sensitive to shocks.
        For ``"robust"``, ``mean_`` holds the medians (the value subtracted).
    log_variables : list of str, optional
        Variables taken as log10 before centring and scaling: positive quantities
        spanning orders of magnitude (density, temperature, plasma beta). Values
        <= 0 become NaN. :meth:`inverse_transform` undoes the log too.

    Examples
    --------
    >>> ds = xr.Dataset({"bt": ("time", [1.0, 2.0, np.nan, 3.0])})
    >>> scaler = DatasetScaler().fit(ds)
    >>> scaler.transform(ds).bt.values.round(3)
    array([-1.225,  0.   ,    nan,  1.225])
    """

    def __init__(self, variables=None, method="standard", log_variables=None):
        self.variables = variables
        self.method = method
        self.log_variables = log_variables

    def _logged(self, name, values):
        """DataArray ``values`` as log10 (NaN where <= 0) if ``name`` is one of ``log_variables``."""
        if name in (self.log_variables or ()):
            return np.log10(values.where(values > 0))
        return values

    def fit(self, ds):
        """Learn centre and scale of each variable from ``ds`` (NaN ignored); returns self."""
        if self.method not in SCALER_METHODS:
            raise PlanetMLError(f"unknown scaling method {self.method!r}; choose from {SCALER_METHODS}")
        names = list(self.variables) if self.variables is not None else _float_variables(ds)
        check_variables(ds, names)
        centres, scales = {}, {}
        for name in names:
            values = np.asarray(self._logged(name, ds[name].astype(float)).values).ravel()
            if not np.isfinite(values).any():
                raise PlanetMLError(f"cannot fit scaler: variable '{name}' has no finite values")
            centres[name], scales[name] = self._centre_scale(values)
        self.variables_, self.mean_, self.scale_ = names, centres, scales
        return self

    def _centre_scale(self, values):
        """Return (centre, scale) of a 1-D float array, NaN ignored, scale 1 if zero."""
        if self.method == "standard":
            centre, scale = np.nanmean(values), np.nanstd(values)
        else:
            q25, centre, q75 = np.nanpercentile(values, [25, 50, 75])
            scale = q75 - q25
        return float(centre), float(scale) if scale > 0 else 1.0

    def _apply(self, ds, inverse):
        if not hasattr(self, "mean_"):
            raise PlanetMLError("DatasetScaler is not fitted yet; call fit(train_ds) first")
        check_variables(ds, self.variables_)
        out = ds.copy()
        for name in self.variables_:
            centre, scale = self.mean_[name], self.scale_[name]
            var = ds[name]
            if inverse:
                values = var * scale + centre
                values = 10 ** values if name in (self.log_variables or ()) else values
            else:
                values = (self._logged(name, var) - centre) / scale
            out[name] = values.astype(var.dtype).assign_attrs(var.attrs)
        return out

    def transform(self, ds):
        """Return a copy of ``ds`` with ``(x - mean_) / scale_`` for each fitted variable."""
        return self._apply(ds, inverse=False)

    def inverse_transform(self, ds):
        """Undo :meth:`transform`: ``x * scale_ + mean_``."""
        return self._apply(ds, inverse=True)

    def get_state(self):
        """Return the fitted state as a JSON-serialisable dict (for ``metadata.json``)."""
        if not hasattr(self, "mean_"):
            raise PlanetMLError("DatasetScaler is not fitted yet; nothing to save")
        return {"method": self.method, "variables": list(self.variables_),
                "log_variables": list(self.log_variables or []),
                "mean": dict(self.mean_), "scale": dict(self.scale_)}

    @classmethod
    def from_state(cls, state):
        """Rebuild a fitted scaler from :meth:`get_state` output."""
        missing = [key for key in ("method", "variables", "mean", "scale") if key not in state]
        if missing:
            raise PlanetMLError(f"scaler state lacks key(s) {missing}")
        scaler = cls(variables=list(state["variables"]), method=state["method"],
                     log_variables=list(state.get("log_variables", [])))
        scaler.variables_ = list(state["variables"])
        scaler.mean_ = {name: float(state["mean"][name]) for name in scaler.variables_}
        scaler.scale_ = {name: float(state["scale"][name]) for name in scaler.variables_}
        return scaler


def _time_bounds(value, name):
    """Resolve a (start, end) pair to closed Timestamps; strings and ints keep their resolution.

    ``("2013", "2014-06")`` means 2013-01-01 00:00 up to the end of June 2014,
    as in pandas partial-string indexing.
    """
    try:
        start, end = value
        bounds = [pd.Period(str(x)) if isinstance(x, (str, int)) else pd.Timestamp(x) for x in (start, end)]
    except (TypeError, ValueError) as err:
        raise PlanetMLError(f"split '{name}': cannot read time range {value!r} ({err})") from None
    lo = bounds[0].start_time if isinstance(bounds[0], pd.Period) else bounds[0]
    hi = bounds[1].end_time if isinstance(bounds[1], pd.Period) else bounds[1]
    if hi < lo:
        raise PlanetMLError(f"split '{name}': range {value!r} ends before it starts")
    return lo, hi


def _split_ranges(splits):
    """Return ``[(name, lo, hi), ...]`` from the keyword ranges, refusing overlaps between splits."""
    ranges = []
    for name, value in splits.items():
        pairs = value if isinstance(value, list) else [value]
        ranges += [(name, *_time_bounds(pair, name)) for pair in pairs]
    for i, (name_a, lo_a, hi_a) in enumerate(ranges):
        for name_b, lo_b, hi_b in ranges[i + 1:]:
            if name_a != name_b and lo_a <= hi_b and lo_b <= hi_a:
                raise PlanetMLError(f"splits '{name_a}' and '{name_b}' overlap in time")
    return ranges


def split_by_time(ds, **splits):
    """Split a time series into named, non-overlapping time ranges (never randomly).

    Parameters
    ----------
    ds : xr.Dataset
        Time series with dimension ``time``.
    **splits : (start, end) or list of (start, end)
        One keyword per split, e.g. ``train=[("2013", "2013")], test=("2014-01", "2014-03")``.
        Ranges are closed; a string or int keeps its resolution, so ``"2013"``
        as an end means the end of 2013 (pandas partial-string rule).

    Returns
    -------
    dict of str to xr.Dataset
        One Dataset per split, in the order given.

    Raises
    ------
    PlanetMLError
        If ranges of two different splits overlap, or a split selects no sample.

    Examples
    --------
    >>> t = pd.date_range("2013-01-01", "2014-12-31", freq="1D")
    >>> ds = xr.Dataset({"bt": ("time", np.ones(t.size))}, coords={"time": t})
    >>> parts = split_by_time(ds, train=("2013", "2013"), test=(2014, 2014))
    >>> {name: part.sizes["time"] for name, part in parts.items()}
    {'train': 365, 'test': 365}
    """
    if not splits:
        raise PlanetMLError("split_by_time needs at least one split, e.g. train=('2013', '2013')")
    times = time_index(ds)
    selected = {name: np.zeros(times.size, dtype=bool) for name in splits}
    for name, lo, hi in _split_ranges(splits):
        selected[name] |= (times >= lo) & (times <= hi)
    for name, rows in selected.items():
        if not rows.any():
            span = f"data cover {times.min()} to {times.max()}"
            raise PlanetMLError(f"split '{name}' selects no samples ({span})")
    return {name: ds.isel(time=rows) for name, rows in selected.items()}
