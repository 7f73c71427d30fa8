import numpy as np
from sklearn.datasets import make_blobs

from planetml_lib.evaluate.cluster_comparison import compare_clusterings, density_clusters


def test_hdbscan_leaves_isolated_points_as_noise_and_the_rand_index_counts_them():
    blobs, truth = make_blobs(900, centers=[[0, 0], [20, 0], [0, 20]], cluster_std=0.5, random_state=1)
    outliers = np.array([[100.0, 100.0], [-100.0, 50.0], [60.0, -90.0]])
    points = np.concatenate([blobs, outliers])
    labels = density_clusters(points)
    assert len(np.unique(labels[labels >= 0])) == 3 and (labels[-3:] == -1).all()
    table, found = compare_clusterings(points, 3, truth=np.concatenate([truth, [3, 3, 3]]))
    table = table.set_index("method")
    assert set(found) == {"complete", "kmeans", "gmm", "hdbscan"}
    assert table.loc["hdbscan", "noise_fraction"] == round(3 / 903, 4)
    assert table.loc["hdbscan", "adjusted_rand"] > 0.99 and (table["n_clusters"] == 3).all()
