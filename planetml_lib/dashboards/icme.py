"""The ICME dashboard: pick a model, a series (or upload one), a time range, and see the detections.

The series: any year of the hourly OMNI2 sample (1998-2018; each labelled with what it is to the
held-out model: a training, validation or test year), the STEREO-A and STEREO-B series (other
spacecraft) and the raw Wind CDF files of May 2024; an upload joins that menu under its file names.
The models: ResUNet++ and the Nguyen et al. (2019) baseline, both held out from 2017 on.
``icme.predict`` averages finer series onto the model's hour and returns the probability on the
series' own time axis. Predictions for a whole series are computed once per model and cached, so
moving the time range only redraws the figure and the table (well under a second). Where ICMECAT
has no events of the spacecraft before and after the series, the page says "no catalogue coverage"
rather than counting 0 true events.
"""

from functools import cache

import ipywidgets as widgets
import pandas as pd

from planetml_lib.cases import icme
from planetml_lib.dashboards.common import (
    download_links,
    error_html,
    figure_widget,
    quietly,
    run_guarded,
    save_uploads,
    select_new_option,
    show_figure,
    upload_label,
)
from planetml_lib.datasets import load_catalog, load_sample
from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess import regularize
from planetml_lib.viz import plot_prediction

OMNI_SAMPLE = "omni2_1998_2018"
#: What each OMNI year is to the held-out model: ``icme.Config``'s splits by year (1998-2014, 2015-2016, 2017-2018).
OMNI_ROLES = {year: f"{role} year" for role, (first, last) in
              (("training", icme.Config.train_period), ("validation", icme.Config.validation_period),
               ("test", icme.Config.test_period))
              for year in range(int(first[:4]), int(last[:4]) + 1)}
#: Data menu label -> (shipped sample, year of it or None for all of it).
SAMPLES = {
    **{f"OMNI {year} ({role})": (OMNI_SAMPLE, year) for year, role in OMNI_ROLES.items()},
    "STEREO-A 2019 (other spacecraft, never trained on)": ("stereoa_2019", None),
    "STEREO-B 2013-2014 (other spacecraft, never trained on)": ("stereob_2013_2014", None),
    "Wind, May 2024 superstorm (raw CDAWeb CDF)": ("wind_2024_05", None),
}
DEFAULT_SAMPLE = "OMNI 2017 (test year)"
EVENT_COLUMNS = ["start", "end", "label"]
NO_COVERAGE = "no catalogue coverage"


@cache
def _load_series(name):
    """A shipped sample on the regular grid of its own cadence (loaded once: OMNI years are slices of it)."""
    ds = load_sample(name)
    return ds if "valid" in ds else regularize(ds)


def _select(name, year):
    """The series of a dropdown entry: a year of the sample ``name``, or all of it when ``year`` is None."""
    ds = _load_series(name)
    return ds if year is None else ds.sel(time=str(year))


def _overlapping(events, first, last):
    """The events that overlap [first, last]: what the figure and the table of a time range show."""
    return events[(events["end"] >= first) & (events["start"] <= last)][EVENT_COLUMNS]


def _reference(ds):
    """Catalogue events of the series' spacecraft over its time span; None where the catalogue does not
    cover that spacecraft then (no events of it before and after), so that "0 events" is never a guess."""
    try:
        events = load_catalog(ds.attrs.get("catalog", "icmecat"), spacecraft=ds.attrs.get("spacecraft", "unknown"))
    except PlanetMLError:
        return None
    first, last = pd.Timestamp(ds.time.values[0]), pd.Timestamp(ds.time.values[-1])
    if not len(events) or events["start"].min() > last or events["end"].max() < first:
        return None
    return _overlapping(events, first, last)


def _days(ds):
    """The calendar days the series spans, first to last: the range slider's positions."""
    first, last = pd.Timestamp(ds.time.values[0]), pd.Timestamp(ds.time.values[-1])
    return pd.date_range(first.normalize(), last.normalize(), freq="1D")


def _events_html(predicted, reference):
    table = predicted.assign(duration_h=((predicted["end"] - predicted["start"]).dt.total_seconds() / 3600).round(1))
    known = NO_COVERAGE if reference is None else f"{len(reference)} in the catalogue"
    return f"<b>{len(predicted)} predicted events</b> in this range ({known})" + table.to_html(index=False, border=0)


def _plot(ds, probability, events, reference, threshold):
    """The figure of a time range; its title says when the catalogue does not cover the series."""
    fig = plot_prediction(ds, probability, reference if reference is not None else events.iloc[:0], events,
                          variables=("bt", "bz", "vt"), threshold=threshold)
    if reference is None:
        fig.axes[0].set_title(f"{NO_COVERAGE} (no true events known), predicted events (red): {len(events)}")
    return fig


