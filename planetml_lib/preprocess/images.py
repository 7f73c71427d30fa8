"""Images to model input and back: scaling, tiles, spatial splits, augmentation.

The image boundary of the package (the 2-D twin of :mod:`planetml_lib.preprocess.windows`):
a scene ``(c, y, x)`` becomes tiles ``(n, c, tile, tile)`` with :func:`to_tiles`, and
per-tile predictions ``(n, k, tile, tile)`` become a scene ``(k, y, x)`` again with
:func:`from_tiles`, which blends overlapping tiles with linear ramps so no seams show.
Grids are north-up: row 0 is the northern edge, ``x`` grows east.
"""

import warnings

import numpy as np
from scipy import ndimage
from tqdm.auto import tqdm

from planetml_lib.errors import PlanetMLError


def scale_to_unit(x, percentiles=(2.0, 98.0)):
    """Map each channel's robust range to [-1, 1]; NaN becomes 0 and is flagged invalid.

    Per-scene (or per-tile) scaling, so no statistics are carried from one
    image to another.

    Parameters
    ----------
    x : array-like, shape (c, y, x) or (y, x)
        Each of the ``c`` channels is scaled on its own.
    percentiles : (float, float), default (2, 98)
        Values at these percentiles map to -1 and 1; values beyond are clipped.

    Returns
    -------
    scaled : np.ndarray of float32, same shape
        In [-1, 1]; 0 where ``x`` is not finite or a channel is constant.
    valid : np.ndarray of bool, same shape
        True where ``x`` is finite.

    Examples
    --------
    >>> scaled, valid = scale_to_unit(np.array([[0.0, 5.0, 10.0, np.nan]]), percentiles=(0, 100))
    >>> scaled.tolist(), valid.tolist()
    ([[-1.0, 0.0, 1.0, 0.0]], [[True, True, True, False]])
    """
    x = np.asarray(x, dtype=np.float64)
    valid = np.isfinite(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN channel
        low, high = np.nanpercentile(np.where(valid, x, np.nan), percentiles, axis=(-2, -1), keepdims=True)
    span = high - low
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(span > 0, 2 * (x - low) / span - 1, 0.0)
    scaled = np.clip(np.where(valid, scaled, 0.0), -1.0, 1.0)
    return scaled.astype(np.float32), valid


def _starts(size, tile, overlap):
    """Tile starts along one axis: from ``-overlap // 2`` with stride ``tile - overlap`` until covered."""
    margin, stride = overlap // 2, tile - overlap
    count = max(1, int(np.ceil((size + 2 * margin - tile) / stride)) + 1)
    return -margin + stride * np.arange(count)


def _check_tiling(tile, overlap):
    if not (isinstance(tile, (int, np.integer)) and tile > 0 and 0 <= overlap <= tile // 2):
        raise PlanetMLError(f"need an integer tile > 0 and 0 <= overlap <= tile // 2, got {tile}, {overlap}")


def to_tiles(array, tile, overlap=0):
    """Cut a scene ``(c, y, x)`` into square, overlapping tiles ``(n, c, tile, tile)``.

    The scene is reflected outwards by ``overlap // 2`` pixels, and further at
    the bottom and right until the tiles fit, so edge pixels get context too.

    Parameters
    ----------
    array : array-like, shape (c, y, x)
        Any size; it need not be divisible by ``tile``.
    tile : int
        Tile side in pixels (a multiple of 2**depth for a U-Net).
    overlap : int, default 0
        Pixels shared by neighbouring tiles, at most ``tile // 2``.

    Returns
    -------
    tiles : np.ndarray, shape (n, c, tile, tile)
        Row-major order (left to right, then top to bottom).
    positions : np.ndarray of int, shape (n, 2)
        Row and column of each tile's top-left pixel in the scene (negative in
        the reflected margin).

    Examples
    --------
    >>> tiles, positions = to_tiles(np.zeros((2, 100, 70)), tile=64, overlap=16)
    >>> tiles.shape, positions[:3].tolist()
    ((6, 2, 64, 64), [[-8, -8], [-8, 40], [40, -8]])
    """
    padded, positions = _padded_scene(array, tile, overlap, "to_tiles")
    stride = tile - overlap
    views = np.lib.stride_tricks.sliding_window_view(padded, (tile, tile), axis=(1, 2))[:, ::stride, ::stride]
    tiles = np.ascontiguousarray(views.transpose(1, 2, 0, 3, 4).reshape(-1, padded.shape[0], tile, tile))
    return tiles, positions


def _padded_scene(array, tile, overlap, caller):
    """The scene reflected outwards so the tiles of :func:`to_tiles` fit, and the tiles' top-left pixels."""
    array = np.asarray(array)
    if array.ndim != 3:
        raise PlanetMLError(f"{caller} needs an array (c, y, x), got shape {array.shape}")
    _check_tiling(tile, overlap)
    rows, cols = (_starts(size, tile, overlap) for size in array.shape[1:])
    pads = [(0, 0)] + [(-s[0], s[-1] + tile - size) for s, size in zip((rows, cols), array.shape[1:], strict=True)]
    positions = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1).reshape(-1, 2)
    return np.pad(array, pads, mode="reflect"), positions


def _blend_weights(tile, overlap):
    """2-D weights ``(tile, tile)``: linear ramps over ``overlap`` pixels at each edge, 1 inside.

    Ramps of neighbouring tiles sum to 1 where they overlap.
    """
    index = np.arange(tile) + 0.5
    ramp = np.ones(tile) if overlap == 0 else np.minimum(1.0, np.minimum(index, tile - index) / overlap)
    return np.outer(ramp, ramp)


def from_tiles(pred_tiles, positions, shape, tile, overlap=0):
    """Stitch per-tile outputs ``(n, k, tile, tile)`` back into a scene ``(k, y, x)``.

    Overlaps are averaged with linear-ramp weights (tile centres count most),
    so predictions made near a tile's edge, with little context, fade out.

    Parameters
    ----------
    pred_tiles : array-like, shape (n, k, tile, tile)
        E.g. probabilities for ``k`` classes, in the order of ``positions``.
    positions : array-like of int, shape (n, 2)
        As returned by :func:`to_tiles`; a subset of tiles may be given.
    shape : (int, int)
        Scene size ``(y, x)``.
    tile, overlap : int
        As given to :func:`to_tiles`.

    Returns
    -------
    np.ndarray of float32, shape (k, y, x)
        NaN where no tile covers a pixel.
    """
    pred_tiles, positions = np.asarray(pred_tiles, dtype=np.float64), np.asarray(positions, dtype=int)
    _check_tiling(tile, overlap)
    if pred_tiles.ndim != 4 or pred_tiles.shape[2:] != (tile, tile) or len(pred_tiles) != len(positions):
        raise PlanetMLError(f"pred_tiles {pred_tiles.shape} do not match {len(positions)} tiles of {tile} px")
    return _stitch([(pred_tiles, positions)], positions, shape, tile, overlap)


def _stitch(batches, positions, shape, tile, overlap):
    """Blend ``(values (b, k, tile, tile), positions (b, 2))`` batches into a float32 scene ``(k, y, x)``."""
    origin = np.minimum(positions.min(axis=0, initial=0), 0)
    extent = np.maximum((positions - origin).max(axis=0, initial=0) + tile, np.asarray(shape) - origin)
    total, weight_sum = None, np.zeros(tuple(extent), dtype=np.float32)
    weights = _blend_weights(tile, overlap).astype(np.float32)
    for values, where in batches:
        if total is None:
            total = np.zeros((values.shape[1], *extent), dtype=np.float32)
        for tile_values, (row, col) in zip(values, where - origin, strict=True):
            total[:, row:row + tile, col:col + tile] += weights * tile_values
            weight_sum[row:row + tile, col:col + tile] += weights
    crop = (slice(-origin[0], -origin[0] + shape[0]), slice(-origin[1], -origin[1] + shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return total[(slice(None), *crop)] / weight_sum[crop]


def predict_tiled(predict_fn, array, tile, overlap=0, batch_size=64, progress=False):
    """Run ``predict_fn`` over overlapping tiles of a scene and stitch its outputs, a batch at a time.

    The same tiles and blending as :func:`to_tiles` and :func:`from_tiles`, but only
    ``batch_size`` tiles exist at once, so memory stays a few times the scene's size
    however large the raster.

    Parameters
    ----------
    predict_fn : callable
        ``predict_fn(tiles (b, c, tile, tile)) -> (b, k, tile, tile)`` array.
    array : array-like, shape (c, y, x)
    tile, overlap : int
        As in :func:`to_tiles`.
    batch_size : int, default 64
    progress : bool, default False
        Show a tqdm progress bar over the batches.

    Returns
    -------
    np.ndarray of float32, shape (k, y, x)

    Examples
    --------
    >>> scene = np.arange(2 * 50 * 70, dtype=float).reshape(2, 50, 70)
    >>> out = predict_tiled(lambda tiles: tiles[:, :1] * 2, scene, tile=32, overlap=8, batch_size=3)
    >>> out.shape, bool(np.allclose(out[0], 2 * scene[0]))
    ((1, 50, 70), True)
    """
    padded, positions = _padded_scene(array, tile, overlap, "predict_tiled")
    origin = positions.min(axis=0)

    def batches():
        starts = range(0, len(positions), batch_size)
        for start in tqdm(starts, desc=f"{len(positions)} tiles", unit="batch", disable=not progress):
            where = positions[start:start + batch_size]
            tiles = np.stack([padded[:, r:r + tile, c:c + tile] for r, c in where - origin])
            yield np.asarray(predict_fn(tiles)), where

    return _stitch(batches(), positions, np.asarray(array).shape[1:], tile, overlap)


def _footprint(positions, tile, origin, extent):
    """Boolean canvas ``extent`` marking the pixels covered by tiles at ``positions`` (shifted by ``origin``)."""
    covered = np.zeros(extent, dtype=bool)
    for row, col in positions - origin:
        covered[row:row + tile, col:col + tile] = True
    return covered


def spatial_block_split(positions, tile, shape, block, val_fraction=0.2, seed=0):
    """Split tiles into training and validation by square blocks of the scene.

    Neighbouring pixels are alike, so a random tile split leaks: a tile's
    neighbour (sharing its overlap) would sit in the other split. Here each
    tile belongs to the block holding its centre; whole blocks, drawn at
    random, go to validation until ``val_fraction`` of the tiles are there,
    and training tiles that share any pixel with a validation tile are
    dropped (a buffer), so no pixel is seen by both splits.

    Parameters
    ----------
    positions : array-like of int, shape (n, 2)
        Tile top-left pixels from :func:`to_tiles`.
    tile : int
        Tile side in pixels.
    shape : (int, int)
        Scene size ``(y, x)``.
    block : int
        Block side in pixels; a few tiles wide (e.g. ``4 * tile``).
    val_fraction : float, default 0.2
        Target fraction of tiles in validation (reached or just exceeded).
    seed : int, default 0
        Seed of the block draw.

    Returns
    -------
    train_idx, val_idx : np.ndarray of int
        Sorted tile indices; no training tile shares a pixel with a
        validation tile. Tiles dropped as buffer are in neither.
    """
    positions = np.asarray(positions, dtype=int)
    n_blocks = np.array([max(1, -(-size // block)) for size in shape])
    cells = np.clip((positions + tile // 2) // block, 0, n_blocks - 1)
    owner = cells[:, 0] * n_blocks[1] + cells[:, 1]
    occupied = np.unique(owner)
    if len(occupied) < 2 or not 0 < val_fraction < 1:
        raise PlanetMLError(f"need tiles in at least 2 blocks and 0 < val_fraction < 1 "
                            f"(got {len(occupied)} block(s) of {block} px, val_fraction={val_fraction})")
    order = np.random.default_rng(seed).permutation(occupied)
    counts = np.array([np.sum(owner == b) for b in order])
    n_val = min(int(np.searchsorted(np.cumsum(counts), val_fraction * len(positions))) + 1, len(order) - 1)
    is_val = np.isin(owner, order[:n_val])
    origin = positions.min(axis=0)
    val_pixels = _footprint(positions[is_val], tile, origin, positions.max(axis=0) - origin + tile)
    touches = np.array([val_pixels[r:r + tile, c:c + tile].any() for r, c in positions - origin])
    return np.flatnonzero(~is_val & ~touches), np.flatnonzero(is_val)


def augment_tile_pair(image, mask, rng, flips=True, rotations=True, scale_range=(0.9, 1.1)):
    """Randomly flip, rotate by 90° steps and rescale an image tile and its mask alike.

    Rotating or mirroring a hillshade changes where its light seems to come
    from; set ``flips=False, rotations=False`` when the model should learn
    one illumination direction.

    Parameters
    ----------
    image : array-like, shape (c, h, w)
    mask : array-like, shape (h, w) or (k, h, w)
        Labels; resampled with nearest neighbour so they stay integers.
    rng : numpy.random.Generator
        Source of randomness (e.g. ``np.random.default_rng(seed)``).
    flips, rotations : bool, default True
        Allow a left-right mirror and rotations by multiples of 90° (by 180°
        only for non-square tiles); together they give all 8 symmetries.
    scale_range : (float, float), default (0.9, 1.1)
        Zoom factor drawn uniformly (> 1 enlarges); edges are reflected.

    Returns
    -------
    image, mask : np.ndarray
        Contiguous copies with the input shapes and dtypes.

    Examples
    --------
    >>> img, msk = augment_tile_pair(np.zeros((2, 8, 8)), np.eye(8, dtype=int), np.random.default_rng(0))
    >>> img.shape, msk.shape, int(msk.sum()) > 0
    ((2, 8, 8), (8, 8), True)
    """
    image, mask = np.asarray(image), np.asarray(mask)
    if image.ndim != 3 or mask.shape[-2:] != image.shape[-2:]:
        raise PlanetMLError(f"augment_tile_pair: image {image.shape} (c, h, w) and mask {mask.shape} differ")
    square = image.shape[1] == image.shape[2]
    turns = int(rng.integers(4)) if square else 2 * int(rng.integers(2))
    mirror = bool(rng.integers(2))
    zoom = rng.uniform(*scale_range)
    pair = []
    for array, order in ((image, 1), (mask, 0)):
        array = np.rot90(array, turns if rotations else 0, axes=(-2, -1))
        array = array[..., ::-1] if flips and mirror else array
        pair.append(np.ascontiguousarray(_zoom(array, zoom, order)))
    return pair[0], pair[1]


def _zoom(array, factor, order):
    """Zoom the last two axes of ``array`` about the centre by ``factor``, keeping the shape."""
    if factor == 1.0:
        return array
    n_lead = array.ndim - 2
    matrix = np.array([1.0] * n_lead + [1 / factor] * 2)
    centre = (np.array(array.shape) - 1) / 2
    offset = centre - matrix * centre
    return ndimage.affine_transform(array, matrix, offset=offset, order=order, mode="reflect")
