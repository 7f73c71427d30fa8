"""The Mercury boundaries dashboard: pick a (simulated) orbit or upload a PDS file, see the regions.

Shows the magnetogram with the predicted regions coloured beneath the true ones (where known) and
one table of the predicted and the Philpott et al. (2020) crossings of the orbit, sorted by time;
an uploaded file joins the orbit menu under its name and is compared with the Philpott crossings of
its orbits. Simulated orbits are made on demand (about a second each) and cached.
"""

import ipywidgets as widgets
import numpy as np
import pandas as pd

from planetml_lib.cases import mercury_boundaries as case
from planetml_lib.dashboards.common import (
    download_links,
    error_html,
    figure_widget,
    run_guarded,
    save_uploads,
    select_new_option,
    show_figure,
    upload_label,
)
from planetml_lib.datasets import load_catalog
from planetml_lib.errors import PlanetMLError
from planetml_lib.simulate import simulate_orbits
from planetml_lib.viz.regions import plot_regions

CROSSING_COLUMNS = ["start", "end", "label"]
#: The model's region abbreviations (``preprocess.mercury.REGIONS``), spelt out on the page.
REGION_NAMES = {"IMF": "solar wind (interplanetary magnetic field)", "SK": "bow shock crossing",
                "MSh": "magnetosheath", "MP": "magnetopause crossing", "MSp": "magnetosphere"}


def _crossing_table(predicted, reference):
    """The predicted and the Philpott crossings in one table sorted by time; ``source`` says whose each is."""
    table = pd.concat([predicted[CROSSING_COLUMNS].assign(source="predicted"),
                       reference[CROSSING_COLUMNS].assign(source="Philpott et al. 2020")], ignore_index=True)
    return table.sort_values(["start", "source"]).to_html(index=False, border=0)


def _title(key, ds):
    """The figure's title: which bars it shows (the true regions are known for simulated orbits only)."""
    return f"{key}: {'true (upper) and predicted (lower)' if 'region' in ds else 'predicted'} regions"


class MercuryDashboard:
    """State and callbacks of the dashboard; ``widget`` is what the notebook displays."""

    def __init__(self, model_folder=None):
        self.trained = case.load_trained(model_folder)
        self.config = self.trained.config
        self.crossings = load_catalog("philpott2020")
        self.cache = {}
        test_orbits = case.split_orbits(case.Config())["test"].tolist()
        self.orbit = widgets.Dropdown(options=[(f"simulated orbit {orbit}", orbit) for orbit in test_orbits],
                                      description="Orbit", layout=widgets.Layout(width="32em"))
        self.uploads = {}  # menu value of an upload -> its series
        self.upload = widgets.FileUpload(accept=".tab,.TAB", multiple=True, description="Upload PDS TAB",
                                         layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML()
        self.figure = figure_widget()
        self.table = widgets.HTML()
        self.orbit.observe(self._on_orbit, "value")
        self.upload.observe(lambda _: run_guarded(self.status, self._select_upload), "value")
        about = widgets.HTML(f"<h3>{case.TITLE}</h3><p><b>Simulated</b> MESSENGER orbits (real orbit and "
                             "Philpott et al. 2020 crossing times, simulated field) from the test orbits, never "
                             "used in training; or your own PDS MAG file (MAGMSOSCIAVG*.TAB), compared with the "
                             "Philpott crossings of its orbits. Regions: "
                             + "; ".join(f"<b>{abbr}</b> {name}" for abbr, name in REGION_NAMES.items()) + ".</p>")
        self.widget = widgets.VBox([about, widgets.HBox([self.orbit, self.upload]), self.status, self.figure,
                                    self.table])
        run_guarded(self.status, self._select_orbit)

    def _show(self, key, ds):
        if key not in self.cache:
            detection = case.predict(self.trained, ds)
            self.cache[key] = (ds, *detection, download_links(detection, "crossings"))
        ds, regions, predicted, downloads = self.cache[key]
        reference = case.reference_crossings(ds) if "orbit" in ds.coords else predicted.iloc[:0]
        show_figure(self.figure, plot_regions(ds, np.asarray(regions), title=_title(self.orbit.label, ds)))
        self.table.value = (f"<b>{len(predicted)} crossings found</b>, {len(reference)} in the Philpott list "
                            f"for this orbit {downloads}" + _crossing_table(predicted, reference))

    def _on_orbit(self, _change):
        run_guarded(self.status, self._select_orbit)

    def _select_orbit(self):
        key = self.orbit.value
        if key in self.uploads:
            self._show(key, self.uploads[key])
        else:
            self._show(key, case.prepare(simulate_orbits([key], self.crossings, self.config.cadence,
                                                         self.config.seed), self.config))

    def _select_upload(self):
        if not self.upload.value:
            return
        paths = save_uploads(self.upload.value)
        key = ("upload", len(self.uploads))  # each upload anew: a file of the same name may hold other data
        self.uploads[key] = case.prepare_for_model(case.read_input(paths), self.config)
        select_new_option(self.orbit, upload_label(paths), key, self._on_orbit)
        self._select_orbit()


def build_dashboard(model_folder=None):
    """Return the dashboard widget (for ``dashboard.ipynb``); an error message when it cannot start.

    ``model_folder``: default the shipped model."""
    try:
        return MercuryDashboard(model_folder).widget
    except PlanetMLError as error:
        return widgets.HTML(error_html(error))
