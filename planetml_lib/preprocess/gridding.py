"""Grid MASCS VIRS spectra ``(sample, wavelength)`` into a latitude/longitude cube of per-cell medians.

Spectra (the layout of ``planetml_lib.io.mascs.read_mascs_virs``) pass geometry and quality filters, are
resampled onto the cubes' wavelengths (:data:`WAVELENGTHS`, 268-975 nm) and binned into cells; each cell
keeps the band-by-band median of its spectra, in the layout of ``simulate_surface_cube``. A dask-backed
Dataset (e.g. :func:`lazy_spectra` over many files) is gridded out of core and exactly.
"""

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm
from tqdm.dask import TqdmCallback

from planetml_lib.errors import PlanetMLError
from planetml_lib.simulate.mercury_surface import WAVELENGTHS

#: Coordinates the gridding needs on every sample, besides ``wavelength``.
REQUIRED_COORDS = ("lat", "lon", "incidence", "emission")


def _check_spectra(spectra):
    missing = [name for name in ("reflectance", "wavelength", *REQUIRED_COORDS) if name not in spectra.variables]
    if missing:
        raise PlanetMLError(f"spectra lack {', '.join(missing)}: gridding needs reflectance (sample, wavelength) "
                            f"and the coordinates wavelength, {', '.join(REQUIRED_COORDS)}")


