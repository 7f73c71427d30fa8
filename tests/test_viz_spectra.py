"""Figures of spectra: what they select and draw, on synthetic spectra with known bands."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

from planetml_lib.preprocess.bands import band_parameters
from planetml_lib.preprocess.mineralogy import CHEMISTRY, MINERALS, VOLUMES, mineral_targets
from planetml_lib.preprocess.spectra import GRID_NM
from planetml_lib.viz import spectra as viz

#: Synthetic spectra: (SampleID, band centres nm, volume fractions OL, OPX, CPX, PLG).
SPECTRA = [("OL-A-001", (1050,), (1.0, 0, 0, 0)),
           ("OL-A-001-P2", (1050,), (0.98, 0.02, 0, 0)),  # the same physical sample, another grain size
           ("OL-B-002", (1060,), (0.92, 0.08, 0, 0)),
           ("PX-C-003", (910, 1900), (0, 0.95, 0.05, 0)),
           ("PX-D-004", (1000, 2250), (0, 0, 0.9, 0.1)),
           ("MX-E-005", (950, 1950), (0.5, 0.3, 0.2, 0))]


def synthetic(rows=SPECTRA):
    """Spectra with Gaussian bands on a slight red slope, labelled like the RELAB compilation."""
    wavelength = GRID_NM
    reflectance = [1 + 1e-4 * (wavelength - 450) - sum(0.3 * np.exp(-0.5 * ((wavelength - c) / 90) ** 2)
                                                       for c in centres) for _, centres, _ in rows]
    volumes = np.array([v for *_, v in rows], dtype=float)
    coords = {"SampleID": ("sample", [r[0] for r in rows]),
              "SpectrumID": ("sample", [f"S{i}" for i in range(len(rows))]),
              "SampleName": ("sample", [f"name {r[0]}" for r in rows]),
              **{name: ("sample", volumes[:, i]) for i, name in enumerate(VOLUMES)},
              "wavelength": ("wavelength", wavelength, {"units": "nm"})}
    return xr.Dataset({"reflectance": (("sample", "wavelength"), np.array(reflectance))}, coords=coords,
                      attrs={"normalised_at_nm": 550.0})


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    """The figures are plain Figures: none is left registered with pyplot."""
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


def test_end_members_take_the_purest_spectrum_of_each_physical_sample_only():
    members = viz.end_members(synthetic(), n=2, pure=0.9)
    assert list(members["SampleID"].values) == ["OL-A-001", "OL-B-002", "PX-C-003", "PX-D-004"]
    assert list(members["end_member"].values) == ["OL 100%", "OL 92%", "OPX 95%", "CPX 90%"]
    assert viz.end_members(synthetic(), pure=0.99).sizes["sample"] == 1  # minerals without a pure spectrum: none


def test_spectra_and_end_member_figures():
    fig = viz.plot_spectra(synthetic(), title="six")
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) == len(SPECTRA)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [f"S{i}" for i in range(len(SPECTRA))]
    assert "normalised at 550 nm" in fig.axes[0].get_ylabel()
    panels = viz.plot_end_members(synthetic(), n=3, pure=0.9).axes
    assert [len(ax.lines) for ax in panels] == [2, 1, 1, 0]
    assert "no spectrum" in panels[3].get_title()


def test_abundance_histograms_count_the_minerals_present():
    volumes = pd.DataFrame([v for *_, v in SPECTRA], columns=list(VOLUMES))
    axes = viz.plot_abundances(volumes).axes
    assert len(axes) == len(VOLUMES) + 1
    assert sum(p.get_height() for p in axes[0].patches) == len(SPECTRA)
    # minerals of >= 5 %: 1, 1, 2, 2, 2, 3
    assert [p.get_height() for p in axes[-1].patches] == [0, 2, 3, 1, 0]


def test_continuum_figure_marks_the_band_centres():
    fig = viz.plot_continuum(synthetic().isel(sample=[0, 3]), label="SpectrumID")
    top, bottom = fig.axes
    assert len(top.lines) == 4  # two spectra, two continua
    marks = [(line.get_marker(), line.get_xdata()[0]) for line in bottom.lines if len(line.get_xdata()) == 1]
    band_I = [x for marker, x in marks if marker == "v"]
    band_II = [x for marker, x in marks if marker == "s"]
    np.testing.assert_allclose(band_I, [1050, 910], atol=10)
    np.testing.assert_allclose(band_II, [1900], atol=10)  # olivine has none


def test_band_II_needs_depth_and_a_minimum_inside_its_window():
    params = band_parameters(synthetic())
    assert viz.has_band_II(params).tolist() == [False, False, False, True, True, True]
    assert not viz.has_band_II(params, min_depth=1.0).any()


def test_band_centre_plot_colours_by_dominant_mineral_and_drops_spectra_without_band_II():
    ds = synthetic()
    fig = viz.plot_band_centres(band_parameters(ds), mineral_targets(ds), pure=0.8)
    left, right = fig.axes
    assert sum(len(c.get_offsets()) for c in right.collections) == len(SPECTRA)
    assert sum(len(c.get_offsets()) for c in left.collections) == 3  # the olivines have no band II
    labels = [t.get_text() for t in right.get_legend().get_texts()]
    assert labels == ["mixture, none ≥ 80% (1)", "olivine ≥ 80% (3)", "orthopyroxene ≥ 80% (1)",
                      "clinopyroxene ≥ 80% (1)"]


def test_mineral_prediction_draws_the_row_with_its_spread_and_the_truth():
    presence = dict(zip([f"{m}_p" for m in MINERALS], (0.9, 0.8, 0.6, 0.1), strict=True))
    row = pd.Series({**{v: f for v, f in zip(VOLUMES, (0.5, 0.3, 0.2, 0.0), strict=True)},
                     **{f"{v}_std": 0.05 for v in VOLUMES}, **presence,
                     **{c: 0.4 for c in CHEMISTRY}, **{f"{c}_std": 0.02 for c in CHEMISTRY}})
    truth = pd.Series({**{v: f for v, f in zip(VOLUMES, (0.6, 0.2, 0.2, 0.0), strict=True)},
                       **{c: np.nan for c in CHEMISTRY}})
    volumes, presence, chemistry = viz.plot_mineral_prediction(row, truth, threshold=0.5).axes
    assert [p.get_height() for p in volumes.patches] == [0.5, 0.3, 0.2, 0.0]
    assert [p.get_height() for p in presence.patches] == [0.9, 0.8, 0.6, 0.1]
    assert len(chemistry.patches) == len(CHEMISTRY)
    np.testing.assert_allclose(volumes.collections[-1].get_offsets()[:, 1], [0.6, 0.2, 0.2, 0.0])
    assert "threshold 0.5" in presence.get_title()
    assert len(viz.plot_mineral_prediction(row).axes[0].collections) == 1  # error bars only, no truth


def test_class_spectra_one_panel_per_class():
    ds = synthetic().assign_coords(taxonomy=("sample", ["S", "S", "S", "V", "V", "A"]))
    fig = viz.plot_class_spectra(ds, columns=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["A (1)", "S (3)", "V (2)"]
    assert not all(ax.get_visible() for ax in fig.axes)  # a 2 x 2 grid, one panel left blank


def test_taxonomy_confusion_counts_and_row_fractions():
    predictions = pd.DataFrame({"true": ["S", "S", "S", "C", "C", "V"], "predicted": ["S", "S", "C", "C", "C", "S"]})
    ax = viz.plot_taxonomy_confusion(predictions).axes[0]
    image = ax.images[0].get_array()
    np.testing.assert_allclose(image, [[1, 0, 0], [1 / 3, 2 / 3, 0], [0, 1, 0]])  # rows C, S, V
    assert sorted(t.get_text() for t in ax.texts) == ["1", "1", "2", "2"]


def test_mineral_estimates_one_box_per_group_and_mineral():
    rows = pd.DataFrame(np.full((5, 4), 0.25), columns=list(VOLUMES))
    fig = viz.plot_mineral_estimates(rows, ["S", "S", "V", "S", "A"])
    assert len(fig.axes) == len(VOLUMES)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["A\n(1)", "S\n(3)", "V\n(1)"]
