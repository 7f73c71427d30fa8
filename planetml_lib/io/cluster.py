"""Reader for Cluster Science Archive field and plasma products (CEF-2.0 or CDF), and MMS FGM L2 CDFs.

:func:`read_cluster` recognises, per file, the products of :data:`PRODUCTS`
by their CSA variable names (``<variable>__<DATASET_ID>``, the same in the
CSA's CEF and CDF exports): FGM spin-resolution, 5 vectors/s or full
resolution magnetic field with the spacecraft position, and CIS-HIA onboard
ion moments; and the MMS FGM L2 layout (``mms1_fgm_b_gse_brst_l2`` on
``Epoch``, position ``mms1_fgm_r_gse_brst_l2`` on ``Epoch_state``). It
converts them to the names and units of :data:`CLUSTER_VARIABLES`, cleans
the time tags, averages onto a cadence and merges the products.
"""

import os
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cdflib
import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.cdf import normalize_units, read_cdf
from planetml_lib.io.cef import is_cef, parse_cef
from planetml_lib.io.cef_writer import write_cef
from planetml_lib.io.tables import error_reason

#: Earth radius used for positions (km).
R_E_KM = 6371.2
#: Output variables: name -> (units, long name). Field and position in GSE.
CLUSTER_VARIABLES = {
    "bx": ("nT", "magnetic field x component, GSE"),
    "by": ("nT", "magnetic field y component, GSE"),
    "bz": ("nT", "magnetic field z component, GSE"),
    "b_mag": ("nT", "magnetic field magnitude"),
    "x_gse": ("R_E", "spacecraft position x, GSE"),
    "y_gse": ("R_E", "spacecraft position y, GSE"),
    "z_gse": ("R_E", "spacecraft position z, GSE"),
    "density": ("cm^-3", "ion number density"),
    "vx": ("km/s", "ion bulk velocity x component, GSE"),
    "vy": ("km/s", "ion bulk velocity y component, GSE"),
    "vz": ("km/s", "ion bulk velocity z component, GSE"),
    "temperature": ("MK", "ion temperature"),
}
#: Unit spellings of the archives (lower case) -> ours; then factors to the units of CLUSTER_VARIABLES.
_UNITS = {"nt": "nT", "km": "km", "particles cm^-3": "cm^-3", "particles/cm^3": "cm^-3", "cm^-3": "cm^-3",
          "1/cm^3": "cm^-3", "km s^-1": "km/s", "km/s": "km/s", "mk": "MK", "k": "K"}
_FACTORS = {("km", "R_E"): 1 / R_E_KM, ("K", "MK"): 1e-6}
_CDF_MAGIC = (b"\xcd\xf3\x00\x01", b"\xcd\xf2\x60\x02", b"\x00\x00\xff\xff")


@dataclass(frozen=True)
class ClusterProduct:
    """A CSA product: dataset ids it covers and its variables' stems -> our names.

    Attributes
    ----------
    kind : {"field", "plasma"}
    pattern : str
        Regular expression of the dataset id; group ``sc`` is the spacecraft.
    variables : dict
        Variable stem (the name before ``__<DATASET_ID>``) -> our names, one per component.
    """

    kind: str
    pattern: str
    variables: dict


PRODUCTS = (
    ClusterProduct("field", r"(?P<sc>C[1-4])_CP_FGM_(SPIN|5VPS|FULL)",
                   {"B_vec_xyz_gse": ("bx", "by", "bz"), "B_mag": ("b_mag",),
                    "sc_pos_xyz_gse": ("x_gse", "y_gse", "z_gse")}),
    ClusterProduct("plasma", r"(?P<sc>C[1-4])_CP_CIS-HIA_ONBOARD_MOMENTS",
                   {"density": ("density",), "velocity_gse": ("vx", "vy", "vz"), "temperature": ("temperature",)}),
)
_MMS_FIELD = re.compile(r"(?P<sc>mms[1-4])_fgm_b_gse_(?P<mode>brst|srvy|fast|slow)_l2")


@dataclass(frozen=True)
class _Part:
    """One product read from one file, on its native times, in our names and units."""

    dataset_id: str
    spacecraft: str
    file_format: str
    data: xr.Dataset


def _file_format(path: Path) -> str:
    """ "CDF" or "CEF-2.0" from the file's first bytes, else a DataFormatError."""
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    with path.open("rb") as stream:
        head = stream.read(4)
    if head in _CDF_MAGIC:
        return "CDF"
    if head[:2] == b"\x1f\x8b" or is_cef(path):  # gzip: parse_cef reports a damaged one
        return "CEF-2.0"
    raise DataFormatError(f"{path}: neither a CDF nor a CEF-2.0 file (starts with {head!r})")


