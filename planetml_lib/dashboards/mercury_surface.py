"""The Mercury surface-units dashboard: discover units with your settings, map a cube, see how well they match.

No model ships with this case, so the dashboard discovers the units itself, on the training blocks of a
coarse SIMULATED planet (``Config.fast()``: 6 deg cells, a few seconds per run once UMAP is compiled):
the number of ICA components (or ``auto``: where the reconstruction residual falls below the noise), the
UMAP neighbours, the number of units k (or ``auto``: the stable k of best silhouette) and whether UMAP
embeds the raw spectra (the original pipeline and the case's default) or the ICA sources. Changing a setting only
marks the map as out of date; **Run** discovers the units again (the button is disabled meanwhile).

The data menu holds the SIMULATED planet's test blocks (never seen by the discovery), the test blocks
of a planet from the held-out generator family, and any upload: a gridded cube (``.nc``, the layout of
``mercury_surface.write_cube``) or MASCS VIRS PDS3 products (label, table and format file together).
Each choice is mapped by the current units and shown as a unit map beside the mean spectrum of every
unit, with the adjusted Rand index and normalised mutual information against the SIMULATED truth where
there is one, and the unit table to download as CSV or GeoTIFF.
"""

import base64
import dataclasses
import html
import tempfile
import warnings
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from planetml_lib.cases import mercury_surface as case
from planetml_lib.cases.kinds import write_output
from planetml_lib.dashboards.common import (
    MEDIA_TYPES,
    UploadMenu,
    build_guarded,
    figure_widget,
    run_guarded,
    show_figure,
)
from planetml_lib.errors import PlanetMLError
from planetml_lib.simulate.mercury_surface import HELDOUT_FAMILY

AUTO = "auto"
#: Choices of the settings (``auto`` lets the case's rules decide).
COMPONENTS = (AUTO, *range(1, 9))
UNITS = (AUTO, *range(2, 9))
NEIGHBOURS = (5, 100)
EMBED_ON = {"raw spectra (original, default)": "spectra", "ICA sources": "sources"}
#: Download formats, the table first (a browser reads it), then the GeoTIFF (a GIS reads it).
DOWNLOADS = {".csv": MEDIA_TYPES[".csv"], ".tif": "image/tiff"}
UPLOAD_SUFFIXES = ".nc,.lbl,.dat,.fmt"
TEST_BLOCKS = "SIMULATED planet: test blocks (never used to discover the units)"
HELDOUT = f"SIMULATED planet of the held-out family '{HELDOUT_FAMILY.name}': test blocks"


def settings_config(base, n_components=AUTO, n_neighbors=15, n_units=AUTO, embed_on="spectra"):
    """``base`` with the dashboard's settings (``"auto"`` leaves the choice to the case's rules; an automatic
    number of units is chosen among the same k = 2-8 the menu offers).

    Raises PlanetMLError naming a setting outside its range.

    Examples
    --------
    >>> config = settings_config(case.Config.fast(), n_components=3, n_units=AUTO, embed_on="sources")
    >>> config.n_components, config.n_units, config.embed_on
    (3, None, 'sources')
    """
    if n_components not in COMPONENTS:
        raise PlanetMLError(f"ICA components must be 'auto' or 1-8, got {n_components!r}")
    if n_units not in UNITS:
        raise PlanetMLError(f"the number of units must be 'auto' or 2-8, got {n_units!r}")
    if not NEIGHBOURS[0] <= n_neighbors <= NEIGHBOURS[1]:
        raise PlanetMLError(f"UMAP neighbours must be {NEIGHBOURS[0]}-{NEIGHBOURS[1]}, got {n_neighbors!r}")
    if embed_on not in EMBED_ON.values():
        raise PlanetMLError(f"UMAP embeds 'sources' or 'spectra', got {embed_on!r}")
    return dataclasses.replace(base, n_components=None if n_components == AUTO else int(n_components),
                               n_units=None if n_units == AUTO else int(n_units), n_neighbors=int(n_neighbors),
                               embed_on=embed_on, k_range=(UNITS[1], UNITS[-1]), progress=False)