def _row_median(values):
    """Median of each row's non-NaN values (NaN where none) from one sort, NaN sorting last: fast."""
    count = (~np.isnan(values)).sum(axis=-1, keepdims=True)
    middle = np.maximum(np.concatenate([(count - 1) // 2, count // 2], axis=-1), 0)
    return np.take_along_axis(np.sort(values, axis=-1), middle, axis=-1).mean(axis=-1)


def quality_mask(spectra, max_incidence=80.0, max_emission=80.0):
    """Which spectra are fit to grid: low incidence and emission, some finite and a non-negative median reflectance.

    Parameters
    ----------
    spectra : xarray.Dataset
        Spectra as for :func:`grid_spectra`; may be dask-backed.
    max_incidence, max_emission : float
        Keep angles strictly below these (deg).

    Returns
    -------
    xarray.DataArray
        Boolean ``(sample,)``; also False where lat/lon are not finite or ``|lat| > 90``.

    Examples
    --------
    >>> spectra = xr.Dataset({"reflectance": (("sample", "wavelength"), [[0.05, 0.06]] * 2)}, coords={
    ...     "wavelength": [500.0, 600.0], "lat": ("sample", [0.0, 10.0]), "lon": ("sample", [5.0, 5.0]),
    ...     "incidence": ("sample", [30.0, 85.0]), "emission": ("sample", [10.0, 10.0])})
    >>> quality_mask(spectra).values.tolist()
    [True, False]
    """
    _check_spectra(spectra)
    reflectance = spectra["reflectance"]
    median = xr.apply_ufunc(_row_median, reflectance, input_core_dims=[["wavelength"]], dask="parallelized",
                            output_dtypes=[reflectance.dtype])
    geometry = (spectra["incidence"] < max_incidence) & (spectra["emission"] < max_emission)
    located = np.isfinite(spectra["lon"]) & (np.abs(spectra["lat"]) <= 90)
    return (geometry & located & (median >= 0)).rename("quality")


def resample_wavelengths(spectra, wavelengths=WAVELENGTHS):
    """Every spectrum linearly interpolated onto ``wavelengths``, NaN outside its measured range.

    A fill (NaN) channel makes the grid points between its neighbouring channels NaN too.

    Parameters
    ----------
    spectra : xarray.Dataset
        ``reflectance (sample, wavelength)``, ``wavelength`` in nm; dask-backed ones stay lazy.
    wavelengths : array-like
        The common grid, nm.

    Returns
    -------
    xarray.Dataset
        ``reflectance (sample, wavelength)`` float32 on ``wavelengths`` with the per-sample coordinates;
        other variables along ``wavelength`` are dropped.

    Examples
    --------
    >>> spectra = xr.Dataset({"reflectance": (("sample", "wavelength"), [[0.04, 0.08]])},
    ...                      coords={"wavelength": [400.0, 800.0]})
    >>> resample_wavelengths(spectra, [300.0, 500.0, 700.0])["reflectance"].values.astype(float).round(3).tolist()
    [[nan, 0.05, 0.07]]
    """
    grid = np.asarray(wavelengths, dtype=float)
    reflectance = spectra["reflectance"].astype(np.float64).interp(wavelength=grid).astype(np.float32)
    reflectance["wavelength"].attrs["units"] = "nm"
    return spectra.drop_dims("wavelength").assign(reflectance=reflectance)


def _cell_centres(resolution_deg):
    """Cell centres (lat, lon) as in ``simulate_surface_cube``: from -90 + res/2 and res/2, ascending."""
    return np.arange(-90 + resolution_deg / 2, 90, resolution_deg), np.arange(resolution_deg / 2, 360, resolution_deg)


def _cell_index(lat, lon, resolution_deg):
    """Flat cell index ``row * n_lon + column`` of each footprint; longitudes wrapped into [0, 360)."""
    lats, lons = _cell_centres(resolution_deg)
    row = np.clip(np.floor((lat + 90) / resolution_deg), 0, lats.size - 1).astype(np.int64)
    column = np.clip(np.floor(np.mod(lon, 360) / resolution_deg), 0, lons.size - 1).astype(np.int64)
    return row * lons.size + column


def _empty_table(n_bands):
    return pd.DataFrame({"cell": np.array([], np.int64),
                         **{f"b{k}": np.array([], np.float32) for k in range(n_bands)}})


def _cell_table(spectra, resolution_deg, wavelengths, max_incidence, max_emission):
    """The passing spectra of an in-memory Dataset as a table: ``cell`` and one float32 column per band."""
    keep = np.flatnonzero(quality_mask(spectra, max_incidence, max_emission).values)
    passing = spectra.isel(sample=keep)
    bands = resample_wavelengths(passing, wavelengths)["reflectance"].values
    table = pd.DataFrame(bands, columns=_empty_table(len(wavelengths)).columns[1:])
    table.insert(0, "cell", _cell_index(passing["lat"].values, passing["lon"].values, resolution_deg))
    return table


def _median_by_cell(table):
    """Per cell: ``n_spectra`` and the band-by-band median (NaN ignored), indexed by cell."""
    grouped = table.groupby("cell")
    medians = grouped.median()
    medians.insert(0, "n_spectra", grouped.size().astype(np.int32))
    return medians


def _medians_out_of_core(spectra, **options):
    """Per-cell medians of a dask-backed Dataset: one table per chunk, a shuffle on ``cell``, a median per partition."""
    meta, sizes = _empty_table(len(options["wavelengths"])), spectra["reflectance"].chunksizes["sample"]
    tables = [dask.delayed(_cell_table)(spectra.isel(sample=slice(end - size, end)), **options)
              for size, end in zip(sizes, np.cumsum(sizes), strict=True)]
    shuffled = dd.from_delayed(tables, meta=meta, verify_meta=False).shuffle("cell")
    medians = shuffled.map_partitions(_median_by_cell, meta=_median_by_cell(meta))
    with TqdmCallback(desc="gridding spectra", disable=None):
        return medians.compute()


def _to_cube(medians, spectra, resolution_deg, wavelengths, max_incidence, max_emission):
    lat, lon = _cell_centres(resolution_deg)
    rows, columns = np.divmod(medians.index.to_numpy(), lon.size)
    reflectance = np.full((len(wavelengths), lat.size, lon.size), np.nan, np.float32)
    reflectance[:, rows, columns] = medians.drop(columns="n_spectra").to_numpy(np.float32).T
    counts = np.zeros((lat.size, lon.size), np.int32)
    counts[rows, columns] = medians["n_spectra"].to_numpy()
    return xr.Dataset(
        {"reflectance": (("wavelength", "lat", "lon"), reflectance,
                         {"units": "1", "long_name": "per-cell median of photometrically normalised I/F"}),
         "n_spectra": (("lat", "lon"), counts, {"long_name": "spectra in the cell's median"})},
        coords={"wavelength": ("wavelength", wavelengths, {"units": "nm"}),
                "lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})},
        attrs={"target": "Mercury", "source": spectra.attrs.get("source", "MESSENGER MASCS VIRS spectra"),
               "resolution_deg": float(resolution_deg), "max_incidence_deg": float(max_incidence),
               "max_emission_deg": float(max_emission), "n_spectra_in": int(spectra.sizes["sample"]),
               "n_spectra_gridded": int(counts.sum())})


def grid_spectra(spectra, resolution_deg=1.0, wavelengths=WAVELENGTHS, max_incidence=80.0, max_emission=80.0):
    """A global cube of per-cell median reflectance from spectra: filters, resampling, binning.

    A dask-backed Dataset (chunked along ``sample``) stays out of core: each chunk is filtered, resampled
    and binned into a table of cells, dask's shuffle on the cell (on disk with the local schedulers) puts
    all of a cell's spectra in one partition, and a pandas median per partition is exact. Memory: about a
    raw chunk per worker, partd's shuffle buffer (up to 1 GB; the rest spills to dask's temporary
    directory), one shuffled partition (passing spectra x bands x 4 B / chunks) and the cube.

    Parameters
    ----------
    spectra : xarray.Dataset
        ``reflectance (sample, wavelength)`` (I/F, NaN fills), ``wavelength`` (nm) and per-sample ``lat``
        (deg), ``lon`` (deg east, wrapped into [0, 360)), ``incidence`` and ``emission`` (deg).
    resolution_deg : float
        Cell size, deg.
    wavelengths : array-like
        Common wavelength grid, nm.
    max_incidence, max_emission : float
        Keep spectra with angles strictly below these (deg); see :func:`quality_mask`.

    Returns
    -------
    xarray.Dataset
        ``reflectance (wavelength, lat, lon)`` float32 (NaN in empty cells), ``n_spectra (lat, lon)`` int32;
        cell-centre ``lat``/``lon`` as in ``simulate_surface_cube``; attrs ``target``, ``source``,
        ``resolution_deg``, the angle limits, ``n_spectra_in`` and ``n_spectra_gridded``.

    Examples
    --------
    >>> spectra = xr.Dataset({"reflectance": (("sample", "wavelength"), [[0.04, 0.08], [0.06, 0.10]])}, coords={
    ...     "wavelength": [300.0, 900.0], "lat": ("sample", [0.2, 0.7]), "lon": ("sample", [359.6, -0.2]),
    ...     "incidence": ("sample", [30.0, 40.0]), "emission": ("sample", [5.0, 5.0])})
    >>> cube = grid_spectra(spectra, wavelengths=[300.0, 600.0, 900.0])
    >>> cube["reflectance"].sel(lat=0.5, lon=359.5).values.astype(float).round(3).tolist(), int(cube["n_spectra"].sum())
    ([0.05, 0.07, 0.09], 2)
    """
    _check_spectra(spectra)
    if not resolution_deg > 0:
        raise PlanetMLError(f"resolution_deg must be positive, got {resolution_deg}")
    options = {"resolution_deg": resolution_deg, "wavelengths": np.asarray(wavelengths, dtype=float),
               "max_incidence": max_incidence, "max_emission": max_emission}
    if spectra["reflectance"].chunks is None:
        medians = _median_by_cell(_cell_table(spectra, **options))
    else:
        medians = _medians_out_of_core(spectra, **options)
    if medians.empty:
        raise PlanetMLError(f"none of {spectra.sizes['sample']} spectra pass the quality filters: incidence < "
                            f"{max_incidence:g} and emission < {max_emission:g} (with finite, non-negative "
                            "reflectance at a valid lat/lon)")
    return _to_cube(medians, spectra, **options)


def _read_file(reader, path, n_samples, wavelength, names):
    spectra = reader(path)
    if spectra.sizes.get("sample") != n_samples or not np.array_equal(spectra["wavelength"].values, wavelength):
        raise PlanetMLError(f"{path}: {spectra.sizes.get('sample')} spectra on {spectra.sizes.get('wavelength')} "
                            f"wavelengths, expected {n_samples} on the first file's {wavelength.size}")
    return {name: spectra[name].values for name in names}


def lazy_spectra(paths, reader, n_samples=None):
    """A dask-backed spectra Dataset over many files, one chunk per file, each read only when computed.

    Parameters
    ----------
    paths : sequence
        Files (anything ``reader`` accepts).
    reader : callable
        ``reader(path) -> xarray.Dataset`` of spectra, e.g. ``read_mascs_virs``.
    n_samples : sequence of int, optional
        Spectra in each file; when None each file is read once first to count them. The first file is read
        at once in any case (wavelengths, variables, dtypes); every file must share its wavelengths.

    Returns
    -------
    xarray.Dataset
        The files end to end along ``sample``: the first file's variables along ``sample``, its wavelengths.

    Examples
    --------
    >>> def reader(seed):
    ...     return xr.Dataset({"reflectance": (("sample", "wavelength"), np.full((3, 2), 0.05))},
    ...                       coords={"wavelength": [400.0, 800.0], "lat": ("sample", [seed, 0.0, 0.0])})
    >>> spectra = lazy_spectra([1, 2], reader, n_samples=[3, 3])
    >>> spectra["reflectance"].chunks, spectra["lat"].values.tolist()
    (((3, 3), (2,)), [1.0, 0.0, 0.0, 2.0, 0.0, 0.0])
    """
    paths = list(paths)
    if not paths:
        raise PlanetMLError("lazy_spectra needs at least one file of spectra")
    first = reader(paths[0])
    if n_samples is None:
        n_samples = [first.sizes["sample"]] + [reader(path).sizes["sample"]
                                               for path in tqdm(paths[1:], desc="counting spectra", disable=None)]
    if len(n_samples) != len(paths):
        raise PlanetMLError(f"n_samples has {len(n_samples)} counts for {len(paths)} files")
    names = [name for name, variable in first.variables.items() if variable.dims[:1] == ("sample",)]
    wavelength = first["wavelength"].values
    reads = [dask.delayed(_read_file)(reader, path, n, wavelength, names)
             for path, n in zip(paths, n_samples, strict=True)]
    columns = {name: _lazy_column(first[name], reads, n_samples) for name in names}
    return xr.Dataset({name: column for name, column in columns.items() if name in first.data_vars},
                      coords={"wavelength": first["wavelength"],
                              **{name: column for name, column in columns.items() if name in first.coords}},
                      attrs=first.attrs)


def _lazy_column(template, reads, n_samples):
    """One per-sample variable as a dask-backed Variable: the delayed reads' arrays end to end."""
    parts = [da.from_delayed(read[template.name], (n, *template.shape[1:]), dtype=template.dtype)
             for read, n in zip(reads, n_samples, strict=True)]
    return xr.Variable(template.dims, da.concatenate(parts), template.attrs)
