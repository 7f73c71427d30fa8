"""Readers for NASA CDAWeb CDF files (ISTP conventions), through :mod:`cdflib`.

:func:`read_cdf` reads chosen variables of any ISTP CDF as the time-series
contract; :func:`read_cdaweb` recognises a few solar-wind products (the
:data:`LAYOUTS`), reads field and plasma files, averages each onto a common
cadence and merges them into one Dataset. ISTP metadata drive the cleaning:
``FILLVAL`` and values outside ``VALIDMIN``/``VALIDMAX`` become NaN, units come
from ``UNITS`` and the time axis from ``DEPEND_0``.
"""

import os
import re
import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cdflib
import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.solarwind import VARIABLES
from planetml_lib.io.tables import error_reason, median_cadence

#: Variables the layouts add to :data:`~planetml_lib.io.solarwind.VARIABLES`: name -> (units, long name).
EXTRA_VARIABLES = {
    "vx": ("km/s", "proton bulk velocity x component"),
    "vy": ("km/s", "proton bulk velocity y component"),
    "vz": ("km/s", "proton bulk velocity z component"),
    "vth": ("km/s", "proton thermal speed, most probable speed sqrt(2 k_B T / m_p)"),
}
KNOWN_VARIABLES = {**VARIABLES, **EXTRA_VARIABLES}
#: Vector components: they carry the layout's frame in their attrs.
COMPONENTS = ("bx", "by", "bz", "vx", "vy", "vz")
#: Unit spellings of CDAWeb files (lower case) -> the package's spelling.
UNIT_ALIASES = {
    "cm^{-3}": "cm^-3", "#/cc": "cm^-3", "n/cc": "cm^-3", "/cc": "cm^-3", "#/cm^3": "cm^-3",
    "1/cm^3": "cm^-3", "cm^-3": "cm^-3", "km/sec": "km/s", "km/s": "km/s", "nt": "nT",
    "k": "K", "deg_k": "K", "deg k": "K", "kelvin": "K",
}


@dataclass(frozen=True)
class CdfLayout:
    """How one CDAWeb product maps onto the package's variable names.

    Attributes
    ----------
    name : str
        Short name, e.g. "wind_mfi_gsm".
    kind : {"field", "plasma"}
        Magnetic field or plasma moments; the merged frame comes from the field.
    variables : Mapping
        Variable in the file -> our name, or a tuple of names, one per vector component.
    sources : Mapping
        ``Logical_source`` values of the product -> spacecraft name.
    frame : str or None
        Coordinate frame of the vector components (None when there are none).
    """

    name: str
    kind: str
    variables: Mapping[str, str | tuple[str, ...]]
    sources: Mapping[str, str]
    frame: str | None


_WIND_MFI = {"WI_H0_MFI": "Wind", "WI_H0S_MFI": "Wind", "WI_H2_MFI": "Wind", "WI_H2S_MFI": "Wind"}
_STEREO_MAG = {"STA_L1_MAG_RTN": "STEREO-A", "STB_L1_MAG_RTN": "STEREO-B"}
_STEREO_PLA = {"STA_L2_PLA_1DMAX_1MIN": "STEREO-A", "STB_L2_PLA_1DMAX_1MIN": "STEREO-B"}
_B = ("bx", "by", "bz")
#: Known products, tried in this order (so BGSM wins over BGSE in a Wind MFI file holding both).
LAYOUTS = (
    CdfLayout("wind_mfi_gsm", "field", {"BGSM": _B}, _WIND_MFI, "GSM"),
    CdfLayout("wind_mfi_gse", "field", {"BGSE": _B}, _WIND_MFI, "GSE"),
    CdfLayout(
        "wind_swe_h1", "plasma",
        {"Proton_Np_moment": "np", "Proton_VX_moment": "vx", "Proton_VY_moment": "vy",
         "Proton_VZ_moment": "vz", "Proton_W_moment": "vth"},
        {"WI_H1_SWE": "Wind", "WI_H1S_SWE": "Wind", "WIND_H1S_SWE": "Wind"}, "GSE",
    ),
    CdfLayout("wind_swe_k0", "plasma", {"Np": "np", "V_GSE": ("vx", "vy", "vz"), "THERMAL_SPD": "vth"},
              {"WI_K0_SWE": "Wind", "WI_K0S_SWE": "Wind"}, "GSE"),
    CdfLayout("stereo_mag_rtn", "field", {"BFIELD": (*_B, "bt")}, _STEREO_MAG, "RTN"),
    CdfLayout("stereo_plastic", "plasma",
              {"proton_number_density": "np", "proton_bulk_speed": "vt", "proton_temperature": "tp"},
              _STEREO_PLA, None),
)


