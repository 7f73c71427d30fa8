"""Mars mounds mapped from a DTM or a panchromatic image: UNet segmentation, optional GAN-made tiles.

A U-Net labels every pixel as mound or not, tile by tile (tiles overlap and are blended back
into the scene); the mask becomes one georeferenced polygon per mound with its area, diameter
and, with a DTM, its height. Inputs are either three channels derived from a DTM (relative
elevation, slope, hillshade) or the image alone.

No labelled mound DTM can be shipped, so training, tests and demos run on SIMULATED scenes
(:mod:`planetml_lib.simulate.mars_terrain`); every result of this case on them says so. Real
GeoTIFF rasters are read by :func:`read_input` for prediction. Splits: training scenes are cut
80/20 into training and validation tiles by spatial block; test scenes are other simulated
scenes (other seeds), never seen in training.

Scale: the model is trained on scenes of several pixel sizes (``Config.scene_pixels_m``); a
raster with pixels outside ``Config.pixel_range_m`` is resampled into that range before
prediction and the result resampled back, so mounds keep the size in pixels the model knows.
"""

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from scipy import ndimage

from planetml_lib.cases import trained as _trained
from planetml_lib.cases.base import Kind, ObjectDetection
from planetml_lib.cases.kinds import check_options, data_records, guard_training_data, write_output
from planetml_lib.cases.metadata import ModelMetadata
from planetml_lib.cases.trained import TrainedModel
from planetml_lib.datasets import DATA_DIR, register_sample
from planetml_lib.device import model_device
from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.objects import evaluate_pixels, mask_to_polygons, match_objects, object_scores
from planetml_lib.evaluate.thresholds import choose_threshold
from planetml_lib.io.geotiff import read_geotiff, write_geotiff
from planetml_lib.models import create_model
from planetml_lib.preprocess.images import predict_tiled, scale_to_unit, spatial_block_split, to_tiles
from planetml_lib.preprocess.terrain import hillshade, terrain_channels
from planetml_lib.simulate.mars_terrain import simulate_mound_field
from planetml_lib.train.adversarial import generate_pairs, train_gan
from planetml_lib.train.augment import AugmentedTiles
from planetml_lib.train.loop import fit, predict_batches, seeded
from planetml_lib.train.systems import DiceBCELoss, iou_loss
from planetml_lib.vo.epncore import Observation

NAME = "mars_mounds"
TITLE = "Mars mounds from a DTM or an image (UNet, with and without GAN-made tiles; simulated)"
#: What the catalogue is about, in EPN-TAP terms (planetml publish).
OBSERVATION = Observation(
    "Mars", "planet", "Mars Reconnaissance Orbiter", "HiRISE/CTX DTM", "pos.bodyrc.alt", "surface",
)
KIND = Kind.RASTER_OBJECTS
METRIC_LEVELS = ("pixel", "object")  # the ``level`` column of evaluate()
SHIPPED_MODELS = {"dtm": DATA_DIR / "models" / "mars_mounds_unet_dtm",
                  "image": DATA_DIR / "models" / "mars_mounds_unet_image"}
SIMULATION = "fractal terrain with craters and mound fields (planetml_lib.simulate.mars_terrain), not Mars data"
INPUTS = {"dtm": "elevation, slope and hillshade from a DTM", "image": "a panchromatic image alone"}
MIN_RASTER_PX = 8  # smaller rasters are refused: no mound fits (and slopes need several pixels)
HILLSHADE_SUN = (315.0, 45.0)  # azimuth and elevation of the hillshade channel (cartographic default)

register_sample("simulated_dtm", "mars_mounds/simulated_dtm_seed20000_5m.tif",
                "SIMULATED Mars DTM GeoTIFF, 320 x 320 px of 5 m, about 20 mounds (tools/make_mounds_sample.py)", NAME)


