"""Tests for planetml_lib.io.solarwind on a real STEREO-A excerpt."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.solarwind import VARIABLES, read_solarwind_csv
from planetml_lib.testing import assert_timeseries_contract

DATA = Path(__file__).parent / "data"
EXCERPT = DATA / "stereoa_2019_excerpt.csv"


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "stereoa_test.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def raw() -> pd.DataFrame:
    return pd.read_csv(EXCERPT, dtype={"time_utc": str})


def test_reads_excerpt_to_contract():
    ds = read_solarwind_csv(EXCERPT)
    assert_timeseries_contract(ds)
    assert ds.sizes["time"] == 107
    assert ds["time"].dtype == np.dtype("datetime64[ns]")
    assert bool((np.diff(ds["time"].values) > np.timedelta64(0)).all())
    assert ds["time"].values[0] == np.datetime64("2019-01-30T04:00:00")
    assert ds["bt"].values[0] == pytest.approx(8.86904)
    assert ds["tp"].values[0] == pytest.approx(39418.9)
    for name, (units, _) in VARIABLES.items():
        assert ds[name].attrs["units"] == units
    assert ds["icme_label"].dtype == np.int8
    assert int(ds["icme_label"].sum()) == 10
    assert ds["icme_label"].sel(time="2019-01-30T05:40").item() == 0


def test_attrs_and_gaps_left_as_they_are():
    ds = read_solarwind_csv(EXCERPT)
    assert ds.attrs == {
        "spacecraft": "STEREO-A",
        "frame": "unknown",
        "source": "stereoa_2019_excerpt.csv",
        "cadence": "10min",
    }
    # the source has no 21:00 row: the reader must not invent it
    assert np.datetime64("2019-01-30T21:00") not in ds["time"].values
    assert not bool(ds["bt"].isnull().any())


def test_spacecraft_argument_and_unknown_name(tmp_path, raw):
    assert read_solarwind_csv(EXCERPT, spacecraft="Wind").attrs["spacecraft"] == "Wind"
    plain = _write(tmp_path, raw, "series.csv")
    ds = read_solarwind_csv(plain, frame="SCEQ")
    assert ds.attrs["spacecraft"] == "unknown"
    assert ds.attrs["frame"] == "SCEQ"
    assert read_solarwind_csv(_write(tmp_path, raw, "omni2_1998.csv")).attrs["spacecraft"] == "OMNI"


def test_reads_gzip(tmp_path):
    packed = tmp_path / "stereob_sample.csv.gz"
    with open(EXCERPT, "rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    ds = read_solarwind_csv(packed)
    assert ds.sizes["time"] == 107
    assert ds.attrs["spacecraft"] == "STEREO-B"


def test_fill_values_become_nan(tmp_path, raw):
    raw.loc[0, "bx"] = -1e31
    raw.loc[1, "vt"] = 9999.9
    raw.loc[2, "tp"] = 99999.9
    raw.loc[3, "np"] = -9999.0
    ds = read_solarwind_csv(_write(tmp_path, raw))
    assert np.isnan([ds["bx"][0], ds["vt"][1], ds["tp"][2], ds["np"][3]]).all()
    assert ds["by"].values[0] == pytest.approx(1.74931)
    assert int(ds["bx"].isnull().sum()) == 1


def test_unsorted_rows_are_sorted(tmp_path, raw):
    ds = read_solarwind_csv(_write(tmp_path, raw.iloc[::-1]))
    assert ds["time"].to_index().is_monotonic_increasing
    assert ds["bt"].values[0] == pytest.approx(8.86904)


def test_unknown_columns_dropped_with_warning(tmp_path, raw):
    raw["dst_index"] = 1.0
    with pytest.warns(UserWarning, match="dst_index"):
        ds = read_solarwind_csv(_write(tmp_path, raw))
    assert "dst_index" not in ds


def test_one_known_variable_is_enough(tmp_path, raw):
    ds = read_solarwind_csv(_write(tmp_path, raw[["time_utc", "bt"]]))
    assert list(ds.data_vars) == ["bt"]


def test_missing_file_names_path(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(PlanetMLError, match="nowhere.csv"):
        read_solarwind_csv(path)


def test_missing_time_column_names_it_and_lists_found(tmp_path, raw):
    path = _write(tmp_path, raw.rename(columns={"time_utc": "epoch"}))
    with pytest.raises(DataFormatError) as err:
        read_solarwind_csv(path)
    message = str(err.value)
    assert "time_utc" in message and "epoch" in message and "stereoa_test.csv" in message
    assert "\n" not in message


def test_no_known_variable(tmp_path, raw):
    path = _write(tmp_path, raw[["time_utc"]].assign(foo=1.0))
    with pytest.raises(DataFormatError, match="no known variable.*foo"):
        read_solarwind_csv(path)


def test_unparsable_time_names_file_value_and_line(tmp_path, raw):
    raw.loc[4, "time_utc"] = "2019-01-3x"
    with pytest.raises(DataFormatError) as err:
        read_solarwind_csv(_write(tmp_path, raw))
    message = str(err.value)
    assert "stereoa_test.csv" in message and "2019-01-3x" in message and "line 6" in message


def test_repeated_time_is_an_error(tmp_path, raw):
    raw.loc[1, "time_utc"] = raw.loc[0, "time_utc"]
    with pytest.raises(DataFormatError, match="repeated time 2019-01-30 04:00:00 at line 3"):
        read_solarwind_csv(_write(tmp_path, raw))


def test_text_in_numeric_column(tmp_path, raw):
    raw["bz"] = raw["bz"].astype(str)
    raw.loc[2, "bz"] = "high"
    with pytest.raises(DataFormatError, match="'high' in column 'bz' at line 4"):
        read_solarwind_csv(_write(tmp_path, raw))


def test_label_with_gap_is_an_error(tmp_path, raw):
    raw["icme_label"] = raw["icme_label"].astype(float)
    raw.loc[0, "icme_label"] = np.nan
    with pytest.raises(DataFormatError, match="icme_label"):
        read_solarwind_csv(_write(tmp_path, raw))
