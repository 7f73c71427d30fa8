"""The fault matrix of the readers: every public ``read_*`` of ``planetml_lib.io`` meets empty, truncated,
garbled and wrong-kind copies of a good file in its format and answers with one PlanetMLError line
naming the file. A new reader fails ``test_every_reader_is_in_the_matrix`` until it has a row."""

import gzip
import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from damage import DAMAGE

import planetml_lib.io
from planetml_lib.cases import CASES
from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.catalogs import (
    read_cluster_crossings,
    read_icmecat,
    read_messenger_orbits,
    read_philpott,
    read_winslow,
)
from planetml_lib.io.cdf import read_cdaweb, read_cdf
from planetml_lib.io.cef import read_cef
from planetml_lib.io.cef_writer import write_cef
from planetml_lib.io.cluster import read_cluster
from planetml_lib.io.export import read_catalog, write_catalog
from planetml_lib.io.geotiff import read_geotiff, read_outlines, write_objects
from planetml_lib.io.mascs import read_mascs_virs
from planetml_lib.io.messenger_csv import read_messenger_csv
from planetml_lib.io.omni import read_omni2
from planetml_lib.io.pds import read_messenger_mag
from planetml_lib.io.solarwind import read_solarwind_csv
from planetml_lib.io.spectra import (
    read_envi_library,
    read_spectra,
    read_spectra_csv,
    read_spectrum_ascii,
    read_spectrum_json,
)
from planetml_lib.io.tables import read_table
from planetml_lib.io.unit_maps import read_unit_map, write_unit_map

TEST_DATA = Path(__file__).parent / "data"
MASCS = TEST_DATA / "mascs"
WIND = sorted((DATA_DIR / "icme" / "cdaweb_wind_2024-05").glob("*.cdf"))


def _catalogue(folder, suffix):
    events = read_icmecat(TEST_DATA / "icmecat_v20_excerpt.csv")
    return write_catalog(events, folder / f"events{suffix}")


def _omni2(folder):
    path = folder / "omni2_2017.dat"  # as the archive serves it: text, so damage cuts lines, not gzip blocks
    path.write_bytes(gzip.decompress((DATA_DIR / "icme" / "omni2_2017_jan.dat.gz").read_bytes()))
    return path


def _envi_beside_header(path):
    """Read an ENVI library's data file with the good header copied beside it (the matrix damages the data)."""
    header = path.with_suffix(".hdr")
    if not header.exists():
        header.write_bytes((TEST_DATA / "relab_olivine_opx.hdr").read_bytes())
    return read_envi_library(path)


def _unit_table(folder):
    """A unit map written as a CSV table (the map-units contract)."""
    cells = pd.DataFrame({"lat": [-1.5, -1.5, 1.5, 1.5], "lon": [0.5, 3.5, 0.5, 3.5], "unit": [0, 2, 1, 1],
                          "confidence": [1.0, 0.6, 0.8, 0.9]})
    return write_unit_map(cells, folder / "units.csv")


def _mascs_beside_label(path):
    """Read a MASCS VIRS data file with the good label and format file copied beside it (the matrix damages
    the binary table; tests/test_io_mascs.py damages the label)."""
    for name in ("virsvd_ob2_13051_143720.lbl", "VIRSVD.FMT"):
        if not (path.parent / name).exists():
            (path.parent / name).write_bytes((MASCS / name).read_bytes())
    return read_mascs_virs(path)


def _cluster_cef(folder):
    """A self-contained CSA FGM file (header inside: the matrix damages one file) of a SIMULATED minute of C1."""
    time = pd.date_range("2004-02-10", periods=16, freq="4s")
    field = np.tile([3.0, -2.0, 1.0], (16, 1))
    return write_cef({"time": time, "B_vec_xyz_gse": (field, "nT"), "B_mag": (np.linalg.norm(field, axis=1), "nT"),
                      "sc_pos_xyz_gse": (np.tile([95000.0, 1000.0, -2000.0], (16, 1)), "km")},
                     folder / "C1_CP_FGM_SPIN__20040210_000000_V01.cef", "C1_CP_FGM_SPIN", include_header=False)


def _outlines(folder):
    case = CASES["mars_mounds"]
    fast = case.Config.fast()
    scene = case.simulate_scene(fast, seed=1, pixel_m=5.0, size=96)
    return write_objects(case.true_mounds(scene), folder / "mounds.geojson")


