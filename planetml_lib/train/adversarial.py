"""Adversarial training: a GAN's two networks learn together, and the generator makes data.

The twin of :mod:`planetml_lib.train.loop` for generative adversarial networks
(e.g. :mod:`planetml_lib.models.gan`): a discriminator learns to tell real
(image, mask) pairs from generated ones while the generator learns to fool it,
with the DCGAN recipe (Radford et al. 2016). :func:`generate_pairs` then draws
synthetic training pairs for a segmentation model. The losses are in
:mod:`planetml_lib.train.systems`.
"""

import time

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from planetml_lib.device import get_device
from planetml_lib.errors import PlanetMLError
from planetml_lib.train.systems import discriminator_loss, generator_loss


def gan_step(generator, discriminator, real, optimizers):
    """One adversarial update: a discriminator step, then a generator step.

    Parameters
    ----------
    generator, discriminator : torch.nn.Module
        E.g. :class:`~planetml_lib.models.gan.DCGANGenerator` and
        :class:`~planetml_lib.models.gan.DCGANDiscriminator`, in train mode.
    real : torch.Tensor, shape (batch, channels, size, size)
        Real (image, mask) pairs on the models' device.
    optimizers : (torch.optim.Optimizer, torch.optim.Optimizer)
        Generator and discriminator optimisers.

    Returns
    -------
    dict
        ``d_loss``, ``g_loss`` and the mean discriminator probabilities
        ``d_real`` = D(x) and ``d_fake`` = D(G(z)) before the updates (floats).
    """
    g_opt, d_opt = optimizers
    z = torch.randn(len(real), generator.latent_dim, device=real.device)
    fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    d_loss = discriminator_loss(real_logits, fake_logits)
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()
    g_loss = generator_loss(discriminator(fake))
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    g_opt.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
            "d_real": torch.sigmoid(real_logits).mean().item(), "d_fake": torch.sigmoid(fake_logits).mean().item()}


def _gan_pairs(images, masks):
    """Stack real images ``(n, c, s, s)`` in [-1, 1] and 0/1 masks ``(n, s, s)`` into ``(n, c + 1, s, s)``."""
    images, masks = np.asarray(images, dtype=np.float32), np.asarray(masks, dtype=np.float32)
    masks = masks[:, None] if masks.ndim == 3 else masks
    if images.ndim != 4 or masks.shape != (len(images), 1, *images.shape[2:]):
        raise PlanetMLError(
            f"train_gan: need images (n, c, s, s) and masks (n, s, s), got {images.shape}, {masks.shape}")
    if not (np.isfinite(images).all() and np.abs(images).max(initial=0) <= 1.0 + 1e-6):
        raise PlanetMLError("train_gan: images must be finite and in [-1, 1] (see scale_to_unit)")
    if not np.isin(masks, (0.0, 1.0)).all():
        raise PlanetMLError("train_gan: masks must hold only 0 and 1")
    return torch.from_numpy(np.concatenate([images, masks], axis=1))


def train_gan(generator, discriminator, images, masks, *, epochs=20, batch_size=64, lr=2e-4,
              betas=(0.5, 0.999), seed=0, device=None, progress=True):
    """Train a GAN on real (image, mask) pairs with the DCGAN recipe.

    Adam with ``lr=2e-4``, ``betas=(0.5, 0.999)`` for both networks (Radford
    et al. 2016), non-saturating generator loss, one discriminator step per
    generator step (:func:`gan_step`); the losses are
    :func:`~planetml_lib.train.systems.discriminator_loss` and
    :func:`~planetml_lib.train.systems.generator_loss`.

    Parameters
    ----------
    generator, discriminator : torch.nn.Module
        The generator's output must have the channels of ``images`` plus one.
    images : array-like, shape (n, c, size, size)
        Real tiles scaled to [-1, 1].
    masks : array-like of 0/1, shape (n, size, size)
        Their masks.
    epochs : int, default 20
    batch_size : int, default 64
        Smaller when ``n`` is; incomplete last batches are skipped.
    lr : float, default 2e-4
    betas : (float, float), default (0.5, 0.999)
    seed : int, default 0
        Seeds torch (weights are not re-initialised) and the batch order.
    device : str or torch.device, optional
        See :func:`planetml_lib.device.get_device`.
    progress : bool, default True
        Show a tqdm progress bar over epochs.

    Returns
    -------
    pd.DataFrame
        One row per epoch: ``epoch``, mean ``d_loss``, ``g_loss``, ``d_real``,
        ``d_fake`` over its batches, and ``seconds``. Both models are left in
        eval mode on ``device``.
    """
    real = _gan_pairs(images, masks)
    device = get_device(device)
    generator.to(device).train()
    discriminator.to(device).train()
    optimizers = tuple(torch.optim.Adam(net.parameters(), lr=lr, betas=betas) for net in (generator, discriminator))
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(real), batch_size=min(batch_size, len(real)), shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    rows = []
    for epoch in tqdm(range(1, epochs + 1), desc="GAN epochs", disable=not progress):
        started = time.perf_counter()
        steps = [gan_step(generator, discriminator, batch.to(device), optimizers) for (batch,) in loader]
        rows.append({"epoch": epoch, **pd.DataFrame(steps).mean().to_dict(), "seconds": time.perf_counter() - started})
    generator.eval()
    discriminator.eval()
    return pd.DataFrame(rows, columns=["epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"])


def generate_pairs(generator, n, seed=0, threshold=0.5, batch_size=256, device=None):
    """Draw ``n`` synthetic (image, mask) pairs from a trained generator.

    Parameters
    ----------
    generator : torch.nn.Module
        E.g. a trained :class:`~planetml_lib.models.gan.DCGANGenerator`.
    n : int
        Number of pairs.
    seed : int, default 0
        Seed of the latent vectors: the same seed gives the same pairs.
    threshold : float, default 0.5
        Mask probability at or above which a pixel is in the mask.
    batch_size : int, default 256
    device : str or torch.device, optional

    Returns
    -------
    images : np.ndarray of float32, shape (n, c, size, size)
        In [-1, 1].
    masks : np.ndarray of uint8, shape (n, size, size)
        0/1 masks.

    Examples
    --------
    >>> from planetml_lib.models.gan import DCGANGenerator
    >>> images, masks = generate_pairs(DCGANGenerator(latent_dim=8, size=16, width=4), 3)
    >>> images.shape, masks.shape, masks.dtype.name
    ((3, 1, 16, 16), (3, 16, 16), 'uint8')
    """
    device = get_device(device)
    generator.to(device).eval()
    z = torch.randn(n, generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    with torch.inference_mode():
        pairs = torch.cat([generator(batch.to(device)).float().cpu() for batch in z.split(batch_size)]).numpy()
    return pairs[:, :-1], (pairs[:, -1] >= threshold).astype(np.uint8)
