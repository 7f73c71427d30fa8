"""Tests for planetml_lib.io.messenger_csv on a 30-row excerpt of the digitised 10-s MESSENGER orbits."""

import gzip
import lzma
import re
from pathlib import Path

import numpy as np
import pytest

from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.messenger_csv import is_messenger_csv, read_messenger_csv
from planetml_lib.testing import assert_timeseries_contract

CSV = Path(__file__).parent / "data" / "messenger_mag_10s_excerpt.csv"
LINES = CSV.read_text().splitlines()


def write(folder, lines, name="orbit.csv"):
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reads_the_layout_as_a_real_mso_series():
    ds = read_messenger_csv(CSV)
    assert_timeseries_contract(ds)
    assert ds.sizes["time"] == 30 and ds["time"].values[0] == np.datetime64("2012-03-31T02:45:05")
    assert [float(ds[name][0]) for name in ("x_mso", "y_mso", "z_mso", "bx", "by", "bz")] == \
        [float(v) for v in LINES[1].split(",")[1:]]
    assert ds["bx"].attrs["units"] == "nT" and ds["z_mso"].attrs["units"] == "km"
    assert ds.attrs["spacecraft"] == "MESSENGER" and ds.attrs["frame"] == "MSO" and ds.attrs["cadence"] == "10s"
    source = ds.attrs["source"]
    assert source.startswith(CSV.name) and "real" in source and "digitised" in source


def test_a_gap_stays_a_gap():
    time = read_messenger_csv(CSV)["time"].values
    assert np.datetime64("2012-03-31T02:47:35") not in time  # the bin missing from the file is not filled
    assert (np.diff(time) == np.timedelta64(20, "s")).sum() == 1


def test_several_files_join_in_time_without_repeats(tmp_path):
    early, late = write(tmp_path, LINES[:21], "a.csv"), write(tmp_path, [LINES[0], *LINES[15:]], "b.csv.gz")
    late.write_bytes(gzip.compress(late.read_bytes()))
    ds = read_messenger_csv([late, early])
    assert ds.sizes["time"] == 30 and ds.attrs["source"].startswith("b.csv.gz, a.csv")


def test_xz_files_read_and_a_truncated_one_is_named(tmp_path):
    packed = tmp_path / "orbit.csv.xz"
    packed.write_bytes(lzma.compress(CSV.read_bytes()))
    assert is_messenger_csv(packed) and read_messenger_csv(packed).sizes["time"] == 30
    packed.write_bytes(packed.read_bytes()[:200])
    with pytest.raises(PlanetMLError, match="orbit.csv.xz"):
        read_messenger_csv(packed)


def test_the_header_tells_the_layout(tmp_path):
    renamed = write(tmp_path, LINES, "MAGMSOSCIAVG12091_10_V08.TAB")  # the name of a PDS table, the layout of ours
    assert is_messenger_csv(renamed) and is_messenger_csv(DATA_DIR / "mercury" / "messenger_mag_10s_orbit1230.csv.gz")
    assert not is_messenger_csv(DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB")
    assert not is_messenger_csv(tmp_path / "missing.csv")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda lines: [lines[0].replace("bz_nT", "bz")] + lines[1:], r"missing column\(s\) \['bz_nT'\]"),
    (lambda lines: lines[:5] + ["2012-03-31T02:45:55,2126,-3936"] + lines[6:], "line 6 has empty fields"),
    (lambda lines: lines[:5] + ["yesterday" + lines[5][19:]] + lines[6:], "unparsable time 'yesterday'.*line 6"),
    (lambda lines: lines[:5] + [lines[5][:-4] + "4.x7"] + lines[6:], "non-numeric '4.x7' in column 'bz_nT' at line 6"),
    (lambda lines: lines + [lines[-1]], "repeated time 2012-03-31 02:50:05 at line 32"),
])
def test_a_broken_file_gives_one_line_naming_it(tmp_path, edit, message):
    path = write(tmp_path, edit(list(LINES)))
    with pytest.raises(DataFormatError, match=f"^{re.escape(str(path))}: .*{message}"):
        read_messenger_csv(path)


def test_no_file_is_refused():
    with pytest.raises(PlanetMLError, match="no file given"):
        read_messenger_csv([])
