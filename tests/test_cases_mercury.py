"""Mercury boundaries case: real PDS and digitised files in, crossings out; the CLI; active learning glue."""

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planetml_lib.cases import mercury_boundaries as case
from planetml_lib.cases.kinds import data_role
from planetml_lib.cases.series_detection import VALID
from planetml_lib.cli import main
from planetml_lib.datasets import (
    DATA_DIR,
    load_catalog,
    load_messenger_orbits,
    load_real_messenger,
    real_messenger_manifest,
)
from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.mercury import boundary_scale
from planetml_lib.testing import assert_events_contract

TAB = DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB"
TAB_60S = Path(__file__).parent / "data" / "MAGMSOSCIAVG12251_60_V08.TAB"  # real orbit 1230, one row a minute
ORBIT_10S = DATA_DIR / "mercury" / "messenger_mag_10s_orbit1230.csv.gz"


@pytest.fixture
def trained(fast_case):
    run = fast_case("mercury_boundaries")
    return case.load_trained(run.folder), run.folder


@pytest.fixture(scope="module")
def splits():
    return case.real_splits(case.Config())


def test_real_splits_are_disjoint_and_named_months(splits):
    config = case.Config()
    sets = {name: set(orbits.tolist()) for name, orbits in splits.items()}
    names = list(sets)
    assert all(not sets[a] & sets[b] for i, a in enumerate(names) for b in names[i + 1:])
    month = real_messenger_manifest().set_index("orbit")["start"].dt.strftime("%Y-%m")
    assert set(month[list(sets["test"])]) == set(config.test_months)
    assert set(month[list(sets["validation"])]) <= set(config.validation_months)
    assert not set(month[list(sets["train"])]) & set(config.test_months + config.validation_months)
    assert {990, 1230} <= sets["test"]  # also among the 60-s orbits: one split for both copies
    assert len(sets["train"]) > 150 and len(sets["validation"]) > 40 and len(sets["test"]) > 60


def test_validation_and_test_months_spread_over_the_mission(splits):
    year = real_messenger_manifest().set_index("orbit")["start"].dt.year
    for name in ("test", "validation"):
        assert set(year[splits[name]]) == {2011, 2012, 2013, 2014, 2015}, name


def test_no_training_orbit_is_within_a_day_of_a_held_out_orbit(splits):
    manifest = real_messenger_manifest().set_index("orbit")
    held = pd.concat([manifest.loc[np.concatenate([splits[k] for k in ("validation", "test", "test_disturbed")])]
                      .reset_index(), real_messenger_manifest("60s")])
    train = manifest.loc[splits["train"]]
    gap = case._seconds_apart(held, train["start"], train["end"])
    assert gap.min() >= 86400
    simulated = load_messenger_orbits().set_index("orbit").loc[case.simulated_orbits(case.Config(), splits)]
    assert case._seconds_apart(held, simulated["start"], simulated["end"]).min() >= 86400


def test_disturbed_orbits_are_the_most_compressed(splits):
    crossings = load_catalog("philpott2020")
    crossings = crossings[crossings["orbit"].isin(real_messenger_manifest()["orbit"])]
    scale = boundary_scale(crossings).groupby(crossings["orbit"]).mean()
    disturbed = case.disturbed_orbits(case.Config())
    assert len(disturbed) == round(0.05 * len(scale)) and set(splits["test_disturbed"]) == set(disturbed)
    assert scale[disturbed].max() < scale.drop(disturbed).min() < 0.85


def test_offsets_shift_each_field_component_by_one_constant():
    ds = load_real_messenger([990]).isel(time=slice(0, 50))
    shifted = case.with_offsets(ds, case.Config(), seed=3)
    offsets = [np.unique(np.round((shifted[c] - ds[c]).values, 6)) for c in ("bx", "by", "bz")]
    assert all(len(o) == 1 and abs(o[0]) <= 6 for o in offsets) and len({o[0] for o in offsets}) == 3
    assert (shifted["x_mso"] == ds["x_mso"]).all()


def test_read_input_numbers_the_orbits_of_a_pds_file():
    ds = case.read_input([TAB])
    assert ds.attrs["spacecraft"] == "MESSENGER" and np.unique(ds["orbit"].values).size == 1


def test_read_input_tells_the_digitised_layout_by_its_header(tmp_path):
    renamed = shutil.copy(ORBIT_10S, tmp_path / "orbit.dat.gz")
    ds = case.read_input([renamed])
    assert ds.attrs["cadence"] == "10s" and "digitised" in ds.attrs["source"] and 1230 in ds["orbit"].values


def test_an_input_coarser_than_the_model_is_warned_about():
    with pytest.warns(UserWarning, match="input cadence 60s is coarser than the model's 10s: 0 of 2875 samples"):
        ds = case.prepare_for_model(case.read_input([TAB_60S]), case.Config())
    assert not ds[VALID].any()


def test_an_input_at_the_model_cadence_is_not_warned_about():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = case.prepare_for_model(case.read_input([ORBIT_10S]), case.Config())
    assert ds[VALID].mean() > 0.99