def normalize_units(text: str | None) -> str:
    """Return the package's spelling of a CDF ``UNITS`` string ("nT (1min)" -> "nT", "cm^{-3}" -> "cm^-3")."""
    text = re.sub(r"\s*\(.*\)\s*$", "", str(text or "").strip())
    return UNIT_ALIASES.get(text.lower(), text)


def _variable_names(cdf: cdflib.CDF) -> list[str]:
    info = cdf.cdf_info()
    return list(info.zVariables) + list(info.rVariables)


def _global(cdf: cdflib.CDF, name: str) -> str:
    """First entry of a global attribute as text, "" when absent."""
    entries = cdf.globalattsget().get(name) or [""]
    return str(entries[0]).strip()


def _open(path: Path) -> cdflib.CDF:
    """Open a CDF, turning a missing or unreadable file into a one-line PlanetMLError."""
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    try:
        return cdflib.CDF(path)
    except (OSError, ValueError) as err:
        raise DataFormatError(f"{path}: not a readable CDF file ({error_reason(err)})") from None


@contextmanager
def _reading(path: Path):
    """Open a CDF for reading; wherever cdflib trips over a truncated or damaged file (it reads
    lazily, so any call can), the error becomes one DataFormatError line naming the file."""
    with _open(path) as cdf:
        try:
            yield cdf
        except PlanetMLError:
            raise
        except (OSError, ValueError, EOFError, IndexError, KeyError, struct.error, zlib.error) as err:
            reason = (str(err).strip().splitlines() or [""])[0] or type(err).__name__
            raise DataFormatError(f"{path}: damaged or truncated CDF file ({reason})") from None


