"""Readers for event catalogues: each returns the events contract.

Every reader returns a :class:`pandas.DataFrame` with one row per event,
columns ``start`` and ``end`` (datetime64[ns], UTC, naive) and ``label``
(str), plus catalogue-specific extras, sorted by ``start`` with a fresh
index. An instantaneous crossing has ``start == end``. Problems in a file
raise :class:`~planetml_lib.errors.PlanetMLError` naming the file and the
first offending line, so a user can open the file and fix it.

"""

import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.tables import build_events, integers, parse_times, read_table, require_complete

#: Philpott et al. (2020) boundary numbers paired into crossing intervals,
#: (first, second) in time order: 1/2 bow shock outer/inner (inbound),
#: 3/4 magnetopause outer/inner, 5/6 magnetopause inner/outer (outbound),
#: 7/8 bow shock inner/outer. Numbers 9 and 10 (extra crossings) are ignored.
PHILPOTT_PAIRS = {
    "bow_shock_in": (1, 2),
    "magnetopause_in": (3, 4),
    "magnetopause_out": (5, 6),
    "bow_shock_out": (7, 8),
}
_PHILPOTT_POSITIONS = {"X_MSO (km)": "x_mso_km", "Y_MSO (km)": "y_mso_km", "Z_MSO (km)": "z_mso_km"}
_ICMECAT_COLUMNS = {
    "icmecat_id": "event_id",
    "sc_insitu": "spacecraft",
    "icme_start_time": "start",
    "mo_start_time": "mo_start",
    "mo_end_time": "end",
}
_WINSLOW_SOURCES = {"w": "Winslow", "j": "James"}
#: Normalised file-name part -> Winslow event label.
_WINSLOW_LABELS = {"bowshock": "bow_shock", "magnetopause": "magnetopause"}
_WINSLOW_POSITIONS = {"x": "x_msm_rm", "y": "y_msm_rm", "z": "z_msm_rm"}


def _normalise(name: str) -> str:
    """Lower-case and drop punctuation: 'STEREO-A', 'stereo_a', 'StereoA' -> 'stereoa'."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _select_spacecraft(names: pd.Series, wanted: str | Sequence[str], source) -> pd.Series:
    """Boolean mask of rows whose spacecraft matches ``wanted`` (case/punctuation-insensitive)."""
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    keep = names.map(_normalise).isin({_normalise(w) for w in wanted})
    if not keep.any():
        valid = ", ".join(sorted(names.unique()))
        raise PlanetMLError(f"{source}: no event for spacecraft {wanted}; valid: {valid}")
    return keep


def read_icmecat(
    path: str | os.PathLike, spacecraft: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Read the HELCATS ICMECAT (v2.0 CSV) as events.

    ``start`` is the ICME start (shock or sheath begin, ``icme_start_time``),
    ``end`` the magnetic obstacle end (``mo_end_time``), ``label`` "ICME".
    Extras: ``mo_start`` (magnetic obstacle start), ``spacecraft``
    (``sc_insitu``) and ``event_id`` (``icmecat_id``).

    Parameters
    ----------
    path : str or os.PathLike
        ICMECAT CSV file.
    spacecraft : str or sequence of str, optional
        Keep only these spacecraft; matching ignores case and punctuation
        ("stereoa" selects "STEREO-A").

    Returns
    -------
    pandas.DataFrame
        Events, one row per ICME.

    Raises
    ------
    PlanetMLError
        If the selection is empty (the message lists valid spacecraft).
    """
    table = read_table(path, list(_ICMECAT_COLUMNS))
    frame = table[list(_ICMECAT_COLUMNS)].rename(columns=_ICMECAT_COLUMNS)
    for original, name in _ICMECAT_COLUMNS.items():
        if name in ("start", "mo_start", "end"):
            frame[name] = parse_times(table[original], path, original)
    if spacecraft is not None:
        frame = frame[_select_spacecraft(frame["spacecraft"], spacecraft, path)]
    frame = frame.assign(label="ICME")
    columns = ["start", "end", "label", "mo_start", "spacecraft", "event_id"]
    return build_events(frame[columns], path)


