"""U-Net for 2-D segmentation of image or terrain tiles (e.g. Mars mounds).

A thin wrapper of ``segmentation_models_pytorch.Unet`` (Ronneberger et al. 2015,
with a ResNet encoder) that follows the package's model convention: built as
``UNet2d(in_channels, n_classes, **options)`` from JSON-able options and
returning raw logits. Encoder weights are always initialised at random: no
pretrained weights are downloaded (the bundle works offline, and terrain
channels are not the RGB photographs ImageNet weights were trained on).
"""

from torch import nn

from planetml_lib.errors import PlanetMLError


class UNet2d(nn.Module):
    """U-Net with a ResNet-style encoder, per-pixel logits.

    Parameters
    ----------
    in_channels : int
        Input channels per pixel (e.g. 3 terrain channels, or 1 image).
    n_classes : int, default 1
        Output logits per pixel (1 for binary masks with a sigmoid loss).
    encoder : str, default "resnet18"
        Any encoder name that segmentation_models_pytorch knows
        (``resnet18``, ``resnet34``, ``efficientnet-b0``, ...).
    encoder_depth : int, default 4
        Number of downsampling stages (3-5); tile sides must be divisible by
        ``2 ** encoder_depth``.
    decoder_channels : sequence of int, default (128, 64, 32, 16)
        Channels of each decoder stage, one per encoder stage.

    Notes
    -----
    Input ``(batch, in_channels, h, w)`` float32, finite (scale with
    :func:`planetml_lib.preprocess.images.scale_to_unit`); output logits
    ``(batch, n_classes, h, w)``. segmentation_models_pytorch (and timm) are
    imported on first construction, so importing :mod:`planetml_lib.models`
    stays fast.

    Examples
    --------
    >>> import torch
    >>> model = UNet2d(3, 1, encoder_depth=3, decoder_channels=(32, 16, 8)).eval()
    >>> model(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 1, 32, 32])
    """

    def __init__(self, in_channels, n_classes=1, encoder="resnet18", encoder_depth=4,
                 decoder_channels=(128, 64, 32, 16)):
        super().__init__()
        import segmentation_models_pytorch as smp  # here, not at the top: a 2 s import (see Notes)

        for name, value in [("in_channels", in_channels), ("n_classes", n_classes),
                            ("encoder_depth", encoder_depth)]:
            if not isinstance(value, int) or value < 1:
                raise PlanetMLError(f"UNet2d: {name} must be a positive integer, got {value!r}")
        if len(decoder_channels) != encoder_depth:
            raise PlanetMLError(f"UNet2d: give one decoder channel count per encoder stage "
                                f"({encoder_depth}), got {list(decoder_channels)}")
        if encoder not in smp.encoders.get_encoder_names():
            raise PlanetMLError(f"UNet2d: unknown encoder {encoder!r}; e.g. resnet18, resnet34, efficientnet-b0")
        self.net = smp.Unet(encoder_name=encoder, encoder_depth=encoder_depth, encoder_weights=None,
                            decoder_channels=tuple(decoder_channels), in_channels=in_channels,
                            classes=n_classes)

    def forward(self, x):
        """Return logits ``(batch, n_classes, h, w)`` for ``x`` ``(batch, in_channels, h, w)``."""
        return self.net(x)