def _times(cdf: cdflib.CDF, name: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return (datetime64[ns] of records with a valid time, bool mask of those records)."""
    raw = cdf.varget(name)
    if raw is None or np.size(raw) == 0:
        raise DataFormatError(f"{path}: time variable '{name}' has no records")
    raw = np.atleast_1d(raw)
    fill = cdf.varattsget(name).get("FILLVAL")
    valid = np.ones(raw.shape[0], dtype=bool) if fill is None else raw != np.asarray(fill).astype(raw.dtype)
    return np.asarray(cdflib.cdfepoch.to_datetime(raw[valid]), dtype="datetime64[ns]"), valid


def _values(cdf: cdflib.CDF, name: str, n_records: int, path: Path) -> np.ndarray:
    """Float64 values (n_records, n_components), NaN at ``FILLVAL`` and outside ``VALIDMIN``..``VALIDMAX``."""
    raw = np.asarray(cdf.varget(name))
    if raw.dtype.kind not in "iuf":
        raise DataFormatError(f"{path}: variable '{name}' is not numeric ({raw.dtype})")
    attrs = cdf.varattsget(name)
    bad = np.zeros(raw.shape, dtype=bool)
    if attrs.get("FILLVAL") is not None:
        bad |= raw == np.asarray(attrs["FILLVAL"]).astype(raw.dtype)
    values = raw.astype("float64")
    if attrs.get("VALIDMIN") is not None:
        bad |= values < np.asarray(attrs["VALIDMIN"], dtype="float64")
    if attrs.get("VALIDMAX") is not None:
        bad |= values > np.asarray(attrs["VALIDMAX"], dtype="float64")
    return np.where(bad, np.nan, values).reshape(n_records, -1)


def _component_names(target: str | Sequence[str], width: int, name: str, path: Path) -> list[str]:
    """Names for the ``width`` columns of a variable: a tuple as given, "b" -> bx, by, bz, else b0, b1..."""
    if not isinstance(target, str):
        if len(target) != width:
            raise DataFormatError(f"{path}: variable '{name}' has {width} component(s), names given {list(target)}")
        return list(target)
    if width == 1:
        return [target]
    return [target + axis for axis in "xyz"] if width == 3 else [f"{target}{i}" for i in range(width)]


def _default_variables(cdf: cdflib.CDF) -> dict[str, str]:
    """``VAR_TYPE`` "data" variables sharing the time variable of the first one, keeping their names."""
    data = {name: cdf.varattsget(name) for name in _variable_names(cdf)}
    data = {name: attrs for name, attrs in data.items() if attrs.get("VAR_TYPE") == "data" and attrs.get("DEPEND_0")}
    if not data:
        return {}
    time = next(iter(data.values()))["DEPEND_0"]
    return {name: name for name, attrs in data.items() if attrs["DEPEND_0"] == time}


def _time_variable(cdf: cdflib.CDF, names: Sequence[str], path: Path) -> str:
    """The one ``DEPEND_0`` shared by ``names`` ("Epoch" when none is given)."""
    depends = {cdf.varattsget(name).get("DEPEND_0") or "Epoch" for name in names}
    if len(depends) > 1:
        raise DataFormatError(f"{path}: variables {list(names)} use different time variables {sorted(depends)}; "
                              "read them in separate calls")
    return depends.pop()


def _read(cdf: cdflib.CDF, path: Path, variables: Mapping | None) -> xr.Dataset:
    """Read ``variables`` (file name -> our name(s)) of an open CDF as a Dataset on ``time``."""
    variables = dict(_default_variables(cdf) if variables is None else variables)
    found = _variable_names(cdf)
    if not variables:
        raise DataFormatError(f"{path}: no variable of VAR_TYPE 'data' with a DEPEND_0; found {found}")
    missing = [name for name in variables if name not in found]
    if missing:
        raise DataFormatError(f"{path}: variable(s) {missing} not in file; found {found}")
    time_name = _time_variable(cdf, list(variables), path)
    if time_name not in found:
        raise DataFormatError(f"{path}: time variable '{time_name}' not in file; found {found}")
    time, valid = _times(cdf, time_name, path)
    data = {}
    for name, target in variables.items():
        values = _values(cdf, name, valid.size, path)[valid]
        attrs = cdf.varattsget(name)
        units = normalize_units(attrs.get("UNITS"))
        for column, ours in enumerate(_component_names(target, values.shape[1], name, path)):
            long_name = KNOWN_VARIABLES.get(ours, (None, attrs.get("CATDESC") or attrs.get("FIELDNAM") or name))[1]
            var_attrs = {"units": units, "long_name": long_name, "cdf_variable": name}
            data[ours] = xr.Variable("time", values[:, column], var_attrs)
    return xr.Dataset(data, coords={"time": time}).sortby("time")


def read_cdf(
    path: str | os.PathLike,
    variables: Mapping[str, str | Sequence[str]] | None = None,
    *,
    spacecraft: str | None = None,
    frame: str | None = None,
) -> xr.Dataset:
    """Read time series from an ISTP CDF file (e.g. from NASA CDAWeb) as a Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        CDF file.
    variables : mapping, optional
        Variable in the file -> our name. A vector variable (n_records, k) is
        split into k variables: give a tuple of k names (``{"BGSM": ("bx",
        "by", "bz")}``), or a prefix (``{"BGSM": "b"}`` gives bx, by, bz for
        k = 3, b0..b{k-1} otherwise). Default: every ``VAR_TYPE`` "data"
        variable on the first one's time variable, under its own name.
    spacecraft, frame : str, optional
        Stored in ``ds.attrs``; by default the part of the global attribute
        ``Source_name`` before ">" (e.g. "WIND") and "unknown".

    Returns
    -------
    xarray.Dataset
        Dimension ``time`` (n,) datetime64[ns], UTC, sorted (records with a
        fill time dropped); float64 variables, NaN at ``FILLVAL`` and outside
        ``VALIDMIN``/``VALIDMAX``; attrs ``units`` (from ``UNITS``, spelled
        as in the package: "nT (1min)" -> "nT", "cm^{-3}" -> "cm^-3"),
        ``long_name`` and ``cdf_variable``. ``ds.attrs``: ``spacecraft``,
        ``frame``, ``source`` (file name), ``logical_source`` and ``cadence``
        (median step). Gaps are not filled.

    Raises
    ------
    PlanetMLError
        If the file is missing or not a CDF, a variable is missing (the
        message lists the variables found), not numeric, or the variables
        depend on different time variables.

    Examples
    --------
    >>> from planetml_lib.datasets import DATA_DIR
    >>> ds = read_cdf(DATA_DIR / "icme/cdaweb_wind_2024-05/wi_h0s_mfi_20240510_20240512.cdf", {"BGSM": "b"})
    >>> list(ds.data_vars), ds["bx"].attrs["units"], ds.attrs["cadence"]
    (['bx', 'by', 'bz'], 'nT', '1min')
    """
    path = Path(path)
    with _reading(path) as cdf:
        ds = _read(cdf, path, variables)
        source_name = _global(cdf, "Source_name").split(">")[0]
        logical_source = _global(cdf, "Logical_source")
    ds.attrs = {
        "spacecraft": spacecraft or source_name or "unknown",
        "frame": frame or "unknown",
        "source": path.name,
        "logical_source": logical_source,
        "cadence": median_cadence(pd.Series(ds["time"].values)),
    }
    return ds


def _detect(cdf: cdflib.CDF, path: Path) -> CdfLayout:
    """The layout named by ``Logical_source``, else the first whose variables are all in the file."""
    source, found = _global(cdf, "Logical_source"), set(_variable_names(cdf))
    named = [layout for layout in LAYOUTS if source in layout.sources]
    for layout in named or LAYOUTS:
        if set(layout.variables) <= found:
            return layout
    if named:
        needs = " or ".join(str(sorted(set(layout.variables) - found)) for layout in named)
        raise DataFormatError(f"{path}: {source} file lacks variable(s) {needs}; found {sorted(found)}")
    known = sorted({name for layout in LAYOUTS for name in layout.sources})
    raise DataFormatError(f"{path}: unknown product {source!r} (Logical_source) and no known variable layout; "
                          f"found variables {sorted(found)}; known products {known}")


def detect_layout(path: str | os.PathLike) -> CdfLayout:
    """Return the :data:`LAYOUTS` entry that fits a CDF file (by ``Logical_source``, else by variable names).

    Raises
    ------
    PlanetMLError
        If no layout fits; the message names the missing variables and lists those found.
    """
    path = Path(path)
    with _reading(path) as cdf:
        return _detect(cdf, path)


def _read_layout(path: Path) -> tuple[CdfLayout, xr.Dataset]:
    """Read one file with its detected layout; check units of known variables."""
    with _reading(path) as cdf:
        layout = _detect(cdf, path)
        ds = _read(cdf, path, layout.variables)
        source = _global(cdf, "Logical_source")
    for name, var in ds.data_vars.items():
        expected = KNOWN_VARIABLES[name][0]
        if var.attrs["units"] != expected:
            raise DataFormatError(f"{path}: variable '{var.attrs['cdf_variable']}' has units "
                                  f"{var.attrs['units']!r}, expected {expected!r}")
        if layout.frame and name in COMPONENTS:
            var.attrs["frame"] = layout.frame
    candidates = set(layout.sources.values())
    ds.attrs["spacecraft"] = layout.sources.get(source, candidates.pop() if len(candidates) == 1 else "unknown")
    return layout, ds


def _merge(parts: dict[str, xr.Dataset]) -> xr.Dataset:
    """Merge per-layout Datasets, refusing two files that provide the same variable."""
    seen = {}
    for layout, ds in parts.items():
        for name in ds.data_vars:
            if name in seen:
                raise PlanetMLError(f"layouts {seen[name]} and {layout} both provide '{name}'; pass only one of them")
            seen[name] = layout
    return xr.merge(list(parts.values()), join="outer", combine_attrs="override")


def read_cdaweb(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    freq: str = "10min",
    derive: Callable[[xr.Dataset], xr.Dataset] | None = None,
) -> xr.Dataset:
    """Read CDAWeb field and plasma files of one spacecraft, average them onto ``freq`` and merge them.

    Each file's product is recognised (see :func:`detect_layout`): Wind MFI
    (BGSM, else BGSE), Wind SWE H1 proton moments and K0 key parameters,
    STEREO IMPACT MAG RTN and STEREO PLASTIC 1-min moments. Files of one
    product are joined in time, then every product is averaged in bins of
    ``freq`` (mean of the samples inside each bin, labelled by the bin start;
    NaN where a bin holds no sample — nothing is interpolated) and the
    products are merged on the union of their bins.

    Parameters
    ----------
    paths : path or sequence of paths
        CDF files of one spacecraft.
    freq : str
        Bin width as a fixed pandas frequency, e.g. "10min", "1h".
    derive : callable, optional
        Function Dataset -> Dataset (typically
        :func:`planetml_lib.preprocess.add_derived_features`) applied to each
        product's native samples before averaging, then to the merged
        result; it must add variables, not change existing ones.
        Use it to get bt as the mean of |B| (as in OMNI and the STEREO
        samples) rather than |mean B|, which is smaller where the field
        rotates within a bin (23.9 against 17.9 nT in the bin after the
        2024-05-10 shock); quantities that need both products (beta) come
        from the merged means.

    Returns
    -------
    xarray.Dataset
        Time-series contract on a regular ``freq`` grid: bx, by, bz (nT) and
        bt for STEREO; np (cm^-3); vx, vy, vz and vth (km/s) for Wind, vt and
        tp (K) for STEREO. Vector components carry attrs ``frame``.
        ``ds.attrs``: ``spacecraft``, ``frame`` (of the magnetic field, e.g.
        "GSM" — velocities of Wind SWE stay in GSE), ``source`` (file names),
        ``layouts`` and ``cadence`` (= ``freq``), plus what ``derive`` adds.

    Raises
    ------
    PlanetMLError
        If ``paths`` is empty, ``freq`` is not a fixed frequency, a file is
        missing, unknown or lacks a variable, the files come from different
        spacecraft, or two products provide the same variable.
    """
    paths = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if not paths:
        raise PlanetMLError("read_cdaweb needs at least one CDF file")
    try:
        pd.Timedelta(freq)
    except ValueError:
        raise PlanetMLError(f"freq={freq!r} is not a fixed frequency such as '10min'") from None
    read = [_read_layout(path) for path in paths]
    spacecraft = sorted({ds.attrs["spacecraft"] for _, ds in read})
    if len(spacecraft) > 1:
        raise PlanetMLError(f"files come from different spacecraft {spacecraft}; read them separately")
    layouts = {layout.name: layout for layout, _ in read}
    parts = {}
    for name in layouts:
        joined = xr.concat([ds for layout, ds in read if layout.name == name], dim="time").sortby("time")
        joined = derive(joined) if derive is not None else joined
        parts[name] = joined.resample(time=freq).mean(keep_attrs=True)
    ds = _merge(parts)
    ds = derive(ds) if derive is not None else ds
    frames = [layout.frame for layout in layouts.values() if layout.kind == "field" and layout.frame]
    ds.attrs = {
        "spacecraft": spacecraft[0],
        "frame": frames[0] if frames else "unknown",
        "source": ", ".join(path.name for path in paths),
        "layouts": ", ".join(layouts),
        "cadence": freq,
    }
    return ds