class ICMEDashboard:
    """State and callbacks of the dashboard; ``widget`` is what the notebook displays."""

    def __init__(self, model_folders=None):
        folders = model_folders or icme.HELDOUT_MODELS
        self.models = {name: icme.load_trained(folder) for name, folder in folders.items()}
        self.cache = {}    # (model name, series key) -> (series, probability, events, reference, download links)
        self.uploads = {}  # series key of an upload -> its series
        wide = {"description_width": "initial"}
        self.model = widgets.ToggleButtons(options=list(self.models), description="Model",
                                           style={**wide, "button_width": "auto"})
        self.source = widgets.Dropdown(options=[(label, key) for label, key in SAMPLES.items()],
                                       value=SAMPLES[DEFAULT_SAMPLE], description="Data",
                                       layout=widgets.Layout(width="44em"))
        self.upload = widgets.FileUpload(accept=".csv,.gz,.cdf,.dat", multiple=True,
                                         description="Upload CSV/OMNI2/CDF", layout=widgets.Layout(width="auto"))
        self.days = widgets.SelectionRangeSlider(options=[pd.Timestamp("2000-01-01")], description="Range",
                                                 readout=False, layout=widgets.Layout(width="70%"))
        self.shown = widgets.Label()
        self.status = widgets.HTML()
        self.figure = figure_widget()
        self.table = widgets.HTML()
        self.model.observe(lambda _: self._guard(self._show_series), "value")
        self.source.observe(self._on_source, "value")
        self.upload.observe(lambda _: self._guard(self._select_upload), "value")
        self.days.observe(self._on_range, "value")
        about = widgets.HTML(f"<h3>{icme.TITLE}</h3><p>Models: ResUNet++ and the Nguyen et al. (2019) baseline, "
                             "both trained on OMNI 1998-2016 only (fitted on 1998-2014, stopped early on "
                             "2015-2016), at a cadence of 1 h: OMNI 2017-2018, STEREO-A, STEREO-B and Wind 2024 are "
                             "unseen; finer data are averaged onto its hour. Grey: catalogue ICMEs (Wind's for "
                             "OMNI, ICMECAT for STEREO and Wind); red: detected.</p>")
        self.widget = widgets.VBox([about, self.model, widgets.HBox([self.source, self.upload]),
                                    widgets.HBox([self.days, self.shown]), self.status, self.figure, self.table])
        self._guard(self._select_series)

    def _guard(self, callback):
        run_guarded(self.status, callback)

    def _on_range(self, _change):
        self._guard(self._redraw)

    def _on_source(self, _change):
        self._guard(self._select_series)

    def _series(self):
        key = self.source.value
        return self.uploads[key] if key in self.uploads else _select(*key)

    def _select_series(self):
        """A new series: the range slider's limits become its days, then the detections are shown."""
        days = _days(self._series())
        with quietly(self.days, self._on_range):
            self.days.options = [(d.strftime("%Y-%m-%d"), d) for d in days]
            self.days.index = (0, min(len(days) - 1, 60))
        self._show_series()

    def _show_series(self):
        key = (self.model.value, self.source.value)
        if key not in self.cache:
            ds = self._series()
            detection = icme.predict(self.models[self.model.value], ds)
            self.cache[key] = (ds, *detection, _reference(ds), download_links(detection, "icme_events"))
        self._redraw()

    def _select_upload(self):
        if not self.upload.value:
            return
        paths = save_uploads(self.upload.value)
        key = ("upload", len(self.uploads))  # each upload anew: a file of the same name may hold other data
        self.uploads[key] = icme.read_input(paths)
        select_new_option(self.source, upload_label(paths), key, self._on_source)
        self._select_series()

    def _redraw(self):
        ds, probability, events, reference, downloads = self.cache[(self.model.value, self.source.value)]
        first, last = self.days.value[0], self.days.value[1] + pd.Timedelta(days=1)
        self.shown.value = f"{first:%Y-%m-%d} to {self.days.value[1]:%Y-%m-%d}"
        window = slice(first, last)
        events = _overlapping(events, first, last)
        reference = None if reference is None else _overlapping(reference, first, last)
        threshold = self.models[self.model.value].metadata.postprocessing["threshold"]
        show_figure(self.figure, _plot(ds.sel(time=window), probability.sel(time=window), events, reference, threshold))
        self.table.value = f"{_events_html(events, reference)}<p>All events of the series: {downloads}</p>"


def build_dashboard(model_folders=None):
    """Return the dashboard widget (for ``dashboard.ipynb``); an error message widget when it cannot start.

    ``model_folders``: {name: folder} of the models offered, default ``icme.HELDOUT_MODELS``.
    A missing or unreadable model folder is a user error: the page then says so in one line
    instead of Voila's generic cell-error notice.
    """
    try:
        return ICMEDashboard(model_folders).widget
    except PlanetMLError as error:
        return widgets.HTML(error_html(error))
