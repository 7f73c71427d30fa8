import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planetml_lib.errors import PlanetMLError
from planetml_lib.models.rules import BowShockRules, curvature_zscore, detect_bow_shocks

T0 = pd.Timestamp("2012-01-01")
# one 12-h orbit: IMF, bow shock at 5.0 h, magnetosheath, magnetopause at 5.4 h, magnetosphere
# (dipole removed: small residual), magnetopause at 6.2 h, magnetosheath, bow shock at 6.7 h, IMF
JUMPS_H = (5.0, 5.4, 6.2, 6.7)
LEVELS_NT = (20.0, 50.0, 15.0, 50.0, 20.0)
NOISE_NT = (3.0, 8.0, 1.0, 8.0, 3.0)


def orbit_field(rng, jumps_h=JUMPS_H, hours=12):
    """Residual field magnitude (nT) per second of one synthetic orbit."""
    seconds = np.arange(hours * 3600)
    region = np.searchsorted(np.array(jumps_h) * 3600, seconds, side="right")
    return np.array(LEVELS_NT)[region] + np.array(NOISE_NT)[region] * rng.normal(size=seconds.size)


def two_orbits(seed=0):
    rng = np.random.default_rng(seed)
    b = np.concatenate([orbit_field(rng), orbit_field(rng, jumps_h=(4.5, 5.0, 6.0, 7.2))])
    return pd.date_range(T0, periods=b.size, freq="1s"), b, np.repeat([101, 102], b.size // 2)


def centres_h(events):
    return ((events["start"] + (events["end"] - events["start"]) / 2 - T0) / pd.Timedelta("1h")).to_numpy()


def test_curvature_spikes_on_both_sides_of_a_jump():
    z = curvature_zscore(np.r_[np.zeros(100), np.ones(100)], window_length=21)
    assert 90 <= np.argmax(z) < 100 <= np.argmin(z) < 110  # convex before the step, concave after
    assert np.abs(z[:70]).max() < 0.5 and np.abs(z[130:]).max() < 0.5


def test_curvature_bridges_gaps_and_handles_degenerate_series():
    values = np.r_[np.zeros(100), np.ones(100)]
    values[20:25] = np.nan
    z = curvature_zscore(values, window_length=21)
    assert np.isnan(z[20:25]).all() and np.isfinite(np.delete(z, range(20, 25))).all()
    assert np.isnan(curvature_zscore(np.ones(50), 21)).all()  # flat: no curvature to score
    assert np.isnan(curvature_zscore(np.arange(10.0), 21)).all()  # shorter than the window


def test_first_and_last_spikes_of_each_orbit_are_the_bow_shocks():
    time, b, orbit = two_orbits()
    events = detect_bow_shocks(time, b, orbit)
    assert events["label"].tolist() == ["bow_shock_in", "bow_shock_out"] * 2
    assert events["orbit"].tolist() == [101, 101, 102, 102]
    expected = np.array([5.0, 6.7, 12 + 4.5, 12 + 7.2])
    np.testing.assert_allclose(centres_h(events), expected, atol=30 / 3600)  # within 30 s
    assert ((events["end"] - events["start"]) < pd.Timedelta("5min")).all()
    assert (events["score"] > 5).all()


def test_inner_spikes_are_ignored_even_at_a_low_threshold():
    # at |z| > 3 magnetopause jumps and magnetosheath waves spike too; only the outermost spikes count
    time, b, orbit = two_orbits(seed=1)
    events = detect_bow_shocks(time, b, orbit, z_threshold=3.0)
    np.testing.assert_allclose(centres_h(events), [5.0, 6.7, 16.5, 19.2], atol=30 / 3600)


def test_lone_spike_is_labelled_by_its_half_of_the_orbit():
    b = 20 + 3 * np.random.default_rng(2).normal(size=12 * 3600)
    b[: 9 * 3600] += 30  # the orbit starts in a quiet magnetosheath: one jump only
    events = detect_bow_shocks(pd.date_range(T0, periods=b.size, freq="1s"), b)
    assert events["label"].tolist() == ["bow_shock_out"] and "orbit" not in events
    np.testing.assert_allclose(centres_h(events), [9.0], atol=30 / 3600)


def test_quiet_orbit_gives_no_crossing():
    b = 20 + np.random.default_rng(3).normal(size=7200)
    events = detect_bow_shocks(pd.date_range(T0, periods=b.size, freq="1s"), b, np.ones(b.size, int))
    assert events.empty and list(events.columns) == ["start", "end", "label", "score", "orbit"]


def test_window_follows_the_cadence():
    time, b, orbit = two_orbits()
    coarse = detect_bow_shocks(time[::10], b[::10], orbit[::10])
    np.testing.assert_allclose(centres_h(coarse), [5.0, 6.7, 16.5, 19.2], atol=60 / 3600)


@pytest.mark.parametrize("options, match", [({"polyorder": 1}, "polyorder"), ({"window_s": 1.0}, "window_s"),
                                            ({"polyorder": 2.5}, "polyorder")])
def test_bad_settings_are_refused(options, match):
    time, b, _ = two_orbits()
    with pytest.raises(PlanetMLError, match=match):
        detect_bow_shocks(time[:100], b[:100], **options)


def test_predictor_reads_components_and_orbit_from_a_dataset():
    time, b, orbit = two_orbits()
    angle = np.linspace(0, 40 * np.pi, b.size)  # the residual vector rotates; only its length matters
    ds = xr.Dataset({"dbx": ("time", b * np.cos(angle)), "dby": ("time", b * np.sin(angle)),
                     "dbz": ("time", np.zeros(b.size)), "orbit": ("time", orbit)}, coords={"time": time})
    from_components = BowShockRules(["dbx", "dby", "dbz"]).predict(ds)
    from_magnitude = detect_bow_shocks(time, b, orbit)
    pd.testing.assert_frame_equal(from_components, from_magnitude, check_exact=False)


def test_predictor_names_missing_variables():
    ds = xr.Dataset({"db": ("time", np.ones(3))}, coords={"time": pd.date_range(T0, periods=3, freq="1s")})
    with pytest.raises(PlanetMLError, match="orbit"):
        BowShockRules("db").predict(ds)
