"""ResUNet++ for 1-D time series: per-step segmentation of solar-wind events such as ICMEs.

Jha et al. (2019, "ResUNet++: An Advanced Architecture for Medical Image
Segmentation") combine a residual U-Net with squeeze-and-excitation, atrous
spatial pyramid pooling (ASPP) and attention. Rüdisser et al. (2022, Space
Weather, "Automatic detection of interplanetary coronal mass ejections in solar
wind in situ data"; code: github.com/epn-ml/IWF-ICMEs) applied it to 1-D solar
wind windows. This version follows their layer layout with stride-2
downsampling and a configurable number of levels.
"""

import torch
from torch import nn

from planetml_lib.errors import PlanetMLError
from planetml_lib.models.blocks import ASPP1d, AttentionGate1d, ResidualBlock1d, SqueezeExcite1d


class ResUNetPP1d(nn.Module):
    """Residual U-Net with squeeze-excitation, ASPP and attention for per-step logits.

    Layout for ``filters = (f0, f1, ..., fn)``:

    * stem: residual block to ``f0`` channels, then squeeze-and-excitation;
    * encoder: for each ``fi`` (i >= 1) a residual block with stride 2, then
      squeeze-and-excitation, so level ``i`` has ``steps / 2**i`` steps;
    * bridge: ASPP on the deepest level, keeping ``fn`` channels;
    * decoder: from the deepest level up, an attention gate (the encoder
      features of the next level up gate the decoder features), upsampling
      by 2, concatenation with those encoder features and a residual block to
      ``fi`` channels;
    * head: ASPP with ``f0`` channels and a 1x1 convolution to ``n_classes``.

    Parameters
    ----------
    in_channels : int
        Number of input variables (channels) per time step.
    n_classes : int, default 1
        Logits per step (1 for binary segmentation with a sigmoid loss).
    filters : sequence of int, default (16, 32, 64, 128)
        Channels per level, at least two; ``len(filters) - 1`` downsamplings.
    dropout : float, default 0.0
        Channel dropout probability inside the residual and ASPP blocks.
    dilations : sequence of int, default (1, 6, 12, 18)
        ASPP dilations (in steps of the level they act on).

    Notes
    -----
    Input ``x`` has shape ``(batch, in_channels, steps)``, float32 and finite
    (gaps as 0 plus a validity channel); ``steps`` must be a multiple of
    ``2 ** (len(filters) - 1)``, e.g. 1024. The output holds logits
    ``(batch, n_classes, steps)``. The squeeze-and-excitation blocks average
    over the whole window, so every output sees the whole window (not
    causal). With the defaults and 11 input channels the model has 579 055 parameters.

    Examples
    --------
    >>> import torch
    >>> model = ResUNetPP1d(in_channels=3, filters=(4, 8, 16))
    >>> model(torch.zeros(2, 3, 64)).shape
    torch.Size([2, 1, 64])
    """

    def __init__(self, in_channels, n_classes=1, filters=(16, 32, 64, 128), dropout=0.0,
                 dilations=(1, 6, 12, 18)):
        super().__init__()
        filters, dilations = list(filters), list(dilations)
        _check_options(in_channels, n_classes, filters, dropout, dilations)
        self.n_downsamplings = len(filters) - 1
        self.stem = nn.Sequential(
            ResidualBlock1d(in_channels, filters[0], dropout=dropout, preactivate=False),
            SqueezeExcite1d(filters[0]),
        )
        self.encoder = nn.ModuleList(
            nn.Sequential(ResidualBlock1d(c_in, c_out, stride=2, dropout=dropout), SqueezeExcite1d(c_out))
            for c_in, c_out in zip(filters[:-1], filters[1:], strict=True)
        )
        self.bridge = ASPP1d(filters[-1], filters[-1], dilations, dropout)
        self.gates = nn.ModuleList(
            AttentionGate1d(skip, deep) for skip, deep in zip(filters[:-1], filters[1:], strict=True)
        )
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.decoder = nn.ModuleList(
            ResidualBlock1d(deep + skip, skip, dropout=dropout)
            for skip, deep in zip(filters[:-1], filters[1:], strict=True)
        )
        self.head = nn.Sequential(ASPP1d(filters[0], filters[0], dilations, dropout),
                                  nn.Conv1d(filters[0], n_classes, kernel_size=1))

    def forward(self, x):
        """Return logits ``(batch, n_classes, steps)`` for ``x`` ``(batch, in_channels, steps)``."""
        steps, factor = x.shape[-1], 2**self.n_downsamplings
        if steps % factor:
            raise PlanetMLError(
                f"ResUNetPP1d: input length {steps} must be a multiple of {factor} "
                f"({self.n_downsamplings} downsamplings by 2); choose a window length such as 1024"
            )
        skips = [self.stem(x)]
        for block in self.encoder:
            skips.append(block(skips[-1]))
        out = self.bridge(skips.pop())
        for level in reversed(range(len(self.decoder))):
            skip = skips[level]
            out = self.upsample(self.gates[level](skip, out))
            out = self.decoder[level](torch.cat([out, skip], dim=1))
        return self.head(out)


def _check_options(in_channels, n_classes, filters, dropout, dilations):
    """Raise PlanetMLError for constructor options that cannot build a model."""
    for name, value in [("in_channels", in_channels), ("n_classes", n_classes),
                        *((f"filters[{i}]", f) for i, f in enumerate(filters)),
                        *((f"dilations[{i}]", d) for i, d in enumerate(dilations))]:
        if not isinstance(value, int) or value < 1:
            raise PlanetMLError(f"ResUNetPP1d: {name} must be a positive integer, got {value!r}")
    if len(filters) < 2 or not dilations:
        raise PlanetMLError(
            f"ResUNetPP1d: need at least two filters and one dilation, got filters={filters}, dilations={dilations}"
        )
    if not 0.0 <= dropout < 1.0:
        raise PlanetMLError(f"ResUNetPP1d: dropout must be in [0, 1), got {dropout!r}")