@dataclass(frozen=True)
class Config:
    """Settings of the Mars mounds case; override with ``dataclasses.replace``."""

    inputs: str = "dtm"                            # "dtm" (3 terrain channels) or "image" (1 channel)
    scene_size: int = 768                          # simulated scenes are square, this many pixels a side
    scene_pixels_m: tuple = (3.0, 4.0, 5.0, 6.5, 8.0)  # pixel sizes of the simulated scenes, in turn
    pixel_range_m: tuple = (3.0, 8.0)              # inputs with other pixel sizes are resampled into it
    mounds_per_km2: float = 8.0                    # mound density of the simulated scenes
    n_train_scenes: int = 8
    n_test_scenes: int = 5
    test_seed: int = 10_000                        # test scenes use seeds test_seed, test_seed + 1, ...
    seed: int = 0                                  # training scenes, tile split and training
    tile: int = 128
    overlap: int = 32
    block: int = 256                               # side of the spatial blocks of the 80/20 split (px)
    val_fraction: float = 0.2
    model: str = "unet2d"
    model_options: dict = field(default_factory=lambda: {
        "encoder": "mobilenet_v2", "encoder_depth": 4, "decoder_channels": [64, 32, 16, 16]})
    epochs: int = 15
    samples_per_epoch: int = 384                   # tiles drawn per epoch: the same budget with or without GAN tiles
    batch_size: int = 16
    lr: float = 1e-3
    patience: int = 5                              # epochs without a better validation IoU
    bce_weight: float = 0.5
    scale_range: tuple = (0.8, 1.25)               # zoom of the augmentation
    gan_tiles: int = 0                             # GAN-made tiles added to the training pool (0: none)
    gan_epochs: int = 40
    gan_options: dict = field(default_factory=lambda: {"latent_dim": 64, "width": 16})
    min_area_px: int = 8                           # smaller predicted objects are dropped
    progress: bool = True

    @classmethod
    def fast(cls):
        """Small scenes and a tiny model: seconds, for tests and notebooks."""
        return cls(scene_size=256, scene_pixels_m=(5.0,), n_train_scenes=2, n_test_scenes=1, tile=64,
                   overlap=16, block=128, model_options={"encoder": "resnet18", "encoder_depth": 3,
                                                         "decoder_channels": [16, 8, 8]},
                   epochs=1, samples_per_epoch=32, gan_epochs=1, gan_options={"latent_dim": 8, "width": 4},
                   progress=False)


def _check_inputs(config):
    if config.inputs not in INPUTS:
        raise PlanetMLError(f"inputs must be one of {sorted(INPUTS)}, got {config.inputs!r}")


def simulate_scene(config, seed, pixel_m, size=None):
    """One simulated scene with ``config.mounds_per_km2`` mounds, ``size`` (default ``config.scene_size``) a side."""
    size = size or config.scene_size
    scene, _ = simulate_mound_field(size, pixel_m, round(config.mounds_per_km2 * (size * pixel_m / 1000) ** 2),
                                    seed=seed)
    return scene


def simulate_scenes(config, split):
    """The simulated scenes of ``split`` ("train" or "test"): a list of Datasets. SIMULATED."""
    seed0, count = {"train": (config.seed, config.n_train_scenes),
                    "test": (config.test_seed, config.n_test_scenes)}[split]
    scenes = []
    for i in range(count):
        pixel_m = config.scene_pixels_m[i % len(config.scene_pixels_m)]
        scene = simulate_scene(config, seed0 + i, pixel_m)
        scenes.append(scene.assign_attrs(name=f"{split} scene {i + 1} (seed {seed0 + i}, {pixel_m:g} m)"))
    return scenes


def load_data(config):
    """Simulated scenes: ``{"train": [...], "test": [...]}``, disjoint seeds. SIMULATED.

    The validation tiles come from spatial blocks of the training scenes (see :func:`make_tiles`).
    """
    return {split: simulate_scenes(config, split) for split in ("train", "test")}


