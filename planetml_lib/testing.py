"""Contract checks, for the test suite and for anyone adding a case.

``check_case`` runs a science case end to end in fast mode and checks every stage
against the data contracts of DESIGN.md: time-series cases (Datasets on ``time``,
events tables) and image cases (lists of scenes on ``(y, x)``, object tables).
``free_port`` and ``wait_for_port`` start servers for the tests and benchmarks.
"""

import socket
import time

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from planetml_lib.dashboards.serve import LOOPBACK
from planetml_lib.errors import PlanetMLError


def free_port():
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for_port(port, process=None, deadline=60):
    """Wait until a server listens on ``port`` of the loopback interface.

    A TCP connect, not a page request, so that nothing (a kernel) starts early. Raises
    :class:`PlanetMLError` if ``process`` (a ``subprocess.Popen``) exits first or the
    deadline (seconds) passes.
    """
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        if process is not None and process.poll() is not None:
            raise PlanetMLError(f"the server exited with {process.returncode} before listening on port {port}")
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise PlanetMLError(f"nothing listened on port {port} within {deadline} s")


def assert_timeseries_contract(ds):
    """Check the time-series contract: one sorted datetime64[ns] ``time`` dimension, units on variables."""
    assert isinstance(ds, xr.Dataset), f"expected an xarray.Dataset, got {type(ds).__name__}"
    assert list(ds.dims) == ["time"], f"expected the single dimension 'time', got {list(ds.dims)}"
    assert ds["time"].dtype == np.dtype("datetime64[ns]"), f"time dtype is {ds['time'].dtype}"
    assert ds.indexes["time"].is_monotonic_increasing, "time is not sorted"
    for name, da in ds.data_vars.items():
        if name not in ("valid",) and not name.endswith("_label"):
            assert "units" in da.attrs, f"variable {name!r} has no units attribute"


def assert_events_contract(events):
    """Check the events contract: start, end, label; sorted; end >= start."""
    assert isinstance(events, pd.DataFrame), f"expected a DataFrame, got {type(events).__name__}"
    missing = {"start", "end", "label"} - set(events.columns)
    assert not missing, f"events lack columns {sorted(missing)}"
    for column in ("start", "end"):
        assert pd.api.types.is_datetime64_any_dtype(events[column]), f"{column} is {events[column].dtype}"
    assert events["start"].is_monotonic_increasing, "events are not sorted by start"
    assert (events["end"] >= events["start"]).all(), "an event ends before it starts"


def assert_image_contract(scene):
    """Check the image contract: a Dataset on ``(y, x)`` with ``pixel_m``, ``crs`` and ``transform`` in attrs."""
    assert isinstance(scene, xr.Dataset), f"expected an xarray.Dataset, got {type(scene).__name__}"
    assert set(scene.dims) == {"y", "x"}, f"expected the dimensions y, x, got {list(scene.dims)}"
    missing = {"pixel_m", "crs", "transform"} - set(scene.attrs)
    assert not missing, f"scene attrs lack {sorted(missing)}"
    assert len(scene.attrs["transform"]) == 6, "transform must hold the six affine numbers"


def assert_objects_contract(objects):
    """Check the objects contract: a GeoDataFrame of polygons with ``label`` and ``score``."""
    import geopandas as gpd

    assert isinstance(objects, gpd.GeoDataFrame), f"expected a GeoDataFrame, got {type(objects).__name__}"
    missing = {"geometry", "label", "score"} - set(objects.columns)
    assert not missing, f"objects lack columns {sorted(missing)}"
    assert objects.geometry.is_valid.all(), "an object's outline is not a valid polygon"


def assert_metrics_contract(metrics):
    """Check the tidy metrics contract: columns metric, class, value; finite or NaN numbers."""
    assert isinstance(metrics, pd.DataFrame), f"expected a DataFrame, got {type(metrics).__name__}"
    missing = {"metric", "class", "value"} - set(metrics.columns)
    assert not missing, f"metrics lack columns {sorted(missing)}"
    assert len(metrics) > 0, "the metrics table is empty"
    assert pd.api.types.is_numeric_dtype(metrics["value"]), "metric values are not numeric"


def _check_time_series(case, data, trained, reloaded):
    """Predict the test split twice (saved and reloaded model) and check the time-series outputs."""
    for split in data.values():
        assert_timeseries_contract(split)
    test = data["test"]
    probability, events = case.predict(trained, test)
    probability_again, _ = case.predict(reloaded, test)
    np.testing.assert_allclose(probability.values, probability_again.values, rtol=1e-5, equal_nan=True)
    assert probability.sizes["time"] == test.sizes["time"], "predictions do not cover the input time axis"
    assert_events_contract(events)


def _check_images(case, data, trained, reloaded):
    """Predict the first test scene twice (saved and reloaded model) and check the image outputs."""
    for split in data.values():
        assert isinstance(split, list) and split, "an image case's splits are non-empty lists of scenes"
        for scene in split:
            assert_image_contract(scene)
    scene = data["test"][0]
    probability, objects = case.predict(trained, scene)
    probability_again, _ = case.predict(reloaded, scene)
    np.testing.assert_allclose(probability.values, probability_again.values, rtol=1e-5, atol=1e-6, equal_nan=True)
    assert probability.shape == (scene.sizes["y"], scene.sizes["x"]), "predictions do not cover the scene"
    assert_objects_contract(objects)


def check_case(case, workdir):
    """Run ``case`` end to end in fast mode in ``workdir`` and check every stage's contract.

    Trains, saves, reloads (predictions must be identical), predicts, evaluates and plots
    on the test split. Time-series cases have ``train``, ``validation`` and ``test``
    Datasets; image cases have ``train`` and ``test`` lists of scenes (validation tiles
    come from spatial blocks of the training scenes). Returns the metrics DataFrame.
    """
    config = case.Config.fast()
    data = case.load_data(config)
    images = isinstance(data.get("test"), list)
    expected = {"train", "test"} if images else {"train", "validation", "test"}
    assert expected <= set(data), f"load_data returned {sorted(data)}"
    trained = case.train(config, data)
    reloaded = case.load_trained(trained.save(workdir / "model"))
    (_check_images if images else _check_time_series)(case, data, trained, reloaded)
    metrics = case.evaluate(reloaded, data["test"])
    assert_metrics_contract(metrics)
    assert isinstance(case.plot_results(reloaded, data["test"]), Figure), "plot_results must return a Figure"
    return metrics
