"""Choosing the number of clusters honestly: labels by complete linkage, k-means or a Gaussian mixture,
statistics over k (silhouette, Davies-Bouldin, resampling stability), a named rule that picks k from
them, and a dendrogram computed from the data with the gaps between its merge heights.

The original Mercury surface-units pipeline cut a complete-linkage tree into 3 units with no statistic
for the number, and drew its dendrogram from the merge indices instead of the data; these functions
replace both.

Examples
--------
>>> from sklearn.datasets import make_blobs
>>> points, _ = make_blobs(400, centers=[[0, 0], [10, 0], [0, 10], [10, 10]], random_state=0)
>>> statistics = k_statistics(points, ks=range(2, 7), n_boot=3, subsample=200)
>>> choose_k(statistics, "kmeans"), choose_k(statistics, "complete")
(4, 4)
>>> gaps = merge_gaps(data_dendrogram(points)[0])
>>> int(gaps.loc[gaps["gap"].idxmax(), "k"])
4
"""

import warnings

import fastcluster
import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from tqdm.auto import tqdm

from planetml_lib.errors import PlanetMLError

#: Clustering methods of :func:`cluster_labels`.
METHODS = ("complete", "kmeans", "gmm")
#: Statistics of :func:`k_statistics`, in the order they are plotted.
METRICS = ("silhouette", "davies_bouldin", "stability")
#: A stability resample holds at most this fraction of the points (two whole copies would always agree).
MAX_RESAMPLE_FRACTION = 0.8


