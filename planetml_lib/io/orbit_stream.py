"""MESSENGER magnetometer files read orbit by orbit: archives (days to years of files) in flat memory.

The files are put in time order by their first rows and read one at a time; their samples are
numbered by the shipped orbit table (:func:`~planetml_lib.datasets.load_messenger_orbits`,
apoapsis to apoapsis; samples before the first orbit count to it, samples in the table's gaps to
the orbit before). Each orbit is given back once a later orbit has begun, so about one file and
one orbit are held at a time whatever the number of files. A file is the unit of reading: one file
holding years of rows is read whole.
"""

import os
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.datasets import load_messenger_orbits
from planetml_lib.io.messenger_csv import TIME, is_messenger_csv

#: Files that all start within this span are few enough to read into one Dataset.
IN_MEMORY_SPAN = pd.Timedelta(days=7)


def orbit_numbers(time, orbits: pd.DataFrame | None = None) -> np.ndarray:
    """The orbit number of each time in ``orbits`` (the orbit table; the shipped one by default)."""
    orbits = load_messenger_orbits() if orbits is None else orbits
    index = np.searchsorted(orbits["start"].to_numpy("datetime64[ns]"), np.asarray(time, "datetime64[ns]"), "right")
    return orbits["orbit"].to_numpy()[np.clip(index - 1, 0, None)]


def iter_orbits(ds: xr.Dataset, align: str | None = None) -> Iterator[xr.Dataset]:
    """The orbits of a time-sorted ``ds`` (by its ``orbit`` coordinate) one by one.

    With ``align`` (a cadence such as "10s") each bin of that grid goes whole to the orbit of its
    first sample, so that averaging an orbit onto the grid never splits a bin between two orbits.

    Examples
    --------
    >>> time = pd.date_range("2012-01-01", periods=6, freq="5s")
    >>> ds = xr.Dataset(coords={"time": time, "orbit": ("time", [1, 1, 1, 2, 2, 2])})
    >>> [part["orbit"].values.tolist() for part in iter_orbits(ds, "10s")]
    [[1, 1, 1, 1], [2, 2]]
    """
    orbit = ds["orbit"].values
    if align and orbit.size:
        bins = pd.DatetimeIndex(ds["time"].values).floor(align).asi8
        opens = np.concatenate([[True], bins[1:] != bins[:-1]])
        orbit = orbit[np.maximum.accumulate(np.where(opens, np.arange(orbit.size), 0))]
    bounds = np.concatenate([[0], np.flatnonzero(orbit[1:] != orbit[:-1]) + 1, [orbit.size]])
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        if last > first:
            yield ds.isel(time=slice(first, last)).assign_coords(orbit=("time", orbit[first:last]))


def first_time(path: str | os.PathLike, reader: Callable) -> pd.Timestamp:
    """The time of a file's first row, read from that row alone (PDS table or digitised CSV).

    A first row that does not parse is left to ``reader``, which names the file and the fault in one line.
    """
    try:
        if is_messenger_csv(path):
            return pd.Timestamp(pd.read_csv(path, nrows=1, usecols=[TIME])[TIME].iloc[0])
        year, day, hour, minute, second = pd.read_csv(path, sep=r"\s+", header=None, nrows=1,
                                                      usecols=range(5)).iloc[0]
        return (pd.Timestamp(year=int(year), month=1, day=1)
                + pd.Timedelta(days=day - 1, hours=hour, minutes=minute, seconds=second))
    except (ValueError, TypeError, OSError, EOFError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return pd.Timestamp(reader([path])["time"].values[0])


def _source(paths: Sequence) -> str:
    """The files' names for messages, the first and last of a long list."""
    names = [os.path.basename(path) for path in paths]
    return ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]} ({len(names)} files)"


class OrbitStream:
    """Magnetometer files of one layout, given back orbit by orbit in time order (:meth:`orbits`).

    Parameters
    ----------
    paths : sequence of path-like
        Files in any order; they are sorted by their first rows (:func:`first_time`).
    reader : callable
        ``reader([path])`` -> a time-series Dataset (``read_messenger_mag`` or ``read_messenger_csv``).

    Attributes
    ----------
    paths, starts : list
        The files in time order and the times of their first rows.
    attrs : dict
        ``source``: the files' names (shortened), for messages.
    """

    def __init__(self, paths: Sequence, reader: Callable):
        starts = [first_time(path, reader) for path in paths]
        order = np.argsort(np.array(starts, dtype="datetime64[ns]"), kind="stable")
        self.paths = [paths[i] for i in order]
        self.starts = [starts[i] for i in order]
        self.reader = reader
        self.attrs = {"source": _source(self.paths)}

    def span(self) -> pd.Timedelta:
        """From the first file's start to the last file's."""
        return self.starts[-1] - self.starts[0]

    def expected_orbits(self) -> int:
        """Orbits of the table from the first file's start to the last file's estimated end (its start
        plus the median spacing of the starts): the total of a progress bar."""
        spacing = pd.Series(self.starts).diff().median() if len(self.starts) > 1 else pd.Timedelta(0)
        first, last = orbit_numbers([self.starts[0], self.starts[-1] + spacing])
        orbits = load_messenger_orbits()["orbit"]
        return int(orbits.between(first, last).sum())

    def orbits(self, align: str | None = None) -> Iterator[xr.Dataset]:
        """Each orbit's samples as a Dataset with an ``orbit`` coordinate, in time order, the partial
        orbits at the ends included; ``align``: see :func:`iter_orbits`. Rows of a file earlier than
        the orbits already given back (files overlapping by a few seconds) are left out. Reads the
        files again on every call."""
        table = load_messenger_orbits()
        buffer, done = None, pd.Timestamp.min.to_datetime64()
        for path in self.paths:
            ds = self.reader([path])
            ds = ds.assign_coords(orbit=("time", orbit_numbers(ds["time"].values, table)))
            ds = ds.isel(time=ds["time"].values > done)
            if buffer is not None:
                ds = xr.concat([buffer, ds], "time", combine_attrs="override").drop_duplicates("time").sortby("time")
            parts = list(iter_orbits(ds, align))
            yield from parts[:-1]
            done = parts[-2]["time"].values[-1] if len(parts) > 1 else done
            buffer = parts[-1]
        yield buffer