def read_input(paths, **options):
    """Read one single-band GeoTIFF: a DTM in metres (default) or, with ``image=True``, a panchromatic image.

    Nodata pixels are NaN (masked in the prediction). ``pixel_m`` gives the pixel size when the
    file has no CRS (else it is taken from the transform, which must be in metres).
    """
    check_options(options, KIND)
    image, pixel_m = bool(options.get("image", False)), options.get("pixel_m")
    paths = list(np.atleast_1d(paths))
    if len(paths) != 1:
        raise PlanetMLError(f"give one raster file, got {len(paths)}")
    raster = read_geotiff(paths[0])
    if raster.sizes["band"] != 1:
        raise PlanetMLError(f"{paths[0]}: has {raster.sizes['band']} bands; give a single-band "
                            f"{'image' if image else 'DTM'} (e.g. gdal_translate -b 1)")
    height, width = raster.sizes["y"], raster.sizes["x"]
    if min(height, width) < MIN_RASTER_PX:
        raise PlanetMLError(f"{paths[0]}: is {height} x {width} pixels; a mound needs at least "
                            f"{MIN_RASTER_PX} x {MIN_RASTER_PX}")
    if not np.isfinite(raster.values).any():
        raise PlanetMLError(f"{paths[0]}: has no valid pixel (all nodata or NaN)")
    name = "image" if image else "dtm"
    units = "1" if image else "m"
    scene = xr.Dataset({name: raster.isel(band=0, drop=True).assign_attrs(units=units)}, attrs=raster.attrs)
    return scene.assign_attrs(pixel_m=_pixel_size(scene, pixel_m, paths[0]), name=str(paths[0]))


def example_input(folder):
    """Write the DTM of a small SIMULATED scene (96 px of 5 m, Mars equirectangular) as a GeoTIFF in ``folder``."""
    scene = simulate_scene(Config(), seed=Config.test_seed, pixel_m=5.0, size=96)
    return [write_geotiff(scene["dtm"], Path(folder) / "example_dtm.tif")]


def _pixel_size(scene, pixel_m, source):
    """Pixel size in metres: given, or from a projected CRS in metres; a clear error otherwise."""
    if pixel_m is not None:
        return float(pixel_m)
    crs = scene.attrs.get("crs")
    if crs is None:
        raise PlanetMLError(f"{source}: has no CRS, so its pixel size in metres is unknown; give it (--pixel-m)")
    from pyproj import CRS

    parsed = CRS.from_wkt(crs)
    if parsed.is_geographic:
        raise PlanetMLError(f"{source}: is in a geographic CRS (degrees); reproject it to a projected CRS in metres")
    size_x, size_y = abs(scene.attrs["transform"][0]), abs(scene.attrs["transform"][4])
    if not np.isclose(size_x, size_y, rtol=0.01):
        raise PlanetMLError(f"{source}: pixels are {size_x:g} x {size_y:g}; resample to square pixels first")
    return float(size_x * parsed.axis_info[0].unit_conversion_factor)


def _input_variable(scene, config):
    """Name of the scene variable the model reads (``dtm`` or ``image``); a clear error if it is missing."""
    _check_inputs(config)
    if config.inputs not in scene:
        raise PlanetMLError(f"this model needs {INPUTS[config.inputs]}; the scene has {sorted(scene.data_vars)}")
    return config.inputs


def scene_channels(scene, config):
    """The model's input channels ``(c, y, x)`` of a scene, NaN where the data are missing.

    ``inputs="dtm"``: relative elevation, slope and hillshade of ``scene["dtm"]``;
    ``inputs="image"``: ``scene["image"]``.
    """
    if _input_variable(scene, config) == "image":
        return scene["image"].values[None].astype(np.float32)
    return terrain_channels(scene["dtm"].values, scene.attrs["pixel_m"], *HILLSHADE_SUN)


def tile_inputs(tiles):
    """Scale every tile's channels to [-1, 1] on their own (NaN -> 0): the same for any scene size."""
    return np.stack([scale_to_unit(t)[0] for t in tiles]) if len(tiles) else np.asarray(tiles, np.float32)


