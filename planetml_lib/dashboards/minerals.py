"""The minerals dashboard: pick a spectrum (or upload your own), see its bands, the predicted minerals and
the nearest laboratory spectra.

The spectra offered are the test split of the model's own configuration: RELAB spectra of physical
samples the model never saw in training or early stopping, with their true mineralogy. An upload
(the table layout as CSV, a JSON spectrum or a two- or three-column text spectrum, in nm or µm)
adds its spectra to the list. Each spectrum is shown with its convex-hull continuum and band
centres; the ensemble's predicted volume fractions, presence probabilities and chemistry with their
spread; and the RELAB spectra nearest to it by spectral angle (a library look-up beside the model,
not a prediction). Predictions of a whole set are computed once and cached.
"""

import html
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from planetml_lib.cases import minerals
from planetml_lib.dashboards.common import (
    download_links,
    error_html,
    figure_widget,
    quietly,
    run_guarded,
    save_uploads,
    show_figure,
)
from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.bands import band_parameters
from planetml_lib.preprocess.mineralogy import CHEMISTRY, MINERALS, VOLUMES, mineral_targets
from planetml_lib.preprocess.spectra import prepare_spectra
from planetml_lib.viz.spectra import MINERAL_NAMES, has_band_II, plot_continuum, plot_mineral_prediction

TEST_SET = "test split"
NEIGHBOURS = 5
UPLOAD_SUFFIXES = ".csv,.json,.txt,.asc,.dat,.tab"
NEIGHBOUR_COLUMNS = {"rank": "rank", "SpectrumID": "RELAB spectrum", "SampleName": "sample",
                     **{v: f"{v.split('_')[0]} %" for v in VOLUMES}, "angle_deg": "angle (°)"}


def _label(ds, i, prefix):
    """The dropdown text of spectrum ``i`` of ``ds``: its identifiers and, where known, name and type."""
    parts = [str(ds[name].values[i]) for name in ("SpectrumID", "SampleName") if name in ds.coords]
    kind = f" ({ds['Type1'].values[i]})" if "Type1" in ds.coords else ""
    return f"{prefix}{' – '.join(parts)[:70] or f'spectrum {i + 1}'}{kind}"


def _percent(value, spread=None):
    if pd.isna(value):
        return "–"
    return f"{100 * value:.0f} ± {100 * spread:.0f}" if spread is not None else f"{100 * value:.0f}"


def _prediction_html(row, truth, threshold):
    """The predicted minerals of one spectrum (percent ± the ensemble's spread) beside the truth if known."""
    table = pd.DataFrame({"mineral": [MINERAL_NAMES[m] for m in MINERALS],
                          "volume % (predicted)": [_percent(row[v], row[f"{v}_std"]) for v in VOLUMES],
                          "P(present)": [f"{row[f'{m}_p']:.2f}" for m in MINERALS],
                          "present": ["yes" if row[f"{m}_p"] >= threshold else "no" for m in MINERALS]})
    chemistry = pd.DataFrame({"chemistry": list(CHEMISTRY),
                              "% (predicted)": [_percent(row[c], row[f"{c}_std"]) for c in CHEMISTRY]})
    if truth is not None:
        table["volume % (true)"] = [_percent(truth[v]) for v in VOLUMES]
        chemistry["% (true)"] = [_percent(truth[c]) for c in CHEMISTRY]
    return ("<div style='display:flex;gap:2em'>" + table.to_html(index=False, border=0)
            + chemistry.to_html(index=False, border=0) + "</div>")


def _bands_html(params):
    p = params.iloc[0]
    band_I = f"Band I centre {p.band_I_centre_nm:.0f} nm (depth {p.band_I_depth:.2f})"
    if not has_band_II(params)[0]:
        return f"{band_I}; no band II."
    return (f"{band_I}, band II centre {p.band_II_centre_nm:.0f} nm (depth {p.band_II_depth:.2f}), "
            f"band area ratio {p.band_area_ratio:.2f}.")


