"""Tests for planetml_lib.preprocess.mercury: region labels, the offset dipole and boundary features."""

import KT17
import numpy as np
import pandas as pd
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.mercury import (
    DIPOLE_OFFSET_KM,
    IMF,
    MERCURY_RADIUS_KM,
    MP,
    MSH,
    MSP,
    REGIONS,
    SK,
    WINSLOW_BOW_SHOCK,
    WINSLOW_MAGNETOPAUSE,
    add_boundary_features,
    boundary_scale,
    crossings_to_regions,
    dipole_field,
    time_from_periapsis,
)
from planetml_lib.simulate import simulate_orbit

T0 = pd.Timestamp("2012-06-01 00:00")


def minutes(*values):
    return [T0 + pd.Timedelta(minutes=v) for v in values]


# One orbit by hand: bow shock in 10-12, magnetopause in 20-21, out 40-43, bow shock out 50-50 (one instant).
ORBIT = pd.DataFrame({
    "start": minutes(10, 20, 40, 50),
    "end": minutes(12, 21, 43, 50),
    "label": ["bow_shock_in", "magnetopause_in", "magnetopause_out", "bow_shock_out"],
})
TIME = pd.date_range(T0, periods=61, freq="1min")


def test_region_names():
    assert REGIONS == ("IMF", "SK", "MSh", "MP", "MSp") and (IMF, SK, MSH, MP, MSP) == (0, 1, 2, 3, 4)


def test_labels_of_a_hand_made_orbit():
    labels = crossings_to_regions(ORBIT, TIME)
    expected = np.zeros(61, dtype=np.int8)
    expected[10:13], expected[13:20], expected[20:22], expected[22:40] = SK, MSH, MP, MSP
    expected[40:44], expected[44:50], expected[50] = MP, MSH, SK
    assert labels.dtype == np.int8
    np.testing.assert_array_equal(labels, expected)


def test_labels_on_irregular_times_and_unsorted_events():
    times = minutes(5, 11.5, 30, 45, 55)
    assert crossings_to_regions(ORBIT.iloc[::-1], times).tolist() == [IMF, SK, MSP, MSH, IMF]


def test_start_region_comes_from_the_first_crossing():
    # A stretch that starts inside the magnetosphere: before magnetopause_out it is MSp.
    labels = crossings_to_regions(ORBIT.iloc[2:], TIME)
    assert labels[0] == MSP and labels[45] == MSH and labels[-1] == IMF
    assert (crossings_to_regions(ORBIT.iloc[:0], TIME) == IMF).all()


def test_magnetopause_wins_where_intervals_overlap():
    overlap = pd.DataFrame({"start": minutes(10, 11), "end": minutes(13, 14),
                            "label": ["bow_shock_in", "magnetopause_in"]})
    labels = crossings_to_regions(overlap, TIME)
    assert labels[10:16].tolist() == [SK, MP, MP, MP, MP, MSP]


def test_unknown_label_is_one_line_error():
    bad = ORBIT.assign(label=["bow_shock_in", "magnetopause", "magnetopause_out", "bow_shock_out"])
    with pytest.raises(PlanetMLError, match=r"unknown label\(s\) \['magnetopause'\]; valid: bow_shock_in"):
        crossings_to_regions(bad, TIME)


def test_dipole_at_equator_and_pole():
    equator = dipole_field([MERCURY_RADIUS_KM, 0.0], [0.0, -MERCURY_RADIUS_KM], [DIPOLE_OFFSET_KM] * 2)
    np.testing.assert_allclose(equator, [[0, 0], [0, 0], [190, 190]], atol=1e-9)
    pole = dipole_field(0.0, 0.0, MERCURY_RADIUS_KM + DIPOLE_OFFSET_KM)
    np.testing.assert_allclose(pole, [0, 0, -380], atol=1e-9)
    # Falls as r^-3: two radii out on the equator, 190 / 8 nT.
    np.testing.assert_allclose(dipole_field(2 * MERCURY_RADIUS_KM, 0, DIPOLE_OFFSET_KM)[2], 190 / 8)


