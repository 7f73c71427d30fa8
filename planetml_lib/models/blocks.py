"""Layers shared by the 1-D models.

Models are built from these blocks so that padding, normalisation and
activation choices live in one place.
"""

from torch import nn
from torch.nn import functional as F


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


class SqueezeExcite1d(nn.Module):
    """Squeeze-and-excitation: rescale each channel by a gate learned from the whole window.

    The window is averaged over time (squeeze), passed through a two-layer
    bottleneck (excitation) and a sigmoid, and every channel is multiplied by
    its gate in [0, 1] (Hu et al. 2018). Shape is kept: ``(batch, channels, steps)``.

    Parameters
    ----------
    channels : int
        Number of input (and output) channels.
    reduction : int, default 8
        Bottleneck factor; the hidden layer has ``max(1, channels // reduction)`` units.

    Examples
    --------
    >>> import torch
    >>> SqueezeExcite1d(16)(torch.ones(2, 16, 30)).shape
    torch.Size([2, 16, 30])
    """

    def __init__(self, channels, reduction=8):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool1d(1),
            nn.Conv1d(channels, hidden, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Conv1d(hidden, channels, kernel_size=1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        """Return ``x`` with every channel scaled by its gate."""
        return x * self.gate(x)


class ResidualBlock1d(nn.Module):
    """Two 3-tap convolutions plus a 1x1 shortcut, optionally downsampling by ``stride``.

    The body is pre-activated (batch norm, ReLU, convolution, twice), as in
    ResUNet++; the shortcut is a strided 1x1 convolution with batch norm so
    the sum has the body's channels and length. Maps ``(batch, in_channels,
    steps)`` to ``(batch, out_channels, steps // stride)`` for ``steps``
    divisible by ``stride``.

    Parameters
    ----------
    in_channels, out_channels : int
        Number of input and output channels.
    stride : int, default 1
        Downsampling factor of the first convolution and of the shortcut.
    dropout : float, default 0.0
        Channel dropout probability between the two convolutions.
    preactivate : bool, default True
        Start with batch norm and ReLU. The stem block, which sees the raw
        (already normalised) inputs, starts with the convolution instead.

    Examples
    --------
    >>> import torch
    >>> ResidualBlock1d(4, 8, stride=2)(torch.zeros(2, 4, 64)).shape
    torch.Size([2, 8, 32])
    """

    def __init__(self, in_channels, out_channels, stride=1, dropout=0.0, preactivate=True):
        super().__init__()
        head = [nn.BatchNorm1d(in_channels), nn.ReLU()] if preactivate else []
        self.body = nn.Sequential(
            *head,
            nn.Conv1d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1),
            nn.BatchNorm1d(out_channels),
            nn.ReLU(inplace=True),
            nn.Dropout1d(dropout),
            nn.Conv1d(out_channels, out_channels, kernel_size=3, padding=1),
        )
        self.shortcut = nn.Sequential(
            nn.Conv1d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm1d(out_channels),
        )

    def forward(self, x):
        """Return ``body(x) + shortcut(x)``."""
        return self.body(x) + self.shortcut(x)


class ASPP1d(nn.Module):
    """Atrous spatial pyramid pooling: parallel dilated convolutions seeing several time scales.

    Each branch is a 3-tap :class:`ConvBlock1d` with its own dilation, so a
    branch with dilation ``d`` spans ``2 * d + 1`` steps. As in the ResUNet++
    reference code the branch outputs are summed (not concatenated) and mixed
    by a 1x1 convolution. Maps ``(batch, in_channels, steps)`` to
    ``(batch, out_channels, steps)``.

    Parameters
    ----------
    in_channels, out_channels : int
        Number of input and output channels.
    dilations : sequence of int, default (1, 6, 12, 18)
        One branch per dilation.
    dropout : float, default 0.0
        Channel dropout probability inside each branch.

    Examples
    --------
    >>> import torch
    >>> ASPP1d(8, 4, dilations=(1, 3))(torch.zeros(2, 8, 20)).shape
    torch.Size([2, 4, 20])
    """

    def __init__(self, in_channels, out_channels, dilations=(1, 6, 12, 18), dropout=0.0):
        super().__init__()
        self.branches = nn.ModuleList(
            ConvBlock1d(in_channels, out_channels, kernel_size=3, dilation=d, dropout=dropout)
            for d in dilations
        )
        self.project = nn.Conv1d(out_channels, out_channels, kernel_size=1)

    def forward(self, x):
        """Return the 1x1-mixed sum of all branches."""
        return self.project(sum(branch(x) for branch in self.branches))


def _preactivated_conv(in_channels, out_channels):
    """Batch norm, ReLU and a same-length 3-tap convolution, as a list of layers."""
    return [nn.BatchNorm1d(in_channels), nn.ReLU(),
            nn.Conv1d(in_channels, out_channels, kernel_size=3, padding=1)]


class AttentionGate1d(nn.Module):
    """ResUNet++ attention: encoder (skip) features gate the decoder features before upsampling.

    The skip tensor ``skip`` ``(batch, skip_channels, 2 * steps)`` comes from
    the encoder level the decoder is about to join; it is convolved and
    max-pooled to the decoder's length, added to the convolved decoder
    features ``x`` ``(batch, channels, steps)``, and a last convolution plus
    sigmoid gives a per-step, per-channel gate in [0, 1] that multiplies
    ``x``. The sigmoid follows Attention U-Net (Oktay et al. 2018); the
    ResUNet++ reference code multiplies by the raw convolution instead.

    Parameters
    ----------
    skip_channels : int
        Channels of the encoder (skip) features.
    channels : int
        Channels of the decoder features, kept in the output.

    Examples
    --------
    >>> import torch
    >>> gate = AttentionGate1d(skip_channels=4, channels=8)
    >>> gate(torch.zeros(2, 4, 40), torch.zeros(2, 8, 20)).shape
    torch.Size([2, 8, 20])
    """

    def __init__(self, skip_channels, channels):
        super().__init__()
        self.skip = nn.Sequential(*_preactivated_conv(skip_channels, channels), nn.MaxPool1d(2))
        self.features = nn.Sequential(*_preactivated_conv(channels, channels))
        self.gate = nn.Sequential(*_preactivated_conv(channels, channels), nn.Sigmoid())

    def forward(self, skip, x):
        """Return decoder features ``x`` multiplied by the gate computed from ``skip`` and ``x``."""
        return x * self.gate(self.skip(skip) + self.features(x))


class CausalConv1d(nn.Conv1d):
    """1-D convolution padded on the left only, so output step ``t`` sees inputs ``<= t``.

    Pads ``(kernel_size - 1) * dilation`` zeros before the sequence: the
    length is kept and no output depends on later samples, as needed for
    models that must run in real time (e.g. a window ending "now").

    Parameters
    ----------
    in_channels, out_channels, kernel_size : int
        As for :class:`torch.nn.Conv1d`.
    dilation : int, default 1
        Spacing between kernel taps; the layer spans ``(kernel_size - 1) * dilation + 1`` steps.

    Examples
    --------
    >>> import torch
    >>> conv = CausalConv1d(1, 1, kernel_size=3)
    >>> x = torch.zeros(1, 1, 10)
    >>> before = conv(x)
    >>> x[0, 0, 5] = 1.0
    >>> bool((conv(x) - before)[0, 0, :5].abs().sum() == 0)
    True
    """

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.left_padding = (kernel_size - 1) * dilation

    def forward(self, x):
        """Return the convolution of ``x`` left-padded with zeros; length is kept."""
        return super().forward(F.pad(x, (self.left_padding, 0)))


class CausalMaxPool1d(nn.Module):
    """Max over the current step and the step ``dilation`` earlier, keeping the length.

    The stride-1 (a trous) form of ``MaxPool1d(2)``: followed by layers with
    doubled dilation it computes, at every step, what a pooled CNN would
    compute on the window ending there. Left padding with zeros assumes
    non-negative inputs (it follows a ReLU).

    Parameters
    ----------
    dilation : int, default 1
        Distance between the two pooled steps.
    """

    def __init__(self, dilation=1):
        super().__init__()
        self.dilation = dilation
        self.pool = nn.MaxPool1d(kernel_size=2, stride=1, dilation=dilation)

    def forward(self, x):
        """Return the pooled ``x``, same shape."""
        return self.pool(F.pad(x, (self.dilation, 0)))
