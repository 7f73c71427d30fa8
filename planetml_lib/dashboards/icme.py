"""The ICME dashboard: pick a series (or upload one), a time range, and see the detections.

The series: any year of the hourly OMNI2 sample (1998-2018; each labelled with what it is to the
held-out model: a training, validation or test year), the STEREO-A and STEREO-B series (other
spacecraft) and the raw Wind CDF files of May 2024. ``icme.predict`` averages finer series onto the
model's hour and returns the probability on the series' own time axis. Predictions for a whole
series are computed once and cached, so moving the time range only redraws the figure and the
table (well under a second).
"""

from functools import cache

import ipywidgets as widgets
import pandas as pd

from planetml_lib.cases import icme
from planetml_lib.cases.series_detection import catalogue_events
from planetml_lib.dashboards.common import (
    download_links,
    error_html,
    figure_widget,
    run_guarded,
    save_uploads,
    show_figure,
)
from planetml_lib.datasets import load_sample
from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess import regularize
from planetml_lib.viz import plot_prediction

HELDOUT_MODEL = icme.HELDOUT_MODELS["ResUNet++"]
OMNI_SAMPLE = "omni2_1998_2018"
#: What each OMNI year is to the held-out model: ``icme.Config``'s splits by year (1998-2014, 2015-2016, 2017-2018).
OMNI_ROLES = {year: f"{role} year" for role, (first, last) in
              (("training", icme.Config.train_period), ("validation", icme.Config.validation_period),
               ("test", icme.Config.test_period))
              for year in range(int(first[:4]), int(last[:4]) + 1)}
#: Dropdown label -> (shipped sample, year of it or None for all of it).
SAMPLES = {
    **{f"OMNI {year} ({role})": (OMNI_SAMPLE, year) for year, role in OMNI_ROLES.items()},
    "STEREO-A 2019 (other spacecraft, never trained on)": ("stereoa_2019", None),
    "STEREO-B 2013-2014 (other spacecraft, never trained on)": ("stereob_2013_2014", None),
    "Wind, May 2024 superstorm (raw CDAWeb CDF)": ("wind_2024_05", None),
}
DEFAULT_SAMPLE = "OMNI 2017 (test year)"
EVENT_COLUMNS = ["start", "end", "label"]


@cache
def _load_series(name):
    """A shipped sample on the regular grid of its own cadence (loaded once: OMNI years are slices of it)."""
    ds = load_sample(name)
    return ds if "valid" in ds else regularize(ds)


def _select(name, year):
    """The series of a dropdown entry: a year of the sample ``name``, or all of it when ``year`` is None."""
    ds = _load_series(name)
    return ds if year is None else ds.sel(time=str(year))


def _reference(ds):
    """Catalogue events for the series' spacecraft, or none where its catalogue does not cover it."""
    try:
        return catalogue_events(ds)
    except PlanetMLError:
        return pd.DataFrame({"start": pd.to_datetime([]), "end": pd.to_datetime([]), "label": []})


def _overlapping(events, first, last):
    """The events that overlap [first, last]: what the figure and the table of a time range show."""
    return events[(events["end"] >= first) & (events["start"] <= last)][EVENT_COLUMNS]


def _events_html(predicted, reference):
    table = predicted.assign(duration_h=((predicted["end"] - predicted["start"]).dt.total_seconds() / 3600).round(1))
    header = f"<b>{len(predicted)} predicted events</b> in this range ({len(reference)} in the catalogue)"
    return header + table.to_html(index=False, border=0)


