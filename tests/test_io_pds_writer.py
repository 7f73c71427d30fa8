"""Tests for planetml_lib.io.pds_writer: what it writes reads back through the PDS reader."""

import numpy as np
import pytest

from planetml_lib.datasets import DATA_DIR, load_catalog
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.pds import read_messenger_mag
from planetml_lib.io.pds_writer import write_messenger_mag
from planetml_lib.simulate import simulate_orbits

TAB = DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB"


def test_the_shipped_table_is_written_back_byte_for_byte(tmp_path):
    path, = write_messenger_mag(read_messenger_mag(TAB), tmp_path)
    assert path.name == TAB.name and path.read_bytes() == TAB.read_bytes()


def test_an_orbit_is_written_one_file_a_day_and_reads_back(tmp_path):
    ds = simulate_orbits([1501], load_catalog("philpott2020"), "60s").drop_vars("region")  # over midnight
    ds["bx"][5] = np.nan
    paths = write_messenger_mag(ds, tmp_path)
    assert [p.name for p in paths] == ["MAGMSOSCIAVG12341_60_V08.TAB", "MAGMSOSCIAVG12342_60_V08.TAB"]
    back = read_messenger_mag(paths)
    np.testing.assert_array_equal(back["time"].values, ds["time"].values)
    for name in ("bx", "z_mso", "dbz", "navg"):
        np.testing.assert_allclose(back[name].values, ds[name].values, atol=5e-4)
    assert back.attrs["cadence"] == "60s" and int(back["navg"][0]) == 1200


def test_a_cadence_without_pds_tables_is_refused(tmp_path):
    ds = read_messenger_mag(TAB).assign_attrs(cadence="2s")
    with pytest.raises(PlanetMLError, match="cadence '2s': PDS tables come at 1s, 5s, 10s, 60s"):
        write_messenger_mag(ds, tmp_path)
