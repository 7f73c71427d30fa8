"""Tests for planetml_lib.io.pds on a 60-line table in the PDS MAGMSOSCIAVG layout and broken copies of it."""

import gzip
import shutil

import numpy as np
import pytest

from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.pds import messenger_mag_cadence, read_messenger_mag
from planetml_lib.testing import assert_timeseries_contract

TAB = DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB"
LINES = TAB.read_text().splitlines()


def write(folder, lines, name="MAGMSOSCIAVG11083_01_V08.TAB"):
    path = folder / name
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


def test_reads_the_pds_layout():
    ds = read_messenger_mag(TAB)
    assert_timeseries_contract(ds)
    assert ds.sizes["time"] == 60
    assert ds["time"].values[0] == np.datetime64("2011-03-24T01:09:30.500")  # day 83 of 2011, centre of the second
    assert ds["time"].values[-1] == np.datetime64("2011-03-24T01:10:29.500")
    first = [float(v) for v in LINES[0].split()]
    assert [float(ds[name][0]) for name in ("x_mso", "y_mso", "z_mso", "bx", "by", "bz", "dbx", "dby", "dbz")] \
        == first[7:]
    assert ds["navg"].dtype == np.int32 and int(ds["navg"][0]) == 20
    assert ds["bx"].attrs["units"] == "nT" and ds["x_mso"].attrs["units"] == "km" and ds["dbz"].attrs["units"] == "nT"
    assert ds.attrs == {"spacecraft": "MESSENGER", "frame": "MSO", "source": TAB.name, "cadence": "1s"}


@pytest.mark.parametrize(("name", "cadence"), [
    ("MAGMSOSCIAVG11083_01_V08.TAB", "1s"), ("magmsosciavg12061_05_v08.tab", "5s"),
    ("MAGMSOSCIAVG15001_10_V08.TAB.gz", "10s"), ("x/MAGMSOSCIAVG13200_60_V08.TAB", "60s"), ("mag.txt", None),
])
def test_cadence_from_file_name(name, cadence):
    assert messenger_mag_cadence(name) == cadence


def test_gzip_and_unknown_name_use_the_median_step(tmp_path):
    packed = tmp_path / "MAGMSOSCIAVG11083_01_V08.TAB.gz"
    with open(TAB, "rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    assert read_messenger_mag(packed).equals(read_messenger_mag(TAB))
    renamed = write(tmp_path, LINES[::2], name="day083.tab")
    assert read_messenger_mag(renamed).attrs["cadence"] == "2s"


def test_several_files_are_sorted_and_overlaps_kept_once(tmp_path):
    early, late = write(tmp_path, LINES[:40], "a_MAGMSOSCIAVG11083_01_V08.TAB"), write(
        tmp_path, LINES[30:], "b_MAGMSOSCIAVG11083_01_V08.TAB")
    ds = read_messenger_mag([late, early])
    assert ds.sizes["time"] == 60 and ds.indexes["time"].is_monotonic_increasing
    assert ds.equals(read_messenger_mag(TAB))
    assert ds.attrs["source"] == f"{late.name}, {early.name}"


def test_fill_values_become_nan(tmp_path):
    fields = LINES[2].split()
    fields[10] = "-1.0E+31"
    ds = read_messenger_mag(write(tmp_path, LINES[:2] + [" ".join(fields)] + LINES[3:]))
    assert np.isnan(ds["bx"].values[2]) and np.isfinite(ds["bx"].values[[0, 1, 3]]).all()


def replace_line(index, text):
    return LINES[:index] + [text] + LINES[index + 1:]


def with_field(index, column, value):
    fields = LINES[index].split()
    fields[column] = value
    return replace_line(index, " ".join(fields))


@pytest.mark.parametrize(("lines", "message"), [
    (replace_line(4, LINES[4] + "   1.0"), "line 5 has 17 columns, expected 16"),
    (replace_line(6, LINES[6].rsplit(None, 1)[0]), "line 7 has 15 columns, expected 16"),
    (replace_line(0, LINES[0].rsplit(None, 1)[0]), "line 1 has 15 columns, expected 16"),
    (with_field(2, 1, "400"), r"unparsable date '2011 400 1 9 32\.5' \(YEAR DOY HOUR MINUTE SECOND\) at line 3"),
    (with_field(3, 2, "25"), "unparsable date .* at line 4"),
    (with_field(3, 4, "61.5"), "unparsable date .* at line 4"),
    (with_field(5, 6, "2x"), "non-numeric '2x' in column NAVG at line 6"),
    (with_field(5, 6, "2.5"), "NAVG 2.5 is not a whole number at line 6"),
    ([], "empty file"),
    (["", "   "], "empty file"),
])
def test_format_errors_are_one_line_and_name_file_and_line(tmp_path, lines, message):
    path = write(tmp_path, lines)
    with pytest.raises(DataFormatError, match=message) as info:
        read_messenger_mag(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_missing_file_and_mixed_cadences(tmp_path):
    with pytest.raises(PlanetMLError, match="file not found"):
        read_messenger_mag(tmp_path / "MAGMSOSCIAVG11083_01_V08.TAB")
    other = write(tmp_path, LINES, "MAGMSOSCIAVG11083_60_V08.TAB")
    with pytest.raises(PlanetMLError, match=r"different cadences \['1s', '60s'\]"):
        read_messenger_mag([TAB, other])
    with pytest.raises(PlanetMLError, match="no file given"):
        read_messenger_mag([])
