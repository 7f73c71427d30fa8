"""Training-time augmentation: window datasets with dropped channels, tile datasets flipped and rotated."""

import numpy as np
import torch
from torch.utils.data import Dataset

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.images import augment_tile_pair


class ChannelDropout(Dataset):
    """Windows whose channel groups are zeroed at random, so a model learns to do without them.

    Models then keep working when an instrument is missing at prediction time (its inputs
    set to 0, the scaled training centre). Each group (e.g. all plasma channels) is dropped
    independently with probability ``p`` per window and draw; the random numbers come from
    torch's generator, which the training loop seeds every epoch.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_windows, n_channels, n_steps)
        Finite input windows.
    y : numpy.ndarray, shape (n_windows, ...)
        Targets, returned unchanged.
    groups : sequence of sequence of int
        Channel indices dropped together.
    p : float
        Probability of dropping each group.

    Examples
    --------
    >>> data = ChannelDropout(np.ones((2, 3, 4)), np.zeros((2, 1, 4)), groups=[[1, 2]], p=1.0)
    >>> data[0][0][:, 0].tolist()
    [1.0, 0.0, 0.0]
    """

    def __init__(self, X, y, groups, p=0.2):
        if not 0.0 <= p <= 1.0:
            raise PlanetMLError(f"channel dropout probability must be in [0, 1], got {p}")
        if len(X) != len(y):
            raise PlanetMLError(f"X has {len(X)} windows but y has {len(y)}")
        self.X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        self.y = torch.as_tensor(np.asarray(y))
        self.groups = [list(group) for group in groups]
        self.p = p

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        x = self.X[index].clone()
        for group in self.groups:
            if torch.rand(()) < self.p:
                x[group] = 0.0
        return x, self.y[index]


class AugmentedTiles(Dataset):
    """Image tiles and masks, flipped, rotated by 90° steps and rescaled anew at every draw.

    The random numbers come from numpy's global generator, which the training loop
    seeds every epoch, so a run repeats (see :func:`~planetml_lib.preprocess.images.augment_tile_pair`).

    Parameters
    ----------
    images : numpy.ndarray, shape (n, c, size, size)
        Finite tiles, e.g. scaled to [-1, 1].
    masks : numpy.ndarray, shape (n, size, size)
        0/1 masks; returned as float32 ``(1, size, size)``.
    augment : bool, default True
        False returns the tiles unchanged (validation).
    scale_range : (float, float), default (0.8, 1.25)
        Zoom drawn per tile.

    Examples
    --------
    >>> data = AugmentedTiles(np.zeros((2, 3, 8, 8)), np.eye(8)[None].repeat(2, 0))
    >>> [tuple(t.shape) for t in data[1]]
    [(3, 8, 8), (1, 8, 8)]
    """

    def __init__(self, images, masks, augment=True, scale_range=(0.8, 1.25)):
        images, masks = np.asarray(images, dtype=np.float32), np.asarray(masks, dtype=np.float32)
        if images.ndim != 4 or masks.shape != (len(images), *images.shape[2:]):
            raise PlanetMLError(f"need images (n, c, s, s) and masks (n, s, s), got {images.shape}, {masks.shape}")
        self.images, self.masks = images, masks
        self.augment, self.scale_range = augment, scale_range

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        image, mask = self.images[index], self.masks[index]
        if self.augment:
            rng = np.random.default_rng(np.random.randint(2**31))
            image, mask = augment_tile_pair(image, mask, rng, scale_range=self.scale_range)
        return torch.from_numpy(np.ascontiguousarray(image)), torch.from_numpy(np.ascontiguousarray(mask))[None]
