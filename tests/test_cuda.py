"""The CUDA paths: training and prediction on a GPU under bfloat16 autocast, and moving work
between GPU and CPU. They run only where torch sees a GPU (the CI machine has none; the
development GPU machine runs them, see docs/platforms.md)."""

import numpy as np
import pytest
import torch
from torch import nn

from planetml_lib.models import create_model
from planetml_lib.models.artifacts import load_model, save_model
from planetml_lib.train import DiceBCELoss, fit, predict_batches, seeded

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

OPTIONS = {"in_channels": 2, "n_classes": 1, "filters": [8, 16, 32], "dropout": 0.0}


def toy_segmentation(n=256, steps=128, seed=0):
    """Per-step masks: where the smoothed channel 0 is positive."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2, steps)).astype(np.float32)
    smooth = np.apply_along_axis(lambda row: np.convolve(row, np.ones(9) / 9, "same"), 1, X[:, 0])
    X[:, 1] = smooth
    return X, (smooth > 0)[:, None].astype(np.float32)


def new_model():
    with seeded(0):
        return create_model("resunetpp1d", **OPTIONS)


def test_fit_on_cuda_with_autocast_learns_and_keeps_float32_weights(tmp_path):
    X, y = toy_segmentation()
    model = new_model()
    history = fit(model, (X[:192], y[:192]), (X[192:], y[192:]), DiceBCELoss(), epochs=8, lr=3e-3,
                  batch_size=32, device="cuda", progress=False, checkpoint_dir=tmp_path)
    assert next(model.parameters()).device.type == "cuda"
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert history["val_loss"].min() < 0.5 * history["val_loss"].iloc[0]
    probability = predict_batches(model, X[192:], device="cuda", activation="sigmoid")
    assert probability.dtype == np.float32
    assert ((probability > 0.5) == (y[192:] > 0.5)).mean() > 0.9


def test_cuda_checkpoint_resumes_on_cpu(tmp_path):
    X, y = toy_segmentation(n=64)
    fit(new_model(), (X, y), (X, y), DiceBCELoss(), epochs=1, device="cuda", progress=False,
        checkpoint_dir=tmp_path)
    history = fit(new_model(), (X, y), (X, y), DiceBCELoss(), epochs=2, device="cpu", progress=False,
                  checkpoint_dir=tmp_path)
    assert list(history["epoch"]) == [1, 2]


def test_model_trained_on_cuda_loads_on_cpu_and_predicts_alike(tmp_path):
    X, y = toy_segmentation(n=128)
    model = new_model()
    fit(model, (X, y), (X, y), nn.BCEWithLogitsLoss(), epochs=3, device="cuda", progress=False)
    save_model(model, tmp_path / "model", {"model": "resunetpp1d", "model_options": OPTIONS}, {})
    on_cpu, _, _ = load_model(tmp_path / "model", device="cpu")
    cpu = predict_batches(on_cpu, X, device="cpu", activation="sigmoid")
    gpu = predict_batches(model, X, device="cuda", activation="sigmoid")  # bfloat16 autocast
    assert np.abs(cpu - gpu).max() < 0.05
    assert ((cpu > 0.5) != (gpu > 0.5)).mean() < 0.01
