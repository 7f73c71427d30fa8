"""DCGAN generator and discriminator for joint (image tile, mask) pairs.

Used to make extra, synthetic training pairs for a segmentation model (the
"with GAN-generated training data" experiment of the Mars mounds case): the
generator draws a tile and its mask together from one latent vector, so the
mask fits the tile it comes with. Architecture after Radford et al. (2016,
DCGAN, arXiv:1511.06434): strided (transposed) convolutions, batch
normalisation, ReLU in the generator and LeakyReLU(0.2) in the discriminator,
weights initialised from N(0, 0.02). Losses and the adversarial training loop
live in :mod:`planetml_lib.train.systems`.
"""

import math

import torch
from torch import nn

from planetml_lib.errors import PlanetMLError


def _check_options(cls, size, **counts):
    """Raise PlanetMLError unless ``size`` is a power of two >= 16 and every count a positive integer."""
    if not (isinstance(size, int) and size >= 16 and size & (size - 1) == 0):
        raise PlanetMLError(f"{cls}: size must be a power of two >= 16 (e.g. 64, 128), got {size!r}")
    for name, value in counts.items():
        if not isinstance(value, int) or value < 1:
            raise PlanetMLError(f"{cls}: {name} must be a positive integer, got {value!r}")


def init_dcgan_weights(module):
    """DCGAN initialisation: convolutions N(0, 0.02), batch-norm scales N(1, 0.02), offsets 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    """Map latent vectors to (image, mask) tiles.

    Parameters
    ----------
    latent_dim : int, default 64
        Length of the Gaussian latent vector.
    image_channels : int, default 1
        Image channels generated (e.g. 1 for an image or DTM channel, 3 for
        terrain channels); one mask channel is added.
    size : int, default 64
        Tile side in pixels, a power of two >= 16.
    width : int, default 32
        Channels of the last hidden layer; earlier layers have 2, 4, ...
        times more.

    Notes
    -----
    Input ``z`` of shape ``(batch, latent_dim)``; output ``(batch,
    image_channels + 1, size, size)``: the image channels through ``tanh`` in
    [-1, 1] (the range of :func:`~planetml_lib.preprocess.images.scale_to_unit`)
    and the last channel the mask probability, ``sigmoid`` of the mask logit,
    in [0, 1] like the real 0/1 masks the discriminator compares it with.

    Examples
    --------
    >>> gen = DCGANGenerator(latent_dim=8, size=16, width=4)
    >>> gen(torch.zeros(3, 8)).shape
    torch.Size([3, 2, 16, 16])
    """

    def __init__(self, latent_dim=64, image_channels=1, size=64, width=32):
        super().__init__()
        _check_options("DCGANGenerator", size, latent_dim=latent_dim, image_channels=image_channels, width=width)
        self.latent_dim, self.image_channels = latent_dim, image_channels
        n_up = int(math.log2(size)) - 2
        channels = [width * 2 ** (n_up - 1 - i) for i in range(n_up)]
        layers = [nn.ConvTranspose2d(latent_dim, channels[0], 4, 1, 0, bias=False),
                  nn.BatchNorm2d(channels[0]), nn.ReLU(inplace=True)]
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU(inplace=True)]
        layers.append(nn.ConvTranspose2d(channels[-1], image_channels + 1, 4, 2, 1))
        self.net = nn.Sequential(*layers)
        self.apply(init_dcgan_weights)

    def forward(self, z):
        """Return ``(batch, image_channels + 1, size, size)``: tanh image, sigmoid mask."""
        out = self.net(z.reshape(len(z), self.latent_dim, 1, 1))
        image, mask_logit = out[:, :self.image_channels], out[:, self.image_channels:]
        return torch.cat([torch.tanh(image), torch.sigmoid(mask_logit)], dim=1)


class DCGANDiscriminator(nn.Module):
    """Score (image, mask) tiles: one logit per tile, high for real pairs.

    Parameters
    ----------
    in_channels : int, default 2
        Image channels plus the mask channel.
    size : int, default 64
        Tile side in pixels, a power of two >= 16.
    width : int, default 32
        Channels of the first layer; each further layer doubles them.

    Examples
    --------
    >>> disc = DCGANDiscriminator(in_channels=2, size=16, width=4)
    >>> disc(torch.zeros(3, 2, 16, 16)).shape
    torch.Size([3])
    """

    def __init__(self, in_channels=2, size=64, width=32):
        super().__init__()
        _check_options("DCGANDiscriminator", size, in_channels=in_channels, width=width)
        self.size = size
        layers = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        channels, side = width, size // 2
        while side > 4:
            layers += [nn.Conv2d(channels, 2 * channels, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * channels),
                       nn.LeakyReLU(0.2, inplace=True)]
            channels, side = 2 * channels, side // 2
        layers.append(nn.Conv2d(channels, 1, 4, 1, 0))
        self.net = nn.Sequential(*layers)
        self.apply(init_dcgan_weights)

    def forward(self, x):
        """Return logits ``(batch,)`` for pairs ``x`` ``(batch, in_channels, size, size)``."""
        if x.shape[-2:] != (self.size, self.size):
            raise PlanetMLError(f"DCGANDiscriminator: expects {self.size}x{self.size} tiles, got {tuple(x.shape)}")
        return self.net(x).flatten()