#: reader name -> (the reader called on one path, a function writing a good file into a folder).
READERS = {
    "read_icmecat": (read_icmecat, lambda folder: TEST_DATA / "icmecat_v20_excerpt.csv"),
    "read_philpott": (read_philpott, lambda folder: TEST_DATA / "philpott2020_boundaries_excerpt.csv"),
    "read_winslow": (read_winslow, lambda folder: TEST_DATA / "winslow_james_bowshock_excerpt.dat"),
    "read_messenger_orbits": (read_messenger_orbits, lambda folder: TEST_DATA / "messenger_orbits_excerpt.dat"),
    "read_cluster_crossings": (read_cluster_crossings,
                               lambda folder: TEST_DATA / "cluster_bowshock_crossings_excerpt.txt"),
    "read_solarwind_csv": (read_solarwind_csv, lambda folder: TEST_DATA / "stereoa_2019_excerpt.csv"),
    "read_omni2": (read_omni2, _omni2),
    "read_table": (lambda path: read_table(path, ["time_utc"]), lambda folder: TEST_DATA / "stereoa_2019_excerpt.csv"),
    "read_cdf": (read_cdf, lambda folder: WIND[0]),
    "read_cdaweb": (lambda path: read_cdaweb([path, *WIND[1:]]), lambda folder: WIND[0]),
    "read_messenger_mag": (read_messenger_mag, lambda folder: DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB"),
    "read_messenger_csv": (read_messenger_csv, lambda folder: TEST_DATA / "messenger_mag_10s_excerpt.csv"),
    "read_catalog": (read_catalog, lambda folder: _catalogue(folder, ".xml")),
    "read_geotiff": (read_geotiff, lambda folder: CASES["mars_mounds"].example_input(folder)[0]),
    "read_outlines": (read_outlines, _outlines),
    "read_spectra_csv": (read_spectra_csv, lambda folder: TEST_DATA / "relab_spectra_excerpt.csv"),
    "read_spectrum_json": (read_spectrum_json, lambda folder: TEST_DATA / "spectrum_olivine_um.json"),
    "read_spectrum_ascii": (read_spectrum_ascii, lambda folder: TEST_DATA / "spectrum_olivine_um.txt"),
    "read_spectra": (read_spectra, lambda folder: TEST_DATA / "spectrum_olivine_um.txt"),
    "read_envi_library": (_envi_beside_header, lambda folder: TEST_DATA / "relab_olivine_opx.sli"),
    "read_cef": (read_cef, _cluster_cef),
    "read_cluster": (lambda path: read_cluster([path]), _cluster_cef),
    "read_mascs_virs": (_mascs_beside_label, lambda folder: MASCS / "virsvd_ob2_13051_143720.dat"),
    "read_unit_map": (read_unit_map, _unit_table),
}


#: read_table is the generic helper under the table readers: it checks columns, not values, so a row
#: cut short (its last fields empty) is for the reader of each format to refuse.
NOT_ITS_JOB = {("read_table", "truncated_third"), ("read_table", "truncated_two_thirds")}
MATRIX = [(reader, fault) for reader in READERS for fault in DAMAGE if (reader, fault) not in NOT_ITS_JOB]


def public_readers():
    """Every public ``read_*`` function defined in a module of ``planetml_lib.io``."""
    names = set()
    for info in pkgutil.iter_modules(planetml_lib.io.__path__):
        module = importlib.import_module(f"planetml_lib.io.{info.name}")
        names |= {name for name, value in vars(module).items() if name.startswith("read_")
                  and inspect.isfunction(value) and value.__module__ == module.__name__}
    return names


def test_every_reader_is_in_the_matrix():
    assert public_readers() == set(READERS)


@pytest.mark.parametrize("reader, fault", MATRIX, ids=[f"{r}-{f}" for r, f in MATRIX])
def test_a_damaged_file_gives_one_line_naming_it(reader, fault, tmp_path):
    read, good = READERS[reader]
    source = good(tmp_path)
    read(source)  # the row's good file reads
    damaged = tmp_path / "damaged" / source.name
    damaged.parent.mkdir()
    damaged.write_bytes(DAMAGE[fault](source.read_bytes()))
    with pytest.raises(PlanetMLError) as error:
        read(damaged)
    message = str(error.value)
    assert damaged.name in message and "\n" not in message, message
