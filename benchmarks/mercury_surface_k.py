"""Mercury surface units (issue 21): how many clusters does the original pipeline's real UMAP embedding support?

The original pipeline embedded a 1x1 degree global cube of MESSENGER MASCS spectra (55,399 cells) in 2-D
with UMAP and cut a complete-linkage tree into 3 units, never checking the number with a statistic, and
drew its dendrogram from the merge indices instead of the data. On that REAL embedding (shipped,
``planetml_lib.cases.mercury_surface_original``) this script measures, for k = 2..12, with complete
linkage (trees on 15,000 cells drawn at random, the other cells joining their nearest linked cell) and
with k-means:

* silhouette and Davies-Bouldin index of the clustering of all cells, on 10 subsets of 5,000 cells;
* stability: mean adjusted Rand index between the clusterings of 10 pairs of independent 5,000-cell
  subsets, on the cells each pair shares (Ben-Hur et al. 2002; Lange et al. 2004);
* the k each statistic supports, and the k that ``choose_k`` picks (the most silhouette among ks with
  stability >= 0.8, else the most stable k, with a warning);
* the gaps between the last merge heights of complete-linkage trees computed from the data (2,000
  cells, 5 draws): the k with the largest gap in each;
* wall seconds and the process's peak resident memory.

Writes the figures under the key ``original_embedding`` of ``benchmarks/results/mercury_surface.json``
(other stages of the case write other keys). For reference, the issue: complete linkage on 15,000-cell
subsamples gives a silhouette of about 0.44 at k = 3.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mercury_surface_k.py [--fast]``.
"""

import argparse
import json
import platform
import resource
import time
import warnings
from pathlib import Path

import pandas as pd

from planetml_lib.cases.mercury_surface_original import K_SETTINGS, load_original_embedding, original_k_statistics
from planetml_lib.evaluate.clustering import METRICS, choose_k, data_dendrogram, merge_gaps
from planetml_lib.models.artifacts import plain_json

RESULTS = Path(__file__).parent / "results" / "mercury_surface.json"
KEY = "original_embedding"
DENDROGRAM_SEEDS = range(5)
DENDROGRAM_POINTS = 2000


def update_results(entries):
    """Replace ``entries`` in the saved results, keeping every other figure."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.update(entries)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(plain_json(results), indent=2, allow_nan=False) + "\n")


def supported_ks(statistics, method):
    """The k each statistic points to, and the rule's k (with whether it fell back to the most stable k)."""
    table = statistics[statistics["method"] == method].pivot(index="k", columns="metric", values="value")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chosen = choose_k(statistics, method)
    return {"silhouette_max": int(table["silhouette"].idxmax()),
            "davies_bouldin_min": int(table["davies_bouldin"].idxmin()),
            "stability_max": int(table["stability"].idxmax()),
            "ks_with_stability_at_least_0.8": [int(k) for k in table.index[table["stability"] >= 0.8]],
            "choose_k": chosen, "choose_k_fell_back_to_most_stable": bool(caught)}


def statistics_table(statistics):
    """{method: {k: {metric: {value, spread}}}} rounded, for the JSON."""
    table = {}
    for row in statistics.itertuples():
        cell = table.setdefault(row.method, {}).setdefault(str(row.k), {})
        cell[row.metric] = {"value": round(row.value, 4), "spread": round(row.spread, 4)}
    return table


def printable(statistics):
    """The statistics as a (method, k) x metric table of 'value ± spread' strings."""
    cells = [f"{value:.3f} ± {spread:.3f}" for value, spread in zip(statistics["value"], statistics["spread"],
                                                                     strict=True)]
    table = statistics.assign(cell=cells).pivot(index=["method", "k"], columns="metric", values="cell")
    return table[list(METRICS)]


def dendrogram_gaps(points):
    """Merge gaps of complete-linkage trees of the data on several draws: the largest-gap k of each, and
    the first draw's table."""
    tables = [merge_gaps(data_dendrogram(points, DENDROGRAM_POINTS, seed)[0]) for seed in DENDROGRAM_SEEDS]
    first = tables[0].round(4)
    return {"points_per_tree": DENDROGRAM_POINTS, "seeds": list(DENDROGRAM_SEEDS),
            "largest_gap_k_per_seed": [int(t.loc[t["gap"].idxmax(), "k"]) for t in tables],
            "seed0": {"k": first["k"].tolist(), "height": first["height"].tolist(), "gap": first["gap"].tolist()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="tiny settings, to check the script")
    args = parser.parse_args()
    start = time.perf_counter()
    statistics = original_k_statistics(fast=args.fast)
    statistics_seconds = time.perf_counter() - start
    gaps = dendrogram_gaps(load_original_embedding())
    print(printable(statistics).to_string())
    supported = {method: supported_ks(statistics, method) for method in statistics["method"].unique()}
    print(json.dumps(supported, indent=1), "\ndendrogram largest-gap k per draw:", gaps["largest_gap_k_per_seed"])
    print(pd.DataFrame(gaps["seed0"]).to_string(index=False))
    settings = {name: (list(v) if isinstance(v, range) else v)
                for name, v in K_SETTINGS["fast" if args.fast else "full"].items()}
    figures = {"data": "REAL: the original pipeline's UMAP embedding, 55,399 cells", "fast": args.fast,
               "settings": settings, "statistics": statistics_table(statistics), "supported_k": supported,
               "dendrogram": gaps, "statistics_seconds": round(statistics_seconds, 1),
               "seconds": round(time.perf_counter() - start, 1),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               "machine": platform.machine()}
    print({name: figures[name] for name in ("statistics_seconds", "seconds", "peak_rss_mb")})
    update_results({KEY: figures})


if __name__ == "__main__":
    main()
