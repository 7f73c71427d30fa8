import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.objects import (
    MATCH_COLUMNS,
    OBJECT_COLUMNS,
    evaluate_objects,
    evaluate_pixels,
    mask_to_polygons,
    match_objects,
)
from planetml_lib.simulate import simulate_mound_field

TRANSFORM = (5.0, 0.0, 1000.0, 0.0, -5.0, 2000.0)  # 5 m pixels, north-up


def metric(frame, name):
    return frame.set_index("metric").loc[name, "value"]


def test_polygons_areas_and_small_objects():
    mask = np.zeros((20, 20), dtype=np.uint8)
    mask[2:6, 2:8] = 1  # 24 px
    mask[10:18, 10:18] = 1  # 64 px with a 4 px hole
    mask[13:15, 13:15] = 0
    mask[0, 19] = 1  # single pixel: noise
    objects = mask_to_polygons(mask, TRANSFORM, min_area_px=2, label="mound", crs="EPSG:32633")
    assert objects.columns.tolist() == list(OBJECT_COLUMNS) and objects.crs.to_epsg() == 32633
    assert objects["area_px"].tolist() == [24, 60] and objects["area_m2"].tolist() == [600.0, 1500.0]
    np.testing.assert_allclose(objects["diameter_m"], 2 * np.sqrt(objects["area_m2"] / np.pi))
    assert objects.geometry[0].bounds == (1010.0, 1970.0, 1040.0, 1990.0)
    assert (objects["label"] == "mound").all() and objects["height_m"].isna().all() and objects["score"].isna().all()


def test_touching_instances_stay_apart_and_keep_their_ids():
    ids = np.zeros((10, 10), dtype=np.int32)
    ids[2:6, 2:5], ids[2:6, 5:8] = 4, 9
    objects = mask_to_polygons(ids, TRANSFORM)
    assert sorted(objects["mask_value"]) == [4, 9] and objects["area_px"].tolist() == [12, 12]
    assert len(mask_to_polygons(ids > 0, TRANSFORM)) == 1
    assert len(mask_to_polygons(np.zeros((5, 5), int), TRANSFORM)) == 0
    with pytest.raises(PlanetMLError, match=r"\(y, x\)"):
        mask_to_polygons(np.zeros((2, 5, 5)), TRANSFORM)


def test_height_above_the_surrounding_ring_and_scores():
    rows, cols = np.indices((40, 40))
    radius = np.hypot(rows - 20, cols - 20)
    mask = radius <= 8
    dtm = 100.0 + 0.01 * cols + np.where(mask, 12.0 * (1 - radius / 8), 0.0)
    scores = np.where(mask, 0.8, 0.1)
    objects = mask_to_polygons(mask, TRANSFORM, dtm=dtm, scores=scores)
    assert objects["height_m"].item() == pytest.approx(12.0, abs=0.1)
    assert objects["score"].item() == pytest.approx(0.8)


def test_simulated_mounds_are_recovered_with_their_heights():
    scene, mounds = simulate_mound_field(size=192, n_mounds=8, seed=4)
    objects = mask_to_polygons(scene["mound_id"], scene.attrs["transform"], dtm=scene["dtm"].values,
                               crs=scene.attrs["crs"])
    table = mounds.set_index("mound_id").loc[objects["mask_value"]]
    assert sorted(objects["mask_value"]) == list(range(1, 9))
    np.testing.assert_allclose(objects["diameter_m"], table["diameter_m"], rtol=0.15)
    unpitted = ~table["has_summit_pit"].to_numpy()
    np.testing.assert_allclose(objects["height_m"][unpitted], table["height_m"][unpitted], rtol=0.3, atol=1.0)
    centroids = np.array([[geom.centroid.x, geom.centroid.y] for geom in objects.geometry])
    np.testing.assert_allclose(centroids, table[["x", "y"]].to_numpy(), atol=5.0)