def test_dipole_matches_kt17():
    msm = np.random.default_rng(1).uniform(-3, 3, size=(3, 50))
    msm = msm[:, np.linalg.norm(msm, axis=0) > 1]
    expected = np.stack(KT17.dipoleField(*msm))
    mso_km = msm * MERCURY_RADIUS_KM + np.array([[0], [0], [DIPOLE_OFFSET_KM]])
    np.testing.assert_allclose(dipole_field(*mso_km), expected, rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def orbit_12():
    from planetml_lib.datasets import load_catalog, load_messenger_orbits

    orbits = load_messenger_orbits()
    ds = simulate_orbit(12, load_catalog("philpott2020"), cadence="10s", orbit_table=orbits)
    row = orbits[orbits["orbit"] == 12].iloc[0]
    return add_boundary_features(ds, window="60s"), row["start"] + (row["end"] - row["start"]) / 2


def test_time_from_periapsis_recovers_the_keplerian_periapsis(orbit_12):
    features, periapsis = orbit_12
    expected = (features.indexes["time"] - periapsis).total_seconds().to_numpy() / 3600
    np.testing.assert_allclose(features["t_periapsis_h"].values, expected, atol=0.01)  # 36 s over a 12-h orbit
    assert features["inbound"].values.tolist() == (expected < 0).astype(int).tolist()


def test_boundary_features(orbit_12):
    features, periapsis = orbit_12
    b = np.stack([features[name].values for name in ("bx", "by", "bz")])
    np.testing.assert_allclose(features["b_mag"].values, np.linalg.norm(b, axis=0))
    for name in ("b_mag", "bx_ext", "b_mag_std_60s", "r_msm", "mlat_deg", "local_time_h", "lt_cos", "t_periapsis_h"):
        assert "units" in features[name].attrs, name
    near = np.abs(features["t_periapsis_h"].values) < 0.1
    assert features["r_msm"].values[near].min() < 1.1
    # Near periapsis the dipole dominates: removing it leaves a small part of |B|.
    ext = np.linalg.norm(np.stack([features[f"b{c}_ext"].values for c in "xyz"]), axis=0)
    assert np.median(ext[near] / features["b_mag"].values[near]) < 0.3
    # Fluctuations: the magnetosheath is much noisier than the magnetosphere.
    std, region = features["b_mag_std_60s"].values, features["region"].values
    assert np.nanmedian(std[region == MSH]) > 3 * np.nanmedian(std[region == MSP])
    hours = features["local_time_h"].values
    assert ((hours >= 0) & (hours < 24)).all()
    np.testing.assert_allclose(np.cos((hours - 12) * np.pi / 12), features["lt_cos"].values, atol=1e-9)


def test_missing_variables_and_too_few_times():
    frame = pd.DataFrame({"bx": [1.0]}, index=pd.DatetimeIndex([T0], name="time")).to_xarray()
    with pytest.raises(PlanetMLError, match=r"needs \['bx', 'by', 'bz', 'x_mso', 'y_mso', 'z_mso'\]; missing \['by'"):
        add_boundary_features(frame)
    with pytest.raises(PlanetMLError, match="at least 2 strictly increasing times"):
        time_from_periapsis(np.ones((3, 1)), [T0])


def test_boundary_scale_is_one_on_the_average_boundaries_and_less_inside():
    nose_mp = WINSLOW_MAGNETOPAUSE["standoff_rm"]
    shock = WINSLOW_BOW_SHOCK
    nose_bs = shock["focus_rm"] + shock["p_rm"] * shock["e"] / (1 + shock["e"])
    flank = nose_mp * 2 ** WINSLOW_MAGNETOPAUSE["alpha"]  # the magnetopause at the terminator (theta = 90 deg)
    rm = MERCURY_RADIUS_KM
    crossings = pd.DataFrame({
        "label": ["magnetopause_in", "magnetopause_out", "bow_shock_in", "bow_shock_out"],
        "x_mso_km": [nose_mp * rm, 0.0, nose_bs * rm, 0.8 * nose_bs * rm],
        "y_mso_km": [0.0, flank * rm, 0.0, 0.0],
        "z_mso_km": [DIPOLE_OFFSET_KM] * 4})
    inside = (0.8 * nose_bs - shock["focus_rm"]) / (nose_bs - shock["focus_rm"])  # scaled about the focus
    assert np.allclose(boundary_scale(crossings), [1.0, 1.0, 1.0, inside])
    assert inside < 0.8
