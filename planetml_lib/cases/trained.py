"""A trained model together with the case configuration and metadata it needs to predict."""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from torch import nn

from planetml_lib.models.artifacts import load_model, save_model


@dataclass
class TrainedModel:
    """What ``case.train`` returns and ``case.load_trained`` rebuilds from a model folder.

    Attributes
    ----------
    model : torch.nn.Module
        The network, in eval mode after training.
    model_options : dict
        Every keyword the network was built with (``create_model(config.model, **model_options)``).
    config : dataclass
        The case's frozen ``Config`` the model was trained with.
    metadata : dict
        JSON-serialisable facts needed at prediction time (input variables, units,
        cadence, normalisation statistics) and the record of training (data, scores).
    history : pandas.DataFrame or None
        Per-epoch losses; not stored in the model folder beyond ``metadata``.
    """

    model: nn.Module
    model_options: dict
    config: object
    metadata: dict
    history: pd.DataFrame | None = None

    def save(self, folder):
        """Write the model folder (weights.safetensors, config.json, metadata.json) atomically.

        ``config.json`` holds the network's name and full options (to rebuild it) and the
        case's ``Config`` under ``"case"``.
        """
        config = {"model": self.config.model, "model_options": self.model_options,
                  "case": dataclasses.asdict(self.config)}
        return save_model(self.model, Path(folder), config=config, metadata=self.metadata)


def config_from_dict(config_cls, values):
    """Rebuild a case ``Config`` from ``dataclasses.asdict`` output read back from JSON.

    Lists become tuples where the field's default is a tuple; unknown keys are ignored.
    """
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    kwargs = {}
    for name, value in values.items():
        if name not in fields:
            continue
        default = fields[name].default
        kwargs[name] = tuple(value) if isinstance(default, tuple) and isinstance(value, list) else value
    return config_cls(**kwargs)


def load_trained(folder, config_cls, device=None):
    """Load a model folder written by :meth:`TrainedModel.save` (no pickle involved)."""
    model, config, metadata = load_model(Path(folder), device=device)
    return TrainedModel(model=model, model_options=config["model_options"],
                        config=config_from_dict(config_cls, config.get("case", {})), metadata=metadata)
