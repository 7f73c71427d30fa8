"""The fault matrix: damaged, truncated, wrong-kind and degenerate inputs, and model folders of other
cases, through `planetml predict` and `planetml evaluate` of every registered case. Each ends in one
line naming the file and the problem, exit code 2, and no output file.

Rows come from the case contract (each case's ``example_input``), so a new case adds its own."""

import gzip

import numpy as np
import pytest
import rasterio
from affine import Affine
from damage import DAMAGE, truncated

from planetml_lib.cases import CASES
from planetml_lib.cli import main
from planetml_lib.datasets import DATA_DIR
from planetml_lib.simulate.mars_terrain import mars_equirectangular_wkt

NAMES = sorted(CASES)
OUTPUT = {"interval_events": "catalogue.csv", "raster_objects": "objects.gpkg", "table_rows": "predictions.csv",
          "map_units": "units.tif"}


def other_case_file(name, tmp_path):
    """The example input of another case with another format (a wrong-kind file)."""
    suffix = CASES[name].example_input(tmp_path / "own")[0].suffix
    for other in NAMES:
        first = CASES[other].example_input(tmp_path / other)[0]
        if first.suffix != suffix:
            return first.read_bytes()
    raise AssertionError("every case reads the same format")


FAULTS = {**{name: lambda data, case, tmp_path, damage=damage: damage(data) for name, damage in DAMAGE.items()},
          "another_case_file": lambda data, case, tmp_path: other_case_file(case, tmp_path)}
MATRIX = [(name, fault) for name in NAMES for fault in FAULTS]


def assert_one_line_exit_2(code, capsys, names, output=None):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, f"exit {code}: {err}"
    assert len(err) == 1 and any(name in err[0] for name in names), err
    assert output is None or not output.parent.exists() or not any(output.parent.iterdir()), "output left behind"
    return err[0]


@pytest.mark.parametrize("name, fault", MATRIX, ids=[f"{n}-{f}" for n, f in MATRIX])
def test_a_damaged_input_ends_in_one_line(name, fault, fast_case, tmp_path, capsys):
    case = CASES[name]
    paths = case.example_input(tmp_path / "input")
    paths[0].write_bytes(FAULTS[fault](paths[0].read_bytes(), name, tmp_path))
    output = tmp_path / "out" / OUTPUT[case.KIND.value]
    code = main(["predict", name, "--model", str(fast_case(name).folder), "--input", *map(str, paths),
                 "--output", str(output)])
    assert_one_line_exit_2(code, capsys, [paths[0].name], output)


@pytest.mark.parametrize("name", NAMES)
def test_the_example_input_itself_is_read_and_predicted(name, fast_case, tmp_path, capsys):
    case = CASES[name]
    paths = case.example_input(tmp_path / "input")
    output = tmp_path / "out" / OUTPUT[case.KIND.value]
    assert main(["predict", name, "--model", str(fast_case(name).folder), "--input", *map(str, paths),
                 "--output", str(output)]) == 0, capsys.readouterr().err
    assert output.exists()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_model_folder_of_every_other_case_is_refused_by_name(name, command, fast_case, tmp_path, capsys):
    paths = CASES[name].example_input(tmp_path / "input")
    for other in NAMES:
        if other == name:
            continue
        folder = fast_case(other).folder
        args = (["predict", name, "--input", *map(str, paths), "--output",
                 str(tmp_path / "out" / OUTPUT[CASES[name].KIND.value])] if command == "predict"
                else ["evaluate", name, "--output", str(tmp_path / "out" / "m.csv")])
        code = main([*args, "--model", str(folder)])
        assert_one_line_exit_2(code, capsys, [f"is a model of case '{other}'"], tmp_path / "out" / "x")


def write_dtm(path, values, nodata=None):
    values = np.asarray(values, dtype=np.float32)
    with rasterio.open(path, "w", driver="GTiff", count=1, height=values.shape[0], width=values.shape[1],
                       dtype="float32", crs=mars_equirectangular_wkt(0.0, 0.0),
                       transform=Affine(5.0, 0, 0, 0, -5.0, 0), nodata=nodata) as dst:
        dst.write(values[None])
    return path


@pytest.mark.parametrize("values, nodata, message", [
    ([[1.0]], None, "1 x 1 pixels"),
    (np.full((16, 16), -9999.0), -9999.0, "no valid pixel"),
    (np.full((16, 16), np.nan), None, "no valid pixel"),
])
def test_degenerate_rasters_are_refused(values, nodata, message, tmp_path, capsys):
    path = write_dtm(tmp_path / "dtm.tif", values, nodata)
    code = main(["predict", "mounds", "--input", str(path), "--output", str(tmp_path / "out" / "m.gpkg")])
    assert message in assert_one_line_exit_2(code, capsys, ["dtm.tif"], tmp_path / "out" / "m.gpkg")


@pytest.mark.parametrize("fraction", [1 / 3, 2 / 3])
def test_a_truncated_compressed_table_is_refused(fraction, tmp_path, capsys):
    path = tmp_path / "stereoa.csv.gz"
    path.write_bytes(truncated((DATA_DIR / "icme" / "stereoa_2019_10min.csv.gz").read_bytes(), fraction))
    code = main(["predict", "icme", "--input", str(path), "--output", str(tmp_path / "out" / "e.csv")])
    assert_one_line_exit_2(code, capsys, ["stereoa.csv.gz"], tmp_path / "out" / "e.csv")


def test_a_table_of_fill_values_only_is_refused(tmp_path, capsys):
    lines = gzip.decompress((DATA_DIR / "icme" / "stereoa_2019_10min.csv.gz").read_bytes()).decode().splitlines()
    rows = [line.split(",") for line in lines[1:200]]
    path = tmp_path / "fill.csv"
    path.write_text("\n".join([lines[0]] + [",".join([row[0], *[""] * (len(row) - 2), row[-1]]) for row in rows]))
    code = main(["predict", "icme", "--input", str(path), "--output", str(tmp_path / "out" / "e.csv")])
    assert "no valid magnetic-field sample" in assert_one_line_exit_2(code, capsys, ["fill.csv"])


def test_a_pds_table_too_short_for_the_model_cadence_is_refused(tmp_path, capsys):
    table = DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB"
    path = tmp_path / table.name
    path.write_bytes(table.read_bytes().splitlines(keepends=True)[0])
    code = main(["predict", "mercury", "--input", str(path), "--output", str(tmp_path / "out" / "c.csv")])
    assert "give at least two" in assert_one_line_exit_2(code, capsys, [table.name])


def test_evaluate_writes_its_table_into_a_new_folder(fast_case, tmp_path):
    output = tmp_path / "new" / "metrics.csv"
    assert main(["evaluate", "solarwind_tutorial", "--model", str(fast_case("solarwind_tutorial").folder),
                 "--output", str(output)]) == 0
    assert output.read_text().startswith("metric,")
