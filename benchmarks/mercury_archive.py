"""Mercury boundaries on a year of SIMULATED 10-s MESSENGER files, predicted orbit by orbit: seconds and peak memory.

Writes a year (2013, 365 days) of SIMULATED magnetometer data (planetml_lib.simulate on the real orbit
times and Philpott et al. 2020 crossing times; not MESSENGER data) as PDS day tables
``MAGMSOSCIAVGyydoy_10_V08.TAB`` into a temporary folder, then times
``planetml predict mercury_boundaries --input <the day files> --output crossings.csv`` with the shipped
model in a fresh process: wall and CPU seconds, and its peak resident memory. Target: under 60 s and
2 GB on 2 CPU cores. Baseline in the same run, on the first days of the year: the whole-span path
``predict`` took before (all files in one Dataset, one 10-s grid over the span, the model over it),
against orbit by orbit on the same files, each in a fresh process; the ratios and the crossings both
find. The year's crossings are scored against the Philpott list that set the simulated boundaries.
Prints the figures and writes ``benchmarks/results/mercury_archive.json``.

Run: ``.venv/bin/python benchmarks/mercury_archive.py [--days 365] [--baseline-days 15 45] [--folder DIR]``
"""

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planetml_lib.cases.mercury_boundaries import SHIPPED_MODELS
from planetml_lib.datasets import load_catalog, load_messenger_orbits
from planetml_lib.evaluate.crossings import evaluate_crossings
from planetml_lib.io.export import read_catalog
from planetml_lib.io.pds_writer import write_messenger_mag
from planetml_lib.models.artifacts import plain_json
from planetml_lib.simulate import simulate_orbit

