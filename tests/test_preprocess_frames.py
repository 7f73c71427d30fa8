"""Tests for planetml_lib.preprocess.frames: OMNI's GSE field against the compilers' HEEQ for January 2017."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import PlanetMLError
from planetml_lib.io import read_omni2
from planetml_lib.preprocess.frames import gse_to_heeq, gse_to_heeq_matrix

DATA = Path(__file__).parent / "data"
#: the same hours with bx, by, bz rotated GSE -> HEEQ by the compilers of omni2_2007_2018_1h.csv.gz
TRUTH = DATA / "omni2_2017_jan_heeq.csv"


@pytest.fixture(scope="module")
def january() -> xr.Dataset:
    return read_omni2(DATA_DIR / "icme" / "omni2_2017_jan.dat.gz")


def test_matches_the_compilers_heeq(january):
    heeq = gse_to_heeq(january)
    truth = pd.read_csv(TRUTH, parse_dates=["time_utc"])
    assert len(truth) == 744
    np.testing.assert_array_equal(heeq["time"].values, truth["time_utc"].to_numpy())
    for name in ("bx", "by", "bz"):
        np.testing.assert_allclose(heeq[name].values, truth[name].to_numpy(), rtol=0, atol=0.02, err_msg=name)
        assert np.abs(heeq[name].values - truth[name].to_numpy()).max() < 1e-3  # 6 digits in the CSV


def test_preserves_magnitude_and_the_rest(january):
    heeq = gse_to_heeq(january)

    def norm(ds):
        return np.sqrt(ds["bx"] ** 2 + ds["by"] ** 2 + ds["bz"] ** 2).values

    np.testing.assert_allclose(norm(heeq), norm(january), rtol=1e-12)
    assert heeq.attrs == {**january.attrs, "frame": "HEEQ"}
    assert january.attrs["frame"] == "GSE"  # the input is left alone
    for name in ("bt", "vt", "np", "tp", "kp", "dst_nT"):
        assert heeq[name].identical(january[name])
    for name in ("bx", "by", "bz"):
        assert heeq[name].attrs == january[name].attrs
        assert not np.array_equal(heeq[name].values, january[name].values)


def test_matrices_are_rotations():
    time = pd.date_range("1995-01-01", "2030-01-01", freq="97D").to_numpy()
    m = gse_to_heeq_matrix(time)
    assert m.shape == (len(time), 3, 3)
    np.testing.assert_allclose(m @ np.swapaxes(m, -1, -2), np.broadcast_to(np.eye(3), m.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-12)
    # the Sun-Earth line: GSE -X is HEEQ +X up to the B0 angle (the solar equator's tilt, <= 7.25 deg)
    earth = m @ np.array([-1.0, 0.0, 0.0])
    assert (earth[:, 0] > np.cos(np.radians(7.26))).all() and np.abs(earth[:, 1]).max() < 1e-12
    # GSE Z (ecliptic north) stays within 7.25 deg of the solar rotation axis (HEEQ Z)
    north = m @ np.array([0.0, 0.0, 1.0])
    assert np.degrees(np.arccos(north[:, 2])).max() == pytest.approx(7.25, abs=0.01)


def test_missing_component_gives_nan(january):
    ds = january.isel(time=slice(0, 3)).copy(deep=True)
    ds["by"][1] = np.nan
    heeq = gse_to_heeq(ds)
    assert all(np.isnan(heeq[name].values[1]) for name in ("bx", "by", "bz"))
    assert np.isfinite(heeq["bx"].values[[0, 2]]).all()


def test_refuses_other_frames_and_missing_components(january):
    with pytest.raises(PlanetMLError, match="frame 'HEEQ'"):
        gse_to_heeq(gse_to_heeq(january))
    with pytest.raises(PlanetMLError, match=r"omni2_2017_jan.dat.gz: cannot rotate GSE to HEEQ, missing \['bz'\]"):
        gse_to_heeq(january.drop_vars("bz"))
