"""Layers shared by the 1-D models.

Models are built from these blocks so that padding, normalisation and
activation choices live in one place.
"""

from torch import nn


class ConvBlock1d(nn.Sequential):
    """Same-length 1-D convolution, batch normalisation, ReLU and dropout.

    Maps ``(batch, in_channels, steps)`` to ``(batch, out_channels, steps)``:
    the convolution uses ``padding="same"`` so the time axis keeps its length
    and every output step stays aligned with its input time stamp.

    Parameters
    ----------
    in_channels, out_channels : int
        Number of input and output channels.
    kernel_size : int
        Convolution width in time steps.
    dilation : int, default 1
        Spacing between kernel taps; widens the receptive field.
    dropout : float, default 0.0
        Channel dropout probability after the activation.

    Examples
    --------
    >>> import torch
    >>> ConvBlock1d(3, 8, kernel_size=5)(torch.zeros(2, 3, 50)).shape
    torch.Size([2, 8, 50])
    """

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1, dropout=0.0):
        super().__init__(
            nn.Conv1d(
                in_channels,
                out_channels,
                kernel_size,
                padding="same",
                dilation=dilation,
                bias=False,  # batch norm supplies the offset
            ),
            nn.BatchNorm1d(out_channels),
            nn.ReLU(inplace=True),
            nn.Dropout1d(dropout),
        )
