"""Readers of reflectance spectra: the spectra contract ``(sample, wavelength)`` with units.

Every reader returns an ``xarray.Dataset`` with

* ``reflectance (sample, wavelength)``: reflectance as the file gives it (unitless; NaN where a
  point is missing), and ``error (sample, wavelength)`` where the file has uncertainties;
* ``wavelength`` in nm (attribute ``units``), in the file's order (sorting, merging duplicates
  and resampling are :mod:`planetml_lib.preprocess.spectra`'s job);
* one coordinate along ``sample`` per metadata or label column (``SampleID``, ``OL_vol``, ...).

Formats: the table layout of the RELAB and asteroid compilations (metadata columns, then one
``R<nm>`` column per wavelength), a JSON spectrum (``wavelength``, ``reflectance``, optional
``error`` and ``abundances``), two- or three-column ASCII (wavelength, reflectance, error)
in nm or µm, told apart by the values (:func:`wavelength_in_nm`), and ENVI spectral libraries
(``.sli`` + ``.hdr``, read by Spectral Python).
"""

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.tables import error_reason, read_table

#: Reflectance columns of the table layout: ``R`` and the wavelength in nm.
REFLECTANCE_COLUMN = re.compile(r"^R(\d+(?:\.\d+)?)$")
#: Wavelengths below this are taken as µm (VNIR spectra in nm start above 200).
MICROMETRE_LIMIT = 30.0
#: The wavelengths (nm) a reflectance spectrum of this library may span: 0.1-100 µm.
WAVELENGTH_RANGE_NM = (100.0, 100_000.0)
#: How a text file may write a missing point.
MISSING_TEXT = ["nan", "NaN", "NAN", "null", "NA"]
#: The largest reflectance taken as one (percent of a bright, normalised spectrum is far below).
MAX_REFLECTANCE = 10_000.0
#: Points a spectrum needs to be one.
MIN_POINTS = 3


def wavelength_in_nm(values, source) -> tuple[np.ndarray, str]:
    """Wavelengths in nm, and the unit they were read in ("nm" or "um").

    Values all below :data:`MICROMETRE_LIMIT` are µm (0.45-2.45 µm is 450-2450 nm); anything
    else outside :data:`WAVELENGTH_RANGE_NM` after that is refused, naming ``source``.
    """
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).all():
        raise DataFormatError(f"{source}: wavelengths must all be numbers; found missing or infinite values")
    unit = "um" if np.nanmax(values) < MICROMETRE_LIMIT else "nm"
    nm = np.round(values * 1000.0, 6) if unit == "um" else values  # 0.47 µm is 470 nm, not 469.99999
    low, high = WAVELENGTH_RANGE_NM
    if nm.min() < low or nm.max() > high:
        raise DataFormatError(f"{source}: wavelengths {values.min():g}-{values.max():g} are neither nm nor µm "
                              f"of a reflectance spectrum ({low:g}-{high:g} nm)")
    return nm, unit


def spectra_dataset(wavelength_nm, reflectance, metadata: pd.DataFrame, source, error=None,
                    unit_read="nm") -> xr.Dataset:
    """The spectra contract from arrays: ``reflectance`` and ``error`` of shape (sample, wavelength)."""
    reflectance = np.atleast_2d(np.asarray(reflectance, dtype=float))
    if np.nanmax(np.abs(reflectance), initial=0.0) > MAX_REFLECTANCE or np.isinf(reflectance).any():
        raise DataFormatError(f"{source}: values up to {np.nanmax(np.abs(reflectance)):.3g} are not reflectances "
                              "(a damaged file, or a wrong data type or byte order?)")
    if reflectance.shape[1] < MIN_POINTS:
        raise DataFormatError(f"{source}: a spectrum needs at least {MIN_POINTS} points; found "
                              f"{reflectance.shape[1]}")
    coords = {"wavelength": ("wavelength", np.asarray(wavelength_nm, dtype=float),
                             {"units": "nm", "long_name": "wavelength", "unit_in_file": unit_read})}
    coords |= {str(name): ("sample", metadata[name].to_numpy()) for name in metadata.columns}
    ds = xr.Dataset({"reflectance": (("sample", "wavelength"), reflectance,
                                     {"units": "1", "long_name": "reflectance"})}, coords=coords)
    if error is not None:
        ds["error"] = (("sample", "wavelength"), np.atleast_2d(np.asarray(error, dtype=float)),
                       {"units": "1", "long_name": "reflectance uncertainty (1 sigma)"})
    ds.attrs["source"] = str(source)
    return ds


def _refuse_empty_spectra(reflectance: np.ndarray, lines, source):
    """Raise naming the first line whose spectrum has no value (a cut or damaged row)."""
    empty = ~np.isfinite(reflectance).any(axis=1)
    if empty.any():
        raise DataFormatError(f"{source}: line {lines[int(np.argmax(empty))]} has no reflectance value "
                              "(a damaged or truncated file?)")


