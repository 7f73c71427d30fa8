import numpy as np
import pytest
import torch

from planetml_lib.errors import PlanetMLError
from planetml_lib.train.augment import ChannelDropout


def test_groups_are_dropped_together_at_the_requested_rate():
    data = ChannelDropout(np.ones((2000, 4, 3)), np.zeros(2000), groups=[[1, 2]], p=0.3)
    x = torch.stack([data[i][0] for i in range(len(data))])
    dropped = x[:, 1, 0] == 0
    assert torch.equal(dropped, x[:, 2, 0] == 0), "channels of one group must drop together"
    assert (x[:, [0, 3]] == 1).all(), "channels outside the groups are never touched"
    assert 0.25 < dropped.float().mean() < 0.35


def test_no_dropout_returns_the_data_and_never_modifies_it():
    X = np.random.default_rng(0).normal(size=(5, 3, 8)).astype("float32")
    data = ChannelDropout(X, np.arange(5), groups=[[0]], p=0.0)
    np.testing.assert_array_equal(data[3][0].numpy(), X[3])
    dropping = ChannelDropout(X, np.arange(5), groups=[[0]], p=1.0)
    assert (dropping[3][0][0] == 0).all()
    assert (dropping.X[3, 0] != 0).all(), "dropout must not zero the stored windows"


def test_draws_depend_on_seed_epoch_and_index_only():
    X = np.ones((200, 2, 3), dtype=np.float32)
    data = ChannelDropout(X, np.zeros(200), groups=[[1]], p=0.5, seed=3)

    def dropped():
        return [bool(data[i][0][1, 0] == 0) for i in range(len(data))]

    first = dropped()
    np.random.seed(99), torch.manual_seed(99)  # the global state plays no part
    assert dropped() == first
    data.set_epoch(1)
    assert dropped() != first
    data.set_epoch(0)
    assert dropped() == first


def test_bad_arguments():
    with pytest.raises(PlanetMLError, match="probability"):
        ChannelDropout(np.ones((2, 1, 1)), np.ones(2), groups=[[0]], p=1.5)
    with pytest.raises(PlanetMLError, match="windows"):
        ChannelDropout(np.ones((2, 1, 1)), np.ones(3), groups=[[0]])


def test_tiles_and_masks_turn_together_and_validation_tiles_stay_put():
    from planetml_lib.train.augment import AugmentedTiles

    image = np.zeros((1, 1, 16, 16), dtype=np.float32)
    image[0, 0, :4, :4] = 1.0
    data = AugmentedTiles(image, image[:, 0], scale_range=(1.0, 1.0))
    for epoch in range(10):
        data.set_epoch(epoch)
        x, mask = data[0]
        assert torch.equal(x, mask) and x.sum() == 16
    x, _ = AugmentedTiles(image, image[:, 0], augment=False)[0]
    assert torch.equal(x, torch.from_numpy(image[0]))
    with pytest.raises(PlanetMLError, match="need images"):
        AugmentedTiles(image, image)
