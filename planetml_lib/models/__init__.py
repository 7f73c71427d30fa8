"""Model registry: every architecture is listed once in :data:`MODELS`.

A trained model folder stores the registry name and the constructor options
(JSON values only) in ``config.json``, so :func:`create_model` can rebuild it
without pickles.
"""

from planetml_lib.models.causalcnn1d import CausalCNN1d
from planetml_lib.models.cnnlstm import CNNLSTM
from planetml_lib.models.convnet1d import ConvNet1d
from planetml_lib.models.gan import DCGANDiscriminator, DCGANGenerator
from planetml_lib.models.nguyen2019 import NguyenCNN
from planetml_lib.models.resunetpp1d import ResUNetPP1d
from planetml_lib.models.spectranet1d import SpectraNet1d
from planetml_lib.models.surface_units import UnitClassifier
from planetml_lib.models.unet2d import UNet2d

MODELS = {
    "convnet1d": ConvNet1d,
    "resunetpp1d": ResUNetPP1d,
    "nguyen2019": NguyenCNN,
    "causalcnn1d": CausalCNN1d,
    "cnnlstm": CNNLSTM,
    "spectranet1d": SpectraNet1d,
    "unet2d": UNet2d,
    "unit_classifier": UnitClassifier,
    "dcgan_generator": DCGANGenerator,
    "dcgan_discriminator": DCGANDiscriminator,
}


def create_model(name, **options):
    """Build a registered model from its name and JSON-able options.

    Parameters
    ----------
    name : str
        Key in :data:`MODELS`, e.g. ``"convnet1d"``.
    **options
        Constructor arguments, e.g. ``in_channels=4, n_classes=2``.

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    KeyError
        If ``name`` is not registered; the message lists the valid names.

    Examples
    --------
    >>> model = create_model("convnet1d", in_channels=3, n_classes=2, width=8)
    >>> type(model).__name__
    'ConvNet1d'
    """
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; valid choices: {', '.join(sorted(MODELS))}")
    return MODELS[name](**options)


__all__ = ["CNNLSTM", "MODELS", "CausalCNN1d", "ConvNet1d", "DCGANDiscriminator", "DCGANGenerator", "NguyenCNN",
           "ResUNetPP1d", "SpectraNet1d", "UNet2d", "UnitClassifier",
           "create_model"]
