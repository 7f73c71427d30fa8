"""Derived per-sample features for models that see one sample at a time.

A single 10-minute sample says little about an hours-long structure such as an ICME;
rolling statistics give a per-sample classifier (e.g. scikit-learn) that context.
"""

import pandas as pd

from planetml_lib.errors import PlanetMLError


def add_rolling_features(ds, variables, window="6h", min_fraction=0.5):
    """Add centred rolling mean and standard deviation of ``variables`` over ``window``.

    Needs a regular grid (see :func:`~planetml_lib.preprocess.regularize`). A value is
    computed only where at least ``min_fraction`` of the window holds data, so long gaps
    stay NaN instead of being bridged.

    Parameters
    ----------
    ds : xarray.Dataset
        Regular time series (``attrs["cadence"]`` set by ``regularize``).
    variables : sequence of str
        Variables to summarise.
    window : str
        Window length as a pandas offset, e.g. ``"6h"``.
    min_fraction : float
        Minimum fraction of finite samples in a window.

    Returns
    -------
    xarray.Dataset
        A copy with ``<name>_mean_<window>`` and ``<name>_std_<window>`` added (same units).
    """
    cadence = ds.attrs.get("cadence")
    if cadence is None:
        raise PlanetMLError("add_rolling_features needs a regular grid: call regularize(ds, freq) first")
    n_steps = max(int(pd.Timedelta(window) / pd.Timedelta(cadence)), 1)
    out = ds.copy()
    for name in variables:
        if name not in ds:
            raise PlanetMLError(f"variable {name!r} not in dataset (has {list(ds.data_vars)})")
        rolling = ds[name].rolling(time=n_steps, center=True, min_periods=max(int(n_steps * min_fraction), 1))
        units = {"units": ds[name].attrs.get("units", "")}
        out[f"{name}_mean_{window}"] = rolling.mean().assign_attrs(units)
        out[f"{name}_std_{window}"] = rolling.std().assign_attrs(units)
    return out
