"""The planetml command: help for every subcommand, one-line errors with exit code 2."""

import subprocess
import sys

import pytest

from planetml_lib.cases import CASES
from planetml_lib.cli import build_parser, main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "planetml_lib.cli", *args], capture_output=True, text=True,
                          timeout=120)


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


@pytest.mark.parametrize("args, message", [
    (["frobnicate"], "invalid choice"),
    (["train"], "required"),
    (["lab", "--port", "eighty"], "invalid int value"),
    (["train", "no_such_case", "--output", "x"], "unknown case 'no_such_case'"),
    (["evaluate", "solarwind_tutorial", "--model", "/nonexistent/model"], "/nonexistent/model"),
    (["lab", "--notebook-dir", "/nonexistent/notebooks"], "notebook folder not found"),
    (["predict", "solarwind_tutorial", "--input", "x.csv", "--output", "y.csv"], "does not predict from files"),
])
def test_bad_arguments_give_one_line_and_exit_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_train_and_evaluate_round_trip(tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["train", "solarwind_tutorial", "--fast", "--output", str(model)]) == 0
    assert {p.name for p in model.iterdir()} == {"weights.safetensors", "config.json", "metadata.json"}
    assert main(["evaluate", "solarwind_tutorial", "--model", str(model), "--output", str(tmp_path / "m.csv")]) == 0
    assert "TSS" in capsys.readouterr().out
    assert (tmp_path / "m.csv").read_text().startswith("metric,")
