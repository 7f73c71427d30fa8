"""Surface units of reflectance spectra: ICA sources, a UMAP embedding, clustering, and a classifier.

Units are *discovered* on the cells of one map (unsupervised): the spectra are centred, reduced
to independent components with FastICA (the number chosen where the reconstruction residual falls
below the noise, :func:`choose_n_components`), embedded in 2-D with UMAP *on the ICA sources* (the
original embedded the raw spectra), and clustered. The units are then carried to other cells by
:class:`UnitClassifier`: the same centring and unmixing, and a vote among the nearest reference
cells in source space. That classifier is a small ``nn.Module`` whose buffers hold everything
(no pickles), so it saves and loads like every other model of PlanetML.
"""

import functools

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA, FastICA
from torch import nn


def noise_level(spectra):
    """Channel noise of ``spectra (n, bands)``, from second differences along wavelength.

    For white noise of standard deviation s, ``x[i-1] - 2 x[i] + x[i+1]`` has standard deviation
    ``s * sqrt(6)``; smooth spectral shapes barely contribute. A robust (MAD) spread over the spectra
    at each channel, then the root mean square over channels: the same kind of figure as the
    residual standard deviation of :func:`reconstruction_residuals`, so the two compare.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> spectra = np.linspace(0.05, 0.08, 100) + rng.normal(0, 0.001, (500, 100))
    >>> round(noise_level(spectra), 4)
    0.001
    """
    second = np.diff(spectra, n=2, axis=1) / np.sqrt(6)
    mad = np.median(np.abs(second - np.median(second, axis=0)), axis=0)
    return float(np.sqrt(np.mean((1.4826 * mad) ** 2)))


def reconstruction_residuals(spectra, max_components=12, seed=0):
    """Standard deviation of the residual after keeping 1..``max_components`` components.

    ICA unmixes the subspace of the leading principal components (FastICA whitens with PCA), so its
    reconstruction with n components equals PCA's: the residuals are computed once from PCA.
    Returns a frame with ``n_components`` and ``residual_std``.
    """
    pca = PCA(n_components=min(max_components, *spectra.shape), random_state=seed).fit(spectra)
    centred = spectra - pca.mean_
    scores = centred @ pca.components_.T
    rows = []
    for n in range(1, pca.n_components_ + 1):
        residual = centred - scores[:, :n] @ pca.components_[:n]
        rows.append({"n_components": n, "residual_std": float(residual.std())})
    return pd.DataFrame(rows)


def choose_n_components(residuals, noise, margin=1.0):
    """The fewest components whose residual standard deviation is below ``margin * noise`` (else the most tried).

    A residual cannot fall much below the noise itself: ``margin`` a little above 1 stops where one
    more component would remove less than that share of the noise.
    """
    below = residuals[residuals["residual_std"] < margin * noise]
    return int((below if len(below) else residuals)["n_components"].iloc[0 if len(below) else -1])


def fit_ica(spectra, n_components, seed=0):
    """FastICA with unit-variance sources, fitted on ``spectra (n, bands)``."""
    return FastICA(n_components=n_components, whiten="unit-variance", max_iter=1000, tol=1e-4,
                   random_state=seed).fit(spectra)


def source_scale(ica, units="unit_variance"):
    """Factors that put ICA sources on a scale: 1 (``"unit_variance"``: every source weighs the same) or the
    length of each source's mixing vector (``"reflectance"``: a source weighs what it adds to the spectra)."""
    if units not in ("unit_variance", "reflectance"):
        raise ValueError(f"source units must be 'unit_variance' or 'reflectance', got {units!r}")
    return np.ones(ica.components_.shape[0]) if units == "unit_variance" else np.linalg.norm(ica.mixing_, axis=0)