def make_tiles(scenes, config):
    """Cut training scenes into tiles and split them 80/20 by spatial block.

    Returns
    -------
    dict
        ``"train"`` and ``"validation"``: (inputs ``(n, c, t, t)``, masks ``(n, t, t)``) pairs;
        ``"layout"``: one row per tile with ``scene``, ``row``, ``col`` and ``split``
        ("train", "validation" or "buffer": training tiles touching validation pixels, dropped).
    """
    parts = {"train": ([], []), "validation": ([], [])}
    layout = []
    for i, scene in enumerate(scenes):
        channels = scene_channels(scene, config)
        tiles, positions = to_tiles(channels, config.tile, config.overlap)
        masks, _ = to_tiles(scene["mask"].values[None], config.tile, config.overlap)
        train_idx, val_idx = spatial_block_split(positions, config.tile, channels.shape[1:], config.block,
                                                 config.val_fraction, seed=config.seed + i)
        split = np.full(len(tiles), "buffer", dtype=object)
        split[train_idx], split[val_idx] = "train", "validation"
        layout.append(pd.DataFrame({"scene": i, "row": positions[:, 0], "col": positions[:, 1], "split": split}))
        for name, idx in (("train", train_idx), ("validation", val_idx)):
            parts[name][0].append(tile_inputs(tiles[idx]))
            parts[name][1].append(masks[idx, 0])
    result = {name: (np.concatenate(x), np.concatenate(y).astype(np.uint8)) for name, (x, y) in parts.items()}
    return {**result, "layout": pd.concat(layout, ignore_index=True)}


def model_options(config):
    """All keywords of the network: one input channel per input, one output logit."""
    return {"in_channels": 3 if config.inputs == "dtm" else 1, "n_classes": 1, **config.model_options}


def build_model(config):
    """The untrained U-Net described by ``config``."""
    _check_inputs(config)
    return create_model(config.model, **model_options(config))


def train_tile_gan(config, images, masks):
    """Train a DCGAN on training tiles and their masks; return ``(generator, history)``. SIMULATED tiles."""
    options = {"size": config.tile, "width": config.gan_options["width"]}
    with seeded(config.seed):
        generator = create_model("dcgan_generator", image_channels=images.shape[1],
                                 latent_dim=config.gan_options["latent_dim"], **options)
        discriminator = create_model("dcgan_discriminator", in_channels=images.shape[1] + 1, **options)
    history = train_gan(generator, discriminator, images, masks, epochs=config.gan_epochs,
                        batch_size=config.batch_size * 2, seed=config.seed, progress=config.progress)
    return generator, history


def _probabilities(model, inputs, batch_size):
    """Mound probability ``(n, t, t)`` of scaled tiles, on the device the model is on."""
    return predict_batches(model, inputs, batch_size=batch_size, device=model_device(model), activation="sigmoid")[:, 0]


def train(config, data):
    """Train the U-Net on the training scenes, plus GAN-made tiles if asked (:func:`train_on_tiles`)."""
    return train_on_tiles(config, data, make_tiles(data["train"], config))


