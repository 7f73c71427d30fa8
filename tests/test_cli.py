"""The planetml command: help for every subcommand, one-line errors with exit code 2."""

import subprocess
import sys

import pytest

from planetml_lib.cases import CASES
from planetml_lib.cli import build_parser, main


def test_cases_lists_one_line_per_case(capsys):
    assert main(["cases"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(CASES)


def test_samples_lists_the_shipped_series(capsys):
    assert main(["samples"]) == 0
    out = capsys.readouterr().out
    assert "stereoa_2019" in out and "stereob_2013_2014" in out


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


def test_predict_writes_the_catalogue_of_any_interval_case(fast_case, tmp_path, capsys):
    from planetml_lib.datasets import DATA_DIR

    run = fast_case("solarwind_tutorial")
    output = tmp_path / "events.txt"
    args = ["predict", "solarwind_tutorial", "--model", str(run.folder), "--output", str(output), "--input",
            str(DATA_DIR / "icme" / "stereoa_2019_10min.csv.gz")]
    assert main(args) == 0
    assert "events written to" in capsys.readouterr().out and output.read_text().startswith("#")
