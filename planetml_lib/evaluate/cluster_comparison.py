"""Clustering methods side by side on one set of points: complete linkage, k-means and a Gaussian mixture
at a given k, and HDBSCAN, which finds its own number of clusters and leaves some points as noise.

Examples
--------
>>> from sklearn.datasets import make_blobs
>>> points, truth = make_blobs(600, centers=[[0, 0], [10, 0], [0, 10]], random_state=0)
>>> table, _ = compare_clusterings(points, 3, truth=truth)
>>> table.set_index("method")["n_clusters"].to_dict()
{'complete': 3, 'kmeans': 3, 'gmm': 3, 'hdbscan': 3}
>>> bool((table["adjusted_rand"] > 0.95).all())
True
"""

import numpy as np
import pandas as pd
from sklearn.cluster import HDBSCAN
from sklearn.metrics import adjusted_rand_score, silhouette_score

from planetml_lib.evaluate.clustering import METHODS, cluster_labels


def density_clusters(points, min_cluster_size=None):
    """HDBSCAN labels of ``points`` (-1: noise); ``min_cluster_size`` defaults to 1 % of the points (at least 10)."""
    size = min_cluster_size or max(10, len(points) // 100)
    return HDBSCAN(min_cluster_size=size, copy=True).fit_predict(points)


def _row(method, points, labels, truth, subsample, seed):
    clustered = labels >= 0
    row = {"method": method, "n_clusters": int(len(np.unique(labels[clustered]))),
           "noise_fraction": round(float(1 - clustered.mean()), 4)}
    if row["n_clusters"] > 1:
        row["silhouette"] = float(silhouette_score(points[clustered], labels[clustered],
                                                   sample_size=min(subsample, int(clustered.sum())),
                                                   random_state=seed))
    if truth is not None:  # noise points count as one more cluster: a method is not rewarded for leaving points out
        row["adjusted_rand"] = float(adjusted_rand_score(truth, labels))
    return row


def compare_clusterings(points, k, truth=None, seed=0, min_cluster_size=None, subsample=5000):
    """Every method's clusters of ``points (n, d)`` with their statistics.

    Returns a table with ``method``, ``n_clusters``, ``noise_fraction``, ``silhouette`` (on at most
    ``subsample`` clustered points) and, given ``truth`` labels, ``adjusted_rand``; and the labels of each
    method (``{method: labels}``).
    """
    points = np.asarray(points, dtype=float)
    labels = {method: cluster_labels(points, k, method, seed=seed) for method in METHODS}
    labels["hdbscan"] = density_clusters(points, min_cluster_size)
    table = pd.DataFrame([_row(method, points, found, truth, subsample, seed) for method, found in labels.items()])
    return table, labels
