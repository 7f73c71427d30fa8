"""Mars mounds case: GeoTIFF in (any size, pixel scale, nodata), outlines out; splits; the CLI; the GAN arm."""

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine

from planetml_lib.cases import mars_mounds as case
from planetml_lib.cases.kinds import check_output_path
from planetml_lib.cli import main
from planetml_lib.errors import PlanetMLError
from planetml_lib.simulate.mars_terrain import mars_equirectangular_wkt, simulate_mound_field
from planetml_lib.testing import assert_objects_contract

MARS_WKT = mars_equirectangular_wkt(-29.0, 40.0)


@pytest.fixture
def trained(fast_case):
    run = fast_case("mars_mounds")
    return case.load_trained(run.folder), run.folder


def write_raster(path, values, pixel_m=5.0, crs=MARS_WKT, nodata=None):
    """A single- or multi-band GeoTIFF written with rasterio itself, as an archive file would be."""
    values = np.asarray(values, dtype=np.float32)
    values = values[None] if values.ndim == 2 else values
    with rasterio.open(path, "w", driver="GTiff", count=len(values), height=values.shape[1], width=values.shape[2],
                       dtype="float32", crs=crs, transform=Affine(pixel_m, 0, 0, 0, -pixel_m, 0),
                       nodata=nodata) as dst:
        dst.write(values)
    return path


@pytest.fixture(scope="module")
def dtm_scene():
    scene, _ = simulate_mound_field(size=150, pixel_m=5.0, n_mounds=6, seed=3)
    return scene


def test_tiles_of_the_two_splits_share_no_pixel():
    config = case.Config.fast()
    tiles = case.make_tiles(case.simulate_scenes(config, "train"), config)
    assert len(tiles["train"][0]) and len(tiles["validation"][0])
    assert tiles["train"][0].shape[1:] == (3, config.tile, config.tile)
    assert np.abs(tiles["train"][0]).max() <= 1.0
    for _, layout in tiles["layout"].groupby("scene"):
        covered = {}
        for row in layout.itertuples():
            for r in range(row.row, row.row + config.tile):
                for c in range(row.col, row.col + config.tile, 8):
                    covered.setdefault(row.split, set()).add((r, c))
        assert not covered["train"] & covered["validation"]


def test_train_and_test_scenes_are_different_simulations(fast_case):
    data = fast_case("mars_mounds").data
    seeds = {split: {scene.attrs["seed"] for scene in scenes} for split, scenes in data.items()}
    assert not seeds["train"] & seeds["test"]
    assert all("simulation" in scene.attrs["source"] for scenes in data.values() for scene in scenes)


def test_read_input_keeps_georeference_and_pixel_size(tmp_path, dtm_scene):
    scene = case.read_input(write_raster(tmp_path / "dtm.tif", dtm_scene["dtm"].values, pixel_m=2.0))
    assert scene["dtm"].dims == ("y", "x") and scene.attrs["pixel_m"] == 2.0
    assert "Equirectangular" in scene.attrs["crs"] and scene["dtm"].attrs["units"] == "m"
    image = case.read_input([write_raster(tmp_path / "img.tif", dtm_scene["image"].values)], image=True)
    assert list(image.data_vars) == ["image"]


@pytest.mark.parametrize("crs, pixel_m, message", [
    (None, None, "no CRS.*--pixel-m"),
    ("EPSG:4326", None, "geographic CRS"),
])
def test_read_input_needs_a_pixel_size_in_metres(tmp_path, dtm_scene, crs, pixel_m, message):
    path = write_raster(tmp_path / "dtm.tif", dtm_scene["dtm"].values, crs=crs, pixel_m=0.001)
    with pytest.raises(PlanetMLError, match=message):
        case.read_input(path, pixel_m=pixel_m)
    assert case.read_input(path, pixel_m=4.0).attrs["pixel_m"] == 4.0


def test_read_input_refuses_several_bands(tmp_path, dtm_scene):
    path = write_raster(tmp_path / "rgb.tif", np.stack([dtm_scene["image"].values] * 3))
    with pytest.raises(PlanetMLError, match="3 bands"):
        case.read_input(path, image=True)


