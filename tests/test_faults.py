"""A fault matrix: damaged, truncated, wrong-kind and degenerate inputs through `planetml predict` of every
case end in one line naming the file, exit code 2 and no output file."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from planetml_lib.cli import main
from planetml_lib.datasets import DATA_DIR
from planetml_lib.simulate.mars_terrain import mars_equirectangular_wkt

WIND = sorted((DATA_DIR / "icme" / "cdaweb_wind_2024-05").glob("*.cdf"))
STEREO = DATA_DIR / "icme" / "stereoa_2019_10min.csv.gz"
TAB = Path(__file__).parent / "data" / "MAGMSOSCIAVG11083_01_V08.TAB"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(64)


def write_dtm(path, values, nodata=None):
    """A single-band float GeoTIFF in a Mars equirectangular CRS with 5 m pixels."""
    values = np.asarray(values, dtype=np.float32)
    with rasterio.open(path, "w", driver="GTiff", count=1, height=values.shape[0], width=values.shape[1],
                       dtype="float32", crs=mars_equirectangular_wkt(0.0, 0.0),
                       transform=Affine(5.0, 0, 0, 0, -5.0, 0), nodata=nodata) as dst:
        dst.write(values[None])
    return path


def truncated(source, fraction):
    """The bytes of ``source`` cut at ``fraction`` of its length, inside a record."""
    data = source.read_bytes()
    cut = int(len(data) * fraction)
    if b"\n" in data[:cut]:  # text: cut inside a record, since a cut at a record end is a valid shorter file
        cut = data.rfind(b"\n", 0, cut) + 5
    return data[:cut]


def garbled(source):
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 48] = b"\xff\xfe garbled \x00 bytes \x01\x02 in the middle \x03\xff"
    return bytes(data)


#: case -> (the file to damage, the other input files, output suffix, faults that apply to the format).
INPUTS = {
    "icme": (STEREO, [], ".csv", ("empty", "cut_third", "cut_two_thirds", "garbled", "picture")),
    "icme_cdf": (WIND[0], WIND[1:], ".csv", ("empty", "cut_third", "cut_two_thirds", "picture")),
    "solarwind_tutorial": (STEREO, [], ".csv", ("empty", "cut_third", "picture")),
    "mercury_boundaries": (TAB, [], ".csv", ("empty", "cut_third", "cut_two_thirds", "garbled", "picture")),
    "mars_mounds": (None, [], ".gpkg", ("empty", "cut_third", "cut_two_thirds", "picture", "one_pixel",
                                        "all_nodata")),
}
FAULTS = {
    "empty": lambda source: b"",
    "cut_third": lambda source: truncated(source, 1 / 3),
    "cut_two_thirds": lambda source: truncated(source, 2 / 3),
    "garbled": garbled,
    "picture": lambda source: PNG,
}
MATRIX = [(name, fault) for name, (*_, faults) in INPUTS.items() for fault in faults]


@pytest.fixture(scope="module")
def dtm(tmp_path_factory):
    rng = np.random.default_rng(0)
    return write_dtm(tmp_path_factory.mktemp("dtm") / "scene.tif", rng.normal(0, 5, (64, 64)))


@pytest.mark.parametrize("name, fault", MATRIX, ids=[f"{n}-{f}" for n, f in MATRIX])
def test_a_bad_input_ends_in_one_line_and_exit_2(name, fault, dtm, tmp_path, capsys):
    source, others, suffix, _ = INPUTS[name]
    source = source or dtm
    damaged = tmp_path / source.name
    if fault == "one_pixel":
        write_dtm(damaged, [[1.0]])
    elif fault == "all_nodata":
        write_dtm(damaged, np.full((16, 16), -9999.0), nodata=-9999.0)
    else:
        damaged.write_bytes(FAULTS[fault](source))
    for other in others:
        shutil.copy(other, tmp_path / other.name)
    output = tmp_path / "out" / f"catalogue{suffix}"
    args = ["predict", name.removesuffix("_cdf"), "--input", str(damaged),
            *[str(tmp_path / other.name) for other in others], "--output", str(output)]
    code = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, f"exit {code}: {err}"
    assert len(err) == 1 and damaged.name in err[0], err
    assert not output.parent.exists() or not any(output.parent.iterdir()), "a partial output was left"


def test_evaluate_writes_its_table_into_a_new_folder(fast_case, tmp_path, capsys):
    output = tmp_path / "new" / "metrics.csv"
    assert main(["evaluate", "solarwind_tutorial", "--model", str(fast_case("solarwind_tutorial").folder),
                 "--output", str(output)]) == 0
    assert output.read_text().startswith("metric,")