def _draw(n, size, seed):
    """Sorted indices of ``size`` of ``n`` points drawn without replacement (all of them if ``n <= size``)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def _by_size(labels):
    """Labels renumbered 0, 1, ... from the largest cluster to the smallest (ties: the lower old label first)."""
    values, counts = np.unique(labels, return_counts=True)
    lookup = np.empty(values.max() + 1, dtype=int)
    lookup[values[np.argsort(-counts, kind="stable")]] = np.arange(len(values))
    return lookup[labels]


def _linkage_cutter(points, seed, max_linkage_points):
    """A function ``k -> labels`` of every point: one complete-linkage tree on at most ``max_linkage_points``
    points drawn with ``seed``, cut into k clusters; every point takes the cluster of its nearest linked point."""
    linked = _draw(len(points), max_linkage_points, seed)
    tree = fastcluster.linkage(points[linked], method="complete")
    nearest = NearestNeighbors(n_neighbors=1).fit(points[linked]).kneighbors(points, return_distance=False)[:, 0]
    return lambda k: _by_size(fcluster(tree, k, criterion="maxclust")[nearest])


def _partitioner(points, method, seed, max_linkage_points):
    """A function ``k -> labels`` of ``points``: a complete-linkage tree built once and cut at any k, or a
    k-means or Gaussian-mixture fit per k."""
    if method == "complete":
        return _linkage_cutter(points, seed, max_linkage_points)
    if method == "kmeans":
        return lambda k: _by_size(KMeans(k, n_init=10, random_state=seed).fit_predict(points))
    if method == "gmm":
        return lambda k: _by_size(GaussianMixture(k, covariance_type="full", random_state=seed).fit_predict(points))
    raise PlanetMLError(f"unknown clustering method {method!r}; choose one of: {', '.join(METHODS)}")


def cluster_labels(points, k, method="complete", seed=0, max_linkage_points=15000):
    """Cluster ``points`` into ``k`` groups; labels 0..k-1 from the largest cluster to the smallest.

    ``"complete"`` is complete-linkage agglomerative clustering (``fastcluster.linkage``). Its distance
    matrix grows as n²/2 (55,399 points would need about 12 GB), so where there are more than
    ``max_linkage_points`` points the tree is built on that many drawn at random with ``seed``, cut into
    ``k`` clusters (fewer only where merge heights tie), and every other point joins the cluster of its
    nearest linked point (Euclidean). ``"kmeans"`` is scikit-learn's KMeans (``n_init=10``); ``"gmm"`` a
    Gaussian mixture with full covariances, each label its most probable component.

    Parameters
    ----------
    points : array of float, shape (n_points, n_dims)
        The points, e.g. a 2-D embedding of spectra.
    k : int
        Number of clusters.
    method : {"complete", "kmeans", "gmm"}
    seed : int
        Seed of the linkage subsample and of the k-means and mixture initialisations.
    max_linkage_points : int
        Most points a complete-linkage tree is built on.

    Returns
    -------
    labels : array of int, shape (n_points,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> points = np.concatenate([rng.normal(0, 1, (300, 2)), rng.normal(20, 1, (100, 2))])
    >>> np.bincount(cluster_labels(points, 2, max_linkage_points=50)).tolist()
    [300, 100]
    """
    return _partitioner(np.asarray(points, dtype=float), method, seed, max_linkage_points)(k)


def _k_rows(method, k, points, labels, draws, resampled):
    """Silhouette and Davies-Bouldin of ``labels`` on the first draw of each pair, and the adjusted Rand
    index between the two clusterings of each pair on the points both draws share; mean and std."""
    scores = {metric: [] for metric in METRICS}
    for first, second, cut_first, cut_second in zip(draws[::2], draws[1::2], resampled[::2], resampled[1::2],
                                                    strict=True):
        scores["silhouette"].append(silhouette_score(points[first], labels[first]))
        scores["davies_bouldin"].append(davies_bouldin_score(points[first], labels[first]))
        _, in_first, in_second = np.intersect1d(first, second, assume_unique=True, return_indices=True)
        scores["stability"].append(adjusted_rand_score(cut_first(k)[in_first], cut_second(k)[in_second]))
    return [{"method": method, "k": k, "metric": metric, "value": float(np.mean(values)),
             "spread": float(np.std(values))} for metric, values in scores.items()]


def k_statistics(points, ks=range(2, 13), methods=("complete", "kmeans"), n_boot=10, subsample=5000, seed=0,
                 max_linkage_points=15000, progress=True):
    """Silhouette, Davies-Bouldin index and resampling stability of each method at each number of clusters.

    For each method, all points are clustered once per k (:func:`cluster_labels`, the linkage on at most
    ``max_linkage_points`` points). ``silhouette`` and ``davies_bouldin`` score those labels on ``n_boot``
    random subsets of ``subsample`` points (the silhouette costs n²). ``stability`` follows Ben-Hur,
    Elisseeff & Guyon (2002) and Lange et al. (2004): ``n_boot`` pairs of subsets of ``subsample`` points
    (at most 80 % of the points, drawn without replacement) are each clustered on their own, and the adjusted
    Rand index compares the two clusterings on the points both subsets share; 1 means the same partition
    every time, near 0 no more agreement than chance. A complete-linkage tree is built once per data set
    and cut at every k.

    Parameters
    ----------
    points : array of float, shape (n_points, n_dims)
    ks : iterable of int
        Numbers of clusters to score.
    methods : sequence of str
        Methods of :func:`cluster_labels`.
    n_boot : int
        Number of subsets for the silhouette and Davies-Bouldin index, and of subset pairs for stability.
    subsample : int
        Points in each subset.
    seed : int
    max_linkage_points : int
        Passed to :func:`cluster_labels` for the clustering of all points.
    progress : bool
        A progress bar over (method, k) on a terminal or in a notebook.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``k``, ``metric`` (``silhouette``, ``davies_bouldin``, ``stability``),
        ``value`` (mean over the subsets) and ``spread`` (their standard deviation).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> points = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(10, 1, (200, 2))])
    >>> table = k_statistics(points, ks=[2, 3], methods=["kmeans"], n_boot=2, subsample=100)
    >>> round(float(table.set_index(["k", "metric"]).loc[(2, "stability"), "value"]), 2)
    1.0
    """
    points, ks = np.asarray(points, dtype=float), list(ks)
    size = min(subsample, int(MAX_RESAMPLE_FRACTION * len(points)))
    draws = [_draw(len(points), size, seed + 1 + i) for i in range(2 * n_boot)]
    rows = []
    with tqdm(total=len(methods) * len(ks), desc="k statistics", disable=None if progress else True) as bar:
        for method in methods:
            full = _partitioner(points, method, seed, max_linkage_points)
            resampled = [_partitioner(points[draw], method, seed + 1 + i, max_linkage_points)
                         for i, draw in enumerate(draws)]
            for k in ks:
                rows += _k_rows(method, k, points, full(k), draws, resampled)
                bar.update()
    return pd.DataFrame(rows, columns=["method", "k", "metric", "value", "spread"])


def choose_k(statistics, method, min_stability=0.8):
    """The number of clusters by a rule named before the scores are seen.

    Rule: among the k whose stability is at least ``min_stability``, the one with the highest silhouette
    (ties: the smaller k); if no k is that stable, the most stable k (ties: the smaller k), with a warning:
    then no partition is reproducible and the data may hold no clusters at all (stability cannot say k = 1),
    so that k is a fallback, not a finding.

    Parameters
    ----------
    statistics : pandas.DataFrame
        The table of :func:`k_statistics`.
    method : str
        The method whose rows to use.
    min_stability : float
        Lowest mean adjusted Rand index that counts as a reproducible partition.

    Returns
    -------
    int

    Examples
    --------
    >>> table = pd.DataFrame({"method": "kmeans", "k": [2, 2, 3, 3, 4, 4],
    ...                       "metric": ["silhouette", "stability"] * 3,
    ...                       "value": [0.5, 0.95, 0.6, 0.9, 0.7, 0.4]})
    >>> choose_k(table, "kmeans")
    3
    """
    rows = statistics[statistics["method"] == method]
    if rows.empty:
        raise PlanetMLError(f"no statistics of method {method!r}; methods: {', '.join(statistics['method'].unique())}")
    table = rows.pivot(index="k", columns="metric", values="value").sort_index()
    stable = table[table["stability"] >= min_stability]
    if len(stable):
        return int(stable["silhouette"].idxmax())
    best = int(table["stability"].idxmax())
    warnings.warn(f"{method}: no k reaches stability {min_stability} (highest {table['stability'].max():.2f} at "
                  f"k = {best}); returning that k, but no partition is reproducible", stacklevel=2)
    return best


def data_dendrogram(points, max_points=2000, seed=0):
    """A complete-linkage tree of the data (Euclidean distances between the points themselves).

    Parameters
    ----------
    points : array of float, shape (n_points, n_dims)
    max_points : int
        Most points in the tree; more are subsampled at random with ``seed``.
    seed : int

    Returns
    -------
    linkage : array of float, shape (n_linked - 1, 4)
        SciPy's linkage matrix (merged clusters, merge height, size).
    indices : array of int, shape (n_linked,)
        Rows of ``points`` in the tree, sorted.

    Examples
    --------
    >>> linkage, indices = data_dendrogram(np.random.default_rng(0).normal(size=(50, 2)), max_points=20)
    >>> linkage.shape, indices.shape
    ((19, 4), (20,))
    """
    points = np.asarray(points, dtype=float)
    indices = _draw(len(points), max_points, seed)
    return fastcluster.linkage(points[indices], method="complete"), indices


def merge_gaps(linkage, top=12):
    """Merge heights of the last merges of a tree and the gap each leaves below it.

    Row k gives ``height``, the merge height at which k clusters become k - 1, and ``gap``, how much higher
    it is than the merge before it (k + 1 to k clusters): the range of cut heights that leave exactly k
    clusters. A large gap means k clusters that stay apart over a wide range of heights.

    Parameters
    ----------
    linkage : array of float, shape (n - 1, 4)
        A linkage matrix with monotonic heights (complete linkage), e.g. from :func:`data_dendrogram`.
    top : int
        Number of rows: k = 2 .. top + 1 (fewer for a tree of few points).

    Returns
    -------
    pandas.DataFrame
        Columns ``k``, ``height``, ``gap``.

    Examples
    --------
    >>> tree = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 9.0, 4]])
    >>> merge_gaps(tree).to_dict("list")
    {'k': [2, 3], 'height': [9.0, 1.5], 'gap': [7.5, 0.5]}
    """
    heights = np.asarray(linkage, dtype=float)[:, 2]
    n = len(heights) + 1
    ks = np.arange(2, min(top + 1, n - 1) + 1)
    return pd.DataFrame({"k": ks, "height": heights[n - ks], "gap": heights[n - ks] - heights[n - ks - 1]})
