"""The Mars mounds dashboard: pick a (simulated) scene or upload a GeoTIFF, see the mounds, download them.

Shows the scene with the predicted mound outlines over it (and the true ones for simulated
scenes), the mound table with its morphometry, and links to download the outlines as GeoJSON
or GeoPackage. An upload joins the scene menu under its file name. Simulated scenes are made on
demand (under a second each) and cached.
"""

import html

import ipywidgets as widgets

from planetml_lib.cases import mars_mounds as case
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
from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.objects import evaluate_pixels

SCENE_SIZE = 512       # pixels a side of the simulated scenes shown
TABLE_ROWS = 15        # largest mounds listed
INPUT_LABELS = {"DTM (elevation, slope, hillshade)": "dtm", "image only": "image"}
TABLE_COLUMNS = {"x_m": "centre x (m)", "y_m": "centre y (m)", "area_m2": "area (m²)", "diameter_m": "diameter (m)",
                 "height_m": "height (m)", "score": "score (0-1)"}


def _mound_table(mounds):
    """The largest mounds, with centre and morphometry, as HTML with the units in the headers."""
    table = mounds.sort_values("area_m2", ascending=False).head(TABLE_ROWS)
    centres = table.geometry.centroid
    table = table.assign(x_m=centres.x.round().astype(int), y_m=centres.y.round().astype(int))[list(TABLE_COLUMNS)]
    return table.rename(columns=TABLE_COLUMNS).round(2).to_html(index=False, border=0, na_rep="–")


class MoundsDashboard:
    """State and callbacks of the dashboard; ``widget`` is what the notebook displays."""

    def __init__(self, models=None):
        folders = models or case.SHIPPED_MODELS
        self.models = {kind: case.load_trained(folder) for kind, folder in folders.items()}
        self.config = case.Config()
        config = self.config
        self.scenes = {f"test scene {i + 1}: {pixel_m:g} m pixels (seed {config.test_seed + i})":
                       (config.test_seed + i, pixel_m) for i, pixel_m in enumerate(config.scene_pixels_m)}
        self.cache = {}
        self.uploads = {}  # menu value of an upload -> (its name, {input kind: scene})
        self.scene = widgets.Dropdown(options=[(label, label) for label in self.scenes], description="Scene",
                                      layout=widgets.Layout(width="32em"))
        self.inputs = widgets.ToggleButtons(options=list(INPUT_LABELS), description="Model input")
        self.upload = widgets.FileUpload(accept=".tif,.tiff", multiple=False, description="Upload GeoTIFF",
                                         layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML()
        self.figure = figure_widget()
        self.summary = widgets.HTML()
        self.table = widgets.HTML()
        self.scene.observe(self._on_scene, "value")
        self.inputs.observe(lambda _: run_guarded(self.status, self._refresh), "value")
        self.upload.observe(lambda _: run_guarded(self.status, self._select_upload), "value")
        about = widgets.HTML(
            f"<h3>{html.escape(case.TITLE)}</h3><p><b>Simulated</b> Mars scenes (fractal terrain, craters, mound "
            "fields; not Mars data) never used in training, or your own single-band GeoTIFF: a DTM in metres, "
            "or an image with <i>image only</i> selected, in a projected CRS, pixels of about 1-20 m.</p>")
        self.widget = widgets.VBox([about, widgets.HBox([self.scene, self.upload]), self.inputs, self.status,
                                    self.figure, self.summary, self.table])
        self.current = None
        run_guarded(self.status, self._select_scene)

    @property
    def kind(self):
        return INPUT_LABELS[self.inputs.value]

    def _on_scene(self, _change):
        run_guarded(self.status, self._select_scene)

    def _select_scene(self):
        if self.scene.value in self.uploads:
            self.current = self.uploads[self.scene.value]
        else:
            seed, pixel_m = self.scenes[self.scene.value]
            scene = case.simulate_scene(self.config, seed, pixel_m, size=SCENE_SIZE)
            self.current = (self.scene.value, {kind: scene for kind in INPUT_LABELS.values()})
        self._refresh()

    def _select_upload(self):
        if not self.upload.value:
            return
        path = save_uploads(self.upload.value)[0]
        key = ("upload", len(self.uploads))  # each upload anew: a file of the same name may hold other data
        self.uploads[key] = (path.name, {self.kind: case.read_input(path, image=self.kind == "image")})
        select_new_option(self.scene, upload_label([path]), key, self._on_scene)
        self._select_scene()

    def _refresh(self):
        name, scenes = self.current
        if self.kind not in scenes:
            raise PlanetMLError(f"{name} was uploaded as {'a DTM' if self.kind == 'image' else 'an image'}; "
                                "upload it again with this input selected")
        key = (self.scene.value, self.kind)
        if key not in self.cache:
            self.cache[key] = case.predict(self.models[self.kind], scenes[self.kind])
        probability, mounds = self.cache[key]
        scene = scenes[self.kind]
        show_figure(self.figure, case.plot_detection(scene, self.cache[key]))
        line = f"<b>{len(mounds)} mounds found</b> in {html.escape(name)} from {self.inputs.value}"
        if "mask" in scene:
            iou = evaluate_pixels(scene["mask"].values, probability.values,
                                  threshold=self.models[self.kind].metadata.postprocessing["threshold"]).set_index("metric")
            line += (f"; simulated truth: {int(scene['mound_id'].max())} mounds, "
                     f"pixel IoU {float(iou.loc['IoU', 'value']):.2f}")
        downloads = download_links(self.cache[key], "mounds") if len(mounds) else ""
        self.summary.value = f"{line}<br>{downloads}"
        self.table.value = _mound_table(mounds) if len(mounds) else ""


def build_dashboard(models=None):
    """Return the dashboard widget (for ``dashboard.ipynb``); an error message when it cannot start."""
    try:
        return MoundsDashboard(models).widget
    except PlanetMLError as error:
        return widgets.HTML(error_html(error))

