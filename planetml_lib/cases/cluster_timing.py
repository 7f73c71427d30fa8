"""Four-spacecraft timing of Cluster's bow-shock crossings: the shock's normal and speed from when
each spacecraft crossed it, against the truth of the simulation and against a model surface.

For each crossing of the reference spacecraft (C1) that the others also made, each spacecraft's own
crossing time is read from its |B| at full resolution, near where a 1-minute detector put it
(:func:`~planetml_lib.preprocess.timing.crossing_time`: half-way through the jump; where a jump is too
ragged for that, by cross-correlating |B| with C1's), and the four times and positions give the normal
and speed of a planar boundary (:func:`~planetml_lib.preprocess.timing.timing_normal`). The model normal
is the normal of the Slavin & Holzer (1981) bow-shock conic (eccentricity 1.16, focus 3 R_E sunward of Earth) where the
radial line through C1 meets it: what one would assume without four spacecraft. On SIMULATED passes
both are compared with the normal and speed of the simulated surface at the crossing.
"""

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from planetml_lib.errors import PlanetMLError
from planetml_lib.io.cluster import R_E_KM
from planetml_lib.preprocess.earth_boundaries import shock_normal
from planetml_lib.preprocess.timing import angle_deg, crossing_delays, crossing_time, timing_normal

#: Slavin & Holzer (1981): the bow-shock conic assumed for the model normal.
MODEL_SHOCK = {"eps": 1.16, "x0": 3.0}
SPACECRAFT = ("C1", "C2", "C3", "C4")
POSITION = ("x_gse", "y_gse", "z_gse")


def crossing_groups(crossings, label="bow_shock", isolation="5min", max_delay="30min", resolution="1min"):
    """One row per isolated crossing of C1 (no other of its crossings within ``isolation``) that each other
    spacecraft also made in the same direction within ``max_delay``: the truth of that C1 crossing and, in
    columns C1-C4, where to look for each spacecraft's crossing: its own crossing time rounded down to
    ``resolution``, as a detector at that cadence would give it."""
    shocks = crossings[crossings["label"] == label].sort_values("start")
    own = shocks[shocks["spacecraft"] == SPACECRAFT[0]]
    gaps = own["start"].diff()
    alone = (gaps.isna() | (gaps > pd.Timedelta(isolation))) & \
        (gaps.shift(-1).isna() | (gaps.shift(-1) > pd.Timedelta(isolation)))
    rows = []
    for _, anchor in own[alone.to_numpy()].iterrows():
        row = anchor.to_dict()
        for sc in SPACECRAFT:
            same = shocks[(shocks["spacecraft"] == sc) & (shocks["direction"] == anchor["direction"])]
            delay = (same["start"] - anchor["start"]).abs()
            if not len(same) or delay.min() > pd.Timedelta(max_delay):
                break
            row[sc] = same["start"].iloc[int(np.argmin(delay.to_numpy()))].floor(resolution)
        else:
            rows.append(row)
    return pd.DataFrame(rows)


def _position_at(ds, spacecraft, time):
    """Position of ``spacecraft`` (km, GSE) at ``time``, interpolated linearly on seconds from the first sample
    (xarray's ``interp`` gives NaN at nanosecond times such as interpolated crossing times)."""
    start = ds["time"].values[0]
    seconds = (ds["time"].values - start) / np.timedelta64(1, "s")
    at = (np.datetime64(pd.Timestamp(time).as_unit("ns")) - start) / np.timedelta64(1, "s")
    track = ds[list(POSITION)].sel(spacecraft=spacecraft)
    return np.array([np.interp(at, seconds, track[name].values) for name in POSITION]) * R_E_KM


def _half_way_times(ds, arounds, window, min_contrast):
    """Each spacecraft's crossing time half-way through its |B| jump within ``window`` of its ``arounds`` time."""
    times = []
    for sc in SPACECRAFT:
        near = ds.sel(time=slice(arounds[sc] - 2 * window, arounds[sc] + 2 * window))
        times.append(crossing_time(near["time"].values, near["b_mag"].sel(spacecraft=sc).values, arounds[sc],
                                   window, min_contrast=min_contrast))
    return times


def _correlated_times(ds, arounds, window, reference):
    """Each spacecraft's crossing time from C1's (``reference``) and the cross-correlation of its |B| within
    ``window`` of its ``arounds`` time with C1's (:func:`~planetml_lib.preprocess.timing.crossing_delays`):
    the fallback for a jump too ragged to read half-way (quasi-parallel shocks, foreshock waves)."""
    step = pd.Timedelta(ds["time"].values[1] - ds["time"].values[0])
    n_samples = int(2 * window / step)
    segments = np.full((len(SPACECRAFT), n_samples), np.nan)
    for row, sc in enumerate(SPACECRAFT):
        values = ds["b_mag"].sel(spacecraft=sc).sel(time=slice(arounds[sc] - window, arounds[sc] + window)).values
        segments[row, :min(n_samples, len(values))] = values[:n_samples]
    lags = crossing_delays(segments, step.total_seconds(), max_lag_s=window.total_seconds() * 3 / 4)
    if not np.isfinite(lags).all():
        return None
    return [reference + (arounds[sc] - arounds[SPACECRAFT[0]]) + pd.Timedelta(seconds=float(lag))
            for sc, lag in zip(SPACECRAFT, lags, strict=True)]


