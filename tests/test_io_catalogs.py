"""Tests for planetml_lib.io.catalogs on excerpts of the real catalogues."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.catalogs import (
    parse_times,
    read_cluster_crossings,
    read_icmecat,
    read_messenger_orbits,
    read_philpott,
    read_winslow,
)
from planetml_lib.testing import assert_events_contract

DATA = Path(__file__).parent / "data"
ICMECAT = DATA / "icmecat_v20_excerpt.csv"
PHILPOTT = DATA / "philpott2020_boundaries_excerpt.csv"
WINSLOW_BS = DATA / "winslow_james_bowshock_excerpt.dat"
WINSLOW_MP = DATA / "winslow_james_magnetopause_excerpt.dat"
CLUSTER = DATA / "cluster_bowshock_crossings_excerpt.txt"
ORBITS = DATA / "messenger_orbits_excerpt.dat"


def assert_events(events: pd.DataFrame) -> None:
    """The shared events contract, plus ns resolution and a fresh index."""
    assert_events_contract(events)
    assert list(events.columns[:3]) == ["start", "end", "label"]
    assert events["start"].dtype == np.dtype("datetime64[ns]")
    assert events["end"].dtype == np.dtype("datetime64[ns]")
    assert events.index.equals(pd.RangeIndex(len(events)))


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# ICMECAT -------------------------------------------------------------------


def test_icmecat_events():
    events = read_icmecat(ICMECAT)
    assert_events(events)
    assert len(events) == 40
    assert list(events.columns) == ["start", "end", "label", "mo_start", "spacecraft", "event_id"]
    assert set(events["label"]) == {"ICME"}
    psp = events.set_index("event_id").loc["ICME_PSP_MOESTL_20190315_01"]
    assert psp["start"] == pd.Timestamp("2019-03-15 09:00")
    assert psp["mo_start"] == pd.Timestamp("2019-03-15 12:11")
    assert psp["end"] == pd.Timestamp("2019-03-15 17:49")


def test_icmecat_spacecraft_selection_ignores_case_and_dash():
    events = read_icmecat(ICMECAT, spacecraft="stereoa")
    assert len(events) == 5
    assert set(events["spacecraft"]) == {"STEREO-A"}
    both = read_icmecat(ICMECAT, spacecraft=["STEREO-A", "stereo_b"])
    assert set(both["spacecraft"]) == {"STEREO-A", "STEREO-B"}


def test_icmecat_empty_selection_lists_valid_spacecraft():
    with pytest.raises(PlanetMLError) as err:
        read_icmecat(ICMECAT, spacecraft="NOPE")
    message = str(err.value)
    assert "NOPE" in message and "STEREO-A" in message and "MESSENGER" in message
    assert "icmecat_v20_excerpt.csv" in message


def test_icmecat_end_before_start_names_file_and_line(tmp_path):
    frame = pd.read_csv(ICMECAT)
    frame.loc[3, "mo_end_time"] = "2000-01-01 00:00:00"
    path = tmp_path / "icmecat_bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataFormatError, match=r"icmecat_bad.csv: event at line 5 ends"):
        read_icmecat(path)


def test_icmecat_missing_column_lists_found(tmp_path):
    frame = pd.read_csv(ICMECAT).drop(columns=["mo_end_time"])
    path = tmp_path / "icmecat_cut.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(
        DataFormatError, match=r"missing column\(s\) \['mo_end_time'\]; found .*icme_start_time"
    ):
        read_icmecat(path)


def test_missing_file_names_path(tmp_path):
    with pytest.raises(PlanetMLError, match="absent.csv: file not found"):
        read_icmecat(tmp_path / "absent.csv")


def test_parse_times_converts_offsets_to_utc():
    times = parse_times(pd.Series(["2019-01-01T01:00:00+01:00", "2019-01-01 00:30"]), "f", "t")
    assert times.tolist() == [pd.Timestamp("2019-01-01 00:00"), pd.Timestamp("2019-01-01 00:30")]


# Philpott -------------------------------------------------------------------


def test_philpott_pairs_boundaries_per_orbit():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        events = read_philpott(PHILPOTT)
    assert_events(events)
    assert events["label"].value_counts().to_dict() == {
        "bow_shock_in": 26,
        "magnetopause_in": 25,
        "magnetopause_out": 24,
        "bow_shock_out": 24,
    }
    orbit12 = events[events["orbit"] == 12].set_index("label")
    assert orbit12.loc["bow_shock_in", "start"] == pd.Timestamp("2011-03-23 23:47:02.700")
    assert orbit12.loc["bow_shock_in", "end"] == pd.Timestamp("2011-03-23 23:59:44.400")
    assert orbit12.loc["bow_shock_in", "x_mso_km"] == pytest.approx(6275.334)
    # outbound magnetopause: from boundary 5 (inner) to 6 (outer)
    assert orbit12.loc["magnetopause_out", "start"] == pd.Timestamp("2011-03-24 02:14:46.100")
    assert orbit12.loc["magnetopause_out", "end"] == pd.Timestamp("2011-03-24 02:15:33.600")


def test_philpott_ignores_extra_boundaries():
    events = read_philpott(PHILPOTT)
    # orbit 36 has boundaries 1, 2, 9 and orbit 37 only 10
    assert events[events["orbit"] == 36]["label"].tolist() == ["bow_shock_in"]
    assert 37 not in set(events["orbit"])


def test_philpott_half_pair_dropped_with_warning(tmp_path):
    lines = _lines(PHILPOTT)
    assert lines[2].split(",")[2] == "2"  # orbit 12, boundary 2
    path = _write_lines(tmp_path / "philpott_cut.csv", lines[:2] + lines[3:])
    with pytest.warns(UserWarning, match="dropped 1 boundary pair"):
        events = read_philpott(path)
    assert "bow_shock_in" not in set(events[events["orbit"] == 12]["label"])
    assert len(events) == 98


def test_philpott_repeated_boundary_is_an_error(tmp_path):
    lines = _lines(PHILPOTT)
    path = _write_lines(tmp_path / "philpott_twice.csv", lines[:3] + [lines[2]] + lines[3:])
    with pytest.raises(DataFormatError, match="boundary 2 appears twice in orbit 12"):
        read_philpott(path)


def test_philpott_bad_timestamp_names_line(tmp_path):
    lines = _lines(PHILPOTT)
    lines[5] = lines[5].replace("2011-03-24", "24/03/2011x")
    path = _write_lines(tmp_path / "philpott_time.csv", lines)
    with pytest.raises(
        DataFormatError, match=r"philpott_time.csv: unparsable time '24/03/2011x.*line 6"
    ):
        read_philpott(path)


# Winslow --------------------------------------------------------------------


def test_winslow_bow_shock_intervals():
    events = read_winslow(WINSLOW_BS)
    assert_events(events)
    assert len(events) == 40
    assert set(events["label"]) == {"bow_shock"}
    first = events.iloc[0]
    # 20110324 4.586 h -> 04:35:09.6, 7.539 h -> 07:32:20.4, ctype o
    assert first["start"] == pd.Timestamp("2011-03-24 04:35:09.600")
    assert first["end"] == pd.Timestamp("2011-03-24 07:32:20.400")
    assert first["direction"] == "out"
    assert first["catalog"] == "Winslow"
    assert first["x_msm_rm"] == pytest.approx(1.7701501)
    assert set(events["direction"]) == {"in", "out"}


def test_winslow_label_from_name_and_hour_24():
    events = read_winslow(WINSLOW_MP)
    assert set(events["label"]) == {"magnetopause"}
    assert set(events["catalog"]) == {"James"}
    # "20130330 24.0" is midnight of the next day
    assert pd.Timestamp("2013-03-31 00:00") in set(events["end"])


def test_winslow_boundary_argument(tmp_path):
    path = tmp_path / "crossings.dat"
    path.write_text(WINSLOW_BS.read_text())
    with pytest.raises(PlanetMLError, match="boundary="):
        read_winslow(path)
    assert set(read_winslow(path, boundary="bow_shock")["label"]) == {"bow_shock"}


def test_winslow_bad_ctype_and_end_before_start(tmp_path):
    lines = _lines(WINSLOW_BS)
    bad_ctype = lines[:3] + [lines[3].replace(" o ", " x ")] + lines[4:]
    with pytest.raises(DataFormatError, match="ctype 'x' .* line 4"):
        read_winslow(_write_lines(tmp_path / "bowshock_ctype.dat", bad_ctype))
    swapped = lines[:2] + [
        lines[2].replace("20110324 12.303 20110324 12.758", "20110324 12.758 20110324 12.303")
    ]
    with pytest.raises(DataFormatError, match="bowshock_swap.dat: event at line 3 ends"):
        read_winslow(_write_lines(tmp_path / "bowshock_swap.dat", swapped + lines[3:]))


# Cluster --------------------------------------------------------------------


def test_cluster_crossings_are_instantaneous():
    events = read_cluster_crossings(CLUSTER)
    assert_events(events)
    assert len(events) == 40
    assert (events["start"] == events["end"]).all()
    assert set(events["label"]) == {"bow_shock"}
    assert set(events["spacecraft"]) == {"C1", "C2", "C3", "C4"}
    assert events.iloc[0][["start", "spacecraft"]].tolist() == [
        pd.Timestamp("2001-01-14 22:01:12"),
        "C2",
    ]


def test_cluster_bad_spacecraft(tmp_path):
    lines = _lines(CLUSTER)
    lines[1] = lines[1].replace("C2", "C7")
    with pytest.raises(DataFormatError, match="'C7' is not C1-C4 at line 2"):
        read_cluster_crossings(_write_lines(tmp_path / "cluster.txt", lines))


def test_messenger_orbits_are_events_rounded_to_the_second():
    orbits = read_messenger_orbits(ORBITS)
    assert_events(orbits)
    assert len(orbits) == 20 and orbits["orbit"].tolist() == list(range(11, 31))
    assert set(orbits["label"]) == {"orbit"}
    # 20110323 19.6316662 h -> 19:37:53.998 -> 19:37:54; 20110324 7.6983333 h -> 07:41:54.
    assert (orbits.at[1, "start"], orbits.at[1, "end"]) == (pd.Timestamp("2011-03-23 19:37:54"),
                                                            pd.Timestamp("2011-03-24 07:41:54"))


def test_messenger_orbits_bad_number_names_line(tmp_path):
    bad = tmp_path / "orbits.dat"
    bad.write_text("   11 20110323 15.9099998 20110323 19.6261120\n  1x2 20110323 19.6316662 20110324  7.6983333\n")
    with pytest.raises(DataFormatError, match=f"{bad}: non-integer '1x2' in column 'orbit' at line 2"):
        read_messenger_orbits(bad)
