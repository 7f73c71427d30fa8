"""Tests for planetml_lib.io.omni on January 2017 of a real OMNI2 hourly file (SPDF low_res_omni)."""

import gzip
from pathlib import Path

import numpy as np
import pytest
from damage import DAMAGE

from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io import read_omni2
from planetml_lib.io.omni import WORDS
from planetml_lib.io.solarwind import VARIABLES
from planetml_lib.testing import assert_timeseries_contract

JANUARY = DATA_DIR / "icme" / "omni2_2017_jan.dat.gz"
#: Line 6067 of omni2_2017.dat (2017 day 253, 18 h): no field or plasma data, the indices present.
GAP_LINE = (
    "2017 253 18 2511 99 99 999 999 999.9 999.9 999.9 999.9 999.9 999.9 999.9 999.9 999.9 999.9 999.9 999.9 "
    "999.9 999.9 9999999. 999.9 9999. 999.9 999.9 9.999 99.99 9999999. 999.9 9999. 999.9 999.9 9.999 999.99 "
    "999.99 999.9 20  40   -37   84 999999.99 99999.99 99999.99   479.93   197.57    70.41 -1   7 101.6 999.9   "
    "-55    30 99.9"
)


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return gzip.decompress(JANUARY.read_bytes()).decode("ascii").splitlines()


def _write(tmp_path: Path, lines: list[str], name: str = "omni2_2017.dat") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _refused(path: Path, *fragments: str) -> str:
    with pytest.raises(PlanetMLError) as error:
        read_omni2(path)
    message = str(error.value)
    assert path.name in message and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_reads_january_to_contract():
    ds = read_omni2(JANUARY)
    assert_timeseries_contract(ds)
    assert ds.sizes["time"] == 744
    assert ds["time"].values[0] == np.datetime64("2017-01-01T00:00")
    assert ds["time"].values[-1] == np.datetime64("2017-01-31T23:00")
    assert (np.diff(ds["time"].values) == np.timedelta64(1, "h")).all()
    assert set(ds.data_vars) == set(WORDS)
    assert ds.attrs == {"spacecraft": "OMNI", "frame": "GSE", "source": JANUARY.name, "cadence": "1h"}
    for name in ("bx", "by", "bz", "bt", "vt", "np", "tp"):
        assert ds[name].attrs["units"] == VARIABLES[name][0]
    units = {name: ds[name].attrs["units"] for name in ("kp", "sunspot_r", "dst_nT", "f107")}
    assert units == {"kp": "1", "sunspot_r": "1", "dst_nT": "nT", "f107": "sfu"}
    for name in ds.data_vars:
        assert ds[name].dtype == np.float64 and ds[name].attrs["long_name"]
    # January 2017 has no gap in these words
    assert not any(bool(ds[name].isnull().any()) for name in ds.data_vars)


def test_first_line_equals_its_words(lines):
    words = lines[0].split()
    first = read_omni2(JANUARY).isel(time=0)
    expected = {"bt": 9, "bx": 13, "by": 14, "bz": 15, "tp": 23, "np": 24, "vt": 25, "sunspot_r": 40,
                "dst_nT": 41, "f107": 51}
    for name, word in expected.items():
        assert first[name].item() == float(words[word - 1]), name
    assert first["kp"].item() == float(words[38]) / 10 == 3.3
    assert (first["bx"].item(), first["by"].item(), first["bz"].item()) == (-5.8, -1.1, -2.3)
    assert (first["vt"].item(), first["np"].item(), first["tp"].item()) == (551.0, 6.9, 149703.0)
    assert (first["dst_nT"].item(), first["f107"].item()) == (-12.0, 70.1)


def test_each_words_fill_becomes_nan(tmp_path, lines):
    path = _write(tmp_path, [lines[0], GAP_LINE])
    gap = read_omni2(path).sel(time="2017-09-10T18:00")
    for name in ("bt", "bx", "by", "bz", "tp", "np", "vt"):
        assert np.isnan(gap[name].item()), name
    # the indices of that hour are present
    indices = [gap[name].item() for name in ("kp", "sunspot_r", "dst_nT", "f107")]
    assert indices == [2.0, 40.0, -37.0, 101.6]


