"""ICME case: prediction on user files, missing inputs, short and empty series, the CLI."""

import numpy as np
import pytest

from planetml_lib.cases import icme
from planetml_lib.cases import solarwind_detection as detection
from planetml_lib.cli import main
from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.solarwind import FEATURES
from planetml_lib.testing import assert_events_contract

WIND = sorted((DATA_DIR / "icme" / "cdaweb_wind_2024-05").glob("*.cdf"))


@pytest.fixture
def trained(fast_case):
    """The tiny model trained once per test run in fast mode, reloaded from its folder, and the folder."""
    run = fast_case("icme")
    return icme.load_trained(run.folder), run.folder


def test_training_windows_repeat_each_series_once_per_field_scale():
    config = icme.Config.fast()
    train = icme.load_data(config)["train"]
    scaler = detection._scaler(config).fit(train)
    plain = detection._dataset(config, [train], scaler, augment=False)
    augmented = detection._dataset(config, [train], scaler, augment=True)
    assert len(config.field_scales) == 3 and len(augmented) == 3 * len(plain)
    bt = list(config.variables).index("bt")
    means = [augmented.X[i * len(plain):(i + 1) * len(plain), bt].mean().item() for i in range(3)]
    assert means == sorted(means)  # factors 2/3, 1, 3/2: the scaled field grows with them


def test_crossval_folds_hold_out_each_period_once_and_never_train_on_it():
    config = icme.Config.fast()
    data = icme.load_data(config)
    folds = icme.crossval_folds(config, data)
    assert len(folds) == len(config.crossval_periods) == 2
    held_times = [set(held_out["time"].values) for held_out, _ in folds]
    assert held_times[0].isdisjoint(held_times[1])
    for (held_out, others), held in zip(folds, held_times, strict=True):
        assert all(held.isdisjoint(other["time"].values) for other in others)
        assert held_out.sizes["time"] + sum(other.sizes["time"] for other in others) == sum(map(len, held_times))
    assert not held_times[0] & set(data["validation"]["time"].values), "fast periods lie in the training months"


def test_out_of_fold_probability_covers_every_period_where_data_are_valid():
    config = icme.Config.fast()
    probability, series = icme.out_of_fold_probability(config, icme.load_data(config), epochs=1)
    assert (probability["time"].values == series["time"].values).all()
    valid = series["valid"].values
    assert np.isfinite(probability.values[valid]).all() and np.isnan(probability.values[~valid]).all()


def test_trained_metadata_says_where_the_postprocessing_was_chosen(trained):
    model, _ = trained
    chosen = model.metadata.postprocessing_chosen_on
    assert chosen["periods"] == [list(period) for period in model.config.crossval_periods]
    assert chosen["n_events"] >= 1 and chosen["n_pred"] >= 0
    assert model.metadata.postprocessing["threshold"] in model.config.thresholds


def test_each_model_learns_through_its_registered_system():
    config = icme.Config.fast().as_baseline()
    data = icme.load_data(config)
    dataset = detection._dataset(config, [data["train"]], detection._scaler(config).fit(data["train"]), False)
    assert dataset.y.shape[1:] == (len(config.model_options["widths"]), config.window)  # one overlap per width
    model, scaler, _ = detection.fit_network(config, data)
    probability = detection.model_probability(config, model, data["test"], scaler)
    valid = data["test"]["valid"].values
    assert ((probability.values[valid] >= 0) & (probability.values[valid] <= 1)).all()


def test_read_input_turns_raw_cdaweb_files_into_every_feature():
    ds = icme.read_input(WIND)
    assert set(FEATURES) <= set(ds.data_vars) and "valid" in ds
    assert ds.attrs["cadence"] == "10min" and ds.attrs["spacecraft"] == "Wind"
    after_shock = ds["bt"].sel(time="2024-05-10T17:00").item()
    assert after_shock > 20, "the 10 May 2024 shock should show in the 10-minute field magnitude"


