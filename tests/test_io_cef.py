"""Tests for planetml_lib.io.cef and cef_writer: CEF-2.0 files in the CSA layout, written here or by hand."""

import gzip

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.cef import is_cef, parse_cef, read_cef
from planetml_lib.io.cef_writer import header_name, write_cef
from planetml_lib.testing import assert_timeseries_contract

FGM = "C1_CP_FGM_SPIN"
TIME = pd.date_range("2003-02-12T10:00:02", periods=4, freq="4s")


def fgm_columns():
    field = np.array([[1.0, 2.0, 3.0], [4.0, np.nan, 6.0], [7.0, 8.0, 9.0], [-1e31, 1.5, 2.5]], dtype="float32")
    return {"time": TIME, "B_vec_xyz_gse": (field, "nT"), "B_mag": (np.array([3.7, 7.5, 13.9, 2.9]), "nT")}


# A hand-written file in the style of the CSA: lower-case include, comments, a record on two lines,
# a quoted CHAR with a "!" and a comma, a constant (DATA), FILL_VALUE spelling, a fill time, DATA_UNTIL text.
HEADER = """! product header
include = "CL_CH_MISSION.ceh"
START_META = DATASET_ID
   ENTRY = "C3_CP_TEST"
END_META = DATASET_ID
START_META = DATASET_DESCRIPTION
   ENTRY = "line one", "line two"
   ENTRY = "line three"
END_META = DATASET_DESCRIPTION
START_VARIABLE = time_tags__C3_CP_TEST
   VALUE_TYPE = ISO_TIME
   FILLVAL = 9999-12-31T23:59:59Z
END_VARIABLE = time_tags__C3_CP_TEST
START_VARIABLE = labels__C3_CP_TEST
   VALUE_TYPE = CHAR
   DATA = "a", "b"
END_VARIABLE = labels__C3_CP_TEST
START_VARIABLE = flag__C3_CP_TEST
   VALUE_TYPE = CHAR
   DEPEND_0 = time_tags__C3_CP_TEST
END_VARIABLE = flag__C3_CP_TEST
START_VARIABLE = v__C3_CP_TEST   ! a comment after a value
   VALUE_TYPE = DOUBLE
   SIZES = 2
   FILL_VALUE = -999
   UNITS = "km s^-1"
   CATDESC = "a long \\
description"
   DEPEND_0 = time_tags__C3_CP_TEST
END_VARIABLE = v__C3_CP_TEST
START_VARIABLE = n__C3_CP_TEST
   VALUE_TYPE = INT
   DEPEND_0 = time_tags__C3_CP_TEST
END_VARIABLE = n__C3_CP_TEST
"""
DATA = """FILE_NAME = "C3_CP_TEST__20030212.cef"
FILE_FORMAT_VERSION = "CEF-2.0"
END_OF_RECORD_MARKER = "$"
INCLUDE = "C3_CH_TEST.ceh"
DATA_UNTIL = "End_of_Data"
2003-02-12T10:00:04.000Z, "ok! fine, yes", 1.5, -999, 3 $
2003-02-12T10:00:00.000Z, "x",
   2.5, 3.5, 4 $  ! a comment in the data
9999-12-31T23:59:59Z, "fill", 1, 1, 1 $
End_of_Data
"""


@pytest.fixture
def handmade(tmp_path):
    (tmp_path / "CL_CH_MISSION.ceh").write_text('START_META = MISSION\n   ENTRY = "Cluster"\nEND_META = MISSION\n')
    (tmp_path / "C3_CH_TEST.ceh").write_text(HEADER)
    path = tmp_path / "C3_CP_TEST__20030212.cef"
    path.write_text(DATA)
    return path


