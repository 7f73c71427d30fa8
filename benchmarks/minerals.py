"""Minerals from RELAB spectra and asteroid taxonomy: cross-validation grouped by physical sample.

1. Grouped CV on the 536 labelled RELAB spectra: 5 folds grouped by physical sample (spectra of one
   sample never on both sides; ``physical_sample_groups``), repeated with 2 shuffles of the groups,
   the same folds for every model: the original pipeline (PCA inside the folds + random forest), the
   physics baseline (forest on band parameters), spectral-angle matching, and the 1-D CNN ensemble
   of ``minerals.Config()`` (early stopping on 15 % of each training fold's samples). Every figure
   is the mean and standard deviation over the 10 test folds. Settings are the original's (20
   components, 300 trees), fixed beforehand (5 neighbours) or the case's defaults: nothing is tuned
   on test folds.
2. The CNN ensemble trained on ``minerals.Config()``'s splits, scored once on its test samples;
   ``--ship`` writes it as the shipped model.
3. Asteroid taxonomy (Bus-DeMeo classes and complexes with at least 5 asteroids): stratified 5-fold
   CV grouped by asteroid, repeated twice; accuracy and Cohen's kappa.
4. Time to predict 10,000 spectra on the CPU, per model.

Prints the figures and writes ``benchmarks/results/minerals.json``.

Run: ``.venv/bin/python benchmarks/minerals.py [--fast] [--ship]``
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from planetml_lib.cases import asteroid_taxonomy, minerals
from planetml_lib.evaluate.minerals import mineral_scores
from planetml_lib.models.spectral_baselines import angle_neighbours, band_forest, pca_forest
from planetml_lib.preprocess.mineralogy import mineral_targets, physical_sample_groups

RESULTS = Path(__file__).parent / "results" / "minerals.json"
CNN = "spectranet1d ensemble (minerals.Config)"
HEADLINE = ("exact_match/all", "F1_micro/all", "F1_macro/all", "RMSE_pp/OL_vol", "RMSE_pp/OPX_vol", "RMSE_pp/CPX_vol",
            "RMSE_pp/PLG_vol", "RMSE_pp/mean_vol")


def baselines(wavelength, fast):
    trees = 20 if fast else 300
    return {"pca_forest (original, PCA inside the folds)": lambda: pca_forest(n_estimators=trees),
            "band_forest (band centres, depths, areas, BAR)": lambda: band_forest(wavelength, n_estimators=trees),
            "spectral_angle_neighbours (k=5)": lambda: angle_neighbours(k=5)}


def baseline_fold(make_model):
    """``fold(train, test) -> tidy scores`` of a scikit-learn baseline."""
    def fold(train, test):
        model = make_model().fit(train["reflectance"].values, mineral_targets(train))
        return mineral_scores(mineral_targets(test), model.predict(test["reflectance"].values))
    return fold


def cnn_fold(config):
    """``fold(train, test) -> tidy scores`` of the ensemble, early-stopped on 15 % of the training samples."""
    def fold(train, test):
        groups = physical_sample_groups(train)
        fit, stop = next(GroupShuffleSplit(1, test_size=0.15, random_state=config.split_seed)
                         .split(groups, groups=groups))
        data = {"train": train.isel(sample=fit), "validation": train.isel(sample=stop), "test": test}
        trained = minerals.train(config, data)
        return minerals.evaluate(trained, test).drop(columns=["level", "data"])
    return fold


def grouped_cv(fold, spectra, repeats, folds=5):
    """Tidy scores of every test fold (columns ``repeat`` and ``fold`` added); the folds depend only on
    the repeat number, so every model sees the same ones."""
    groups = physical_sample_groups(spectra)
    tables = []
    for repeat in range(repeats):
        splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=repeat)
        for number, (train, test) in enumerate(splitter.split(groups, groups=groups)):
            assert not set(groups[train]) & set(groups[test])
            scores = fold(spectra.isel(sample=train), spectra.isel(sample=test))
            tables.append(scores.assign(repeat=repeat, fold=number))
    return pd.concat(tables, ignore_index=True)


def summary(scores):
    """``{"<metric>/<class>": {"mean", "std"}}`` over the folds."""
    grouped = scores.groupby(["metric", "class"])["value"]
    means, stds = grouped.mean(), grouped.std()
    return {f"{metric}/{cls}": {"mean": float(means[(metric, cls)]), "std": float(stds[(metric, cls)])}
            for metric, cls in means.index}


def seconds_for(predict, n=10_000):
    """Seconds ``predict(n)`` takes (median of 3)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        predict(n)
        times.append(time.perf_counter() - start)
    return sorted(times)[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="tiny models and one repeat, to check that the script runs")
    parser.add_argument("--ship", action="store_true", help="also write the shipped model folder")
    args = parser.parse_args()
    torch.set_num_threads(min(torch.get_num_threads(), 2))
    config = minerals.Config.fast() if args.fast else minerals.Config(progress=False)
    repeats = 1 if args.fast else 2
    spectra = minerals.labelled_spectra()
    groups = physical_sample_groups(spectra)
    results = {"what": "RELAB spectra (450-2450 nm, normalised at 550 nm): 5-fold CV grouped by physical sample, "
                       f"repeated {repeats} times, same folds for every model; mean and std over the test folds",
               "n_spectra": int(spectra.sizes["sample"]), "n_physical_samples": int(groups.max() + 1),
               "presence_from_volume_fraction": 0.05,
               "machine": {"platform": platform.platform(), "torch_threads": torch.get_num_threads()},
               "config": "fast" if args.fast else "default", "grouped_cv": {}}
    folds = {name: baseline_fold(make) for name, make in baselines(spectra["wavelength"].values, args.fast).items()}
    folds[CNN] = cnn_fold(config)
    for name, fold in folds.items():
        start = time.perf_counter()
        scores = summary(grouped_cv(fold, spectra, repeats))
        results["grouped_cv"][name] = {"seconds": time.perf_counter() - start, "scores": scores}
        print(name, json.dumps({k: round(scores[k]["mean"], 3) for k in HEADLINE}), flush=True)

    data = minerals.load_data(config)
    trained = minerals.train(config, data)
    test = minerals.evaluate(trained, data["test"])
    results["heldout_test_split"] = {
        "what": "the model of minerals.Config() trained on its train split, early-stopped on its validation "
                "split, scored once on its test split (physical samples in no other split)",
        "n_spectra": {name: int(ds.sizes["sample"]) for name, ds in data.items()},
        "training": trained.metadata.training, "validation": trained.metadata.metrics["validation"],
        "test": {f"{row.metric}/{row['class']}": float(row.value) for _, row in test.iterrows()}}
    print("held-out test split", json.dumps({k: round(results["heldout_test_split"]["test"][k], 3)
                                             for k in HEADLINE}), flush=True)
    if args.ship:
        trained.save(minerals.SHIPPED_MODELS["spectra"])

    X = spectra["reflectance"].values
    many = spectra.isel(sample=np.resize(np.arange(len(X)), 10_000))
    speed = {CNN: seconds_for(lambda n: minerals.predict(trained, many))}
    for name, make in baselines(spectra["wavelength"].values, args.fast).items():
        model = make().fit(X, mineral_targets(spectra))
        speed[name] = seconds_for(lambda n, model=model: model.predict(many["reflectance"].values))
    results["predict_10000_spectra_seconds"] = speed
    print("predict 10,000 spectra (s)", json.dumps({k: round(v, 2) for k, v in speed.items()}), flush=True)

    results["asteroid_taxonomy"] = {}
    for level in asteroid_taxonomy.LEVELS:
        asteroids = asteroid_taxonomy.load_asteroids(level)
        scores = asteroid_taxonomy.taxonomy_scores(asteroid_taxonomy.cross_validated(asteroids, repeats=repeats))
        results["asteroid_taxonomy"][level] = {"n_asteroids": int(asteroids.sizes["sample"]),
                                               "n_classes": int(len(set(asteroids["taxonomy"].values))),
                                               "scores": summary(scores)}
        print("taxonomy", level, json.dumps({k: round(v["mean"], 3)
                                             for k, v in results["asteroid_taxonomy"][level]["scores"].items()}))
    if not args.fast:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
