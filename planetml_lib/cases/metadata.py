"""One metadata schema for every case's model folder, read back strictly.

:class:`ModelMetadata` is written whole to the folder's ``config.json`` (beside
``weights.safetensors``): what rebuilds the network, the case ``Config`` it was trained with,
and what a user needs to apply and trust it. Reading refuses unknown and missing keys by
name, so a renamed field never quietly reverts to its default, and a folder of another case
is refused by the case's name.
"""

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime

from planetml_lib import __version__
from planetml_lib.errors import PlanetMLError
from planetml_lib.models.artifacts import plain_json

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ModelMetadata:
    """Everything recorded about a trained model of a science case.

    Attributes
    ----------
    case, kind : str
        Registry name of the case and its :class:`~planetml_lib.cases.base.Kind` value.
    model : str
        Name in :data:`~planetml_lib.models.MODELS`.
    model_options : dict
        Every keyword the network was built with.
    config : dict
        The case ``Config`` the model was trained with (``dataclasses.asdict``).
    simulated : bool
        Whether the training data were simulated; ``simulation`` says what was simulated.
    inputs : dict
        Input variables or channels with units, and cadence or pixel size.
    data : dict
        ``{"train", "validation", "test"}``: data records of each split
        (:func:`~planetml_lib.cases.kinds.data_records`; series with time ranges, orbits,
        scenes with seeds). ``evaluate`` refuses data inside ``train`` unless asked.
    normalisation : dict or None
        State of the input scaler fitted on the training data.
    postprocessing : dict
        Settings applied to the network's outputs at prediction time.
    postprocessing_chosen_on : dict
        Where and how those settings were chosen (never on test data), with the scores there.
    metrics : dict
        Scores recorded at training time (validation; held-out scores of a final model).
    training : dict
        Epochs run, best epoch and other facts of the training run.
    """

    case: str
    kind: str
    model: str
    model_options: dict
    config: dict
    simulated: bool
    simulation: str
    inputs: dict
    data: dict
    normalisation: dict | None
    postprocessing: dict
    postprocessing_chosen_on: dict
    metrics: dict
    training: dict
    planetml_version: str = __version__
    created_utc: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def of(cls, case, kind, config, model_options, simulation="", **fields):
        """The metadata of a model of ``case`` (registry name) and ``kind`` trained with the case
        ``config`` and network ``model_options``; ``simulation`` says what was simulated ("" for
        real data, and then ``simulated`` is False). ``fields``: the other fields."""
        return cls(case=case, kind=str(kind), model=config.model, model_options=model_options,
                   config=dataclasses.asdict(config), simulated=bool(simulation), simulation=simulation, **fields)

    def to_dict(self):
        """Plain JSON values (tuples as lists, numpy numbers as Python ones, NaN as None), as written."""
        return plain_json(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, values, source="model metadata"):
        """Rebuild from :meth:`to_dict` output; PlanetMLError naming unknown or missing keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown, missing = sorted(set(values) - names), sorted(names - set(values))
        if unknown or missing:
            raise PlanetMLError(f"{source}: not a PlanetML model folder of schema {SCHEMA_VERSION} "
                                f"(unknown keys {unknown}, missing keys {missing}); retrain it with this version")
        if values["schema_version"] != SCHEMA_VERSION:
            raise PlanetMLError(f"{source}: schema version {values['schema_version']}, this PlanetML reads "
                                f"{SCHEMA_VERSION}")
        return cls(**values)


def _as_field_type(default, value):
    """JSON lists back to tuples (nested too) where the field's default is a tuple."""
    if isinstance(default, tuple) and isinstance(value, list):
        inner = default[0] if default else None
        return tuple(_as_field_type(inner, item) if isinstance(item, list) else item for item in value)
    return value


def config_from_dict(config_cls, values, source="config"):
    """Rebuild a case ``Config`` from ``dataclasses.asdict`` output read back from JSON.

    Raises PlanetMLError naming unknown and missing fields: a model folder never loads with
    settings silently reverted to today's defaults.
    """
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown, missing = sorted(set(values) - set(fields)), sorted(set(fields) - set(values))
    if unknown or missing:
        raise PlanetMLError(f"{source}: the model's settings do not match {config_cls.__module__}.Config "
                            f"(unknown {unknown}, missing {missing}); retrain it with this version")
    return config_cls(**{name: _as_field_type(fields[name].default, value) for name, value in values.items()})

