import json

import pytest
import torch

from planetml_lib.errors import PlanetMLError
from planetml_lib.models import MODELS, ConvNet1d, create_model
from planetml_lib.models.blocks import ConvBlock1d


@pytest.mark.parametrize("steps", [1, 17, 64])
@pytest.mark.parametrize("kernel_size", [1, 3, 7])
def test_convnet1d_keeps_length(steps, kernel_size):
    model = ConvNet1d(3, 2, width=8, depth=2, kernel_size=kernel_size).eval()
    assert model(torch.zeros(4, 3, steps)).shape == (4, 2, steps)


def test_convblock_is_centred_and_local():
    """A change at one step moves the convolution output only within the kernel's reach."""
    torch.manual_seed(0)
    conv = ConvBlock1d(1, 4, kernel_size=5)[0]
    x = torch.zeros(1, 1, 40)
    y0 = conv(x)
    x[0, 0, 20] = 1.0
    changed = (conv(x) - y0).abs().sum(dim=1)[0] > 0
    assert changed.nonzero().flatten().tolist() == [18, 19, 20, 21, 22]


def test_receptive_field_of_convnet1d():
    torch.manual_seed(0)
    model = ConvNet1d(1, 1, width=4, depth=3, kernel_size=3, dropout=0.0).eval()
    x = torch.zeros(1, 1, 30)
    y0 = model(x)
    x[0, 0, 15] = 5.0
    changed = ((model(x) - y0).abs() > 0)[0, 0].nonzero().flatten()
    assert changed.min().item() >= 15 - 3 and changed.max().item() <= 15 + 3


def test_create_model_from_json_options():
    options = json.loads('{"in_channels": 5, "n_classes": 3, "width": 6, "depth": 1}')
    model = create_model("convnet1d", **options)
    assert isinstance(model, ConvNet1d) and MODELS["convnet1d"] is ConvNet1d
    assert model(torch.zeros(2, 5, 10)).shape == (2, 3, 10)
    assert model.head.in_channels == 6


def test_create_model_unknown_name_lists_choices():
    with pytest.raises(KeyError, match="convnet1d"):
        create_model("resnet_imaginary", in_channels=1, n_classes=1)


@pytest.mark.parametrize(
    "bad", [{"depth": 0}, {"width": 2.5}, {"dropout": 1.0}, {"kernel_size": 4}]
)
def test_convnet1d_rejects_bad_options(bad):
    with pytest.raises(PlanetMLError, match="ConvNet1d"):
        ConvNet1d(2, 2, **bad)


def test_convnet1d_gradients_reach_first_layer():
    model = ConvNet1d(2, 2, width=4, depth=2)
    model(torch.randn(3, 2, 20)).sum().backward()
    assert model.blocks[0][0].weight.grad.abs().sum() > 0