def test_fill_values_are_per_word(tmp_path, lines):
    words = lines[0].split()
    words[38], words[39], words[40], words[50] = "99", "999", "99999", "999.9"  # Kp, R, Dst, F10.7 missing
    words[24] = "999.9"  # a speed of 999.9 km/s is a value: 9999. is the speed's fill
    ds = read_omni2(_write(tmp_path, [" ".join(words)]))
    for name in ("kp", "sunspot_r", "dst_nT", "f107"):
        assert np.isnan(ds[name].item()), name
    assert ds["vt"].item() == 999.9


def test_plain_and_gzip_read_alike(tmp_path, lines):
    plain = read_omni2(_write(tmp_path, lines, "omni2_2017.dat"))
    packed = read_omni2(JANUARY)
    assert (plain.attrs["source"], packed.attrs["source"]) == ("omni2_2017.dat", JANUARY.name)
    assert plain.identical(packed.assign_attrs(source="omni2_2017.dat"))


def test_lines_out_of_order_are_sorted(tmp_path, lines):
    ds = read_omni2(_write(tmp_path, lines[24:48] + lines[:24]))
    assert ds.indexes["time"].is_monotonic_increasing
    assert ds["bx"].values[0] == float(lines[0].split()[12])


def test_missing_file(tmp_path):
    _refused(tmp_path / "omni2_1999.dat", "file not found")


@pytest.mark.parametrize("content", [b"", b"\n  \n"], ids=["no bytes", "blank lines"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "omni2_2017.dat"
    path.write_bytes(content)
    _refused(path, "empty file")


def test_empty_gzip(tmp_path):
    path = tmp_path / "omni2_2017.dat.gz"
    path.write_bytes(gzip.compress(b""))
    _refused(path, "empty file")


def test_truncated_last_line(tmp_path, lines):
    cut = lines[:100] + [lines[100][:150]]
    message = _refused(_write(tmp_path, cut), "line 101 has ")
    assert "expected 55" in message


def test_truncated_gzip(tmp_path):
    data = JANUARY.read_bytes()
    path = tmp_path / "omni2_2017.dat.gz"
    path.write_bytes(data[: len(data) // 2])
    _refused(path, "cannot decompress")


@pytest.mark.parametrize("fault", ["empty", "truncated_third", "garbled_header", "picture"])
def test_damaged_gzip(tmp_path, fault):
    path = tmp_path / JANUARY.name
    path.write_bytes(DAMAGE[fault](JANUARY.read_bytes()))
    _refused(path)


def test_line_with_54_words(tmp_path, lines):
    short = lines[:10]
    short[4] = " ".join(short[4].split()[:54])
    _refused(_write(tmp_path, short), "line 5 has 54 words, expected 55")


def test_line_with_56_words(tmp_path, lines):
    long = [line + " 4.5" for line in lines[:3]]  # the "extended" format, with Lyman alpha
    _refused(_write(tmp_path, long), "line 1 has 56 words, expected 55")


@pytest.mark.parametrize("word", ["9.9x", "nan", "-", "1,5"])
def test_garbled_word(tmp_path, lines, word):
    garbled = lines[:10]
    words = garbled[6].split()
    words[23] = word
    garbled[6] = " ".join(words)
    _refused(_write(tmp_path, garbled), "line 7, word 24", repr(word))


def test_garbled_bytes(tmp_path, lines):
    path = tmp_path / "omni2_2017.dat"
    path.write_bytes(("\n".join(lines[:3]) + "\n").encode() + b"\xff\xfe\x00" + lines[3].encode())
    _refused(path, "line 4 is not text")


def test_repeated_hour(tmp_path, lines):
    _refused(_write(tmp_path, lines[:10] + [lines[3]]), "line 11 repeats hour 2017-01-01 03:00:00 of line 4")


@pytest.mark.parametrize(
    "date",
    ["2017 366 0", "2017 0 5", "2017 12 24", "2017 12 -1", "2017 1.5 0", "99999 1 0"],
)
def test_impossible_date(tmp_path, lines, date):
    bad = lines[:5]
    bad[2] = date + " " + " ".join(bad[2].split()[3:])
    _refused(_write(tmp_path, bad), "line 3: impossible date")


def test_leap_day_366(tmp_path, lines):
    words = lines[0].split()
    words[:3] = ["2016", "366", "23"]
    ds = read_omni2(_write(tmp_path, [" ".join(words)], "omni2_2016.dat"))
    assert ds["time"].values[0] == np.datetime64("2016-12-31T23:00")


def test_errors_are_data_format_errors(tmp_path, lines):
    with pytest.raises(DataFormatError):
        read_omni2(_write(tmp_path, [lines[0][:40]]))