class MineralsDashboard:
    """State and callbacks of the dashboard; ``widget`` is what the notebook displays."""

    def __init__(self, model_folder=None):
        self.trained = minerals.load_trained(model_folder)
        self.threshold = self.trained.metadata.postprocessing["presence_threshold"]
        self.sets = {}        # set name -> (prepared spectra, prediction, true targets or None, download links)
        self.neighbours = {}  # (set name, index) -> nearest library spectra
        self._add_set(TEST_SET, minerals.load_data(self.trained.config)["test"])
        self.choice = widgets.Dropdown(options=self._options(), description="Spectrum",
                                       layout=widgets.Layout(width="44em"))
        self.upload = widgets.FileUpload(accept=UPLOAD_SUFFIXES, multiple=False, description="Upload spectra",
                                         layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML()
        self.spectrum_figure = figure_widget()
        self.bands = widgets.HTML()
        self.minerals_figure = figure_widget()
        self.table = widgets.HTML()
        self.choice.observe(self._on_choice, "value")
        self.upload.observe(lambda _: run_guarded(self.status, self._select_upload), "value")
        members = self.trained.config.model_options.get("n_members", 1)
        about = widgets.HTML(
            f"<h3>{html.escape(minerals.TITLE)}</h3><p>An ensemble of {members} small 1-D CNNs trained on "
            "RELAB laboratory spectra (450-2450 nm, normalised at 550 nm); the bars are ± the members' spread. "
            "The list holds the test split: spectra of physical samples the model never saw, with their true "
            "mineralogy (black diamonds). Upload your own spectra as CSV (columns R450 ... R2450), JSON "
            "(wavelength, reflectance) or two- or three-column text, in nm or µm; they must cover "
            "450-2450 nm (interpolated, never extrapolated). The nearest RELAB spectra by spectral angle are a "
            "library look-up (the whole labelled library, test spectra included), not the model's answer.</p>")
        self.widget = widgets.VBox([about, widgets.HBox([self.choice, self.upload]), self.status,
                                    self.spectrum_figure, self.bands, self.minerals_figure, self.table])
        run_guarded(self.status, self._redraw)

    def _add_set(self, name, spectra):
        """Predict every spectrum of ``spectra`` once; keep them under ``name``."""
        prepared = prepare_spectra(spectra)
        result = minerals.predict(self.trained, prepared)
        labelled = all(v in prepared.coords for v in VOLUMES)
        truth = mineral_targets(prepared) if labelled else None
        links = download_links(result, f"minerals_{Path(name).stem.replace(' ', '_')}")
        self.sets[name] = (prepared, result, truth, links)
        self.neighbours = {key: value for key, value in self.neighbours.items() if key[0] != name}

    def _options(self):
        return [(_label(ds, i, "" if name == TEST_SET else f"{name}: "), (name, i))
                for name, (ds, *_rest) in self.sets.items() for i in range(ds.sizes["sample"])]

    def _on_choice(self, _change):
        run_guarded(self.status, self._redraw)

    def _select_upload(self):
        if not self.upload.value:
            return
        paths = save_uploads(self.upload.value)
        name = paths[0].name
        self._add_set(name, minerals.read_input(paths))
        with quietly(self.choice, self._on_choice):
            self.choice.options = self._options()
            self.choice.value = (name, 0)
        self._redraw()

    def _redraw(self):
        name, index = self.choice.value
        prepared, result, truth, downloads = self.sets[name]
        one = prepared.isel(sample=[index])
        row = result.rows.iloc[index]
        known = truth.iloc[index] if truth is not None and truth.iloc[index][list(VOLUMES)].notna().all() else None
        if (name, index) not in self.neighbours:
            near = minerals.nearest_spectra(one, k=NEIGHBOURS + 1)
            if "SpectrumID" in one.coords:  # a library spectrum finds itself first, at 0°
                near = near[near["SpectrumID"] != one["SpectrumID"].values[0]]
            near = near.head(NEIGHBOURS)
            self.neighbours[(name, index)] = near.assign(rank=range(1, len(near) + 1))
        near = self.neighbours[(name, index)]
        title = self.choice.label
        where = "the test split" if name == TEST_SET else name
        show_figure(self.spectrum_figure, plot_continuum(one, label="SpectrumID", title=title))
        self.bands.value = _bands_html(band_parameters(one))
        show_figure(self.minerals_figure, plot_mineral_prediction(row, known, threshold=self.threshold,
                                                                  title="predicted minerals"))
        table = near.assign(**{v: (100 * near[v]).round().astype(int) for v in VOLUMES},
                            angle_deg=near["angle_deg"].round(2))
        table = table[list(NEIGHBOUR_COLUMNS)].rename(columns=NEIGHBOUR_COLUMNS)
        self.table.value = (_prediction_html(row, known, self.threshold)
                            + "<p><b>Nearest RELAB spectra</b> by spectral angle (library look-up):</p>"
                            + table.to_html(index=False, border=0)
                            + f"<p>Predictions of every spectrum of {html.escape(where)}: {downloads}</p>")


def build_dashboard(model_folder=None):
    """Return the dashboard widget (for ``dashboard.ipynb``); an error message widget when it cannot start.

    ``model_folder`` None is the shipped model. A missing or unreadable model folder is a user
    error: the page then says so in one line instead of Voila's generic cell-error notice.
    """
    try:
        return MineralsDashboard(model_folder).widget
    except PlanetMLError as error:
        return widgets.HTML(error_html(error))
