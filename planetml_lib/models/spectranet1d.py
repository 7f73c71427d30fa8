"""A small 1-D CNN for minerals from a reflectance spectrum, as an ensemble (after Korda et al. 2023).

Each member reads a spectrum on a fixed wavelength grid through convolution blocks with
pooling, then a dense layer, and predicts in one output vector (:data:`OUTPUTS` in order)

* modal abundance logits of the minerals (a softmax makes them fractions summing to 1),
* presence logits of the minerals (multi-label: a sigmoid each),
* chemistry logits (a sigmoid each: Fa, Fs, Wo, An are fractions 0-1).

Members differ by their initial weights; the spread of their predictions is the uncertainty
(a deep ensemble, Lakshminarayanan et al. 2017).
"""

import torch
from torch import nn

from planetml_lib.errors import PlanetMLError
from planetml_lib.models.blocks import ConvBlock1d


class SpectrumMember(nn.Module):
    """One member: ``(batch, 1, n_wavelengths)`` to ``(batch, n_outputs)`` logits."""

    def __init__(self, n_outputs, channels, kernel_size, dropout, hidden):
        super().__init__()
        layers, previous = [], 1
        for width in channels:
            layers += [ConvBlock1d(previous, width, kernel_size, dropout=dropout), nn.MaxPool1d(2)]
            previous = width
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool1d(8), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(previous * 8, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, n_outputs))

    def forward(self, x):
        return self.head(self.features(x))


class SpectraNet1d(nn.Module):
    """An ensemble of :class:`SpectrumMember`: ``(batch, 1, n_wavelengths)`` to ``(batch, n_members, n_outputs)``.

    Parameters
    ----------
    n_minerals : int
        Minerals with an abundance and a presence output each.
    n_chemistry : int
        Chemistry outputs.
    channels : list of int, default [16, 32, 64]
        Channels of the convolution blocks; each block halves the wavelength axis.
    kernel_size : int, default 7
        Odd convolution width in wavelength steps.
    dropout : float, default 0.1
    hidden : int, default 64
        Units of the dense layer.
    n_members : int, default 5

    Examples
    --------
    >>> model = SpectraNet1d(n_minerals=4, n_chemistry=6, channels=[4], n_members=2)
    >>> model(torch.zeros(3, 1, 401)).shape
    torch.Size([3, 2, 14])
    """

    def __init__(self, n_minerals, n_chemistry, channels=(16, 32, 64), kernel_size=7, dropout=0.1, hidden=64,
                 n_members=5):
        super().__init__()
        sizes = {"n_minerals": n_minerals, "kernel_size": kernel_size, "hidden": hidden, "n_members": n_members}
        bad = [name for name, value in sizes.items() if not isinstance(value, int) or value < 1]
        bad += ["n_chemistry"] * (not isinstance(n_chemistry, int) or n_chemistry < 0)
        bad += ["channels"] * (not channels or not all(isinstance(c, int) and c > 0 for c in channels))
        if bad or kernel_size % 2 == 0 or not 0.0 <= dropout < 1.0:
            raise PlanetMLError(f"SpectraNet1d: bad option(s) {bad or ['kernel_size (odd)', 'dropout [0, 1)']}")
        self.n_minerals, self.n_chemistry = n_minerals, n_chemistry
        n_outputs = 2 * n_minerals + n_chemistry
        self.members = nn.ModuleList(SpectrumMember(n_outputs, list(channels), kernel_size, dropout, hidden)
                                     for _ in range(n_members))

    def forward(self, x):
        if x.ndim != 3 or x.shape[1] != 1:
            raise PlanetMLError(f"SpectraNet1d expects spectra of shape (batch, 1, n_wavelengths), "
                                f"got {tuple(x.shape)}")
        return torch.stack([member(x) for member in self.members], dim=1)


class MineralLoss(nn.Module):
    """The ensemble's loss, summed over members: soft cross-entropy of the abundances, binary
    cross-entropy of presence, and squared error of the chemistry where it is known.

    ``target`` is ``(batch, 2 * n_minerals + n_chemistry)``: fractions, presence (0/1) and
    chemistry (0-1, NaN where unknown), in :class:`SpectraNet1d`'s output order.
    """

    def __init__(self, n_minerals, n_chemistry):
        super().__init__()
        self.n_minerals, self.n_chemistry = n_minerals, n_chemistry

    def forward(self, outputs, target):
        m = self.n_minerals
        target = target.unsqueeze(1).expand_as(outputs)
        fractions, presence, chemistry = target[..., :m], target[..., m:2 * m], target[..., 2 * m:]
        abundance = -(fractions * torch.log_softmax(outputs[..., :m], dim=-1)).sum(-1).mean()
        present = nn.functional.binary_cross_entropy_with_logits(outputs[..., m:2 * m], presence)
        known = torch.isfinite(chemistry)
        error = (torch.sigmoid(outputs[..., 2 * m:]) - torch.nan_to_num(chemistry)) ** 2
        chem = error[known].mean() if known.any() else (error * 0).sum()
        return outputs.shape[1] * (abundance + present + chem)
