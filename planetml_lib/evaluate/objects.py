"""Object-wise skill for image segmentation: masks to outlines, morphometry, one-to-one matching.

A predicted mask becomes one polygon per connected object (:func:`mask_to_polygons`),
measured in map units: area, equivalent diameter and, with a DTM, height above the
surrounding terrain. Predicted and true objects are paired one-to-one by maximising
their summed IoU (Hungarian algorithm, as the strict event matching of
:mod:`planetml_lib.evaluate.events`); a pair with ``IoU >= iou_threshold`` is a TP,
every other true object a FN and every other predicted object a FP. Pixel-wise skill
comes from :func:`planetml_lib.evaluate.classes.evaluate_binary`.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from affine import Affine
from scipy import ndimage
from shapely.geometry import shape as to_shape

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate.classes import evaluate_binary, to_metrics_frame
from planetml_lib.evaluate.events import one_to_one_pairs

OBJECT_COLUMNS = ("geometry", "label", "mask_value", "score", "area_px", "area_m2", "diameter_m", "height_m")
MATCH_COLUMNS = ("true_idx", "pred_idx", "iou", "area_true_m2", "area_pred_m2", "area_error_m2",
                 "diameter_true_m", "diameter_pred_m", "diameter_error_m", "height_error_m", "outcome")


def _object_stats(ids, n, dtm, scores, ring_px):
    """Per object 1..n: pixel count, height (max minus median of a surrounding ring), mean score."""
    rows = []
    for k, window in enumerate(ndimage.find_objects(ids, max_label=n), start=1):
        grown = tuple(slice(max(0, s.start - ring_px), s.stop + ring_px) for s in window)
        inside = ids[grown] == k
        ring = ndimage.binary_dilation(inside, iterations=ring_px) & (ids[grown] == 0)
        height = np.nan
        if dtm is not None and ring.any():
            height = np.nanmax(dtm[grown][inside]) - np.nanmedian(dtm[grown][ring])
        score = np.nan if scores is None else np.nanmean(scores[grown][inside])
        rows.append({"area_px": int(inside.sum()), "height_m": height, "score": score})
    return pd.DataFrame(rows, columns=["area_px", "height_m", "score"])


def mask_to_polygons(mask, transform, min_area_px=4, dtm=None, scores=None, ring_px=3, label="object", crs=None):
    """Outline each connected object of a mask as a polygon and measure it.

    Parameters
    ----------
    mask : array-like of int, shape (y, x)
        0 outside objects; 1 inside (binary mask) or an id per object
        (instance mask: touching objects with different ids stay apart).
        Pixels join an object through their 4 edge neighbours.
    transform : affine.Affine or sequence of 6 numbers
        Pixel-to-map transform (``attrs["transform"]`` of a raster, or
        :func:`planetml_lib.io.geotiff.grid_transform`).
    min_area_px : int, default 4
        Objects of fewer pixels are dropped (noise).
    dtm : array-like, shape (y, x), optional
        Elevation (m); gives ``height_m`` = highest pixel inside minus the
        median elevation of a ring ``ring_px`` pixels wide around the object
        (other objects excluded).
    scores : array-like, shape (y, x), optional
        E.g. predicted probabilities; ``score`` is their mean inside.
    ring_px : int, default 3
        Width of the ring for the height, in pixels.
    label : str, default "object"
        Value of the ``label`` column.
    crs : str, optional
        CRS (WKT) of the map coordinates, set on the result.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`OBJECT_COLUMNS`: ``geometry`` (map units), ``label``,
        ``mask_value``, ``score`` (NaN without ``scores``), ``area_px``,
        ``area_m2`` (square map units), ``diameter_m`` (of the circle of equal
        area), ``height_m`` (NaN without ``dtm``).

    Examples
    --------
    >>> mask = np.zeros((10, 10), dtype=int)
    >>> mask[2:6, 2:6] = 1
    >>> objects = mask_to_polygons(mask, (5, 0, 0, 0, -5, 50))
    >>> objects[["area_px", "area_m2"]].values.tolist()
    [[16.0, 400.0]]
    """
    values = np.asarray(mask).astype(np.int32)
    transform = Affine(*tuple(transform)[:6])
    if values.ndim != 2:
        raise PlanetMLError(f"mask_to_polygons needs a (y, x) mask, got shape {values.shape}")
    shapes = rasterio.features.shapes(values, mask=values > 0, connectivity=4, transform=transform)
    found = [(to_shape(geom), int(value)) for geom, value in shapes]
    geoms = [geom for geom, _ in found]
    ids = rasterio.features.rasterize(zip(geoms, range(1, len(geoms) + 1), strict=True), out_shape=values.shape,
                                      transform=transform, fill=0, dtype=np.int32) if geoms else values * 0
    stats = _object_stats(ids, len(geoms), None if dtm is None else np.asarray(dtm, dtype=float),
                          None if scores is None else np.asarray(scores, dtype=float), ring_px)
    areas = np.array([geom.area for geom in geoms])
    objects = gpd.GeoDataFrame(stats.assign(
        geometry=geoms, label=label, mask_value=[value for _, value in found], area_m2=areas,
        diameter_m=2 * np.sqrt(areas / np.pi)), geometry="geometry", crs=crs)
    return objects.loc[objects["area_px"] >= min_area_px, list(OBJECT_COLUMNS)].reset_index(drop=True)


def _iou_matrix(true_geoms, pred_geoms):
    """IoU of every (true, pred) polygon pair, shape (n_true, n_pred); only intersecting pairs are computed."""
    iou = np.zeros((len(true_geoms), len(pred_geoms)))
    if len(true_geoms) == 0 or len(pred_geoms) == 0:
        return iou
    pred_idx, true_idx = shapely.STRtree(true_geoms).query(pred_geoms, predicate="intersects")
    inter = shapely.area(shapely.intersection(true_geoms[true_idx], pred_geoms[pred_idx]))
    union = shapely.area(true_geoms[true_idx]) + shapely.area(pred_geoms[pred_idx]) - inter
    iou[true_idx, pred_idx] = np.where(union > 0, inter / np.where(union > 0, union, 1), 0)
    return iou


def _geometries(objects, name):
    """Geometry array of an objects table; PlanetMLError without a geometry column."""
    if not isinstance(objects, pd.DataFrame) or "geometry" not in objects.columns:
        raise PlanetMLError(f"{name} objects must be a DataFrame with a geometry column")
    return np.asarray(objects["geometry"], dtype=object)


def match_objects(pred, true, iou_threshold=0.5):
    """Pair predicted objects with true objects one-to-one by IoU.

    Parameters
    ----------
    pred, true : geopandas.GeoDataFrame or DataFrame with a ``geometry`` column
        Objects in the same map units (e.g. from :func:`mask_to_polygons`);
        an optional ``height_m`` column in both gives height errors.
    iou_threshold : float, default 0.5
        Smallest IoU of a matched pair.

    Returns
    -------
    pd.DataFrame
        One row per TP pair, missed true object (FN) and false alarm (FP),
        columns :data:`MATCH_COLUMNS`: ``true_idx`` and ``pred_idx`` (row
        positions in the inputs; <NA> when absent), ``iou``, areas (square
        map units), equivalent diameters and the errors pred - true of area,
        diameter and height (NaN unless TP), ``outcome``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> true = pd.DataFrame({"geometry": [box(0, 0, 10, 10), box(50, 50, 60, 60)]})
    >>> pred = pd.DataFrame({"geometry": [box(1, 0, 11, 10)]})
    >>> match_objects(pred, true)[["true_idx", "pred_idx", "outcome"]].values.tolist()
    [[0, 0, 'TP'], [1, <NA>, 'FN']]
    """
    if not 0 < iou_threshold <= 1:
        raise PlanetMLError(f"need 0 < iou_threshold <= 1, got {iou_threshold}")
    true_geoms, pred_geoms = _geometries(true, "true"), _geometries(pred, "predicted")
    iou = _iou_matrix(true_geoms, pred_geoms)
    pairs, missed, false_alarms = one_to_one_pairs(iou, iou_threshold)
    t_idx = np.array([i for i, _ in pairs], dtype=int)
    p_idx = np.array([j for _, j in pairs], dtype=int)
    t_area, p_area = shapely.area(true_geoms[t_idx]), shapely.area(pred_geoms[p_idx])
    heights = {"height_error_m": np.nan}
    if "height_m" in true.columns and "height_m" in pred.columns:
        heights["height_error_m"] = pred["height_m"].to_numpy(float)[p_idx] - true["height_m"].to_numpy(float)[t_idx]
    t_diam, p_diam = 2 * np.sqrt(t_area / np.pi), 2 * np.sqrt(p_area / np.pi)
    hits = pd.DataFrame({"true_idx": t_idx, "pred_idx": p_idx, "iou": iou[t_idx, p_idx], "area_true_m2": t_area,
                         "area_pred_m2": p_area, "area_error_m2": p_area - t_area, "diameter_true_m": t_diam,
                         "diameter_pred_m": p_diam, "diameter_error_m": p_diam - t_diam, **heights, "outcome": "TP"})
    misses = pd.DataFrame({"true_idx": np.asarray(missed, dtype=int), "outcome": "FN"})
    extra = pd.DataFrame({"pred_idx": np.asarray(false_alarms, dtype=int), "outcome": "FP"})
    parts = [part for part in (hits, misses, extra) if len(part)]
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(MATCH_COLUMNS))
    rows = rows.reindex(columns=list(MATCH_COLUMNS)).astype(
        {name: float for name in MATCH_COLUMNS[2:-1]} | {"true_idx": "Int64", "pred_idx": "Int64", "outcome": str})
    return rows.sort_values(["true_idx", "pred_idx"], na_position="last", ignore_index=True)


def evaluate_objects(pred, true, iou_threshold=0.5, class_name="object"):
    """Object-wise skill scores and morphometry errors as a tidy metrics frame.

    Parameters
    ----------
    pred, true, iou_threshold
        As in :func:`match_objects`.
    class_name : str, default "object"
        Value of the ``class`` column.

    Returns
    -------
    pd.DataFrame
        Columns ``metric``, ``class``, ``value`` with metrics ``n_true``,
        ``n_pred``, ``TP``, ``FP``, ``FN``, ``precision``, ``recall``, ``F1``,
        ``iou_mean`` (of TP pairs) and, over TP pairs, the signed mean
        (``*_mean``) and mean absolute (``*_mae``) errors ``area_error_m2``,
        ``diameter_error_m``, ``height_error_m`` (NaN without heights), plus
        ``area_error_rel_median`` = median of (pred - true) / true area.
        Undefined ratios are NaN.
    """
    return object_scores(match_objects(pred, true, iou_threshold), class_name)


def object_scores(matches, class_name="object"):
    """The metrics of :func:`evaluate_objects` from a table of :func:`match_objects` rows.

    Matches of several scenes, concatenated, give the scores over all of them
    (scenes may share map coordinates, so their objects must not be matched together).
    """
    counts = matches["outcome"].value_counts()
    tp, fp, fn = (int(counts.get(key, 0)) for key in ("TP", "FP", "FN"))
    hits = matches[matches["outcome"] == "TP"]
    values = {"n_true": tp + fn, "n_pred": tp + fp, "TP": tp, "FP": fp, "FN": fn,
              "precision": tp / (tp + fp) if tp + fp else np.nan,
              "recall": tp / (tp + fn) if tp + fn else np.nan,
              "F1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else np.nan,
              "iou_mean": hits["iou"].mean()}
    for name in ("area_error_m2", "diameter_error_m", "height_error_m"):
        values[f"{name}_mean"] = hits[name].mean()
        values[f"{name}_mae"] = hits[name].abs().mean()
    values["area_error_rel_median"] = (hits["area_error_m2"] / hits["area_true_m2"]).median()
    return to_metrics_frame(values, class_name)


def evaluate_pixels(y_true, y_pred, valid=None, threshold=0.5, class_name="object"):
    """Pixel-wise skill of a segmentation: IoU, Dice, precision, recall and the rest of evaluate_binary.

    Parameters
    ----------
    y_true : array-like, shape (y, x) or (n, y, x)
        True mask; any non-zero value (e.g. an instance id) is inside.
    y_pred : array-like, same shape
        Predicted probabilities or 0/1 mask; ``>= threshold`` is inside. NaN
        pixels (e.g. not covered by any tile) are left out.
    valid : array-like of bool, same shape, optional
        Pixels marked False (e.g. DTM gaps) are left out.
    threshold : float, default 0.5
    class_name : str, default "object"
        Value of the ``class`` column.

    Returns
    -------
    pd.DataFrame
        Tidy metrics of :func:`~planetml_lib.evaluate.classes.evaluate_binary`
        (``IoU``, ``Dice``, ``precision``, ``recall``, ``accuracy``, ``TSS``,
        ``HSS``, counts, ``base_rate``).

    Examples
    --------
    >>> m = evaluate_pixels([[0, 2, 2, 0]], [[0.1, 0.9, 0.4, 0.0]])
    >>> m.set_index("metric").loc[["IoU", "Dice"], "value"].round(3).tolist()
    [0.5, 0.667]
    """
    true, pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    true = np.where(np.isnan(true), np.nan, true != 0)
    pred = np.where(np.isnan(pred), np.nan, pred >= threshold)
    return evaluate_binary(true, pred, valid=valid, class_name=class_name)
