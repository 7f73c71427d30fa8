"""Checks of MESSENGER magnetometer input before a model sees it: isolated spikes, and the position frame.

* Spikes: the MAG averages hold isolated spikes (single samples far off their neighbours). Averaged
  onto a coarser grid, one spike shifts a whole bin and the fluctuation feature around it;
  :func:`isolated_spikes` finds them with a rolling median and median absolute deviation (MAD).
* Frame: the models take positions in MSO (origin at Mercury's centre). A file in MSM (origin at the
  dipole centre, :data:`~planetml_lib.preprocess.mercury.DIPOLE_OFFSET_KM` north) gives the same axes
  and numbers close enough to pass, but every dipole-based feature is then wrong. Near periapsis, low
  inside the magnetosphere, the field is close to the offset dipole, which tells the two frames apart
  (:func:`position_frame`).
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from planetml_lib.preprocess.mercury import DIPOLE_OFFSET_KM, MERCURY_RADIUS_KM, dipole_field


def isolated_spikes(values, window: int = 31, threshold: float = 10.0, min_deviation: float = 5.0,
                    max_width: int = 2) -> np.ndarray:
    """Samples that are isolated spikes in any column of ``values``.

    A sample is an outlier where it lies more than ``threshold`` robust standard deviations
    (1.4826 MAD) and more than ``min_deviation`` (units of ``values``: the floor where the
    series is flat) from the median of the ``window`` samples centred on it; a spike is a run
    of at most ``max_width`` outliers (longer runs are structure, such as a boundary, not
    spikes). A step between two levels is never flagged: the centred median follows it. NaN
    samples are neither spikes nor counted.

    Parameters
    ----------
    values : array-like, shape (n,) or (n, k)
        Samples in time order, e.g. the field components.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)

    Examples
    --------
    >>> isolated_spikes([1.0, 1.2, 0.9, 1.1, 80.0, 1.0, 0.8, 1.1, 1.0], window=5).nonzero()[0]
    array([4])
    """
    table = pd.DataFrame(np.asarray(values, dtype=float).reshape(len(values), -1))
    rolling = dict(window=window, center=True, min_periods=window // 2 + 1)
    deviation = (table - table.rolling(**rolling).median()).abs()
    spread = 1.4826 * deviation.rolling(**rolling).median()
    outlier = ((deviation > threshold * spread) & (deviation > min_deviation)).any(axis=1).to_numpy()
    runs = pd.Series(outlier).ne(pd.Series(outlier).shift()).cumsum()
    width = pd.Series(outlier).groupby(runs).transform("sum").to_numpy()
    return outlier & (width <= max_width)


class FrameCheck(NamedTuple):
    """What :func:`position_frame` found: ``frame`` ("MSO", "MSM" or None if it cannot tell), the median
    misfit (nT) of the field to the dipole with the positions taken as MSO and as MSM, and the samples used."""

    frame: str | None
    misfit_mso_nt: float
    misfit_msm_nt: float
    n_samples: int


def position_frame(b_nt, position_km, max_altitude_km: float = 600.0, min_samples: int = 5,
                   ratio: float = 1.5) -> FrameCheck:
    """Whether positions are in MSO or MSM, from the field near periapsis.

    Below ``max_altitude_km`` MESSENGER was inside the magnetosphere, where the field is close to
    the offset dipole. The dipole is evaluated at the positions as given (MSO) and shifted
    :data:`~planetml_lib.preprocess.mercury.DIPOLE_OFFSET_KM` north (what MSO would be were they
    MSM); the frame whose median vector misfit is ``ratio`` times smaller wins. Too few low
    samples (fewer than ``min_samples``) or no clear winner give ``frame`` None.

    Parameters
    ----------
    b_nt : array-like, shape (3, n)
        Field (nT), Bx, By, Bz.
    position_km : array-like, shape (3, n)
        Spacecraft position (km), x, y, z, in the frame to be checked.
    """
    b, position = np.asarray(b_nt, dtype=float), np.asarray(position_km, dtype=float)
    low = (np.linalg.norm(position, axis=0) < MERCURY_RADIUS_KM + max_altitude_km) & np.isfinite(b).all(axis=0)
    if low.sum() < min_samples:
        return FrameCheck(None, np.nan, np.nan, int(low.sum()))
    x, y, z = position[:, low]
    misfits = [float(np.median(np.linalg.norm(b[:, low] - dipole_field(x, y, z + shift), axis=0)))
               for shift in (0.0, DIPOLE_OFFSET_KM)]
    frame = ("MSO" if misfits[0] * ratio < misfits[1] else "MSM" if misfits[1] * ratio < misfits[0] else None)
    return FrameCheck(frame, *misfits, int(low.sum()))
