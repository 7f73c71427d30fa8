"""Mercury boundaries case: real PDS and digitised files in, crossings out; the CLI; active learning glue."""

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from planetml_lib.cases import mercury_boundaries as case
from planetml_lib.cases.kinds import data_role
from planetml_lib.cases.series_detection import VALID
from planetml_lib.cli import main
from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import PlanetMLError
from planetml_lib.testing import assert_events_contract

TAB = DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB"
TAB_60S = Path(__file__).parent / "data" / "MAGMSOSCIAVG12251_60_V08.TAB"  # real orbit 1230, one row a minute
ORBIT_10S = DATA_DIR / "mercury" / "messenger_mag_10s_orbit1230.csv.gz"


@pytest.fixture
def trained(fast_case):
    run = fast_case("mercury_boundaries")
    return case.load_trained(run.folder), run.folder


def test_splits_are_disjoint_by_orbit():
    config = case.Config()
    sets = [set(orbits.tolist()) for orbits in case.split_orbits(config).values()]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert [len(s) for s in sets] == [config.n_train, config.n_validation, config.n_test] == [120, 20, 20]


def test_every_split_spans_the_mercury_year():
    config = case.Config()
    for name, orbits in case.split_orbits(config).items():
        assert orbits.min() < config.first_orbit + config.span_orbits / 5, name
        assert orbits.max() > config.first_orbit + 4 * config.span_orbits / 5, name


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
    _, crossings = case.predict(model, fast_case("mercury_boundaries").data["test"])
    assert len(crossings) and crossings["score"].between(0, 1).all()


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
    assert orbits == set(data["train"]["orbit"].values.tolist())
    with pytest.raises(PlanetMLError, match="inside the training data"):
        case.evaluate(model, data["train"])
    real = data["train"].assign_attrs(source="MESSENGER MAG PDS")  # real data of a training orbit's time
    assert set(case.evaluate(model, real)["data"]) == {"held-out"}


def test_orbits_between_the_training_orbits_are_held_out():
    shipped = case.load_trained()
    splits = case.split_orbits(shipped.config)
    test = case.simulate_prepared(splits["test"][[0, -1]], shipped.config)  # first and last: a year apart
    assert data_role(shipped.metadata, test) == "held-out"
    assert data_role(shipped.metadata, case.simulate_prepared(splits["train"][[3]], shipped.config)) == "training"


def test_rule_baseline_scores_bow_shocks_only(fast_case):
    data = fast_case("mercury_boundaries").data
    config = case.Config.fast()
    rules, _ = case.fit_rule_baseline(config, data["validation"])
    scores = case.evaluate_rule_baseline(config, rules, data["test"])
    assert set(scores["class"]) <= {"all", "bow_shock_in", "bow_shock_out"}