def unit_map_links(result, stem):
    """HTML links that download the unit table of a ``predict`` result as CSV and GeoTIFF (data URIs)."""
    links = []
    with tempfile.TemporaryDirectory() as folder:
        for suffix, media in DOWNLOADS.items():
            path = write_output(result, Path(folder) / f"{stem}{suffix}")
            data = base64.b64encode(path.read_bytes()).decode()
            links.append(f"<a download='{path.name}' href='data:{media};base64,{data}'>⬇ {html.escape(path.name)}</a>")
    return " &nbsp; ".join(links)


def describe_model(trained, fallback):
    """One HTML paragraph: what the units were discovered with, and how the automatic choices were made."""
    config, meta = trained.config, trained.metadata
    n_components, k = meta.model_options["n_components"], meta.postprocessing["n_units"]
    how_n = "auto: residual below the noise" if config.n_components is None else "fixed"
    how_k = "auto: the stable k of best silhouette" if config.n_units is None else "fixed"
    text = (f"<b>Units discovered</b> on {meta.training['training_cells']} SIMULATED training cells: "
            f"{n_components} ICA component{'s' if n_components > 1 else ''} ({how_n}); UMAP on the "
            f"{'ICA sources' if config.embed_on == 'sources' else 'raw spectra'} with {config.n_neighbors} "
            f"neighbours; <b>k = {k}</b> units ({how_k}).")
    if fallback:
        text += (" <span style='color:#a60'>No k reached stability "
                 f"{config.min_stability}: this k is the most stable one, a fallback rather than a finding.</span>")
    statistics = meta.postprocessing_chosen_on.get("k_statistics")
    if statistics:
        table = pd.DataFrame(statistics).pivot_table(index="metric", columns="k", values="value")
        text += "<br>k statistics of the discovery (training cells):" + table.round(2).to_html(border=0)
    return text


