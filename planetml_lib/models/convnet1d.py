"""A plain stack of same-length 1-D convolutions for per-step classification.

The smallest useful time-series segmenter: a baseline for the ICME and
magnetospheric-boundary cases and the model the fast (test) configurations use.
"""

from torch import nn

from planetml_lib.errors import PlanetMLError
from planetml_lib.models.blocks import ConvBlock1d


class ConvNet1d(nn.Module):
    """Per-step classifier made of ``depth`` convolution blocks and a 1x1 head.

    Parameters
    ----------
    in_channels : int
        Number of input variables (channels) per time step.
    n_classes : int
        Number of output logits per time step (1 for binary segmentation
        with a sigmoid loss, ``n_classes`` for softmax cross-entropy).
    width : int, default 32
        Channels in every hidden block.
    depth : int, default 3
        Number of :class:`~planetml_lib.models.blocks.ConvBlock1d` blocks.
    kernel_size : int, default 7
        Odd convolution width in time steps, centred on each output step
        (an even width would shift outputs by half a step); the receptive field is
        ``depth * (kernel_size - 1) + 1`` steps.
    dropout : float, default 0.1
        Dropout probability inside each block.

    Notes
    -----
    Input ``x`` has shape ``(batch, in_channels, steps)`` float32 and must be
    finite: replace NaN (data gaps) by 0 and pass a validity channel
    (1 = measured, 0 = gap) so the model can tell a gap from a zero. The
    output holds logits of shape ``(batch, n_classes, steps)``, one per input
    step; activation (sigmoid/softmax) is left to the loss or the caller.

    Examples
    --------
    >>> import torch
    >>> model = ConvNet1d(in_channels=4, n_classes=2, width=8, depth=2)
    >>> model(torch.zeros(5, 4, 100)).shape
    torch.Size([5, 2, 100])
    """

    def __init__(self, in_channels, n_classes, width=32, depth=3, kernel_size=7, dropout=0.1):
        super().__init__()
        for name, value in [("in_channels", in_channels), ("n_classes", n_classes),
                            ("width", width), ("depth", depth), ("kernel_size", kernel_size)]:
            if not isinstance(value, int) or value < 1:
                raise PlanetMLError(f"ConvNet1d: {name} must be a positive integer, got {value!r}")
        if kernel_size % 2 == 0:
            raise PlanetMLError(f"ConvNet1d: kernel_size must be odd (centred), got {kernel_size}")
        if not 0.0 <= dropout < 1.0:
            raise PlanetMLError(f"ConvNet1d: dropout must be in [0, 1), got {dropout!r}")
        channels = [in_channels] + [width] * depth
        self.blocks = nn.Sequential(
            *(ConvBlock1d(c_in, c_out, kernel_size, dropout=dropout)
              for c_in, c_out in zip(channels[:-1], channels[1:], strict=True))
        )
        self.head = nn.Conv1d(width, n_classes, kernel_size=1)

    def forward(self, x):
        """Return logits ``(batch, n_classes, steps)`` for ``x`` ``(batch, in_channels, steps)``."""
        return self.head(self.blocks(x))
