"""Trained model = a folder: weights, config and metadata, no pickles.

``weights.safetensors`` holds the state dict, ``config.json`` the registry name
and constructor options (plus anything else of the case's config), and
``metadata.json`` what a user needs to apply the model correctly: input
variables, units, cadence, window length, normalisation statistics, class
names, training data and metrics. The folder is written atomically, so a crash
never leaves half a model, and :func:`load_model` rebuilds the network from
``config.json`` with :func:`~planetml_lib.models.create_model`.
"""

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from planetml_lib import __version__
from planetml_lib.device import get_device
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.atomic import atomic_dir
from planetml_lib.models import MODELS, create_model

WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"


def plain_json(value):
    """Return ``value`` with numpy scalars and arrays as Python numbers and lists, NaN and inf as None.

    Keeps the files strict JSON, readable by any JSON parser (undefined scores become null).
    """
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(item) for item in value]
    return value


def _write_json(path, data):
    """Write ``data`` as indented, strict JSON; PlanetMLError if it holds other objects."""
    try:
        text = json.dumps(plain_json(data), indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise PlanetMLError(f"{path.name}: cannot write as JSON ({exc})") from None
    path.write_text(text + "\n", encoding="utf-8")


def _check_config(model, config):
    """Raise PlanetMLError unless ``config`` names ``model``'s registered class."""
    name, options = config.get("model"), config.get("model_options")
    if not isinstance(name, str) or not isinstance(options, dict):
        raise PlanetMLError('config must contain "model" (a name) and "model_options" (a dict)')
    if MODELS.get(name) is not type(model):
        raise PlanetMLError(f'config "model" is {name!r} but the model is a {type(model).__name__}')


def save_model(model, folder, config, metadata=None):
    """Write ``model`` to ``folder`` as weights, config and metadata files.

    Parameters
    ----------
    model : torch.nn.Module
        A model from :data:`~planetml_lib.models.MODELS`.
    folder : str or Path
        Target folder; an existing model folder there is replaced as a whole.
    config : dict
        JSON-able; must hold ``"model"`` (registry name) and
        ``"model_options"`` (constructor keyword arguments).
    metadata : dict, optional
        JSON-able (numpy numbers and arrays are converted); the
        ``planetml_version`` and ``created_utc`` keys are added. Without it
        no ``metadata.json`` is written (the science cases keep everything
        in ``config.json``, see :mod:`planetml_lib.cases.metadata`).

    Returns
    -------
    pathlib.Path
        The model folder.

    Raises
    ------
    PlanetMLError
        If config is incomplete or does not match ``model``, if config or
        metadata are not JSON-able, or if ``folder`` is an existing folder
        that is not a model folder. Nothing is left on disk then.

    Examples
    --------
    >>> import tempfile
    >>> options = {"in_channels": 2, "n_classes": 1, "width": 4, "depth": 1}
    >>> model = create_model("convnet1d", **options)
    >>> folder = Path(tempfile.mkdtemp()) / "model"
    >>> path = save_model(model, folder, {"model": "convnet1d", "model_options": options}, {})
    >>> sorted(p.name for p in path.iterdir())
    ['config.json', 'metadata.json', 'weights.safetensors']
    """
    folder = Path(folder)
    _check_config(model, config)
    if folder.exists() and any(folder.iterdir()) and not (folder / CONFIG_FILE).is_file():
        raise PlanetMLError(f"{folder}: exists and is not a model folder; refusing to replace it")
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_dir(folder) as tmp:
        save_file(weights, tmp / WEIGHTS_FILE)
        _write_json(tmp / CONFIG_FILE, config)
        if metadata is not None:
            _write_json(tmp / METADATA_FILE, {**metadata, "planetml_version": __version__,
                                              "created_utc": datetime.now(UTC).isoformat(timespec="seconds")})
    return folder


def _read_json(path):
    """Read a JSON object from ``path``; PlanetMLError naming the file on failure."""
    if not path.is_file():
        raise PlanetMLError(f"{path}: file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanetMLError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PlanetMLError(f"{path}: expected a JSON object")
    return data


def _build_model(config, path):
    """Rebuild the model named in ``config`` (read from ``path``)."""
    name, options = config.get("model"), config.get("model_options")
    if not isinstance(options, dict):
        raise PlanetMLError(f'{path}: needs "model" and a "model_options" object')
    try:
        return create_model(name, **options)
    except KeyError as exc:
        raise PlanetMLError(f"{path}: {exc.args[0]}") from None
    except (TypeError, PlanetMLError) as exc:
        raise PlanetMLError(f"{path}: bad model_options for {name!r} ({exc})") from None


def load_model(folder, device=None):
    """Load a model folder written by :func:`save_model`.

    Parameters
    ----------
    folder : str or Path
        Folder holding ``weights.safetensors``, ``config.json`` and
        (optionally) ``metadata.json``.
    device : str or torch.device, optional
        Where to put the model; see :func:`planetml_lib.device.get_device`.

    Returns
    -------
    model : torch.nn.Module
        Rebuilt from ``config.json`` with the saved weights, in eval mode.
    config : dict
    metadata : dict or None
        None when the folder has no ``metadata.json``.

    Raises
    ------
    PlanetMLError
        If the folder or a file is missing or unreadable, or if the weights
        do not fit the model that ``config.json`` describes.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PlanetMLError(f"{folder}: model folder not found")
    config = _read_json(folder / CONFIG_FILE)
    metadata = _read_json(folder / METADATA_FILE) if (folder / METADATA_FILE).exists() else None
    weights_path = folder / WEIGHTS_FILE
    if not weights_path.is_file():
        raise PlanetMLError(f"{weights_path}: file not found")
    model = _build_model(config, folder / CONFIG_FILE)
    try:
        model.load_state_dict(load_file(weights_path, device="cpu"))
    except (SafetensorError, RuntimeError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise PlanetMLError(
            f"{weights_path}: weights do not match {CONFIG_FILE} ({reason})"
        ) from None
    return model.to(get_device(device)).eval(), config, metadata
