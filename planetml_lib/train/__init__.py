"""Training: the fit loop, batched prediction, losses and optimisers."""

from planetml_lib.train.loop import fit, predict_batches, seeded
from planetml_lib.train.systems import (
    DiceBCELoss,
    class_weights_from_labels,
    dice_loss,
    iou_loss,
    make_optimizer,
    make_scheduler,
)

__all__ = [
    "DiceBCELoss",
    "class_weights_from_labels",
    "dice_loss",
    "iou_loss",
    "fit",
    "make_optimizer",
    "make_scheduler",
    "predict_batches",
    "seeded",
]
