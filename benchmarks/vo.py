"""EPN-TAP publishing and querying at catalogue scale: 100,000 events in a throwaway GAVO DaCHS.

Makes 100,000 events (SIMULATED timing data: random starts 1998-2018, durations 1-40 h, random
labels and scores; no skill is measured), converts them to EPN-TAP rows and publishes them with
``planetml_lib.vo.publish`` into a :class:`~planetml_lib.vo.LocalDachs` (own PostgreSQL on this
machine), then times a one-month time-range search with ``search_epntap`` (median of repeats).

Baselines in the same run: the same 100,000 rows imported from the EPN-TAP VOTable
(``write_epncore``, DaCHS's ``voTableGrammar``) instead of CSV, which ``publish`` writes; and a
1,000-event table, for how search time grows with the table. Every search is checked against the
same filter in pandas (same rows). Prints the figures and writes ``benchmarks/results/vo.json``.

Run: ``.venv/bin/python benchmarks/vo.py [--events 100000] [--repeats 20]`` (needs ``make vo-packages``)
"""

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from planetml_lib.cases import get_case
from planetml_lib.vo import LocalDachs, publish, search_epntap, to_epncore
from planetml_lib.vo.dachs import inputs_dir, resource_descriptor, run_dachs
from planetml_lib.vo.epncore import write_epncore

RESULTS = Path(__file__).parent / "results" / "vo.json"
WINDOW = (pd.Timestamp("2012-06-01"), pd.Timestamp("2012-07-01"))


def make_events(n, seed=0):
    """``n`` random events 1998-2018 (SIMULATED timing data), sorted by start."""
    rng = np.random.default_rng(seed)
    span = (pd.Timestamp("2019-01-01") - pd.Timestamp("1998-01-01")).total_seconds()
    start = pd.Timestamp("1998-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, span, n)).round(), unit="s")
    return pd.DataFrame({"start": start, "end": start + pd.to_timedelta(rng.uniform(1, 40, n), unit="h").round("s"),
                         "label": rng.choice(["ICME", "sheath"], n), "score": rng.uniform(0, 1, n).round(4)})


def timed(action, *args, **kwargs):
    """``(seconds, result)`` of ``action(*args, **kwargs)``."""
    start = time.perf_counter()
    result = action(*args, **kwargs)
    return time.perf_counter() - start, result


def publish_votable(rows, schema, title, description, subject):
    """The baseline: ``publish`` as it would be with the rows in the EPN-TAP VOTable, not CSV."""
    folder = inputs_dir() / schema
    folder.mkdir(parents=True)
    descriptor = resource_descriptor(rows, schema, title, description, subject)
    (folder / "q.rd").write_text(descriptor.replace("<sources>catalog.csv</sources>", "<sources>catalog.vot</sources>")
                                 .replace("<csvGrammar/>", "<voTableGrammar/>"))
    write_epncore(rows, folder / "catalog.vot")
    run_dachs("imp", "q", cwd=folder)
    run_dachs("pub", "q", cwd=folder)
    return f"{schema}.epn_core"


def search_seconds(dachs, table, expected, repeats):
    """Median seconds of a one-month ICME search; checks the rows against ``expected``."""
    seconds = []
    for _ in range(repeats):
        elapsed, found = timed(search_epntap, dachs.tap_url, table, target="Sun", time_range=WINDOW, label="ICME")
        seconds.append(elapsed)
    assert (found["start"].to_numpy() == expected["start"].to_numpy()).all(), f"{table}: other rows than pandas"
    return statistics.median(seconds), len(found)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20, help="searches per table (median)")
    args = parser.parse_args()
    observation = get_case("icme").OBSERVATION
    tables = {"large": (args.events, publish), "large_votable": (args.events, publish_votable),
              "small": (1_000, publish)}
    results = {"what": f"publish {args.events} SIMULATED events into a throwaway GAVO DaCHS and search one month "
                       "by time range and label; baselines: import from the VOTable, and a 1,000-event table",
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "repeats": args.repeats,
               "window": [str(t) for t in WINDOW], "tables": {}}
    with LocalDachs() as dachs:
        for schema, (n, publisher) in tables.items():
            events = make_events(n)
            convert_s, rows = timed(to_epncore, events, observation, model="benchmark", simulated=True)
            publish_s, table = timed(publisher, rows, schema, f"benchmark {schema}", "SIMULATED timing data",
                                     subject="solar-physics")
            expected = events[(events["end"] >= WINDOW[0]) & (events["start"] <= WINDOW[1])
                              & (events["label"] == "ICME")]
            query_s, n_found = search_seconds(dachs, table, expected, args.repeats)
            results["tables"][schema] = {"events": n, "import_from": "CSV" if publisher is publish else "VOTable",
                                         "to_epncore_s": convert_s,
                                         "publish_s": publish_s, "events_per_s": n / publish_s,
                                         "search_median_s": query_s, "rows_found": n_found}
            print(f"{schema:<14} {n:>7} events  to_epncore {convert_s:6.2f} s  publish {publish_s:6.1f} s "
                  f"({n / publish_s:8.0f} events/s)  search {query_s * 1000:7.1f} ms ({n_found} rows)")
    large, votable, small = (results["tables"][k] for k in ("large", "large_votable", "small"))
    results["ratios"] = {"publish_votable_over_csv": votable["publish_s"] / large["publish_s"],
                         "search_large_over_small": large["search_median_s"] / small["search_median_s"]}
    for name, value in results["ratios"].items():
        print(f"{name:<32} {value:6.2f}")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