def _cdf_names(path: Path) -> list[str]:
    try:
        with cdflib.CDF(path) as cdf:
            info = cdf.cdf_info()
    except (OSError, ValueError, EOFError, IndexError, KeyError, struct.error, zlib.error) as err:
        raise DataFormatError(f"{path}: damaged or truncated CDF file ({error_reason(err)})") from None
    return list(info.zVariables) + list(info.rVariables)


def _to_ours(ds: xr.Dataset, units: dict[str, str], path: Path) -> xr.Dataset:
    """Convert each variable from its file units (``units``: our name -> file's units) to CLUSTER_VARIABLES."""
    for name in ds.data_vars:
        found = normalize_units(units[name])
        found = _UNITS.get(found.lower(), found)
        expected = CLUSTER_VARIABLES[name][0]
        if found != expected and (found, expected) not in _FACTORS:
            raise DataFormatError(f"{path}: variable for '{name}' has units {units[name]!r}, expected {expected!r}")
        ds[name] = ds[name] * _FACTORS.get((found, expected), 1.0)
    return ds


def _cef_parts(path: Path) -> list[_Part]:
    cef = parse_cef(path)
    parts = []
    for product, dataset_id, spacecraft in _match(list(cef.values), path):
        data, units = {}, {}
        for stem, targets in product.variables.items():
            name = f"{stem}__{dataset_id}"
            values = cef.values[name].reshape(len(cef.values[cef.time]), -1)
            if values.dtype.kind != "f":
                raise DataFormatError(f"{path}: variable '{name}' is not numeric (VALUE_TYPE "
                                      f"{cef.header.variables[name].get('VALUE_TYPE')})")
            if values.shape[1] != len(targets):
                raise DataFormatError(f"{path}: variable '{name}' has {values.shape[1]} component(s), "
                                      f"expected {len(targets)}")
            for column, target in enumerate(targets):
                data[target] = ("time", values[:, column])
                units[target] = str(cef.header.variables[name].get("UNITS", ""))
        ds = xr.Dataset(data, coords={"time": cef.values[cef.time]})
        parts.append(_Part(dataset_id, spacecraft, "CEF-2.0", _to_ours(ds, units, path)))
    return parts


def _cdf_parts(path: Path) -> list[_Part]:
    names = _cdf_names(path)
    mms = [match for name in names if (match := _MMS_FIELD.fullmatch(name))]
    if mms:
        return [_mms_part(path, mms[0], names)]
    parts = []
    for product, dataset_id, spacecraft in _match(names, path):
        wanted = {f"{stem}__{dataset_id}": targets for stem, targets in product.variables.items()}
        ds = read_cdf(path, wanted)
        units = {name: var.attrs["units"] for name, var in ds.data_vars.items()}
        parts.append(_Part(dataset_id, spacecraft, "CDF", _to_ours(ds, units, path)))
    return parts


def _mms_part(path: Path, match: re.Match, names: list[str]) -> _Part:
    """MMS FGM L2: B (bx, by, bz, |B|) on Epoch; the position (x, y, z, |r|) on Epoch_state, interpolated."""
    sc, mode = match.group("sc"), match.group("mode")
    position_name = f"{sc}_fgm_r_gse_{mode}_l2"
    if position_name not in names:
        raise DataFormatError(f"{path}: MMS FGM file lacks the position '{position_name}'; found {names}")
    field = read_cdf(path, {match.group(0): ("bx", "by", "bz", "b_mag")})
    position = read_cdf(path, {position_name: ("x_gse", "y_gse", "z_gse", "r_gse")})
    position = position.dropna("time", subset=["x_gse", "y_gse", "z_gse"])
    units = {name: var.attrs["units"] for ds in (field, position) for name, var in ds.data_vars.items()}
    inside = (field["time"] >= position["time"][0]) & (field["time"] <= position["time"][-1])
    at = field["time"].values.astype("int64")
    for name in ("x_gse", "y_gse", "z_gse"):
        values = np.interp(at, position["time"].values.astype("int64"), position[name].values)
        field[name] = ("time", np.where(inside, values, np.nan))
    return _Part(f"{sc}_fgm_{mode}_l2", sc.upper(), "CDF", _to_ours(field, units, path))


def _match(names: Sequence[str], path: Path) -> list[tuple[ClusterProduct, str, str]]:
    """(product, dataset id, spacecraft) of each PRODUCTS entry whose variables the file holds."""
    ids = sorted({name.rsplit("__", 1)[1] for name in names if "__" in name})
    found = []
    for product in PRODUCTS:
        for dataset_id in ids:
            match = re.fullmatch(product.pattern, dataset_id)
            if match is None:
                continue
            missing = [f"{stem}__{dataset_id}" for stem in product.variables if f"{stem}__{dataset_id}" not in names]
            if missing:
                raise DataFormatError(f"{path}: {dataset_id} lacks variable(s) {missing}; found {list(names)}")
            found.append((product, dataset_id, match.group("sc")))
    if not found:
        looked = [f"{stem}__{product.pattern.replace('(?P<sc>C[1-4])', 'C?')}"
                  for product in PRODUCTS for stem in product.variables]
        raise DataFormatError(f"{path}: holds neither magnetic field nor plasma moments; looked for {looked} "
                              f"or mms?_fgm_b_gse_<mode>_l2; found {list(names)}")
    return found


