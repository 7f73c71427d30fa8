"""The planetml command: help for every subcommand, one-line errors with exit code 2."""

import subprocess
import sys

import pandas as pd
import pytest

from planetml_lib.cases import CASES
from planetml_lib.cli import build_parser, main
from planetml_lib.datasets import SAMPLES

#: Samples inside the training data of their case's shipped model: predict says so in a note.
TRAINED_ON = {"omni2_1998_2018", "stereoa_2019", "stereob_2013_2014"}
#: Samples on which the shipped model finds events, without a warning (the real 10-s Mercury orbit: 4 crossings;
#: the SIMULATED Cluster pass: 9).
FINDS_SOME = {"messenger_orbit_1230", "simulated_csa_c1"}


def test_cases_lists_one_line_per_case(capsys):
    assert main(["cases"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(CASES)


def test_samples_lists_the_shipped_series(capsys):
    assert main(["samples"]) == 0
    out = capsys.readouterr().out
    assert "stereoa_2019" in out and "stereob_2013_2014" in out


def test_every_case_with_a_shipped_model_has_a_sample():
    assert {sample.case for sample in SAMPLES.values()} == {name for name, case in CASES.items() if case.SHIPPED_MODELS}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_printed_command_predicts_each_sample(name, tmp_path, monkeypatch, capsys):
    assert main(["samples"]) == 0
    command = next(line.split() for line in capsys.readouterr().out.splitlines() if f"sample:{name} " in line)
    assert command[:2] == ["planetml", "predict"]
    monkeypatch.chdir(tmp_path)
    assert main(command[1:]) == 0
    out, err = capsys.readouterr()
    assert "written to" in out and (tmp_path / command[-1]).stat().st_size > 0
    if name in FINDS_SOME:
        assert int(out.split()[0]) > 0 and "warning" not in err, (out, err)
    assert ("are in the training data of this model; its" in err) == (name in TRAINED_ON), err


def _must_not_run(*args, **kwargs):
    raise AssertionError("data or a model was loaded before the output suffix was checked")


@pytest.mark.parametrize("args", [["predict", "icme", "--input", "sample:stereoa_2019", "--output", "events.shp"],
                                  ["evaluate", "icme", "--output", "metrics.txt"]])
def test_a_bad_output_suffix_is_refused_before_any_data_or_model_loads(args, monkeypatch, capsys):
    for name in ("read_input", "load_data", "load_trained"):
        monkeypatch.setattr(CASES["icme"], name, _must_not_run)
    code, err = run_in_process(args, capsys)
    assert code == 2 and "suffix" in err


@pytest.mark.parametrize("command", [[], ["cases"], ["samples"], ["lab"], ["train"], ["evaluate"], ["predict"]])
def test_help_explains_every_subcommand(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: planetml" in capsys.readouterr().out


def run_in_process(args, capsys):
    """Exit code and stderr of ``planetml ARGS``, argument errors (SystemExit) included."""
    try:
        code = main(args)
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["frobnicate"], "invalid choice"),
    (["train"], "required"),
    (["lab", "--port", "eighty"], "invalid int value"),
    (["train", "no_such_case", "--output", "x"], "unknown case 'no_such_case'"),
    (["evaluate", "solarwind_tutorial", "--model", "/nonexistent/model"], "/nonexistent/model"),
    (["evaluate", "solarwind_tutorial"], "no model ships with case 'solarwind_tutorial'"),
    (["lab", "--notebook-dir", "/nonexistent/notebooks"], "notebook folder not found"),
    (["predict", "icme", "--input", "README.md", "--output", "y.geojson"], "icme writes events; use a suffix of"),
    (["predict", "icme", "--input", "no_such.csv", "--output", "y.csv"], "no_such.csv: file not found"),
    (["predict", "mounds", "--input", "x.tif", "--output", "y.tif", "--pixel-m", "-5"], "must be above zero"),
    (["predict", "mercury", "--input", "sample:nope", "--output", "y.csv"],
     "'nope' is no shipped sample; samples of mercury_boundaries: messenger_orbit_1230"),
    (["predict", "mercury", "--input", "sample:stereoa_2019", "--output", "y.csv"],
     "'stereoa_2019' is a sample of case 'icme'; samples of mercury_boundaries:"),
    (["evaluate", "icme", "--output", "metrics.txt"], "use a .csv suffix"),
])
def test_bad_arguments_give_one_line_and_exit_2(args, message, capsys):
    code, err = run_in_process(args, capsys)
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0]


def test_the_installed_command_gives_one_line_for_a_bad_argument():
    result = subprocess.run([sys.executable, "-m", "planetml_lib.cli", "train", "no_such_case", "--output", "x"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        f"planetml: error: unknown case 'no_such_case'; choose one of: {', '.join(CASES)}"]


def test_evaluate_refuses_a_model_trained_on_the_test_data(capsys):
    code, err = run_in_process(["evaluate", "icme"], capsys)  # the shipped model was trained on STEREO-A 2019 too
    assert code == 2 and "inside the training data" in err and "--allow-training-data" in err


def test_train_and_evaluate_round_trip(tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["train", "solarwind_tutorial", "--fast", "--output", str(model)]) == 0
    assert {p.name for p in model.iterdir()} == {"weights.safetensors", "config.json"}
    assert main(["evaluate", "solarwind_tutorial", "--model", str(model), "--output", str(tmp_path / "m.csv")]) == 0
    out = capsys.readouterr().out
    assert "TSS" in out and "held-out" in out
    assert (tmp_path / "m.csv").read_text().startswith("metric,")


@pytest.mark.parametrize(("name", "source"), [("solarwind_tutorial", "real"), ("mars_mounds", "SIMULATED")])
def test_evaluate_says_whether_its_test_data_are_real_or_simulated(fast_case, name, source, tmp_path, capsys):
    output = tmp_path / "m.csv"
    assert main(["evaluate", name, "--model", str(fast_case(name).folder), "--output", str(output)]) == 0
    assert capsys.readouterr().out.splitlines()[1].rstrip().endswith(source)
    assert set(pd.read_csv(output)["data_source"]) == {source}


def test_predict_writes_the_catalogue_of_any_interval_case(fast_case, tmp_path, capsys):
    from planetml_lib.datasets import DATA_DIR

    run = fast_case("solarwind_tutorial")
    output = tmp_path / "events.txt"
    args = ["predict", "solarwind_tutorial", "--model", str(run.folder), "--output", str(output), "--input",
            str(DATA_DIR / "icme" / "stereoa_2019_10min.csv.gz")]
    assert main(args) == 0
    assert "events written to" in capsys.readouterr().out and output.read_text().startswith("#")
