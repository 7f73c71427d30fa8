"""Cluster bow-shock case: splits by year, the true crossings on the model grid, crossings from regions,
the baseline's read-out, CSA files in and crossings out (the CLI), the real list as reference,
four-spacecraft timing on a simulated pass."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planetml_lib.cases import cluster_bow_shock as case
from planetml_lib.cases import cluster_timing as timing
from planetml_lib.cli import main
from planetml_lib.errors import PlanetMLError
from planetml_lib.simulate.cluster import HELDOUT_FAMILY, TRAINING_FAMILY, simulate_pass
from planetml_lib.testing import assert_events_contract

MMS = Path(__file__).parent / "data" / "mms1_fgm_brst_l2_20151016_130524.cdf"


@pytest.fixture
def run(fast_case):
    return fast_case("cluster_bow_shock")


def test_splits_are_the_named_years_and_the_heldout_family(run):
    config = run.trained.config
    years = {name: set(pd.DatetimeIndex(ds["time"].values).year) for name, ds in run.data.items()}
    assert years["train"] <= set(config.train_years)
    assert years["validation"] <= set(config.validation_years)
    assert years["test"] <= set(config.test_years) and years["test_heldout_family"] <= set(config.test_years)
    assert not set(config.train_years) & set(config.validation_years + config.test_years)
    assert {run.data[name].attrs["family"] for name in ("train", "validation", "test")} == {TRAINING_FAMILY.family}
    assert run.data["test_heldout_family"].attrs["family"] == HELDOUT_FAMILY.family != TRAINING_FAMILY.family


def test_true_crossings_survive_the_model_grid():
    config = case.Config.fast()
    ds, crossings = simulate_pass(TRAINING_FAMILY, pd.Timestamp("2004-02-10"), 3, cadence=config.cadence)
    prepared = case.prepare(ds.sel(spacecraft="C1", drop=True).assign_attrs(spacecraft="C1"), config)
    true = crossings[(crossings["spacecraft"] == "C1") & (crossings["label"] == "bow_shock")]
    counts, offsets = case.crossing_series(true, prepared["time"].values, config.cadence)
    back = case.reference_crossings(prepared.assign(n_crossings=("time", counts), crossing_offset_s=("time", offsets)))
    assert len(true) > 0
    np.testing.assert_array_equal(np.sort(back["start"].to_numpy()), np.sort(true["start"].to_numpy()))


def test_crossings_are_changes_between_upstream_and_downstream():
    time = pd.date_range("2004-01-01", periods=9, freq="60s").to_numpy()
    regions = np.array([0, 1, 2, 2, -1, 3, 0, 2, 2])
    orbit = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1])
    crossings = case.regions_to_crossings(regions, time, orbit)
    assert crossings["direction"].tolist() == ["inbound", "outbound"]   # 1 -> 2, then 3 -> 0; 0 -> 2 starts a new pass
    assert crossings["start"].tolist() == [pd.Timestamp("2004-01-01 00:01:30"), pd.Timestamp("2004-01-01 00:05:30")]
    across_gap = case.regions_to_crossings(np.array([0, -1, -1, 2]), time[:4])
    assert across_gap["start"].tolist() == [pd.Timestamp("2004-01-01 00:01:30")]  # the middle of the gap


def test_postprocessing_is_chosen_on_validation_from_the_config_grid(run):
    post = run.trained.metadata.postprocessing
    config = run.trained.config
    assert post["smooth_window"] in config.smooth_windows
    assert run.trained.metadata.postprocessing_chosen_on["what"].startswith("validation")
    assert len(run.trained.metadata.postprocessing_chosen_on["grid"]) == 3 * len(config.smooth_windows)
    assert run.trained.metadata.simulated


def test_baseline_regresses_the_similarity_and_its_peaks_are_crossings(run):
    config = dataclasses.replace(run.trained.config.as_baseline(), model_options={"width": 4, "depth": 3})
    baseline = case.train(config, run.data)
    values, crossings = case.predict(baseline, run.data["test"])
    assert values.name == case.TARGET and np.nanmax(values.values) <= 1
    assert_events_contract(crossings)
    assert baseline.metadata.postprocessing["height"] in config.peak_heights
    levels = set(case.evaluate(baseline, run.data["test"])["level"])
    assert levels == {"crossing_1min", "crossing_3min", "crossing_10min"}


def test_a_later_shift_moves_baseline_crossings_back(run):
    ds = run.data["validation"]
    similarity = ds[case.TARGET].values[:, None]
    post = {"height": 0.5, "min_separation": "2min"}
    plain = case._baseline_crossings({**post, "shift": 0}, ds, similarity, "60s")
    moved = case._baseline_crossings({**post, "shift": 2}, ds, similarity, "60s")
    assert len(plain) > 0
    assert (plain["start"] - moved["start"] == pd.Timedelta("2min")).all()


def test_csa_files_in_crossings_out_through_the_cli(run, tmp_path, capsys):
    files = case.example_input(tmp_path / "csa")
    assert [p.suffix for p in files] == [".cef", ".ceh", ".cef", ".ceh"] and all(p.exists() for p in files)
    assert f'INCLUDE = "{files[1].name}"' in files[0].read_text()
    output = tmp_path / "crossings.csv"
    assert main(["predict", "cluster", "--model", str(run.folder), "--input", *map(str, files),
                 "--output", str(output)]) == 0
    assert output.read_text().startswith("start,end,label")
    assert "events written" in capsys.readouterr().out
    with pytest.raises(PlanetMLError, match="only CEF headers"):
        case.read_input([files[1]])


def test_field_only_input_runs_on_the_field_with_one_warning(run):
    ds = case.read_input([MMS])  # real MMS1 FGM burst data: no moments
    with pytest.warns(UserWarning, match="no CIS-HIA moments") as caught:
        values, crossings = case.predict(run.trained, ds)
    assert len(caught) == 1 and values.sizes["time"] == ds.sizes["time"]
    assert_events_contract(crossings)
    with pytest.raises(PlanetMLError, match=r"lacks \['bx', 'by', 'bz', 'b_mag'\]"):
        case.predict(run.trained, ds.drop_vars(["bx", "by", "bz", "b_mag"]))


def test_training_drops_the_moments_of_some_windows_and_the_field_alone_is_scored(run):
    assert run.trained.config.channel_dropout > 0
    test = run.data["test"]
    alone = case.field_only(test)
    assert not set(case.PLASMA) & set(alone.data_vars) and alone["valid"].equals(test["valid"])
    assert set(case.evaluate(run.trained, alone)["level"]) == set(case.METRIC_LEVELS)


def test_a_new_test_draw_gives_fresh_test_passes_and_the_same_training_passes():
    config = case.Config()
    first, second = case.pass_plans(dataclasses.replace(config, test_draw=0)), case.pass_plans(config)
    assert first["train"].equals(second["train"]) and first["validation"].equals(second["validation"])
    assert not set(first["test"]["start"]) & set(second["test"]["start"])


def test_real_input_is_scored_against_the_real_crossing_list():
    real = case.real_crossings("C3")
    first = real["start"].iloc[0]
    time = pd.date_range(first - pd.Timedelta("2h"), first + pd.Timedelta("2h"), freq="60s")
    ds = pd.DataFrame(index=time).to_xarray().rename({"index": "time"}).assign_attrs(spacecraft="C3")
    reference = case.reference_crossings(ds)
    assert len(reference) >= 1 and reference["start"].iloc[0] == first
    assert set(case.real_crossings()["spacecraft"]) == {"C1", "C2", "C3", "C4"}
    assert len(case.real_crossings("C1")) == 1942


def test_timing_recovers_the_simulated_shock_normal():
    ds, crossings = simulate_pass(TRAINING_FAMILY, pd.Timestamp("2004-02-10"), 11, cadence="4s")
    groups = timing.crossing_groups(crossings)
    table = timing.timing_table(ds, groups)
    assert len(groups) > 0 and len(table) > 0
    summary = timing.summarise_timing(table)
    assert summary["timing_error_deg_median"] < 30
    assert summary["n_solved"] <= summary["n_anchors"]


def test_timing_falls_back_to_cross_correlation_where_no_jump_reads_half_way():
    time = pd.date_range("2004-02-10 06:00", periods=450, freq="4s")
    seconds = (time - time[0]).total_seconds().to_numpy()
    corners = np.array([[0, 0, 0], [2000, 0, 0], [1000, 1732, 0], [1000, 577, 1633]], float)  # km
    delays = corners[:, 0] / 50.0  # a plane moving along +x at 50 km/s
    waves = lambda t: np.sin(2 * np.pi * t / 97) + 0.6 * np.sin(2 * np.pi * t / 41 + 1)  # noqa: E731 (no jump)
    b_mag = np.stack([10 + waves(seconds - delay) for delay in delays])
    position = (np.array([15.0, 0.0, 0.0]) + corners / timing.R_E_KM)[:, :, None].repeat(len(time), axis=2)
    ds = xr.Dataset({"b_mag": (("spacecraft", "time"), b_mag),
                     **{name: (("spacecraft", "time"), position[:, k]) for k, name in enumerate(timing.POSITION)}},
                    coords={"spacecraft": list(timing.SPACECRAFT), "time": time})
    middle = time[0] + pd.Timedelta("15min")
    arounds = {sc: (middle + pd.Timedelta(seconds=delay)).floor("1min")
               for sc, delay in zip(timing.SPACECRAFT, delays, strict=True)}
    solution = timing.time_crossing(ds, arounds)
    assert solution["method"] == "cross-correlation"
    assert np.degrees(np.arccos(abs(solution["normal"][0]))) < 3 and abs(abs(solution["speed_km_s"]) - 50) < 3