def test_read_input_rejects_other_files(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("x")
    with pytest.raises(PlanetMLError, match="CSV file or CDF files"):
        icme.read_input([path])


def test_predict_on_the_wind_superstorm_and_with_the_field_only(trained):
    model, _ = trained
    ds = icme.read_input(WIND)
    for inputs in (ds, icme.field_only(ds)):
        probability, events = icme.predict(model, inputs)
        assert probability.sizes["time"] == ds.sizes["time"], "a series shorter than a window is padded"
        assert np.isfinite(probability.values[ds["valid"].values]).all()
        assert_events_contract(events)


def test_predict_without_any_field_variable_names_what_is_missing(trained):
    model, _ = trained
    ds = icme.read_input(WIND)[["vt", "np", "tp", "valid"]]
    with pytest.raises(PlanetMLError, match="no magnetic-field variable"):
        icme.predict(model, ds)


def test_all_nan_range_gives_an_empty_catalogue(trained):
    model, _ = trained
    ds = icme.load_data(model.config)["test"].isel(time=slice(0, 500))
    ds = ds.map(lambda da: da * np.nan if da.dtype.kind == "f" else da)
    ds["valid"] = ds["valid"] & False
    probability, events = icme.predict(model, ds)
    assert np.isnan(probability.values).all() and len(events) == 0


def test_cli_predict_writes_a_votable_catalogue(trained, tmp_path, capsys):
    _, folder = trained
    output = tmp_path / "wind.xml"
    args = ["predict", "icme", "--model", str(folder), "--output", str(output), "--input", *map(str, WIND)]
    assert main(args) == 0
    assert output.read_text().lstrip().startswith("<?xml")
    assert "events written to" in capsys.readouterr().out


def test_cli_predict_missing_input_is_one_line(trained, tmp_path, capsys):
    _, folder = trained
    code = main(["predict", "icme", "--model", str(folder), "--input", str(tmp_path / "none.cdf"),
                 "--output", str(tmp_path / "out.csv")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none.cdf" in err[0]
    assert not (tmp_path / "out.csv").exists()


def test_final_model_keeps_the_heldout_settings_and_refuses_to_score_its_training_data(trained):
    heldout, _ = trained
    data = icme.load_data(heldout.config)
    final = icme.train_final(heldout, {"train": data["train"], "test": data["test"]}, {"sample_TSS": 0.1})
    assert final.metadata.postprocessing == heldout.metadata.postprocessing
    assert final.metadata.postprocessing_chosen_on == heldout.metadata.postprocessing_chosen_on
    assert [r["source"] for r in final.metadata.data["train"]] == ["STEREO-B", "STEREO-A"]
    assert final.metadata.metrics["heldout"] == {"data": heldout.metadata.data, "scores": {"sample_TSS": 0.1}}
    with pytest.raises(PlanetMLError, match="inside the training data"):
        icme.evaluate(final, data["test"])
    assert set(icme.evaluate(final, data["test"], allow_training_data=True)["data"]) == {"training"}


def test_the_shipped_model_was_trained_on_the_test_year_and_the_heldout_ones_were_not():
    test = icme.load_data(icme.Config(max_samples=2000))["test"]
    with pytest.raises(PlanetMLError, match="not a test score"):
        icme.evaluate(icme.load_trained(), test)
    assert set(icme.evaluate(icme.load_heldout()["ResUNet++"], test)["data"]) == {"held-out"}


def test_score_table_keeps_rows_without_a_value(trained):
    model, _ = trained
    test = icme.load_data(model.config)["test"]
    rows = [("sample", "TSS"), ("event_strict", "start_error_h_mean")]
    table = icme.score_table({"a": icme.evaluate(model, test), "b": icme.evaluate(model, icme.field_only(test))}, rows)
    assert list(table.index) == rows and list(table.columns) == ["a", "b"]
