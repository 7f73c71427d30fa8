"""Losses, optimisers and learning-rate schedules for the training loops.

Models only map inputs to logits; everything that defines *how* they learn
lives here so a science case picks a loss and optimiser by name. The GAN
losses are here too; the adversarial loop is :mod:`planetml_lib.train.adversarial`.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from planetml_lib.errors import PlanetMLError
from planetml_lib.models.nguyen2019 import overlap_targets, overlaps_to_probability

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


def dice_loss(logits, target, smooth=1.0):
    """Soft Dice loss for binary per-step segmentation.

    Parameters
    ----------
    logits : torch.Tensor
        Raw scores, e.g. ``(batch, 1, steps)``; a sigmoid turns them into
        probabilities.
    target : torch.Tensor
        0/1 labels with the same number of elements as ``logits``.
    smooth : float, default 1.0
        Added to numerator and denominator so empty masks give a loss of 0.

    Returns
    -------
    torch.Tensor
        Scalar ``1 - Dice`` in [0, 1], computed over the whole batch so that
        windows without any event do not dominate.

    Examples
    --------
    >>> target = torch.tensor([[0.0, 1.0, 1.0]])
    >>> round(dice_loss(20 * (2 * target - 1), target).item(), 3)
    0.0
    """
    probs = torch.sigmoid(logits)
    target = target.to(probs.dtype).reshape(probs.shape)
    intersection = (probs * target).sum()
    return 1 - (2 * intersection + smooth) / (probs.sum() + target.sum() + smooth)


def iou_loss(logits, target, threshold=0.0):
    """``1 - IoU`` of the thresholded predictions over the whole batch: a validation score, not for training.

    Parameters
    ----------
    logits : torch.Tensor
        Raw scores; ``logits > threshold`` is inside (0 is probability 0.5).
    target : torch.Tensor
        0/1 labels with the same number of elements.
    threshold : float, default 0.0

    Returns
    -------
    torch.Tensor
        Scalar in [0, 1]; 0 when both prediction and target are empty.

    Examples
    --------
    >>> round(iou_loss(torch.tensor([3.0, 3.0, -3.0, -3.0]), torch.tensor([1.0, 0.0, 1.0, 0.0])).item(), 4)
    0.6667
    """
    pred = (logits > threshold).reshape(-1)
    true = target.reshape(-1) > 0.5
    union = (pred | true).sum()
    if union == 0:
        return logits.new_zeros(())
    return 1 - (pred & true).sum().to(logits.dtype) / union.to(logits.dtype)


class DiceBCELoss(nn.Module):
    """Weighted sum of binary cross-entropy (on logits) and soft Dice loss.

    BCE gives smooth per-step gradients; Dice counters the class imbalance of
    rare events (ICMEs fill a few per cent of the solar-wind time line).

    Parameters
    ----------
    bce_weight : float, default 0.5
        Weight of the BCE term; the Dice term gets ``1 - bce_weight``.
    pos_weight : float, optional
        Weight of positive steps in BCE (e.g. n_negative / n_positive).

    Examples
    --------
    >>> loss = DiceBCELoss(bce_weight=0.5)
    >>> value = loss(torch.zeros(2, 1, 10), torch.ones(2, 1, 10))
    """

    def __init__(self, bce_weight=0.5, pos_weight=None):
        super().__init__()
        if not 0.0 <= bce_weight <= 1.0:
            raise PlanetMLError(f"DiceBCELoss: bce_weight must be in [0, 1], got {bce_weight!r}")
        self.bce_weight = bce_weight
        weight = None if pos_weight is None else torch.tensor(float(pos_weight))
        self.register_buffer("pos_weight", weight)

    def forward(self, logits, target):
        """Return the scalar loss for ``logits`` and 0/1 ``target`` of equal size."""
        target = target.to(logits.dtype).reshape(logits.shape)
        bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=self.pos_weight)
        return self.bce_weight * bce + (1 - self.bce_weight) * dice_loss(logits, target)


class MaskedMSELoss(nn.Module):
    """Mean squared error between predictions and targets, ignoring NaN targets.

    The loss of :class:`~planetml_lib.models.nguyen2019.NguyenCNN`, which
    predicts (after its sigmoid) the fraction of each window inside an event;
    NaN marks windows whose target is undefined because they start before the
    data (see :func:`~planetml_lib.models.nguyen2019.overlap_targets`).

    Examples
    --------
    >>> target = torch.tensor([[float("nan"), 1.0, 0.5]])
    >>> MaskedMSELoss()(torch.full((1, 3), 0.5), target).item()
    0.125
    """

    def forward(self, prediction, target):
        """Return the scalar mean over finite targets (0 if there are none), with finite gradients.

        ``prediction`` and ``target`` have the same shape, e.g. ``(batch, n_widths, steps)``.
        """
        if prediction.shape != target.shape:
            raise PlanetMLError(
                f"MaskedMSELoss: prediction {tuple(prediction.shape)} and target {tuple(target.shape)} "
                "differ in shape"
            )
        finite = torch.isfinite(target)
        # zero the NaN first: a NaN error times a zero gradient would still be NaN
        errors = (prediction - torch.nan_to_num(target.to(prediction.dtype))) ** 2
        if not finite.any():
            return (errors * 0).sum()
        return errors[finite].mean()


def class_weights_from_labels(y, n_classes):
    """Inverse-frequency class weights for ``nn.CrossEntropyLoss(weight=...)``.

    Weights are ``n_labels / (n_classes * count_c)`` (scikit-learn's
    "balanced" rule), so the sample-weighted mean weight is 1 and the loss
    keeps its scale. Classes absent from ``y`` get weight 0.

    Parameters
    ----------
    y : array-like of int
        Class labels of any shape, values in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes.

    Returns
    -------
    torch.Tensor
        Float32 weights of shape ``(n_classes,)``.

    Examples
    --------
    >>> class_weights_from_labels([0, 0, 0, 1], 2)
    tensor([0.6667, 2.0000])
    """
    labels = np.asarray(y).ravel()
    if labels.size == 0:
        raise PlanetMLError("class_weights_from_labels: no labels given")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise PlanetMLError(
            f"class_weights_from_labels: labels must lie in 0..{n_classes - 1}, "
            f"got {labels.min()}..{labels.max()}"
        )
    counts = np.bincount(labels.astype(np.int64), minlength=n_classes)
    weights = np.zeros(n_classes)
    present = counts > 0
    weights[present] = labels.size / (n_classes * counts[present])
    return torch.tensor(weights, dtype=torch.float32)


def make_optimizer(model, name="adam", lr=1e-3, weight_decay=0.0):
    """Build an optimiser over ``model``'s parameters by name.

    Parameters
    ----------
    model : torch.nn.Module
    name : {"adam", "adamw", "sgd"}, default "adam"
        SGD uses Nesterov momentum 0.9.
    lr : float, default 1e-3
        Learning rate.
    weight_decay : float, default 0.0
        L2 penalty (decoupled for AdamW).

    Returns
    -------
    torch.optim.Optimizer
    """
    if name not in OPTIMIZERS:
        raise PlanetMLError(f"unknown optimizer {name!r}; valid choices: {', '.join(OPTIMIZERS)}")
    extra = {"momentum": 0.9, "nesterov": True} if name == "sgd" else {}
    return OPTIMIZERS[name](model.parameters(), lr=lr, weight_decay=weight_decay, **extra)


def make_scheduler(optimizer, steps_per_epoch, epochs, max_lr=None):
    """One-cycle learning-rate schedule, stepped once per batch.

    Its signature matches what :func:`planetml_lib.train.loop.fit` expects of
    ``scheduler``, so ``fit(..., scheduler=make_scheduler)`` works directly.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    steps_per_epoch : int
        Batches per epoch.
    epochs : int
        Total number of epochs; the cycle spans ``steps_per_epoch * epochs``.
    max_lr : float, optional
        Peak learning rate; defaults to the optimiser's current ``lr``.

    Returns
    -------
    torch.optim.lr_scheduler.OneCycleLR
    """
    peak = max_lr if max_lr is not None else [group["lr"] for group in optimizer.param_groups]
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=peak, total_steps=steps_per_epoch * epochs
    )


def discriminator_loss(real_logits, fake_logits):
    """GAN discriminator loss: binary cross-entropy with real pairs as 1 and generated pairs as 0.

    Parameters
    ----------
    real_logits, fake_logits : torch.Tensor, shape (batch,)
        Discriminator outputs for real and generated pairs.

    Returns
    -------
    torch.Tensor
        Scalar ``BCE(real, 1) + BCE(fake, 0)``; ``2 ln 2`` (1.386) when the
        discriminator cannot tell them apart.
    """
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def generator_loss(fake_logits):
    """Non-saturating GAN generator loss ``-log D(G(z))`` (Goodfellow et al. 2014).

    Maximising ``log D(G(z))`` instead of minimising ``log(1 - D(G(z)))`` keeps
    the generator's gradients strong while the discriminator wins easily,
    early in training.
    """
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))



@dataclass(frozen=True)
class DetectionSystem:
    """How a sequence model learns per-sample detection, and what its outputs mean.

    Registered per model name in :data:`DETECTION_SYSTEMS`, so a case never branches on
    the model's name.

    Attributes
    ----------
    targets : callable
        ``targets(labels, model_options)``: training targets from 0/1 labels ``(n, steps)``.
    loss : callable
        ``loss(bce_weight)``: the training loss module.
    activation : str or None
        Applied to the outputs at prediction (see :func:`~planetml_lib.train.loop.predict_batches`).
    whole_series : bool
        Predict in one pass over the whole series (causal models) instead of overlapping windows.
    to_probability : callable
        ``to_probability(outputs, model_options)``: ``(n_times, n_outputs)`` outputs to a
        per-sample probability ``(n_times,)``.
    """

    targets: Callable
    loss: Callable
    activation: str | None
    whole_series: bool
    to_probability: Callable


#: Segmentation (ResUNet++, the tutorial CNN): the mask itself, Dice + BCE, sigmoid of one output.
SEGMENTATION = DetectionSystem(targets=lambda labels, options: labels[:, None].astype(np.float32),
                               loss=lambda bce_weight: DiceBCELoss(bce_weight=bce_weight), activation="sigmoid",
                               whole_series=False, to_probability=lambda outputs, options: outputs[:, 0])
#: Nguyen et al. (2019): per-width window overlaps regressed with a masked MSE, read back as a probability.
OVERLAP_REGRESSION = DetectionSystem(
    targets=lambda labels, options: overlap_targets(labels, options["widths"]),
    loss=lambda bce_weight: MaskedMSELoss(), activation=None, whole_series=True,
    to_probability=lambda outputs, options: overlaps_to_probability(outputs.T, options["widths"]))
DETECTION_SYSTEMS = {"convnet1d": SEGMENTATION, "resunetpp1d": SEGMENTATION, "nguyen2019": OVERLAP_REGRESSION}


def detection_system(model):
    """The :class:`DetectionSystem` of a registered sequence model; a clear error naming the valid ones."""
    if model not in DETECTION_SYSTEMS:
        raise PlanetMLError(f"model {model!r} has no detection system; choose one of {sorted(DETECTION_SYSTEMS)}")
    return DETECTION_SYSTEMS[model]
