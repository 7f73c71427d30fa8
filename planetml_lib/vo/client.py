"""Query EPN-TAP services (ours, or any VESPA service) with pyvo, answering in the bundle's contracts.

The same call queries the local DaCHS that :mod:`planetml_lib.vo.dachs` published to and a
public VESPA service; :func:`vespa_services` lists the public ones from the IVOA registry
when the network is there.
"""

import numbers
import re

import pandas as pd

from planetml_lib.errors import PlanetMLError
from planetml_lib.vo.epncore import epncore_to_events

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.epn_core")


def _literal(value):
    """An ADQL literal: numbers as they are, text quoted (quotes doubled)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def _condition(name, value):
    """``name = value``, or ``name BETWEEN low AND high`` for a pair."""
    if not _NAME.fullmatch(name):
        raise PlanetMLError(f"{name!r} is not a column name")
    if isinstance(value, tuple | list):
        low, high = value
        return f"{name} BETWEEN {_literal(low)} AND {_literal(high)}"
    return f"{name} = {_literal(value)}"


def epntap_query(table, target=None, time_range=None, **constraints):
    """The ADQL for :func:`search_epntap` (granules overlapping ``time_range``, sorted by start)."""
    if not _TABLE.fullmatch(table):
        raise PlanetMLError(f"{table!r}: an EPN-TAP table is named <schema>.epn_core")
    conditions = [] if target is None else [_condition("target_name", target)]
    if time_range is not None:
        start, end = (pd.Timestamp(t) for t in time_range)
        if end < start:
            raise PlanetMLError(f"time_range ends ({end}) before it starts ({start})")
        conditions += [f"time_max >= {_literal(start.to_julian_date())}",
                       f"time_min <= {_literal(end.to_julian_date())}"]
    conditions += [_condition(name, value) for name, value in constraints.items()]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT * FROM {table}{where} ORDER BY time_min"


def search_epntap(service_url, table, target=None, time_range=None, maxrec=None, **constraints):
    """Granules of an EPN-TAP ``table`` at ``service_url`` matching every constraint.

    Parameters
    ----------
    service_url : str
        The TAP endpoint, e.g. ``http://127.0.0.1:8080/tap`` or a VESPA service's.
    table : str
        ``<schema>.epn_core``.
    target : str, optional
        ``target_name`` to match.
    time_range : (start, end), optional
        Keeps granules overlapping the interval (UTC times or strings).
    maxrec : int, optional
        Most rows to return (the service's own limit otherwise).
    **constraints
        ``column=value`` (equality) or ``column=(low, high)`` (inclusive range).

    Returns
    -------
    pandas.DataFrame
        Events (``start``, ``end``, ``label`` and every other column) where all granules have
        times; the EPN-TAP rows as served otherwise.
    """
    import pyvo

    query = epntap_query(table, target, time_range, **constraints)
    try:
        result = pyvo.dal.TAPService(service_url).search(query, maxrec=maxrec)
    except pyvo.dal.DALQueryError as err:
        raise PlanetMLError(f"{service_url}: the service refused the query ({err})") from err
    except (pyvo.dal.DALServiceError, pyvo.dal.DALFormatError, OSError) as err:
        raise PlanetMLError(f"{service_url}: no readable answer to the EPN-TAP query ({type(err).__name__}); "
                            "is the service running and the network there?") from err
    rows = result.to_table().to_pandas()
    if len(rows) and rows["time_min"].notna().all() and rows["time_max"].notna().all():
        return epncore_to_events(rows)
    return rows


def vespa_services(keyword="", maxrec=50):
    """Public EPN-TAP services from the IVOA registry (title, ivoid, TAP URL); needs the network."""
    import pyvo

    constraints = [pyvo.registry.Datamodel("epntap")] + ([keyword] if keyword else [])
    try:
        records = pyvo.registry.search(*constraints, maxrec=maxrec)
    except (pyvo.dal.DALServiceError, pyvo.dal.DALQueryError, OSError) as err:
        raise PlanetMLError(f"the IVOA registry could not be reached ({type(err).__name__}); "
                            "listing VESPA services needs the network") from err
    return pd.DataFrame([{"title": r.res_title, "ivoid": r.ivoid, "tap_url": r.access_url} for r in records])
