"""Mercury's bow shock and magnetopause in MESSENGER magnetometer data: CNN+LSTM, 5 regions.

Every sample of an orbit belongs to one of five regions: 0 IMF (solar wind), 1 SK (bow-shock
crossing), 2 MSh (magnetosheath), 3 MP (magnetopause crossing), 4 MSp (magnetosphere). A
CNN+LSTM labels each sample; its probabilities, with the loss's class weighting divided out in
part and smoothed (both chosen on the validation orbits), become per-orbit inbound and outbound
crossing intervals, scored against the Philpott et al. (2020) list by timing error.

Data: 313 REAL MESSENGER orbits at 10 s (2011-2015, digitised from the plotted PDS 1-s product;
:func:`~planetml_lib.datasets.load_real_messenger`), split by calendar month with a one-day guard
(:func:`real_splits`), and SIMULATED orbits (:mod:`planetml_lib.simulate.messenger`: real orbit and
Philpott crossing times, a physics-based field) of the training months for pretraining. Which of
the three regimes (real only, simulated only, simulated then real) is shipped was decided on the
real validation orbits (``benchmarks/mercury.py``). Real PDS files (``MAGMSOSCIAVG*.TAB``) and the
digitised 10-s CSV are read by :func:`read_input` for prediction.

Cadence: the PDS 10-second product (4,320 samples per 12-hour orbit), windows of 1 hour.
"""

import copy
import dataclasses
import shutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from torch import nn
from tqdm.auto import tqdm

from planetml_lib.cases import trained as _trained
from planetml_lib.cases.base import Detection, Kind
from planetml_lib.cases.kinds import check_options, data_provenance, data_records, guard_training_data, write_output
from planetml_lib.cases.metadata import ModelMetadata
from planetml_lib.cases.series_detection import VALID, input_windows, predict_series
from planetml_lib.cases.trained import TrainedModel
from planetml_lib.datasets import (
    DATA_DIR,
    load_catalog,
    load_messenger_orbits,
    load_real_messenger,
    real_messenger_manifest,
    register_catalog,
    register_sample,
)
from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate import evaluate_multiclass
from planetml_lib.evaluate.crossings import (
    crossing_scores,
    evaluate_crossings,
    extract_crossings,
    regions_from_probabilities,
)
from planetml_lib.io.catalogs import read_philpott
from planetml_lib.io.messenger_csv import is_messenger_csv, read_messenger_csv
from planetml_lib.io.orbit_stream import IN_MEMORY_SPAN, OrbitStream, iter_orbits, orbit_numbers
from planetml_lib.io.pds import as_paths, read_messenger_mag
from planetml_lib.models import create_model
from planetml_lib.models.region_trees import RegionTrees
from planetml_lib.models.rules import BowShockRules
from planetml_lib.preprocess import DatasetScaler, cadence_of, regularize, to_windows
from planetml_lib.preprocess.mag_quality import isolated_spikes, position_frame
from planetml_lib.preprocess.mercury import (
    DIPOLE_OFFSET_KM,
    REGIONS,
    add_boundary_features,
    boundary_scale,
    crossings_to_regions,
    region_attrs,
)
from planetml_lib.simulate import complete_orbits, simulate_orbits
from planetml_lib.train.active import run_active_learning
from planetml_lib.train.loop import fit, seeded
from planetml_lib.train.systems import class_weights_from_labels
from planetml_lib.viz.regions import plot_regions
from planetml_lib.vo.epncore import Observation

NAME = "mercury_boundaries"
TITLE = "Mercury's bow shock and magnetopause from MESSENGER magnetometer data (CNN+LSTM, 5 regions)"
#: What the catalogue is about, in EPN-TAP terms (planetml publish).
OBSERVATION = Observation("Mercury", "planet", "MESSENGER", "MAG", "phys.magField", "magnetosphere")
KIND = Kind.INTERVAL_EVENTS
METRIC_LEVELS = ("sample", "sample_postprocessed", "crossing")  # the ``level`` column of evaluate()
LABEL = "region"
SHIPPED_MODELS = {"magnetometer": DATA_DIR / "models" / "mercury_cnnlstm"}
TRAINING = ("real", "simulated", "pretrained")
SIMULATION = ("magnetic field simulated by planetml_lib.simulate.messenger on real MESSENGER orbit times and "
              "real Philpott et al. (2020) crossing times")

register_catalog("philpott2020", "mercury/philpott2020_boundaries.csv.gz",
                 "MESSENGER bow-shock and magnetopause crossings, 16,239 traversals of orbits 12-4104 "
                 "(Philpott et al. 2020)", read_philpott)
register_sample("messenger_orbit_1230", "mercury/messenger_mag_10s_orbit1230.csv.gz",
                "real MESSENGER MAG, orbit 1230 (2012-09-07), 10 s, digitised from plots; Philpott crossings "
                "15:03-17:28 UT", NAME)


