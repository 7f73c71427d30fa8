"""Bus-DeMeo taxonomy of asteroids from their reflectance spectra, beside the minerals case.

The 591 asteroid spectra shipped in ``planetml_lib/data/minerals`` (one per asteroid) are put
on the minerals grid and normalised at 550 nm like the laboratory spectra. The classifier is
a standardisation, 20 principal components and a multinomial logistic regression, fitted
inside each fold; it is scored by stratified 5-fold cross-validation grouped by asteroid,
on classes (``level="class"``: S, Sq, C, ...) or complexes (``level="complex"``: the first
letter). Classes with fewer than ``min_members`` asteroids are left out (the scores say how
many were kept).
"""

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, cohen_kappa_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.classes import to_metrics_frame
from planetml_lib.io.spectra import read_spectra_csv
from planetml_lib.preprocess.spectra import prepare_spectra

ASTEROIDS = DATA_DIR / "minerals" / "asteroid_spectra_busdemeo_450-2450nm.csv.gz"
LEVELS = ("class", "complex")


def load_asteroids(level="class", min_members=5):
    """Prepared asteroid spectra with a ``taxonomy`` coordinate at ``level``, rare classes left out."""
    if level not in LEVELS:
        raise PlanetMLError(f"unknown taxonomy level {level!r}; choose one of {LEVELS}")
    spectra = prepare_spectra(read_spectra_csv(ASTEROIDS))
    classes = spectra["taxonomy_class"].values.astype(str)
    labels = np.array([c[0] for c in classes]) if level == "complex" else classes
    counts = pd.Series(labels).value_counts()
    keep = np.isin(labels, counts[counts >= min_members].index)
    return spectra.assign_coords(taxonomy=("sample", labels)).isel(sample=np.flatnonzero(keep))


def taxonomy_model(n_components=20, seed=0):
    """Standardise, project on ``n_components`` principal components, multinomial logistic regression."""
    return make_pipeline(StandardScaler(), PCA(n_components=n_components, random_state=seed),
                         LogisticRegression(max_iter=2000))


def cross_validated(spectra, folds=5, repeats=1):
    """Out-of-fold predictions, grouped by asteroid: a frame with ``asteroid_number``, ``true``,
    ``predicted``, ``repeat`` and ``fold``."""
    X, y = spectra["reflectance"].values, spectra["taxonomy"].values
    groups = spectra["asteroid_number"].values
    frames = []
    for repeat in range(repeats):
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=repeat)
        for fold, (train, test) in enumerate(splitter.split(X, y, groups)):
            predicted = taxonomy_model().fit(X[train], y[train]).predict(X[test])
            frames.append(pd.DataFrame({"asteroid_number": groups[test], "true": y[test], "predicted": predicted,
                                        "repeat": repeat, "fold": fold}))
    return pd.concat(frames, ignore_index=True)


def taxonomy_scores(predictions):
    """Accuracy and Cohen's kappa per fold: tidy metrics with ``repeat`` and ``fold`` columns."""
    frames = [to_metrics_frame({"accuracy": accuracy_score(part["true"], part["predicted"]),
                                "kappa": cohen_kappa_score(part["true"], part["predicted"]),
                                "n_asteroids": len(part)}, "all").assign(repeat=repeat, fold=fold)
              for (repeat, fold), part in predictions.groupby(["repeat", "fold"])]
    return pd.concat(frames, ignore_index=True)
