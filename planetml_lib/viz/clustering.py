"""Figures for choosing a number of clusters: the statistics over k, and a dendrogram of the data with the
gaps between its last merge heights.

Every function returns a :class:`matplotlib.figure.Figure` made without pyplot and never calls ``show()``.
"""

from matplotlib.figure import Figure
from scipy.cluster.hierarchy import dendrogram

from planetml_lib.evaluate.clustering import METRICS, choose_k, merge_gaps

TITLES = {"silhouette": "silhouette (higher: better separated)",
          "davies_bouldin": "Davies-Bouldin (lower: better separated)",
          "stability": "stability: mean ARI of resamples"}


def plot_k_statistics(statistics, min_stability=0.8, title=None):
    """One panel per statistic against k, a line per method with a band of ± one spread, and each method's k
    chosen by :func:`~planetml_lib.evaluate.clustering.choose_k` as a dashed line.

    Parameters
    ----------
    statistics : pandas.DataFrame
        The table of :func:`~planetml_lib.evaluate.clustering.k_statistics`.
    min_stability : float
        The rule's stability threshold, drawn on the stability panel.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"method": "kmeans", "k": [2, 2, 2, 3, 3, 3], "metric": list(METRICS) * 2,
    ...                       "value": [0.5, 0.7, 0.95, 0.6, 0.6, 0.9], "spread": 0.02})
    >>> len(plot_k_statistics(table).axes)
    3
    """
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, len(METRICS), sharex=True)
    for number, (method, rows) in enumerate(statistics.groupby("method", sort=False)):
        chosen = choose_k(statistics, method, min_stability)
        for ax, metric in zip(axes, METRICS, strict=True):
            curve = rows[rows["metric"] == metric].sort_values("k")
            ax.plot(curve["k"], curve["value"], "o-", color=f"C{number}", label=f"{method}: k = {chosen}")
            ax.fill_between(curve["k"], curve["value"] - curve["spread"], curve["value"] + curve["spread"],
                            color=f"C{number}", alpha=0.2, linewidth=0)
            ax.axvline(chosen, color=f"C{number}", linestyle="--", linewidth=1)
    for ax, metric in zip(axes, METRICS, strict=True):
        ax.set_title(TITLES[metric], fontsize="medium")
        ax.set_xlabel("number of clusters k")
    axes[-1].axhline(min_stability, color="grey", linestyle=":", linewidth=1)
    axes[0].legend(title="chosen (dashed)", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def plot_dendrogram(linkage, top=12, n_leaves=30, title="Complete-linkage tree of the data"):
    """The last merges of a tree computed from the data (``n_leaves`` leaves), cut in the middle of its
    largest gap, beside the gap each number of clusters leaves (:func:`~planetml_lib.evaluate.clustering.merge_gaps`).

    Parameters
    ----------
    linkage : array of float, shape (n - 1, 4)
        e.g. from :func:`~planetml_lib.evaluate.clustering.data_dendrogram`.
    top : int
        Numbers of clusters in the gap panel: 2 .. top + 1.
    n_leaves : int
        Leaves drawn (the tree truncated to its last merges; a leaf's count in brackets).
    title : str

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from planetml_lib.evaluate.clustering import data_dendrogram
    >>> linkage, _ = data_dendrogram(np.random.default_rng(0).normal(size=(60, 2)))
    >>> len(plot_dendrogram(linkage).axes)
    2
    """
    gaps = merge_gaps(linkage, top)
    best = gaps.loc[gaps["gap"].idxmax()]
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    tree_ax, gap_ax = fig.subplots(1, 2, width_ratios=[2, 1])
    dendrogram(linkage, ax=tree_ax, truncate_mode="lastp", p=n_leaves, no_labels=True, color_threshold=0,
               above_threshold_color="black")
    tree_ax.axhline(best["height"] - best["gap"] / 2, color="C3", linestyle="--",
                    label=f"cut in the largest gap: {int(best['k'])} clusters")
    tree_ax.set_ylabel("merge height (distance)")
    tree_ax.set_title(title, fontsize="medium")
    tree_ax.legend(fontsize="small")
    gap_ax.bar(gaps["k"], gaps["gap"], color=["C3" if k == best["k"] else "C0" for k in gaps["k"]])
    gap_ax.set_xlabel("number of clusters k")
    gap_ax.set_ylabel("gap below the k → k-1 merge")
    return fig
