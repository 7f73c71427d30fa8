"""Minerals from VNIR reflectance spectra: presence, modal abundance and chemistry, with uncertainty.

A table case (one prediction per spectrum). Spectra (450-2450 nm) are put on the model grid by
interpolation only and normalised at 550 nm (:func:`~planetml_lib.preprocess.spectra.prepare_spectra`);
an ensemble of small 1-D CNNs (:class:`~planetml_lib.models.spectranet1d.SpectraNet1d`, after Korda
et al. 2023) predicts the modal volume fractions of olivine, orthopyroxene, clinopyroxene and
plagioclase (a softmax: they sum to 1), their presence, and their chemistry (olivine Fa, pyroxene
Fs and Wo, plagioclase An); the spread of the members is the uncertainty.

Data: 536 labelled RELAB spectra (``planetml_lib/data/minerals``). Splits are by physical
sample (:func:`~planetml_lib.preprocess.mineralogy.physical_sample_groups`): spectra of one sample
(sub-samples, grain sizes, repeated measurements) are never on both sides. Real data.
"""

import functools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from scipy.special import expit, softmax
from sklearn.model_selection import GroupShuffleSplit

from planetml_lib.cases import trained as _trained
from planetml_lib.cases.base import Kind, RowPrediction
from planetml_lib.cases.kinds import check_options, data_records, guard_training_data, write_output
from planetml_lib.cases.metadata import ModelMetadata
from planetml_lib.cases.trained import TrainedModel, with_validation_scores
from planetml_lib.datasets import DATA_DIR, register_sample
from planetml_lib.device import model_device
from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.minerals import mineral_scores
from planetml_lib.io.spectra import read_spectra, read_spectra_csv
from planetml_lib.models import create_model
from planetml_lib.models.spectranet1d import MineralLoss
from planetml_lib.preprocess.bands import spectral_angle
from planetml_lib.preprocess.mineralogy import (
    CHEMISTRY,
    MINERALS,
    PRESENCE,
    VOLUMES,
    mineral_targets,
    physical_sample_groups,
)
from planetml_lib.preprocess.spectra import GRID_NM, NORMALISE_AT_NM, prepare_spectra
from planetml_lib.train.loop import fit, predict_batches, seeded
from planetml_lib.vo.epncore import Observation

NAME = "minerals"
TITLE = "Minerals from reflectance spectra: presence, modal abundance and chemistry (RELAB, 1-D CNN ensemble)"
#: What the catalogue is about, in EPN-TAP terms (planetml publish).
OBSERVATION = Observation("Minerals", "sample", "RELAB", "RELAB spectrometers", "phys.reflectance", "")
KIND = Kind.TABLE_ROWS
METRIC_LEVELS = ("presence", "abundance", "chemistry")  # the ``level`` column of evaluate()
SHIPPED_MODELS = {"spectra": DATA_DIR / "models" / "minerals_spectranet1d"}
RELAB = DATA_DIR / "minerals" / "relab_mineral_spectra_450-2450nm.csv.gz"
#: Output columns of the network, in order (see SpectraNet1d).
OUTPUTS = (*VOLUMES, *(f"{m}_p" for m in MINERALS), *CHEMISTRY)
#: Columns that identify a spectrum, copied from the input to the prediction table when present.
IDENTIFIERS = ("SampleID", "SpectrumID", "SampleName", "asteroid_number")

register_sample("asteroids_busdemeo", "minerals/asteroid_spectra_5_busdemeo.csv",
                "5 asteroid spectra (4 Vesta V, 433 Eros S, 246 Asporina A, 349 Dembowska R, 1862 Apollo Q)", NAME)


@dataclass(frozen=True)
class Config:
    """Settings of the minerals case; override with ``dataclasses.replace``."""

    model: str = "spectranet1d"
    model_options: dict = field(default_factory=lambda: {"channels": [16, 32, 64], "kernel_size": 7,
                                                         "dropout": 0.1, "hidden": 64, "n_members": 5})
    # splits by physical sample, drawn once with split_seed before any model was trained
    test_fraction: float = 0.2
    validation_fraction: float = 0.15
    split_seed: int = 0
    epochs: int = 300
    patience: int = 30
    lr: float = 1e-3
    batch_size: int = 32
    presence_threshold: float = 0.5   # fixed, not tuned
    max_spectra: int | None = None    # keep the first spectra of each split (fast mode)
    seed: int = 0
    progress: bool = True

    @classmethod
    def fast(cls):
        """A tiny ensemble on a slice of the data, for tests and notebooks: seconds on a laptop."""
        return cls(model_options={"channels": [4, 8], "kernel_size": 7, "dropout": 0.1, "hidden": 8, "n_members": 2},
                   epochs=2, max_spectra=60, progress=False)


