import numpy as np
import pandas as pd
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.timing import angle_deg, crossing_delays, crossing_time, timing_normal

EARTH_RADIUS_KM = 6371.0
T0 = np.datetime64("2002-02-02T10:00:00", "ns")


def random_unit(rng):
    vector = rng.normal(size=3)
    return vector / np.linalg.norm(vector)


def random_tetrahedron(rng, scale_km=1000.0):
    """Four spacecraft near the subsolar bow shock, separated by about ``scale_km``, not too flat."""
    while True:
        offsets = rng.normal(scale=scale_km, size=(4, 3))
        singular = np.linalg.svd(offsets - offsets.mean(axis=0), compute_uv=False)
        if singular[0] / singular[-1] < 10:
            return np.array([13.0, 3.0, 1.0]) * EARTH_RADIUS_KM + offsets


def regular_tetrahedron(edge_km, rotation):
    vertices = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) * edge_km / (2 * np.sqrt(2))
    return vertices @ rotation.T


def crossing_seconds(positions, normal, speed_km_s, reference):
    """Times (s) at which a plane with ``normal`` moving at ``speed_km_s`` along it passes each position."""
    return (positions - reference) @ normal / speed_km_s


def as_datetimes(seconds):
    return T0 + np.round(np.asarray(seconds) * 1e9).astype("timedelta64[ns]")


def test_exact_times_recover_normal_and_speed_for_random_tetrahedra():
    rng = np.random.default_rng(0)
    for _ in range(50):
        positions, normal, speed = random_tetrahedron(rng), random_unit(rng), rng.uniform(5, 150)
        seconds = crossing_seconds(positions, normal, speed, reference=positions[2])
        result = timing_normal(positions, as_datetimes(seconds))
        assert angle_deg(result.normal, normal, signless=False) < 0.1
        assert result.speed_km_s == pytest.approx(speed, rel=1e-4)
        assert np.linalg.norm(result.normal) == pytest.approx(1.0)
        assert result.residual_s < 1e-6 and 1 <= result.condition < 10


def test_seconds_and_datetimes_give_the_same_answer():
    rng = np.random.default_rng(1)
    positions, normal = random_tetrahedron(rng), random_unit(rng)
    seconds = 100.0 + crossing_seconds(positions, normal, 40.0, reference=positions[0])
    from_seconds, from_dates = timing_normal(positions, seconds), timing_normal(positions, as_datetimes(seconds))
    np.testing.assert_allclose(from_seconds.normal, from_dates.normal, atol=1e-9)
    assert from_seconds.speed_km_s == pytest.approx(from_dates.speed_km_s)


def test_one_second_timing_noise_degrades_as_predicted():
    """Linear error propagation: for a regular tetrahedron of edge L, the rms normal error is
    2 V sigma / L radians and the rms speed error sqrt(2) V**2 sigma / L (here 4.6 deg and 2.3 km/s)."""
    rng = np.random.default_rng(2)
    edge, speed, sigma, n_trials = 1000.0, 40.0, 1.0, 2000
    angles, speeds = np.empty(n_trials), np.empty(n_trials)
    for trial in range(n_trials):
        rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
        positions, normal = regular_tetrahedron(edge, rotation), random_unit(rng)
        seconds = crossing_seconds(positions, normal, speed, positions[0]) + rng.normal(scale=sigma, size=4)
        result = timing_normal(positions, seconds)
        angles[trial], speeds[trial] = angle_deg(result.normal, normal), result.speed_km_s
    rms_angle, rms_speed = np.sqrt(np.mean(angles**2)), np.sqrt(np.mean((speeds - speed) ** 2))
    assert rms_angle == pytest.approx(np.degrees(2 * speed * sigma / edge), rel=0.1)
    assert rms_speed == pytest.approx(np.sqrt(2) * speed**2 * sigma / edge, rel=0.1)
    assert np.percentile(angles, 99) < 15  # still a usable normal, never a wild one


def test_more_spacecraft_are_fitted_by_least_squares_with_a_residual():
    rng = np.random.default_rng(3)
    positions, normal = np.vstack([random_tetrahedron(rng), random_tetrahedron(rng)[:2]]), random_unit(rng)
    seconds = crossing_seconds(positions, normal, 60.0, positions[0])
    exact = timing_normal(positions, seconds)
    assert angle_deg(exact.normal, normal) < 1e-6 and exact.residual_s < 1e-9
    noisy = timing_normal(positions, seconds + rng.normal(scale=0.5, size=6))
    assert 0.05 < noisy.residual_s < 1.0


