"""Sphinx configuration of the PlanetML book: the repository's notebooks, executed, and its docs pages.

Built from the repository root (``make docs``: ``sphinx-build -c docs . docs/_build/html``) so the
notebooks are read where they live. Every notebook is executed at build time in fast mode
(``PLANETML_FAST=1``), so each figure in the book comes from the code of the commit it was built from;
a cell that raises fails the build. Dashboards are left out: they are Voila apps, opened from the
case pages.
"""

import os
import re
import sys
from pathlib import Path

import planetml_lib

sys.path.insert(0, str(Path(__file__).parent / "book"))  # the results page's extension

os.environ.setdefault("PLANETML_FAST", "1")  # the notebooks' parameter cell reads it

project = "PlanetML"
author = "PlanetML contributors"
copyright = "PlanetML contributors, Apache-2.0"  # noqa: A001 (Sphinx's name)
release = planetml_lib.__version__

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.autosummary", "results_page"]
root_doc = "docs/index"
include_patterns = ["docs/**.md", "notebooks/**.ipynb"]
exclude_patterns = [".venv", "docs/_build", "**/.ipynb_checkpoints", "**/models-local", "**/dashboard.ipynb"]

# execution: every notebook, once, in its own folder; an error in any cell fails the build
nb_execution_mode = "force"
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
myst_heading_anchors = 3

autodoc_member_order = "bysource"
# every public member of each module: the cases' __all__ lists only the names they re-export
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autosummary_generate = False
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_ivar = True  # attributes as fields: autodoc documents the members once, not twice

#: |B|, |r|, |delay|: magnitudes as physicists write them, which reST would read as substitutions
MAGNITUDE = re.compile(r"(?<![\\`|])\|([^|\s][^|\n]*?)\|(?![_|])")


def escape_magnitudes(app, what, name, obj, options, lines):
    """Escape the bars of magnitudes in docstrings, so they show as written (literal blocks stay as they are)."""
    literal = None  # indentation of the line that opened a literal block ("::"), while inside one
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if literal is not None and line.strip() and indent <= literal:
            literal = None
        if literal is None:
            lines[i] = MAGNITUDE.sub(r"\\|\1\\|", line)
            if line.rstrip().endswith("::"):
                literal = indent


html_theme = "sphinx_book_theme"
html_title = "PlanetML"
html_theme_options = {
    "repository_url": "https://github.com/planetml/planetml",
    "repository_branch": "main",
    "path_to_docs": "",
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
    "use_repository_button": True,
    "article_footer_items": ["launch-links.html"],  # every tutorial: Binder, its dashboard, the platforms
}
templates_path = ["book/templates"]
html_extra_path = ["book/root"]  # index.html at the top, pointing to docs/index.html


def setup(app):
    app.connect("autodoc-process-docstring", escape_magnitudes)
