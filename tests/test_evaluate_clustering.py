"""Tests for planetml_lib.evaluate.clustering (choosing k), its figures and the original Mercury products."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy.spatial.distance import cdist
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from planetml_lib.cases.mercury_surface_original import load_original_embedding, load_original_ica_error
from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.clustering import (
    choose_k,
    cluster_labels,
    data_dendrogram,
    k_statistics,
    merge_gaps,
)
from planetml_lib.viz.clustering import plot_dendrogram, plot_k_statistics

CENTRES = [[0, 0], [10, 0], [0, 10], [10, 10]]


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(600, centers=CENTRES, random_state=0)


@pytest.fixture(scope="module")
def blob_statistics(blobs):
    return k_statistics(blobs[0], ks=range(2, 8), n_boot=5, subsample=300)


@pytest.fixture(scope="module")
def noise_statistics():
    noise = np.random.default_rng(0).normal(size=(600, 2))
    return k_statistics(noise, ks=range(2, 8), n_boot=5, subsample=300)


def values(statistics, method, metric):
    rows = statistics[(statistics["method"] == method) & (statistics["metric"] == metric)]
    return rows.set_index("k")["value"]


def test_statistics_are_a_tidy_frame(blob_statistics):
    assert list(blob_statistics.columns) == ["method", "k", "metric", "value", "spread"]
    assert len(blob_statistics) == 2 * 6 * 3 and (blob_statistics["spread"] >= 0).all()
    assert set(blob_statistics["metric"]) == {"silhouette", "davies_bouldin", "stability"}


@pytest.mark.parametrize("method", ["complete", "kmeans"])
def test_four_separated_blobs_give_four(blob_statistics, method):
    assert choose_k(blob_statistics, method) == 4
    assert values(blob_statistics, method, "stability")[4] == pytest.approx(1.0)
    assert values(blob_statistics, method, "silhouette").idxmax() == 4
    assert values(blob_statistics, method, "davies_bouldin").idxmin() == 4
    assert values(blob_statistics, method, "silhouette")[4] > 0.6


def test_one_gaussian_blob_is_never_stable_and_the_rule_says_so(blob_statistics, noise_statistics):
    for method in ("complete", "kmeans"):
        assert values(noise_statistics, method, "stability").max() < 0.8
        with pytest.warns(UserWarning, match=f"{method}: no k reaches stability 0.8"):
            choose_k(noise_statistics, method)
    assert values(noise_statistics, "kmeans", "silhouette").max() < 0.5 < values(
        blob_statistics, "kmeans", "silhouette").max()


def test_choose_k_takes_the_best_silhouette_among_stable_ks():
    table = pd.DataFrame({"method": "m", "k": [2, 2, 3, 3, 4, 4, 5, 5], "metric": ["silhouette", "stability"] * 4,
                          "value": [0.4, 0.99, 0.6, 0.85, 0.6, 0.9, 0.9, 0.5]})
    assert choose_k(table, "m") == 3  # 5 has the best silhouette but is unstable; 3 and 4 tie: the smaller
    assert choose_k(table, "m", min_stability=0.95) == 2
    with pytest.raises(PlanetMLError, match="no statistics of method 'gmm'"):
        choose_k(table, "gmm")


def test_complete_linkage_on_a_subsample_assigns_every_point(blobs):
    points, truth = blobs
    labels = cluster_labels(points, 4, max_linkage_points=80, seed=3)
    assert labels.shape == (600,) and set(labels) == {0, 1, 2, 3}
    assert adjusted_rand_score(truth, labels) == 1.0
    assert (np.diff(np.bincount(labels)) <= 0).all()  # numbered from the largest cluster


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_other_methods_find_the_blobs(blobs, method):
    assert adjusted_rand_score(blobs[1], cluster_labels(blobs[0], 4, method=method)) == 1.0


def test_unknown_method_names_the_choices(blobs):
    with pytest.raises(PlanetMLError, match="unknown clustering method 'ward'; choose one of: complete, kmeans, gmm"):
        cluster_labels(blobs[0], 3, method="ward")


def test_dendrogram_comes_from_the_data_and_its_largest_gap_is_at_four(blobs):
    points = blobs[0]
    linkage, indices = data_dendrogram(points, max_points=400, seed=1)
    assert linkage.shape == (399, 4) and len(np.unique(indices)) == 400
    top = cluster_labels(points[indices], 2)  # the two clusters the last merge joins
    linked = points[indices]
    assert linkage[-1, 2] == pytest.approx(cdist(linked[top == 0], linked[top == 1]).max())
    gaps = merge_gaps(linkage)
    assert list(gaps.columns) == ["k", "height", "gap"] and gaps["k"].tolist() == list(range(2, 14))
    assert gaps.loc[gaps["gap"].idxmax(), "k"] == 4
    assert np.allclose(gaps["gap"].to_numpy()[:-1], -np.diff(gaps["height"].to_numpy()))


def test_plots_return_figures(blob_statistics, blobs):
    figure = plot_k_statistics(blob_statistics, title="blobs")
    assert isinstance(figure, Figure) and len(figure.axes) == 3
    assert [line.get_xdata()[0] for line in figure.axes[0].lines if line.get_linestyle() == "--"] == [4, 4]
    figure = plot_dendrogram(data_dendrogram(blobs[0])[0])
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    assert "4 clusters" in figure.axes[0].get_legend().get_texts()[0].get_text()


def test_original_products_load():
    embedding = load_original_embedding()
    assert embedding.shape == (55399, 2) and embedding.dtype == np.float64 and np.isfinite(embedding).all()
    errors = load_original_ica_error()
    assert list(errors.columns) == ["n_components", "reconstruction_error"] and len(errors) == 11
    assert errors["n_components"].tolist() == [1, 2, 3, 4, 20, 40, 60, 80, 100, 120, 140]
    assert errors["reconstruction_error"].is_monotonic_decreasing
    assert errors["reconstruction_error"].iloc[0] == pytest.approx(0.00210830353014427)
    labels = cluster_labels(embedding, 3, max_linkage_points=2000)
    assert labels.shape == (55399,) and set(labels) == {0, 1, 2}
