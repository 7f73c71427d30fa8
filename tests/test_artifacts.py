import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from planetml_lib import __version__
from planetml_lib.errors import PlanetMLError
from planetml_lib.models import create_model
from planetml_lib.models.artifacts import load_model, save_model

OPTIONS = {"in_channels": 3, "n_classes": 2, "width": 6, "depth": 2, "kernel_size": 5}
CONFIG = {"model": "convnet1d", "model_options": OPTIONS, "window_length": 32}
METADATA = {"variables": ["bt", "vt", "valid"], "units": ["nT", "km/s", "1"],
            "scaler_mean": np.array([5.0, 400.0]), "n_train": np.int64(120),
            "classes": ["sw", "icme"]}


@pytest.fixture
def trained():
    """A model whose batch-norm statistics and weights differ from a fresh one."""
    torch.manual_seed(0)
    model = create_model("convnet1d", **OPTIONS)
    model(torch.randn(8, 3, 32) * 3 + 1)  # update running statistics in train mode
    return model.eval()


def test_round_trip_gives_identical_outputs(tmp_path, trained):
    folder = save_model(trained, tmp_path / "icme_model", CONFIG, METADATA)
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json", "metadata.json", "weights.safetensors"]
    model, config, metadata = load_model(folder, device="cpu")
    assert not model.training and config == CONFIG
    assert metadata["scaler_mean"] == [5.0, 400.0] and metadata["n_train"] == 120
    assert metadata["planetml_version"] == __version__
    assert metadata["created_utc"].endswith("+00:00")
    x = torch.randn(4, 3, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), trained(x), rtol=0, atol=0)


def test_files_are_plain_json_and_safetensors(tmp_path, trained):
    folder = save_model(trained, tmp_path / "m", CONFIG, METADATA)
    assert json.loads((folder / "config.json").read_text())["model_options"] == OPTIONS
    assert (folder / "weights.safetensors").read_bytes()[8:9] == b"{"  # safetensors header


def test_undefined_numbers_are_written_as_strict_json_null(tmp_path, trained):
    metadata = {"metrics": {"precision": float("nan"), "recall": np.float64(0.5)}, "peak": [np.inf, 1.0]}
    folder = save_model(trained, tmp_path / "m", CONFIG, metadata)
    text = (folder / "metadata.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    written = json.loads(text)
    assert written["metrics"] == {"precision": None, "recall": 0.5} and written["peak"] == [None, 1.0]


def test_save_replaces_existing_model_folder(tmp_path, trained):
    folder = tmp_path / "m"
    save_model(trained, folder, CONFIG, {"run": 1})
    (folder / "stale.txt").write_text("old")
    save_model(trained, folder, CONFIG, {"run": 2})
    assert load_model(folder)[2]["run"] == 2
    assert not (folder / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_failure_midway_leaves_nothing(tmp_path, trained):
    with pytest.raises(PlanetMLError, match="metadata.json: cannot write as JSON"):
        save_model(trained, tmp_path / "m", CONFIG, {"bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_keeps_old_model(tmp_path, trained):
    folder = save_model(trained, tmp_path / "m", CONFIG, {"run": 1})
    with pytest.raises(PlanetMLError):
        save_model(trained, folder, CONFIG, {"bad": {1, 2}})
    assert load_model(folder)[2]["run"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


@pytest.mark.parametrize("config, message", [
    ({"model_options": OPTIONS}, '"model"'),
    ({"model": "convnet1d"}, "model_options"),
    ({"model": "other", "model_options": OPTIONS}, "'other' but the model is a ConvNet1d"),
])
def test_save_rejects_bad_config(tmp_path, trained, config, message):
    with pytest.raises(PlanetMLError, match=message):
        save_model(trained, tmp_path / "m", config, {})
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_to_replace_other_folder(tmp_path, trained):
    (tmp_path / "notes.txt").write_text("precious")
    with pytest.raises(PlanetMLError, match="not a model folder"):
        save_model(trained, tmp_path, CONFIG, {})
    assert (tmp_path / "notes.txt").read_text() == "precious"


def test_load_missing_folder_or_file(tmp_path, trained):
    with pytest.raises(PlanetMLError, match="nowhere: model folder not found"):
        load_model(tmp_path / "nowhere")
    folder = save_model(trained, tmp_path / "m", CONFIG, {})
    (folder / "metadata.json").unlink()
    assert load_model(folder)[2] is None  # metadata.json is optional (case folders keep all in config.json)
    assert not (save_model(trained, tmp_path / "bare", CONFIG) / "metadata.json").exists()


def test_load_rejects_weights_not_matching_config(tmp_path, trained):
    folder = save_model(trained, tmp_path / "m", CONFIG, {})
    wrong = {**CONFIG, "model_options": {**OPTIONS, "width": 7}}
    (folder / "config.json").write_text(json.dumps(wrong))
    with pytest.raises(PlanetMLError, match="weights.safetensors: weights do not match"):
        load_model(folder)


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ('{"model": "nope", "model_options": {}}', "unknown model 'nope'"),
    ('{"model": "convnet1d", "model_options": {"colour": 1}}', "bad model_options"),
])
def test_load_rejects_bad_config(tmp_path, trained, text, message):
    folder = save_model(trained, tmp_path / "m", CONFIG, {})
    (folder / "config.json").write_text(text)
    with pytest.raises(PlanetMLError, match=f"config.json: {message}"):
        load_model(folder)


def test_load_rejects_corrupt_weights(tmp_path, trained):
    folder = save_model(trained, tmp_path / "m", CONFIG, {})
    (folder / "weights.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(PlanetMLError, match="weights.safetensors"):
        load_model(folder)


def test_loading_models_does_not_import_the_file_readers():
    """Saving and loading a model needs torch and safetensors, not cdflib, astropy or xarray
    (a GPU machine or a slim image may lack them; they also cost import time)."""
    code = ("import sys, planetml_lib.models.artifacts, planetml_lib.train; "
            "print(sorted(m for m in ('cdflib', 'astropy', 'xarray', 'geopandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_io_names_import_on_first_use():
    import planetml_lib.io as io

    assert io.write_catalog.__module__ == "planetml_lib.io.export"
    assert set(io.__all__) <= set(dir(io))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        io.nothing  # noqa: B018
