import json
import socket

import numpy as np
import pytest
import torch

from planetml_lib.errors import PlanetMLError
from planetml_lib.models import MODELS, UNet2d, create_model
from planetml_lib.models.artifacts import load_model, save_model
from planetml_lib.train.systems import DiceBCELoss

SMALL = {"in_channels": 3, "n_classes": 2, "encoder_depth": 3, "decoder_channels": [32, 16, 8]}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_built_from_json_options_without_network(monkeypatch):
    """First in the file, so the first import of segmentation_models_pytorch happens offline too."""
    def no_network(*args, **kwargs):
        raise AssertionError("UNet2d tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    options = json.loads(json.dumps(SMALL))
    model = create_model("unet2d", **options)
    assert MODELS["unet2d"] is UNet2d and isinstance(model, UNet2d)
    assert model.net.encoder.conv1.in_channels == 3


@pytest.mark.parametrize("side", [32, 64])
def test_unet2d_keeps_the_tile_size(side):
    model = UNet2d(**SMALL).eval()
    assert model(torch.zeros(2, 3, side, side)).shape == (2, 2, side, side)


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = UNet2d(**SMALL).eval()
    x = torch.randn(1, 3, 32, 32)
    folder = save_model(model, tmp_path / "unet", {"model": "unet2d", "model_options": SMALL}, {"tile": 32})
    loaded, config, metadata = load_model(folder, device="cpu")
    assert metadata["tile"] == 32 and config["model_options"]["decoder_channels"] == [32, 16, 8]
    torch.testing.assert_close(loaded(x), model(x))


@pytest.mark.parametrize(
    ("options", "message"),
    [({"decoder_channels": [8, 8]}, "one decoder channel count per encoder stage"),
     ({"encoder": "resnet_imaginary"}, "unknown encoder"),
     ({"in_channels": 0}, "in_channels")],
)
def test_bad_options_raise_one_line_errors(options, message):
    with pytest.raises(PlanetMLError, match=message):
        UNet2d(**{**SMALL, **options})


def test_learns_to_segment_bright_squares():
    rng = np.random.default_rng(0)
    masks = np.zeros((8, 1, 32, 32), dtype=np.float32)
    for mask in masks:
        row, col = rng.integers(0, 20, size=2)
        mask[0, row:row + 10, col:col + 10] = 1
    images = torch.from_numpy(masks + 0.3 * rng.normal(size=masks.shape).astype(np.float32))
    torch.manual_seed(0)
    model = UNet2d(1, 1, encoder_depth=3, decoder_channels=(16, 8, 8))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn, target = DiceBCELoss(), torch.from_numpy(masks)
    losses = []
    for _ in range(25):
        loss = loss_fn(model(images), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