def embed(points, n_neighbors=50, min_dist=0.5, seed=0):
    """2-D UMAP embedding of ``points (n, d)`` (single-threaded, so a seed reproduces it)."""
    import numba

    # numba's default OpenMP layer leaves threads spinning after UMAP, which made every later k-means fit
    # in the process about 50 times slower; the workqueue layer does not
    numba.config.THREADING_LAYER = "workqueue"
    import umap  # compiles with numba on first import: only when an embedding is asked for

    _cache_compilation()
    n_neighbors = min(n_neighbors, len(points) - 1)
    reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed, n_jobs=1)
    return reducer.fit_transform(points)


@functools.cache
def _cache_compilation():
    """Keep what numba compiles for UMAP on disk, as pynndescent does for its own functions (once a process).

    umap's layout and graph functions are compiled afresh in every process (about 20 s on 2 cores,
    paid by every notebook kernel and dashboard page); with on-disk caching a later process loads
    them in about 2 s. Caches go where numba puts them (``__pycache__`` beside umap, else
    ``NUMBA_CACHE_DIR`` or the user's cache folder) and are dropped when umap's sources change.
    """
    import umap
    from numba.core.registry import CPUDispatcher

    for module in (umap.umap_, umap.layouts, umap.utils, umap.distances):
        for function in vars(module).values():
            if isinstance(function, CPUDispatcher):
                function.enable_caching()


def order_by_reflectance(labels, reflectance_700):
    """Renumber ``labels`` so that unit 0 has the lowest mean reflectance at 700 nm, and so on."""
    means = pd.Series(reflectance_700).groupby(labels).mean()
    new = {old: rank for rank, old in enumerate(means.sort_values().index)}
    return np.vectorize(new.get)(labels)


class UnitClassifier(nn.Module):
    """Unit probabilities of spectra: centre, unmix, vote among the nearest reference cells.

    Parameters
    ----------
    in_channels : int
        Wavelengths of a spectrum.
    n_classes : int
        Surface units.
    n_components : int
        ICA sources.
    n_reference : int
        Reference cells whose units vote.
    n_neighbors : int
        Voters per spectrum.

    Examples
    --------
    >>> model = UnitClassifier(in_channels=5, n_classes=2, n_components=2, n_reference=4, n_neighbors=3)
    >>> model(torch.zeros(7, 5)).shape
    torch.Size([7, 2])
    """

    def __init__(self, in_channels, n_classes, n_components, n_reference, n_neighbors=15):
        super().__init__()
        self.n_classes, self.n_neighbors = n_classes, min(n_neighbors, n_reference)
        self.register_buffer("mean", torch.zeros(in_channels))
        self.register_buffer("unmixing", torch.zeros(n_components, in_channels))
        self.register_buffer("reference", torch.zeros(n_reference, n_components))
        self.register_buffer("reference_units", torch.zeros(n_reference, dtype=torch.long))

    def set_state(self, ica, reference_sources, reference_units, source_scale=None):
        """Copy a fitted FastICA (its sources multiplied by ``source_scale``, default 1) and the labelled
        reference cells (sources on the same scale) into the buffers; return self."""
        tensor = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
        scale = np.ones(ica.components_.shape[0]) if source_scale is None else np.asarray(source_scale)
        self.mean.copy_(tensor(ica.mean_))
        self.unmixing.copy_(tensor(ica.components_ * scale[:, None]))
        self.reference.copy_(tensor(reference_sources))
        self.reference_units.copy_(torch.as_tensor(np.asarray(reference_units), dtype=torch.long))
        return self

    def sources(self, spectra):
        """ICA sources ``(batch, n_components)`` of ``spectra (batch, in_channels)``."""
        return (spectra - self.mean) @ self.unmixing.T

    def forward(self, spectra):
        distance = torch.cdist(self.sources(spectra), self.reference)
        nearest = distance.topk(self.n_neighbors, largest=False).indices
        votes = nn.functional.one_hot(self.reference_units[nearest], self.n_classes).float()
        return votes.mean(dim=1)
