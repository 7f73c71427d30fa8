"""Settings for every test, doctest and notebook run: no GUI backend, and the usual names in doctests."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr

matplotlib.use("Agg")

# Configuration files the servers execute (they call the loader's get_config), not modules to import.
collect_ignore_glob = ["planetml_lib/dashboards/jupyter_config/*.py"]


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    """Docstring examples use np, pd and xr without importing them, as the docs do."""
    doctest_namespace.update(np=np, pd=pd, xr=xr)
