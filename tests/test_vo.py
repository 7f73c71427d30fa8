"""The virtual-observatory layer: EPN-TAP rows from every kind of catalogue, AMDA time tables, and a
throwaway GAVO DaCHS that publishes real catalogues and answers pyvo and STILTS taplint."""

import io
import os
import subprocess
import urllib.request

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from astropy.io import votable
from shapely.geometry import box

from planetml_lib import cli, lab
from planetml_lib.cases import get_case
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.catalogs import read_icmecat, read_philpott
from planetml_lib.io.export import read_catalog, write_catalog
from planetml_lib.vo import LocalDachs, Observation, epncore_to_events, publish, read_epncore, search_epntap
from planetml_lib.vo.client import epntap_query
from planetml_lib.vo.dachs import resource_descriptor
from planetml_lib.vo.epncore import CORE, EPNTAP_UTYPE, to_epncore, write_epncore
from planetml_lib.vo.instance import _START_TIMEOUT_S, _free_port

PACKAGE_DATA = os.path.join(os.path.dirname(cli.__file__), "data")
ICME = get_case("icme").OBSERVATION
MERCURY = get_case("mercury_boundaries").OBSERVATION


def _events(starts, hours=6.0, label="ICME"):
    start = pd.to_datetime(starts)
    return pd.DataFrame({"start": start, "end": start + pd.Timedelta(hours=hours), "label": label,
                         "score": np.linspace(0.5, 0.9, len(start))})


def test_events_become_ev_granules_with_julian_dates_and_come_back_to_the_millisecond(tmp_path):
    events = _events(["2019-03-15 09:00:00.123", "2019-04-01 00:00:00.000"])
    events["mo_start"] = events["start"] + pd.Timedelta(hours=1)
    rows = to_epncore(events, ICME, model="icme/resunetpp1d", simulated=True)
    assert rows["time_min"].iloc[1] == 2458574.5  # 2019-04-01T00:00 UTC
    assert set(rows["dataproduct_type"]) == {"ev"} and set(rows["provenance"]) == {"SIMULATED"}
    assert list(rows.columns[: len(CORE)]) == [c.name for c in CORE]
    back = epncore_to_events(read_epncore(write_epncore(rows, tmp_path / "icme.xml")))
    pd.testing.assert_frame_equal(back[["start", "end", "label", "score", "mo_start"]], events, check_dtype=False)
    assert (back["start"] == events["start"]).all()


def test_outlines_on_mars_become_ci_granules_with_body_longitude_and_latitude():
    mars = "IAU_2015:49900"
    objects = gpd.GeoDataFrame({"label": ["mound", "mound"], "score": [0.8, 0.6], "diameter_m": [900.0, 80.0]},
                               geometry=[box(-10.5, 20.0, -10.0, 20.25), box(30.0, -5.0, 30.1, -4.9)], crs=mars)
    rows = to_epncore(objects, get_case("mars_mounds").OBSERVATION, model="mars_mounds")
    assert set(rows["dataproduct_type"]) == {"ci"} and set(rows["spatial_frame_type"]) == {"body"}
    assert rows[["c1min", "c1max", "c2min", "c2max"]].iloc[0].tolist() == pytest.approx([349.5, 350.0, 20.0, 20.25])
    assert rows["diameter_m"].tolist() == [900.0, 80.0] and rows["time_min"].isna().all()
    unplaced = to_epncore(objects.set_crs(None, allow_override=True), get_case("mars_mounds").OBSERVATION)
    assert set(unplaced["spatial_frame_type"]) == {"none"} and unplaced["c1min"].isna().all()


def test_map_cells_span_one_grid_step_and_keep_unit_and_confidence():
    cells = pd.DataFrame({"lat": [-1.5, -1.5, 1.5], "lon": [0.0, 3.0, 357.0], "unit": [0, 1, 1],
                          "confidence": [0.9, 0.4, 0.7]})
    rows = to_epncore(cells, get_case("mercury_surface").OBSERVATION)
    assert rows[["c1min", "c1max", "c2min", "c2max"]].iloc[2].tolist() == [355.5, 358.5, 0.0, 3.0]
    assert rows["label"].tolist() == ["0", "1", "1"] and rows["score"].tolist() == [0.9, 0.4, 0.7]