def train_on_tiles(config, data, tiles):
    """Train the U-Net on ``tiles`` (:func:`make_tiles` of ``data["train"]``), plus GAN-made tiles if asked.

    Early stopping on validation IoU; the probability threshold is then chosen on the
    validation tiles (IoU) and frozen in the metadata with the rest of what ``predict`` needs.
    """
    (x_train, y_train), (x_val, y_val) = tiles["train"], tiles["validation"]
    gan = None
    if config.gan_tiles:
        generator, gan_history = train_tile_gan(config, x_train, y_train)
        x_gan, y_gan = generate_pairs(generator, config.gan_tiles, seed=config.seed)
        x_train, y_train = np.concatenate([x_train, x_gan]), np.concatenate([y_train, y_gan])
        gan = {"tiles": config.gan_tiles, "epochs": config.gan_epochs,
               "final": gan_history.iloc[-1].drop("epoch").round(4).to_dict()}
    with seeded(config.seed):
        model = build_model(config)
    history = fit(model, AugmentedTiles(x_train, y_train, scale_range=config.scale_range, seed=config.seed),
                  AugmentedTiles(x_val, y_val, augment=False), DiceBCELoss(config.bce_weight),
                  epochs=config.epochs, lr=config.lr, batch_size=config.batch_size, patience=config.patience,
                  seed=config.seed, progress=config.progress, val_loss_fn=iou_loss,
                  samples_per_epoch=config.samples_per_epoch)
    val_probability = _probabilities(model, x_val, config.batch_size)
    threshold, _ = choose_threshold(y_val.ravel() > 0, val_probability.ravel(), metric="IoU",
                                    candidates=np.round(np.arange(0.2, 0.81, 0.05), 2))
    val_scores = evaluate_pixels(y_val, val_probability, threshold=threshold).set_index("metric")["value"]
    metadata = ModelMetadata.of(
        NAME, KIND, config, model_options(config), simulation=SIMULATION,
        inputs={"inputs": config.inputs, "channels": INPUTS[config.inputs], "units": "m" if config.inputs == "dtm"
                else "1", "pixel_m": list(config.pixel_range_m), "tile": config.tile,
                "scaling": "each tile's 2-98 % range to [-1, 1]"},
        data=data_records(KIND, {"train": data["train"], "test": data.get("test", [])}) | {"validation": []},
        normalisation=None, postprocessing={"threshold": round(float(threshold), 4), "min_area_px": config.min_area_px},
        postprocessing_chosen_on={"what": "validation tiles (spatial blocks of the training scenes)", "metric": "IoU"},
        metrics={"validation": {k: round(float(val_scores[k]), 4) for k in ("IoU", "Dice", "precision", "recall")}},
        training={"best_epoch": int(history.attrs["best_epoch"]), "epochs_run": len(history), "gan": gan,
                  "tiles": {"train": len(tiles["train"][0]), "validation": len(y_val), "gan": config.gan_tiles}})
    return TrainedModel(model=model, config=config, metadata=metadata, history=history)


def load_trained(folder=None):
    """Load a mounds model folder; None loads the shipped DTM model (``SHIPPED_MODELS["image"]``: image input)."""
    return _trained.load_trained(folder, sys.modules[__name__])


def _resample(values, factor, order):
    """Zoom a ``(y, x)`` array by ``factor``; NaN areas stay NaN (nearest-neighbour validity)."""
    finite = np.isfinite(values)
    zoomed = ndimage.zoom(np.where(finite, values, np.nanmedian(values) if finite.any() else 0.0), factor,
                          order=order)
    return np.where(ndimage.zoom(finite.astype(np.uint8), factor, order=0) > 0, zoomed, np.nan)


def predict(trained, data):
    """Mound probability and outlines of a scene, as an :class:`ObjectDetection`.

    Parameters
    ----------
    trained : TrainedModel
    data : xr.Dataset
        A scene with ``dtm`` (m) or ``image`` on ``(y, x)`` as the model needs (see :func:`read_input`),
        ``attrs["pixel_m"]`` and, for georeferenced outlines, ``attrs["transform"]`` and ``["crs"]``.
        Rasters of more than 256 tiles show a progress bar.

    Returns
    -------
    ObjectDetection
        ``values``: the mound probability on ``(y, x)``, float32, NaN where the input has no data;
        ``objects``: one polygon per mound (map coordinates) with ``area_m2``, ``diameter_m``,
        ``height_m`` (from the DTM, NaN for image input) and ``score`` (mean probability).
    """
    config, scene = trained.config, data
    variable = _input_variable(scene, config)
    pixel_m = float(scene.attrs["pixel_m"])
    model_pixel_m = float(np.clip(pixel_m, *config.pixel_range_m))
    values = scene[variable].values.astype(np.float64)
    factor = pixel_m / model_pixel_m
    resampled = scene
    if not np.isclose(factor, 1.0):
        resampled = xr.Dataset({variable: (("y", "x"), _resample(values, factor, order=1))},
                               attrs={"pixel_m": model_pixel_m})
    channels = scene_channels(resampled, config)
    progress = channels[0].size > 256 * (config.tile - config.overlap) ** 2
    probability = predict_tiled(lambda t: _probabilities(trained.model, tile_inputs(t), config.batch_size)[:, None],
                                channels, config.tile, config.overlap, batch_size=64, progress=progress)[0]
    if not np.isclose(factor, 1.0):
        probability = ndimage.zoom(probability, np.divide(values.shape, probability.shape), order=1)
    probability = np.where(np.isfinite(values), probability, np.nan).astype(np.float32)
    transform = scene.attrs.get("transform") or (pixel_m, 0.0, 0.0, 0.0, -pixel_m, 0.0)
    threshold = trained.metadata.postprocessing["threshold"]
    mask = np.nan_to_num(probability) >= threshold
    mounds = mask_to_polygons(mask, transform, min_area_px=config.min_area_px,
                              dtm=scene["dtm"].values if "dtm" in scene else None, scores=probability,
                              label="mound", crs=scene.attrs.get("crs"))
    coords = {name: scene[name] for name in ("y", "x") if name in scene.coords}
    result = xr.DataArray(probability, dims=("y", "x"), coords=coords, name="mound_probability",
                          attrs={"units": "1", "threshold": threshold})
    return ObjectDetection(result, mounds)


