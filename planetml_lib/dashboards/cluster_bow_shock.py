"""The Cluster bow-shock dashboard: pick a SIMULATED test pass or upload Cluster Science Archive files.

Shows Cluster 1's field with the true and the predicted regions beneath it and the true (black) and
predicted (red) crossings, and one table of both sorted by time. The menu holds the test passes of the
shown model, under the training generator family and under the held-out family (each SIMULATED, on
the test years); a pass is simulated and prepared when picked, then cached. An upload (FGM and
CIS-HIA moments of one spacecraft as CEF-2.0 with their ``.ceh`` headers, or CDF) joins the menu
under its name and is compared with the real Kruparova et al. (2019) crossings of its spacecraft.
"""

import dataclasses

import ipywidgets as widgets
import pandas as pd

from planetml_lib.cases import cluster_bow_shock as case
from planetml_lib.dashboards.common import (
    UploadMenu,
    build_guarded,
    download_links,
    figure_widget,
    run_guarded,
    show_figure,
)
from planetml_lib.simulate.cluster import HELDOUT_FAMILY, TRAINING_FAMILY

CROSSING_COLUMNS = ["start", "label"]
#: Menu splits: the test passes under each generator family.
FAMILIES = {"test": TRAINING_FAMILY, "test_heldout_family": HELDOUT_FAMILY}
#: The menu's pass number of the example pass.
EXAMPLE = -1


def pass_options(config):
    """Menu entries ``(label, (split, pass number))``: the example pass (``case.EXAMPLE_PASS``, in no split;
    the shipped sample) under each family, then the test passes of both generator families."""
    plans = case.pass_plans(config)
    example = [(f"SIMULATED example pass {case.EXAMPLE_PASS['start']:%Y-%m-%d} ({FAMILIES[split].family} family; "
                "in no split)", (split, EXAMPLE)) for split in FAMILIES]
    return example + [(f"SIMULATED test pass {row.pass_id} {row.start:%Y-%m-%d %H:%M} "
                       f"({FAMILIES[split].family} family)", (split, int(row.pass_id)))
                      for split in FAMILIES for row in plans[split].itertuples()]


def _crossing_table(predicted, reference, source):
    """The predicted and the reference crossings in one table sorted by time; ``source`` says whose each is."""
    table = pd.concat([predicted[CROSSING_COLUMNS].assign(source="predicted"),
                       reference[CROSSING_COLUMNS].assign(source=source)], ignore_index=True)
    return table.sort_values(["start", "source"]).to_html(index=False, border=0)


class ClusterDashboard(UploadMenu):
    """State and callbacks of the dashboard; ``widget`` is what the notebook displays."""

    def __init__(self, model_folder=None):
        self.trained = case.load_trained(model_folder)
        self.config = dataclasses.replace(self.trained.config, progress=False)  # no bars on the page
        self.plans = case.pass_plans(self.config)
        self.cache, self.uploads = {}, {}
        self.menu = widgets.Dropdown(options=pass_options(self.config), description="Data",
                                       layout=widgets.Layout(width="36em"))
        self.upload = widgets.FileUpload(accept=".cef,.ceh,.gz,.cdf", multiple=True,
                                         description="Upload CSA files", layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML()
        self.figure = figure_widget()
        self.table = widgets.HTML()
        self.menu.observe(self._on_choice, "value")
        self.upload.observe(lambda _: run_guarded(self.status, self._select_upload), "value")
        about = widgets.HTML(
            f"<h3>{case.TITLE}</h3><p><b>SIMULATED</b> 12-hour passes of Cluster 1 (the shipped sample's pass, then "
            "the model's test passes) on the test years, under the "
            "generator family the model was trained on and under one it never saw; or your own Cluster Science "
            "Archive files of one spacecraft (FGM and CIS-HIA onboard moments, CEF-2.0 with their .ceh headers, "
            "or CDF), compared with the real crossings of Kruparova et al. (2019). Regions: solar wind, "
            "foreshock, magnetosheath, magnetosphere; a bow-shock crossing is a change between the first two "
            "and the last two.</p>")
        self.widget = widgets.VBox([about, widgets.HBox([self.menu, self.upload]), self.status, self.figure,
                                    self.table])
        run_guarded(self.status, self._select)

    def _pass(self, key):
        """The prepared SIMULATED pass ``key`` = (split, pass number), with its labels."""
        split, number = key
        if number == EXAMPLE:
            plan, seed = pd.DataFrame({"pass_id": [EXAMPLE], "start": [case.EXAMPLE_PASS["start"]]}), \
                case.EXAMPLE_PASS["seed"]
        else:
            plan, seed = self.plans[split], case.split_seed(self.config, split)
        return case.simulate_split(self.config, plan[plan["pass_id"] == number], FAMILIES[split], seed)

    def _select(self):
        """Show the menu's choice: prepared (a pass simulated), predicted and its downloads made once, then cached."""
        key = self.menu.value
        if key not in self.cache:
            ds = self.uploads[key] if key in self.uploads else self._pass(key)
            detection = case.predict(self.trained, ds)
            self.cache[key] = (ds, detection, download_links(detection, "crossings"))
        ds, detection, downloads = self.cache[key]
        reference = case.reference_crossings(ds)
        source = "true (simulation)" if "n_crossings" in ds else "Kruparova et al. 2019"
        show_figure(self.figure, case.plot_detection(self.trained, ds, detection))
        self.table.value = (f"<b>{len(detection.events)} crossings found</b>, {len(reference)} {source} "
                            f"{downloads}" + _crossing_table(detection.events, reference, source))

    def read_upload(self, paths):
        return case.prepare_for_model(case.read_input(paths), self.config)


def build_dashboard(model_folder=None):
    """Return the dashboard widget (for ``dashboard.ipynb``); an error message when it cannot start.

    ``model_folder``: default the shipped model."""
    return build_guarded(lambda: ClusterDashboard(model_folder))