def test_write_cef_csa_layout_and_round_trip(tmp_path):
    path = write_cef(fgm_columns(), tmp_path / f"{FGM}__20030212_100000_20030212_110000_V070101.cef", FGM)
    header = tmp_path / header_name(FGM)
    assert header.name == "C1_CH_FGM_SPIN.ceh" and header.is_file()
    text = path.read_text()
    assert 'INCLUDE = "C1_CH_FGM_SPIN.ceh"' in text and 'FILE_FORMAT_VERSION = "CEF-2.0"' in text
    assert "START_VARIABLE" not in text and "START_VARIABLE = B_vec_xyz_gse__C1_CP_FGM_SPIN" in header.read_text()
    assert text.splitlines()[-4] == "2003-02-12T10:00:02.000Z, 1, 2, 3, 3.7 $"
    ds = read_cef(path)
    assert_timeseries_contract(ds)
    assert list(ds.data_vars) == [f"B_vec_xyz_gse__{FGM}_x", f"B_vec_xyz_gse__{FGM}_y", f"B_vec_xyz_gse__{FGM}_z",
                                  f"B_mag__{FGM}"]
    np.testing.assert_array_equal(ds["time"].values, TIME.values)
    np.testing.assert_allclose(ds[f"B_vec_xyz_gse__{FGM}_x"].values, [1.0, 4.0, 7.0, np.nan])
    np.testing.assert_allclose(ds[f"B_vec_xyz_gse__{FGM}_y"].values, [2.0, np.nan, 8.0, 1.5])
    np.testing.assert_allclose(ds[f"B_mag__{FGM}"].values, [3.7, 7.5, 13.9, 2.9])
    assert ds[f"B_mag__{FGM}"].attrs == {"units": "nT", "cef_variable": f"B_mag__{FGM}", "long_name": "B_mag"}
    assert ds[f"B_vec_xyz_gse__{FGM}_z"].attrs["component"] == "z"
    assert ds.attrs == {"dataset_id": FGM, "spacecraft": "C1", "frame": "unknown", "source": path.name,
                        "file_format_version": "CEF-2.0"}


def test_self_contained_gzip_and_dataset_input_read_the_same(tmp_path):
    first = read_cef(write_cef(fgm_columns(), tmp_path / "a" / "one.cef", FGM))
    second = read_cef(write_cef(fgm_columns(), tmp_path / "b" / "one.cef.gz", FGM, include_header=False))
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["one.cef.gz"]
    columns = fgm_columns()
    ds = xr.Dataset({"B_vec_xyz_gse": (("time", "xyz"), columns["B_vec_xyz_gse"][0], {"units": "nT"}),
                     "B_mag": ("time", columns["B_mag"][0], {"units": "nT"})}, coords={"time": TIME})
    third = read_cef(write_cef(ds, tmp_path / "c" / "one.cef", FGM))
    for other in (second, third):
        xr.testing.assert_identical(first.drop_attrs(), other.drop_attrs())


def test_sub_millisecond_times_survive(tmp_path):
    time = pd.date_range("2015-10-16T13:05:24", periods=3, freq="7812500ns")
    ds = read_cef(write_cef({"time": time, "b": np.arange(3.0)}, tmp_path / "x.cef", "MMS"))
    np.testing.assert_array_equal(ds["time"].values, time.values.astype("datetime64[us]").astype("datetime64[ns]"))


def test_handmade_csa_style_file(handmade):
    cef = parse_cef(handmade)
    assert cef.header.metadata["DATASET_DESCRIPTION"] == ["line one", "line two", "line three"]
    assert cef.header.metadata["MISSION"] == ["Cluster"]
    assert cef.header.variables["v__C3_CP_TEST"]["CATDESC"] == "a long description"
    assert cef.time == "time_tags__C3_CP_TEST" and "labels__C3_CP_TEST" not in cef.values
    assert cef.values["flag__C3_CP_TEST"].tolist() == ["ok! fine, yes", "x"]  # file order, fill time dropped
    ds = read_cef(handmade)
    assert_timeseries_contract(ds)
    np.testing.assert_array_equal(ds["time"].values, np.array(["2003-02-12T10:00:00", "2003-02-12T10:00:04"],
                                                              dtype="datetime64[ns]"))
    np.testing.assert_allclose(ds["v__C3_CP_TEST_0"].values, [2.5, 1.5])
    np.testing.assert_allclose(ds["v__C3_CP_TEST_1"].values, [3.5, np.nan])
    assert ds["n__C3_CP_TEST"].values.tolist() == [4.0, 3.0]
    assert ds["v__C3_CP_TEST_0"].attrs["units"] == "km s^-1" and ds["flag__C3_CP_TEST"].values[0] == "x"
    assert ds.attrs["dataset_id"] == "C3_CP_TEST" and ds.attrs["spacecraft"] == "C3"
    assert is_cef(handmade) and not is_cef(handmade.parent / "nothing.cef")


def test_missing_include_names_it_and_the_folder(handmade):
    (handmade.parent / "CL_CH_MISSION.ceh").unlink()
    with pytest.raises(DataFormatError) as info:
        read_cef(handmade)
    message = str(info.value)
    assert "\n" not in message
    assert f'C3_CH_TEST.ceh: INCLUDE = "CL_CH_MISSION.ceh" not found (looked in {handmade.parent})' in message


