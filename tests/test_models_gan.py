import math

import numpy as np
import pytest
import torch

from planetml_lib.errors import PlanetMLError
from planetml_lib.models import MODELS, DCGANDiscriminator, DCGANGenerator, create_model
from planetml_lib.models.artifacts import load_model, save_model
from planetml_lib.train.adversarial import generate_pairs, train_gan
from planetml_lib.train.systems import discriminator_loss, generator_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def toy_pairs(n=32, size=16, seed=0):
    """Images in [-1, 1] with a bright square, and the square as mask."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), dtype=np.uint8)
    for mask in masks:
        row, col = rng.integers(0, size - 6, size=2)
        mask[row:row + 6, col:col + 6] = 1
    images = np.clip(masks[:, None] * 1.2 - 0.6 + 0.1 * rng.normal(size=(n, 1, size, size)), -1, 1)
    return images.astype(np.float32), masks


@pytest.mark.parametrize(("size", "image_channels"), [(16, 1), (64, 1), (128, 3)])
def test_generator_makes_images_in_range_and_masks_in_0_1(size, image_channels):
    torch.manual_seed(0)
    generator = DCGANGenerator(latent_dim=8, image_channels=image_channels, size=size, width=4).eval()
    out = generator(torch.randn(3, 8) * 5)
    assert out.shape == (3, image_channels + 1, size, size)
    assert out[:, :-1].abs().max() <= 1 and 0 <= out[:, -1].min() and out[:, -1].max() <= 1
    discriminator = DCGANDiscriminator(in_channels=image_channels + 1, size=size, width=4)
    assert discriminator(out).shape == (3,)


def test_registered_built_from_options_and_saved(tmp_path):
    assert MODELS["dcgan_generator"] is DCGANGenerator and MODELS["dcgan_discriminator"] is DCGANDiscriminator
    options = {"latent_dim": 8, "size": 16, "width": 4}
    generator = create_model("dcgan_generator", **options).eval()
    folder = save_model(generator, tmp_path / "gen", {"model": "dcgan_generator", "model_options": options}, {})
    loaded, _, _ = load_model(folder, device="cpu")
    z = torch.randn(2, 8)
    torch.testing.assert_close(loaded(z), generator(z))


def test_dcgan_initialisation():
    torch.manual_seed(0)
    weights = DCGANGenerator(latent_dim=16, size=32, width=16).net[0].weight
    assert weights.std().item() == pytest.approx(0.02, rel=0.1) and abs(weights.mean().item()) < 0.002


@pytest.mark.parametrize("size", [8, 48, "64"])
def test_bad_sizes_are_refused(size):
    with pytest.raises(PlanetMLError, match="power of two"):
        DCGANGenerator(size=size)
    with pytest.raises(PlanetMLError, match="power of two"):
        DCGANDiscriminator(size=size)


@pytest.mark.parametrize("options", [{"latent_dim": 0}, {"image_channels": 1.5}, {"width": None}])
def test_bad_counts_are_refused(options):
    with pytest.raises(PlanetMLError, match=f"DCGANGenerator: {next(iter(options))}"):
        DCGANGenerator(size=16, **options)


def test_discriminator_wants_its_tile_size():
    with pytest.raises(PlanetMLError, match="16x16"):
        DCGANDiscriminator(size=16, width=4)(torch.zeros(1, 2, 32, 32))


def test_losses_at_chance_and_when_fooled():
    zero = torch.zeros(4)
    assert discriminator_loss(zero, zero).item() == pytest.approx(2 * math.log(2))
    assert generator_loss(torch.full((4,), 10.0)).item() < 1e-4


def test_discriminator_steps_learn_to_tell_real_from_generated():
    torch.manual_seed(0)
    images, masks = toy_pairs()
    real = torch.from_numpy(np.concatenate([images, masks[:, None].astype(np.float32)], axis=1))
    generator = DCGANGenerator(latent_dim=8, size=16, width=4).eval()
    discriminator = DCGANDiscriminator(size=16, width=4)
    optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    losses = []
    for _ in range(15):
        with torch.no_grad():
            fake = generator(torch.randn(len(real), 8))
        loss = discriminator_loss(discriminator(real), discriminator(fake))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(2 * math.log(2), abs=0.1)  # chance at the start
    assert losses[-1] < losses[0] - 0.15 and np.all(np.diff(losses) < 0.02)


def test_train_gan_runs_and_reports_finite_losses():
    images, masks = toy_pairs()
    torch.manual_seed(0)
    generator = DCGANGenerator(latent_dim=8, size=16, width=4)
    discriminator = DCGANDiscriminator(size=16, width=4)
    history = train_gan(generator, discriminator, images, masks, epochs=2, batch_size=16, progress=False,
                        device="cpu")
    assert history.columns.tolist() == ["epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"]
    assert history["epoch"].tolist() == [1, 2] and np.isfinite(history.drop(columns="epoch")).all().all()
    assert not generator.training and not discriminator.training
    assert history["d_real"].iloc[-1] > history["d_fake"].iloc[-1]


def test_generate_pairs_is_seeded_and_binary():
    torch.manual_seed(0)
    generator = DCGANGenerator(latent_dim=8, size=16, width=4)
    images, masks = generate_pairs(generator, 5, seed=3, batch_size=2, device="cpu")
    again, _ = generate_pairs(generator, 5, seed=3, device="cpu")
    np.testing.assert_allclose(images, again, atol=1e-6)
    assert images.shape == (5, 1, 16, 16) and np.abs(images).max() <= 1
    assert masks.dtype == np.uint8 and set(np.unique(masks)) <= {0, 1}


@pytest.mark.parametrize(
    ("images", "masks", "message"),
    [(np.full((4, 1, 16, 16), 3.0), np.zeros((4, 16, 16)), r"\[-1, 1\]"),
     (np.zeros((4, 1, 16, 16)), np.full((4, 16, 16), 0.5), "only 0 and 1"),
     (np.zeros((4, 1, 16, 16)), np.zeros((3, 16, 16)), "need images")],
)
def test_train_gan_checks_its_data(images, masks, message):
    with pytest.raises(PlanetMLError, match=message):
        train_gan(DCGANGenerator(size=16, width=4), DCGANDiscriminator(size=16, width=4), images, masks, epochs=1)