def read_spectra_csv(path: str | os.PathLike) -> xr.Dataset:
    """Spectra in the table layout: metadata columns, then reflectance columns ``R<nm>``.

    Empty cells are missing values (unknown labels, missing points). Label columns
    (``OL_vol``, ``taxonomy_class``, ...) come back as coordinates along ``sample``.
    """
    path = Path(path)
    table = read_table(path, [])
    columns = {name: REFLECTANCE_COLUMN.match(str(name)) for name in table.columns}
    spectral = [name for name, match in columns.items() if match]
    if len(spectral) < MIN_POINTS:
        raise DataFormatError(f"{path}: expected reflectance columns named R<wavelength in nm> (R450, R455, ...); "
                              f"found {[str(c) for c in table.columns][:8]}")
    values = table[spectral].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & table[spectral].notna()
    if bad.any().any():
        line, column = bad.any(axis=1).idxmax(), bad.columns[bad.any(axis=0)][0]
        raise DataFormatError(f"{path}: line {line}, column {column}: not a number ({table.at[line, column]!r})")
    reflectance = values.to_numpy(dtype=float)
    _refuse_empty_spectra(reflectance, table.index, path)
    wavelength, unit = wavelength_in_nm([float(columns[name].group(1)) for name in spectral], path)
    metadata = table.drop(columns=spectral).reset_index(drop=True)
    return spectra_dataset(wavelength, reflectance, metadata, path, unit_read=unit)


def _json_spectrum(record, source, index):
    """(wavelength, reflectance, error or None, metadata dict) of one JSON spectrum."""
    if not isinstance(record, dict) or "wavelength" not in record or "reflectance" not in record:
        raise DataFormatError(f"{source}: spectrum {index} needs 'wavelength' and 'reflectance' lists")
    try:
        wavelength = np.asarray(record["wavelength"], dtype=float)
        reflectance = np.asarray([np.nan if v is None else v for v in record["reflectance"]], dtype=float)
        error = (None if record.get("error") is None
                 else np.asarray([np.nan if v is None else v for v in record["error"]], dtype=float))
    except (TypeError, ValueError) as err:
        raise DataFormatError(f"{source}: spectrum {index}: values must be numbers ({err})") from err
    lengths = {len(wavelength), len(reflectance)} | ({len(error)} if error is not None else set())
    if wavelength.ndim != 1 or len(lengths) != 1:
        raise DataFormatError(f"{source}: spectrum {index}: 'wavelength', 'reflectance' (and 'error') must be lists "
                              "of one length")
    metadata = {key: value for key, value in record.items()
                if key not in ("wavelength", "reflectance", "error", "abundances")}
    abundances = record.get("abundances") or {}
    if not isinstance(abundances, dict):
        raise DataFormatError(f"{source}: spectrum {index}: 'abundances' must map mineral names to fractions")
    return wavelength, reflectance, error, metadata | abundances


def read_spectrum_json(path: str | os.PathLike) -> xr.Dataset:
    """One JSON spectrum (an object) or several on one wavelength grid (a list of objects).

    Keys: ``wavelength`` (nm or µm), ``reflectance``, optional ``error`` (both may hold
    ``null`` for a missing point), optional ``abundances`` (``{"OL_vol": 0.6, ...}``); any
    other key (``SampleID``, ...) becomes a coordinate along ``sample``.
    """
    path = Path(path)
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    try:
        content = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataFormatError(f"{path}: not a JSON spectrum ({error_reason(err)})") from err
    records = content if isinstance(content, list) else [content]
    if not records:
        raise DataFormatError(f"{path}: no spectrum in the file")
    spectra = [_json_spectrum(record, path, i) for i, record in enumerate(records)]
    grid = spectra[0][0]
    if any(len(s[0]) != len(grid) or not np.array_equal(s[0], grid) for s in spectra[1:]):
        raise DataFormatError(f"{path}: the spectra of one file must share one wavelength grid")
    errors = [s[2] for s in spectra]
    if any(e is None for e in errors) and not all(e is None for e in errors):
        raise DataFormatError(f"{path}: give 'error' for every spectrum of the file or for none")
    reflectance = np.stack([s[1] for s in spectra])
    _refuse_empty_spectra(reflectance, [f"of spectrum {i}" for i in range(len(spectra))], path)
    wavelength, unit = wavelength_in_nm(grid, path)
    return spectra_dataset(wavelength, reflectance, pd.DataFrame([s[3] for s in spectra]), path,
                           error=None if errors[0] is None else np.stack(errors), unit_read=unit)


