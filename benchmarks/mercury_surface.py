"""Mercury surface units on SIMULATED planets: our pipeline (UMAP on the ICA sources) against the original
configuration (UMAP on the raw spectra), and the time and memory of UMAP and clustering on a global cube.

Everything scored here is SIMULATED (the global MASCS cube is not available offline). The planets were named
before any score was seen: test planets of the training generator family are seeds 100-102, planets of the
held-out family ``noisy_low_contrast`` (weaker unit contrast, more noise, stronger photometric residuals)
seeds 210-212; the configuration's defaults (noise margin, k-means) were set on validation blocks of seeds
0-2. (Seeds 100-101 were scored by a first run of this stage with complete linkage and then dropped when
the clustering was chosen on seeds 0-2: fresh seeds 110-112 replace them.) For each planet three
configurations are fitted on the training longitude blocks (units discovered without labels) and scored on
the test blocks, adjusted Rand index and normalised mutual information against the true unit map: the
original (UMAP on the raw spectra, complete linkage, k = 3 as published), the original's embedding with our
clustering and k rule (to isolate what the ICA sources bring), and ours (UMAP on the ICA sources). Stages (each adds its
figures to ``benchmarks/results/mercury_surface.json``; ``benchmarks/mercury_surface_k.py`` and
``benchmarks/mercury_surface_gridding.py`` add the original real embedding's statistics and the gridding):

* ``units``: the comparison above, on cubes of ``--resolution`` degrees. That first run chose nothing but
  showed UMAP on the ICA sources behind UMAP on the raw spectra; the embedding was then chosen on the
  validation blocks of development planets 0-2 (raw spectra, now the default), and ``units --after-choice``
  scores the original configuration and the new default once on fresh planets, 120-122 and 220-222.
* ``methods``: on each named planet's training cells embedded by our configuration, complete linkage,
  k-means and a Gaussian mixture at the k our rule chose, and HDBSCAN at its own number, side by side
  (adjusted Rand index against the true units, noise points counted as one more cluster). A report on
  the same planets: no setting is chosen from it.
* ``realism``: the only real spectra offline (the VIRS orbit shipped with PlanetML, gridded) beside the
  SIMULATED planets: reflectance at 700 nm, the 950/415 nm ratio (spectral slope) and the noise estimate,
  5th, 50th and 95th percentiles; whether the real values lie inside the simulated ranges.
* ``speed``: a 1-deg SIMULATED planet, all observed cells: ICA, UMAP on the sources and the clustering with
  the statistics of k; seconds of each step and peak memory (resident set size of this process).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mercury_surface.py STAGE [--resolution 3]``.
"""

import argparse
import dataclasses
import json
import resource
import time
import warnings
from pathlib import Path

import numpy as np

from planetml_lib.cases import mercury_surface as case
from planetml_lib.models.artifacts import plain_json

RESULTS = Path(__file__).parent / "results" / "mercury_surface.json"
PLANETS = {"training": (110, 111, 112), "noisy_low_contrast": (210, 211, 212)}
PLANETS_AFTER_CHOICE = {"training": (120, 121, 122), "noisy_low_contrast": (220, 221, 222)}
CONFIGURATIONS = {
    "original (UMAP on raw spectra, complete linkage, k = 3)": {"embed_on": "spectra", "clustering": "complete",
                                                                "n_units": 3},
    "UMAP on raw spectra, our clustering and k": {"embed_on": "spectra"},
    "UMAP on ICA sources, our clustering and k": {"embed_on": "sources"},
}
CONFIGURATIONS_AFTER_CHOICE = {
    "original (UMAP on raw spectra, complete linkage, k = 3)": CONFIGURATIONS[
        "original (UMAP on raw spectra, complete linkage, k = 3)"],
    "ours (the defaults: UMAP on raw spectra, k-means, k by stability and silhouette)": {},
}


