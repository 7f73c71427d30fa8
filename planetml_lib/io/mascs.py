"""Reader for MESSENGER MASCS VIRS DDR spectra (PDS3 binary tables) as the spectra contract.

The PDS data set MESS-E/V/H-MASCS-4-VIRS-DDR-V2.0 (Geosciences node; McClintock and Lankton
2007) holds one product per observation and detector: ``virsvd_*.dat`` (VIS, 512 channel
slots) or ``virsnd_*.dat`` (NIR, 256), each a fixed-length big-endian binary table of one row
per spectrum, described by a detached PDS3 label (``.lbl``) whose ``^STRUCTURE`` points to a
format file (``VIRSVD.FMT`` or ``VIRSND.FMT``) kept beside the label or in the volume's
``label/`` folder. Label and format file are parsed with pdr's PDS3 parser; the records are
read with a numpy structured dtype built from the format file (``START_BYTE``, ``BYTES``,
``DATA_TYPE``, ``ITEMS``). Archive file names and the names in labels may differ in case.
"""

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from pdr.parselabel.pds3 import parse_pvl

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.spectra import MAX_REFLECTANCE, WAVELENGTH_RANGE_NM
from planetml_lib.io.tables import error_reason

#: Values of this size or larger are fills (1e32 invalid, -1e32 missing in the DDR).
FILL_ABOVE = 1e30
#: Spectral columns: Dataset variable -> (DDR column, long name).
SPECTRA = {
    "reflectance": ("PHOTOM_IOF_SPECTRUM_DATA", "photometrically normalised reflectance I/F"),
    "iof": ("IOF_SPECTRUM_DATA", "reflectance-at-sensor I/F"),
    "reflectance_noise": ("PHOTOM_IOF_NOISE_SPECTRUM_DATA", "noise of the photometrically normalised I/F"),
}
#: Coordinates along ``sample`` from geometry columns: name -> (DDR column, units, long name).
GEOMETRY = {
    "lat": ("TARGET_LATITUDE_SET", "degrees_north", "latitude of the footprint centre"),
    "lon": ("TARGET_LONGITUDE_SET", "degrees_east", "east longitude of the footprint centre, 0-360"),
    "incidence": ("INCIDENCE_ANGLE", "deg", "solar incidence angle at the footprint centre"),
    "emission": ("EMISSION_ANGLE", "deg", "emission angle at the footprint centre"),
    "phase": ("PHASE_ANGLE", "deg", "phase angle at the footprint centre"),
}
_OTHER = ("CHANNEL_WAVELENGTHS", "SPECTRUM_UTC_TIME", "SPECTRUM_NUMBER", "DATA_QUALITY_INDEX")
REQUIRED = (*(column for column, _ in SPECTRA.values()), *(column for column, _, _ in GEOMETRY.values()), *_OTHER)
#: PDS3 DATA_TYPE -> numpy kind and byte order.
_TYPES = {
    "MSB_UNSIGNED_INTEGER": ">u", "UNSIGNED_INTEGER": ">u", "SUN_UNSIGNED_INTEGER": ">u",
    "MSB_INTEGER": ">i", "INTEGER": ">i", "SUN_INTEGER": ">i",
    "LSB_UNSIGNED_INTEGER": "<u", "PC_UNSIGNED_INTEGER": "<u", "LSB_INTEGER": "<i", "PC_INTEGER": "<i",
    "IEEE_REAL": ">f", "REAL": ">f", "FLOAT": ">f", "SUN_REAL": ">f", "PC_REAL": "<f",
    "CHARACTER": "S", "ASCII": "S",
}
#: SPECTRUM_UTC_TIME, right-aligned "YYDOYTHH:MM:SS" with optional fraction of a second.
_UTC = re.compile(r"^(\d{2})(\d{3})T(\d{2}):(\d{2}):(\d{2}(?:\.\d*)?)$")
_DETECTORS = {"VIRSDVIS": "VIS", "VIRSDNIR": "NIR", "VIRSVD": "VIS", "VIRSND": "NIR"}
#: The start of a PDS3 label: PDS_VERSION_ID, after an optional SFDU label line.
_PDS3_START = re.compile(r"\s*(CCSD\w*\s*=\s*SFDU_LABEL\s*)?PDS_VERSION_ID\b")