def _philpott_crossings(path: Path) -> pd.DataFrame:
    """Read Philpott crossings 1-8 as a frame indexed by (orbit, boundary)."""
    table = read_table(path, ["Timestamp", "Boundary number", "Orbit number"])
    crossings = pd.DataFrame(
        {
            "time": parse_times(table["Timestamp"], path, "Timestamp"),
            "boundary": integers(table["Boundary number"], path, "Boundary number"),
            "orbit": integers(table["Orbit number"], path, "Orbit number"),
            "line": table.index,
        },
        index=table.index,
    )
    for original, name in _PHILPOTT_POSITIONS.items():
        if original in table.columns:
            crossings[name] = pd.to_numeric(table[original], errors="coerce")
    crossings = crossings[crossings["boundary"].between(1, 8)]
    repeated = crossings.duplicated(["orbit", "boundary"])
    if repeated.any():
        row = crossings[repeated].iloc[0]
        raise DataFormatError(
            f"{path}: boundary {row['boundary']} appears twice in orbit {row['orbit']} "
            f"(line {row['line']})"
        )
    return crossings.set_index(["orbit", "boundary"])


def read_philpott(path: str | os.PathLike) -> pd.DataFrame:
    """Read Philpott et al. (2020) MESSENGER boundary crossings as interval events.

    Each orbit's boundary numbers are paired (see :data:`PHILPOTT_PAIRS`)
    into one event per boundary traversal: ``bow_shock_in``,
    ``magnetopause_in``, ``magnetopause_out`` and ``bow_shock_out``, from the
    first to the second crossing of the pair. A pair with one side missing
    is dropped with a warning giving the count.

    Parameters
    ----------
    path : str or os.PathLike
        CSV with columns ``Timestamp``, ``Boundary number``, ``Orbit number``
        and optionally ``X_MSO (km)``, ``Y_MSO (km)``, ``Z_MSO (km)``.

    Returns
    -------
    pandas.DataFrame
        Events with extras ``orbit`` (int) and, when present, the MSO
        position of the start crossing ``x_mso_km``, ``y_mso_km``,
        ``z_mso_km`` (km).
    """
    crossings = _philpott_crossings(Path(path))
    wide = crossings.unstack("boundary")
    fields = crossings.columns
    wide = wide.reindex(columns=pd.MultiIndex.from_product([fields, range(1, 9)]))
    parts, n_half = [], 0
    for label, (first, second) in PHILPOTT_PAIRS.items():
        has_first, has_second = wide["time"][first].notna(), wide["time"][second].notna()
        n_half += int((has_first != has_second).sum())
        both = wide[has_first & has_second]
        part = pd.DataFrame(
            {
                "start": both["time"][first],
                "end": both["time"][second],
                "label": label,
                "orbit": both.index,
            }
        )
        for name in fields.drop(["time", "line"]):
            part[name] = both[name][first]
        parts.append(part.set_index(both["line"][first].astype("int64").to_numpy()))
    if n_half:
        warnings.warn(
            f"{path}: dropped {n_half} boundary pair(s) with one side missing", stacklevel=2
        )
    return build_events(pd.concat(parts), path)


def _winslow_times(table: pd.DataFrame, date: str, hour: str, source) -> pd.Series:
    """Combine a YYYYMMDD column and a decimal-hour column into datetime64[ns]."""
    day = pd.to_datetime(table[date].astype("string"), format="%Y%m%d", errors="coerce")
    hours = pd.to_numeric(table[hour], errors="coerce")
    times = (day + pd.to_timedelta(hours, unit="h")).dt.round("ms")
    bad = times.isna() | (hours < 0) | (hours > 24)
    if bad.any():
        line = bad.idxmax()
        value = f"{table.at[line, date]} {table.at[line, hour]}"
        raise DataFormatError(
            f"{source}: unparsable time {value!r} in columns '{date}', '{hour}' at line {line}"
        )
    return times.astype("datetime64[ns]")


def _winslow_label(path: Path, boundary: str | None) -> str:
    """Return "bow_shock" or "magnetopause" from ``boundary`` or the file name."""
    if boundary is None:
        name = _normalise(path.name)
        boundary = next((label for key, label in _WINSLOW_LABELS.items() if key in name), None)
    if boundary not in _WINSLOW_LABELS.values():
        raise PlanetMLError(
            f"{path}: cannot tell the boundary; pass boundary='bow_shock' or 'magnetopause'"
        )
    return boundary


