"""Tests for planetml_lib.io.orbit_stream on SIMULATED orbits written as PDS day tables."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planetml_lib.datasets import load_catalog, load_messenger_orbits
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.orbit_stream import OrbitStream, first_time, iter_orbits, orbit_numbers
from planetml_lib.io.pds import read_messenger_mag
from planetml_lib.io.pds_writer import write_messenger_mag
from planetml_lib.simulate import simulate_orbits

ORBITS = [1500, 1501, 1502, 1503, 1504, 1505]  # 8-h orbits, 2012-12-06..08: three day files


@pytest.fixture(scope="module")
def simulated():
    return simulate_orbits(ORBITS, load_catalog("philpott2020"), "60s").drop_vars("region")


@pytest.fixture(scope="module")
def day_files(simulated, tmp_path_factory):
    return write_messenger_mag(simulated, tmp_path_factory.mktemp("days"))


def test_orbit_numbers_follow_the_orbit_table():
    table = load_messenger_orbits()
    start = table.loc[table["orbit"] == 1500, "start"].iloc[0]
    times = [start - pd.Timedelta("1s"), start, table["start"].iloc[0] - pd.Timedelta("1D")]
    assert orbit_numbers(times).tolist() == [1499, 1500, table["orbit"].iloc[0]]


def test_a_bin_of_the_model_grid_stays_whole_in_one_orbit():
    start = load_messenger_orbits().set_index("orbit").loc[1500, "start"]  # 8 s past a 10-s bin
    time = pd.date_range(start - pd.Timedelta("30s"), start + pd.Timedelta("30s"), freq="1s")
    ds = xr.Dataset(coords={"time": time, "orbit": ("time", orbit_numbers(time))})
    parts = list(iter_orbits(ds, "10s"))
    bins = [set(pd.DatetimeIndex(part["time"].values).floor("10s")) for part in parts]
    assert [int(part["orbit"][0]) for part in parts] == [1499, 1500] and not bins[0] & bins[1]
    assert sum(part.sizes["time"] for part in parts) == time.size
    assert [part.sizes["time"] for part in iter_orbits(ds)] == [30, 31]  # unaligned: at the orbit start


def test_files_are_sorted_by_their_first_rows_and_orbits_come_back_as_they_complete(day_files, simulated):
    read = []

    def reader(paths):
        read.extend(paths)
        return read_messenger_mag(paths)

    stream = OrbitStream(day_files[::-1], reader)
    assert stream.paths == day_files and not read  # first rows only
    files_read = []
    parts = []
    for part in stream.orbits("60s"):
        files_read.append(len(read))
        parts.append(part)
    assert [int(part["orbit"][0]) for part in parts] == ORBITS
    assert files_read[0] == 1 and files_read[-1] == len(day_files)  # the first orbits before the second file
    times = np.concatenate([part["time"].values for part in parts])
    np.testing.assert_array_equal(times, simulated["time"].values)
    assert parts[1].attrs["frame"] == "MSO" and parts[1]["bx"].attrs["units"] == "nT"


def test_files_overlapping_by_a_few_rows_give_each_time_once(simulated, tmp_path):
    first = write_messenger_mag(simulated.isel(time=slice(0, 300)), tmp_path / "a")[0]
    later = write_messenger_mag(simulated.isel(time=slice(290, 600)), tmp_path / "b")[0]
    parts = list(OrbitStream([later, first], read_messenger_mag).orbits())
    times = np.concatenate([part["time"].values for part in parts])
    np.testing.assert_array_equal(times, simulated["time"].values[:600])


def test_the_expected_orbits_cover_the_files(day_files):
    assert OrbitStream(day_files, read_messenger_mag).expected_orbits() in (len(ORBITS) + 1, len(ORBITS) + 2)


def test_the_first_row_gives_a_file_its_time(day_files, tmp_path):
    assert first_time(day_files[1], read_messenger_mag) == pd.Timestamp("2012-12-07")
    csv = tmp_path / "orbit.csv"
    csv.write_text("time_utc,x_km,y_km,z_km,bx_nT,by_nT,bz_nT\n2012-09-07T11:29:45,1,2,3,4,5,6\n")
    assert first_time(csv, read_messenger_mag) == pd.Timestamp("2012-09-07 11:29:45")


def test_a_first_row_that_does_not_parse_is_told_by_the_reader(tmp_path):
    path = tmp_path / "MAGMSOSCIAVG12350_60_V08.TAB"
    path.write_text("garbage\n")
    with pytest.raises(PlanetMLError, match="MAGMSOSCIAVG12350_60_V08.TAB: line 1 has 1 columns"):
        OrbitStream([path], read_messenger_mag)
