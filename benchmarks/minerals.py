"""Minerals from RELAB spectra: the baselines under cross-validation grouped by physical sample.

Each model is scored by 5-fold cross-validation grouped by physical sample (spectra of one sample
never on both sides; ``physical_sample_groups``), repeated with 3 shuffles of the groups; every
figure is the mean and standard deviation over the 15 test folds. The models' settings are the
original pipeline's (20 PCA components, 300 trees) or fixed beforehand (5 neighbours): nothing is
tuned on the test folds. Also times the prediction of 10,000 spectra. Prints the figures and writes
``benchmarks/results/minerals.json``.

Run: ``.venv/bin/python benchmarks/minerals.py [--fast]``
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from planetml_lib.datasets import DATA_DIR
from planetml_lib.evaluate.minerals import mineral_scores
from planetml_lib.io.spectra import read_spectra_csv
from planetml_lib.models.spectral_baselines import MineralModel, angle_neighbours, band_forest, pca_forest
from planetml_lib.preprocess.minerals import mineral_targets, physical_sample_groups
from planetml_lib.preprocess.spectra import prepare_spectra

RESULTS = Path(__file__).parent / "results" / "minerals.json"
RELAB = DATA_DIR / "minerals" / "relab_mineral_spectra_450-2450nm.csv.gz"


def models(wavelength, fast):
    trees = 20 if fast else 300
    return {"pca_forest (original, PCA inside the folds)": lambda: pca_forest(n_estimators=trees),
            "band_forest (band centres, depths, areas, BAR)": lambda: band_forest(wavelength, n_estimators=trees),
            "spectral_angle_neighbours (k=5)": lambda: angle_neighbours(k=5)}


def grouped_cv(make_estimator, X, targets, groups, repeats, folds=5):
    """Tidy scores of every test fold, with columns ``repeat`` and ``fold``."""
    tables = []
    for repeat in range(repeats):
        splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=repeat)
        for fold, (train, test) in enumerate(splitter.split(X, groups=groups)):
            assert not set(groups[train]) & set(groups[test])
            model = MineralModel(make_estimator()).fit(X[train], targets.iloc[train])
            scores = mineral_scores(targets.iloc[test], model.predict(X[test]))
            tables.append(scores.assign(repeat=repeat, fold=fold))
    return pd.concat(tables, ignore_index=True)


def summary(scores):
    """``{"<metric>/<class>": {"mean", "std"}}`` over the folds."""
    grouped = scores.groupby(["metric", "class"])["value"]
    return {f"{metric}/{cls}": {"mean": float(mean), "std": float(std)}
            for (metric, cls), mean, std in zip(grouped.mean().index, grouped.mean(), grouped.std(), strict=True)}


def prediction_seconds(make_estimator, X, targets, n=10_000):
    model = MineralModel(make_estimator()).fit(X, targets)
    many = np.resize(X, (n, X.shape[1]))
    start = time.perf_counter()
    model.predict(many)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="few trees and one repeat, to check that the script runs")
    args = parser.parse_args()
    spectra = prepare_spectra(read_spectra_csv(RELAB))
    targets = mineral_targets(spectra)
    keep = targets[["OL_vol", "OPX_vol", "CPX_vol", "PLG_vol"]].notna().all(axis=1).to_numpy()
    spectra, targets = spectra.isel(sample=keep), targets[keep].reset_index(drop=True)
    X, groups = spectra["reflectance"].values, physical_sample_groups(spectra)
    results = {"what": "RELAB spectra (450-2450 nm, normalised at 550 nm): 5-fold CV grouped by physical sample, "
                       "repeated; mean and std over the test folds",
               "n_spectra": int(len(X)), "n_physical_samples": int(groups.max() + 1),
               "machine": {"platform": platform.platform()}, "config": "fast" if args.fast else "default",
               "models": {}}
    for name, make in models(spectra["wavelength"].values, args.fast).items():
        start = time.perf_counter()
        scores = grouped_cv(make, X, targets, groups, repeats=1 if args.fast else 3)
        results["models"][name] = {"cv_seconds": time.perf_counter() - start, "scores": summary(scores),
                                   "predict_10000_spectra_seconds": prediction_seconds(make, X, targets)}
        headline = {k: round(v["mean"], 3) for k, v in results["models"][name]["scores"].items()
                    if k.split("/")[0] in ("exact_match", "F1_micro", "F1_macro") or k.endswith("_vol")}
        print(name, json.dumps(headline), flush=True)
    if not args.fast:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