@functools.cache
def _relab_library():
    """:func:`labelled_spectra`, read and prepared once per process (shared, not to be modified)."""
    spectra = prepare_spectra(read_spectra_csv(RELAB))
    targets = mineral_targets(spectra)
    known = targets[list(VOLUMES)].notna().all(axis=1).to_numpy()
    spectra = spectra.isel(sample=np.flatnonzero(known))
    return spectra.assign_coords({name: ("sample", targets.loc[known, name].to_numpy()) for name in targets.columns})


def labelled_spectra():
    """The RELAB spectra with known volumes, prepared, with their targets as coordinates (a copy of your own)."""
    return _relab_library().copy(deep=True)


def load_data(config):
    """``{"train", "validation", "test"}`` spectra, split by physical sample (``config.split_seed``)."""
    spectra = labelled_spectra()
    groups = physical_sample_groups(spectra)
    rest, test = next(GroupShuffleSplit(1, test_size=config.test_fraction, random_state=config.split_seed)
                      .split(groups, groups=groups))
    share = config.validation_fraction / (1 - config.test_fraction)
    train, validation = next(GroupShuffleSplit(1, test_size=share, random_state=config.split_seed)
                             .split(rest, groups=groups[rest]))
    splits = {"train": rest[train], "validation": rest[validation], "test": test}
    return {name: spectra.isel(sample=np.sort(index)[:config.max_spectra]) for name, index in splits.items()}


def build_model(config):
    """The untrained ensemble described by ``config``."""
    return create_model(config.model, n_minerals=len(MINERALS), n_chemistry=len(CHEMISTRY), **config.model_options)


def _inputs(spectra):
    """Network input ``(n, 1, n_wavelengths)``: the spectra normalised at 550 nm, minus 1."""
    return (spectra["reflectance"].values[:, None, :] - 1.0).astype("float32")


def _targets(spectra):
    """Network targets ``(n, len(OUTPUTS))``: fractions, presence, chemistry (NaN where unknown)."""
    return np.column_stack([spectra[name].values for name in (*VOLUMES, *PRESENCE, *CHEMISTRY)]).astype("float32")


def train(config, data):
    """Fit the ensemble with early stopping on the validation samples; record splits and scores."""
    with seeded(config.seed):
        model = build_model(config)
    history = fit(model, (_inputs(data["train"]), _targets(data["train"])),
                  (_inputs(data["validation"]), _targets(data["validation"])),
                  MineralLoss(len(MINERALS), len(CHEMISTRY)), epochs=config.epochs, lr=config.lr,
                  batch_size=config.batch_size, patience=config.patience, seed=config.seed, progress=config.progress)
    metadata = ModelMetadata.of(
        NAME, KIND, config, dict(config.model_options, n_minerals=len(MINERALS), n_chemistry=len(CHEMISTRY)),
        inputs={"wavelength_nm": [float(GRID_NM[0]), float(GRID_NM[-1]), float(GRID_NM[1] - GRID_NM[0])],
                "normalised_at_nm": NORMALISE_AT_NM, "outputs": list(OUTPUTS)},
        data=data_records(KIND, {name: data[name] for name in ("train", "validation", "test")}),
        normalisation=None, postprocessing={"presence_threshold": config.presence_threshold},
        postprocessing_chosen_on={"what": "fixed before training (0.5), not tuned"},
        metrics={}, training={"best_epoch": int(history.attrs["best_epoch"]), "epochs_run": len(history)})
    trained = TrainedModel(model=model, config=config, metadata=metadata, history=history)
    return with_validation_scores(trained, evaluate, data["validation"])


def load_trained(folder=None):
    """Load a minerals model folder; None loads the shipped one (trained by benchmarks/minerals.py)."""
    return _trained.load_trained(folder, sys.modules[__name__])


def read_input(paths, **options):
    """Spectra from files (table layout, JSON or text; :func:`~planetml_lib.io.spectra.read_spectra`),
    each put on the model grid (not yet normalised) and joined along ``sample``."""
    check_options(options, KIND)
    paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    parts = [prepare_spectra(read_spectra(path), normalise_at=None) for path in paths]
    if not parts:
        raise PlanetMLError("no input file given")
    shared = set.intersection(*(set(part.coords) for part in parts))
    return xr.concat([part.drop_vars(set(part.coords) - shared) for part in parts], "sample")


def example_input(folder):
    """Write three test-split spectra in the table layout, without their labels; returns ``[path]``."""
    spectra = load_data(Config())["test"].isel(sample=slice(0, 3))
    table = pd.DataFrame(spectra["reflectance"].values,
                         columns=[f"R{w:g}" for w in spectra["wavelength"].values])
    table.insert(0, "SpectrumID", spectra["SpectrumID"].values)
    table.insert(0, "SampleID", spectra["SampleID"].values)
    path = Path(folder) / "spectra.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return [path]


