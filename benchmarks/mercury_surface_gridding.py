"""Gridding MASCS VIRS-like spectra into a 1-deg Mercury cube: Dask out of core against the in-memory path.

Everything gridded here is SIMULATED, in the reader's layout: 512 VIS channels over 300-1050 nm (float32),
footprints uniform on the sphere, incidence and emission uniform over 0-90 deg (about 79% x 79% pass the
< 80 deg filters), 1% fill channels. Two phases, each in its own child process so that its peak resident
memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``: the whole process, interpreter, libraries and data,
not only the Python heap) is its own:

* ``dask``: one million spectra (2 GB raw) made lazily in "files" of 10,000 (``lazy_spectra`` over a reader
  that generates each file when asked, so nothing is held whole) and gridded at 1 deg by ``grid_spectra``
  with Dask's threaded scheduler on 2 workers; the time includes making the spectra.
* ``in_memory``: 100,000 spectra made in memory and gridded by the numpy/pandas path (the baseline); making
  and gridding are timed apart.

Prints and writes the wall times, peaks, time per spectrum and the ratio of the two under "gridding" in
``benchmarks/results/mercury_surface.json``.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mercury_surface_gridding.py [--fast] [--n-dask N]``.
"""

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

RESULTS = Path(__file__).parent / "results" / "mercury_surface.json"
CHANNELS = np.linspace(300.0, 1050.0, 512)
FILE_SIZE = 10_000


def update_results(entries):
    """Replace ``entries`` in the saved results, keeping every other figure."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.update(entries)
    RESULTS.write_text(json.dumps(results, indent=2, allow_nan=False) + "\n")


def make_file(seed, n=FILE_SIZE):
    """One "file" of SIMULATED spectra ``(sample, wavelength)`` with per-sample geometry."""
    rng = np.random.default_rng(seed)
    w = ((CHANNELS - 700.0) / 700.0).astype(np.float32)
    albedo = rng.uniform(0.04, 0.08, (n, 1)).astype(np.float32)
    reflectance = albedo * (1 + 1.1 * w) + rng.standard_normal((n, CHANNELS.size), dtype=np.float32) * 0.002
    reflectance[rng.random((n, CHANNELS.size), dtype=np.float32) < 0.01] = np.nan
    per_sample = {"lat": np.degrees(np.arcsin(rng.uniform(-1, 1, n))), "lon": rng.uniform(0, 360, n),
                  "incidence": rng.uniform(0, 90, n), "emission": rng.uniform(0, 90, n),
                  "phase": rng.uniform(0, 180, n)}
    start = pd.Timestamp("2011-04-01") + pd.Timedelta(hours=12 * seed)
    return xr.Dataset({"reflectance": (("sample", "wavelength"), reflectance)},
                      coords={"wavelength": ("wavelength", CHANNELS, {"units": "nm"}),
                              **{name: ("sample", values) for name, values in per_sample.items()},
                              "time": ("sample", pd.date_range(start, periods=n, freq="1s"))},
                      attrs={"source": "SIMULATED MASCS VIRS-like spectra"})


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summary(cube):
    return {"cells_filled": int((cube["n_spectra"] > 0).sum()), "n_spectra_gridded": cube.attrs["n_spectra_gridded"]}


def phase_dask(n_spectra):
    """Grid ``n_spectra`` made lazily, file by file, with Dask on 2 threads."""
    import dask

    from planetml_lib.preprocess.gridding import grid_spectra, lazy_spectra
    after_imports = rss_mb()
    n_files = n_spectra // FILE_SIZE
    start = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=2):
        spectra = lazy_spectra(range(n_files), make_file, n_samples=[FILE_SIZE] * n_files)
        cube = grid_spectra(spectra, resolution_deg=1.0)
    seconds = time.perf_counter() - start
    return {"n_spectra": n_files * FILE_SIZE, "n_files": n_files, "seconds": round(seconds, 1),
            "rss_after_imports_mb": round(after_imports), "peak_rss_mb": round(rss_mb()), **summary(cube)}


def phase_in_memory(n_spectra):
    """Make ``n_spectra`` in memory, then grid them with the numpy/pandas path."""
    from planetml_lib.preprocess.gridding import grid_spectra
    after_imports = rss_mb()
    start = time.perf_counter()
    spectra = xr.concat([make_file(seed, FILE_SIZE) for seed in range(n_spectra // FILE_SIZE)], "sample")
    made = time.perf_counter()
    cube = grid_spectra(spectra, resolution_deg=1.0)
    gridded = time.perf_counter()
    return {"n_spectra": int(spectra.sizes["sample"]), "seconds_make": round(made - start, 1),
            "seconds_grid": round(gridded - made, 1), "seconds": round(gridded - start, 1),
            "rss_after_imports_mb": round(after_imports), "peak_rss_mb": round(rss_mb()), **summary(cube)}


def run_phase(phase, n_spectra):
    """Run one phase in a child process; its figures are the last line it prints."""
    command = [sys.executable, __file__, "--phase", phase, "--n", str(n_spectra)]
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    print(phase, figures, flush=True)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="20,000 and 10,000 spectra, to check the script")
    parser.add_argument("--n-dask", type=int, default=1_000_000, help="spectra for the Dask phase")
    parser.add_argument("--phase", choices=["dask", "in_memory"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps({"dask": phase_dask, "in_memory": phase_in_memory}[args.phase](args.n)))
        return
    n_dask, n_memory = (20_000, 10_000) if args.fast else (args.n_dask, 100_000)
    dask_figures, memory_figures = run_phase("dask", n_dask), run_phase("in_memory", n_memory)
    per_dask = dask_figures["seconds"] / dask_figures["n_spectra"] * 1e6
    per_memory = memory_figures["seconds"] / memory_figures["n_spectra"] * 1e6
    entry = {"data": "SIMULATED spectra, 512 channels 300-1050 nm float32, 1 deg cells, 2 CPU cores",
             "fast": args.fast, "machine": platform.machine(), "dask": dask_figures, "in_memory": memory_figures,
             "us_per_spectrum": {"dask": round(per_dask, 1), "in_memory": round(per_memory, 1)},
             "dask_over_in_memory_time_per_spectrum": round(per_dask / per_memory, 2),
             "peak_memory": "resource.getrusage(RUSAGE_SELF).ru_maxrss of each phase's process (MB)",
             "note": "dask seconds include making the spectra file by file (as reading would); threaded "
                     "scheduler, 2 workers, dask's default local (disk, partd) shuffle"}
    print(json.dumps(entry, indent=1))
    update_results({"gridding": entry})


if __name__ == "__main__":
    main()