def _find(folder: Path, name: str) -> Path | None:
    """The file ``name`` in ``folder``, matched case-insensitively; None if absent."""
    exact = folder / name
    if exact.is_file():
        return exact
    try:
        return next((p for p in folder.iterdir() if p.name.lower() == name.lower() and p.is_file()), None)
    except OSError:
        return None


def _text(path: Path, what: str) -> str:
    """A label or format file as text; one-line errors for a missing, empty or unreadable one."""
    if not path.is_file():
        raise PlanetMLError(f"{path}: {what} not found")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataFormatError(f"{path}: cannot read ({error_reason(err)})") from None
    if not data.strip():
        raise DataFormatError(f"{path}: empty file")
    return data.decode("ascii", errors="replace")


def _is_label(path: Path) -> bool:
    """True for a ``.lbl`` name, or a file that starts like a PDS3 label."""
    if path.suffix.lower() == ".lbl":
        return True
    try:
        with open(path, "rb") as stream:
            head = stream.read(200).decode("ascii", errors="replace")
    except OSError as err:
        raise DataFormatError(f"{path}: cannot read ({error_reason(err)})") from None
    return _PDS3_START.match(head) is not None


def _product_files(path: Path) -> tuple[Path, Path | None]:
    """(label, the data file the user gave or None) for a ``.lbl`` or a data path."""
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataFormatError(f"{path}: empty file")
    if _is_label(path):
        return path, None
    label = _find(path.parent, f"{path.stem}.lbl")
    if label is None:
        raise PlanetMLError(f"{path}: PDS3 label not found beside it (looked for {path.stem}.lbl in {path.parent})")
    return label, path


def _parse(path: Path, what: str):
    """pdr's PDS3 parse of a label or format file; any failure, or an OBJECT left open, as one line."""
    text = _text(path, what)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parsed = parse_pvl(text)[0]
    except Exception as err:  # pdr raises many kinds on garbled text
        raise DataFormatError(f"{path}: cannot parse as a PDS3 {what} ({error_reason(err)})") from None
    if any("Leftover aggregations" in str(warning.message) for warning in caught):
        raise DataFormatError(f"{path}: an OBJECT without its END_OBJECT in this PDS3 {what} (a truncated file?)")
    return parsed


def _label(path: Path):
    """The parsed label, checked to be a complete PDS3 label with a TABLE."""
    text = _text(path, "PDS3 label")
    if not _PDS3_START.match(text):
        raise DataFormatError(f"{path}: not a PDS3 label (it does not start with PDS_VERSION_ID)")
    if not re.search(r"^\s*END\s*$", text, re.MULTILINE):
        raise DataFormatError(f"{path}: PDS3 label without its END line (a truncated label?)")
    label = _parse(path, "label")
    if not hasattr(label.get("TABLE"), "getall") or "^TABLE" not in label:
        raise DataFormatError(f"{path}: the PDS3 label has no TABLE object and ^TABLE pointer: not a MASCS VIRS "
                              f"DDR product")
    return label


def _integer(block, key: str, source) -> int:
    value = block.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise DataFormatError(f"{source}: {key} = {value!r}, expected a positive integer")
    return value


def _structure_folders(folder: Path):
    """The label's folder, then the ``label/`` folders in it and in each of its parents."""
    yield folder
    for parent in (folder, *folder.parents):
        yield from (parent / name for name in ("label", "LABEL") if (parent / name).is_dir())


def _structure_file(label_path: Path, name: str) -> Path:
    """The ``^STRUCTURE`` file: in the label's folder, else in a ``label/`` folder of it or a parent."""
    found = next((path for folder in _structure_folders(label_path.parent) if (path := _find(folder, name))), None)
    if found is None:
        raise DataFormatError(f"{label_path}: structure file {name} (^STRUCTURE) not found in "
                              f"{label_path.parent} or a label/ folder above it")
    return found


