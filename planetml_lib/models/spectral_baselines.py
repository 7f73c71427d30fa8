"""Baselines for minerals from spectra: scikit-learn estimators on prepared spectra ``(n, wavelength)``.

* :func:`pca_forest`: the original pipeline (20 PCA components, random forest), with the PCA
  inside the pipeline so it is fitted on the training fold only;
* :func:`band_forest`: the physics baseline, a random forest on the band parameters
  (:mod:`planetml_lib.preprocess.bands`: centres, depths, areas, band area ratio);
* :func:`angle_neighbours`: spectral-angle matching, the abundances of the training spectra
  at the smallest spectral angles (cosine distance ranks neighbours as the angle does).

:class:`MineralModel` (what each returns) fits one estimator to the volume fractions (renormalised
to sum to 1) and one per chemistry target, each on the spectra where that target is known.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline

from planetml_lib.preprocess.bands import band_parameters
from planetml_lib.preprocess.mineralogy import CHEMISTRY, VOLUMES, presence


class BandParameters(BaseEstimator, TransformerMixin):
    """Spectra ``(n, len(wavelength))`` to their band parameters ``(n, 7)``."""

    def __init__(self, wavelength=None):
        self.wavelength = wavelength

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        ds = xr.Dataset({"reflectance": (("sample", "wavelength"), np.asarray(X, dtype=float))},
                        coords={"wavelength": np.asarray(self.wavelength, dtype=float)})
        return band_parameters(ds).fillna(0.0).to_numpy()


def pca_forest(n_components=20, n_estimators=300, seed=0):
    """The original pipeline: PCA then a random forest (PCA fitted inside each training fold)."""
    return MineralModel(make_pipeline(PCA(n_components=n_components, random_state=seed),
                                      RandomForestRegressor(n_estimators=n_estimators, random_state=seed, n_jobs=-1)))


def band_forest(wavelength, n_estimators=300, seed=0):
    """The physics baseline: a random forest on the band parameters (computed once per spectrum)."""
    return MineralModel(RandomForestRegressor(n_estimators=n_estimators, random_state=seed, n_jobs=-1),
                        features=BandParameters(wavelength))


def angle_neighbours(k=5):
    """Spectral-angle matching: the distance-weighted mean of the ``k`` nearest training spectra."""
    return MineralModel(KNeighborsRegressor(n_neighbors=k, metric="cosine", weights="distance", algorithm="brute"))


@dataclass
class MineralModel:
    """Volumes and chemistry from one estimator recipe, on ``features`` of the spectra (the spectra
    themselves if None); ``predict`` returns a frame in the targets' names."""

    estimator: BaseEstimator
    features: TransformerMixin | None = None
    fitted: dict = field(default_factory=dict)

    def _features(self, X):
        return X if self.features is None else self.features.transform(X)

    def fit(self, X, targets: pd.DataFrame):
        X = self._features(X)
        known = targets[list(VOLUMES)].notna().all(axis=1).to_numpy()
        self.fitted = {"volumes": clone(self.estimator).fit(X[known], targets.loc[known, list(VOLUMES)].to_numpy())}
        for name in CHEMISTRY:
            rows = targets[name].notna().to_numpy()
            if rows.sum() >= 2:
                self.fitted[name] = clone(self.estimator).fit(X[rows], targets.loc[rows, name].to_numpy())
        return self

    def predict(self, X) -> pd.DataFrame:
        X = self._features(X)
        volumes = np.clip(self.fitted["volumes"].predict(X), 0.0, None)
        volumes = volumes / np.where(volumes.sum(axis=1, keepdims=True) > 0, volumes.sum(axis=1, keepdims=True), 1.0)
        out = pd.DataFrame(volumes, columns=list(VOLUMES))
        out = out.join(presence(out))
        for name in CHEMISTRY:
            out[name] = self.fitted[name].predict(X) if name in self.fitted else np.nan
        return out
