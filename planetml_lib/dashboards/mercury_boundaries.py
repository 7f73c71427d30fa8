"""The Mercury boundaries dashboard: pick a (simulated) orbit or upload a PDS file, see the regions.

Shows the magnetogram with the predicted regions coloured beneath the true ones and the
table of crossings. Simulated orbits are made on demand (about a second each) and cached.
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
    show_figure,
)
from planetml_lib.datasets import load_catalog
from planetml_lib.errors import PlanetMLError
from planetml_lib.simulate import simulate_orbits
from planetml_lib.viz.regions import plot_regions

CROSSING_COLUMNS = ["label", "start", "end"]


def _crossing_table(predicted, reference):
    """Predicted crossings beside the Philpott list's, one row per crossing label."""
    table = predicted[CROSSING_COLUMNS].set_index("label").add_prefix("predicted ")
    if len(reference):
        table = table.join(reference[CROSSING_COLUMNS].set_index("label").add_prefix("Philpott "), how="outer")
    return table.reset_index().to_html(index=False, border=0)


class MercuryDashboard:
    """State and callbacks of the dashboard; ``widget`` is what the notebook displays."""

    def __init__(self, model_folder=None):
        self.trained = case.load_trained(model_folder)
        self.config = self.trained.config
        self.crossings = load_catalog("philpott2020")
        self.cache = {}
        test_orbits = case.split_orbits(case.Config())["test"].tolist()
        self.orbit = widgets.Dropdown(options=test_orbits, description="Orbit")
        self.upload = widgets.FileUpload(accept=".tab,.TAB", multiple=True, description="Upload PDS TAB")
        self.status = widgets.HTML()
        self.figure = figure_widget()
        self.table = widgets.HTML()
        self.orbit.observe(lambda _: run_guarded(self.status, self._select_orbit), "value")
        self.upload.observe(lambda _: run_guarded(self.status, self._select_upload), "value")
        about = widgets.HTML(f"<h3>{case.TITLE}</h3><p><b>Simulated</b> MESSENGER orbits (real orbit and "
                             "Philpott et al. 2020 crossing times, simulated field) from the test orbits, never "
                             "used in training; or your own PDS MAG file (MAGMSOSCIAVG*.TAB).</p>")
        self.widget = widgets.VBox([about, widgets.HBox([self.orbit, self.upload]), self.status, self.figure,
                                    self.table])
        run_guarded(self.status, self._select_orbit)

    def _show(self, key, ds):
        if key not in self.cache:
            detection = case.predict(self.trained, ds)
            self.cache[key] = (ds, *detection, download_links(detection, "crossings"))
        ds, regions, predicted, downloads = self.cache[key]
        reference = case.reference_crossings(ds) if "region" in ds else pd.DataFrame(columns=CROSSING_COLUMNS)
        show_figure(self.figure, plot_regions(ds, np.asarray(regions), title=f"{key}: true (upper) and predicted "
                                                                              "(lower) regions"))
        self.table.value = (f"<b>{len(predicted)} crossings found</b> {downloads}"
                            + _crossing_table(predicted, reference))

    def _select_orbit(self):
        orbit = int(self.orbit.value)
        self._show(f"simulated orbit {orbit}", case.prepare(
            simulate_orbits([orbit], self.crossings, self.config.cadence, self.config.seed), self.config))

    def _select_upload(self):
        if not self.upload.value:
            return
        paths = save_uploads(self.upload.value)
        self._show(", ".join(p.name for p in paths), case.prepare_for_model(case.read_input(paths), self.config))


def build_dashboard(model_folder=None):
    """Return the dashboard widget (for ``dashboard.ipynb``); an error message when it cannot start.

    ``model_folder``: default the shipped model."""
    try:
        return MercuryDashboard(model_folder).widget
    except PlanetMLError as error:
        return widgets.HTML(error_html(error))
