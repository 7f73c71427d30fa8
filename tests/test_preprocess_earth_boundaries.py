"""Tests for Earth's bow-shock and magnetopause models (planetml_lib.preprocess.earth_boundaries)."""

import numpy as np
import pytest

from planetml_lib.preprocess import earth_boundaries as eb

NO_ABERRATION = 1e12  # km/s: the wind along -x exactly


def test_published_standoffs():
    # Shue et al. (1998): 10-11 R_E at 2 nPa, Bz = 0; southward IMF erodes the magnetopause
    assert eb.magnetopause_standoff(2.0, 0.0) == pytest.approx(10.25, abs=0.05)
    assert eb.magnetopause_standoff(2.0, -10.0) < eb.magnetopause_standoff(2.0, 0.0) - 0.5
    assert eb.magnetopause_standoff(4.0, 0.0) / eb.magnetopause_standoff(2.0, 0.0) == pytest.approx(2 ** (-1 / 6.6))
    # Farris & Russell (1994): Delta / R_mp = 0.29 at M = 8; the shock then lies at 13-14 R_E
    assert eb.standoff_ratio(8.0) == pytest.approx(1.2925, abs=1e-3)
    assert 13.0 < eb.shock_standoff(2.0, 8.0, 0.0) < 14.0
    assert eb.standoff_ratio(1e4) == pytest.approx(1 + 1.1 / 4, abs=1e-4)
    assert eb.shock_standoff(2.0, 3.0, 0.0) > eb.shock_standoff(2.0, 8.0, 0.0) + 1.0


def test_signed_distances_on_the_axis():
    standoff = eb.shock_standoff(2.0, 8.0, 0.0)
    x = np.array([[standoff + 1.0, standoff - 1.0], [0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(eb.shock_surface_distance(x, 2.0, 8.0, 0.0, 0.9, 3.0, NO_ABERRATION), [1.0, -1.0])
    mp = eb.magnetopause_standoff(2.0, 0.0)
    assert eb.magnetopause_surface_distance([mp - 0.5, 0, 0], 2.0, 0.0, NO_ABERRATION) == pytest.approx(-0.5)


def test_aberration_moves_the_nose_towards_dawn():
    angle = eb.aberration_angle(400.0)
    assert np.degrees(angle) == pytest.approx(4.26, abs=0.05)
    nose = eb.shock_standoff(2.0, 8.0, 0.0) * np.array([np.cos(angle), -np.sin(angle), 0.0])
    assert eb.shock_surface_distance(nose, 2.0, 8.0, 0.0, 0.9, 3.0, 400.0) == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(eb.shock_normal(nose, 0.9, 3.0, 400.0), nose / np.linalg.norm(nose), atol=1e-9)


@pytest.mark.parametrize("surface", ["shock", "magnetopause"])
def test_normals_are_perpendicular_to_the_surface(surface):
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(3, 50))
    directions[0] = np.abs(directions[0]) + 0.3  # dayside and flanks
    directions /= np.linalg.norm(directions, axis=0)
    if surface == "shock":
        def distance(p):
            return eb.shock_surface_distance(p, 2.0, 6.0, -2.0, 1.0, 3.0, 450.0)

        def normal(p):
            return eb.shock_normal(p, 1.0, 3.0, 450.0)
    else:
        def distance(p):
            return eb.magnetopause_surface_distance(p, 2.0, -2.0, 450.0)

        def normal(p):
            return eb.magnetopause_normal(p, 2.0, -2.0, 450.0)
    origin = eb.from_aberrated(np.array([3.0 if surface == "shock" else 0.0, 0.0, 0.0]), 450.0)[:, None]
    points = 12.0 * directions
    points = points - distance(points) * (points - origin) / np.linalg.norm(points - origin, axis=0)
    np.testing.assert_allclose(distance(points), 0.0, atol=1e-9)  # now on the surface
    n = normal(points)
    np.testing.assert_allclose(np.linalg.norm(n, axis=0), 1.0)
    # the gradient of the signed distance (finite differences) is along the normal, pointing outward
    step = 1e-5
    gradient = np.stack([(distance(points + step * e[:, None]) - distance(points - step * e[:, None])) / (2 * step)
                         for e in np.eye(3)])
    gradient /= np.linalg.norm(gradient, axis=0)
    assert ((gradient * n).sum(axis=0) > 0.999).all()


def test_theta_bn():
    normal = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    field = np.array([[-3.0, 0.0, 1.0], [0.0, 2.0, 1.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(eb.theta_bn(field, normal), [0.0, 90.0, 45.0], atol=1e-9)
