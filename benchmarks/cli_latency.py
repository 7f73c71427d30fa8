"""How fast `planetml` answers help, argument errors and missing input files, against the full import.

Each command runs in a fresh process (as a user types it) several times; the median wall time is
reported. The baseline in the same run is ``python -c "import planetml_lib.cases"``: the import of
the whole stack (torch, xarray, the readers, every case) that each command paid before it looked
at its arguments. Prints a table and writes ``benchmarks/results/cli_latency.json``.

Run: ``.venv/bin/python benchmarks/cli_latency.py [--repeats N]``
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "cli_latency.json"
CLI = [sys.executable, "-m", "planetml_lib.cli"]
COMMANDS = {
    "planetml --help": [*CLI, "--help"],
    "planetml predict --help": [*CLI, "predict", "--help"],
    "planetml predict mounds --input missing.tif (missing file)": [*CLI, "predict", "mounds", "--input",
                                                                    "missing.tif", "--output", "m.gpkg"],
    "planetml predict mounds --pixel-m -5 (argument error)": [*CLI, "predict", "mounds", "--input", "x.tif",
                                                               "--output", "m.gpkg", "--pixel-m", "-5"],
    "planetml evaluate icme --model missing (missing folder)": [*CLI, "evaluate", "icme", "--model", "missing"],
}
BASELINE = ("import the whole stack (what every command paid first)",
            [sys.executable, "-c", "import planetml_lib.cases"])


def median_seconds(command, repeats):
    """Median wall time of ``command`` over ``repeats`` fresh processes."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per command (default 5)")
    args = parser.parse_args()
    baseline = median_seconds(BASELINE[1], args.repeats)
    rows = {name: median_seconds(command, args.repeats) for name, command in COMMANDS.items()}
    print(f"{'command':<62} {'median s':>9} {'baseline / this':>16}")
    print(f"{BASELINE[0]:<62} {baseline:9.3f} {1.0:16.1f}")
    for name, seconds in rows.items():
        print(f"{name:<62} {seconds:9.3f} {baseline / seconds:16.1f}")
    results = {"what": "median wall time of a fresh `planetml` process; baseline: importing planetml_lib.cases",
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "repeats": args.repeats,
               "baseline_s": baseline,
               "commands": {name: {"seconds": seconds, "baseline_over_this": baseline / seconds}
                            for name, seconds in rows.items()}}
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
