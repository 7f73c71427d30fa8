"""From per-sample region labels to boundary crossings, and their timing skill.

At Mercury every 1-s magnetometer sample gets one of five regions
(:data:`planetml_lib.preprocess.mercury.REGIONS`): interplanetary field (IMF), bow-shock crossing (SK),
magnetosheath (MSh), magnetopause crossing (MP) and magnetosphere (MSp). An
orbit runs IMF -> SK -> MSh -> MP -> MSp -> MP -> MSh -> SK -> IMF, so each
orbit has up to four crossings, labelled as
:func:`planetml_lib.io.catalogs.read_philpott` labels the Philpott et al.
(2020) list: ``bow_shock_in``, ``magnetopause_in``, ``magnetopause_out``,
``bow_shock_out``.

Like Philpott et al., a crossing is an *interval* from the first to the last
time the spacecraft is seen at the boundary: on the inbound leg it starts at
the first sample that is at the boundary or inside it and ends at the last
sample that is at the boundary or outside it (mirrored on the outbound leg).
Repeated crossings therefore make one longer interval, and a boundary whose
crossing class is missing (e.g. MSh directly after IMF) gives the short
interval between the last outside and the first inside sample.
"""

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.classes import to_metrics_frame
from planetml_lib.preprocess.events import event_statistic, validate_events
from planetml_lib.preprocess.mercury import IMF, MP, MSH, MSP, SK

CROSSING_LABELS = ("bow_shock_in", "magnetopause_in", "magnetopause_out", "bow_shock_out")
UNKNOWN = -1  # a sample without a region (data gap), ignored by extract_crossings


def smooth_regions(pred, window):
    """Majority-filter region labels, or average probabilities, over a centred window.

    Parameters
    ----------
    pred : array-like
        Either integer regions ``(n_steps,)`` (negative = unknown) or class
        probabilities ``(n_steps, n_classes)``, e.g. the ``(time, class)``
        output of :func:`~planetml_lib.preprocess.windows.from_windows`
        (NaN rows = not predicted).
    window : int
        Odd window length in samples (seconds at MESSENGER's 1-s cadence);
        shrinks at both ends of the series.

    Returns
    -------
    np.ndarray of int, shape (n_steps,)
        Class with the highest mean probability (or the most votes) in each
        window; ties keep the sample's own label; ``-1`` where the window
        holds no prediction.

    Examples
    --------
    >>> smooth_regions([0, 0, 1, 0, 0, 2, 2, 0, 2, 2], window=3).tolist()
    [0, 0, 0, 0, 0, 2, 2, 2, 2, 2]
    """
    if not isinstance(window, (int, np.integer)) or window < 1 or window % 2 == 0:
        raise PlanetMLError(f"smooth_regions: window must be a positive odd number of samples, got {window!r}")
    values = np.asarray(pred)
    if values.ndim == 2:
        scores, own_vote = values.astype(float), 0.0
    elif values.ndim == 1:
        if values.dtype.kind == "f" and not np.array_equal(values, np.round(values)):
            raise PlanetMLError("smooth_regions: 1-D input must hold integer region labels")
        labels = values.astype(int)
        scores = (labels[:, None] == np.arange(max(labels.max(initial=0) + 1, 1))).astype(float)
        scores[labels < 0] = np.nan
        own_vote = 0.5 / window  # less than one vote: breaks ties in favour of the sample's own label
    else:
        raise PlanetMLError(f"smooth_regions: expected (n_steps,) labels or (n_steps, n_classes), got {values.shape}")
    mean = pd.DataFrame(scores).rolling(window, center=True, min_periods=1).mean().to_numpy()
    if own_vote:
        mean = mean + own_vote * np.nan_to_num(scores)
    known = np.isfinite(mean).any(axis=1)
    return np.where(known, np.argmax(np.nan_to_num(mean, nan=-np.inf), axis=1), UNKNOWN)


def regions_from_probabilities(probabilities, class_weights, prior_correction, smooth_window):
    """Per-sample regions: divide ``class_weights ** prior_correction`` out of the probabilities,
    average them over ``smooth_window`` samples, take the most likely region (-1 in gaps).

    Class-weighted cross-entropy lets rare classes (Mercury's boundary layers, Earth's foreshock) win
    wherever they are plausible, so their intervals come out wider than the true ones; a correction of 1
    divides all of the weighting out (posteriors under the training class frequencies), 0 none.
    """
    scores = np.asarray(probabilities, dtype=float) / np.asarray(class_weights, dtype=float) ** prior_correction
    return smooth_regions(scores, smooth_window)


