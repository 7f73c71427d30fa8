"""Contract checks, for the test suite and for anyone adding a case.

``check_case`` runs a science case end to end in fast mode and checks every stage
against the data contracts of DESIGN.md.
"""

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure


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


def assert_metrics_contract(metrics):
    """Check the tidy metrics contract: columns metric, class, value; finite or NaN numbers."""
    assert isinstance(metrics, pd.DataFrame), f"expected a DataFrame, got {type(metrics).__name__}"
    missing = {"metric", "class", "value"} - set(metrics.columns)
    assert not missing, f"metrics lack columns {sorted(missing)}"
    assert len(metrics) > 0, "the metrics table is empty"
    assert pd.api.types.is_numeric_dtype(metrics["value"]), "metric values are not numeric"


def check_case(case, workdir):
    """Run ``case`` end to end in fast mode in ``workdir`` and check every stage's contract.

    Trains, saves, reloads (predictions must be identical), predicts, evaluates and plots
    on the test split. Returns the metrics DataFrame for further checks.
    """
    config = case.Config.fast()
    data = case.load_data(config)
    assert {"train", "validation", "test"} <= set(data), f"load_data returned {sorted(data)}"
    for split in data.values():
        assert_timeseries_contract(split)
    trained = case.train(config, data)
    reloaded = case.load_trained(trained.save(workdir / "model"))
    test = data["test"]
    probability, events = case.predict(trained, test)
    probability_again, _ = case.predict(reloaded, test)
    np.testing.assert_allclose(probability.values, probability_again.values, rtol=1e-5, equal_nan=True)
    assert probability.sizes["time"] == test.sizes["time"], "predictions do not cover the input time axis"
    assert_events_contract(events)
    metrics = case.evaluate(reloaded, test)
    assert_metrics_contract(metrics)
    assert isinstance(case.plot_results(reloaded, test), Figure), "plot_results must return a Figure"
    return metrics
