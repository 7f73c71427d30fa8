"""Real products of the original Mercury surface-units pipeline (issue 21), and the check of its number of units.

The original pipeline (Europlanet machine-learning work package) embedded a 1x1 degree global cube of
MESSENGER MASCS reflectance spectra (55,399 cells; Zenodo record 7433033) in 2-D with UMAP and cut a
complete-linkage tree into 3 units, with no statistic for the number. Its real 2-D embedding and its ICA
reconstruction errors are shipped in ``planetml_lib/data/mercury_surface/`` (Apache-2.0; see the data
README); :func:`original_k_statistics` scores the number of clusters on that embedding.

Examples
--------
>>> load_original_embedding().shape
(55399, 2)
>>> load_original_ica_error()["n_components"].tolist()[:5]
[1, 2, 3, 4, 20]
"""

import numpy as np
import pandas as pd

from planetml_lib.datasets import DATA_DIR
from planetml_lib.evaluate.clustering import k_statistics

#: The original pipeline's 2-D UMAP embedding of the 55,399 cells, float32 in the file.
ORIGINAL_EMBEDDING = DATA_DIR / "mercury_surface" / "original_umap_embedding_55399x2.npy"
#: The original pipeline's ICA reconstruction error for each number of components.
ORIGINAL_ICA_ERROR = DATA_DIR / "mercury_surface" / "original_ica_reconstruction_error.csv"
#: Settings of :func:`original_k_statistics` (benchmark) and of its fast mode (notebooks, tests).
K_SETTINGS = {"full": {"ks": range(2, 13), "n_boot": 10, "subsample": 5000, "max_linkage_points": 15000},
              "fast": {"ks": range(2, 6), "n_boot": 3, "subsample": 3000, "max_linkage_points": 3000}}


def load_original_embedding():
    """The original UMAP embedding: float64 array of shape (55399, 2), one row per 1x1 degree cell."""
    return np.load(ORIGINAL_EMBEDDING, allow_pickle=False).astype(np.float64)


def load_original_ica_error():
    """The original ICA reconstruction error: columns ``n_components`` (int) and ``reconstruction_error``."""
    table = pd.read_csv(ORIGINAL_ICA_ERROR)
    table.columns = ["n_components", "reconstruction_error"]
    return table


def original_k_statistics(fast=False, methods=("complete", "kmeans"), seed=0):
    """:func:`~planetml_lib.evaluate.clustering.k_statistics` on the original embedding.

    Full: k = 2..12, 10 resamples (pairs) of 5,000 cells, complete linkage on 15,000 cells (minutes on two
    cores). Fast: k = 2..5, 3 resamples of 3,000 cells, linkage on 3,000 cells (seconds).
    """
    settings = K_SETTINGS["fast" if fast else "full"]
    return k_statistics(load_original_embedding(), methods=methods, seed=seed, **settings)
