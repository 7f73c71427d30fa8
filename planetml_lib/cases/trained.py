"""A trained model together with the case configuration and metadata it needs to predict."""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from torch import nn

from planetml_lib.cases.metadata import ModelMetadata, config_from_dict
from planetml_lib.errors import PlanetMLError
from planetml_lib.models.artifacts import load_model, save_model


@dataclass
class TrainedModel:
    """What ``case.train`` returns and ``case.load_trained`` rebuilds from a model folder.

    Attributes
    ----------
    model : torch.nn.Module
        The network, in eval mode after training.
    config : dataclass
        The case's frozen ``Config`` the model was trained with.
    metadata : ModelMetadata
        What prediction needs (inputs, normalisation, post-processing) and the record of
        training (data, where the post-processing was chosen, scores).
    history : pandas.DataFrame or None
        Per-epoch losses; not stored in the model folder.
    """

    model: nn.Module
    config: object
    metadata: ModelMetadata
    history: pd.DataFrame | None = None

    def save(self, folder):
        """Write the model folder (``weights.safetensors`` and ``config.json``) atomically; return it."""
        return save_model(self.model, Path(folder), config=self.metadata.to_dict())


def with_validation_scores(trained, evaluate, validation):
    """``trained`` with ``evaluate(trained, validation)``'s scores recorded in its metadata as
    ``metrics["validation"]`` (``{"metric/class": value}``, four decimals)."""
    scores = evaluate(trained, validation)
    recorded = {f"{row.metric}/{row['class']}": round(float(row.value), 4) for _, row in scores.iterrows()}
    metadata = dataclasses.replace(trained.metadata, metrics={"validation": recorded})
    return dataclasses.replace(trained, metadata=metadata)


def shipped_model(case, variant=None):
    """Folder of the model shipped with ``case`` (``variant``: a key of ``case.SHIPPED_MODELS``, default the first).

    Raises PlanetMLError when none ships (train one and pass its folder).
    """
    if not case.SHIPPED_MODELS:
        raise PlanetMLError(f"no model ships with case {case.NAME!r}; train one (planetml train {case.NAME}) "
                            "and pass its folder")
    if variant is None:
        return next(iter(case.SHIPPED_MODELS.values()))
    if variant not in case.SHIPPED_MODELS:
        raise PlanetMLError(f"case {case.NAME!r} ships no {variant!r} model; it ships {list(case.SHIPPED_MODELS)}")
    return case.SHIPPED_MODELS[variant]


def load_trained(folder, case):
    """Load a model folder of ``case`` (a case module) written by :meth:`TrainedModel.save`.

    The network goes to :func:`planetml_lib.device.get_device`'s device.

    Parameters
    ----------
    folder : str, Path or None
        None loads the model shipped with the case (:func:`shipped_model`).
    case : module
        The case the folder must belong to; a folder of another case is refused by name.
    """
    folder = shipped_model(case) if folder is None else Path(folder)
    model, values, _ = load_model(folder)
    metadata = ModelMetadata.from_dict(values, source=f"{folder}/config.json")
    if metadata.case != case.NAME:
        raise PlanetMLError(f"{folder}: is a model of case {metadata.case!r}, not {case.NAME!r}")
    config = config_from_dict(case.Config, metadata.config, source=f"{folder}/config.json")
    return TrainedModel(model=model, config=config, metadata=metadata)
