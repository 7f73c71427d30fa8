"""Reader for ESA Cluster Exchange Format files (CEF-2.0), as served by the Cluster Science Archive.

A CEF-2.0 file is ASCII: a header of ``KEYWORD = value`` lines (``!`` starts
a comment, a line ending in ``\\`` continues on the next), then data records.
The header may ``INCLUDE = "name.ceh"`` header files from the same folder
(recursively); it holds global keywords (``FILE_NAME``,
``FILE_FORMAT_VERSION = "CEF-2.0"``, ``END_OF_RECORD_MARKER``,
``DATA_UNTIL``), ``START_META = NAME`` ... ``ENTRY = ...`` ...
``END_META = NAME`` blocks and ``START_VARIABLE = name`` ...
``END_VARIABLE = name`` blocks describing the variables (``VALUE_TYPE``,
``SIZES``, ``FILLVAL``, ``UNITS``, ``CATDESC``, ``FIELDNAM``, ``DEPEND_0``,
or ``DATA`` for a constant that is not in the records). Each record holds
the values of every record-varying variable, in header order, separated by
commas; it ends with the end-of-record marker (and may then span lines) or,
without a marker, with the line. The data end at ``DATA_UNTIL`` (a line
holding that text) or, for ``DATA_UNTIL = EOF`` or none, at the end of the
file. Keywords are case-insensitive.

:func:`parse_cef` returns the header and the record values as arrays;
:func:`read_cef` returns the time-series contract (an ``xarray.Dataset`` on
``time``). The matching writer is :func:`planetml_lib.io.cef_writer.write_cef`.
"""

import gzip
import math
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.tables import error_reason

#: Value types read as numbers (float64, fills as NaN).
NUMERIC_TYPES = ("FLOAT", "DOUBLE", "INT", "BYTE")
_KEYWORD_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_BLOCKS = {"START_META": "END_META", "START_VARIABLE": "END_VARIABLE"}
_CLUSTER_ID = re.compile(r"^(C[1-4])_")


@dataclass
class CefHeader:
    """The header of a CEF file with its included header files.

    Attributes
    ----------
    keywords : dict
        Global keywords (upper case) -> value: a str, or a list of str for a comma-separated list.
    metadata : dict
        ``START_META`` block name -> its ``ENTRY`` values.
    variables : dict
        ``START_VARIABLE`` name -> its keywords (upper case) -> value, in header order.
    """

    keywords: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CefFile:
    """A parsed CEF file: header, the time variable's name and the record values.

    Attributes
    ----------
    header : CefHeader
    time : str
        Name of the ISO_TIME variable the others depend on (``DEPEND_0``).
    values : dict
        Record-varying variable -> array with one row per record: (n,) or
        (n, n_components); datetime64[ns] (naive UTC, NaT at fills) for
        ISO_TIME, float64 (NaN at fills) for FLOAT, DOUBLE, INT and BYTE,
        str otherwise. Records whose time is a fill are dropped; the file's
        order is kept.
    """

    header: CefHeader
    time: str
    values: dict


def _strip_comment(line: str) -> str:
    """The line without its ``!`` comment (a ``!`` inside double quotes is kept)."""
    if "!" not in line:
        return line
    quoted = False
    for position, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "!" and not quoted:
            return line[:position]
    return line