def test_cli_predict_on_a_coarser_input_warns_in_one_line(tmp_path, capsys):
    assert main(["predict", "mercury", "--input", str(TAB_60S), "--output", str(tmp_path / "x.csv")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("0 events written")
    assert err.startswith(f"planetml: warning: {TAB_60S.name}: input cadence 60s is coarser than the model's 10s")
    assert err.count("\n") == 1, err


def test_predict_on_a_pds_file_averages_to_the_model_cadence(trained):
    model, _ = trained
    regions, crossings = case.predict(model, case.read_input([TAB]))
    assert regions.sizes["time"] == 2  # 60 one-second rows averaged to the fast model's 60 s
    assert_events_contract(crossings)


def test_cli_predict_writes_crossings(trained, tmp_path, capsys):
    _, folder = trained
    output = tmp_path / "crossings.csv"
    assert main(["predict", "mercury_boundaries", "--model", str(folder), "--input", str(TAB),
                 "--output", str(output)]) == 0
    assert output.read_text().startswith("start,end,label")
    assert "score" in output.read_text().splitlines()[0].split(",")


def test_every_predicted_crossing_has_a_score(trained, fast_case):
    model, _ = trained
    ds = fast_case("mercury_boundaries").data["test"]
    certain = np.eye(5)[ds["region"].values.astype(int)]  # probabilities that put every true crossing back
    _, crossings = case._postprocess(model.metadata.postprocessing, ds, certain * 0.9 + 0.02)
    assert len(crossings) >= 4 and crossings["score"].between(0, 1).all()
    magnetopause = crossings["label"].str.startswith("magnetopause")
    assert np.allclose(crossings.loc[magnetopause, "score"], 0.92)  # the MP probability inside each crossing


def test_active_learning_never_labels_an_orbit_twice(fast_case):
    data = fast_case("mercury_boundaries").data
    config = case.Config.fast()
    curve = case.active_learning_curve(config, data, initial=1, per_round=1, n_rounds=3, epochs=1)
    labelled = curve.attrs["labelled"]
    assert len(labelled) == len(set(labelled)) == 3
    assert curve["n_labelled"].tolist() == [1, 2, 3]


def test_prior_correction_divides_the_class_weighting_out():
    probabilities = np.array([[0.3, 0.7], [0.9, 0.1], [np.nan, np.nan]])
    weights = [0.5, 5.0]
    assert case.regions_from_probabilities(probabilities, weights, 0.0, 1).tolist() == [1, 0, -1]
    assert case.regions_from_probabilities(probabilities, weights, 1.0, 1).tolist() == [0, 0, -1]


def test_postprocessing_is_chosen_on_validation_from_the_config_grid(trained):
    model, _ = trained
    config, metadata = model.config, model.metadata
    chosen = metadata.postprocessing
    assert chosen["prior_correction"] in config.prior_corrections and chosen["smooth_window"] in config.smooth_windows
    grid = metadata.postprocessing_chosen_on["grid"]
    assert len(grid) == len(config.prior_corrections) * len(config.smooth_windows)
    assert metadata.postprocessing_chosen_on["what"] == "validation orbits" and len(chosen["class_weights"]) == 5
    assert metadata.simulated and "simulate" in metadata.simulation


def test_training_orbits_are_recorded_and_refused_for_scoring(trained, fast_case):
    model, _ = trained
    data = fast_case("mercury_boundaries").data
    orbits = {record["orbit"] for record in model.metadata.data["train"]}
    assert orbits == set(data["train"]["orbit"].values.tolist()) | set(data["simulated"]["orbit"].values.tolist())
    with pytest.raises(PlanetMLError, match="inside the training data"):
        case.evaluate(model, data["train"])
    with pytest.raises(PlanetMLError, match="inside the training data"):  # another real product, same orbits
        case.evaluate(model, data["train"].assign_attrs(source="MESSENGER MAG PDS"))
    assert set(case.evaluate(model, data["validation"])["data"]) == {"validation"}


def test_training_and_test_orbits_have_their_roles(trained, fast_case):
    model, _ = trained
    data = fast_case("mercury_boundaries").data
    assert data_role(model.metadata, data["test"]) == "held-out"
    assert data_role(model.metadata, data["simulated"]) == "training"  # pretraining counts as training


def test_rule_baseline_scores_bow_shocks_only(fast_case):
    data = fast_case("mercury_boundaries").data
    config = case.Config.fast()
    rules, _ = case.fit_rule_baseline(config, data["validation"])
    scores = case.evaluate_rule_baseline(config, rules, data["test"])
    assert set(scores["class"]) <= {"all", "bow_shock_in", "bow_shock_out"}


def test_tree_baseline_is_tuned_on_validation_and_scored_like_the_network(fast_case):
    data = fast_case("mercury_boundaries").data
    config = case.Config.fast()
    trees = case.fit_tree_baseline(config, data["train"], data["validation"])
    assert trees.postprocessing["smooth_window"] in config.smooth_windows
    assert trees.postprocessing["prior_correction"] in config.prior_corrections
    scores = case.evaluate_tree_baseline(trees, data["test"], config)
    assert set(scores["level"]) == {"sample", "sample_postprocessed", "crossing"}
    macro = scores.query("level == 'sample' and `class` == 'macro' and metric == 'F1'")["value"].item()
    assert macro > 0.3  # the regions of a real orbit are far from random even for a small forest