def update_results(entries):
    """Replace ``entries`` in the saved results, keeping every other figure."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.update(entries)
    RESULTS.write_text(json.dumps(plain_json(results), indent=2, allow_nan=False) + "\n")


def _score(config):
    data = case.load_data(config)
    trained = case.train(config, data)
    metrics = case.evaluate(trained, data["test"]).set_index("metric")["value"]
    return {"adjusted_rand": round(float(metrics["adjusted_rand"]), 4),
            "nmi": round(float(metrics["normalised_mutual_information"]), 4),
            "n_units": trained.metadata.postprocessing["n_units"],
            "n_components": trained.metadata.model_options["n_components"]}


def units(resolution, after_choice=False):
    """The configurations on every named planet; the mean ARI per family and configuration."""
    planets, configurations = ((PLANETS_AFTER_CHOICE, CONFIGURATIONS_AFTER_CHOICE) if after_choice
                               else (PLANETS, CONFIGURATIONS))
    rows = []
    for family, seeds in planets.items():
        for seed in seeds:
            for name, settings in configurations.items():
                config = dataclasses.replace(case.Config(), seed=seed, family=family, resolution_deg=resolution,
                                             progress=False, **settings)
                started = time.perf_counter()
                row = {"family": family, "seed": seed, "configuration": name, **_score(config),
                       "seconds": round(time.perf_counter() - started, 1)}
                print(row, flush=True)
                rows.append(row)
    summary = {f"{family} / {name}": {
        "adjusted_rand_mean": round(float(np.mean([r["adjusted_rand"] for r in rows
                                                   if r["family"] == family and r["configuration"] == name])), 4),
        "adjusted_rand_std": round(float(np.std([r["adjusted_rand"] for r in rows
                                                 if r["family"] == family and r["configuration"] == name])), 4)}
        for family in planets for name in configurations}
    print(json.dumps(summary, indent=2))
    key = "units_simulated_after_choice" if after_choice else "units_simulated"
    update_results({key: {"resolution_deg": resolution, "planets": planets, "rows": rows, "summary": summary,
                          "data": "SIMULATED"}})


def methods(resolution):
    """Every clustering method on the embedding of each named planet's training cells."""
    from planetml_lib.evaluate.cluster_comparison import compare_clusterings

    rows = []
    for family, seeds in PLANETS.items():
        for seed in seeds:
            config = dataclasses.replace(case.Config(), seed=seed, family=family, resolution_deg=resolution,
                                         progress=False)  # the defaults, as chosen on planets 0-2
            train = case.load_data(config)["train"]
            spectra, index = case.cube_cells(train)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = case.discover_units(spectra, config)
            truth = train["unit"].values.ravel()[index][found["embedded"]]
            table, _ = compare_clusterings(found["embedding"], found["k"], truth=truth, seed=seed)
            for row in table.round(4).to_dict("records"):
                rows.append({"family": family, "seed": seed, "k": int(found["k"]), **row})
                print(rows[-1], flush=True)
    update_results({"methods_simulated": {"resolution_deg": resolution, "rows": rows, "data": "SIMULATED"}})


def _spectra_statistics(spectra):
    """Percentiles 5, 50, 95 of the reflectance at 700 nm and the 950/415 nm ratio, and the noise estimate."""
    from planetml_lib.models.surface_units import noise_level

    band = {w: int(np.argmin(np.abs(case.WAVELENGTHS - w))) for w in (415, 700, 950)}
    percentiles = lambda values: np.percentile(values, [5, 50, 95]).round(4).tolist()  # noqa: E731
    return {"reflectance_700": percentiles(spectra[:, band[700]]),
            "ratio_950_415": percentiles(spectra[:, band[950]] / spectra[:, band[415]]),
            "noise": round(noise_level(spectra), 5), "n_cells": len(spectra)}


def realism():
    """The real orbit's spectra (gridded at 1 deg) against each named SIMULATED planet at 3 deg."""
    real = _spectra_statistics(case.cube_cells(case.read_input([case.REAL_ORBIT]))[0])
    simulated = {f"{family} {seed}": _spectra_statistics(case.cube_cells(
        case.simulate_surface_cube(seed, family, 3.0))[0]) for family, seeds in PLANETS.items() for seed in seeds}
    inside = {name: bool(min(s[name][0] for s in simulated.values()) <= real[name][1]
                         <= max(s[name][2] for s in simulated.values()))
              for name in ("reflectance_700", "ratio_950_415")}
    entry = {"real_orbit": real, "simulated": simulated, "real_median_inside_simulated_range": inside}
    print(json.dumps(entry, indent=1))
    update_results({"realism": entry})


def speed():
    """ICA, UMAP on the sources and clustering with the statistics of k on a whole 1-deg planet."""
    config = dataclasses.replace(case.Config(), seed=100, max_embedded_cells=10**6, progress=False)
    cube = case.simulate_surface_cube(config.seed, config.family, 1.0)
    spectra, _ = case.cube_cells(cube)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = case.discover_units(spectra, config)
    seconds = time.perf_counter() - started
    entry = {"cells": len(spectra), "seconds_total": round(seconds, 1), "k": int(found["k"]),
             "n_components": int(found["ica"].n_components),
             "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
             "what": "noise, ICA, UMAP (n_neighbors 50, one thread) on the spectra, statistics of k (k-means, "
                     "5 resample pairs of 3,000 cells, k = 2..8), k-means units",
             "data": "SIMULATED"}
    print(entry)
    update_results({"speed_1deg": entry})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("units", "methods", "realism", "speed"))
    parser.add_argument("--resolution", type=float, default=3.0, help="cell size of the planets of 'units' (deg)")
    parser.add_argument("--after-choice", action="store_true", help="units: the fresh planets scored after the "
                                                                     "embedding was chosen")
    args = parser.parse_args()
    stages = {"units": lambda: units(args.resolution, args.after_choice), "methods": lambda: methods(args.resolution),
              "realism": realism, "speed": speed}
    stages[args.stage]()


if __name__ == "__main__":
    main()