def _read_parts(path: Path) -> list[_Part]:
    return _cdf_parts(path) if _file_format(path) == "CDF" else _cef_parts(path)


def _clean(ds: xr.Dataset, cadence: str | None) -> xr.Dataset:
    """Sort the times (stable), drop repeated times (the first kept), then average onto ``cadence``."""
    ds = ds.isel(time=np.argsort(ds["time"].values, kind="stable"))
    ds = ds.isel(time=~pd.Index(ds["time"].values).duplicated())
    return ds if cadence is None else ds.resample(time=cadence, origin="epoch").mean()


def _combine(parts: list[_Part], cadence: str | None) -> xr.Dataset:
    """Join each dataset's files in time, clean them and merge the datasets, refusing two that overlap."""
    groups = {}
    for part in parts:
        groups.setdefault(part.dataset_id, []).append(part.data)
    seen, cleaned = {}, []
    for dataset_id, pieces in groups.items():
        ds = _clean(xr.concat(pieces, dim="time"), cadence)
        for name in ds.data_vars:
            if name in seen:
                raise PlanetMLError(f"{seen[name]} and {dataset_id} both provide '{name}'; pass only one of them")
            seen[name] = dataset_id
        cleaned.append(ds)
    ds = xr.merge(cleaned, join="outer", compat="no_conflicts")
    if cadence is not None and ds.sizes["time"]:
        grid = pd.date_range(ds["time"].values[0], ds["time"].values[-1], freq=cadence)
        ds = ds.reindex(time=grid)
    return ds


def _check_cadence(cadence: str | None) -> None:
    if cadence is None:
        return
    try:
        step = pd.Timedelta(cadence)
    except ValueError:
        step = None
    if step is None or step <= pd.Timedelta(0):
        raise PlanetMLError(f"cadence={cadence!r} is not a positive fixed frequency such as '60s'")