def test_outward_flips_normal_and_speed_sign():
    rng = np.random.default_rng(4)
    positions = random_tetrahedron(rng)
    outward = positions[0] / np.linalg.norm(positions[0])
    seconds = crossing_seconds(positions, outward, -30.0, positions[0])  # shock moving Earthward
    free = timing_normal(positions, seconds)
    assert angle_deg(free.normal, -outward, signless=False) < 1e-6 and free.speed_km_s == pytest.approx(30.0)
    oriented = timing_normal(positions, seconds, outward=positions[0])
    assert angle_deg(oriented.normal, outward, signless=False) < 1e-6
    assert oriented.speed_km_s == pytest.approx(-30.0)
    again = timing_normal(positions, seconds, outward=-positions[0])
    assert angle_deg(again.normal, -outward, signless=False) < 1e-6 and again.speed_km_s == pytest.approx(30.0)


@pytest.mark.parametrize(
    ("positions", "match"),
    [
        ([[0, 0, 0], [1000, 0, 0], [0, 1000, 0]], "at least 4 spacecraft"),
        ([[0, 0, 0], [1000, 0, 0], [0, 1000, 0], [1000, 1000, 0]], "degenerate"),  # coplanar
        ([[0, 0, 0], [1000, 0, 0], [2000, 0, 0], [3000, 0, 0]], "degenerate"),  # collinear
        ([[0, 0, 0], [1000, 0, 0], [0, 1000, 0], [300, 300, 5]], "degenerate"),  # nearly flat
        ([[0, 0, 0], [1000, 0, 0], [0, 1000, 0], [0, 0, np.nan]], "NaN"),
        ([[0, 0], [1, 0], [0, 1], [1, 1]], "shape"),
    ],
)
def test_bad_configurations_are_refused(positions, match):
    times = np.arange(len(positions), dtype=float)
    with pytest.raises(PlanetMLError, match=match):
        timing_normal(positions, times)


def test_bad_times_are_refused():
    positions = np.array([[0, 0, 0], [1000, 0, 0], [0, 1000, 0], [0, 0, 1000]])
    with pytest.raises(PlanetMLError, match="NaN at spacecraft \\[2\\]"):
        timing_normal(positions, [0.0, 1.0, np.nan, 2.0])
    with pytest.raises(PlanetMLError, match="NaT at spacecraft \\[1\\]"):
        timing_normal(positions, np.array([T0, "NaT", T0, T0], dtype="datetime64[ns]"))
    with pytest.raises(PlanetMLError, match="infinite"):
        timing_normal(positions, [5.0, 5.0, 5.0, 5.0])
    with pytest.raises(PlanetMLError, match="shape \\(4,\\)"):
        timing_normal(positions, [0.0, 1.0, 2.0])
    with pytest.raises(PlanetMLError, match="outward"):
        timing_normal(positions, [0.0, 1.0, 2.0, 3.0], outward=[0, 0, 0])
    assert timing_normal(positions, [0.0, 1.0, 2.0, 3.0]).condition == pytest.approx(2.0)
    with pytest.raises(PlanetMLError, match="max_condition 1.5"):
        timing_normal(positions, [0.0, 1.0, 2.0, 3.0], max_condition=1.5)


def test_angle_deg_signless_batches_and_precision():
    assert float(angle_deg([0, 0, 1], [0, 0, -2])) == 0.0
    assert float(angle_deg([0, 0, 1], [0, 0, -2], signless=False)) == 180.0
    tiny = 1e-9
    assert float(angle_deg([1, 0, 0], [1, tiny, 0])) == pytest.approx(np.degrees(tiny), rel=1e-6)
    np.testing.assert_allclose(angle_deg(np.eye(3), [1, 1, 0]), [45, 45, 90])
    with pytest.raises(PlanetMLError, match="non-zero"):
        angle_deg([0, 0, 0], [1, 0, 0])
    with pytest.raises(PlanetMLError, match="shape"):
        angle_deg([1, 0], [1, 0])


def ramps(delays_s, cadence_s=4.0, n_times=150, ramp_s=12.0, noise=0.0, seed=0):
    """|B| (nT) jumping from 5 to 15 nT at 300 s plus each delay, sampled every ``cadence_s``."""
    t = np.arange(n_times) * cadence_s
    series = 10 + 5 * np.tanh((t[None, :] - 300.0 - np.asarray(delays_s)[:, None]) / ramp_s)
    return series + np.random.default_rng(seed).normal(scale=noise, size=series.shape)


