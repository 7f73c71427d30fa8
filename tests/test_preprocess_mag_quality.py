"""Tests for planetml_lib.preprocess.mag_quality on SIMULATED MESSENGER orbits."""

import numpy as np
import pytest

from planetml_lib.datasets import load_catalog
from planetml_lib.preprocess.mag_quality import isolated_spikes, position_frame
from planetml_lib.preprocess.mercury import DIPOLE_OFFSET_KM, MERCURY_RADIUS_KM
from planetml_lib.simulate import simulate_orbits


@pytest.fixture(scope="module")
def one_second():
    """Four hours of a simulated orbit at 1 s around periapsis: magnetosheath, magnetopause and magnetosphere."""
    ds = simulate_orbits([1500], load_catalog("philpott2020"), "1s")
    return ds.isel(time=slice(7200, 21600))


def field(ds):
    return np.stack([ds[name].values for name in ("bx", "by", "bz")])


def position(ds):
    return np.stack([ds[name].values for name in ("x_mso", "y_mso", "z_mso")])


def test_injected_spikes_are_found_and_few_others(one_second):
    b = field(one_second).T
    assert isolated_spikes(b).sum() <= 2  # the turbulent magnetosheath holds no spikes
    rng = np.random.default_rng(0)
    where = rng.choice(np.arange(100, len(b) - 100), 40, replace=False)
    spiked = b.copy()
    spiked[where, rng.integers(0, 3, 40)] += rng.choice([-1, 1], 40) * rng.uniform(150, 400, 40)
    found = isolated_spikes(spiked)
    assert found[where].sum() >= 38 and found.sum() <= 42  # in a magnetopause wobbling by 60 nT a second, one hides


def test_a_step_and_a_wide_bump_are_not_spikes():
    values = np.r_[np.zeros(50), np.full(50, 100.0)] + np.random.default_rng(1).normal(0, 1, 100)
    assert not isolated_spikes(values).any()
    values[70:73] += 200.0  # three samples: wider than an isolated spike
    assert not isolated_spikes(values).any()
    values[30] += 200.0
    assert isolated_spikes(values).nonzero()[0].tolist() == [30]


def test_positions_in_mso_and_msm_are_told_apart(one_second):
    as_given = position_frame(field(one_second), position(one_second))
    assert as_given.frame == "MSO" and as_given.n_samples > 100
    assert as_given.misfit_mso_nt * 2 < as_given.misfit_msm_nt
    msm = position(one_second) - np.array([[0.0], [0.0], [DIPOLE_OFFSET_KM]])
    assert position_frame(field(one_second), msm).frame == "MSM"


def test_without_low_samples_the_frame_is_not_told(one_second):
    high = np.linalg.norm(position(one_second), axis=0) > MERCURY_RADIUS_KM + 2000
    found = position_frame(field(one_second)[:, high], position(one_second)[:, high])
    assert found.frame is None and found.n_samples == 0