RESULTS = Path(__file__).parent / "results" / "mercury_archive.json"
FIRST_DAY = pd.Timestamp("2013-01-01")
CADENCE = "10s"
SHIPPED = SHIPPED_MODELS["magnetometer"]
#: Run in a fresh process: one way of predicting the files named on the command line; prints its figures as JSON.
CHILD = """
import json, resource, sys, time
start, cpu = time.perf_counter(), time.process_time()
import torch
from planetml_lib.cases import mercury_boundaries as case
imported = time.perf_counter()
rss_after_import_mb = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20
how, output, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
if how == "orbit_by_orbit":  # the command a user types
    from planetml_lib.cli import main
    assert main(["predict", "mercury_boundaries", "--input", *paths, "--output", output]) == 0
else:  # the whole-span predict of before: one Dataset, one grid, the model over all of it
    from planetml_lib.io.orbit_stream import orbit_numbers
    from planetml_lib.io.pds import read_messenger_mag
    trained = case.load_trained()
    ds = read_messenger_mag(paths)
    ds = case.prepare_for_model(ds.assign_coords(orbit=("time", orbit_numbers(ds["time"].values))), trained.config)
    _, crossings = case._postprocess(trained.metadata.postprocessing, ds, case.predict_proba(trained, ds))
    crossings.to_csv(output, index=False)
print(json.dumps({"seconds": time.perf_counter() - start, "seconds_after_import": time.perf_counter() - imported,
                  "cpu_seconds": time.process_time() - cpu, "torch_threads": torch.get_num_threads(),
                  "rss_after_import_mb": rss_after_import_mb,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_days(folder, first_day, days):
    """``days`` days of SIMULATED 10-s orbits from ``first_day`` as PDS day tables in ``folder``, one
    orbit simulated at a time (a day is written once it is complete); returns the paths and the orbits."""
    table, crossings = load_messenger_orbits(), load_catalog("philpott2020")
    end = first_day + pd.Timedelta(days=days)
    orbits = table.loc[(table["end"] > first_day) & (table["start"] < end), "orbit"].tolist()
    paths, pending = [], None
    for orbit in orbits:
        ds = simulate_orbit(orbit, crossings, CADENCE, seed=0, orbit_table=table).drop_vars("region")
        ds = ds.isel(time=(ds["time"].values >= first_day) & (ds["time"].values < end))
        pending = ds if pending is None else xr.concat([pending, ds], "time", combine_attrs="override")
        complete = pending["time"].values < pd.Timestamp(pending["time"].values[-1]).normalize()
        if complete.any():
            paths += write_messenger_mag(pending.isel(time=complete), folder)
            pending = pending.isel(time=~complete)
    return paths + write_messenger_mag(pending, folder), orbits


def run(how, paths, output, threads):
    """Figures of one way of predicting ``paths`` in a fresh process (:data:`CHILD`), on ``threads`` threads
    (None: torch's default, one a core)."""
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    done = subprocess.run([sys.executable, "-c", CHILD, how, str(output), *map(str, paths)], capture_output=True,
                          text=True, check=False, env=env)
    if done.returncode:
        raise SystemExit(f"{how} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def skill(output, first_day, days):
    """Detection rate and median centre error of the written crossings against the Philpott list of the span."""
    end = first_day + pd.Timedelta(days=days)
    truth = load_catalog("philpott2020")
    truth = truth[(truth["start"] >= first_day) & (truth["end"] < end)]
    scores = evaluate_crossings(read_catalog(output), truth, max_offset="10min")
    overall = scores[scores["class"] == "all"].set_index("metric")["value"]
    return {"n_philpott": int(overall["n_true"]), "n_predicted": int(overall["n_pred"]),
            "detection_rate": float(overall["detection_rate"]),
            "centre_error_s_median": float(overall["centre_abs_error_s_median"])}


def agreement(a, b):
    """How far the crossings of ``a`` are from those of ``b``: the share of ``b``'s found in ``a`` within a minute,
    and the median offset of their centres (s). The model's windows start where each run of orbits starts, not
    where the whole span does, so crossings can move by a sample or two."""
    scores = evaluate_crossings(read_catalog(a), read_catalog(b), max_offset="1min")
    overall = scores[scores["class"] == "all"].set_index("metric")["value"]
    return {"found_within_1min": float(overall["detection_rate"]),
            "centre_offset_s_median": float(overall["centre_abs_error_s_median"])}


def baseline(folder, paths, days, threads):
    """Whole span against orbit by orbit on the first ``days`` day files."""
    rows = {how: {**run(how, paths[:days], folder / f"{how}_{days}d.csv", threads),
                  **skill(folder / f"{how}_{days}d.csv", FIRST_DAY, days)} for how in ("whole_span", "orbit_by_orbit")}
    whole, streamed = rows["whole_span"], rows["orbit_by_orbit"]
    return {"days": days, **rows,
            "whole_over_orbit_by_orbit": {key: whole[key] / streamed[key]
                                          for key in ("seconds_after_import", "cpu_seconds", "peak_rss_mb")},
            "crossings_against_whole_span": agreement(folder / f"orbit_by_orbit_{days}d.csv",
                                                      folder / f"whole_span_{days}d.csv")}


def growth(baselines):
    """Peak memory of the whole-span path a day of files (MB), from the two baselines, and what it makes of a year."""
    slope, intercept = np.polyfit([row["days"] for row in baselines],
                                  [row["whole_span"]["peak_rss_mb"] for row in baselines], 1)
    return {"mb_per_day": float(slope), "projected_year_mb": float(intercept + 365 * slope)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days of files to predict (default 365)")
    parser.add_argument("--baseline-days", type=int, nargs=2, default=[15, 45],
                        help="two spans (days) on which whole span and orbit by orbit are compared (default 15 45)")
    parser.add_argument("--folder", type=Path, help="keep the simulated files here (default: a temporary folder)")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS of the timed processes (default: torch's, one "
                                                    "a core; on a machine others keep busy, 1 is far faster)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or Path(scratch)
        start = time.perf_counter()
        paths, orbits = write_days(folder, FIRST_DAY, args.days)
        simulated_s = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in paths) / 2**20
        print(f"SIMULATED {args.days} days: {len(orbits)} orbits, {len(paths)} files, {size_mb:.0f} MB "
              f"({simulated_s:.0f} s to simulate and write)")
        load_before = os.getloadavg()
        year = run("orbit_by_orbit", paths, folder / "crossings.csv", args.threads)
        year.update(skill(folder / "crossings.csv", FIRST_DAY, args.days), load_average_before=load_before,
                    load_average_after=os.getloadavg())
        year["orbits_per_second"] = len(orbits) / year["seconds_after_import"]
        print(f"orbit by orbit: {year['seconds']:.1f} s ({year['seconds_after_import']:.1f} s after imports, "
              f"{year['cpu_seconds']:.1f} CPU s), peak {year['peak_rss_mb']:.0f} MB, "
              f"{year['orbits_per_second']:.1f} orbits/s; crossings: {year['detection_rate']:.1%} of "
              f"{year['n_philpott']} Philpott found within 10 min; load {load_before[0]:.1f}")
        baselines = [baseline(folder, paths, days, args.threads) for days in args.baseline_days]
        for row in baselines:
            whole, streamed = row["whole_span"], row["orbit_by_orbit"]
            print(f"first {row['days']} days, whole span / orbit by orbit: "
                  f"{whole['seconds_after_import']:.1f} / {streamed['seconds_after_import']:.1f} s, "
                  f"{whole['peak_rss_mb']:.0f} / {streamed['peak_rss_mb']:.0f} MB, Philpott crossings found "
                  f"{whole['detection_rate']:.1%} / {streamed['detection_rate']:.1%}; "
                  f"{row['crossings_against_whole_span']['found_within_1min']:.0%} of the whole span's crossings "
                  f"within a minute of orbit by orbit's")
        memory = growth(baselines)
        print(f"whole span: {memory['mb_per_day']:.1f} MB more peak memory a day of files, "
              f"{memory['projected_year_mb']:.0f} MB for the year")
    results = {"what": "planetml predict mercury_boundaries on a year of SIMULATED 10-s PDS day files (2013), "
                       "shipped model, in a fresh process; baseline: the whole-span predict of before",
               "data": "SIMULATED (planetml_lib.simulate.messenger on real orbit and Philpott crossing times)",
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "device": "cpu",
                           "omp_num_threads": args.threads},
               "target": {"seconds": 60, "peak_rss_mb": 2048},
               "files": {"days": args.days, "orbits": len(orbits), "files": len(paths), "megabytes": size_mb,
                         "cadence": CADENCE, "simulate_and_write_seconds": simulated_s},
               "model": {"folder": str(SHIPPED.relative_to(SHIPPED.parents[3])), "weights_sha256": hashlib.sha256(
                   (SHIPPED / "weights.safetensors").read_bytes()).hexdigest()[:16]},
               "orbit_by_orbit_year": year, "baseline": baselines, "whole_span_memory": memory}
    RESULTS.write_text(json.dumps(plain_json(results), indent=2, allow_nan=False) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
