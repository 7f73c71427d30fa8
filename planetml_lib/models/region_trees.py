"""Gradient-boosted trees on rolling-window statistics: a per-sample baseline for region labelling.

The question a sequence network (such as the CNN+LSTM of Mercury's regions) must answer is
whether a tree ensemble that sees each sample with the statistics of the minutes around it
(:func:`~planetml_lib.preprocess.rolling_statistics.rolling_statistics`) does as well; random
forests on such statistics are the published baseline for magnetospheric regions.
"""

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.rolling_statistics import WINDOWS, rolling_statistics

#: Classifier settings unless overridden. Small: 63 bins and 100 rounds at a learning rate of 0.2 score as
#: 255 bins and 200 rounds at 0.1 on the simulated Mercury orbits, in under half the time.
#: class_weight="balanced" so that the short crossing intervals count as much as the regions.
DEFAULTS = {"learning_rate": 0.2, "max_iter": 100, "max_bins": 63, "max_leaf_nodes": 31, "min_samples_leaf": 40,
            "class_weight": "balanced", "early_stopping": True, "validation_fraction": 0.1,
            "n_iter_no_change": 10, "random_state": 0}
#: Rows drawn for fitting unless told: the 10-s samples of an orbit are much alike, and fitting time grows with rows.
MAX_ROWS = 300_000


class RegionTrees:
    """Per-sample region probabilities from ``HistGradientBoostingClassifier`` on rolling statistics.

    Parameters
    ----------
    variables : sequence of str
        Input variables, each used raw.
    windows : sequence of str
        Rolling windows (pandas offsets), computed within each orbit.
    n_classes : int
        Number of regions; labels are ``0 .. n_classes - 1``.
    summarised : sequence of str or None
        The variables whose rolling statistics are features too (None: all of ``variables``);
        smooth ones, such as positions along the orbit, add little but fitting time.
    max_rows : int or None
        Fit on at most this many valid rows, drawn at random with ``random_state`` (None: all).
    **options
        ``HistGradientBoostingClassifier`` keywords, over :data:`DEFAULTS`.
    """

    def __init__(self, variables, windows=WINDOWS, n_classes=5, summarised=None, max_rows=MAX_ROWS, **options):
        self.variables = tuple(variables)
        self.windows = tuple(windows)
        self.summarised = self.variables if summarised is None else tuple(summarised)
        self.n_classes = n_classes
        self.max_rows = max_rows
        self.classifier = HistGradientBoostingClassifier(**(DEFAULTS | options))

    def features(self, ds):
        """The feature table of ``ds``, one row per time (NaN where data are missing)."""
        table = rolling_statistics(ds, self.summarised, self.windows)
        return table.assign(**{name: ds[name].values for name in self.variables if name not in table})

    def fit(self, ds, label="region", valid="valid"):
        """Fit on the rows of ``ds`` where ``valid`` is True and ``label`` is known; return self."""
        y = ds[label].values.astype(float)
        rows = np.flatnonzero(ds[valid].values.astype(bool) & np.isfinite(y))
        if rows.size == 0:
            raise PlanetMLError(f"no rows with {valid!r} True and a {label!r} to fit on")
        if np.any((y[rows] < 0) | (y[rows] >= self.n_classes)):
            raise PlanetMLError(f"{label!r} holds values outside the classes 0..{self.n_classes - 1}")
        if self.max_rows is not None and rows.size > self.max_rows:
            seed = self.classifier.get_params()["random_state"]
            rows = np.sort(np.random.default_rng(seed).choice(rows, self.max_rows, replace=False))
        self.classifier.fit(self.features(ds).iloc[rows], y[rows].astype(int))
        return self

    def predict_proba(self, ds, valid="valid"):
        """Region probabilities ``(n_times, n_classes)``; NaN rows where ``valid`` is False.

        Classes absent from the training rows get probability 0.
        """
        keep = ds[valid].values.astype(bool)
        probabilities = np.full((ds.sizes["time"], self.n_classes), np.nan)
        if keep.any():
            known = np.zeros((keep.sum(), self.n_classes))
            known[:, self.classifier.classes_] = self.classifier.predict_proba(self.features(ds)[keep])
            probabilities[keep] = known
        return probabilities