def read_winslow(path: str | os.PathLike, boundary: str | None = None) -> pd.DataFrame:
    """Read a Winslow et al. (2013) / James et al. crossing list (PyMess ``.dat``).

    Each line is one crossing interval, from ``Date0 ut0`` to ``Date1 ut1``
    (YYYYMMDD and decimal hours, UT; times rounded to the millisecond).

    Parameters
    ----------
    path : str or os.PathLike
        Whitespace-separated file with header ``Date0 ut0 Date1 ut1 ... ctype
        x y z ... source``.
    boundary : {"bow_shock", "magnetopause"}, optional
        Event label; by default taken from the file name ("bowshock" or
        "magnetopause" in it).

    Returns
    -------
    pandas.DataFrame
        Events with extras ``direction`` ("in"/"out", from ``ctype`` i/o),
        ``catalog`` ("Winslow" or "James", from ``source`` w/j) and, when
        present, the midpoint MSM position ``x_msm_rm``, ``y_msm_rm``,
        ``z_msm_rm`` (Mercury radii).
    """
    path = Path(path)
    label = _winslow_label(path, boundary)
    table = read_table(path, ["Date0", "ut0", "Date1", "ut1", "ctype"], sep=r"\s+")
    direction = table["ctype"].astype("string").str.lower().map({"i": "in", "o": "out"})
    if direction.isna().any():
        line = direction.isna().idxmax()
        raise DataFormatError(
            f"{path}: ctype {table.at[line, 'ctype']!r} is not 'i' or 'o' at line {line}"
        )
    frame = pd.DataFrame(
        {
            "start": _winslow_times(table, "Date0", "ut0", path),
            "end": _winslow_times(table, "Date1", "ut1", path),
            "label": label,
            "direction": direction.astype(str),
        }
    )
    if "source" in table.columns:
        frame["catalog"] = table["source"].map(_WINSLOW_SOURCES).fillna(table["source"]).astype(str)
    for original, name in _WINSLOW_POSITIONS.items():
        if original in table.columns:
            frame[name] = pd.to_numeric(table[original], errors="coerce")
    return build_events(frame, path)


def read_messenger_orbits(path: str | os.PathLike) -> pd.DataFrame:
    """Read the MESSENGER orbit list of PyMess (``orbits.dat``) as events, one per orbit.

    Each line is ``orbit Date0 ut0 Date1 ut1``: the orbit number and its start and end
    (YYYYMMDD and decimal hours, UT), apoapsis to apoapsis; times are rounded to the
    second. Orbit numbers are those of the Philpott et al. (2020) list, except near the
    missing orbits 136-152.

    Parameters
    ----------
    path : str or os.PathLike
        Whitespace-separated file without a header (``.gz`` accepted).

    Returns
    -------
    pandas.DataFrame
        Events with ``label`` "orbit" and extra ``orbit`` (int).
    """
    names = ["orbit", "Date0", "ut0", "Date1", "ut1"]
    table = read_table(path, names, first_line=1, sep=r"\s+", header=None, names=names)
    require_complete(table, path)
    frame = pd.DataFrame(
        {
            "start": _winslow_times(table, "Date0", "ut0", path).dt.round("s"),
            "end": _winslow_times(table, "Date1", "ut1", path).dt.round("s"),
            "label": "orbit",
            "orbit": integers(table["orbit"], path, "orbit"),
        }
    )
    return build_events(frame, path)


def read_cluster_crossings(path: str | os.PathLike) -> pd.DataFrame:
    """Read the Kruparova et al. (2019) Cluster bow-shock crossing list.

    Each line is ``C<n> YYYY-MM-DDTHH:MM:SS``: one instantaneous crossing by
    Cluster spacecraft n (1-4).

    Returns
    -------
    pandas.DataFrame
        Events with ``start == end``, ``label`` "bow_shock" and extra
        ``spacecraft`` ("C1".."C4").
    """
    table = read_table(
        path, [], first_line=1, sep=r"\s+", header=None, names=["spacecraft", "time"]
    )
    valid = table["spacecraft"].astype("string").str.fullmatch(r"C[1-4]").fillna(False).astype(bool)
    if not valid.all():
        line = (~valid).idxmax()
        raise DataFormatError(
            f"{path}: spacecraft {table.at[line, 'spacecraft']!r} is not C1-C4 at line {line}"
        )
    time = parse_times(table["time"], path, "time")
    frame = pd.DataFrame(
        {
            "start": time,
            "end": time,
            "label": "bow_shock",
            "spacecraft": table["spacecraft"].astype(str),
        }
    )
    return build_events(frame, path)