def true_mounds(scene):
    """Outlines of the true mounds of a simulated scene (from its ``mound_id`` raster)."""
    return mask_to_polygons(scene["mound_id"].values, scene.attrs["transform"], min_area_px=1,
                            dtm=scene["dtm"].values, label="mound", crs=scene.attrs.get("crs"))


def _as_list(scenes):
    return [scenes] if isinstance(scenes, xr.Dataset) else list(scenes)


def evaluate(trained, data, allow_training_data=False):
    """Tidy metrics over labelled scenes: pixel scores (level "pixel") and mound matching (level "object").

    Objects are matched within each scene at IoU >= 0.5 and counted over all scenes. Refuses
    scenes the model was trained on unless ``allow_training_data``; the ``data`` column says
    what the scores are ("held-out" or "training").
    """
    role = guard_training_data(trained.metadata, data, allow_training_data)
    truths, probabilities, valids, matches = [], [], [], []
    for scene in _as_list(data):
        probability, mounds = predict(trained, scene)
        truths.append(scene["mask"].values.ravel())
        probabilities.append(probability.values.ravel())
        valids.append(np.isfinite(probability.values.ravel()))
        matches.append(match_objects(mounds, true_mounds(scene)))
    pixels = evaluate_pixels(np.concatenate(truths), np.concatenate(probabilities), valid=np.concatenate(valids),
                             threshold=trained.metadata.postprocessing["threshold"], class_name="mound")
    objects = object_scores(pd.concat(matches, ignore_index=True), class_name="mound")
    metrics = pd.concat([pixels.assign(level="pixel"), objects.assign(level="object")], ignore_index=True)
    return metrics.assign(data=role)


def tile_scores(trained, scene):
    """Pixel IoU, Dice, precision and recall per non-overlapping tile of a labelled scene."""
    probability, _ = predict(trained, scene)
    size, rows = trained.config.tile, []
    for row in range(0, scene.sizes["y"], size):
        for col in range(0, scene.sizes["x"], size):
            window = (slice(row, row + size), slice(col, col + size))
            scores = evaluate_pixels(scene["mask"].values[window], probability.values[window],
                                     threshold=trained.metadata.postprocessing["threshold"]).set_index("metric")["value"]
            rows.append({"row": row, "col": col, "true_fraction": float(scene["mask"].values[window].mean()),
                         **scores[["IoU", "Dice", "precision", "recall"]].to_dict()})
    return pd.DataFrame(rows)


def plot_results(trained, data):
    """The first scene of ``data`` with true (white) and predicted (red) mound outlines (:func:`plot_detection`)."""
    scene = _as_list(data)[0]
    return plot_detection(scene, predict(trained, scene))


