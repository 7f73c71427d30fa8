import numpy as np
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.images import (
    augment_tile_pair,
    from_tiles,
    scale_to_unit,
    spatial_block_split,
    to_tiles,
)


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (31, 64), (65, 130), (100, 33)])
@pytest.mark.parametrize(("tile", "overlap"), [(16, 0), (16, 4), (16, 8), (32, 16), (8, 3)])
def test_from_tiles_undoes_to_tiles(shape, tile, overlap):
    scene = np.random.default_rng(1).normal(size=(2, *shape))
    tiles, positions = to_tiles(scene, tile, overlap)
    assert tiles.shape[1:] == (2, tile, tile) and len(positions) == len(tiles)
    np.testing.assert_allclose(from_tiles(tiles, positions, shape, tile, overlap), scene, atol=1e-5)


def test_tiles_are_windows_of_the_scene():
    scene = np.arange(3 * 50 * 70, dtype=float).reshape(3, 50, 70)
    tiles, positions = to_tiles(scene, 32, 8)
    assert positions[0].tolist() == [-4, -4] and np.all(np.diff(np.unique(positions[:, 1])) == 24)
    for values, (row, col) in zip(tiles, positions, strict=True):
        if row >= 0 and col >= 0 and row + 32 <= 50 and col + 32 <= 70:
            np.testing.assert_array_equal(values, scene[:, row:row + 32, col:col + 32])
    # reflected margin: the row above the scene mirrors row 1
    np.testing.assert_array_equal(tiles[0][:, 3, 4:], scene[:, 1, :28])


def test_stitching_ramps_between_neighbouring_tiles():
    tiles, positions = to_tiles(np.zeros((1, 16, 40)), 16, 8)
    column_number = positions[:, 1] / 8.0  # -0.5, 0.5, 1.5, ... for tiles starting at -4, 4, 12, ...
    values = column_number[:, None, None, None] * np.ones((1, 1, 16, 16))
    row = from_tiles(values, positions, (16, 40), 16, 8)[0, 8]
    assert np.all(np.diff(row) >= 0)  # no seams: a smooth, monotonic blend from tile to tile
    assert row[:4].tolist() == [-0.5] * 4  # only the first tile reaches here
    assert np.all(np.diff(row[4:12]) == pytest.approx(1 / 8))  # linear ramp across the 8-pixel overlap


def test_from_tiles_leaves_uncovered_pixels_nan_and_checks_shapes():
    tiles, positions = to_tiles(np.ones((1, 40, 40)), 16, 0)
    stitched = from_tiles(tiles[:1], positions[:1], (40, 40), 16, 0)
    assert np.isfinite(stitched[0, :16, :16]).all() and np.isnan(stitched[0, 16:, :]).all()
    with pytest.raises(PlanetMLError, match="do not match"):
        from_tiles(tiles[:, :, :8], positions, (40, 40), 16, 0)
    with pytest.raises(PlanetMLError, match="overlap"):
        to_tiles(np.ones((1, 40, 40)), 16, 9)
    with pytest.raises(PlanetMLError, match=r"\(c, y, x\)"):
        to_tiles(np.ones((40, 40)), 16)


def test_scale_to_unit_per_channel_with_gaps():
    x = np.stack([np.linspace(0, 100, 101), np.linspace(-5, 5, 101), np.full(101, 7.0)])[:, None, :]
    x[1, 0, 50] = np.nan
    scaled, valid = scale_to_unit(x, percentiles=(10, 90))
    assert scaled.dtype == np.float32 and scaled.shape == x.shape
    assert scaled[0, 0, 10] == pytest.approx(-1) and scaled[0, 0, 90] == pytest.approx(1)
    assert scaled[0, 0, 0] == -1 and scaled[0, 0, 100] == 1  # clipped beyond the percentiles
    assert scaled[1, 0, 50] == 0 and not valid[1, 0, 50] and valid.sum() == x.size - 1
    assert np.all(scaled[2] == 0)  # constant channel
    empty, empty_valid = scale_to_unit(np.full((4, 4), np.nan))
    assert np.all(empty == 0) and not empty_valid.any()


def test_spatial_block_split_has_no_shared_pixels():
    shape, tile = (512, 512), 64
    tiles, positions = to_tiles(np.zeros((1, *shape)), tile, 16)
    train, val = spatial_block_split(positions, tile, shape, block=128, val_fraction=0.2, seed=0)
    assert len(np.intersect1d(train, val)) == 0
    assert 0.2 <= len(val) / len(positions) < 0.35 and len(train) > 0.4 * len(positions)
    covered = np.zeros((2, 600, 600), dtype=bool)
    for split, indices in enumerate((train, val)):
        for row, col in positions[indices] + 8:
            covered[split, row:row + tile, col:col + tile] = True
    assert not (covered[0] & covered[1]).any()
    again = spatial_block_split(positions, tile, shape, block=128, val_fraction=0.2, seed=0)
    other = spatial_block_split(positions, tile, shape, block=128, val_fraction=0.2, seed=1)
    assert np.array_equal(again[1], val) and not np.array_equal(other[1], val)
    with pytest.raises(PlanetMLError, match="at least 2 blocks"):
        spatial_block_split(positions, tile, shape, block=1024)


def test_augmentation_moves_image_and_mask_together():
    rng = np.random.default_rng(0)
    mask = np.zeros((16, 16), dtype=np.int64)
    mask[2:6, 3:12] = 1
    mask[10:14, 1:4] = 2
    image = np.stack([mask.astype(float), np.ones((16, 16))])
    seen = set()
    for _ in range(60):
        img, msk = augment_tile_pair(image, mask, rng, scale_range=(1.0, 1.0))
        assert msk.dtype == mask.dtype and img.flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(img[0], msk)
        seen.add(msk.tobytes())
    assert len(seen) == 8  # the four rotations, each mirrored or not
    img, msk = augment_tile_pair(image, mask, rng, scale_range=(0.85, 0.9))
    assert set(np.unique(msk)) <= {0, 1, 2} and np.mean(np.round(img[0]) == msk) > 0.9
    same, same_mask = augment_tile_pair(image, mask, rng, flips=False, rotations=False, scale_range=(1.0, 1.0))
    np.testing.assert_array_equal(same, image)
    np.testing.assert_array_equal(same_mask, mask)


def test_predict_tiled_matches_cutting_every_tile_at_once():
    from planetml_lib.preprocess.images import predict_tiled

    scene = np.random.default_rng(0).normal(size=(2, 90, 130))
    tiles, positions = to_tiles(scene, 32, 8)
    stitched = from_tiles(np.tanh(tiles[:, :1]), positions, scene.shape[1:], 32, 8)
    streamed = predict_tiled(lambda t: np.tanh(t[:, :1]), scene, 32, 8, batch_size=7)
    np.testing.assert_allclose(streamed, stitched, atol=1e-5)