class SurfaceUnitsDashboard(UploadMenu):
    """State and callbacks of the dashboard; ``widget`` is what the notebook displays."""

    def __init__(self, config=None):
        self.base = config or case.Config.fast()
        self.data = case.load_data(self.base)
        heldout = case.load_data(dataclasses.replace(self.base, family=HELDOUT_FAMILY.name))["test"]
        self.cubes = {"test": self.data["test"], "heldout": heldout}
        self.uploads, self.maps = {}, {}
        self.trained, self.run_settings, self.fallback = None, None, False
        self.menu = widgets.Dropdown(options=[(TEST_BLOCKS, "test"), (HELDOUT, "heldout")], description="Cube",
                                     layout=widgets.Layout(width="40em"))
        self.upload = widgets.FileUpload(accept=UPLOAD_SUFFIXES, multiple=True, description="Upload cube",
                                         layout=widgets.Layout(width="auto"))
        style = {"description_width": "9em"}
        self.components = widgets.Dropdown(options=COMPONENTS, value=AUTO, description="ICA components",
                                           style=style, layout=widgets.Layout(width="18em"))
        self.units = widgets.Dropdown(options=UNITS, value=AUTO, description="units k", style=style,
                                      layout=widgets.Layout(width="18em"))
        self.neighbours = widgets.IntSlider(value=self.base.n_neighbors, min=NEIGHBOURS[0], max=NEIGHBOURS[1],
                                            description="UMAP neighbours", continuous_update=False, style=style)
        self.embed_on = widgets.ToggleButtons(options=list(EMBED_ON.items()), value=self.base.embed_on,
                                              description="UMAP embeds", style=style)
        self.run = widgets.Button(description="Run", button_style="primary", icon="play",
                                  tooltip="discover the units again with these settings")
        self.pending = widgets.HTML()
        self.status = widgets.HTML()
        self.figure = figure_widget()
        self.scores = widgets.HTML()
        self.model = widgets.HTML()
        self.menu.observe(self._on_choice, "value")
        self.upload.observe(lambda _: run_guarded(self.status, self._select_upload), "value")
        for setting in (self.components, self.units, self.neighbours, self.embed_on):
            setting.observe(lambda _: run_guarded(self.status, self._mark_pending), "value")
        self.run.on_click(lambda _: run_guarded(self.status, self._run))
        about = widgets.HTML(
            f"<h3>{html.escape(case.TITLE)}</h3><p>Surface units of Mercury discovered without labels from "
            "reflectance spectra (268-975 nm): ICA, a UMAP embedding, clustering. The units are discovered on the "
            f"training blocks of a <b>SIMULATED</b> planet ({self.base.resolution_deg:g} deg cells; the global "
            "MASCS cube is not available offline) and carried to the cube you pick; scores compare them with the "
            "simulation's true units. Change the settings and press <b>Run</b> (a few seconds; the first run of a "
            "session also compiles UMAP). Upload a gridded cube (.nc, reflectance (wavelength, lat, lon)) or MASCS "
            "VIRS PDS3 products (the .lbl, .dat and VIRSVD.FMT files together).</p>")
        self.widget = widgets.VBox([
            about, widgets.HBox([self.menu, self.upload]),
            widgets.HBox([self.components, self.units]), widgets.HBox([self.neighbours, self.embed_on]),
            widgets.HBox([self.run, self.pending]), self.status, self.figure, self.scores, self.model])
        run_guarded(self.status, self._run)

    def settings(self):
        """The current settings as keyword arguments of :func:`settings_config`."""
        return {"n_components": self.components.value, "n_neighbors": self.neighbours.value,
                "n_units": self.units.value, "embed_on": self.embed_on.value}

    def _mark_pending(self):
        changed = self.run_settings is not None and self.settings() != self.run_settings
        self.pending.value = ("<span style='color:#a60'>settings changed: press Run to discover the units with "
                              "them (the map below is from the previous run)</span>" if changed else "")

    def _run(self):
        """Discover the units with the current settings, then map the menu's cube."""
        settings = self.settings()
        config = settings_config(self.base, **settings)
        self.run.disabled = True
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                trained = case.train(config, self.data)
        finally:
            self.run.disabled = False
        self.trained, self.run_settings, self.maps = trained, settings, {}
        self.fallback = any("no k reaches stability" in str(w.message) for w in caught)
        self.model.value = describe_model(trained, self.fallback)
        self._mark_pending()
        self._select()

    def _select(self):
        """Map the menu's cube with the current units (once per run and cube) and show it."""
        if self.trained is None:
            raise PlanetMLError("no units discovered yet: press Run")
        key = self.menu.value
        cube = self.uploads[key] if key in self.uploads else self.cubes[key]
        if key not in self.maps:
            result = case.predict(self.trained, cube)
            scores = None
            if "unit" in cube:
                scores = case.evaluate(self.trained, cube, allow_training_data=True).set_index("metric")
            self.maps[key] = (result, scores, unit_map_links(result, "mercury_units"))
        result, scores, links = self.maps[key]
        show_figure(self.figure, case.plot_results(self.trained, cube))
        counts = result.cells["unit"].value_counts().sort_index()
        line = (f"<b>{len(result.cells)} cells mapped</b> into {len(counts)} units ("
                + ", ".join(f"unit {unit}: {n}" for unit, n in counts.items()) + "). ")
        if scores is None and "seed" not in cube.attrs:
            line += ("Not a simulated cube: there is no truth to score against, and the units were discovered on "
                     "the SIMULATED planet, so read this map as a demonstration of the steps, not as a result. ")
        elif scores is None:
            line += "No true unit map with this cube, so no score. "
        else:
            value = scores["value"]
            line += (f"Against the SIMULATED true units: adjusted Rand index <b>{value['adjusted_rand']:.2f}</b>, "
                     f"normalised mutual information <b>{value['normalised_mutual_information']:.2f}</b> "
                     "(1: the same partition, 0: chance)")
            line += ("; these cells were used to discover the units, so this is no test score. "
                     if "training" in set(scores["data"]) else ". ")
        self.scores.value = f"{line}<br>Unit table: {links}"

    def read_upload(self, paths):
        """The uploaded cube or MASCS products as a cube; an error names the files, never the server's folder
        (``error_html`` strips the folder only where a file name follows it)."""
        try:
            return case.read_input(paths)
        except PlanetMLError as error:
            folder = str(Path(paths[0]).parent)
            message = str(error).replace(f"{folder}/", "").replace(folder, "the upload")
            raise type(error)(message) from None


def build_dashboard(config=None):
    """Return the dashboard widget (for ``dashboard.ipynb``); an error message when it cannot start.

    ``config``: the base configuration of the discovery, default ``Config.fast()`` (the settings replace
    its ICA components, UMAP neighbours and input, and number of units).
    """
    return build_guarded(lambda: SurfaceUnitsDashboard(config))