def _extent(scene):
    """The scene's outer pixel edges (left, right, bottom, top), in metres where it has coordinates."""
    if "x" not in scene.coords:
        return 0, scene.sizes["x"], scene.sizes["y"], 0
    x, y = scene.x.values, scene.y.values
    dx, dy = (x[-1] - x[0]) / max(len(x) - 1, 1) / 2, (y[0] - y[-1]) / max(len(y) - 1, 1) / 2
    return float(x[0] - dx), float(x[-1] + dx), float(y[-1] - dy), float(y[0] + dy)


def plot_detection(scene, detection):
    """The scene's image (or DTM hillshade) with true (white) and ``detection``'s (red) mound outlines.

    The title names the scene's file (not its folder) and says SIMULATED for simulated scenes. The
    axes end at the scene's edges (no blank strip where an outline reaches past them) and write
    whole metres (no offset such as "1e6").
    """
    mounds = detection.objects
    fig = Figure(figsize=(7, 7))
    ax = fig.add_subplot()
    backdrop = scene["image"].values if "image" in scene else hillshade(scene["dtm"].values, scene.attrs["pixel_m"])
    left, right, bottom, top = _extent(scene)
    ax.imshow(backdrop, cmap="gray", extent=(left, right, bottom, top))
    if "mound_id" in scene:
        true_mounds(scene).boundary.plot(ax=ax, color="white", linewidth=0.8)
    if len(mounds):
        mounds.boundary.plot(ax=ax, color="tab:red", linewidth=1.0)
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.ticklabel_format(useOffset=False, style="plain")
    simulated = "simulat" in str(scene.attrs.get("source", ""))
    ax.set_title(f"{Path(scene.attrs.get('name', '')).name}{' (SIMULATED scene, not Mars data)' if simulated else ''}\n"
                 f"{len(mounds)} mounds found (red)" + (", true outlines white" if "mound_id" in scene else ""),
                 fontsize=9)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    return fig


def gan_experiment(config, data, seeds=(0, 1, 2), gan_tiles=None, inputs=("dtm", "image"), tiles=None, keep=None):
    """Test skill with and without GAN-made tiles, same budget, several seeds. SIMULATED scenes.

    For each input kind and seed, one U-Net trains on the real tiles and one on the real
    tiles plus ``gan_tiles`` GAN-made ones (default: as many as there are real ones), both
    with ``config.samples_per_epoch`` draws per epoch. Returns one row per run with the
    pixel IoU, Dice, object F1 and threshold on the test scenes. ``tiles`` maps an input kind
    to its :func:`make_tiles` result; ``keep``, a dict, receives every trained model under
    ``(inputs, gan_tiles, seed)``.
    """
    rows = []
    for kind in inputs:
        kind_config = replace(config, inputs=kind)
        kind_tiles = make_tiles(data["train"], kind_config) if tiles is None else tiles[kind]
        extra = len(kind_tiles["train"][0]) if gan_tiles is None else gan_tiles
        for seed in seeds:
            for n_gan in (0, extra):
                trained = train_on_tiles(replace(kind_config, seed=seed, gan_tiles=n_gan), data, kind_tiles)
                if keep is not None:
                    keep[(kind, n_gan, seed)] = trained
                scores = evaluate(trained, data["test"]).set_index(["level", "metric"])["value"]
                rows.append({"inputs": kind, "gan_tiles": n_gan, "seed": seed,
                             "IoU": scores["pixel", "IoU"], "Dice": scores["pixel", "Dice"],
                             "object_F1": scores["object", "F1"],
                             "threshold": trained.metadata.postprocessing["threshold"],
                             "val_IoU": trained.metadata.metrics["validation"]["IoU"]})
    return pd.DataFrame(rows)


def summarise_experiment(runs):
    """Mean and standard deviation over seeds of each (inputs, GAN or not) arm of :func:`gan_experiment`."""
    arms = runs.assign(gan=runs["gan_tiles"] > 0).groupby(["inputs", "gan"])
    return arms[["IoU", "Dice", "object_F1"]].agg(["mean", "std"]).round(3)


__all__ = ["write_output"]
