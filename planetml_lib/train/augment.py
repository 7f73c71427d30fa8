"""Training-time augmentation: window datasets with dropped channels, tile datasets flipped and rotated."""

import numpy as np
import torch

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.images import augment_tile_pair
from planetml_lib.train.loop import EpochDataset


class ChannelDropout(EpochDataset):
    """Windows whose channel groups are zeroed at random, so a model learns to do without them.

    Models then keep working when an instrument is missing at prediction time (its inputs
    set to 0, the scaled training centre). Each group (e.g. all plasma channels) is dropped
    independently with probability ``p`` per window and draw (see :class:`EpochDataset`).

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
    seed : int, default 0

    Examples
    --------
    >>> data = ChannelDropout(np.ones((2, 3, 4)), np.zeros((2, 1, 4)), groups=[[1, 2]], p=1.0)
    >>> data[0][0][:, 0].tolist()
    [1.0, 0.0, 0.0]
    """

    def __init__(self, X, y, groups, p=0.2, seed=0):
        super().__init__(seed)
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
        if self.p == 0.0:
            return x, self.y[index]
        draws = self.rng(index).random(len(self.groups))
        for group, draw in zip(self.groups, draws, strict=True):
            if draw < self.p:
                x[group] = 0.0
        return x, self.y[index]


class AugmentedTiles(EpochDataset):
    """Image tiles and masks, flipped, rotated by 90° steps and rescaled anew at every draw.

    Each draw has its own generator (see :class:`EpochDataset` and
    :func:`~planetml_lib.preprocess.images.augment_tile_pair`), so a run repeats.

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
    seed : int, default 0

    Examples
    --------
    >>> data = AugmentedTiles(np.zeros((2, 3, 8, 8)), np.eye(8)[None].repeat(2, 0))
    >>> [tuple(t.shape) for t in data[1]]
    [(3, 8, 8), (1, 8, 8)]
    """

    def __init__(self, images, masks, augment=True, scale_range=(0.8, 1.25), seed=0):
        super().__init__(seed)
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
            image, mask = augment_tile_pair(image, mask, self.rng(index), scale_range=self.scale_range)
        return torch.from_numpy(np.ascontiguousarray(image)), torch.from_numpy(np.ascontiguousarray(mask))[None]
