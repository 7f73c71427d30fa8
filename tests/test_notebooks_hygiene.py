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
