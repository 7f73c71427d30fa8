"""ICME case: splits by year, cadence, prediction on user files, wrong units, short and empty series, the CLI."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planetml_lib.cases import icme
from planetml_lib.cases import solarwind_boosting as boosting
from planetml_lib.cases import solarwind_detection as detection
from planetml_lib.cases.series_detection import catalogue_events, probability_to_events
from planetml_lib.cli import main
from planetml_lib.datasets import DATA_DIR, load_sample
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.solarwind import read_solarwind_csv
from planetml_lib.preprocess import events_to_mask
from planetml_lib.preprocess.solarwind import FEATURES
from planetml_lib.testing import assert_events_contract, assert_metrics_contract

WIND = sorted((DATA_DIR / "icme" / "cdaweb_wind_2024-05").glob("*.cdf"))
OMNI_RAW = DATA_DIR / "icme" / "omni2_2017_jan.dat.gz"


@pytest.fixture
def trained(fast_case):
    """The tiny model trained once per test run in fast mode, reloaded from its folder, and the folder."""
    run = fast_case("icme")
    return icme.load_trained(run.folder), run.folder


def test_training_windows_repeat_each_series_once_per_field_scale():
    config = dataclasses.replace(icme.Config.fast(), field_scales=(2 / 3, 1.0, 1.5))
    train = icme.load_data(config)["train"]
    scaler = detection.make_scaler(config).fit(train)
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
    fit_predict = icme.network_fold(config, epochs=1)
    probability, series = icme.out_of_fold_probability(config, icme.load_data(config), fit_predict)
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
    dataset = detection._dataset(config, [data["train"]], detection.make_scaler(config).fit(data["train"]), False)
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
    with pytest.raises(PlanetMLError, match="one CSV file, one OMNI2 file"):
        icme.read_input([path])


def test_predict_on_the_wind_superstorm_and_with_the_field_only(trained):
    model, _ = trained
    ds = icme.read_input(WIND)
    for inputs in (ds, icme.field_only(ds)):
        with pytest.warns(UserWarning, match="less than one model window"):  # 2.5 days at 1 h
            probability, events = icme.predict(model, inputs)
        assert probability.sizes["time"] == ds.sizes["time"], "a series shorter than a window is padded"
        assert np.isfinite(probability.values[ds["valid"].values]).all()
        assert_events_contract(events)
        assert events["score"].between(0, 1).all()


def test_each_event_scores_the_mean_probability_over_its_samples():
    time = pd.date_range("2019-01-01", periods=8, freq="1h")
    probability = np.array([0.1, 0.9, 0.7, 0.3, 0.8, np.nan, 0.2, 0.1])
    valid = np.isfinite(probability)
    events = probability_to_events(probability, time, valid, threshold=0.5, min_duration_h=0, max_gap_h=2,
                                   label="ICME")
    assert len(events) == 1 and events["score"].tolist() == [pytest.approx((0.9 + 0.7 + 0.3 + 0.8) / 4)]


def test_predict_without_any_field_variable_names_what_is_missing(trained):
    model, _ = trained
    ds = icme.read_input(WIND)[["vt", "np", "tp", "valid"]]
    with pytest.raises(PlanetMLError, match="no magnetic-field variable"):
        icme.predict(model, ds)


def test_scaling_a_series_on_itself_leaves_out_variables_without_values():
    config = icme.Config.fast()
    assert config.scaling == "per_series"
    ds = icme.load_data(config)["test"].isel(time=slice(0, 500))
    ds = ds.assign(np=ds["np"] * np.nan, tp=ds["tp"] * 0)  # no value; no positive value for its log10
    scaler = detection.series_scaler(config, ds, scaler=None)
    assert {"np", "tp"}.isdisjoint(scaler.variables_) and "bt" in scaler.variables_
    assert scaler.transform(ds)["bt"].notnull().all()


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
    out, err = capsys.readouterr()
    assert "events written to" in out
    assert err.strip() == ("planetml: warning: the series spans 62 samples of 1h, less than one model window (64); "
                           "the model sees less context than in training and scales the series on itself, so treat its "
                           "events with care")


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
    stereo = data["test_stereoa_2019"]
    final = icme.train_final(heldout, {"train": data["train"], "stereoa": stereo}, {"sample_TSS": 0.1})
    assert final.metadata.postprocessing == heldout.metadata.postprocessing
    assert final.metadata.postprocessing_chosen_on == heldout.metadata.postprocessing_chosen_on
    assert [r["source"] for r in final.metadata.data["train"]] == ["OMNI", "STEREO-A"]
    assert final.metadata.metrics["heldout"] == {"data": heldout.metadata.data, "scores": {"sample_TSS": 0.1}}
    with pytest.raises(PlanetMLError, match="inside the training data"):
        icme.evaluate(final, stereo)
    assert set(icme.evaluate(final, stereo, allow_training_data=True)["data"]) == {"training"}


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


def test_splits_are_whole_years_and_no_test_year_is_read_by_training():
    config = icme.Config()
    data = icme.load_data(dataclasses.replace(config, cross_tests=()))
    years = {name: set(pd.DatetimeIndex(ds["time"].values).year) for name, ds in data.items()}
    assert years["train"] == set(range(1998, 2015)) and years["validation"] == {2015, 2016}
    assert years["test"] == {2017, 2018}
    fold_years = {y for start, end in config.crossval_periods for y in range(int(start[:4]), int(end[:4]) + 1)}
    assert fold_years == years["train"] | years["validation"], "post-processing is chosen on 1998-2016 only"
    assert {ds.attrs["cadence"] for ds in data.values()} == {"1h"}


def test_omni_labels_are_the_wind_catalogues_moved_an_hour_later():
    omni = load_sample("omni2_1998_2018")
    events = catalogue_events(omni)
    middle_of_hour = omni["time"].values + np.timedelta64(30, "m")
    assert len(events) == 346 and set(events["spacecraft"]) == {"OMNI"}
    assert (events_to_mask(events, middle_of_hour) == omni["icme_label"].values.astype(bool)).all()
    unshifted = events.assign(start=events["start"] - icme.OMNI_LAG, end=events["end"] - icme.OMNI_LAG)
    assert not (events_to_mask(unshifted, middle_of_hour) == omni["icme_label"].values.astype(bool)).all()


def test_the_model_declares_its_cadence_and_predicts_finer_series_on_their_own_time_axis(trained):
    model, _ = trained
    assert model.metadata.inputs["cadence"] == "1h"
    ten_minute = detection.at_cadence(load_sample("stereoa_2019"), "10min").isel(time=slice(0, 1800))
    hourly = detection.at_cadence(ten_minute, "1h")
    fine, coarse = icme.predict(model, ten_minute), icme.predict(model, hourly)
    assert (fine.values["time"].values == ten_minute["time"].values).all()
    hour_of_each_sample = pd.DatetimeIndex(ten_minute["time"].values).floor("1h")
    expected = coarse.values.sel(time=hour_of_each_sample).values
    np.testing.assert_allclose(fine.values.values, expected, equal_nan=True)
    pd.testing.assert_frame_equal(fine.events, coarse.events)


def test_averaging_keeps_a_bin_only_when_half_its_samples_are_there():
    time = pd.date_range("2019-01-01", periods=12, freq="10min")
    bt = np.r_[[5.0, 5.0, 5.0, np.nan, np.nan, np.nan], [7.0, 7.0, np.nan, np.nan, np.nan, np.nan]]
    series = xr.Dataset({"bt": ("time", bt, {"units": "nT"})}, coords={"time": time})
    ds = detection.at_cadence(series, "1h")
    assert ds["bt"].values[0] == 5.0 and np.isnan(ds["bt"].values[1])
    assert ds["valid"].values.tolist() == [True, False]


def test_a_coarser_series_than_the_model_is_refused(trained):
    model, _ = trained
    two_hourly = detection.at_cadence(load_sample("omni2_1998_2018").isel(time=slice(0, 400)), "1h").isel(
        time=slice(0, None, 2))
    two_hourly.attrs["cadence"] = "2h"
    with pytest.raises(PlanetMLError, match=r"coarser than the model's"):
        icme.predict(model, two_hourly.drop_vars("valid"))


def test_a_series_shorter_than_one_window_warns(trained):
    model, _ = trained
    short = icme.load_data(model.config)["test"].isel(time=slice(0, model.config.window // 2))
    with pytest.warns(UserWarning, match="less than one model window"):
        icme.predict(model, short)


@pytest.mark.parametrize(("column", "factor", "unit"), [("np", 1e6, "m\\^-3"), ("tp", 1 / 11605, "eV")])
def test_a_column_in_the_wrong_unit_is_refused_by_name(tmp_path, trained, column, factor, unit):
    model, _ = trained
    table = pd.read_csv(DATA_DIR / "icme" / "stereoa_2019_10min.csv.gz", nrows=3000)
    table[column] *= factor
    path = tmp_path / "wrong_unit.csv"
    table.to_csv(path, index=False)
    with pytest.raises(PlanetMLError, match=rf"^{column}: median .* \(not {unit}"):
        icme.read_input([path])
    with pytest.raises(PlanetMLError, match=rf"^{column}: median"):
        icme.predict(model, read_solarwind_csv(path))


def test_read_input_reads_a_raw_omni2_file_without_fill_values(trained):
    model, _ = trained
    ds = icme.read_input([OMNI_RAW])
    assert ds.attrs["cadence"] == "1h" and ds.attrs["frame"] == "HEEQ" and ds.sizes["time"] == 744
    largest_real = {"tp": 2e6, "vt": 2000, "np": 200, "bt": 200}  # OMNI fills: 9999999., 9999., 999.9, 999.9
    for name, largest in largest_real.items():
        assert np.isfinite(ds[name].values).any() and np.nanmax(ds[name].values) < largest, name
    result = icme.predict(model, ds)
    assert result.values.sizes["time"] == 744


def test_the_gradient_boosted_baseline_scores_like_the_networks():
    config = icme.Config.fast()
    data = icme.load_data(config)
    detector = boosting.train_boosting(config, data)
    assert detector.postprocessing["threshold"] in config.thresholds
    assert detector.chosen_on["periods"] == [list(period) for period in config.crossval_periods]
    scores = boosting.evaluate_boosting(detector, data["test_stereoa_2019"])
    assert_metrics_contract(scores)
    assert set(scores["level"]) == set(icme.METRIC_LEVELS)
    ten_minute = detection.at_cadence(load_sample("stereoa_2019"), "10min").isel(time=slice(0, 600))
    assert_events_contract(boosting.predict_boosting(detector, ten_minute).events)
