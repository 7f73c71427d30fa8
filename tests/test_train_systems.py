import numpy as np
import pytest
import torch
from torch.nn import functional as F

from planetml_lib.errors import PlanetMLError
from planetml_lib.models import create_model
from planetml_lib.train import DiceBCELoss, class_weights_from_labels, dice_loss, make_optimizer, make_scheduler
from planetml_lib.train.systems import MaskedMSELoss


def test_dice_loss_extremes():
    target = torch.tensor([[[0.0, 1.0, 1.0, 0.0]]])
    assert dice_loss(30 * (2 * target - 1), target).item() == pytest.approx(0.0, abs=1e-6)
    # all wrong: 1 - (0 + 1) / (2 + 2 + 1)
    assert dice_loss(-30 * (2 * target - 1), target).item() == pytest.approx(0.8)
    empty = torch.zeros(1, 1, 4)
    assert dice_loss(torch.full((1, 1, 4), -30.0), empty).item() == pytest.approx(0.0, abs=1e-6)
    # half-confident prediction: probs 0.5 everywhere -> 1 - (2*1 + 1) / (2 + 2 + 1)
    assert dice_loss(torch.zeros(1, 1, 4), target).item() == pytest.approx(0.4)


def test_dice_bce_loss_combines_terms():
    logits = torch.tensor([[[-1.0, 2.0, 0.5]]])
    target = torch.tensor([[1.0, 1.0, 0.0]])  # (batch, steps) is reshaped to the logits
    bce = F.binary_cross_entropy_with_logits(logits, target[:, None])
    dice = dice_loss(logits, target)
    assert DiceBCELoss(bce_weight=1.0)(logits, target).item() == pytest.approx(bce.item())
    assert DiceBCELoss(bce_weight=0.0)(logits, target).item() == pytest.approx(dice.item())
    assert DiceBCELoss()(logits, target).item() == pytest.approx(0.5 * (bce + dice).item())
    weighted = DiceBCELoss(bce_weight=1.0, pos_weight=3.0)(logits, target).item()
    assert weighted > bce.item()
    with pytest.raises(PlanetMLError, match="bce_weight"):
        DiceBCELoss(bce_weight=2.0)


def test_class_weights_from_labels():
    weights = class_weights_from_labels(np.array([[0, 0, 0], [1, 0, 1]]), 3)
    # 6 labels, counts (4, 2, 0): 6 / (3 * count), absent class -> 0
    torch.testing.assert_close(weights, torch.tensor([0.5, 1.0, 0.0]))
    with pytest.raises(PlanetMLError, match="0..1"):
        class_weights_from_labels([0, 2], 2)


def test_make_optimizer_and_scheduler():
    model = create_model("convnet1d", in_channels=2, n_classes=2, width=4, depth=1)
    optimizer = make_optimizer(model, "adamw", lr=0.01, weight_decay=0.1)
    assert isinstance(optimizer, torch.optim.AdamW)
    assert optimizer.param_groups[0]["weight_decay"] == 0.1
    assert make_optimizer(model, "sgd").param_groups[0]["momentum"] == 0.9
    with pytest.raises(PlanetMLError, match="adam, adamw, sgd"):
        make_optimizer(model, "lbfgs")
    scheduler = make_scheduler(optimizer, steps_per_epoch=10, epochs=2)
    lrs = []
    for _ in range(20):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert max(lrs) == pytest.approx(0.01, rel=0.05) and lrs[0] < 0.001 and lrs[-1] < 1e-4


def test_masked_mse_loss_skips_nan_targets():
    prediction = torch.tensor([[[0.5, 0.9, 0.2], [0.3, 0.0, 0.75]]], requires_grad=True)
    target = torch.tensor([[[np.nan, 1.0, 0.0], [np.nan, np.nan, 0.5]]])
    loss = MaskedMSELoss()(prediction, target)
    assert loss.item() == pytest.approx((0.1**2 + 0.2**2 + 0.25**2) / 3)
    loss.backward()
    assert torch.isfinite(prediction.grad).all()
    assert (prediction.grad[target.isnan()] == 0).all() and (prediction.grad[~target.isnan()] != 0).all()


def test_masked_mse_loss_without_targets_and_with_bad_shape():
    prediction = torch.zeros(1, 2, 3, requires_grad=True)
    loss = MaskedMSELoss()(prediction, torch.full((1, 2, 3), np.nan))
    assert loss.item() == 0.0
    loss.backward()
    assert (prediction.grad == 0).all()
    with pytest.raises(PlanetMLError, match=r"\(1, 2, 3\) and target \(1, 6\)"):
        MaskedMSELoss()(prediction, torch.zeros(1, 6))