def _runs(flags):
    """``(start, stop)`` index pairs of the runs of True in ``flags``."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _core(regions):
    """First and last index of the longest magnetosphere run (else magnetosheath run), or None."""
    for region in (MSP, MSH):
        starts, stops = _runs(regions == region)
        if starts.size:
            longest = np.argmax(stops - starts)
            return starts[longest], stops[longest] - 1
    return None


def _interval(leg, inside, inside_stop, outside, outside_stop):
    """``(first, last)`` indices of one crossing on a leg ordered outside -> inside, or None.

    ``first`` is the first sample up to ``inside_stop`` at the boundary or
    inside it (classes ``inside``); ``last`` the last sample up to
    ``outside_stop`` at the boundary or outside it (classes ``outside``). A
    clean jump gives ``last + 1 == first`` and the interval ``(last, first)``.
    """
    first = np.flatnonzero(np.isin(leg[: inside_stop + 1], inside))
    last = np.flatnonzero(np.isin(leg[: outside_stop + 1], outside))
    if not first.size or not last.size:
        return None
    return min(first[0], last[-1]), max(first[0], last[-1])


def _leg_crossings(leg):
    """Magnetopause and bow-shock intervals of one leg, ordered outside -> inside.

    ``leg`` ends with the first sample of the orbit's core. The bow shock is
    searched outside the magnetopause interval, so a shock-like sample inside
    the magnetopause layer never stretches it.
    """
    core = len(leg) - 1
    magnetopause = None
    if leg[core] == MSP:
        magnetopause = _interval(leg, (MP, MSP), core, (IMF, SK, MSH, MP), core - 1)
    inside_stop, outside_stop = (core, core - 1) if magnetopause is None else magnetopause[::-1]
    return magnetopause, _interval(leg, (SK, MSH, MP, MSP), inside_stop, (IMF, SK), outside_stop)


def _orbit_crossings(regions):
    """``{label: (first, last)}`` sample indices of the crossings of one orbit."""
    core = _core(regions)
    if core is None:
        return {}
    mp_in, bs_in = _leg_crossings(regions[: core[0] + 1])
    mp_out, bs_out = _leg_crossings(regions[core[1]:][::-1])
    last = len(regions) - 1  # the outbound leg is reversed: its index j is orbit index last - j
    mp_out, bs_out = ((last - iv[1], last - iv[0]) if iv else None for iv in (mp_out, bs_out))
    found = dict(zip(CROSSING_LABELS, (bs_in, mp_in, mp_out, bs_out), strict=True))
    return {label: interval for label, interval in found.items() if interval is not None}


def _orbit_groups(orbit, n_times):
    """``(orbit id or None, sample indices)`` per orbit, in order of first appearance."""
    if orbit is None:
        return [(None, np.arange(n_times))]
    orbit = np.asarray(orbit)
    if orbit.shape != (n_times,):
        raise PlanetMLError(f"extract_crossings: orbit shape {orbit.shape} does not match time ({n_times},)")
    ids, first = np.unique(orbit, return_index=True)
    return [(ident, np.flatnonzero(orbit == ident)) for ident in ids[np.argsort(first)]]


def extract_crossings(regions, time, orbit=None):
    """List the bow-shock and magnetopause crossings of each orbit as an events table.

    Per orbit, the *core* is the longest magnetosphere run (the longest
    magnetosheath run when the orbit never enters the magnetosphere, which
    then has no magnetopause crossings). Samples before it form the inbound
    leg, samples after it the outbound leg; on each leg the magnetopause and
    bow-shock intervals follow the first/last rule of the module docstring.

    Parameters
    ----------
    regions : array-like of int, shape (n_times,)
        Region per sample, indices into ``preprocess.mercury.REGIONS``; negative = unknown
        (ignored). Smooth noisy predictions first (:func:`smooth_regions`):
        a stray sample stretches a crossing interval.
    time : array-like of datetime64, shape (n_times,)
        Sorted sample times.
    orbit : array-like, shape (n_times,), optional
        Orbit number of each sample; None treats the series as one orbit.

    Returns
    -------
    pd.DataFrame
        Events table (``start``, ``end``, ``label`` from
        :data:`CROSSING_LABELS`), plus ``orbit`` when given; sorted by start.

    Examples
    --------
    >>> t = pd.date_range("2012-01-01", periods=13, freq="1s")
    >>> regions = [0, 0, 1, 2, 3, 4, 4, 4, 3, 3, 2, 1, 0]
    >>> extract_crossings(regions, t)[["start", "label"]]
                    start             label
    0 2012-01-01 00:00:02      bow_shock_in
    1 2012-01-01 00:00:04   magnetopause_in
    2 2012-01-01 00:00:08  magnetopause_out
    3 2012-01-01 00:00:11     bow_shock_out
    """
    regions = np.asarray(regions)
    time = pd.DatetimeIndex(np.asarray(time))
    if regions.shape != (len(time),):
        raise PlanetMLError(f"extract_crossings: regions shape {regions.shape} does not match time ({len(time)},)")
    rows = []
    for ident, index in _orbit_groups(orbit, len(time)):
        for label, (first, last) in _orbit_crossings(regions[index]).items():
            rows.append({"start": time[index[first]], "end": time[index[last]], "label": label, "orbit": ident})
    events = pd.DataFrame(rows, columns=["start", "end", "label", "orbit"])
    events = validate_events(events.astype({"start": "datetime64[ns]", "end": "datetime64[ns]"}), "crossings")
    return events.drop(columns="orbit") if orbit is None else events


def crossing_scores(crossings, time, probabilities):
    """Each crossing's score: the highest probability a model gave its boundary layer (SK for a bow-shock,
    MP for a magnetopause crossing) within the crossing interval; NaN where it is all gap.

    ``probabilities`` are per-sample region probabilities ``(n_times, len(REGIONS))`` on ``time``.
    """
    probabilities = np.asarray(probabilities, dtype=float)
    bow_shock = crossings["label"].str.startswith("bow_shock").to_numpy()
    shock, pause = (event_statistic(crossings, time, probabilities[:, k], np.nanmax) for k in (SK, MP))
    return np.where(bow_shock, shock, pause)


def _centres(events):
    """Mid-point of each event as int64 nanoseconds."""
    return (events["start"].to_numpy("datetime64[ns]").view("i8") // 2
            + events["end"].to_numpy("datetime64[ns]").view("i8") // 2)


def _pair_up(true, pred, max_ns):
    """Positions ``(true_rows, pred_rows)`` of one-to-one pairs with centres at most ``max_ns`` apart.

    Among all such pairings the one with most pairs, then the smallest summed
    offset, is chosen (Hungarian algorithm).
    """
    offset = np.abs(_centres(true)[:, None] - _centres(pred)[None, :]).astype(float)
    allowed = offset <= max_ns
    cost = np.where(allowed, offset, max_ns * (offset.size + 1.0) + 1.0)  # any allowed pair beats a forbidden one
    rows, cols = linear_sum_assignment(cost)
    keep = allowed[rows, cols]
    return rows[keep], cols[keep]


def match_crossings(pred, true, max_offset="10min"):
    """Pair each catalogue crossing with a predicted crossing of the same label (and orbit).

    Parameters
    ----------
    pred, true : pd.DataFrame
        Events tables of crossings (e.g. from :func:`extract_crossings` and
        :func:`~planetml_lib.io.catalogs.read_philpott`). When both have an
        ``orbit`` column, only crossings of the same orbit are paired.
    max_offset : str or pd.Timedelta, default "10min"
        Largest distance between the two interval centres of a pair.

    Returns
    -------
    pd.DataFrame
        One row per true crossing: ``true_idx`` and ``pred_idx`` (row positions
        in the start-sorted tables; <NA> when not found), ``label``, ``found``,
        and the signed timing errors ``start_error_s``, ``end_error_s``,
        ``centre_error_s`` (predicted minus true, seconds; NaN when not found).
    """
    true, pred = validate_events(true, "true crossings"), validate_events(pred, "predicted crossings")
    max_ns = pd.Timedelta(max_offset).value
    keys = ["label", "orbit"] if "orbit" in true and "orbit" in pred else ["label"]
    pred_groups = pred.groupby(keys, sort=False).indices
    hit_true, hit_pred = [np.empty(0, int)], [np.empty(0, int)]
    for key, true_rows in true.groupby(keys, sort=False).indices.items():
        pred_rows = pred_groups.get(key, np.empty(0, int))
        t_pos, p_pos = _pair_up(true.iloc[true_rows], pred.iloc[pred_rows], max_ns)
        hit_true.append(true_rows[t_pos])
        hit_pred.append(pred_rows[p_pos])
    hit_true, hit_pred = np.concatenate(hit_true), np.concatenate(hit_pred)
    matches = pd.DataFrame({"true_idx": np.arange(len(true)), "label": true["label"]})
    matches["pred_idx"] = pd.Series(hit_pred, index=hit_true, dtype="Int64").reindex(matches.index)
    matches["found"] = matches["pred_idx"].notna()
    for column in ("start", "end"):
        error = (pred[column].to_numpy()[hit_pred] - true[column].to_numpy()[hit_true]) / np.timedelta64(1, "s")
        matches[f"{column}_error_s"] = pd.Series(error, index=hit_true, dtype=float).reindex(matches.index)
    matches["centre_error_s"] = (matches["start_error_s"] + matches["end_error_s"]) / 2
    return matches


def evaluate_crossings(pred_events, true_events, max_offset="10min"):
    """Detection rate and timing errors of predicted crossings, per label.

    Parameters
    ----------
    pred_events, true_events, max_offset
        As in :func:`match_crossings`.

    Returns
    -------
    pd.DataFrame
        Tidy metrics (``metric``, ``class``, ``value``), ``class`` being each
        true or predicted label plus ``"all"`` (every crossing pooled):
        ``n_true``, ``n_pred``, ``n_found`` (true crossings paired within
        ``max_offset``), ``detection_rate`` = n_found / n_true, ``precision``
        = n_found / n_pred, ``F1`` (their harmonic mean, 2 n_found / (n_true
        + n_pred)), and the mean and median absolute timing errors in seconds
        of the found crossings, ``{start,end,centre}_abs_error_s_{mean,median}``.

    Examples
    --------
    >>> ev = lambda s, e: pd.DataFrame({"start": pd.to_datetime(s), "end": pd.to_datetime(e),
    ...                                 "label": "bow_shock_in"})
    >>> true = ev(["2012-01-01 10:00", "2012-01-01 22:00"], ["2012-01-01 10:02", "2012-01-01 22:02"])
    >>> pred = ev(["2012-01-01 10:01"], ["2012-01-01 10:02"])
    >>> m = evaluate_crossings(pred, true).query("`class` == 'bow_shock_in'").set_index("metric")
    >>> m.loc[["detection_rate", "precision", "start_abs_error_s_mean"], "value"].tolist()
    [0.5, 1.0, 60.0]
    """
    matches = match_crossings(pred_events, true_events, max_offset)
    pred_labels = validate_events(pred_events, "predicted crossings")["label"]
    labels = list(dict.fromkeys([*matches["label"], *pred_labels]))
    frames = [_crossing_metrics(matches[matches["label"] == label], int((pred_labels == label).sum()), label)
              for label in labels]
    frames.append(_crossing_metrics(matches, len(pred_labels), "all"))
    return pd.concat(frames, ignore_index=True)


def _crossing_metrics(matches, n_pred, class_name):
    """Metrics frame of the true crossings in ``matches`` against ``n_pred`` predictions."""
    found = matches[matches["found"]]
    values = {"n_true": len(matches), "n_pred": n_pred, "n_found": len(found),
              "detection_rate": len(found) / len(matches) if len(matches) else np.nan,
              "precision": len(found) / n_pred if n_pred else np.nan,
              "F1": 2 * len(found) / (len(matches) + n_pred) if len(matches) + n_pred else np.nan}
    for name in ("start", "end", "centre"):
        errors = found[f"{name}_error_s"].abs()
        values[f"{name}_abs_error_s_mean"] = errors.mean()
        values[f"{name}_abs_error_s_median"] = errors.median()
    return to_metrics_frame(values, class_name)
