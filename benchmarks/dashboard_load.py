"""Dashboard page loads on a machine whose cores are all kept busy: do they always finish?

Serves each case's dashboard with the command `planetml dashboard` runs (standalone Voila, fast
mode), fetches the page ``--loads`` times while one busy-looping process per core competes for
the CPU, and counts the loads whose page did not arrive whole (Voila ends it by calling
``voila_finish``) within ``--deadline`` seconds. With figures drawn through an Output widget (the
dashboards before commit d7889ab), 1 of 4 ICME loads never finished in this script, run with
``--loads 4 --deadline 40`` on the 2-core development machine (see
``dashboards.common.figure_widget``). Prints the figures and writes
``benchmarks/results/dashboard_load.json``.

Run: ``.venv/bin/python benchmarks/dashboard_load.py [--loads N] [--deadline S]``
"""

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from planetml_lib.dashboards.serve import list_dashboards, voila_command
from planetml_lib.testing import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "dashboard_load.json"


def busy_loop():
    while True:
        pass


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as response:  # Voila sends a heartbeat every 10 s
        return response.read().decode()


def load_once(notebook, deadline):
    """Seconds until the whole page arrived, or None when it had not within ``deadline``."""
    port = free_port()
    command, environ = voila_command(notebook, port=port, environ={**os.environ, "PLANETML_FAST": "1"})
    server = subprocess.Popen(command, env=environ, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        start = time.monotonic()
        with ThreadPoolExecutor(1) as pool:
            page = pool.submit(fetch, f"http://127.0.0.1:{port}/")
            try:
                complete = "voila_finish" in page.result(timeout=deadline)
            except FutureTimeout:
                complete = False
            seconds = time.monotonic() - start
            server.terminate()  # also ends a fetch still waiting
        return seconds if complete else None
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=8, help="page loads per dashboard")
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds a load may take")
    args = parser.parse_args()
    busy = [multiprocessing.Process(target=busy_loop, daemon=True) for _ in range(os.cpu_count())]
    for process in busy:
        process.start()
    results = {"what": "dashboard page loads with every core kept busy by another process",
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
               "loads_per_dashboard": args.loads, "deadline_s": args.deadline, "dashboards": {}}
    try:
        for case, notebook in list_dashboards(ROOT / "notebooks").items():
            times = [load_once(notebook, args.deadline) for _ in range(args.loads)]
            finished = sorted(t for t in times if t is not None)
            results["dashboards"][case] = {
                "unfinished": len(times) - len(finished),
                "seconds_median": finished[len(finished) // 2] if finished else None,
                "seconds_max": finished[-1] if finished else None}
            print(case, results["dashboards"][case], flush=True)
    finally:
        for process in busy:
            process.terminate()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
