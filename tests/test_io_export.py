"""Tests for planetml_lib.io.export and planetml_lib.io.atomic."""

import re
from pathlib import Path

import pandas as pd
import pytest
from astropy.io import votable

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io import export
from planetml_lib.io.atomic import atomic_dir, atomic_write
from planetml_lib.io.catalogs import read_icmecat, read_philpott
from planetml_lib.io.export import read_catalog, write_catalog

DATA = Path(__file__).parent / "data"


@pytest.fixture
def icmes() -> pd.DataFrame:
    return read_icmecat(DATA / "icmecat_v20_excerpt.csv")


@pytest.fixture
def crossings() -> pd.DataFrame:
    return read_philpott(DATA / "philpott2020_boundaries_excerpt.csv")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("name", ["events.csv", "events.xml", "events.vot"])
def test_round_trip_keeps_every_column(tmp_path, icmes, crossings, name):
    for events in (icmes, crossings):
        path = write_catalog(events, tmp_path / name)
        back = read_catalog(path)
        pd.testing.assert_frame_equal(back, events, check_dtype=False)
        assert back["start"].dtype == events["start"].dtype
        assert back["end"].dtype == events["end"].dtype


def test_csv_times_are_iso_8601_utc(tmp_path, crossings):
    path = write_catalog(crossings, tmp_path / "crossings.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == "start,end,label,orbit,x_mso_km,y_mso_km,z_mso_km"
    assert lines[1].startswith("2011-03-23T23:47:02.700Z,2011-03-23T23:59:44.400Z,bow_shock_in,12,")
    assert pd.read_csv(path, parse_dates=["start"])["start"].dt.tz is not None  # another tool sees UTC


def test_csv_without_z_reads_back_the_same(tmp_path, icmes):
    """CSV catalogues written before times carried "Z" read to the same naive-UTC times."""
    path = write_catalog(icmes, tmp_path / "icmes.csv")
    old = tmp_path / "old.csv"
    old.write_text(path.read_text().replace("Z,", ",").replace("Z\n", "\n"))
    assert "Z" not in old.read_text().split("\n")[1]
    pd.testing.assert_frame_equal(read_catalog(old), read_catalog(path))
    assert read_catalog(old)["mo_start"].dtype == "datetime64[ns]"


def test_votable_marks_start_and_end(tmp_path, icmes):
    path = write_catalog(icmes, tmp_path / "icmes.xml")
    table = votable.parse_single_table(str(path))
    ucds = {field.name: field.ucd for field in table.fields}
    assert ucds["start"] == "time.start" and ucds["end"] == "time.end"
    assert table.array["start"][0] == "2007-01-14T11:31:00.000"


def test_amda_time_table_format(tmp_path, crossings):
    path = write_catalog(crossings, tmp_path / "crossings.txt")
    lines = path.read_text().splitlines()
    header = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    assert header == lines[: len(header)] and "# Name: crossings;" in header
    assert len(body) == len(crossings)
    pattern = re.compile(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}"
    )
    assert all(pattern.fullmatch(line) for line in body)
    assert body[0] == "2011-03-23T23:47:02.700 2011-03-23T23:59:44.400"
    back = read_catalog(path)
    assert back["start"].equals(crossings["start"]) and back["end"].equals(crossings["end"])
    assert set(back["label"]) == {"event"}


def test_format_argument_overrides_suffix(tmp_path, icmes):
    path = write_catalog(icmes, tmp_path / "icmes.dat", format="csv")
    assert path.read_text().startswith("start,end,label")
    assert len(read_catalog(path, format="csv")) == len(icmes)


def test_empty_catalogue_round_trip(tmp_path, icmes):
    back = read_catalog(write_catalog(icmes.iloc[:0], tmp_path / "none.csv"))
    assert len(back) == 0 and list(back.columns[:3]) == ["start", "end", "label"]


def test_unknown_format_lists_choices(tmp_path, icmes):
    with pytest.raises(PlanetMLError, match=r"unknown catalogue format '\.json'.*\.csv"):
        write_catalog(icmes, tmp_path / "icmes.json")


def test_events_without_label_rejected(tmp_path, icmes):
    with pytest.raises(PlanetMLError, match=r"missing column\(s\) \['label'\]"):
        write_catalog(icmes.drop(columns="label"), tmp_path / "icmes.csv")
    assert _files(tmp_path) == []


def test_read_catalog_errors(tmp_path):
    with pytest.raises(PlanetMLError, match="gone.xml: file not found"):
        read_catalog(tmp_path / "gone.xml")
    bad = tmp_path / "bad.csv"
    bad.write_text("start,end,label\n2019-01-02,2019-01-01,ICME\n")
    with pytest.raises(DataFormatError, match="bad.csv: event at line 2 ends"):
        read_catalog(bad)
    broken = tmp_path / "broken.xml"
    broken.write_text("<VOTABLE><RESOURCE>")
    with pytest.raises(DataFormatError, match="broken.xml: cannot read as a VOTable"):
        read_catalog(broken)


def _half_then_fail(events, tmp, name):
    tmp.write_text("start,end,label\n2019-01-")
    raise OSError("disk full")


def test_failed_write_leaves_no_file_and_no_temp(tmp_path, icmes, monkeypatch):
    monkeypatch.setitem(export._WRITERS, "csv", _half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_catalog(icmes, tmp_path / "icmes.csv")
    assert _files(tmp_path) == []


def test_failed_overwrite_keeps_old_file(tmp_path, icmes, monkeypatch):
    path = write_catalog(icmes, tmp_path / "icmes.csv")
    before = path.read_text()
    monkeypatch.setitem(export._WRITERS, "csv", _half_then_fail)
    with pytest.raises(OSError):
        write_catalog(icmes.iloc[:1], path)
    assert path.read_text() == before
    assert _files(tmp_path) == ["icmes.csv"]


# atomic ---------------------------------------------------------------------


def test_atomic_write_creates_parents_and_replaces(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    for text in ("first", "second"):
        with atomic_write(target) as tmp:
            assert tmp.parent == target.parent and not tmp.exists()
            tmp.write_text(text)
    assert target.read_text() == "second"
    assert _files(target.parent) == ["out.txt"]


def test_atomic_dir_replaces_whole_folder(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "old.json").write_text("{}")
    with atomic_dir(target) as tmp:
        (tmp / "weights.bin").write_bytes(b"\x00")
    assert _files(target) == ["weights.bin"]
    assert _files(tmp_path) == ["model"]


def test_atomic_dir_failure_leaves_old_folder(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "config.json").write_text("{}")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "half.bin").write_bytes(b"\x00")
        raise RuntimeError("crash")
    assert _files(target) == ["config.json"]
    assert _files(tmp_path) == ["model"]
