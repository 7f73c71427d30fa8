"""Optional downloads: CDF files from NASA CDAWeb (REST web services, CDAS) and MESSENGER
magnetometer tables from the NASA PDS Planetary Plasma Interactions (PPI) node.

Nothing here runs unless called: the package and its tests work offline with the
shipped files. For CDAWeb one call asks the service to cut a CDF of the requested
variables and time range, then fetches that file; for PDS it fetches one daily table
by its archive path. Files are written atomically, so an interrupted download never
leaves a partial file. Requests use only the standard library.
CDAWeb web services: https://cdaweb.gsfc.nasa.gov/WebServices/REST/.
"""

import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import cdflib
import pandas as pd

from planetml_lib import __version__
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.atomic import atomic_write
from planetml_lib.io.cdf import LAYOUTS
from planetml_lib.io.pds import read_messenger_mag

#: Root of the CDAWeb REST services.
CDAWEB_URL = "https://cdaweb.gsfc.nasa.gov/WS/cdasr/1"
#: PDS PPI folder of MESSENGER MAG averages in MSO (data set MESS-E_V_H_SW-MAG-4-SUMM-CALIBRATED-V1.0).
PDS_MESSENGER_MAG_URL = "https://pds-ppi.igpp.ucla.edu/data/mess-mag-calibrated/data/mso-avg"
#: Averaging times (s) of the PDS MESSENGER MAG tables.
MESSENGER_MAG_CADENCES = (1, 5, 10, 60)
_USER_AGENT = f"planetml_lib/{__version__}"
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _utc(value, name: str) -> pd.Timestamp:
    """Parse a time (str, datetime, Timestamp) as UTC-naive; one-line error if it cannot be read."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise PlanetMLError(f"{name}={value!r} is not a time, e.g. '2024-05-10T00:00'") from None
    if stamp is pd.NaT:
        raise PlanetMLError(f"{name} is missing (NaT)")
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def default_variables(dataset_id: str) -> list[str]:
    """Variables :func:`~planetml_lib.io.cdf.read_cdaweb` needs from a known CDAWeb dataset.

    Raises
    ------
    PlanetMLError
        If ``dataset_id`` is not among the products of :data:`~planetml_lib.io.cdf.LAYOUTS`.
    """
    for layout in LAYOUTS:
        if dataset_id.upper() in layout.sources:
            return list(layout.variables)
    known = sorted({name for layout in LAYOUTS for name in layout.sources})
    raise PlanetMLError(f"no default variables for dataset {dataset_id!r}; pass variables=[...] or use one of {known}")


def cdaweb_data_url(dataset_id: str, start, end, variables: Sequence[str], base_url: str = CDAWEB_URL) -> str:
    """URL of the CDAS request that makes CDAWeb write a CDF of ``variables`` from ``start`` to ``end``.

    Examples
    --------
    >>> cdaweb_data_url("WI_H0_MFI", "2024-05-10", "2024-05-12T12:00", ["BGSM"])
    'https://cdaweb.gsfc.nasa.gov/WS/cdasr/1/dataviews/sp_phys/datasets/WI_H0_MFI/data/20240510T000000Z,20240512T120000Z/BGSM?format=cdf'
    """
    times = ",".join(_utc(value, name).strftime("%Y%m%dT%H%M%SZ") for value, name in ((start, "start"), (end, "end")))
    names = ",".join(urllib.parse.quote(name) for name in variables)
    dataset = urllib.parse.quote(dataset_id.upper())
    return f"{base_url.rstrip('/')}/dataviews/sp_phys/datasets/{dataset}/data/{times}/{names}?format=cdf"


def _open_url(url: str, timeout: float, service: str = "CDAWeb", accept: str = "application/json"):
    """Open ``url``; network and HTTP failures become a one-line PlanetMLError naming ``service``."""
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": _USER_AGENT})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        raise PlanetMLError(f"{service} answered HTTP {err.code} ({err.reason}) to {url}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        host = urllib.parse.urlsplit(url).netloc
        raise PlanetMLError(f"cannot reach {host}: offline? ({reason}); the shipped samples work without network") \
            from None


def _file_url(url: str, timeout: float, what: str) -> str:
    """Ask CDAS for a file; return the URL of the CDF it wrote."""
    with _open_url(url, timeout) as response:
        body = response.read()
    try:
        answer = json.loads(body or b"{}")
    except json.JSONDecodeError:
        raise PlanetMLError(f"CDAWeb answered {url} with something other than JSON") from None
    files = answer.get("FileDescription") or []
    if not files:
        notes = answer.get("Error") or answer.get("Message") or ["no file returned"]
        raise PlanetMLError(f"CDAWeb has no {what}: {' '.join(map(str, notes))}")
    return files[0]["Name"]


def download_cdaweb(
    dataset_id: str,
    start,
    end,
    folder: str | os.PathLike,
    variables: Sequence[str] | None = None,
    *,
    base_url: str = CDAWEB_URL,
    timeout: float = 60.0,
) -> Path:
    """Download a CDAWeb dataset's variables for a time range as one CDF file.

    Parameters
    ----------
    dataset_id : str
        CDAWeb dataset, e.g. "WI_H0_MFI" (Wind MFI, 1 min), "WI_H1_SWE" (Wind
        SWE proton moments), "STA_L1_MAG_RTN", "STA_L2_PLA_1DMAX_1MIN".
    start, end : str, datetime or pandas.Timestamp
        Time range (UTC).
    folder : str or os.PathLike
        Destination folder, created if missing.
    variables : sequence of str, optional
        Variables to fetch; by default those :func:`~planetml_lib.io.cdf.read_cdaweb`
        needs for a known dataset (:func:`default_variables`).
    base_url : str
        Root of the CDAS REST services (change it for a mirror or a test server).
    timeout : float
        Seconds to wait for each answer.

    Returns
    -------
    pathlib.Path
        ``folder / "<dataset_id>_<start YYYYMMDD>_<end YYYYMMDD>.cdf"`` (lower-case
        id), written atomically; read it with :func:`~planetml_lib.io.cdf.read_cdaweb`.

    Raises
    ------
    PlanetMLError
        One line: the server cannot be reached ("cannot reach <host>: offline? ..."),
        it refused the request, it has no data in the range, the times are not
        valid, or the file received is not a CDF.
    """
    first, last = _utc(start, "start"), _utc(end, "end")
    if last <= first:
        raise PlanetMLError(f"end ({last}) must be after start ({first})")
    names = list(variables) if variables is not None else default_variables(dataset_id)
    url = cdaweb_data_url(dataset_id, first, last, names, base_url)
    file_url = _file_url(url, timeout, f"{dataset_id} {names} data from {first} to {last}")
    target = Path(folder) / f"{dataset_id.lower()}_{first:%Y%m%d}_{last:%Y%m%d}.cdf"
    with atomic_write(target) as tmp:
        with _open_url(file_url, timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
        try:
            with cdflib.CDF(tmp):
                pass
        except (OSError, ValueError):
            raise PlanetMLError(f"the file CDAWeb sent ({file_url}) is not a CDF") from None
    return target


def messenger_mag_url(date, cadence_s: int = 1, base_url: str = PDS_MESSENGER_MAG_URL) -> str:
    """URL of the PDS table of MESSENGER MAG averages in MSO for one day.

    The archive holds ``<year>/<first doy>_<last doy>_<MON>/MAGMSOSCIAVG<yy><doy>_<cc>_V08.TAB``,
    one folder per month (day-of-year range of the month).

    Examples
    --------
    >>> messenger_mag_url("2012-03-01T15:00", 10)
    'https://pds-ppi.igpp.ucla.edu/data/mess-mag-calibrated/data/mso-avg/2012/061_091_MAR/MAGMSOSCIAVG12061_10_V08.TAB'
    """
    if cadence_s not in MESSENGER_MAG_CADENCES:
        raise PlanetMLError(f"cadence_s={cadence_s!r} is not one of {MESSENGER_MAG_CADENCES} (seconds)")
    day = _utc(date, "date").normalize()
    first, last = day.replace(day=1), day + pd.offsets.MonthEnd(0)
    folder = f"{day:%Y}/{first.day_of_year:03d}_{last.day_of_year:03d}_{_MONTHS[day.month - 1]}"
    return f"{base_url.rstrip('/')}/{folder}/MAGMSOSCIAVG{day:%y}{day.day_of_year:03d}_{cadence_s:02d}_V08.TAB"


def download_messenger_mag(
    date, cadence_s: int, folder: str | os.PathLike, *, base_url: str = PDS_MESSENGER_MAG_URL, timeout: float = 120.0
) -> Path:
    """Download one day of MESSENGER magnetometer averages in MSO from the NASA PDS PPI node.

    Parameters
    ----------
    date : str, datetime or pandas.Timestamp
        Any time of the wanted day (UTC). MESSENGER orbited Mercury from 2011-03-18 to 2015-04-30.
    cadence_s : {1, 5, 10, 60}
        Averaging time (s); a 1-s day file is about 15 MB.
    folder : str or os.PathLike
        Destination folder, created if missing.
    base_url : str
        Folder of the MSO averages in the archive (change it for a mirror or a test server).
    timeout : float
        Seconds to wait for the server.

    Returns
    -------
    pathlib.Path
        ``folder / "MAGMSOSCIAVG<yy><doy>_<cc>_V08.TAB"``, written atomically; read it with
        :func:`~planetml_lib.io.pds.read_messenger_mag`.

    Raises
    ------
    PlanetMLError
        One line: the server cannot be reached ("cannot reach <host>: offline? ..."), it
        answered with an HTTP error (e.g. 404 for a day without data), the file is not a
        MESSENGER MAG table, or ``date``/``cadence_s`` are not valid.
    """
    url = messenger_mag_url(date, cadence_s, base_url)
    target = Path(folder) / url.rsplit("/", 1)[1]
    with atomic_write(target) as tmp:
        with _open_url(url, timeout, service="PDS PPI", accept="*/*") as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
        try:
            read_messenger_mag(tmp)
        except PlanetMLError as err:
            raise PlanetMLError(f"the file PDS PPI sent ({url}) is not a MESSENGER MAG table: {err}") from None
    return target
