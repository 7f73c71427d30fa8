import json

import numpy as np
import pytest
import torch

from planetml_lib.errors import PlanetMLError
from planetml_lib.models import MODELS, NguyenCNN, create_model
from planetml_lib.models.nguyen2019 import overlap_targets, overlaps_to_probability
from planetml_lib.train import fit, predict_batches, seeded
from planetml_lib.train.systems import MaskedMSELoss

WIDTHS = (10, 16)
SMALL = {"in_channels": 2, "widths": WIDTHS, "n_filters": 4, "n_levels": 2, "n_hidden": 8}


def small_model(**options):
    with seeded(0):
        return NguyenCNN(**{**SMALL, **options}).eval()


def changed_steps(model, x, step):
    """Per width, the output steps that change in any sample when input ``step`` changes."""
    before = model(x)
    x = x.clone()
    x[:, :, step] += 3.0
    changed = ((model(x) - before).abs() > 0).any(dim=0)
    return [row.nonzero().flatten().tolist() for row in changed]


@pytest.mark.parametrize("steps", [1, 9, 100])
def test_output_has_one_overlap_fraction_per_width_and_step(steps):
    out = small_model()(torch.randn(3, 2, steps) * 10)
    assert out.shape == (3, 2, steps) and (out >= 0).all() and (out <= 1).all()


@pytest.mark.parametrize("n_levels", [1, 2, 3])
def test_causal_with_receptive_field_equal_to_width(n_levels):
    widths = (3 * 2**n_levels - 2, 23, 40)
    model = small_model(widths=widths, n_levels=n_levels)
    torch.manual_seed(1)
    x = torch.randn(32, 2, 80)  # many samples, so every tap of the max-pools and ReLUs is used by one
    for width, changed in zip(widths, changed_steps(model, x, step=20), strict=True):
        # outputs before the change are untouched; the window ending at t covers t - width + 1 .. t
        assert changed == list(range(20, 20 + width))


def test_overlap_targets_by_hand():
    label = np.array([0, 0, 1, 1, 1, 0, 0, 1])
    expected = np.array([
        [np.nan, 0.0, 0.5, 1.0, 1.0, 0.5, 0.0, 0.5],
        [np.nan, np.nan, np.nan, 0.5, 0.75, 0.75, 0.5, 0.5],
    ])
    np.testing.assert_allclose(overlap_targets(label, [2, 4]), expected)
    batch = overlap_targets(np.stack([label, 1 - label]), [2, 4])
    assert batch.shape == (2, 2, 8)
    np.testing.assert_allclose(batch[1], 1 - expected)
    assert np.isnan(overlap_targets(label, [9])).all()
    with pytest.raises(PlanetMLError, match="widths"):
        overlap_targets(label, [0])


def test_overlaps_to_probability_by_hand():
    overlaps = np.array([[np.nan, 0.2, 0.4, 0.6, 1.0]])
    # width 2: sample s is covered by windows ending at s and s + 1
    np.testing.assert_allclose(overlaps_to_probability(overlaps, [2]), [0.2, 0.3, 0.5, 0.8, 1.0])
    two = overlaps_to_probability(np.vstack([overlaps, np.full((1, 5), np.nan)]), [2, 3])
    np.testing.assert_allclose(two, [0.2, 0.3, 0.5, 0.8, 1.0])  # an all-NaN width is ignored
    assert np.isnan(overlaps_to_probability(np.full((1, 3), np.nan), [2])).all()
    with pytest.raises(PlanetMLError, match=r"shape \(2, steps\)"):
        overlaps_to_probability(overlaps, [2, 3])


def test_perfect_overlaps_reproduce_label():
    label = np.zeros(120, dtype=bool)
    for start, length in [(20, 16), (50, 40), (104, 16)]:
        label[start:start + length] = True
    score = overlaps_to_probability(overlap_targets(label, WIDTHS), WIDTHS)
    assert ((score > 0.5) == label).all()
    assert score[65:75] == pytest.approx(1.0) and score[:5] == pytest.approx(0.0)  # windows within events


def test_registry_and_json_options():
    model = create_model("nguyen2019", **json.loads('{"in_channels": 11, "widths": [64, 128, 256]}'))
    assert MODELS["nguyen2019"] is NguyenCNN and isinstance(model, NguyenCNN)
    assert model.widths == [64, 128, 256]
    assert sum(p.numel() for p in model.parameters()) == 33_187


@pytest.mark.parametrize(
    "bad", [{"widths": (9, 16)}, {"widths": ()}, {"n_filters": 0}, {"widths": (16.0,)}, {"dropout": -0.1}]
)
def test_rejects_bad_options(bad):
    with pytest.raises(PlanetMLError, match="NguyenCNN"):
        NguyenCNN(**{**SMALL, **bad})


def toy_overlaps(n=64, steps=48, seed=0):
    """Channel 0 raised inside one event per window; targets are the window overlaps."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, steps - 12, size=n)
    index = np.arange(steps)
    label = (index >= starts[:, None]) & (index < starts[:, None] + 12)
    X = rng.normal(scale=0.3, size=(n, 2, steps)).astype(np.float32)
    X[:, 0] += label
    return X, overlap_targets(label, WIDTHS).astype(np.float32)


def test_learns_toy_overlaps():
    X, y = toy_overlaps()
    assert np.isnan(y[:, 1, :15]).all()  # the loss must skip windows that start before the data
    model = small_model()
    history = fit(model, (X, y), toy_overlaps(seed=1), MaskedMSELoss(), epochs=10, lr=2e-2, batch_size=16,
                  progress=False, device="cpu")
    assert history["train_loss"].iloc[-1] < 0.3 * history["train_loss"].iloc[0]
    X_test, y_test = toy_overlaps(seed=2)
    predicted = predict_batches(model, X_test, device="cpu")
    known = np.isfinite(y_test)
    assert np.abs(predicted[known] - y_test[known]).mean() < 0.15
