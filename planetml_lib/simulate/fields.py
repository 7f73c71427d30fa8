"""Magnetic fields of Mercury's environment for the MESSENGER simulator (all in nT, MSO axes).

Three fields are built for every sample of an orbit and blended by region in
:mod:`planetml_lib.simulate.messenger`:

* solar wind: a Parker-spiral interplanetary field (IMF) with turbulence;
* magnetosheath: the IMF behind the bow shock, its tangential part compressed and draped
  over the magnetopause, with strong turbulence;
* magnetosphere: the KT17 model of Korth et al. (2017) (offset dipole, magnetopause
  and tail currents), the bare offset dipole where KT17 has no value.

Turbulence is Gaussian noise with a Kolmogorov-like spectrum (power ~ f^-5/3 above
``1 / outer_scale_s``), normalised to unit standard deviation over the orbit.
"""

import KT17
import numpy as np

from planetml_lib.preprocess.mercury import dipole_field, msm_position

#: Mercury's rotation rate around the Sun as seen by the solar wind (rad/s): the Sun's
#: sidereal rotation (25.4 days), which winds the Parker spiral.
SUN_ROTATION_RAD_S = 2 * np.pi / (25.38 * 86400)
AU_KM = 1.495978707e8
#: KT17's validity range of the heliocentric distance (AU).
KT17_RSUN_RANGE = (0.307, 0.467)


def turbulence(rng: np.random.Generator, n_components: int, n: int, dt_s: float, outer_scale_s: float) -> np.ndarray:
    """Gaussian red noise, shape (n_components, n), unit standard deviation per component.

    The power spectrum is flat below ``1 / outer_scale_s`` and falls as f^-5/3 above it
    (the inertial range of solar-wind and magnetosheath turbulence).
    """
    frequency = np.fft.rfftfreq(n, dt_s)
    amplitude = (1.0 + (frequency * outer_scale_s) ** 2) ** (-5.0 / 12.0)
    amplitude[0] = 0.0
    phases = rng.normal(size=(n_components, frequency.size)) + 1j * rng.normal(size=(n_components, frequency.size))
    noise = np.fft.irfft(phases * amplitude, n=n, axis=1)
    return noise / np.maximum(noise.std(axis=1, keepdims=True), 1e-12)


def parker_imf(r_sun_au: float, radial_1au_nt: float, speed_kms: float, polarity: int) -> np.ndarray:
    """Mean Parker-spiral IMF at Mercury (nT, MSO), shape (3,).

    B_R = ``radial_1au_nt`` / r^2 and B_T = -B_R tan(psi) with tan(psi) = Omega r / V
    (about 20 deg from radial at Mercury). In MSO x points to the Sun and y against
    Mercury's orbital motion, so B_x = -B_R and B_y = -B_T. ``polarity`` +1 is an away
    sector (B_x < 0, B_y > 0), -1 a toward sector.
    """
    radial = polarity * radial_1au_nt / r_sun_au**2
    tan_psi = SUN_ROTATION_RAD_S * r_sun_au * AU_KM / speed_kms
    return np.array([-radial, radial * tan_psi, 0.0])


def obstacle_normal(position_rm: np.ndarray, flaring_rm: float) -> np.ndarray:
    """Outward unit normal of a paraboloid of revolution about the x axis, shape (3, n).

    A surface x = x0 - (y^2 + z^2) / (2 L) has normal (1, y / L, z / L): sunward at the
    nose, turning towards the flanks; it stands in for both the bow shock and the
    magnetopause when draping the magnetosheath field.
    """
    normal = np.stack([np.ones(position_rm.shape[1]), position_rm[1] / flaring_rm, position_rm[2] / flaring_rm])
    return normal / np.linalg.norm(normal, axis=0)


def sheath_field(imf: np.ndarray, position_rm: np.ndarray, compression: float, flaring_rm: float) -> np.ndarray:
    """Shocked and draped IMF (nT), shape (3, n).

    Across a fast shock the normal component is continuous and the tangential one grows
    by the density compression ratio (<= 4); the compression weakens towards the flanks,
    where the shock is oblique and weak: tangential factor ``1 + (compression - 1) max(n_x, 0.3)^2``
    (3.5 at the nose, about 1.8 at 45 deg from it, for ``compression`` 3.5).

    Parameters
    ----------
    imf : numpy.ndarray, shape (3, n)
        Upstream field (nT).
    position_rm : numpy.ndarray, shape (3, n)
        MSM position (Mercury radii).
    compression : float
        Compression ratio at the nose (3-4 at Mercury's strong bow shock).
    flaring_rm : float
        Paraboloid scale of :func:`obstacle_normal` (R_M).
    """
    normal = obstacle_normal(position_rm, flaring_rm)
    b_normal = (imf * normal).sum(axis=0) * normal
    factor = 1.0 + (compression - 1.0) * np.maximum(normal[0], 0.3) ** 2
    return b_normal + factor * (imf - b_normal)


def magnetosphere_field(position_km: np.ndarray, r_sun_au: float, dist_index: float) -> np.ndarray:
    """Mercury's magnetospheric field (nT), shape (3, n): KT17, the offset dipole where KT17 gives NaN.

    Parameters
    ----------
    position_km : numpy.ndarray, shape (3, n)
        MSO position (km).
    r_sun_au : float
        Mercury's heliocentric distance (AU), clipped to KT17's range 0.307-0.467.
    dist_index : float
        Anderson et al. (2013) disturbance index, 0-97 (50 is typical).
    """
    r_sun = float(np.clip(r_sun_au, *KT17_RSUN_RANGE))
    field = np.stack(KT17.ModelField(*msm_position(*position_km), Rsun=r_sun, DistIndex=float(dist_index)))
    outside = ~np.isfinite(field).all(axis=0)
    if outside.any():
        field[:, outside] = dipole_field(*position_km[:, outside])
    return field