def boxes(*corners):
    return pd.DataFrame({"geometry": [box(*c) for c in corners]})


def test_match_objects_one_to_one():
    true = boxes((0, 0, 10, 10), (20, 0, 30, 10), (100, 100, 110, 110))
    pred = boxes((0, 0, 12, 10), (0, 0, 30, 10), (200, 200, 210, 210))  # the second covers both: matched once
    matches = match_objects(pred, true, iou_threshold=0.5)
    assert matches.columns.tolist() == list(MATCH_COLUMNS)
    assert matches["outcome"].tolist() == ["TP", "FN", "FN", "FP", "FP"]
    hit = matches.iloc[0]
    assert (hit["true_idx"], hit["pred_idx"]) == (0, 0) and hit["iou"] == pytest.approx(100 / 120)
    assert hit["area_error_m2"] == pytest.approx(20.0)
    assert hit["diameter_error_m"] == pytest.approx(2 * np.sqrt(120 / np.pi) - 2 * np.sqrt(100 / np.pi))
    assert np.isnan(hit["height_error_m"])


def test_match_heights_and_thresholds():
    true = boxes((0, 0, 10, 10)).assign(height_m=[10.0])
    pred = boxes((3, 0, 13, 10)).assign(height_m=[12.5])  # IoU 70/130
    assert match_objects(pred, true, iou_threshold=0.5)["outcome"].tolist() == ["TP"]
    assert match_objects(pred, true, iou_threshold=0.5)["height_error_m"].item() == 2.5
    assert match_objects(pred, true, iou_threshold=0.6)["outcome"].tolist() == ["FN", "FP"]
    with pytest.raises(PlanetMLError, match="iou_threshold"):
        match_objects(pred, true, iou_threshold=0)
    with pytest.raises(PlanetMLError, match="geometry column"):
        match_objects(pd.DataFrame({"x": [1]}), true)


def test_evaluate_objects_scores():
    true = boxes((0, 0, 10, 10), (20, 0, 30, 10))
    pred = boxes((0, 0, 10, 11), (50, 50, 60, 60), (70, 70, 80, 80))
    metrics = evaluate_objects(pred, true, class_name="mound")
    assert set(metrics["class"]) == {"mound"}
    assert [metric(metrics, m) for m in ("n_true", "n_pred", "TP", "FP", "FN")] == [2, 3, 1, 2, 1]
    assert metric(metrics, "precision") == pytest.approx(1 / 3) and metric(metrics, "recall") == 0.5
    assert metric(metrics, "F1") == pytest.approx(2 / 5)
    assert metric(metrics, "area_error_m2_mean") == pytest.approx(10.0)
    assert metric(metrics, "area_error_rel_median") == pytest.approx(0.1)
    assert np.isnan(metric(metrics, "height_error_m_mean"))
    empty = evaluate_objects(boxes(), true)
    assert np.isnan(metric(empty, "precision")) and metric(empty, "recall") == 0
    nothing = evaluate_objects(boxes(), boxes())
    assert metric(nothing, "TP") == 0 and np.isnan(metric(nothing, "F1"))


def test_evaluate_pixels():
    truth = np.array([[0, 3, 3, 0], [0, 3, 3, 0]])  # instance ids count as inside
    probabilities = np.array([[0.2, 0.9, 0.6, 0.7], [np.nan, 0.1, 0.8, 0.0]])
    metrics = evaluate_pixels(truth, probabilities, class_name="mound")
    assert [metric(metrics, m) for m in ("TP", "FP", "FN", "TN")] == [3, 1, 1, 2]  # the NaN pixel is left out
    assert metric(metrics, "IoU") == pytest.approx(3 / 5) and metric(metrics, "Dice") == pytest.approx(6 / 8)
    assert metric(metrics, "precision") == 0.75 and metric(metrics, "recall") == 0.75
    strict = evaluate_pixels(truth, probabilities, threshold=0.85, valid=truth > -1)
    assert metric(strict, "TP") == 1
