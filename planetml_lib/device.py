"""Choose the torch device, and its arithmetic precision, in one place.

Every module that runs a model asks :func:`get_device` instead of testing for
CUDA itself, so one switch (the ``prefer`` argument or the ``PLANETML_DEVICE``
environment variable) moves a whole pipeline between GPU and CPU. On CUDA,
forward passes run under :func:`autocast` (bfloat16 mixed precision).
"""

import contextlib
import os

import torch

from planetml_lib.errors import PlanetMLError

ENV_VAR = "PLANETML_DEVICE"
MIXED_PRECISION_VAR = "PLANETML_MIXED_PRECISION"


def get_device(prefer=None):
    """Return the device models and batches should live on.

    Parameters
    ----------
    prefer : str or torch.device, optional
        Requested device, e.g. ``"cpu"``, ``"cuda"`` or ``"cuda:1"``. When
        omitted, the ``PLANETML_DEVICE`` environment variable is used, and
        when that is unset too, CUDA if available, else CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    PlanetMLError
        If the requested device is not a device name or is not available
        on this machine.

    Examples
    --------
    >>> get_device("cpu")
    device(type='cpu')
    """
    request = prefer if prefer is not None else os.environ.get(ENV_VAR) or None
    if request is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(request)
    except (RuntimeError, TypeError) as exc:
        raise PlanetMLError(f"unknown device {request!r}: {exc}") from None
    _check_available(device)
    return device


def _check_available(device):
    """Raise PlanetMLError if ``device`` cannot be used on this machine."""
    if device.type == "cpu":
        return
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (device.index or 0) < count:
            return
    elif device.type == "mps" and torch.backends.mps.is_available():
        return
    raise PlanetMLError(
        f"device {str(device)!r} is not available here; use 'cpu' or unset {ENV_VAR}"
    )


def autocast(device, enabled=None):
    """Context for forward passes: bfloat16 mixed precision on CUDA, full precision elsewhere.

    bfloat16 keeps float32's exponent range, so no loss scaling is needed and the
    losses' reductions (which torch keeps in float32 under autocast) stay safe; on
    CPU it would be slower, so it is off there by default.

    Parameters
    ----------
    device : torch.device
    enabled : bool, optional
        Force it on or off; default on for CUDA unless ``PLANETML_MIXED_PRECISION=0``.

    Examples
    --------
    >>> with autocast(torch.device("cpu")):
    ...     torch.ones(2, 2).matmul(torch.ones(2, 2)).dtype
    torch.float32
    """
    if enabled is None:
        enabled = device.type == "cuda" and os.environ.get(MIXED_PRECISION_VAR) != "0"
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def model_device(model):
    """The device a model's weights are on (where :func:`~planetml_lib.train.loop.predict_batches` should run it)."""
    return next(model.parameters()).device
