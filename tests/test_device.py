import contextlib

import pytest
import torch

from planetml_lib.device import ENV_VAR, get_device
from planetml_lib.errors import PlanetMLError


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_default_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device().type == "cuda"


def test_prefer_cpu_forces_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")


def test_env_var_overrides_automatic_choice(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert get_device() == torch.device("cpu")


def test_unavailable_cuda_raises(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(PlanetMLError, match="'cuda' is not available"):
        get_device("cuda")
    monkeypatch.setenv(ENV_VAR, "cuda")
    with pytest.raises(PlanetMLError, match="not available"):
        get_device()


def test_unknown_device_name_raises():
    with pytest.raises(PlanetMLError, match="unknown device 'gpu0'"):
        get_device("gpu0")


def test_autocast_is_off_on_cpu_and_can_be_forced_or_refused(monkeypatch):
    from planetml_lib.device import autocast

    layer = torch.nn.Linear(4, 4)
    with autocast(torch.device("cpu")):
        assert layer(torch.ones(1, 4)).dtype == torch.float32
    with autocast(torch.device("cpu"), enabled=True):
        assert layer(torch.ones(1, 4)).dtype == torch.bfloat16
    monkeypatch.setenv("PLANETML_MIXED_PRECISION", "0")
    assert isinstance(autocast(torch.device("cuda")), contextlib.nullcontext)


def test_training_and_prediction_work_under_mixed_precision(monkeypatch):
    import numpy as np

    from planetml_lib import device
    from planetml_lib.models import create_model
    from planetml_lib.train import loop

    monkeypatch.setattr(loop, "autocast", lambda dev: device.autocast(dev, enabled=True))
    X = np.random.default_rng(0).normal(size=(64, 2, 16)).astype("float32")
    y = (X[:, 0] > 0).astype("int64")
    model = create_model("convnet1d", in_channels=2, n_classes=2, width=8, depth=1)
    history = loop.fit(model, (X, y), (X, y), torch.nn.CrossEntropyLoss(), epochs=3, lr=1e-2, progress=False)
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert loop.predict_batches(model, X).dtype == np.float32