@dataclass(frozen=True)
class Config:
    """Settings of the Mercury boundaries case; override with ``dataclasses.replace``.

    The splits are named here, before any score: whole calendar months of the real orbits
    (:func:`real_splits`), spread over the mission, and the disturbed-conditions test orbits by a
    rule on the Philpott crossing positions (:func:`disturbed_orbits`).
    """

    training: str = "real"                       # or "simulated", or "pretrained" (simulated, then real): chosen on
                                                 # validation (benchmarks/mercury.py; pretraining did not help)
    validation_months: tuple = ("2011-08", "2012-04", "2012-11", "2013-04", "2013-09", "2014-02", "2014-07",
                                "2015-01")
    test_months: tuple = ("2011-06", "2011-11", "2012-06", "2012-09", "2013-02", "2013-07", "2013-12", "2014-05",
                          "2014-10", "2015-03")   # 2012-06 and 2012-09 hold orbits 990 and 1230, also at 60 s
    guard: str = "1D"                            # no training orbit this close to a validation or test orbit
    disturbed_quantile: float = 0.05             # most compressed orbits (mean boundary scale) -> test_disturbed
    n_train: int | None = None                   # caps on the real splits (None: all), for fast runs
    n_validation: int | None = None
    n_test: int | None = None
    n_simulated: int = 240                       # simulated orbits of the training months (simulated, pretrained)
    offset_nt: float = 6.0                       # each training orbit's B gets a constant offset up to this (nT)
    cadence: str = "10s"                         # the PDS 10-s product
    fluctuation_window: str = "60s"              # rolling std of |B|
    variables: tuple = ("bx", "by", "bz", "b_mag", "bx_ext", "by_ext", "bz_ext", "b_mag_std_60s",
                        "r_msm", "mlat_deg", "lt_cos", "lt_sin", "t_periapsis_h")
    seed: int = 0                                # simulation, offsets and training
    window: int = 360                            # samples per window (1 h at 10 s)
    stride: int = 120                            # hop between training windows (20 min)
    model: str = "cnnlstm"
    model_options: dict = field(default_factory=lambda: {"conv_channels": [32, 64, 64], "lstm_hidden": 64})
    epochs: int = 15
    batch_size: int = 32
    lr: float = 1e-3
    patience: int = 4
    smooth_windows: tuple = (1, 3, 5, 9, 15, 25)  # probability-smoothing lengths (samples) tried on validation
    prior_corrections: tuple = (0.0, 0.25, 0.5, 0.75, 1.0)  # class-weight exponents divided out, tried likewise
    max_offset: str = "10min"                    # a crossing counts as found within this offset
    progress: bool = True

    @classmethod
    def fast(cls):
        """A tiny model on a few real orbits at 60 s, pretrained on two simulated ones (so that every stage
        runs): seconds, for tests and notebooks."""
        return cls(training="pretrained", cadence="60s", fluctuation_window="300s",
                   variables=("bx", "by", "bz", "b_mag", "bx_ext", "by_ext", "bz_ext", "b_mag_std_300s",
                              "r_msm", "mlat_deg", "lt_cos", "lt_sin", "t_periapsis_h"),
                   n_train=3, n_validation=1, n_test=1, n_simulated=2, window=120, stride=60,
                   model_options={"conv_channels": [8, 8, 8], "lstm_hidden": 8, "lstm_layers": 1},
                   epochs=1, smooth_windows=(1, 3), prior_corrections=(0.0, 1.0), progress=False)


def disturbed_orbits(config, manifest=None):
    """Real orbits whose boundaries lay unusually close to the planet: the ``config.disturbed_quantile``
    lowest mean :func:`~planetml_lib.preprocess.mercury.boundary_scale` of their Philpott crossings (a
    compressed magnetosphere, as under an ICME). A rule on the crossing list, fixed before training."""
    manifest = real_messenger_manifest() if manifest is None else manifest
    crossings = load_catalog("philpott2020")
    crossings = crossings[crossings["orbit"].isin(manifest["orbit"])]
    scale = boundary_scale(crossings).groupby(crossings["orbit"]).mean()
    return np.sort(scale.index[scale < scale.quantile(config.disturbed_quantile)].to_numpy())


def _seconds_apart(spans, starts, ends):
    """Seconds between each interval ``[starts, ends]`` and the nearest of ``spans`` (0 if they overlap)."""
    starts, ends = pd.DatetimeIndex(starts), pd.DatetimeIndex(ends)
    gap = np.full(len(starts), np.inf)
    for start, end in zip(spans["start"], spans["end"], strict=True):
        gap = np.minimum(gap, np.maximum(np.maximum((starts - end).total_seconds(), (start - ends).total_seconds()), 0))
    return gap


def real_splits(config):
    """The shipped real 10-s orbits split by whole calendar months named in ``config``, and by a guard.

    ``test_disturbed`` (:func:`disturbed_orbits`) comes first, then ``test`` (``config.test_months``),
    ``validation`` (``config.validation_months``), ``train`` (the rest). An orbit closer than
    ``config.guard`` to an orbit of an earlier split, or to one of the real 60-s orbits (test data of
    their own), is dropped, so that neighbouring orbits (which see nearly the same solar wind and
    boundary positions) do not leak across splits. ``config.n_*`` keep the first orbits of a split.
    """
    manifest = real_messenger_manifest()
    month = manifest["start"].dt.strftime("%Y-%m")
    order = {"test_disturbed": manifest["orbit"].isin(disturbed_orbits(config, manifest)),
             "test": month.isin(config.test_months), "validation": month.isin(config.validation_months),
             "train": pd.Series(True, index=manifest.index)}
    held = real_messenger_manifest("60s")
    held = held[~held["orbit"].isin(manifest["orbit"])]
    guard, splits = pd.Timedelta(config.guard).total_seconds(), {}
    for name in list(order):
        member = order[name].to_numpy()
        far = _seconds_apart(held, manifest["start"], manifest["end"]) >= guard
        splits[name] = manifest.loc[member & far, "orbit"].to_numpy()
        held = pd.concat([held, manifest[member]])
        manifest, order = manifest[~member], {k: v[~member] for k, v in order.items()}
    caps = {"train": config.n_train, "validation": config.n_validation, "test": config.n_test,
            "test_disturbed": config.n_test}
    return {name: orbits[:caps[name]] for name, orbits in splits.items()}