def test_cross_correlation_recovers_delays_to_sub_sample_precision():
    delays = np.array([0.0, 2.7, -5.3, 9.1])
    found = crossing_delays(ramps(delays), cadence_s=4.0, max_lag_s=60.0)
    assert found[0] == 0.0
    np.testing.assert_allclose(found, delays, atol=0.05)  # about 1 % of the 4-s cadence
    noisy = crossing_delays(ramps(delays, noise=0.3), cadence_s=4.0, max_lag_s=60.0)
    np.testing.assert_allclose(noisy, delays, atol=1.0)  # a quarter of a sample with 3 % noise


def test_cross_correlation_ignores_gaps():
    delays = np.array([0.0, 6.5, -3.0, 13.0])
    series = ramps(delays)
    series[1, 40:50] = np.nan
    series[3, 90:] = np.nan
    np.testing.assert_allclose(crossing_delays(series, cadence_s=4.0, max_lag_s=60.0), delays, atol=0.4)


def test_delay_beyond_max_lag_is_nan():
    found = crossing_delays(ramps([0.0, 50.0, 8.0]), cadence_s=4.0, max_lag_s=24.0)
    assert np.isnan(found[1]) and found[2] == pytest.approx(8.0, abs=0.4)


@pytest.mark.parametrize(
    ("series", "cadence", "max_lag", "match"),
    [(np.zeros(50), 4.0, 20.0, "n_spacecraft"), (np.zeros((2, 50)), 0.0, 20.0, "cadence_s"),
     (np.zeros((2, 50)), 4.0, 2.0, "max_lag_s"), (np.zeros((2, 10)), 4.0, 40.0, "max_lag_s")],
)
def test_crossing_delays_refuses_bad_input(series, cadence, max_lag, match):
    with pytest.raises(PlanetMLError, match=match):
        crossing_delays(series, cadence, max_lag)


def noisy_step(crossing_s, noise_nT, seed=0, n_times=300):
    t = pd.date_range("2002-02-02 10:00", periods=n_times, freq="4s")
    seconds = np.arange(n_times) * 4.0
    b = np.where(seconds < crossing_s, 5.0, 15.0) + np.random.default_rng(seed).normal(scale=noise_nT, size=n_times)
    return t, b


def test_crossing_time_on_a_noisy_step():
    """The jump at 601 s lies between the samples at 600 s and 604 s; half-way between them is 602 s."""
    expected = pd.Timestamp("2002-02-02 10:00") + pd.Timedelta(seconds=602.0)
    errors = []
    for seed in range(20):
        t, b = noisy_step(601.0, noise_nT=1.5, seed=seed)
        found = crossing_time(t, b, around=expected + pd.Timedelta("50s"), window="3min")
        errors.append(abs((found - expected).total_seconds()))
    assert max(errors) <= 2.0  # within half a 4-s sample although the noise crosses the half level


def test_crossing_time_is_nan_aware_and_interpolates():
    t, b = noisy_step(601.0, noise_nT=0.0)
    b[140:149] = np.nan  # gap before the jump at sample 150.25
    found = crossing_time(t, b, around=t[150], window="2min")
    assert found == t[150] + pd.Timedelta("2s")  # half-way between 5 nT at sample 150 and 15 nT at 151
    falling = crossing_time(t, 20 - b, around=t[150], window="2min")
    assert falling == found


def test_crossing_time_without_a_clean_jump_is_nat():
    t, b = noisy_step(10_000.0, noise_nT=1.0)  # no jump in the series
    assert crossing_time(t, b, around=t[150], window="5min") is pd.NaT
    t, b = noisy_step(601.0, noise_nT=8.0)  # jump buried in noise
    assert crossing_time(t, b, around=t[150], window="5min") is pd.NaT
    t, b = noisy_step(601.0, noise_nT=0.1)
    b[145:] = np.nan  # no data after the crossing
    assert crossing_time(t, b, around=t[150], window="5min") is pd.NaT


def test_crossing_time_refuses_bad_input():
    t, b = noisy_step(601.0, noise_nT=0.1)
    with pytest.raises(PlanetMLError, match="shape"):
        crossing_time(t, b[:-1], around=t[150], window="1min")
    with pytest.raises(PlanetMLError, match="sorted"):
        crossing_time(t[::-1], b, around=t[150], window="1min")
    with pytest.raises(PlanetMLError, match="window"):
        crossing_time(t, b, around=t[150], window="-1min")