def predict(trained, data):
    """Minerals of each spectrum of ``data`` (the spectra contract): a :class:`RowPrediction`.

    The table holds, per input spectrum in input order, its identifiers, the volume fractions
    ``OL_vol, OPX_vol, CPX_vol, PLG_vol`` (0-1, summing to 1), the chemistry ``OL_Fa, OPX_Fs,
    OPX_Wo, CPX_Fs, CPX_Wo, PLG_An`` (fractions 0-1), each with ``<name>_std`` (the spread of
    the ensemble), and presence probabilities ``<mineral>_p``.
    """
    spectra = prepare_spectra(data)
    outputs = predict_batches(trained.model, _inputs(spectra), batch_size=trained.config.batch_size,
                              device=model_device(trained.model), progress=trained.config.progress)
    m = len(MINERALS)
    values = np.concatenate([softmax(outputs[..., :m], axis=-1), expit(outputs[..., m:])], axis=-1)
    members = xr.DataArray(values, dims=("sample", "member", "output"), coords={"output": list(OUTPUTS)},
                           name="prediction")
    rows = pd.DataFrame({name: spectra[name].values for name in IDENTIFIERS if name in spectra.coords})
    mean, spread = members.mean("member"), members.std("member")
    for name in (*VOLUMES, *CHEMISTRY):
        rows[name] = mean.sel(output=name).values
        rows[f"{name}_std"] = spread.sel(output=name).values
    for mineral in MINERALS:
        rows[f"{mineral}_p"] = mean.sel(output=f"{mineral}_p").values
    return RowPrediction(members, rows)


def nearest_spectra(data, k=3):
    """The ``k`` RELAB spectra nearest to each spectrum of ``data`` by spectral angle (a library look-up,
    for display): a frame with ``input`` (row of ``data``), ``rank``, the match's identifiers and
    volumes, and ``angle_deg``."""
    library = _relab_library()
    spectra = prepare_spectra(data)
    angles = np.degrees(spectral_angle(spectra["reflectance"].values, library["reflectance"].values))
    order = np.argsort(angles, axis=1)[:, :k]
    columns = ["SpectrumID", "SampleName", *VOLUMES]
    return pd.DataFrame([{"input": i, "rank": rank + 1, **{c: library[c].values[j] for c in columns},
                          "angle_deg": angles[i, j]} for i, row in enumerate(order) for rank, j in enumerate(row)])


def as_targets(rows, threshold):
    """A prediction table in :func:`~planetml_lib.preprocess.mineralogy.mineral_targets`'s columns."""
    predicted = rows[list(VOLUMES)].copy()
    for mineral, presence in zip(MINERALS, PRESENCE, strict=True):
        predicted[presence] = (rows[f"{mineral}_p"] >= threshold).astype(float)
    return predicted.assign(**{name: rows[name] for name in CHEMISTRY})


def evaluate(trained, data, allow_training_data=False):
    """Tidy scores on labelled spectra: presence (exact match, micro/macro F1), abundance and
    chemistry RMSE in percentage points. Refuses spectra of training samples unless asked."""
    role = guard_training_data(trained.metadata, data, allow_training_data)
    rows = predict(trained, data).rows
    truth = mineral_targets(data)
    scores = mineral_scores(truth, as_targets(rows, trained.metadata.postprocessing["presence_threshold"]))
    level = np.where(scores["class"] == "all", "presence",
                     np.where(scores["class"].isin([*VOLUMES, "mean_vol"]), "abundance", "chemistry"))
    return scores.assign(level=level, data=role)


def plot_results(trained, data):
    """Predicted against true volume fraction per mineral, with the ensemble's spread."""
    rows = predict(trained, data).rows
    truth = mineral_targets(data)
    figure = Figure(figsize=(12, 3.4), layout="constrained")
    for ax, name in zip(figure.subplots(1, len(VOLUMES)), VOLUMES, strict=True):
        ax.errorbar(truth[name], rows[name], yerr=rows[f"{name}_std"], fmt="o", ms=3, alpha=0.6, elinewidth=0.8)
        ax.plot([0, 1], [0, 1], color="0.5", lw=1)
        error = 100 * np.sqrt(np.nanmean((truth[name] - rows[name]) ** 2))
        ax.set(xlim=(-0.05, 1.05), ylim=(-0.05, 1.05), xlabel=f"true {name}", ylabel="predicted",
               title=f"{name}: RMSE {error:.1f} pp")
    return figure


__all__ = ["write_output"]