def simulated_orbits(config, splits):
    """``config.n_simulated`` complete orbits spread over the training months, each at least
    ``config.guard`` from every real validation and test orbit (10 s and 60 s): the simulator's training set."""
    manifest = real_messenger_manifest()
    held = pd.concat([manifest[~manifest["orbit"].isin(splits["train"])], real_messenger_manifest("60s")])
    table = load_messenger_orbits().set_index("orbit")
    orbits = np.sort(complete_orbits(load_catalog("philpott2020"), load_messenger_orbits()))
    start, end = table.loc[orbits, "start"], table.loc[orbits, "end"]
    month = start.dt.strftime("%Y-%m").to_numpy()
    far = _seconds_apart(held, start, end) >= pd.Timedelta(config.guard).total_seconds()
    candidates = orbits[far & ~np.isin(month, config.validation_months + config.test_months)]
    return candidates[np.linspace(0, len(candidates) - 1, min(config.n_simulated, len(candidates))).round().astype(int)]


def with_offsets(ds, config, seed):
    """``ds`` with one constant offset in each field component, drawn up to ``config.offset_nt``: real
    products differ by offsets of a few nT (4-4.5 nT in Bx between the shipped 10-s and 60-s orbits)."""
    if not config.offset_nt:
        return ds
    offset = np.random.default_rng(seed).uniform(-config.offset_nt, config.offset_nt, 3)
    return ds.assign({name: ds[name] + value for name, value in zip(("bx", "by", "bz"), offset, strict=True)})


def real_prepared(orbits, config, offsets=False):
    """Real orbits, labelled from the Philpott list and prepared each on its own grid (gaps stay gaps),
    joined in time; ``offsets`` adds :func:`with_offsets` (training only)."""
    crossings = load_catalog("philpott2020")
    raw = load_real_messenger(orbits)
    parts = []
    for orbit, part in raw.groupby("orbit"):
        part = with_offsets(part, config, config.seed * 100_000 + int(orbit)) if offsets else part
        part = prepare_for_model(part.assign_attrs(raw.attrs), config)
        label = crossings_to_regions(crossings[crossings["orbit"] == orbit], part["time"].values)
        parts.append(part.assign({LABEL: ("time", label.astype(float), region_attrs())}))
    return xr.concat(parts, "time", combine_attrs="override")


def simulate_prepared(orbits, config, crossings=None, offsets=False):
    """Simulated orbits, each prepared on its own grid and joined in time (orbits apart in time
    are not bridged by gap rows); ``offsets`` adds :func:`with_offsets`. SIMULATED."""
    crossings = load_catalog("philpott2020") if crossings is None else crossings
    parts = []
    for orbit in orbits:
        part = simulate_orbits([int(orbit)], crossings, config.cadence, config.seed)
        parts.append(prepare(with_offsets(part, config, config.seed * 100_000 + int(orbit)) if offsets else part,
                             config))
    return xr.concat(parts, "time", combine_attrs="override")


def prepare(ds, config):
    """Regular grid with gaps visible, and the boundary features of the model's inputs.

    Rows inserted in gaps take the orbit number of the sample before them.
    """
    ds = regularize(add_boundary_features(ds, window=config.fluctuation_window), config.cadence)
    if "orbit" in ds.coords:
        ds = ds.assign_coords(orbit=("time", pd.Series(ds["orbit"].values).ffill().bfill().to_numpy(int)))
    return ds


def load_data(config):
    """Real orbits split by months (:func:`real_splits`): ``train``, ``validation``, ``test`` and
    ``test_disturbed`` Datasets, and, unless ``config.training`` is "real", ``simulated``: SIMULATED
    orbits of the training months (:func:`simulated_orbits`). Training orbits carry offsets."""
    if config.training not in TRAINING:
        raise PlanetMLError(f"training {config.training!r}: choose one of {', '.join(TRAINING)}")
    splits = real_splits(config)
    data = {name: real_prepared(orbits, config, offsets=name == "train") for name, orbits in splits.items()}
    if config.training != "real":
        data["simulated"] = simulate_prepared(simulated_orbits(config, splits), config, offsets=True)
    return data


def read_input(paths, **options):
    """Read real MESSENGER magnetometer files and number their orbits: PDS tables (any cadence) or, told
    by their header, the digitised 10-s CSV layout (:func:`~planetml_lib.io.messenger_csv.read_messenger_csv`).

    Files that all start within :data:`~planetml_lib.io.orbit_stream.IN_MEMORY_SPAN` (a week) come back
    as one Dataset; an archive of more (days to years of files) as an
    :class:`~planetml_lib.io.orbit_stream.OrbitStream`, which :func:`predict` reads orbit by orbit in
    flat memory. :func:`predict` averages either to the model's cadence and adds the features.
    """
    check_options(options, KIND)
    paths = as_paths(paths)
    reader = read_messenger_csv if is_messenger_csv(paths[0]) else read_messenger_mag
    stream = OrbitStream(paths, reader)
    if stream.span() > IN_MEMORY_SPAN:
        return stream
    ds = reader(paths)
    return ds.assign_coords(orbit=("time", orbit_numbers(ds["time"].values)))


