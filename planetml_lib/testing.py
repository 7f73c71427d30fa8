"""Contract checks, for the test suite and for anyone adding a case.

``check_case`` runs a science case end to end in fast mode and checks every stage
against the case contract (:mod:`planetml_lib.cases.base`) and the data contracts of its
kind: interval events (Datasets on ``time``, events tables) and raster objects (lists of
scenes on ``(y, x)``, object tables). Its steps (``check_data``, ``check_prediction``,
``check_reload``, ``check_output``, ``check_refuses_training_data``) serve the base tester.
``free_port`` and ``wait_for_port`` start servers for the tests and benchmarks; ``CHROMIUM``,
``CHROMIUM_ARGS``, ``RESULTS_JS`` and ``NOT_BUSY_JS`` drive dashboards in a browser for the browser
tests and the dashboard-load benchmark.
"""

import io
import json
import socket
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from astropy.io import votable
from matplotlib.figure import Figure

from planetml_lib.cases.base import Kind, check_surface
from planetml_lib.cases.kinds import kind_spec
from planetml_lib.dashboards.common import BUSY_TEXT
from planetml_lib.dashboards.serve import LOOPBACK
from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.mineralogy import sample_keys
from planetml_lib.vo.epncore import CORE, EPNTAP_UTYPE, to_epncore, write_epncore

CHROMIUM = Path("/usr/bin/chromium")
# Debian's chromium, headless and offline: no sandbox (root in containers), no GPU, no
# background traffic to Google services that would only time out here.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# What a dashboard shows, as one string: HTML outputs (tables, status lines) and figures (image data).
RESULTS_JS = """() => Array.from(document.querySelectorAll('.widget-html-content, .jupyter-widgets img'))
    .map(e => e.tagName === 'IMG' ? e.src : e.textContent).join('\\n')"""
# True once no change is being computed (dashboards.common.run_guarded shows BUSY_TEXT meanwhile).
NOT_BUSY_JS = f"() => !document.body.textContent.includes({json.dumps(BUSY_TEXT)})"


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


def _series_splits(data):
    """Check time-series splits; return the test series (what ``predict`` takes)."""
    assert {"train", "validation", "test"} <= set(data), f"load_data returned {sorted(data)}"
    for split in data.values():
        assert_timeseries_contract(split)
    return data["test"]


def _scene_splits(data):
    """Check lists of scenes (validation tiles come from spatial blocks of the training scenes);
    return the first test scene (what ``predict`` takes)."""
    assert {"train", "test"} <= set(data), f"load_data returned {sorted(data)}"
    for split in data.values():
        assert isinstance(split, list) and split, "a raster case's splits are non-empty lists of scenes"
        for scene in split:
            assert_image_contract(scene)
    return data["test"][0]


def _series_result(result, ds):
    assert result.values.sizes["time"] == ds.sizes["time"], "predictions do not cover the input time axis"
    assert_events_contract(result.events)


def _objects_result(result, scene):
    assert result.values.shape == (scene.sizes["y"], scene.sizes["x"]), "predictions do not cover the scene"
    assert_objects_contract(result.objects)


def assert_spectra_contract(ds):
    """Check the spectra contract: ``reflectance (sample, wavelength)``, wavelengths in nm, increasing."""
    assert isinstance(ds, xr.Dataset), f"expected an xarray.Dataset, got {type(ds).__name__}"
    assert ds["reflectance"].dims == ("sample", "wavelength"), f"reflectance dims {ds['reflectance'].dims}"
    assert ds["wavelength"].attrs.get("units") == "nm", "wavelength lacks units 'nm'"
    assert np.all(np.diff(ds["wavelength"].values) > 0), "wavelengths are not increasing"


def _table_splits(data):
    """Check spectra splits, no physical sample in two of them; return the test spectra."""
    assert {"train", "validation", "test"} <= set(data), f"load_data returned {sorted(data)}"
    keys = []
    for split in data.values():
        assert_spectra_contract(split)
        keys.append(set(sample_keys(split)))
    assert all(not (a & b) for i, a in enumerate(keys) for b in keys[i + 1:]), "a physical sample is in two splits"
    return data["test"]


def _rows_result(result, ds):
    assert len(result.rows) == ds.sizes["sample"], "the table does not hold one row per input spectrum"
    assert result.values.sizes["sample"] == ds.sizes["sample"], "member predictions do not cover the input"


def assert_cube_contract(cube):
    """Check the map-cube contract: ``reflectance (wavelength, lat, lon)``, wavelengths in nm, increasing."""
    assert isinstance(cube, xr.Dataset), f"expected an xarray.Dataset, got {type(cube).__name__}"
    assert cube["reflectance"].dims == ("wavelength", "lat", "lon"), f"reflectance dims {cube['reflectance'].dims}"
    assert cube["wavelength"].attrs.get("units") == "nm", "wavelength lacks units 'nm'"
    assert np.all(np.diff(cube["wavelength"].values) > 0), "wavelengths are not increasing"


def _cube_splits(data):
    """Check cube splits, no mapped cell in two of them; return the test cube."""
    assert {"train", "validation", "test"} <= set(data), f"load_data returned {sorted(data)}"
    observed = []
    for split in data.values():
        assert_cube_contract(split)
        observed.append(np.isfinite(split["reflectance"]).any("wavelength").values)
    assert not (observed[0] & observed[1]).any() and not (observed[0] & observed[2]).any(), "a cell is in two splits"
    return data["test"]


