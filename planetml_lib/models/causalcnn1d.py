"""Causal dilated 1-D CNN: the baseline of the Europlanet Cluster bow-shock pipeline.

At every time step it regresses a "similarity to a crossing" (see
:func:`~planetml_lib.preprocess.similarity.similarity_curve`) from the past
samples only, so it can run on a stream that ends "now". Crossings are read
from its output with
:func:`~planetml_lib.preprocess.similarity.peaks_to_crossings`.
"""

from torch import nn

from planetml_lib.errors import PlanetMLError
from planetml_lib.models.blocks import CausalConv1d


class CausalCNN1d(nn.Module):
    """Stack of causal dilated convolutions with a 1x1 head: one logit per step from past samples only.

    Layer ``l`` (``l = 0 .. depth - 1``) is a
    :class:`~planetml_lib.models.blocks.CausalConv1d` with dilation
    ``dilation_growth**l``, a ReLU and channel dropout; a 1x1 convolution
    maps the last layer to ``n_classes`` logits.

    Parameters
    ----------
    in_channels : int
        Number of input variables (channels) per time step.
    n_classes : int, default 1
        Outputs per step (1: the similarity to a crossing).
    width : int, default 32
        Channels of every causal convolution.
    depth : int, default 7
        Number of causal convolutions.
    kernel_size : int, default 3
        Taps of every convolution.
    dilation_growth : int, default 2
        Factor between the dilations of successive layers (1: no dilation).
    dropout : float, default 0.1
        Channel dropout probability after each convolution.

    Attributes
    ----------
    receptive_field : int
        Steps the output at ``t`` sees, ``t - receptive_field + 1 .. t``:
        ``1 + (kernel_size - 1) * sum(dilation_growth**l for l < depth)``.
        With the defaults, 255 steps: 4 h 15 min at 1-min cadence, long
        enough to see the upstream solar wind and the magnetosheath on either
        side of a bow-shock crossing.

    Notes
    -----
    Input ``(batch, in_channels, steps)`` float32 and finite (replace gaps by
    0 and pass a validity channel), any length. Output: logits ``(batch,
    n_classes, steps)``; the sigmoid is left to the loss or the caller, like
    the other models. No batch normalisation, so outputs stay causal in
    training mode too. The first ``receptive_field - 1`` outputs of a
    sequence see zero padding instead of data: predict on long sequences and
    leave those steps out of the loss.

    Examples
    --------
    >>> import torch
    >>> model = CausalCNN1d(in_channels=4)
    >>> model(torch.zeros(2, 4, 300)).shape, model.receptive_field
    (torch.Size([2, 1, 300]), 255)
    """

    def __init__(self, in_channels, n_classes=1, width=32, depth=7, kernel_size=3, dilation_growth=2, dropout=0.1):
        super().__init__()
        _check_options(in_channels, n_classes, width, depth, kernel_size, dilation_growth, dropout)
        dilations = [dilation_growth**level for level in range(depth)]
        layers, channels = [], in_channels
        for dilation in dilations:
            layers += [CausalConv1d(channels, width, kernel_size, dilation=dilation), nn.ReLU(inplace=True),
                       nn.Dropout1d(dropout)]
            channels = width
        self.layers = nn.Sequential(*layers)
        self.head = nn.Conv1d(width, n_classes, kernel_size=1)
        self.receptive_field = 1 + (kernel_size - 1) * sum(dilations)

    def forward(self, x):
        """Return logits ``(batch, n_classes, steps)`` for ``x`` ``(batch, in_channels, steps)``."""
        return self.head(self.layers(x))


def _check_options(in_channels, n_classes, width, depth, kernel_size, dilation_growth, dropout):
    """Raise PlanetMLError for constructor options that cannot build a model."""
    for name, value in [("in_channels", in_channels), ("n_classes", n_classes), ("width", width),
                        ("depth", depth), ("kernel_size", kernel_size), ("dilation_growth", dilation_growth)]:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise PlanetMLError(f"CausalCNN1d: {name} must be a positive integer, got {value!r}")
    if not 0.0 <= dropout < 1.0:
        raise PlanetMLError(f"CausalCNN1d: dropout must be in [0, 1), got {dropout!r}")
