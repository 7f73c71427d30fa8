import json

import numpy as np
import pytest
import torch

from planetml_lib.errors import PlanetMLError
from planetml_lib.models import MODELS, ResUNetPP1d, create_model
from planetml_lib.models.blocks import ASPP1d, AttentionGate1d, ResidualBlock1d, SqueezeExcite1d
from planetml_lib.train import DiceBCELoss, fit, predict_batches, seeded

SMALL = {"in_channels": 2, "filters": (4, 8, 16)}


def small_model(**options):
    with seeded(0):
        return ResUNetPP1d(**{**SMALL, **options})


def toy_segmentation(n=32, steps=32, seed=0):
    """Blocks of events where channel 0 is raised, plus noise; labels (n, steps) bool."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, steps - 8, size=n)
    steps_index = np.arange(steps)
    y = (steps_index >= starts[:, None]) & (steps_index < starts[:, None] + 8)
    X = rng.normal(scale=0.5, size=(n, 2, steps)).astype(np.float32)
    X[:, 0] += 2 * y
    return X, y


@pytest.mark.parametrize(("filters", "steps"), [((4, 8), 2), ((4, 8, 16), 64), ((4, 8, 16, 16), 24)])
def test_output_has_one_logit_per_step(filters, steps):
    model = ResUNetPP1d(3, n_classes=2, filters=filters).eval()
    assert model(torch.zeros(5, 3, steps)).shape == (5, 2, steps)


@pytest.mark.parametrize("steps", [60, 62, 1])
def test_length_must_be_multiple_of_downsampling(steps):
    with pytest.raises(PlanetMLError, match=f"input length {steps} must be a multiple of 8"):
        ResUNetPP1d(2, filters=(4, 8, 16, 32))(torch.zeros(1, 2, steps))


@pytest.mark.parametrize(
    "bad", [{"filters": (8,)}, {"filters": (8, 0)}, {"dropout": 1.0}, {"n_classes": 0}, {"dilations": ()}]
)
def test_rejects_bad_options(bad):
    with pytest.raises(PlanetMLError, match="ResUNetPP1d"):
        ResUNetPP1d(2, **bad)


def test_gradient_reaches_every_parameter():
    model = small_model(n_classes=2, dropout=0.1)
    model(torch.randn(4, 2, 32)).pow(2).mean().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_default_size_and_registry_round_trip():
    model = create_model("resunetpp1d", **json.loads('{"in_channels": 11, "filters": [16, 32, 64, 128]}'))
    assert MODELS["resunetpp1d"] is ResUNetPP1d and isinstance(model, ResUNetPP1d)
    assert sum(p.numel() for p in model.parameters()) == 579_055
    assert model.eval()(torch.zeros(1, 11, 1024)).shape == (1, 1, 1024)


def test_blocks_keep_or_halve_length():
    x = torch.randn(2, 4, 40)
    assert ResidualBlock1d(4, 6, stride=2)(x).shape == (2, 6, 20)
    assert ASPP1d(4, 3, dilations=(1, 30))(x).shape == (2, 3, 40)  # dilation wider than the input
    assert AttentionGate1d(skip_channels=5, channels=4)(torch.randn(2, 5, 80), x).shape == (2, 4, 40)
    gated = SqueezeExcite1d(4, reduction=2)(x)
    ratio = gated / x  # one gate per sample and channel, constant over time, in (0, 1)
    torch.testing.assert_close(ratio, ratio[..., :1].expand_as(ratio))
    assert (ratio > 0).all() and (ratio < 1).all()


def test_learns_toy_segmentation():
    X, y = toy_segmentation()
    model = small_model()
    history = fit(model, (X, y), toy_segmentation(seed=1), DiceBCELoss(), epochs=6, lr=1e-2, batch_size=16,
                  progress=False, device="cpu")
    assert history["train_loss"].iloc[-1] < 0.6 * history["train_loss"].iloc[0]
    X_test, y_test = toy_segmentation(seed=2)
    probs = predict_batches(model, X_test, device="cpu", activation="sigmoid")[:, 0]
    assert ((probs > 0.5) == y_test).mean() > 0.9