def real_orbit(orbit, cadence="10s"):
    """One shipped real orbit as :func:`read_input` gives a file: raw field and position, not yet
    averaged, labelled or given features (:func:`real_prepared` does that)."""
    return load_real_messenger([orbit], cadence)


def example_input(folder):
    """Copy the shipped PDS table in the real MAG layout (a minute of SIMULATED field) into ``folder``; return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB", folder))]


def prepare_for_model(ds, config):
    """``ds`` as the model needs it (:func:`_prepared`): averaged to its cadence, with features and ``valid``;
    as it is if already prepared. One Dataset whatever orbits it holds (:func:`predict` goes orbit by orbit).

    Refuses fewer than two valid samples at the model's cadence and positions in MSM; warns about the
    spikes it removed and about input coarser than the model (:func:`_report`).
    """
    if isinstance(ds, OrbitStream):
        raise PlanetMLError(f"{ds.attrs['source']}: files spanning {ds.span().days} days are read orbit by orbit; "
                            f"predict them (planetml predict), or give files of at most "
                            f"{IN_MEMORY_SPAN.days} days here")
    if VALID in ds:
        return ds
    prepared, note = _prepared(ds, config)
    _report(ds.attrs.get("source", "the data"), [note], config)
    return prepared


def _warn_if_coarser(source, step, n_usable, n_samples, config):
    """Warn when the input (cadence ``step``) is sampled more coarsely than the model's cadence: most bins of the
    model's grid are then empty and the fluctuation feature needs several samples a window, so few or no samples
    are valid (``n_usable`` of ``n_samples``) and the model finds few or no crossings, which would otherwise look
    like an orbit without any."""
    if step <= pd.Timedelta(config.cadence):
        return
    warnings.warn(f"{source}: input cadence {step.total_seconds():g}s is coarser than the model's {config.cadence}: "
                  f"{n_usable} of {n_samples} samples have all the model's inputs (the {config.fluctuation_window} "
                  f"fluctuation of |B| needs several samples), so expect few or no crossings; give data at "
                  f"{config.cadence} or finer", stacklevel=4)


def model_options(config):
    """All keywords of the network: one input channel per variable plus ``valid``; five regions."""
    return {"in_channels": len(config.variables) + 1, "n_classes": len(REGIONS), **config.model_options}


def build_model(config):
    """The untrained CNN+LSTM described by ``config``."""
    return create_model(config.model, **model_options(config))


def _pairs(config, ds, scaler):
    """Input windows and their labels, cut within each orbit (a split's orbits are apart in time)."""
    parts = ds.groupby("orbit") if "orbit" in ds.coords else [(None, ds)]
    X, y = [], []
    for _, part in parts:
        X.append(input_windows(part, scaler, config.variables, config.window, config.stride)[0])
        y.append(to_windows(part[[LABEL]].fillna(0), [LABEL], config.window, config.stride, fill_value=0.0)[0])
    return np.concatenate(X), np.concatenate(y)[:, 0].astype("int64")


def fit_model(config, train_sets, val_set, epochs=None, test_set=None, pretrained=None):
    """Scale on the training orbits, train with class-weighted cross-entropy, choose the post-processing
    on ``val_set``; return a :class:`TrainedModel` with the history.

    ``pretrained``: a :class:`TrainedModel` to fine-tune (its weights and scaling are the start); its
    training data count as this model's training data too.
    """
    train = xr.concat(train_sets, "time", combine_attrs="override")
    if pretrained is None:
        scaler = DatasetScaler(variables=list(config.variables), method="robust").fit(train)
        with seeded(config.seed):
            model = build_model(config)
    else:
        scaler, model = DatasetScaler.from_state(pretrained.metadata.normalisation), copy.deepcopy(pretrained.model)
    X, y = _pairs(config, train, scaler)
    weights = class_weights_from_labels(y, len(REGIONS))
    history = fit(model, (X, y), _pairs(config, val_set, scaler), nn.CrossEntropyLoss(weight=weights),
                  epochs=epochs or config.epochs, lr=config.lr, batch_size=config.batch_size,
                  patience=config.patience, seed=config.seed, progress=config.progress)
    chosen, grid = choose_postprocessing(config, model, scaler, weights.tolist(), val_set)
    validation_scores = chosen.pop("validation")
    records = data_records(KIND, {"validation": val_set} | ({} if test_set is None else {"test": test_set}))
    records["train"] = (pretrained.metadata.data["train"] if pretrained else []) + [
        record for ds in train_sets for record in data_records(KIND, {"": ds})[""]]
    simulated = any(data_provenance(KIND, ds) != "real" for ds in train_sets)
    simulated = simulated or bool(pretrained and pretrained.metadata.simulated)
    stages = {"pretraining": pretrained.metadata.training} if pretrained else {}
    metadata = ModelMetadata.of(
        NAME, KIND, config, model_options(config), simulation=SIMULATION if simulated else "",
        inputs={"variables": list(config.variables), "units": {v: train[v].attrs.get("units", "")
                                                               for v in config.variables},
                "cadence": config.cadence, "window": config.window, "class_names": list(REGIONS)},
        data={"test": []} | records, normalisation=scaler.get_state(),
        postprocessing={"class_weights": weights.tolist(), **chosen},
        postprocessing_chosen_on={"what": "validation orbits", "grid": grid.to_dict(orient="records")},
        metrics={"validation": validation_scores},
        training={"regime": config.training, **stages, "epochs_run": int(len(history)),
                  "best_epoch": int(history.attrs["best_epoch"])})
    return TrainedModel(model=model, config=config, metadata=metadata, history=history)


#: The validation scores a model keeps of its chosen post-processing.
VALIDATION_SCORES = ("crossing_f1", "detection_rate", "centre_error_s", "macro_f1")


def choose_postprocessing(config, model, scaler, class_weights, validation):
    """The post-processing of the network's probabilities on the validation orbits
    (:func:`choose_postprocessing_of`). Returns ``(chosen, grid)``."""
    ds = prepare_for_model(validation, config)
    return choose_postprocessing_of(config, _probabilities(config, model, scaler, ds), class_weights, ds)


def choose_postprocessing_of(config, probabilities, class_weights, ds):
    """The prior correction and smoothing window of ``config``'s grids with the highest crossing F1 of
    ``probabilities`` on the prepared validation orbits ``ds`` (found within ``config.max_offset``; a
    spurious crossing costs as a missed one does), then the smallest median crossing-centre error,
    then the highest macro F1.
    Returns ``(chosen, grid)``: a dict with the validation scores, and the whole grid."""
    truth = reference_crossings(ds)
    rows = []
    for prior_correction in config.prior_corrections:
        for smooth_window in config.smooth_windows:
            regions = regions_from_probabilities(probabilities, class_weights, prior_correction, smooth_window)
            crossings = extract_crossings(regions, ds["time"].values, orbit=ds["orbit"].values)
            timing = evaluate_crossings(crossings, truth, max_offset=config.max_offset)
            overall = timing[timing["class"] == "all"].set_index("metric")["value"]
            samples = evaluate_multiclass(ds[LABEL].values, regions, list(REGIONS), valid=ds[VALID].values)
            rows.append({"prior_correction": float(prior_correction), "smooth_window": int(smooth_window),
                         "crossing_f1": float(overall["F1"]), "detection_rate": float(overall["detection_rate"]),
                         "centre_error_s": float(overall["centre_abs_error_s_median"]),
                         "macro_f1": float(samples.query("`class` == 'macro' and metric == 'F1'")["value"].item())})
    grid = pd.DataFrame(rows)
    best = grid.sort_values(["crossing_f1", "centre_error_s", "macro_f1"], ascending=[False, True, False],
                            kind="stable").iloc[0]
    chosen = {"prior_correction": float(best["prior_correction"]), "smooth_window": int(best["smooth_window"]),
              "validation": {k: float(best[k]) for k in VALIDATION_SCORES}}
    return chosen, grid


def train(config, data):
    """Train as ``config.training`` says, with early stopping and post-processing chosen on the real
    validation orbits: on the real training orbits; on the simulated ones; or on the simulated ones
    and then, from there, on the real ones (:func:`fine_tune`)."""
    if config.training == "real":
        return fit_model(config, [data["train"]], data["validation"], test_set=data.get("test"))
    pretrained = fit_model(dataclasses.replace(config, training="simulated"), [data["simulated"]],
                           data["validation"], test_set=data.get("test"))
    return pretrained if config.training == "simulated" else fine_tune(config, data, pretrained)


def fine_tune(config, data, pretrained):
    """``pretrained`` (trained on the simulated orbits) trained on, from its weights and scaling, on the
    real training orbits; early stopping and post-processing on the real validation orbits."""
    return fit_model(config, [data["train"]], data["validation"], test_set=data.get("test"), pretrained=pretrained)


def load_trained(folder=None):
    """Load a Mercury model folder; None loads the shipped model."""
    return _trained.load_trained(folder, sys.modules[__name__])


def _probabilities(config, model, scaler, ds):
    """Per-sample region probabilities ``(n_times, 5)`` of a prepared series; NaN in data gaps."""
    probabilities = predict_series(model, ds, scaler, config.variables, config.window, activation="softmax",
                                   batch_size=config.batch_size, progress=config.progress)
    probabilities[~ds[VALID].values] = np.nan
    return probabilities


def predict_proba(trained, ds):
    """Per-sample region probabilities ``(n_times, 5)`` of a prepared series; NaN in data gaps."""
    scaler = DatasetScaler.from_state(trained.metadata.normalisation)
    return _probabilities(trained.config, trained.model, scaler, ds)


def _postprocess(post, ds, probabilities):
    """Regions after the validation-chosen post-processing ``post`` (a model's ``metadata.postprocessing``),
    and the crossings read from them with their ``score`` (:func:`~planetml_lib.evaluate.crossings.crossing_scores`)."""
    regions = regions_from_probabilities(probabilities, post["class_weights"], post["prior_correction"],
                                         post["smooth_window"])
    orbit = ds["orbit"].values if "orbit" in ds.coords else None
    crossings = extract_crossings(regions, ds["time"].values, orbit=orbit)
    return regions, crossings.assign(score=crossing_scores(crossings, ds["time"].values, probabilities))


def predict(trained, data):
    """A :class:`Detection`: post-processed per-sample regions (int8, -1 in gaps) and the per-orbit inbound
    and outbound bow-shock and magnetopause crossings (events) read from them, each with a ``score``:
    the highest probability the model gave the boundary layer (SK or MP) within the crossing.

    ``data``: a Dataset (raw or prepared) or an :class:`~planetml_lib.io.orbit_stream.OrbitStream` from
    :func:`read_input`, taken orbit by orbit (:func:`_orbit_parts`) in runs of consecutive orbits
    (:func:`_runs`), each prepared (:func:`_prepared`), labelled and reduced to its regions and crossings,
    so memory stays flat over years of files. ``values`` hold the runs' grids one after the other (time
    without data between runs left out). Warnings come once, after the last orbit (:func:`_report`);
    a bar over the orbits shows with ``config.progress`` on a terminal.
    """
    config = trained.config
    scaler = DatasetScaler.from_state(trained.metadata.normalisation)
    quiet = dataclasses.replace(config, progress=False)  # one bar, over orbits, not one over each run's batches
    parts, total = _orbit_parts(data, config.cadence)
    times, regions, crossings, notes = [], [], [], []
    with tqdm(total=total, desc="orbits", unit="orbit", disable=not config.progress or None) as bar:
        for run, n_orbits in _runs(parts):
            ds, note = _prepared(run, config)
            notes.append(note)
            if ds is not None:
                run_regions, run_crossings = _postprocess(trained.metadata.postprocessing, ds,
                                                         _probabilities(quiet, trained.model, scaler, ds))
                times.append(ds["time"].values)
                regions.append(run_regions.astype(np.int8))
                crossings.append(run_crossings)
            bar.update(n_orbits)
    _report(data.attrs.get("source", "the data"), notes, config)
    return Detection(xr.DataArray(np.concatenate(regions), coords={"time": np.concatenate(times)}, dims="time",
                                  name="predicted_region"),
                     pd.concat(crossings, ignore_index=True).sort_values("start", kind="stable", ignore_index=True))


def _orbit_parts(data, cadence):
    """The orbits of ``data`` one by one, each bin of the model's grid whole in one orbit
    (:func:`~planetml_lib.io.orbit_stream.iter_orbits`), and how many (for a stream, an estimate).
    A Dataset without an ``orbit`` coordinate is numbered by the orbit table."""
    if isinstance(data, OrbitStream):
        return data.orbits(cadence), data.expected_orbits()
    if "orbit" not in data.coords:
        data = data.assign_coords(orbit=("time", orbit_numbers(data["time"].values)))
    parts = list(iter_orbits(data, cadence))
    return parts, len(parts)


def _runs(parts, max_orbits=10, max_gap="1h"):
    """Consecutive orbits of ``parts`` joined in runs of at most ``max_orbits``, a new run after a gap
    over ``max_gap``; yields ``(run, number of orbits)``.

    The field and the orbit run on across apoapsis, where one orbit ends, so a run is labelled as
    one series (as a short input always was); joining saves the fixed cost of each step, most of
    the time an orbit alone takes. A long gap ends a run, so no run fills more than ``max_gap`` of
    time without data, and orbits apart in time are labelled each on its own.
    """
    run = []
    for part in parts:
        if run and (len(run) == max_orbits
                    or part["time"].values[0] - run[-1]["time"].values[-1] > pd.Timedelta(max_gap)):
            yield xr.concat(run, "time", combine_attrs="override"), len(run)
            run = []
        run.append(part)
    if run:
        yield xr.concat(run, "time", combine_attrs="override"), len(run)


def _prepared(ds, config):
    """``ds`` prepared for the model and what preparing found, for :func:`_report`: the input's cadence
    (``step``), the spikes removed, the valid samples at the model's cadence and the samples with all the
    model's inputs (``usable``) of all (``samples``). None instead of the Dataset where fewer than two
    samples are valid at the model's cadence.

    Isolated spikes are removed first (:func:`_without_spikes`), then the samples are averaged onto the
    model's grid (through pandas: one vectorised pass, where xarray's resample loops over bins), checked
    to be in MSO (:func:`_check_frame`) and given their features (:func:`prepare`).
    """
    if VALID in ds:
        usable = int(ds[VALID].sum())
        return ds, {"step": pd.Timedelta(config.cadence), "spikes": 0, "valid": usable, "usable": usable,
                    "samples": ds.sizes["time"]}
    step = cadence_of(ds) if ds.sizes["time"] > 1 else pd.Timedelta(config.cadence)
    ds, spikes = _without_spikes(ds, step)
    table = ds.reset_coords().to_dataframe().resample(config.cadence).mean()
    note = {"step": step, "spikes": spikes, "valid": int(np.isfinite(table["bx"]).sum()), "usable": 0, "samples": 0}
    if note["valid"] < 2:
        return None, note
    averaged = xr.Dataset.from_dataframe(table.rename_axis("time")).assign_attrs(ds.attrs)
    for name in ds.data_vars:
        averaged[name].attrs = ds[name].attrs
    if "orbit" in ds.coords:
        averaged = averaged.set_coords("orbit")
    prepared = prepare(averaged, config)
    _check_frame(prepared)
    return prepared, {**note, "usable": int(prepared[VALID].sum()), "samples": prepared.sizes["time"]}


def _without_spikes(ds, step, coarsest="5s"):
    """``ds`` with the field of its isolated spikes (:func:`~planetml_lib.preprocess.mag_quality.isolated_spikes`)
    set to NaN, and how many there were. Only for input at ``coarsest`` or finer, where the field is resolved:
    at 10 s the test's 31 samples span five minutes of magnetosheath turbulence, in which it flags
    ordinary samples (0.16 % of the real digitised 10-s orbits of 2012)."""
    if step > pd.Timedelta(coarsest):
        return ds, 0
    field = ("bx", "by", "bz")
    spikes = isolated_spikes(np.column_stack([ds[name].values for name in field]))
    return ds.assign({name: ds[name].copy(data=np.where(spikes, np.nan, ds[name].values)) for name in field}), \
        int(spikes.sum())


def _check_frame(ds):
    """Refuse positions that look like MSM rather than MSO
    (:func:`~planetml_lib.preprocess.mag_quality.position_frame`): every feature built on the dipole
    would be wrong, with nothing to show it."""
    found = position_frame(np.stack([ds[name].values for name in ("bx", "by", "bz")]),
                           np.stack([ds[name].values for name in ("x_mso", "y_mso", "z_mso")]))
    if found.frame == "MSM":
        orbits = np.unique(ds["orbit"].values).astype(int) if "orbit" in ds.coords else []
        orbit = "" if not len(orbits) else f" (orbit {orbits[0]})" if len(orbits) == 1 else \
            f" (orbits {orbits[0]}-{orbits[-1]})"
        raise PlanetMLError(
            f"{ds.attrs.get('source', 'the data')}{orbit}: the positions look like MSM, not MSO: near periapsis "
            f"({found.n_samples} samples) the field is {found.misfit_mso_nt:.0f} nT from the planetary dipole with "
            f"them as given and {found.misfit_msm_nt:.0f} nT with them moved {DIPOLE_OFFSET_KM:g} km north (MSM to "
            f"MSO); give MSO positions (z_MSO = z_MSM + {DIPOLE_OFFSET_KM:g} km)")


def _report(source, notes, config):
    """Once for all the orbits of an input (``notes`` from :func:`_prepared`): refuse it if no orbit has two
    valid samples at the model's cadence, else warn about the spikes removed and about input coarser than the model."""
    notes = pd.DataFrame(notes)
    if not (notes["valid"] >= 2).any():
        raise PlanetMLError(f"{source}: holds {int(notes['valid'].sum())} valid sample(s) at the model's cadence "
                            f"{config.cadence}; give at least two (a longer file)")
    if notes["spikes"].sum():
        warnings.warn(f"{source}: removed {int(notes['spikes'].sum())} isolated spike(s) of the field (samples far "
                      f"off the running median of their neighbours) before averaging to {config.cadence}",
                      stacklevel=3)
    _warn_if_coarser(source, notes["step"].max(), int(notes["usable"].sum()), int(notes["samples"].sum()), config)


def reference_crossings(ds):
    """Philpott et al. (2020) crossings of the orbits in ``ds``."""
    crossings = load_catalog("philpott2020")
    return crossings[crossings["orbit"].isin(np.unique(ds["orbit"].values))].reset_index(drop=True)


def evaluate(trained, data, allow_training_data=False):
    """Tidy metrics: per-sample region scores of the CNN+LSTM's own labels (the most likely region;
    level "sample") and of the post-processed labels (level "sample_postprocessed"), and the
    timing of the crossings read from the latter (level "crossing").

    Refuses orbits inside the model's training data unless ``allow_training_data``; the
    ``data`` column says what the scores are ("held-out", "validation" or "training").
    """
    role = guard_training_data(trained.metadata, data, allow_training_data)
    ds = prepare_for_model(data, trained.config)
    return scores_of(predict_proba(trained, ds), trained.metadata.postprocessing, ds,
                     trained.config.max_offset).assign(data=role)


def scores_of(probabilities, postprocessing, ds, max_offset):
    """The tidy metrics of :func:`evaluate` for per-sample ``probabilities`` of the prepared series
    ``ds`` under ``postprocessing`` (``class_weights``, ``prior_correction``, ``smooth_window``)."""
    regions, crossings = _postprocess(postprocessing, ds, probabilities)
    own = regions_from_probabilities(probabilities, postprocessing["class_weights"], 0.0, 1)
    truth, valid = ds[LABEL].values, ds[VALID].values
    return pd.concat([
        evaluate_multiclass(truth, own, list(REGIONS), valid=valid).assign(level="sample"),
        evaluate_multiclass(truth, regions, list(REGIONS), valid=valid).assign(level="sample_postprocessed"),
        evaluate_crossings(crossings, reference_crossings(ds), max_offset=max_offset).assign(level="crossing"),
    ], ignore_index=True)


def plot_results(trained, data):
    """Magnetogram with the true regions and the predicted regions coloured beneath it; the title says
    whether the data are real or SIMULATED."""
    regions, _ = predict(trained, data)
    return plot_regions(data, regions.values, title=f"MESSENGER orbit(s), {data_provenance(KIND, data)} data: true "
                                                    "regions (upper bar), predicted (lower bar)")


def _orbits(ds, orbits):
    """The samples of ``ds`` on the given orbits."""
    return ds.isel(time=np.flatnonzero(np.isin(ds["orbit"].values, list(orbits))))


def active_learning_curve(config, data, strategy="entropy", initial=4, per_round=4, n_rounds=4, epochs=None):
    """Macro F1 on the test orbits against the number of labelled training orbits. SIMULATED data.

    Starts from ``initial`` orbits of the training split drawn at random (seeded), trains a
    fresh model, then adds the ``per_round`` pool orbits with the highest mean predictive
    entropy (``strategy="entropy"``) or drawn at random (``"random"``). Early stopping
    uses the validation orbits; the test orbits only score.
    """
    def fit_fn(labelled):
        return fit_model(config, [_orbits(data["train"], labelled)], data["validation"], epochs=epochs)

    def predict_proba_fn(trained, orbits):
        return {k: predict_proba(trained, _orbits(data["train"], [k])) for k in orbits}

    def score_fn(trained):
        metrics = evaluate(trained, data["test"])
        return float(metrics.query("level == 'sample' and metric == 'F1' and `class` == 'macro'")["value"].item())

    pool = sorted(set(data["train"]["orbit"].values.tolist()))
    return run_active_learning(fit_fn, predict_proba_fn, score_fn, pool, initial, per_round, n_rounds,
                               strategy=strategy, random_state=config.seed)


def fit_rule_baseline(config, validation, windows_s=(60, 120, 300, 600), z_thresholds=(2, 3, 4, 5)):
    """The rule-based bow-shock labeller with its smoothing window and z-score threshold chosen
    on the validation orbits (highest detection rate within ``config.max_offset``, then the
    smallest median timing error). Windows too short for the data's cadence are left out.
    Returns ``(rules, grid)``."""
    truth = reference_crossings(validation)
    truth = truth[truth["label"].str.startswith("bow_shock")]
    rows = []
    for window_s in windows_s:
        for z_threshold in z_thresholds:
            rules = BowShockRules(["bx_ext", "by_ext", "bz_ext"], orbit_variable="orbit", window_s=window_s,
                                  z_threshold=z_threshold)
            try:
                predicted = rules.predict(validation)
            except PlanetMLError:  # the window holds too few samples at this cadence
                continue
            scores = evaluate_crossings(predicted, truth, max_offset=config.max_offset)
            overall = scores[scores["class"] == "all"].set_index("metric")["value"]
            rows.append({"window_s": window_s, "z_threshold": z_threshold,
                         "detection_rate": overall["detection_rate"],
                         "centre_error_s": overall["centre_abs_error_s_median"]})
    if not rows:
        raise PlanetMLError(f"no window in {windows_s} s holds enough samples at cadence {config.cadence}")
    grid = pd.DataFrame(rows)
    best = grid.sort_values(["detection_rate", "centre_error_s"], ascending=[False, True], kind="stable").iloc[0]
    return BowShockRules(["bx_ext", "by_ext", "bz_ext"], orbit_variable="orbit", window_s=float(best["window_s"]),
                         z_threshold=float(best["z_threshold"])), grid


def evaluate_rule_baseline(config, rules, ds):
    """Timing scores of the rule baseline's bow-shock crossings on ``ds`` against the Philpott list
    (tidy, as ``evaluate_crossings``)."""
    truth = reference_crossings(ds)
    return evaluate_crossings(rules.predict(ds), truth[truth["label"].str.startswith("bow_shock")],
                              max_offset=config.max_offset)


#: Field variables whose rolling statistics the tree baseline sees (positions vary too slowly to need them).
TREE_SUMMARISED = ("bx", "by", "bz", "b_mag", "bx_ext", "by_ext", "bz_ext")
#: The tree baseline's rolling windows in samples of the model's cadence (1, 5 and 15 minutes at 10 s).
TREE_WINDOWS = (6, 30, 90)


def fit_tree_baseline(config, train, validation, max_rows=300_000):
    """Gradient-boosted trees on rolling-window statistics of the network's inputs (the published
    random-forest approach to magnetospheric regions), fitted on ``max_rows`` samples of the training
    orbits drawn at random, with the network's post-processing grid chosen on the validation orbits.
    Returns the :class:`~planetml_lib.models.region_trees.RegionTrees` with ``postprocessing`` set."""
    windows = [f"{pd.Timedelta(config.cadence).total_seconds() * n:g}s" for n in TREE_WINDOWS]
    trees = RegionTrees(config.variables, windows, summarised=[v for v in config.variables if v in TREE_SUMMARISED],
                        max_rows=max_rows, random_state=config.seed).fit(train, label=LABEL, valid=VALID)
    labels = train[LABEL].values[train[VALID].values & np.isfinite(train[LABEL].values)].astype(int)
    weights = class_weights_from_labels(labels, len(REGIONS)).tolist()
    ds = prepare_for_model(validation, config)
    chosen, _ = choose_postprocessing_of(config, trees.predict_proba(ds, valid=VALID), weights, ds)
    trees.postprocessing = {"class_weights": weights, **chosen}
    return trees


def evaluate_tree_baseline(trees, ds, config):
    """The tidy metrics of :func:`evaluate` for the tree baseline on the prepared orbits ``ds``."""
    ds = prepare_for_model(ds, config)
    return scores_of(trees.predict_proba(ds, valid=VALID), trees.postprocessing, ds, config.max_offset)


__all__ = ["write_output"]
