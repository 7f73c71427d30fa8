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
