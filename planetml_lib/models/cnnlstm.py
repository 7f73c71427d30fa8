"""CNN + LSTM per-step region classifier for MESSENGER magnetometer series.

Convolutions pick out local signatures (the field's jump and wave activity at
a bow shock or magnetopause); a recurrent layer then carries context along
the window, so a step can be labelled magnetosheath because the spacecraft
crossed a shock some minutes before. This follows the CNN-LSTM region
classifier that Julka et al. (2022, "Deep active learning for detection of
Mercury's bow shock and magnetopause crossings", ECML PKDD) trained on
MESSENGER data labelled from the Philpott et al. (2020) crossing list.
"""

from torch import nn

from planetml_lib.errors import PlanetMLError
from planetml_lib.models.blocks import ConvBlock1d


def _check_options(in_channels, n_classes, conv_channels, kernel_size, lstm_hidden, lstm_layers, dropout):
    """Raise PlanetMLError naming the first bad constructor option."""
    integers = [("in_channels", in_channels), ("n_classes", n_classes), ("kernel_size", kernel_size),
                ("lstm_hidden", lstm_hidden), ("lstm_layers", lstm_layers)]
    integers += [("conv_channels", width) for width in conv_channels]
    for name, value in integers:
        if not isinstance(value, int) or value < 1:
            raise PlanetMLError(f"CNNLSTM: {name} must hold positive integers, got {value!r}")
    if not conv_channels:
        raise PlanetMLError("CNNLSTM: conv_channels needs at least one width")
    if kernel_size % 2 == 0:
        raise PlanetMLError(f"CNNLSTM: kernel_size must be odd (centred), got {kernel_size}")
    if not 0.0 <= dropout < 1.0:
        raise PlanetMLError(f"CNNLSTM: dropout must be in [0, 1), got {dropout!r}")


class CNNLSTM(nn.Module):
    """Same-length convolutions, a stacked (bi)LSTM and a per-step linear layer.

    Parameters
    ----------
    in_channels : int
        Number of input variables per time step (e.g. field components,
        magnitude, position, a validity flag).
    n_classes : int, default 5
        Logits per step; at Mercury the regions IMF, bow shock (SK),
        magnetosheath, magnetopause (MP) and magnetosphere.
    conv_channels : sequence of int, default (32, 64, 64)
        Output channels of each :class:`~planetml_lib.models.blocks.ConvBlock1d`
        (convolution, batch norm, ReLU, dropout); a list read from JSON works too.
    kernel_size : int, default 5
        Odd convolution width in steps; the convolutions alone see
        ``len(conv_channels) * (kernel_size - 1) + 1`` steps.
    lstm_hidden : int, default 64
        Hidden units of each LSTM direction.
    lstm_layers : int, default 2
        Stacked LSTM layers.
    bidirectional : bool, default True
        Read the window both ways, so every step sees the whole window (offline
        labelling). With False, LSTM outputs depend on earlier steps only; the
        convolutions still look ``kernel_size // 2`` steps ahead per block.
    dropout : float, default 0.1
        Dropout in the convolution blocks and between LSTM layers.

    Notes
    -----
    Input ``x`` is ``(batch, in_channels, steps)`` float32 and must be finite
    (replace gaps by 0 and add a validity channel). The output holds logits
    ``(batch, n_classes, steps)``; softmax is left to the loss
    (``nn.CrossEntropyLoss``) or the caller
    (``predict_batches(..., activation="softmax")``).

    Examples
    --------
    >>> import torch
    >>> model = CNNLSTM(in_channels=4, conv_channels=(8, 8), lstm_hidden=8, lstm_layers=1)
    >>> model(torch.zeros(2, 4, 60)).shape
    torch.Size([2, 5, 60])
    """

    def __init__(self, in_channels, n_classes=5, conv_channels=(32, 64, 64), kernel_size=5, lstm_hidden=64,
                 lstm_layers=2, bidirectional=True, dropout=0.1):
        super().__init__()
        conv_channels = tuple(conv_channels)
        _check_options(in_channels, n_classes, conv_channels, kernel_size, lstm_hidden, lstm_layers, dropout)
        widths = (in_channels, *conv_channels)
        self.encoder = nn.Sequential(
            *(ConvBlock1d(c_in, c_out, kernel_size, dropout=dropout)
              for c_in, c_out in zip(widths[:-1], widths[1:], strict=True))
        )
        self.lstm = nn.LSTM(conv_channels[-1], lstm_hidden, num_layers=lstm_layers, batch_first=True,
                            bidirectional=bidirectional, dropout=dropout if lstm_layers > 1 else 0.0)
        self.head = nn.Linear(lstm_hidden * (2 if bidirectional else 1), n_classes)

    def forward(self, x):
        """Return logits ``(batch, n_classes, steps)`` for ``x`` ``(batch, in_channels, steps)``."""
        features = self.encoder(x).transpose(1, 2)  # (batch, steps, channels) for the LSTM
        sequence, _ = self.lstm(features)
        return self.head(sequence).transpose(1, 2)