def _units_result(result, cube):
    assert result.values.dims == ("lat", "lon") and result.values.shape == (cube.sizes["lat"], cube.sizes["lon"])
    mapped = int((result.values.values >= 0).sum())
    assert len(result.cells) == mapped, "the unit table does not hold one row per mapped cell"


#: Per kind: check ``load_data``'s splits (returning one input of ``predict``), check ``predict``'s
#: result on it, and take a piece of the training split as ``evaluate`` takes it.
KIND_CHECKS = {
    Kind.INTERVAL_EVENTS: (_series_splits, _series_result, lambda train: train.isel(time=slice(0, 500))),
    Kind.RASTER_OBJECTS: (_scene_splits, _objects_result, lambda train: train[:1]),
    Kind.TABLE_ROWS: (_table_splits, _rows_result, lambda train: train.isel(sample=slice(0, 5))),
    Kind.MAP_UNITS: (_cube_splits, _units_result, lambda train: train.isel(lon=slice(0, 4))),
}


def check_data(case, data):
    """Check ``case.load_data``'s splits against the case's kind; return one input for ``predict``."""
    return KIND_CHECKS[case.KIND][0](data)


def check_prediction(case, trained, item):
    """``case.predict(trained, item)`` checked against the kind's result type and contract; return it."""
    result = case.predict(trained, item)
    expected = kind_spec(case.KIND).result
    assert isinstance(result, expected), f"predict returned {type(result).__name__}, not {expected.__name__}"
    KIND_CHECKS[case.KIND][1](result, item)
    return result


def check_reload(case, trained, folder, item):
    """Save, reload and check that predictions on ``item`` are identical; return the reloaded model."""
    reloaded = case.load_trained(trained.save(folder))
    assert reloaded.metadata.to_dict() == trained.metadata.to_dict(), "the metadata changed in the model folder"
    before, after = case.predict(trained, item), case.predict(reloaded, item)
    np.testing.assert_allclose(np.asarray(before.values, float), np.asarray(after.values, float), rtol=1e-5,
                               atol=1e-6, equal_nan=True)
    pd.testing.assert_frame_equal(pd.DataFrame(before[1]).drop(columns="geometry", errors="ignore"),
                                  pd.DataFrame(after[1]).drop(columns="geometry", errors="ignore"))
    return reloaded


def check_output(case, result, folder):
    """``write_output`` in each suffix of the kind, read back: one row per object or event; and the
    catalogue as EPN-TAP rows (:func:`check_epntap`)."""
    spec = kind_spec(case.KIND)
    for suffix in spec.suffixes:
        back = spec.read(case.write_output(result, folder / f"output{suffix}"))
        assert len(back) == len(result[1]), f"{suffix}: wrote {len(result[1])} {spec.noun}, read {len(back)}"
    check_epntap(case, result[1], folder / "epn_core.xml")


def check_epntap(case, catalogue, path):
    """The catalogue as EPN-TAP 2.0 rows: one granule per row, the case's target, a VOTable that
    astropy validates with the EPN-TAP utype and every mandatory column's UCD and unit."""
    rows = to_epncore(catalogue, case.OBSERVATION, model=case.NAME)
    assert len(rows) == len(catalogue) and rows["granule_uid"].is_unique, "not one unique granule per row"
    assert set(rows["target_name"]) <= {case.OBSERVATION.target_name}, "rows name another target"
    if len(rows) and "start" in catalogue.columns:
        assert (rows["time_min"] <= rows["time_max"]).all() and rows["time_min"].notna().all(), "bad time_min/max"
    report = io.StringIO()
    assert votable.validate(str(write_epncore(rows, path)), output=report), report.getvalue()
    table = votable.parse_single_table(str(path))
    assert table.utype == EPNTAP_UTYPE, f"table utype {table.utype!r}"
    fields = {field.name: field for field in table.fields}
    for column in CORE:
        field = fields[column.name]
        assert (field.ucd, str(field.unit or "")) == (column.ucd, column.unit), f"{column.name}: UCD or unit"


def check_refuses_training_data(case, trained, data):
    """``evaluate`` refuses the training split, and labels its scores 'training' when allowed."""
    item = KIND_CHECKS[case.KIND][2](data["train"])
    try:
        case.evaluate(trained, item)
    except PlanetMLError as error:
        assert "training data" in str(error)
    else:
        raise AssertionError("evaluate scored training data without allow_training_data=True")
    metrics = case.evaluate(trained, item, allow_training_data=True)
    assert set(metrics["data"]) == {"training"}, "scores on training data are not labelled 'training'"


def check_case(case, workdir):
    """Run ``case`` end to end in fast mode in ``workdir`` and check every stage's contract.

    Trains, saves, reloads (predictions must be identical), predicts, writes and reads the
    output, reads and predicts the case's ``example_input``, evaluates (refusing training data)
    and plots on the test split, with the checks of the case's ``KIND``. Returns the metrics.
    """
    check_surface(case)
    config = case.Config.fast()
    data = case.load_data(config)
    item = check_data(case, data)
    trained = case.train(config, data)
    reloaded = check_reload(case, trained, workdir / "model", item)
    check_output(case, check_prediction(case, reloaded, item), workdir)
    example = case.read_input(case.example_input(workdir / "example"))
    check_prediction(case, reloaded, example)
    check_refuses_training_data(case, reloaded, data)
    metrics = case.evaluate(reloaded, data["test"])
    assert_metrics_contract(metrics)
    assert set(metrics["data"]) == {"held-out"}, "test scores must be labelled 'held-out'"
    assert isinstance(case.plot_results(reloaded, data["test"]), Figure), "plot_results must return a Figure"
    return metrics