def time_crossing(ds, arounds, window="2min", min_contrast=1.0, max_condition=100.0):
    """Timing normal and speed of one boundary crossing in the four-spacecraft Dataset ``ds``
    ``(spacecraft, time)`` at full resolution, each spacecraft's crossing looked for within ``window`` of its
    time in ``arounds`` (C1-C4): half-way through its |B| jump where every spacecraft shows a clean one
    (``min_contrast``), else by cross-correlating |B| with C1's. None where neither gives four times or the
    tetrahedron is too flat (``max_condition``).

    Returns a dict: ``times`` (the four crossing times), ``method`` ("half-way" or "cross-correlation"),
    ``normal`` (outward, along C1's position), ``speed_km_s`` (> 0 moving outward), ``condition``,
    ``separation_km`` (mean distance from the centre).
    """
    window = pd.Timedelta(window)
    times, method = _half_way_times(ds, arounds, window, min_contrast), "half-way"
    if any(pd.isna(t) for t in times):
        reference = arounds[SPACECRAFT[0]] if pd.isna(times[0]) else times[0]
        times, method = _correlated_times(ds, arounds, window, reference), "cross-correlation"
        if times is None:
            return None
    positions = np.array([_position_at(ds, sc, t) for sc, t in zip(SPACECRAFT, times, strict=True)])
    try:
        result = timing_normal(positions, np.array(times, dtype="datetime64[ns]"), outward=positions[0],
                               max_condition=max_condition)
    except PlanetMLError:
        return None
    return {"times": times, "method": method, "normal": result.normal, "speed_km_s": result.speed_km_s,
            "condition": result.condition,
            "separation_km": float(np.linalg.norm(positions - positions.mean(axis=0), axis=1).mean())}


def model_normal(position_re, solar_wind_speed_km_s=400.0):
    """The Slavin & Holzer (1981) shock normal (:data:`MODEL_SHOCK`) on the radial line through ``position_re``."""
    return shock_normal(np.asarray(position_re, dtype=float), speed_km_s=solar_wind_speed_km_s, **MODEL_SHOCK)


def timing_table(ds, groups, window="2min", progress=False):
    """Timing against truth and model for each crossing of ``groups`` (:func:`crossing_groups`: where to look on
    each spacecraft, and, for truth, ``normal_*`` and ``speed_km_s``) in the four-spacecraft ``ds``.

    Returns one row per anchor with a timing solution: the anchor time, ``separation_km``, ``condition``,
    ``timing_error_deg`` (timing normal against the true normal), ``model_error_deg`` (model normal
    against the true normal), ``timing_vs_model_deg``, the timing and true speeds (km/s) and their
    difference. Crossings without a solution are left out (``attrs["n_anchors"]`` counts them all).
    """
    rows = []
    for _, anchor in tqdm(groups.iterrows(), total=len(groups), desc="crossings", disable=not progress or None):
        solution = time_crossing(ds, anchor, window)
        if solution is None:
            continue
        position = np.array([anchor[name] for name in POSITION]) if POSITION[0] in anchor else \
            _position_at(ds, "C1", solution["times"][0]) / R_E_KM
        model = model_normal(position)
        row = {"start": anchor["start"], "method": solution["method"], "separation_km": solution["separation_km"],
               "condition": solution["condition"], "speed_km_s": solution["speed_km_s"],
               "timing_vs_model_deg": float(angle_deg(solution["normal"], model, signless=False))}
        if "normal_x" in anchor:
            truth = np.array([anchor["normal_x"], anchor["normal_y"], anchor["normal_z"]])
            row.update(timing_error_deg=float(angle_deg(solution["normal"], truth, signless=False)),
                       model_error_deg=float(angle_deg(model, truth, signless=False)),
                       true_speed_km_s=float(anchor["speed_km_s"]),
                       speed_error_km_s=solution["speed_km_s"] - float(anchor["speed_km_s"]))
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["n_anchors"] = len(groups)
    return table


def summarise_timing(table):
    """Median and 90th percentile of the normal errors (deg) and of the absolute speed error (km/s), and how
    many crossings were solved, by each method."""
    methods = table["method"] if len(table) else pd.Series(dtype=str)
    summary = {"n_anchors": table.attrs.get("n_anchors", len(table)), "n_solved": len(table),
               "n_half_way": int((methods == "half-way").sum()),
               "n_cross_correlation": int((methods == "cross-correlation").sum())}
    for column in ("timing_error_deg", "model_error_deg", "timing_vs_model_deg"):
        if column in table:
            summary[f"{column}_median"] = float(table[column].median())
            summary[f"{column}_p90"] = float(table[column].quantile(0.9))
    if "timing_error_deg" in table:
        for method in ("half-way", "cross-correlation"):
            errors = table.loc[methods == method, "timing_error_deg"]
            summary[f"timing_error_deg_median_{method.replace('-', '_')}"] = float(errors.median())
    if "speed_error_km_s" in table:
        error = table["speed_error_km_s"].abs()
        summary["speed_abs_error_km_s_median"] = float(error.median())
        summary["speed_abs_error_km_s_p90"] = float(error.quantile(0.9))
        summary["true_speed_abs_km_s_median"] = float(table["true_speed_km_s"].abs().median())
    return summary