def test_bad_catalogues_and_targets_are_refused_by_name(tmp_path):
    with pytest.raises(PlanetMLError, match="target_class 'moon'"):
        to_epncore(_events(["2019-01-01"]), Observation("Moon", "moon", "LRO", "LOLA", "pos.bodyrc.alt"))
    with pytest.raises(PlanetMLError, match="must be a pandas DataFrame"):
        to_epncore([1, 2], ICME)
    with pytest.raises(PlanetMLError, match=r"columns \['granule_uid'"):
        write_epncore(_events(["2019-01-01"]), tmp_path / "x.xml")
    with pytest.raises(PlanetMLError, match="needs observation="):
        write_catalog(_events(["2019-01-01"]), tmp_path / "x.xml", format="epntap")


def test_write_catalog_epntap_is_a_valid_votable_with_the_epn_tap_utype(tmp_path):
    path = write_catalog(_events(["2019-01-01", "2019-02-01"]), tmp_path / "icme.xml", format="epntap",
                         observation=ICME)
    report = io.StringIO()
    assert votable.validate(str(path), output=report), report.getvalue()
    table = votable.parse_single_table(str(path))
    assert table.utype == EPNTAP_UTYPE
    assert {f.name: f.ucd for f in table.fields}["time_min"] == "time.start;obs"
    assert len(read_catalog(path, format="epntap")) == 2


@pytest.mark.parametrize("format", ["amda", "amda_votable"])
def test_amda_time_tables_round_trip_without_loss(tmp_path, format):
    events = read_icmecat(os.path.join(PACKAGE_DATA, "icme", "icmecat_v20.csv"))
    path = write_catalog(events, tmp_path / "icmecat.xml", format=format)
    back = read_catalog(path, format=format)
    assert (back["start"].to_numpy() == events["start"].to_numpy()).all()
    assert (back["end"].to_numpy() == events["end"].to_numpy()).all()


def test_amda_votable_time_table_has_amda_fields(tmp_path):
    path = write_catalog(_events(["2019-01-01"]), tmp_path / "tt.xml", format="amda_votable")
    fields = votable.parse_single_table(str(path)).fields
    assert [(f.ID, f.name, f.ucd, f.xtype, f.datatype) for f in fields] == [
        ("TimeIntervalStart", "Start Time", "time.start", "dateTime", "char"),
        ("TimeIntervalStop", "Stop Time", "time.end", "dateTime", "char")]


def test_query_quotes_text_and_refuses_what_is_not_a_column_or_table():
    query = epntap_query("icme.epn_core", target="O'Neil", time_range=("2019-04-01", "2019-04-02"), label="ICME",
                         score=(0.5, 1))
    assert "target_name = 'O''Neil'" in query and "time_max >= 2458574.5" in query
    assert "score BETWEEN 0.5 AND 1.0" in query and query.endswith("ORDER BY time_min")
    with pytest.raises(PlanetMLError, match="not a column name"):
        epntap_query("icme.epn_core", **{"label; DROP TABLE x": 1})
    with pytest.raises(PlanetMLError, match="<schema>.epn_core"):
        epntap_query("tap_schema.tables")
    with pytest.raises(PlanetMLError, match="ends"):
        epntap_query("icme.epn_core", time_range=("2019-04-02", "2019-04-01"))


def test_resource_descriptor_declares_our_columns_and_refuses_bad_schemas():
    rows = to_epncore(_events(["2019-01-01"]).assign(spacecraft="Wind", n_points=np.int64(3)), ICME)
    text = resource_descriptor(rows, "icme", "ICMEs & more", "<test>")
    assert 'spatial_frame_type="none"' in text and "ICMEs &amp; more" in text and "&lt;test&gt;" in text
    assert '<column name="n_points" type="bigint"' in text and '<column name="label" type="text"' in text
    with pytest.raises(PlanetMLError, match="lower-case"):
        resource_descriptor(rows, "Bad-Schema", "t", "d")


def test_an_unreachable_service_is_a_clear_error():
    with pytest.raises(PlanetMLError, match="is the service running"):
        search_epntap("http://127.0.0.1:9/tap", "icme.epn_core")