def read_cluster(paths: str | os.PathLike | Sequence[str | os.PathLike], cadence: str | None = "60s") -> xr.Dataset:
    """Read Cluster Science Archive FGM and CIS-HIA files (CEF-2.0 or CDF) of one spacecraft as one Dataset.

    Recognised per file (CEF, ``.cef.gz`` or CDF, detected from the content):
    FGM ``C?_CP_FGM_SPIN``, ``_5VPS`` or ``_FULL`` (``B_vec_xyz_gse``,
    ``B_mag``, ``sc_pos_xyz_gse``), CIS-HIA ``C?_CP_CIS-HIA_ONBOARD_MOMENTS``
    (``density``, ``velocity_gse``, ``temperature``; ``pressure`` is not
    read), each as ``<stem>__<DATASET_ID>`` on ``time_tags__<DATASET_ID>``
    (ISO times in CEF, CDF_EPOCH in the CSA's CDF); and MMS FGM L2 CDFs
    (``mms?_fgm_b_gse_<mode>_l2``: bx, by, bz, |B| on ``Epoch``; the
    position ``mms?_fgm_r_gse_<mode>_l2`` on ``Epoch_state``, interpolated
    linearly onto ``Epoch``, NaN outside its span). Fill values become NaN.
    Files of one dataset are joined in time; times are sorted and repeated
    times dropped (the first kept); each dataset is averaged onto
    ``cadence`` (the mean of its samples in each bin, NaN for an empty bin,
    bins labelled by their start and aligned to 1970-01-01), and the
    datasets are merged on a regular grid covering them all.

    Parameters
    ----------
    paths : path or sequence of paths
        Files of one spacecraft.
    cadence : str or None
        Bin width as a fixed pandas frequency ("60s", "4s"); None keeps the
        native times (the union of the datasets' time tags).

    Returns
    -------
    xarray.Dataset
        Dimension ``time`` (datetime64[ns], naive UTC, sorted, unique);
        those of :data:`CLUSTER_VARIABLES` the files provide: bx, by, bz,
        b_mag (nT, GSE), x_gse, y_gse, z_gse (R_E = 6371.2 km), density
        (cm^-3), vx, vy, vz (km/s, GSE), temperature (MK), each with attrs
        ``units`` and ``long_name``. Variables no file provides are absent,
        not NaN. ``ds.attrs``: ``spacecraft`` ("C1".."C4", "MMS1".."MMS4"),
        ``frame`` ("GSE"), ``source`` (archive, formats and dataset ids,
        e.g. "Cluster Science Archive CEF-2.0: C1_CP_FGM_SPIN,
        C1_CP_CIS-HIA_ONBOARD_MOMENTS"), ``missing`` (the absent variables,
        comma-separated, "" when none) and ``cadence`` (``cadence`` or
        "native").

    Raises
    ------
    PlanetMLError
        If ``paths`` is empty, ``cadence`` is not a fixed frequency, a file is
        missing, is neither CDF nor CEF-2.0, is damaged or truncated, holds
        neither field nor moments (the message names the variables looked
        for), lacks a variable of its product or has unexpected units, the
        files come from different spacecraft, or two datasets provide the
        same variable.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, pandas as pd
    >>> from planetml_lib.io.cef_writer import write_cef
    >>> time = pd.date_range("2003-02-12T10:00:02", periods=30, freq="4s")
    >>> path = write_cef({"time": time, "B_vec_xyz_gse": (np.tile([1.0, 2.0, 3.0], (30, 1)), "nT"),
    ...                   "B_mag": (np.full(30, 3.74), "nT"),
    ...                   "sc_pos_xyz_gse": (np.tile([6371.2e1, 0, 0], (30, 1)), "km")},
    ...                  pathlib.Path(tempfile.mkdtemp()) / "C1_CP_FGM_SPIN.cef", "C1_CP_FGM_SPIN")
    >>> ds = read_cluster(path)
    >>> ds.sizes["time"], float(ds["x_gse"][0]), ds.attrs["spacecraft"], ds.attrs["missing"]
    (2, 10.0, 'C1', 'density, vx, vy, vz, temperature')
    """
    paths = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if not paths:
        raise PlanetMLError("read_cluster needs at least one CEF or CDF file")
    _check_cadence(cadence)
    parts = [part for path in paths for part in _read_parts(path)]
    spacecraft = sorted({part.spacecraft for part in parts})
    if len(spacecraft) > 1:
        raise PlanetMLError(f"files come from different spacecraft {spacecraft}; read them separately")
    ds = _combine(parts, cadence)
    ds = ds[[name for name in CLUSTER_VARIABLES if name in ds]]
    for name in ds.data_vars:
        ds[name].attrs = {"units": CLUSTER_VARIABLES[name][0], "long_name": CLUSTER_VARIABLES[name][1]}
    archive = "MMS Science Data Center" if spacecraft[0].startswith("MMS") else "Cluster Science Archive"
    formats = " and ".join(sorted({part.file_format for part in parts}))
    ds.attrs = {
        "spacecraft": spacecraft[0],
        "frame": "GSE",
        "source": f"{archive} {formats}: {', '.join(dict.fromkeys(part.dataset_id for part in parts))}",
        "missing": ", ".join(name for name in CLUSTER_VARIABLES if name not in ds),
        "cadence": cadence or "native",
    }
    return ds


def _stack(ds, names):
    """Variables ``names`` of ``ds`` as the columns of one (time, k) float32 array (written with 7 digits, as
    the archive's FLOAT variables are)."""
    return np.column_stack([ds[name].values for name in names]).astype(np.float32)


def write_cluster_cef(ds, folder):
    """Write a series in :data:`CLUSTER_VARIABLES` as the CSA products :func:`read_cluster` reads: FGM spin
    resolution and CIS-HIA onboard moments of ``ds.attrs["spacecraft"]`` (C1-C4), CEF-2.0 each with its
    ``.ceh`` header, in ``folder``; returns the two ``.cef`` paths. Positions go back to km, temperature stays MK."""
    spacecraft = ds.attrs.get("spacecraft", "")
    if not re.fullmatch(r"C[1-4]", str(spacecraft)):
        raise PlanetMLError(f"write_cluster_cef: spacecraft must be C1-C4, got {spacecraft!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    time = ds["time"].values
    field = {"time": time, "B_vec_xyz_gse": (_stack(ds, ("bx", "by", "bz")), "nT"),
             "B_mag": (_stack(ds, ("b_mag",))[:, 0], "nT"),
             "sc_pos_xyz_gse": (_stack(ds, ("x_gse", "y_gse", "z_gse")) * R_E_KM, "km")}
    moments = {"time": time, "density": (_stack(ds, ("density",))[:, 0], "particles cm^-3"),
               "velocity_gse": (_stack(ds, ("vx", "vy", "vz")), "km s^-1"),
               "temperature": (_stack(ds, ("temperature",))[:, 0], "MK")}
    return [write_cef(values, folder / f"{dataset}__{pd.Timestamp(time[0]):%Y%m%d_%H%M%S}_V01.cef", dataset)
            for dataset, values in ((f"{spacecraft}_CP_FGM_SPIN", field),
                                    (f"{spacecraft}_CP_CIS-HIA_ONBOARD_MOMENTS", moments))]
