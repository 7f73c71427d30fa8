"""The base tester: every registered case honours the case contract (like segmentation-models-pytorch's
BaseModelTester). A new case gets all of these by being registered."""

import ast
import dataclasses
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from planetml_lib.cases import CASES, get_case
from planetml_lib.cases.base import SURFACE, Kind, check_surface
from planetml_lib.cases.kinds import KINDS
from planetml_lib.cases.metadata import ModelMetadata, config_from_dict
from planetml_lib.errors import PlanetMLError
from planetml_lib.names import ALIASES
from planetml_lib.testing import (
    assert_metrics_contract,
    check_case,
    check_data,
    check_output,
    check_prediction,
    check_refuses_training_data,
    check_reload,
)

NAMES = sorted(CASES)
SHARED_CODE = ["cli.py", "testing.py", "dashboards/common.py"]
LIBRARY = Path(__file__).parents[1] / "planetml_lib"


@pytest.mark.parametrize("name", NAMES)
class TestCaseContract:
    def test_surface_matches_the_contract(self, name):
        case = CASES[name]
        check_surface(case)
        assert case.NAME == name and case.KIND in KINDS
        config = case.Config.fast()
        assert dataclasses.is_dataclass(config) and type(config).__dataclass_params__.frozen

    def test_data_follow_the_kind(self, name, fast_case):
        run = fast_case(name)
        check_data(run.case, run.data)

    def test_save_and_load_give_identical_predictions(self, name, fast_case, tmp_path):
        run = fast_case(name)
        check_reload(run.case, run.trained, tmp_path / "model", check_data(run.case, run.data))

    def test_predict_returns_the_kind_result_and_write_output_round_trips(self, name, fast_case, tmp_path):
        run = fast_case(name)
        result = check_prediction(run.case, run.trained, check_data(run.case, run.data))
        check_output(run.case, result, tmp_path)

    def test_evaluate_refuses_training_data_unless_asked(self, name, fast_case):
        run = fast_case(name)
        check_refuses_training_data(run.case, run.trained, run.data)

    def test_evaluate_on_the_test_split_is_tidy_and_labelled_held_out(self, name, fast_case):
        run = fast_case(name)
        metrics = run.case.evaluate(run.case.load_trained(run.folder), run.data["test"])
        assert_metrics_contract(metrics)
        assert set(metrics["level"]) == set(run.case.METRIC_LEVELS)
        assert set(metrics["data"]) == {"held-out"}

    def test_plot_results_returns_a_figure(self, name, fast_case):
        run = fast_case(name)
        assert run.case.plot_results(run.trained, run.data["test"]).axes
        plt.close("all")

    def test_metadata_records_case_kind_inputs_and_data(self, name, fast_case):
        run = fast_case(name)
        metadata = run.trained.metadata
        assert (metadata.case, metadata.kind, metadata.model) == (name, run.case.KIND.value, run.trained.config.model)
        assert metadata.data["train"] and metadata.inputs and isinstance(metadata.simulated, bool)
        assert metadata.simulated == bool(metadata.simulation)
        assert json.loads((run.folder / "config.json").read_text()) == metadata.to_dict()

    def test_a_model_folder_of_another_case_is_refused_by_name(self, name, fast_case):
        other = fast_case("solarwind_tutorial" if name != "solarwind_tutorial" else "icme")
        with pytest.raises(PlanetMLError, match=f"is a model of case '{other.case.NAME}', not '{name}'"):
            CASES[name].load_trained(other.folder)

    def test_shipped_models_load_under_the_strict_schema(self, name):
        case = CASES[name]
        for folder in case.SHIPPED_MODELS.values():
            assert case.load_trained(folder).metadata.case == name
        if not case.SHIPPED_MODELS:
            with pytest.raises(PlanetMLError, match="no model ships"):
                case.load_trained()


def test_check_case_runs_a_case_end_to_end(tmp_path):
    metrics = check_case(CASES["solarwind_tutorial"], tmp_path)
    assert set(metrics["level"]) == set(CASES["solarwind_tutorial"].METRIC_LEVELS)
    plt.close("all")


def test_every_kind_a_case_declares_has_a_spec_and_the_set_is_closed():
    assert {case.KIND for case in CASES.values()} <= set(KINDS) <= set(Kind)


def test_a_case_that_drifts_from_the_contract_is_named():
    drifted = type("Drifted", (), {attr: getattr(CASES["icme"], attr) for attr in SURFACE})
    drifted.predict = lambda trained, ds, variables=None: None
    with pytest.raises(PlanetMLError, match=r"predict\('trained', 'ds', 'variables'\) should take"):
        check_surface(drifted)
    del drifted.plot_results
    with pytest.raises(PlanetMLError, match="lacks.*plot_results"):
        check_surface(drifted)


def test_metadata_with_unknown_or_missing_keys_is_refused_by_name(fast_case):
    values = fast_case("solarwind_tutorial").trained.metadata.to_dict()
    with pytest.raises(PlanetMLError, match=r"unknown keys \['threshold'\], missing keys \['postprocessing'\]"):
        ModelMetadata.from_dict({**{k: v for k, v in values.items() if k != "postprocessing"}, "threshold": 0.5})
    assert ModelMetadata.from_dict(values).to_dict() == values


def test_a_renamed_config_field_never_reverts_to_its_default():
    config = CASES["icme"].Config
    values = json.loads(json.dumps(dataclasses.asdict(config.fast())))
    assert config_from_dict(config, values) == config.fast()  # nested tuples come back as tuples
    values["min_duration"] = values.pop("min_durations_h")
    with pytest.raises(PlanetMLError, match=r"unknown \['min_duration'\], missing \['min_durations_h'\]"):
        config_from_dict(config, values)


def test_unknown_case_names_the_valid_ones():
    with pytest.raises(PlanetMLError, match="solarwind_tutorial"):
        get_case("no_such_case")


def test_aliases_name_registered_cases():
    assert all(get_case(alias) is CASES[name] for alias, name in ALIASES.items())


@pytest.mark.parametrize("module", SHARED_CODE)
def test_shared_code_names_no_case_and_sniffs_no_attribute(module):
    tree = ast.parse((LIBRARY / module).read_text())
    names = set(CASES) | set(ALIASES)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported = {alias.name for alias in node.names} | set((node.module or "").split("."))
            assert not imported & names, f"{module} imports case module(s) {imported & names}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("hasattr", "getattr"), f"{module} line {node.lineno}: {node.func.id}()"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert node.value not in names, f"{module} line {node.lineno}: names the case {node.value!r}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "case":
            assert node.attr in SURFACE, f"{module} line {node.lineno}: case.{node.attr} is not in the contract"
