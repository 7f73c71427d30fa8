"""The Mercury boundaries dashboard: pick any of the 313 real MESSENGER orbits or upload a MAG file.

Shows the magnetogram with the predicted regions coloured beneath the true ones (from the Philpott
et al. 2020 list) and one table of the predicted and the Philpott crossings of the orbit, sorted by
time. The menu says which split of the shown model each orbit belongs to (test orbits first): a
score on a training orbit is not a test score. An uploaded file (PDS ``MAGMSOSCIAVG*.TAB`` or the
digitised 10-s CSV) joins the menu under its name and is compared with the Philpott crossings of
its orbits. Orbits are prepared on demand and cached.
"""

import ipywidgets as widgets
import numpy as np
import pandas as pd

from planetml_lib.cases import mercury_boundaries as case
from planetml_lib.dashboards.common import (
    UploadMenu,
    build_guarded,
    download_links,
    figure_widget,
    run_guarded,
    show_figure,
)
from planetml_lib.datasets import real_messenger_manifest
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


#: Split names of ``case.real_splits`` as the menu says them, in menu order.
SPLIT_NAMES = {"test": "test", "test_disturbed": "test, disturbed", "validation": "validation",
               "train": "training"}


def orbit_options(config):
    """Menu entries ``(label, orbit)`` of every shipped real orbit, test orbits first, each with its split."""
    splits = case.real_splits(config)
    named = [(orbit, SPLIT_NAMES[name]) for name in SPLIT_NAMES for orbit in splits[name]]
    listed = {orbit for orbit, _ in named}
    rest = [(orbit, "guard: in no split") for orbit in real_messenger_manifest()["orbit"] if orbit not in listed]
    return [(f"real orbit {orbit} ({split})", int(orbit)) for orbit, split in named + rest]


def _title(key, ds):
    """The figure's title: which bars it shows (the true regions are known for the shipped orbits only)."""
    return f"{key}: {'true (upper) and predicted (lower)' if 'region' in ds else 'predicted'} regions"


class MercuryDashboard(UploadMenu):
    """State and callbacks of the dashboard; ``widget`` is what the notebook displays."""

    def __init__(self, model_folder=None):
        self.trained = case.load_trained(model_folder)
        self.config = self.trained.config
        self.cache = {}
        self.menu = widgets.Dropdown(options=orbit_options(self.config), description="Orbit",
                                     layout=widgets.Layout(width="32em"))
        self.uploads = {}  # menu value of an upload -> its series
        self.upload = widgets.FileUpload(accept=".tab,.TAB,.csv,.gz,.xz", multiple=True,
                                         description="Upload MAG file", layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML()
        self.figure = figure_widget()
        self.table = widgets.HTML()
        self.menu.observe(self._on_choice, "value")
        self.upload.observe(lambda _: run_guarded(self.status, self._select_upload), "value")
        about = widgets.HTML(f"<h3>{case.TITLE}</h3><p><b>Real</b> MESSENGER magnetometer orbits at 10 s "
                             "(2011-2015, digitised from the plotted PDS data), each marked with its split for this "
                             "model (only test orbits give a test score); or your own MAG file (PDS "
                             "MAGMSOSCIAVG*.TAB, or the 10-s CSV layout), compared with the Philpott et al. 2020 "
                             "crossings of its orbits. Regions: "
                             + "; ".join(f"<b>{abbr}</b> {name}" for abbr, name in REGION_NAMES.items()) + ".</p>")
        self.widget = widgets.VBox([about, widgets.HBox([self.menu, self.upload]), self.status, self.figure,
                                    self.table])
        run_guarded(self.status, self._select)

    def _show(self, key, ds):
        if key not in self.cache:
            detection = case.predict(self.trained, ds)
            self.cache[key] = (ds, *detection, download_links(detection, "crossings"))
        ds, regions, predicted, downloads = self.cache[key]
        reference = case.reference_crossings(ds) if "orbit" in ds.coords else predicted.iloc[:0]
        show_figure(self.figure, plot_regions(ds, np.asarray(regions), title=_title(self.menu.label, ds)))
        self.table.value = (f"<b>{len(predicted)} crossings found</b>, {len(reference)} in the Philpott list "
                            f"for this orbit {downloads}" + _crossing_table(predicted, reference))

    def _select(self):
        key = self.menu.value
        if key in self.uploads:
            self._show(key, self.uploads[key])
        else:
            self._show(key, case.real_prepared([key], self.config))

    def read_upload(self, paths):
        return case.prepare_for_model(case.read_input(paths), self.config)


def build_dashboard(model_folder=None):
    """Return the dashboard widget (for ``dashboard.ipynb``); an error message when it cannot start.

    ``model_folder``: default the shipped model."""
    return build_guarded(lambda: MercuryDashboard(model_folder))