@pytest.fixture(scope="module")
def dachs():
    """A throwaway DaCHS (own PostgreSQL, ports and root) with real ICMECAT and Philpott catalogues."""
    with LocalDachs() as instance:
        icmes = read_icmecat(os.path.join(PACKAGE_DATA, "icme", "icmecat_v20.csv"))
        crossings = read_philpott(os.path.join(PACKAGE_DATA, "mercury", "philpott2020_boundaries.csv.gz"))
        crossings = crossings[crossings["start"].dt.year == 2012]
        publish(to_epncore(icmes, ICME, model="icmecat"), "icme", "ICMECAT", "ICMEs", subject="solar-physics")
        publish(to_epncore(crossings, MERCURY, model="philpott2020"), "mercury", "Philpott", "Mercury crossings")
        instance.catalogues = {"icme": icmes, "mercury": crossings}
        yield instance


def test_published_catalogues_come_back_exactly_by_time_range_and_label(dachs):
    crossings = dachs.catalogues["mercury"]
    window = (pd.Timestamp("2012-03-01"), pd.Timestamp("2012-04-01"))
    expected = crossings[(crossings["end"] >= window[0]) & (crossings["start"] <= window[1])
                         & (crossings["label"] == "bow_shock_in")]
    got = search_epntap(dachs.tap_url, "mercury.epn_core", target="Mercury", time_range=window, label="bow_shock_in")
    assert len(got) == len(expected) > 10
    assert (got["start"].to_numpy() == expected["start"].to_numpy()).all()
    assert (got["end"].to_numpy() == expected["end"].to_numpy()).all()
    assert set(got["instrument_host_name"]) == {"MESSENGER"} and set(got["target_class"]) == {"planet"}
    everything = search_epntap(dachs.tap_url, "icme.epn_core", target="Sun")
    assert len(everything) == len(dachs.catalogues["icme"])


def test_tap_schema_lists_the_tables_with_the_epn_tap_utype(dachs):
    import pyvo

    tables = pyvo.dal.TAPService(dachs.tap_url).search(
        "SELECT table_name, utype FROM tap_schema.tables WHERE table_name LIKE '%.epn_core'").to_table()
    assert {(str(r["table_name"]), str(r["utype"])) for r in tables} == {
        ("icme.epn_core", EPNTAP_UTYPE), ("mercury.epn_core", EPNTAP_UTYPE)}


def test_stilts_taplint_finds_no_error_in_our_tables(dachs):
    done = subprocess.run(["stilts", "taplint", f"tapurl={dachs.tap_url}", "tables=icme.epn_core mercury.epn_core",
                           "report=EW"], capture_output=True, text=True, timeout=10 * _START_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Totals: Errors: 0;" in done.stdout, done.stdout[-4000:]


def test_planetml_publish_serves_a_predicted_catalogue(dachs, tmp_path, capsys):
    catalogue = write_catalog(_events(["2019-05-01", "2019-06-01", "2019-07-01"]), tmp_path / "predicted.csv")
    assert cli.main(["publish", "icme", "--catalog", str(catalogue), "--schema", "predicted", "--simulated"]) == 0
    assert "3 rows published as predicted.epn_core" in capsys.readouterr().out
    got = search_epntap(dachs.tap_url, "predicted.epn_core", provenance="SIMULATED")
    assert len(got) == 3 and set(got["model"]) == {"icme"}


def test_planetml_vo_starts_a_service_beside_the_lab(monkeypatch):
    port = _free_port()
    monkeypatch.setenv("PLANETML_VO_PORT", str(port))
    before = os.environ.get("GAVOSETTINGS")  # another DaCHS of this module may be running
    service, environ = lab.start_vo_service({"JUPYTER_TOKEN": "x"})
    try:
        assert environ == {"JUPYTER_TOKEN": "x", "GAVOSETTINGS": os.environ["GAVOSETTINGS"]}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/tap/availability", timeout=30) as answer:
            assert b"available>true" in answer.read()
    finally:
        service.stop()
    assert os.environ.get("GAVOSETTINGS") == before
