"""Notebooks are committed stripped, stay thin (no def/class) and have a fast-mode parameter cell."""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").rglob("*.ipynb"))
NOTEBOOKS = [path for path in NOTEBOOKS if ".ipynb_checkpoints" not in path.parts]


def code_cells(path):
    return [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def test_there_are_notebooks():
    assert any(path.name == "00_getting_started.ipynb" for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    for cell in code_cells(path):
        assert not cell.outputs and cell.execution_count is None, f"{path.name}: run nbstripout on it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_function_or_class_definitions(path):
    for cell in code_cells(path):
        found = re.search(r"^\s*(async\s+def|def|class)\s", cell.source, re.M)
        assert not found, f"{path.name} defines {found.group(0).strip()!r}: move it into planetml_lib"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name != "dashboard.ipynb"], ids=lambda p: p.name)
def test_fast_mode_parameter_cell(path):
    sources = [cell.source for cell in code_cells(path)]
    assert any('FAST = os.environ.get("PLANETML_FAST") == "1"' in source for source in sources), (
        f"{path.name} lacks the parameter cell FAST = os.environ.get(\"PLANETML_FAST\") == \"1\"")


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name != "dashboard.ipynb"], ids=lambda p: p.name)
def test_figures_show_as_images(path):
    # Library plots are matplotlib Figure objects, not pyplot ones: Jupyter draws them only once the
    # inline backend is on, else it prints "<Figure size ...>".
    assert code_cells(path)[0].source.startswith("%matplotlib inline"), f"{path.name}: start with %matplotlib inline"


SKELETON = ["Overview", "Prerequisites", "Imports", "Summary", "What next", "References"]


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name != "dashboard.ipynb"], ids=lambda p: p.name)
def test_cookbook_skeleton(path):
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), f"{path.name}: start with a title"
    headings = [line[3:].strip() for cell in cells if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("## ")]
    missing = [name for name in SKELETON if name not in headings]
    assert not missing, f"{path.name} lacks the sections {missing}"
    positions = [headings.index(name) for name in SKELETON]
    assert positions == sorted(positions), f"{path.name}: sections out of order, expected {SKELETON}"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name != "dashboard.ipynb"], ids=lambda p: p.name)
def test_fast_mode_runs_the_same_code_path(path):
    for cell in code_cells(path):
        assert not re.search(r"\bif FAST else\b.*\b(load_trained|train)\(|\b(load_trained|train)\(.*\bif FAST else",
                             cell.source), f"{path.name}: FAST may shrink the data, not switch training and loading"