def test_predict_masks_nodata_and_takes_any_size(tmp_path, trained, dtm_scene):
    model, _ = trained
    values = dtm_scene["dtm"].values[:, :137].copy()  # not a multiple of the tile
    values[:40, :50] = -9999.0
    scene = case.read_input(write_raster(tmp_path / "gap.tif", values, nodata=-9999.0))
    probability, mounds = case.predict(model, scene)
    assert probability.shape == values.shape
    assert np.isnan(probability.values[:40, :50]).all() and np.isfinite(probability.values[40:, 50:]).all()
    assert_objects_contract(mounds)
    assert mounds.crs is not None and "Equirectangular" in mounds.crs.to_wkt()


def test_predict_resamples_a_coarse_raster_and_returns_its_grid(trained, dtm_scene):
    model, _ = trained
    coarse = dtm_scene.assign_attrs(pixel_m=20.0)  # outside the model's pixel range: resampled to 8 m and back
    probability, _ = case.predict(model, coarse)
    assert probability.shape == dtm_scene["dtm"].shape and np.isfinite(probability.values).all()


def test_a_dtm_model_refuses_an_image_with_a_clear_message(trained, dtm_scene):
    model, _ = trained
    with pytest.raises(PlanetMLError, match="needs elevation"):
        case.predict(model, dtm_scene[["image"]].assign_attrs(dtm_scene.attrs))


def test_cli_predicts_mound_outlines_from_a_geotiff(tmp_path, trained, dtm_scene, capsys):
    _, folder = trained
    dtm = write_raster(tmp_path / "scene.tif", dtm_scene["dtm"].values)
    out = tmp_path / "mounds.gpkg"
    assert main(["predict", "mounds", "--input", str(dtm), "--output", str(out), "--model", str(folder)]) == 0
    assert "objects written" in capsys.readouterr().out
    mounds = gpd.read_file(out)
    assert {"area_m2", "diameter_m", "height_m", "score"} <= set(mounds.columns)
    assert mounds.crs is not None


def test_cli_refuses_image_options_for_time_series_cases(capsys):
    assert main(["predict", "icme", "--input", __file__, "--output", "y.csv", "--image"]) == 2
    assert "apply to raster cases" in capsys.readouterr().err


def test_cli_names_a_raster_without_crs(tmp_path, trained, dtm_scene, capsys):
    _, folder = trained
    dtm = write_raster(tmp_path / "nocrs.tif", dtm_scene["dtm"].values, crs=None)
    code = main(["predict", "mounds", "--input", str(dtm), "--output", str(tmp_path / "m.geojson"),
                 "--model", str(folder)])
    assert code == 2 and "--pixel-m" in capsys.readouterr().err
    code = main(["predict", "mounds", "--input", str(dtm), "--output", str(tmp_path / "m.geojson"),
                 "--pixel-m", "5", "--model", str(folder)])
    assert code == 2 and "write .gpkg" in capsys.readouterr().err and not (tmp_path / "m.geojson").exists()
    code = main(["predict", "mounds", "--input", str(dtm), "--output", str(tmp_path / "m.geojson"),
                 "--pixel-m", "5", "--model", str(tmp_path / "no_model_needed")])
    assert code == 2 and "write .gpkg" in capsys.readouterr().err, "refused before the model loads"


def test_geojson_of_a_raster_without_crs_is_refused_before_predicting(tmp_path, dtm_scene):
    scene = case.read_input(write_raster(tmp_path / "nocrs.tif", dtm_scene["dtm"].values, crs=None), pixel_m=5.0)
    with pytest.raises(PlanetMLError, match=r"m.geojson: the outlines have no CRS .*; write .gpkg$"):
        check_output_path(case.KIND, scene, tmp_path / "m.geojson")
    check_output_path(case.KIND, scene, tmp_path / "m.gpkg")
    check_output_path(case.KIND, case.read_input(write_raster(tmp_path / "dtm.tif", dtm_scene["dtm"].values)),
                      tmp_path / "m.geojson")


def test_gan_experiment_trains_both_arms_on_the_same_budget(fast_case):
    config = replace(case.Config.fast(), gan_epochs=1)
    models = {}
    runs = case.gan_experiment(config, fast_case("mars_mounds").data, seeds=(0,), inputs=("dtm",), gan_tiles=8,
                               keep=models)
    assert runs["gan_tiles"].tolist() == [0, 8]
    assert {model.metadata.training["tiles"]["gan"] for model in models.values()} == {0, 8}
    assert runs[["IoU", "Dice", "object_F1"]].apply(lambda v: v.between(0, 1) | v.isna()).all().all()
    assert len(case.summarise_experiment(runs)) == 2