def read_spectrum_ascii(path: str | os.PathLike) -> xr.Dataset:
    """A two- or three-column text spectrum: wavelength (nm or µm), reflectance, optional error.

    Columns are separated by blanks, tabs or commas; lines starting with ``#`` and one
    header line of names are skipped. The spectrum's name is the file's stem.
    """
    path = Path(path)
    table = read_table(path, [], sep=r"[\s,;]+", comment="#", header=None, engine="python", first_line=1,
                       keep_default_na=False, dtype=str)
    if len(table) and pd.to_numeric(table.iloc[0], errors="coerce").isna().all():
        table = table.iloc[1:]  # a header line of names
    if table.shape[1] not in (2, 3):
        raise DataFormatError(f"{path}: expected 2 or 3 columns (wavelength, reflectance[, error]); "
                              f"found {table.shape[1]}")
    cut = table.isna().any(axis=1)  # a field absent, not written as NaN: a row cut short
    if cut.any():
        raise DataFormatError(f"{path}: line {cut.idxmax()} has {table.loc[cut.idxmax()].notna().sum()} of "
                              f"{table.shape[1]} fields (a damaged or truncated file?)")
    values = table.apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & ~table.isin(MISSING_TEXT)
    if bad.any().any():
        line = bad.any(axis=1).idxmax()
        raise DataFormatError(f"{path}: line {line}: not a number ({' '.join(table.loc[line])!r})")
    reflectance = values.iloc[:, 1].to_numpy(dtype=float)[None]
    _refuse_empty_spectra(reflectance, [f"{values.index[0]} on"], path)
    wavelength, unit = wavelength_in_nm(values.iloc[:, 0], path)
    error = values.iloc[:, 2].to_numpy(dtype=float)[None] if values.shape[1] == 3 else None
    return spectra_dataset(wavelength, reflectance, pd.DataFrame({"SpectrumID": [path.stem]}), path,
                           error=error, unit_read=unit)


def _envi_pair(path: Path) -> tuple[Path, Path]:
    """(header, data file) of an ENVI spectral library given either of them."""
    if path.suffix.lower() == ".hdr":
        return path, path.with_suffix(".sli")
    for header in (path.with_suffix(".hdr"), path.with_name(path.name + ".hdr")):
        if header.is_file():
            return header, path
    raise PlanetMLError(f"{path}: no ENVI header ({path.with_suffix('.hdr').name}) beside it")


def read_envi_library(path: str | os.PathLike) -> xr.Dataset:
    """An ENVI spectral library (binary ``.sli`` and its ``.hdr`` header), read by Spectral Python.

    ``path`` is either file. Wavelengths are µm or nm, told from the values as for every format
    (headers often omit ``wavelength units``); ``spectra names`` become ``SpectrumID``.
    """
    from spectral.io import envi  # imported here: only this reader needs Spectral Python

    path = Path(path)
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    header, data = _envi_pair(path)
    if not data.is_file():
        raise PlanetMLError(f"{data}: the data file of {header.name} is missing")
    try:
        library = envi.open(str(header), str(data))
        spectra = np.asarray(library.spectra, dtype=float)
    except (envi.EnviException, OSError, ValueError, UnicodeDecodeError, KeyError, IndexError) as err:
        raise DataFormatError(f"{path}: not a readable ENVI spectral library ({error_reason(err)})") from err
    if not isinstance(library, envi.SpectralLibrary):
        raise DataFormatError(f"{path}: an ENVI image, not a spectral library (file type "
                              f"{library.metadata.get('file type')!r})")
    centers = library.bands.centers
    if not centers or len(centers) != spectra.shape[1]:
        raise DataFormatError(f"{header}: the header gives no wavelength for each of the {spectra.shape[1]} bands")
    wavelength, unit = wavelength_in_nm(centers, path)
    names = list(library.names) if library.names else [f"{path.stem}_{i}" for i in range(len(spectra))]
    _refuse_empty_spectra(spectra, [f"of spectrum {name}" for name in names], path)
    return spectra_dataset(wavelength, spectra, pd.DataFrame({"SpectrumID": names}), path, unit_read=unit)


#: Suffix -> reader of :func:`read_spectra`.
READERS = {".csv": read_spectra_csv, ".json": read_spectrum_json, ".txt": read_spectrum_ascii,
           ".asc": read_spectrum_ascii, ".dat": read_spectrum_ascii, ".tab": read_spectrum_ascii,
           ".sli": read_envi_library, ".hdr": read_envi_library}


def read_spectra(path: str | os.PathLike) -> xr.Dataset:
    """Any of the spectrum formats above, chosen by the file's suffix."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise PlanetMLError(f"{path}: unknown spectrum format {path.suffix!r}; use one of {sorted(READERS)}")
    return reader(path)