def test_truncated_files(tmp_path, handmade):
    path = write_cef(fgm_columns(), tmp_path / "cut.cef", FGM)
    text = path.read_text()
    path.write_text(text[: text.rindex("$") - 5])
    with pytest.raises(DataFormatError, match=r"cut.cef: record 4 \('2003-02-12T10:00:14.000Z, -1e\+31, 1.5, 2'\) "
                                              r"does not end with the end-of-record marker '\$': truncated record"):
        read_cef(path)
    path.write_text(text.replace("8, 9, 13.9 $", "8 $"))
    with pytest.raises(DataFormatError, match=r"record 3 .* has 3 values, expected 5 .* truncated or damaged"):
        read_cef(path)
    handmade.write_text(DATA.replace("End_of_Data\n", ""))
    with pytest.raises(DataFormatError, match="end-of-data line 'End_of_Data' \\(DATA_UNTIL\\) not found"):
        read_cef(handmade)
    gz = write_cef(fgm_columns(), tmp_path / "x.cef.gz", FGM)
    gz.write_bytes(gz.read_bytes()[:60])
    with pytest.raises(DataFormatError, match="x.cef.gz: cannot read .*truncated or damaged file"):
        read_cef(gz)


def test_header_errors(tmp_path, handmade):
    header = handmade.parent / "C3_CH_TEST.ceh"
    header.write_text(HEADER.replace("END_VARIABLE = n__C3_CP_TEST\n", ""))
    with pytest.raises(DataFormatError, match="START_VARIABLE = n__C3_CP_TEST is never closed"):
        read_cef(handmade)
    header.write_text(HEADER.replace("END_VARIABLE = flag__C3_CP_TEST", "END_VARIABLE = flog"))
    with pytest.raises(DataFormatError, match="END_VARIABLE = flog does not close START_VARIABLE = flag__C3_CP_TEST"):
        read_cef(handmade)
    header.write_text(HEADER + "1, 2, 3\n")
    with pytest.raises(DataFormatError, match="C3_CH_TEST.ceh, line 35: not a KEYWORD = value line: '1, 2, 3'"):
        read_cef(handmade)
    header.write_text(HEADER + 'INCLUDE = "C3_CH_TEST.ceh"\n')
    with pytest.raises(DataFormatError, match="includes itself"):
        read_cef(handmade)


def test_bad_values_and_non_cef_files(tmp_path, handmade):
    handmade.write_text(DATA.replace("1.5, -999", "1.5, abc"))
    with pytest.raises(DataFormatError, match="variable 'v__C3_CP_TEST' has a non-numeric value 'abc' in record 1"):
        read_cef(handmade)
    handmade.write_text(DATA.replace("2003-02-12T10:00:00.000Z", "yesterday"))
    with pytest.raises(DataFormatError, match="variable 'time_tags__C3_CP_TEST' has a bad ISO time 'yesterday'"):
        read_cef(handmade)
    text = tmp_path / "notes.cef"
    text.write_text("time, bx\n2003-02-12T10:00:00, 1\n")
    with pytest.raises(DataFormatError, match=r"notes.cef: not a CEF-2.0 file \(no FILE_FORMAT_VERSION\)"):
        read_cef(text)
    text.write_text('FILE_FORMAT_VERSION = "CEF-1.0"\n')
    with pytest.raises(DataFormatError, match="not a CEF-2.0 file \\(FILE_FORMAT_VERSION = 'CEF-1.0'\\)"):
        read_cef(text)
    binary = tmp_path / "image.cef.gz"
    binary.write_bytes(gzip.compress(bytes(range(256))))
    assert not is_cef(binary)
    with pytest.raises(PlanetMLError, match="nothing.cef: file not found"):
        read_cef(tmp_path / "nothing.cef")


def test_writer_refuses_inconsistent_columns(tmp_path):
    with pytest.raises(PlanetMLError, match="needs a 'time' column"):
        write_cef({"b": [1.0]}, tmp_path / "x.cef", FGM)
    with pytest.raises(PlanetMLError, match="column 'b__C1_CP_FGM_SPIN' has \\(2,\\) rows, time has 4"):
        write_cef({"time": TIME, "b": [1.0, 2.0]}, tmp_path / "x.cef", FGM)
