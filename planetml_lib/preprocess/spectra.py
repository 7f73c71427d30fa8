"""Spectra onto a model's wavelength grid: order, duplicates, percent, gaps, normalisation.

:func:`prepare_spectra` takes the spectra contract of :mod:`planetml_lib.io.spectra` to a
regular grid by linear interpolation between each spectrum's finite points, never by
extrapolation: a spectrum that does not cover the grid is refused, naming it and the range
it covers. Each spectrum is then divided by its value at the normalisation wavelength
(550 nm, as the RELAB compilation is), so percent or fraction and the overall brightness
no longer matter; the band shapes carry the mineralogy.
"""

import warnings

import numpy as np
import xarray as xr

from planetml_lib.errors import PlanetMLError

#: The model grid of the mineral case: 450-2450 nm every 5 nm (the RELAB compilation's grid).
GRID_NM = np.arange(450.0, 2450.0 + 1e-9, 5.0)
#: Spectra are divided by their value here (nm).
NORMALISE_AT_NM = 550.0
#: A spectrum whose median reflectance exceeds this is taken to be in percent.
PERCENT_MEDIAN = 5.0


def sorted_unique(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with wavelengths increasing; repeated wavelengths averaged (NaN ignored)."""
    if np.unique(ds["wavelength"].values).size < ds.sizes["wavelength"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a repeated wavelength that is NaN everywhere
            merged = ds.groupby("wavelength").mean(skipna=True, keep_attrs=True).transpose("sample", "wavelength")
        ds = merged.assign_coords(wavelength=merged["wavelength"].assign_attrs(ds["wavelength"].attrs))
    return ds.sortby("wavelength")


def name_of(ds: xr.Dataset, index: int) -> str:
    """How a message names spectrum ``index``: its ``SpectrumID`` or ``SampleID``, else its position."""
    for key in ("SpectrumID", "SampleID"):
        if key in ds.coords:
            return f"{key} {ds[key].values[index]}"
    return f"spectrum {index}"


def from_percent(ds: xr.Dataset) -> xr.Dataset:
    """Reflectance as a fraction: spectra whose median exceeds :data:`PERCENT_MEDIAN` are divided by 100."""
    median = ds["reflectance"].median("wavelength", skipna=True)
    percent = median > PERCENT_MEDIAN
    if not percent.any():
        return ds
    factor = xr.where(percent, 0.01, 1.0)
    out = ds.copy()
    for name in ("reflectance", "error"):
        if name in out:
            out[name] = (out[name] * factor).assign_attrs(ds[name].attrs)
    out.attrs["percent_spectra"] = int(percent.sum())
    return out


def interpolate_onto(ds: xr.Dataset, grid=GRID_NM) -> xr.Dataset:
    """Each spectrum linearly interpolated onto ``grid`` (nm) between its finite points.

    Raises :class:`PlanetMLError` naming the first spectrum whose finite points do not
    span ``grid``: the model is never fed extrapolated values.
    """
    grid = np.asarray(grid, dtype=float)
    wavelength = ds["wavelength"].values
    values = {name: np.full((ds.sizes["sample"], grid.size), np.nan) for name in ("reflectance", "error") if name in ds}
    for i in range(ds.sizes["sample"]):
        finite = np.isfinite(ds["reflectance"].values[i])
        if finite.sum() < 2 or wavelength[finite][0] > grid[0] or wavelength[finite][-1] < grid[-1]:
            covered = (f"{wavelength[finite][0]:g}-{wavelength[finite][-1]:g} nm" if finite.any()
                       else "no valid point")
            raise PlanetMLError(f"{name_of(ds, i)} covers {covered}; the model needs {grid[0]:g}-{grid[-1]:g} nm "
                                "(spectra are interpolated, never extrapolated)")
        for name, out in values.items():
            ok = finite & np.isfinite(ds[name].values[i])
            out[i] = np.interp(grid, wavelength[ok], ds[name].values[i][ok]) if ok.sum() >= 2 else np.nan
    coords = {key: coord for key, coord in ds.coords.items() if key != "wavelength"}
    coords["wavelength"] = ("wavelength", grid, ds["wavelength"].attrs)
    return xr.Dataset({name: (("sample", "wavelength"), out, ds[name].attrs) for name, out in values.items()},
                      coords=coords, attrs=ds.attrs)


def normalise(ds: xr.Dataset, at_nm: float = NORMALISE_AT_NM) -> xr.Dataset:
    """Each spectrum (and its error) divided by its reflectance at ``at_nm``, which must be positive."""
    reference = ds["reflectance"].interp(wavelength=at_nm)
    bad = ~(reference > 0)
    if bad.any():
        raise PlanetMLError(f"{name_of(ds, int(np.argmax(bad.values)))} has no positive reflectance at {at_nm:g} nm "
                            "to normalise by")
    out = ds.copy()
    for name in ("reflectance", "error"):
        if name in out:
            out[name] = (out[name] / reference).assign_attrs(ds[name].attrs)
    out.attrs["normalised_at_nm"] = at_nm
    return out


def prepare_spectra(ds: xr.Dataset, grid=GRID_NM, normalise_at: float | None = NORMALISE_AT_NM) -> xr.Dataset:
    """Spectra as a model sees them: sorted, duplicates merged, fractions, on ``grid``, normalised.

    Negative reflectances are treated as missing points (noise or a bad calibration). Use
    ``normalise_at=None`` to keep absolute reflectance.
    """
    if "reflectance" not in ds or set(ds["reflectance"].dims) != {"sample", "wavelength"}:
        raise PlanetMLError("expected spectra (sample, wavelength) with a 'reflectance' variable; "
                            f"found {dict(ds.sizes)} with {sorted(ds.data_vars)}")
    ds = sorted_unique(ds)
    ds = ds.assign(reflectance=ds["reflectance"].where(ds["reflectance"] >= 0))
    ds = interpolate_onto(from_percent(ds), grid)
    return ds if normalise_at is None else normalise(ds, normalise_at)