def _split(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside double quotes."""
    if '"' not in text:
        return text.split(separator)
    parts, current, quoted = [], [], False
    for char in text:
        quoted = not quoted if char == '"' else quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    return [*parts, "".join(current)]


def _value(text: str) -> str | list[str]:
    """A header value: one str, or a list of str for a comma-separated list; quotes removed."""
    items = [item.strip().strip('"') for item in _split(text, ",")]
    return items[0] if len(items) == 1 else items


def _logical_lines(lines: list[str], start: int):
    """Yield (line number, text without comment) from ``start``, joining lines that end in a backslash."""
    pending, first = "", None
    for number, line in enumerate(lines[start:], start + 1):
        text = _strip_comment(line).rstrip()
        first = number if first is None else first
        if text.endswith("\\"):
            pending += text[:-1]
            continue
        yield first, pending + text
        pending, first = "", None


def _read_text(path: Path) -> str:
    """The whole file as text (gzip when the name ends in .gz), one-line errors for unreadable files."""
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="ascii", errors="replace") as stream:
                return stream.read()
        return path.read_text(encoding="ascii", errors="replace")
    except (OSError, EOFError, zlib.error) as err:
        raise DataFormatError(f"{path}: cannot read ({error_reason(err)}; truncated or damaged file?)") from None


def is_cef(path: str | os.PathLike) -> bool:
    """True if the file (plain or .gz) starts, after blank and ``!`` comment lines, with ``KEYWORD = value``.

    Only the first 64 KiB are read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.cef"
    >>> _ = path.write_text('! a comment\\nFILE_FORMAT_VERSION = "CEF-2.0"\\n')
    >>> is_cef(path)
    True
    """
    path = Path(path)
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as stream:
            head = stream.read(65536).decode("ascii", errors="replace")
    except (OSError, EOFError, zlib.error):
        return False
    for _, text in _logical_lines(head.splitlines(), 0):
        if text.strip():
            return bool(_KEYWORD_LINE.match(text))
    return False


@dataclass
class _Block:
    kind: str  # "START_META" or "START_VARIABLE"
    name: str
    where: str


def _parse_header(lines: list[str], path: Path, header: CefHeader, seen: tuple[str, ...]) -> int:
    """Parse header lines of ``path`` into ``header``; return the index of the first data line."""
    block = None
    for number, text in _logical_lines(lines, 0):
        if not text.strip():
            continue
        match = _KEYWORD_LINE.match(text)
        if match is None:
            if seen:  # an included header file holds no data
                raise DataFormatError(f"{path}, line {number}: not a KEYWORD = value line: {text.strip()[:60]!r}")
            _close_check(block, path)
            return number - 1
        key, value = match.group(1).upper(), _value(match.group(2))
        block = _header_line(header, block, key, value, (path, number), seen)
        if key == "DATA_UNTIL" and block is None and not seen:
            return number
    _close_check(block, path)
    return len(lines)


def _close_check(block: _Block | None, path: Path) -> None:
    if block is not None:
        raise DataFormatError(f"{block.where}: {block.kind} = {block.name} is never closed by "
                              f"{_BLOCKS[block.kind]} (truncated header?) in {path.name}")


def _header_line(header: CefHeader, block: _Block | None, key: str, value, line: tuple, seen) -> _Block | None:
    """Apply one ``KEY = value`` line (``line``: file and line number); return the block open after it."""
    where = f"{line[0]}, line {line[1]}"
    if key in _BLOCKS:
        if block is not None:
            raise DataFormatError(f"{where}: {key} = {value} inside the open {block.kind} = {block.name}")
        if key == "START_META":
            header.metadata[value] = []
        else:
            header.variables[value] = {}
        return _Block(key, value, where)
    if key in _BLOCKS.values():
        if block is None or _BLOCKS[block.kind] != key or block.name != value:
            opened = f"{block.kind} = {block.name}" if block else "no open block"
            raise DataFormatError(f"{where}: {key} = {value} does not close {opened}")
        return None
    if key == "INCLUDE" and block is None:
        _include(header, str(value), line[0], seen)
    elif block is None:
        header.keywords[key] = value
    elif block.kind == "START_VARIABLE":
        header.variables[block.name][key] = value
    elif key == "ENTRY":
        header.metadata[block.name].extend(value if isinstance(value, list) else [value])
    return block


def _include(header: CefHeader, name: str, including: Path, seen: tuple[str, ...]) -> None:
    """Parse an INCLUDEd header file, looked for in the folder of the including file."""
    path = including.parent / name
    if not path.is_file():
        raise DataFormatError(f"{including}: INCLUDE = \"{name}\" not found (looked in {including.parent})")
    if name in seen:
        raise DataFormatError(f"{including}: INCLUDE = \"{name}\" includes itself ({' -> '.join(seen)})")
    _parse_header(_read_text(path).splitlines(), path, header, (*seen, name))


def _records(lines: list[str], header: CefHeader, path: Path) -> list[list[str]]:
    """Split the data lines into records of stripped value strings."""
    until = str(header.keywords.get("DATA_UNTIL", "EOF"))
    text = [text for _, text in _logical_lines(lines, 0)]
    if until.upper() != "EOF":
        ends = [i for i, line in enumerate(text) if line.strip().startswith(until)]
        if not ends:
            raise DataFormatError(f"{path}: end-of-data line {until!r} (DATA_UNTIL) not found: truncated file?")
        text = text[: ends[0]]
    marker = str(header.keywords.get("END_OF_RECORD_MARKER", ""))
    if marker:
        pieces = _split("\n".join(text), marker)
        if pieces[-1].strip():
            raise DataFormatError(f"{path}: record {len(pieces)} ({pieces[-1].strip()[:40]!r}) does not end with "
                                  f"the end-of-record marker {marker!r}: truncated record")
        pieces = pieces[:-1]
    else:
        pieces = text
    return [[value.strip() for value in _split(piece.replace("\n", " "), ",")] for piece in pieces if piece.strip()]


def _width(name: str, attrs: dict, path: Path) -> int:
    """Number of values of a variable in each record (the product of its SIZES)."""
    sizes = attrs.get("SIZES", "1")
    try:
        return math.prod(int(size) for size in (sizes if isinstance(sizes, list) else [sizes]))
    except ValueError:
        raise DataFormatError(f"{path}: variable '{name}' has SIZES = {sizes!r}, expected integers") from None


def _fill(attrs: dict) -> str | None:
    """The variable's fill value as text (``FILLVAL``, or ``FILL_VALUE``)."""
    fill = attrs.get("FILLVAL", attrs.get("FILL_VALUE"))
    return None if fill is None or isinstance(fill, list) else fill


def _times(cells: np.ndarray, name: str, fill: str | None, path: Path) -> np.ndarray:
    """ISO times -> datetime64[ns] naive UTC; NaT at fills (FILLVAL or year 9999) and empty cells."""
    flat = cells.ravel()
    missing = (flat == "") | np.char.startswith(flat.astype(str), "9999")
    if fill is not None:
        missing |= flat == fill
    times = pd.to_datetime(pd.Series(np.where(missing, None, flat)), format="ISO8601", utc=True, errors="coerce")
    bad = times.isna().to_numpy() & ~missing
    if bad.any():
        first = int(np.argmax(bad))
        raise DataFormatError(f"{path}: variable '{name}' has a bad ISO time {str(flat[first])!r} "
                              f"in record {first // max(cells[0].size, 1) + 1}")
    return times.dt.tz_localize(None).to_numpy("datetime64[ns]").reshape(cells.shape)


def _numbers(cells: np.ndarray, name: str, fill: str | None, path: Path) -> np.ndarray:
    """Numbers -> float64; NaN at the fill value and empty cells."""
    flat = cells.ravel()
    numbers = pd.to_numeric(pd.Series(flat), errors="coerce").to_numpy("float64")
    bad = np.isnan(numbers) & (flat != "") & (np.char.lower(flat.astype(str)) != "nan")
    if bad.any():
        first = int(np.argmax(bad))
        raise DataFormatError(f"{path}: variable '{name}' has a non-numeric value {str(flat[first])!r} "
                              f"in record {first // max(cells[0].size, 1) + 1}")
    try:
        fill = np.nan if fill is None else float(fill)
    except ValueError:
        raise DataFormatError(f"{path}: variable '{name}' has a non-numeric FILLVAL {fill!r}") from None
    return np.where(numbers == fill, np.nan, numbers).reshape(cells.shape)


def _convert(cells: np.ndarray, name: str, attrs: dict, path: Path) -> np.ndarray:
    """Convert a variable's (n, width) cells by VALUE_TYPE; (n,) when width is 1."""
    kind = str(attrs.get("VALUE_TYPE", "")).upper()
    if kind == "ISO_TIME":
        values = _times(cells, name, _fill(attrs), path)
    elif kind in NUMERIC_TYPES:
        values = _numbers(cells, name, _fill(attrs), path)
    else:
        values = np.char.strip(cells.astype(str), '"')
    return values[:, 0] if values.shape[1] == 1 else values


def _time_variable(header: CefHeader, varying: list[str], path: Path) -> str:
    """The ``DEPEND_0`` of the first variable having one, else the first ISO_TIME variable."""
    depends = [attrs["DEPEND_0"] for name, attrs in header.variables.items() if name in varying and "DEPEND_0" in attrs]
    times = [name for name in varying if str(header.variables[name].get("VALUE_TYPE", "")).upper() == "ISO_TIME"]
    name = depends[0] if depends else (times[0] if times else None)
    if name not in times:
        raise DataFormatError(f"{path}: no record-varying ISO_TIME variable for the time axis "
                              f"(DEPEND_0 = {name!r}); variables {varying}")
    return name


def _check_version(header: CefHeader, path: Path) -> None:
    version = header.keywords.get("FILE_FORMAT_VERSION")
    if version is None or not str(version).upper().startswith("CEF-2"):
        found = "no FILE_FORMAT_VERSION" if version is None else f"FILE_FORMAT_VERSION = {version!r}"
        raise DataFormatError(f"{path}: not a CEF-2.0 file ({found})")
    if not header.variables:
        raise DataFormatError(f"{path}: CEF header declares no variable (START_VARIABLE)")


def parse_cef(path: str | os.PathLike) -> CefFile:
    """Parse a CEF-2.0 file (plain or .gz) and its INCLUDEd headers into arrays.

    Parameters
    ----------
    path : str or os.PathLike
        ``.cef`` or ``.cef.gz`` file; included ``.ceh`` files are looked for
        in its folder.

    Returns
    -------
    CefFile
        Header, name of the time variable and one array per record-varying
        variable (see :class:`CefFile`).

    Raises
    ------
    PlanetMLError
        If the file is missing. :class:`DataFormatError` if it is not CEF-2.0,
        an INCLUDE is missing (the message names it and the folder searched),
        a block is not closed, a record is truncated or has the wrong number
        of values, or a value cannot be read as its VALUE_TYPE.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.cef"
    >>> _ = path.write_text('FILE_FORMAT_VERSION = "CEF-2.0"\\nEND_OF_RECORD_MARKER = "$"\\n'
    ...     'START_VARIABLE = t\\n VALUE_TYPE = ISO_TIME\\nEND_VARIABLE = t\\n'
    ...     'START_VARIABLE = b\\n VALUE_TYPE = FLOAT\\n SIZES = 3\\n DEPEND_0 = t\\n FILLVAL = -1e31\\n'
    ...     'END_VARIABLE = b\\n'
    ...     '2003-02-12T10:00:02.000Z, 1.5, -1e31, 3 $\\n')
    >>> cef = parse_cef(path)
    >>> cef.time, cef.values["b"].shape, cef.values["b"][0, 1]
    ('t', (1, 3), np.float64(nan))
    """
    path = Path(path)
    lines = _read_text(path).splitlines()
    header = CefHeader()
    start = _parse_header(lines, path, header, ())
    _check_version(header, path)
    varying = [name for name, attrs in header.variables.items() if "DATA" not in attrs]
    widths = [_width(name, header.variables[name], path) for name in varying]
    records = _records(lines[start:], header, path)
    for number, record in enumerate(records, 1):
        if len(record) != sum(widths):
            raise DataFormatError(f"{path}: record {number} ({', '.join(record)[:40]!r}) has {len(record)} values, "
                                  f"expected {sum(widths)} for {varying}: truncated or damaged record")
    cells = np.array(records, dtype=str).reshape(len(records), sum(widths))
    edges = np.cumsum([0, *widths])
    values = {name: _convert(cells[:, edges[i]:edges[i + 1]], name, header.variables[name], path)
              for i, name in enumerate(varying)}
    time = _time_variable(header, varying, path)
    keep = ~np.isnat(values[time])
    return CefFile(header, time, {name: array[keep] for name, array in values.items()})


def _component_labels(attrs: dict, width: int) -> list[str]:
    """``REPRESENTATION_1`` labels when there is one per component (x, y, z), else 0..width-1."""
    labels = attrs.get("REPRESENTATION_1")
    if isinstance(labels, list) and len(labels) == width and all(re.fullmatch(r"\w+", label) for label in labels):
        return labels
    return [str(i) for i in range(width)]


def dataset_id(cef: CefFile) -> str:
    """The CEF file's dataset id: the ``DATASET_ID`` metadata entry, else the ``__`` suffix of the time variable."""
    entries = cef.header.metadata.get("DATASET_ID") or []
    return entries[0] if entries else (cef.time.split("__")[1] if "__" in cef.time else "")


def read_cef(path: str | os.PathLike) -> xr.Dataset:
    """Read a CEF-2.0 file (plain or .gz, with its INCLUDEd ``.ceh`` headers) as a time-series Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        ``.cef`` or ``.cef.gz`` file.

    Returns
    -------
    xarray.Dataset
        Dimension ``time`` (n,) datetime64[ns], naive UTC, from the ISO_TIME
        variable the others depend on; sorted (stable, so repeated times keep
        the file's order; nothing is dropped or filled). One variable per
        other record-varying variable, under its CEF name; a variable of
        ``SIZES`` k > 1 (a vector) becomes k variables ``<name>_<label>``,
        labels from ``REPRESENTATION_1`` ("x", "y", "z" in CSA vectors) or
        0..k-1. Numbers are float64 with ``FILLVAL`` as NaN; CHAR values are
        str. attrs: ``units`` (``UNITS``, "" when absent), ``long_name``
        (``CATDESC``, else ``FIELDNAM``), ``cef_variable``. ``ds.attrs``:
        ``dataset_id``, ``spacecraft`` ("C1".."C4" from a Cluster dataset id,
        else "unknown"), ``frame`` ("unknown"), ``source`` (file name) and
        ``file_format_version``. Constant variables (``DATA`` in the header)
        are not returned.

    Raises
    ------
    PlanetMLError
        See :func:`parse_cef`.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from planetml_lib.io.cef_writer import write_cef
    >>> time = pd.date_range("2003-02-12T10:00:02", periods=3, freq="4s")
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> path = write_cef({"time": time, "B_mag": ([5.0, float("nan"), 7.0], "nT")},
    ...                  folder / "C1_CP_FGM_SPIN.cef", "C1_CP_FGM_SPIN")
    >>> ds = read_cef(path)
    >>> ds["B_mag__C1_CP_FGM_SPIN"].values.tolist(), ds.attrs["spacecraft"]
    ([5.0, nan, 7.0], 'C1')
    """
    cef = parse_cef(path)
    order = np.argsort(cef.values[cef.time], kind="stable")
    data = {}
    for name, values in cef.values.items():
        if name == cef.time:
            continue
        attrs = cef.header.variables[name]
        var_attrs = {"units": str(attrs.get("UNITS", "")), "cef_variable": name,
                     "long_name": str(attrs.get("CATDESC") or attrs.get("FIELDNAM") or name)}
        columns = values.reshape(values.shape[0], -1)[order]
        if values.ndim == 1:
            data[name] = xr.Variable("time", columns[:, 0], var_attrs)
            continue
        for column, label in enumerate(_component_labels(attrs, columns.shape[1])):
            data[f"{name}_{label}"] = xr.Variable("time", columns[:, column], {**var_attrs, "component": label})
    ident = dataset_id(cef)
    match = _CLUSTER_ID.match(ident)
    attrs = {"dataset_id": ident, "spacecraft": match.group(1) if match else "unknown", "frame": "unknown",
             "source": Path(path).name, "file_format_version": str(cef.header.keywords["FILE_FORMAT_VERSION"])}
    return xr.Dataset(data, coords={"time": cef.values[cef.time][order]}, attrs=attrs)
