"""Training-time augmentation of window datasets."""

import numpy as np
import torch
from torch.utils.data import Dataset

from planetml_lib.errors import PlanetMLError


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