class ICMEDashboard:
    """State and callbacks of the dashboard; ``widget`` is what the notebook displays."""

    def __init__(self, model_folder=HELDOUT_MODEL):
        self.trained = icme.load_trained(model_folder)
        self.cache = {}
        self.source = widgets.Dropdown(options=list(SAMPLES), value=DEFAULT_SAMPLE, description="Data",
                                       layout=widgets.Layout(width="32em"))
        self.upload = widgets.FileUpload(accept=".csv,.gz,.cdf,.dat", multiple=True,
                                         description="Upload CSV/OMNI2/CDF", layout=widgets.Layout(width="16em"))
        self.days = widgets.SelectionRangeSlider(options=[pd.Timestamp("2000-01-01")], description="Range",
                                                 layout=widgets.Layout(width="95%"))
        self.status = widgets.HTML()
        self.figure = figure_widget()
        self.table = widgets.HTML()
        self.source.observe(lambda _: self._guard(self._select_sample), "value")
        self.upload.observe(lambda _: self._guard(self._select_upload), "value")
        self.days.observe(self._on_range, "value")
        about = widgets.HTML(f"<h3>{icme.TITLE}</h3><p>Model: ResUNet++ trained on OMNI 1998-2016 only (fitted on "
                             "1998-2014, stopped early on 2015-2016), at a cadence of 1 h: OMNI 2017-2018, STEREO-A, "
                             "STEREO-B and Wind 2024 are unseen; finer data are averaged onto its hour. Grey: "
                             "catalogue ICMEs (Wind's for OMNI, ICMECAT for STEREO); red: detected.</p>")
        self.widget = widgets.VBox([about, widgets.HBox([self.source, self.upload]), self.days, self.status,
                                    self.figure, self.table])
        self._guard(self._select_sample)

    def _guard(self, callback):
        run_guarded(self.status, callback)

    def _on_range(self, _change):
        self._guard(self._redraw)

    def _use(self, key, ds):
        if key not in self.cache:
            detection = icme.predict(self.trained, ds)
            self.cache[key] = (ds, *detection, _reference(ds), download_links(detection, "icme_events"))
        self.key = key
        days = pd.date_range(ds.time.values[0], ds.time.values[-1], freq="1D").normalize().unique()
        span = min(len(days) - 1, 60)
        # Options and index change one after the other (ipywidgets checks a held index against
        # the old options), with the range observer off meanwhile (one redraw, not two), and reach
        # the browser as one message: sent apart, the browser echoes the intermediate (0, 0) back
        # and the figure ends up showing another range than the slider.
        self.days.unobserve(self._on_range, "value")
        try:
            with self.days.hold_sync():
                self.days.options = [(d.strftime("%Y-%m-%d"), d) for d in days]
                self.days.index = (0, max(span, 1) if len(days) > 1 else 0)
        finally:
            self.days.observe(self._on_range, "value")
        self._redraw()

    def _select_sample(self):
        key = SAMPLES[self.source.value]
        self._use(key, _select(*key))

    def _select_upload(self):
        if not self.upload.value:
            return
        paths = save_uploads(self.upload.value)
        self._use(tuple(sorted(p.name for p in paths)), icme.read_input(paths))

    def _redraw(self):
        ds, probability, events, reference, downloads = self.cache[self.key]
        first, last = self.days.value[0], self.days.value[1] + pd.Timedelta(days=1)
        window = slice(first, last)
        events, reference = _overlapping(events, first, last), _overlapping(reference, first, last)
        show_figure(self.figure, plot_prediction(ds.sel(time=window), probability.sel(time=window), reference,
                                                 events, variables=("bt", "bz", "vt"),
                                                 threshold=self.trained.metadata.postprocessing["threshold"]))
        self.table.value = f"{_events_html(events, reference)}<p>All events of the series: {downloads}</p>"


def build_dashboard(model_folder=HELDOUT_MODEL):
    """Return the dashboard widget (for ``dashboard.ipynb``); an error message widget when it cannot start.

    A missing or unreadable model folder is a user error: the page then says so in one line
    instead of Voila's generic cell-error notice.
    """
    try:
        return ICMEDashboard(model_folder).widget
    except PlanetMLError as error:
        return widgets.HTML(error_html(error))
