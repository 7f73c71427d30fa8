import numpy as np
import pandas as pd
import pytest
import xarray as xr
from threadpoolctl import threadpool_limits

from planetml_lib.errors import PlanetMLError
from planetml_lib.models.region_trees import RegionTrees

# regions of each toy orbit, in samples: 0 quiet, 1 as quiet on average but turbulent, 2 a higher level
SEGMENTS = ((0, 150), (1, 100), (2, 100), (1, 100), (0, 150))
LEVEL, NOISE = (0.0, 0.0, 6.0), (1.0, 2.0, 1.0)
WINDOWS = ("60s", "300s")


@pytest.fixture(autouse=True, scope="module")
def one_openmp_thread():
    """Small fits run far faster on one thread than on several contended ones (over 10x on a busy 2-core machine)."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def toy_orbits(seed=0, n_orbits=2):
    """``n_orbits`` orbits of a field ``b`` at 10 s whose regions differ in level or fluctuation."""
    rng = np.random.default_rng(seed)
    region = np.tile(np.repeat(*zip(*SEGMENTS, strict=True)), n_orbits)
    b = np.take(LEVEL, region) + np.take(NOISE, region) * rng.normal(size=region.size)
    time = pd.date_range("2012-01-01", periods=region.size, freq="10s")
    orbit = np.repeat(np.arange(n_orbits), region.size // n_orbits)
    valid = np.ones(region.size, dtype=bool)
    valid[200:230] = False
    b[200:230] = np.nan
    valid[700:710] = False  # data but not valid
    return xr.Dataset({"b": ("time", b), "region": ("time", region), "valid": ("time", valid)},
                      coords={"time": time, "orbit": ("time", orbit)}, attrs={"cadence": "10s"})


def accuracy(trees, ds):
    keep = ds["valid"].values
    return np.mean(trees.predict_proba(ds)[keep].argmax(axis=1) == ds["region"].values[keep])


@pytest.fixture(scope="module")
def fitted():
    return RegionTrees(["b"], windows=WINDOWS, n_classes=4).fit(toy_orbits(seed=0))


def test_probabilities_are_distributions_on_valid_rows_and_nan_elsewhere(fitted):
    ds = toy_orbits(seed=1)
    probabilities = fitted.predict_proba(ds)
    valid = ds["valid"].values
    assert probabilities.shape == (ds.sizes["time"], 4)
    assert np.isnan(probabilities[~valid]).all()
    assert np.isfinite(probabilities[valid]).all() and (probabilities[valid] >= 0).all()
    np.testing.assert_allclose(probabilities[valid].sum(axis=1), 1.0)
    assert (probabilities[valid, 3] == 0).all()  # a class never seen in training


def test_trees_learn_regions_that_only_rolling_statistics_separate(fitted):
    held_out = toy_orbits(seed=1)
    assert accuracy(fitted, held_out) > 0.9  # chance: 1/3
    raw_only = RegionTrees(["b"], windows=(), n_classes=4).fit(toy_orbits(seed=0))
    assert accuracy(raw_only, held_out) < accuracy(fitted, held_out) - 0.15  # 0 and 1 overlap sample by sample


def test_fits_are_reproducible_and_subsampling_is_seeded():
    train, test = toy_orbits(seed=0), toy_orbits(seed=1)
    first, second = (RegionTrees(["b"], windows=WINDOWS, max_rows=400).fit(train).predict_proba(test)
                     for _ in range(2))
    np.testing.assert_array_equal(first, second)
    other_seed = RegionTrees(["b"], windows=WINDOWS, max_rows=400, random_state=1).fit(train).predict_proba(test)
    assert not np.allclose(first[test["valid"].values], other_seed[test["valid"].values])


def test_fit_uses_only_valid_rows_with_labels():
    ds = toy_orbits()
    ds["region"] = ds["region"].where(ds["orbit"] == 0, 9)  # nonsense labels, all on invalid rows
    ds["valid"] = ds["valid"] & (ds["orbit"] == 0)
    assert accuracy(RegionTrees(["b"], windows=WINDOWS).fit(ds), toy_orbits(seed=1)) > 0.9
    with pytest.raises(PlanetMLError, match="outside the classes"):
        RegionTrees(["b"], windows=WINDOWS).fit(ds.assign(valid=ds["valid"] | True))
    with pytest.raises(PlanetMLError, match="no rows"):
        RegionTrees(["b"], windows=WINDOWS).fit(ds.assign(valid=ds["valid"] & False))


def test_only_the_summarised_variables_get_rolling_statistics():
    ds = toy_orbits().assign(r=lambda d: d["b"] * 0 + 1.0)
    columns = RegionTrees(["b", "r"], windows=WINDOWS, summarised=["b"]).features(ds).columns.tolist()
    assert columns == ["b", "b_rolling_mean_60s", "b_rolling_std_60s", "b_rolling_mean_300s", "b_rolling_std_300s", "r"]
    assert len(RegionTrees(["b", "r"], windows=WINDOWS).features(ds).columns) == 10