def _columns(label_path: Path, table) -> tuple[dict, str]:
    """Column name -> its COLUMN object, from the TABLE and its ``^STRUCTURE``; and where they came from."""
    columns = {column.get("NAME"): column for column in table.getall("COLUMN", [])}
    source = label_path
    if "^STRUCTURE" in table:
        structure = _structure_file(label_path, str(table["^STRUCTURE"]))
        columns |= {column.get("NAME"): column for column in _parse(structure, "format file").getall("COLUMN", [])}
        source = structure
        if not columns:
            raise DataFormatError(f"{structure}: no COLUMN objects (not a PDS3 format file?)")
    if "PHOTOM_IOF_SPECTRUM_DATA" not in columns:
        raise DataFormatError(f"{label_path}: not a MASCS VIRS DDR product (no PHOTOM_IOF_SPECTRUM_DATA column in "
                              f"{source})")
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise DataFormatError(f"{label_path}: MASCS VIRS DDR columns {missing} missing from {source}")
    return columns, source


def _field(column, row_bytes: int, source) -> tuple[str, int, int | None]:
    """(numpy format, byte offset, items or None) of one COLUMN, checked against the row length."""
    name, kind = column.get("NAME"), str(column.get("DATA_TYPE", "")).upper()
    start, size = column.get("START_BYTE"), column.get("BYTES")
    items = column.get("ITEMS")
    whole = isinstance(size, int) and isinstance(items or 1, int) and (items or 1) > 0
    item_bytes = column.get("ITEM_BYTES", size // (items or 1) if whole else 0)
    if kind not in _TYPES or not all(isinstance(v, int) and v > 0 for v in (start, size, items or 1, item_bytes)):
        raise DataFormatError(f"{source}: column {name}: unsupported DATA_TYPE {kind!r} or bad "
                              "START_BYTE/BYTES/ITEMS/ITEM_BYTES")
    if start < 1 or start - 1 + size > row_bytes or item_bytes * (items or 1) != size:
        raise DataFormatError(f"{source}: column {name} (START_BYTE {start}, BYTES {size}, ITEMS {items}) does not "
                              f"fit a row of {row_bytes} bytes (the label's ROW_BYTES)")
    return f"{_TYPES[kind]}{item_bytes}", start - 1, items


def _dtype(columns: dict, row_bytes: int, source) -> np.dtype:
    """Structured dtype of the rows, holding the REQUIRED columns (``(items,)`` subarrays where ITEMS)."""
    fields = {name: _field(columns[name], row_bytes, source) for name in REQUIRED}
    channels = {name: fields[name][2] for name in ("CHANNEL_WAVELENGTHS", *(c for c, _ in SPECTRA.values()))}
    if None in channels.values() or len(set(channels.values())) != 1:
        raise DataFormatError(f"{source}: the spectra and CHANNEL_WAVELENGTHS must have one number of ITEMS; "
                              f"found {channels}")
    try:
        return np.dtype({"names": list(fields), "offsets": [offset for _, offset, _ in fields.values()],
                         "formats": [(fmt, (items,)) if items else fmt for fmt, _, items in fields.values()],
                         "itemsize": row_bytes})
    except (TypeError, ValueError) as err:
        raise DataFormatError(f"{source}: cannot make the row layout ({error_reason(err)})") from None


def _data_file(label_path: Path, label, given: Path | None) -> tuple[Path, int]:
    """(data file: ``given``, else the one ``^TABLE`` names beside the label; byte offset of the table).
    ``^TABLE`` is a file name or (file name, first record)."""
    pointer = label["^TABLE"]
    name, record = pointer, 1
    if isinstance(pointer, list | tuple) and len(pointer) == 2:
        name, record = pointer
    if not isinstance(name, str) or not isinstance(record, int) or record < 1:
        raise DataFormatError(f"{label_path}: ^TABLE = {pointer!r}: expected a data file name (a detached table)")
    found = given or _find(label_path.parent, name)
    if found is None:
        raise PlanetMLError(f"{label_path}: data file {name} (^TABLE) not found in {label_path.parent}")
    return found, (record - 1) * label.get("RECORD_BYTES", 0)


def _rows(path: Path, offset: int, n_rows: int, dtype: np.dtype) -> np.ndarray:
    """The table's records, refusing an empty, short (truncated) or long file."""
    size = path.stat().st_size
    if size == 0:
        raise DataFormatError(f"{path}: empty file")
    expected = offset + n_rows * dtype.itemsize
    if size != expected:
        problem = "truncated binary table" if size < expected else "longer than its label says"
        raise DataFormatError(f"{path}: {problem}: expected {n_rows} rows x {dtype.itemsize} bytes = {expected} "
                              f"bytes, found {size} bytes ({(size - offset) // dtype.itemsize} whole rows)")
    return np.fromfile(path, dtype=dtype, count=n_rows, offset=offset)


def _filled(values: np.ndarray) -> np.ndarray:
    """float64 copy with fills (|value| >= :data:`FILL_ABOVE`) as NaN."""
    values = values.astype(np.float64)
    values[~(np.abs(values) < FILL_ABOVE)] = np.nan
    return values


def _wavelength(rows: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(wavelength in nm, index of those channels) - channels with a wavelength, sorted ascending.

    Channels beyond the detector window (wavelength a fill) are left out; every row must carry
    the same wavelengths."""
    table = _filled(rows["CHANNEL_WAVELENGTHS"])
    differs = ~((table == table[0]) | (np.isnan(table) & np.isnan(table[0]))).all(axis=1)
    if differs.any():
        raise DataFormatError(f"{path}: CHANNEL_WAVELENGTHS of row {int(np.argmax(differs)) + 1} differ from row 1's: "
                              "read the product's rows separately")
    channels = np.flatnonzero(np.isfinite(table[0]))
    low, high = WAVELENGTH_RANGE_NM
    if not channels.size or table[0, channels].min() < low or table[0, channels].max() > high:
        found = "none" if not channels.size else f"{table[0, channels].min():g}-{table[0, channels].max():g} nm"
        raise DataFormatError(f"{path}: CHANNEL_WAVELENGTHS {found} are not wavelengths in nm (a damaged file?)")
    channels = channels[np.argsort(table[0, channels], kind="stable")]
    return table[0, channels], channels


def _times(rows: np.ndarray, path: Path) -> np.ndarray:
    """SPECTRUM_UTC_TIME ("13051T14:37:21" = 2013, day 51) as datetime64[ns]."""
    text = np.char.strip(np.char.decode(rows["SPECTRUM_UTC_TIME"], "ascii", errors="replace"))
    parts = pd.Series(text).str.extract(_UTC).astype(float)  # year, day, hour, minute, second; NaN: no match
    year, day, hour, minute, second = (parts[i].to_numpy() for i in range(5))
    with np.errstate(invalid="ignore"):
        bad = parts.isna().any(axis=1).to_numpy() | (day < 1) | (day > 366) | (hour > 23) | (minute > 59) \
            | (second >= 61)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataFormatError(f"{path}: row {row + 1}: SPECTRUM_UTC_TIME {text[row]!r} is not YYDOYTHH:MM:SS")
    years = (2000 + year.astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[ns]")
    seconds = (day - 1) * 86400 + hour * 3600 + minute * 60 + second
    return years + np.round(seconds * 1e6).astype("timedelta64[us]").astype("timedelta64[ns]")


def _spectra(rows: np.ndarray, channels: np.ndarray, path: Path) -> dict:
    """The spectral variables (sample, wavelength), float32, fills as NaN, checked to be reflectances."""
    data = {}
    for name, (column, long_name) in SPECTRA.items():
        values = _filled(rows[column])[:, channels]
        if np.nanmax(np.abs(values), initial=0.0) > MAX_REFLECTANCE:
            raise DataFormatError(f"{path}: {column} values up to {np.nanmax(np.abs(values)):.3g} are not "
                                  "reflectances (a damaged file, or a wrong format file?)")
        data[name] = (("sample", "wavelength"), values.astype(np.float32), {"units": "1", "long_name": long_name,
                                                                              "pds_column": column})
    return data


def _sample_coords(rows: np.ndarray, path: Path) -> dict:
    """Coordinates along ``sample``: time, geometry of the footprint centre, quality, spectrum number."""
    coords = {"time": ("sample", _times(rows, path), {"long_name": "UTC at the spectrum (SPECTRUM_UTC_TIME)"})}
    for name, (column, units, long_name) in GEOMETRY.items():
        values = _filled(rows[column])
        values = values[:, 0] if values.ndim == 2 else values  # *_SET: centre, then the four edges
        coords[name] = ("sample", values % 360.0 if name == "lon" else values, {"units": units, "long_name": long_name})
    quality = np.char.strip(np.char.decode(rows["DATA_QUALITY_INDEX"], "ascii", errors="replace"))
    coords["quality"] = ("sample", quality.astype(str), {"long_name": "DATA_QUALITY_INDEX (ABCD-EFGH-IJKL-MNOP)"})
    coords["spectrum_number"] = ("sample", rows["SPECTRUM_NUMBER"].astype(np.int64),
                                 {"long_name": "spectrum number in the observation"})
    return coords


def _detector(label) -> str:
    """"VIS" or "NIR" from STANDARD_DATA_PRODUCT_ID (VIRSDVIS, VIRSDNIR), else the product id's prefix."""
    for key in (str(label.get("STANDARD_DATA_PRODUCT_ID", "")), str(label.get("PRODUCT_ID", ""))[:6]):
        if key.upper() in _DETECTORS:
            return _DETECTORS[key.upper()]
    return "unknown"


def read_mascs_virs(path: str | os.PathLike) -> xr.Dataset:
    """Read a MESSENGER MASCS VIRS DDR product (VIS ``virsvd_*`` or NIR ``virsnd_*``) as spectra.

    Parameters
    ----------
    path : str or os.PathLike
        The product's PDS3 label (``.lbl``) or its data file (``.dat``, the label beside it).
        The data file named by ``^TABLE`` is found beside the label, the ``^STRUCTURE`` format
        file (``VIRSVD.FMT``) beside the label or in a ``label/`` folder of the label's folder or
        of a parent (the volume's); names are matched case-insensitively.

    Returns
    -------
    xarray.Dataset
        Dimensions ``(sample, wavelength)``, one sample per spectrum (row) in file order.
        Variables, float32, units "1", fills (|value| >= 1e30) as NaN: ``reflectance``
        (PHOTOM_IOF_SPECTRUM_DATA, photometrically normalised I/F), ``iof``
        (IOF_SPECTRUM_DATA) and ``reflectance_noise`` (PHOTOM_IOF_NOISE_SPECTRUM_DATA).
        Coordinate ``wavelength`` (nm, ascending, from CHANNEL_WAVELENGTHS; the channel slots
        without a wavelength - VIS products store 512 slots, of which the detector window fills
        fewer - are left out). Coordinates on ``sample``: ``time`` (datetime64[ns], UTC),
        ``lat``, ``lon`` (footprint centre, degrees north and east 0-360), ``incidence``,
        ``emission``, ``phase`` (deg, NaN where missing), ``quality`` (DATA_QUALITY_INDEX str)
        and ``spectrum_number``. ``attrs``: ``spacecraft`` "MESSENGER", ``instrument``
        "MASCS VIRS", ``detector`` ("VIS" or "NIR"), ``product_id``, ``data_set_id``,
        ``target`` "Mercury", ``source`` (data file name) and ``label`` (label file name).

    Raises
    ------
    PlanetMLError
        One line naming the file: a missing file, label, format file or data file; a file that
        is empty, not a PDS3 label or a garbled one; a product that is not a MASCS VIRS DDR (no
        PHOTOM_IOF_SPECTRUM_DATA column); a data file shorter or longer than ROWS x ROW_BYTES;
        rows with different wavelengths; values that are not times, wavelengths or reflectances.

    Examples
    --------
    A product as on the PDS volume (not run here)::

        ds = read_mascs_virs("messmas_2101/data/ddr/ob2/virs/mascs20130220/vis/virsvd_ob2_13051_143720.lbl")
        ds["reflectance"].sel(wavelength=700, method="nearest").median()
    """
    label_path, given = _product_files(Path(path))
    label = _label(label_path)
    table = label["TABLE"]
    n_rows, row_bytes = _integer(table, "ROWS", label_path), _integer(table, "ROW_BYTES", label_path)
    columns, source = _columns(label_path, table)
    dtype = _dtype(columns, row_bytes, source)
    data_path, offset = _data_file(label_path, label, given)
    rows = _rows(data_path, offset, n_rows, dtype)
    wavelength, channels = _wavelength(rows, data_path)
    coords = {"wavelength": ("wavelength", wavelength, {"units": "nm", "long_name": "wavelength"}),
              **_sample_coords(rows, data_path)}
    attrs = {"spacecraft": "MESSENGER", "instrument": "MASCS VIRS", "detector": _detector(label),
             "product_id": str(label.get("PRODUCT_ID", "")), "data_set_id": str(label.get("DATA_SET_ID", "")),
             "target": "Mercury", "source": data_path.name, "label": label_path.name}
    return xr.Dataset(_spectra(rows, channels, data_path), coords=coords, attrs=attrs)
