"""Dashboards under load: a room of simultaneous users, and page loads on a machine with busy cores.

Each case's dashboard is served as ``planetml dashboard`` serves it (standalone Voila).

``users`` (the workshop): N browser users (Chromium contexts) open the dashboard at the same
moment, wait for its first figure, change its first menu once and wait for the new results, then
close the tab; for N = 1, 5, 10, 20. Reported per dashboard and N: seconds to first render and per
interaction (median and worst), the server's memory (Voila and its kernels) when idle (after one
warm-up user has come and gone: Voila imports its exporters and templates on its first page, about
17 MB that stay; the memory before that is reported too), at its peak and once the users have left
(polled for up to ``--after`` seconds, 120 by default, until it is within 10 % of idle), the
kernels still running then, the peak memory per user and the server's CPU seconds per user (Voila
and the kernels; the browsers run on the same machine here, but on the users' laptops in a room).
Targets: memory back within 10 % of idle; every render within 60 s with 10 users. An N whose
projected memory (the kernel and page of one user, measured at N = 1, times N) exceeds the
memory available is not run, and the result says so.

``busy`` (a regression check for commit d7889ab): the page fetched ``--loads`` times while one
busy-looping process per core competes for the CPU; counts the loads whose page did not arrive
whole (Voila ends it by calling ``voila_finish``) within ``--deadline`` seconds. With figures
drawn through an Output widget, 1 of 4 ICME loads never finished (``--loads 4 --deadline 40``).

Prints the figures and writes ``benchmarks/results/dashboard_load.json`` (each mode its own key).

Run: ``.venv/bin/python benchmarks/dashboard_load.py users [--users 1 5 10 20] [--case icme]``
or ``.venv/bin/python benchmarks/dashboard_load.py busy [--loads N] [--deadline S]``
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from pathlib import Path

import psutil
from playwright.async_api import async_playwright

from planetml_lib.dashboards.serve import list_dashboards, voila_command
from planetml_lib.testing import CHROMIUM, CHROMIUM_ARGS, NOT_BUSY_JS, RESULTS_JS, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "dashboard_load.json"
RENDER_TARGET_S = 60
RETURN_TOLERANCE = 0.10
PAGE_MB = 250  # a Chromium page of a dashboard, for the memory projection
TIMEOUT_MS = 600_000


@contextmanager
def dashboard_server(notebook, environ=None):
    """Standalone Voila on ``notebook``, as `planetml dashboard` starts it; yield (URL, process)."""
    port = free_port()
    command, environ = voila_command(notebook, port=port, environ=environ)
    server = subprocess.Popen(command, env=environ, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}/", server
    finally:
        server.terminate()
        server.wait(timeout=60)


def server_cpu_s(server):
    """CPU seconds the server and its ended kernels have used (a kernel's count once Voila has reaped it)."""
    times = psutil.Process(server.pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def server_mb(server):
    """Resident memory of the server and its kernels, MB."""
    processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 1e6


class PeakMemory:
    """Samples the server's memory every half second in a thread while the block runs."""

    def __init__(self, server):
        self.server, self.peak, self._stop = server, 0.0, threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, server_mb(self.server))

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


async def one_user(browser, url):
    """Open, render, change the first menu, see the new results, close: (render s, interaction s)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1800})
    page = await context.new_page()
    try:
        start = time.monotonic()
        await page.goto(url, timeout=TIMEOUT_MS)
        await page.wait_for_selector(".jupyter-widgets img", timeout=TIMEOUT_MS)
        render_s = time.monotonic() - start
        before = await page.evaluate(RESULTS_JS)
        start = time.monotonic()
        await page.locator("select").first.select_option(index=1)
        await page.wait_for_function(f"before => ({RESULTS_JS})() !== before && ({NOT_BUSY_JS})()", arg=before,
                                     timeout=TIMEOUT_MS, polling=200)
        return render_s, time.monotonic() - start
    finally:
        await page.close(run_before_unload=True)  # the tab closes: Voila's page asks for its kernel's shutdown
        await asyncio.sleep(2)  # the browser stays open, as a user's does: closing it at once can drop the request
        await context.close()


async def room(url, users):
    """``users`` simultaneous users of the dashboard at ``url``."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            return await asyncio.gather(*(one_user(browser, url) for _ in range(users)))
        finally:
            await browser.close()


def kernels(server):
    """The server's kernels still running (an ended one waits as a zombie until Voila reaps it)."""
    return [child for child in psutil.Process(server.pid).children() if child.status() != psutil.STATUS_ZOMBIE]


def wait_for_no_kernels(server, deadline_s=60):
    """Wait until the server runs no kernel (the warm-up user's has been shut down)."""
    start = time.monotonic()
    while kernels(server) and time.monotonic() - start < deadline_s:
        time.sleep(0.5)


def after_users(server, idle_mb, wait_s):
    """(seconds until memory was back within tolerance of idle or ``wait_s`` passed, memory then)."""
    start = time.monotonic()
    while True:
        memory = server_mb(server)
        elapsed = time.monotonic() - start
        if memory <= idle_mb * (1 + RETURN_TOLERANCE) or elapsed >= wait_s:
            return elapsed, memory
        time.sleep(1)


def users_run(notebook, users, wait_s):
    """One room of ``users`` on a fresh server; the figures of one row of the results."""
    with dashboard_server(notebook) as (url, server):
        time.sleep(3)
        cold_mb = server_mb(server)
        asyncio.run(room(url, 1))  # the first page makes Voila import its exporters and templates
        wait_for_no_kernels(server)
        idle_mb, cpu_before = server_mb(server), server_cpu_s(server)
        with PeakMemory(server) as peak:
            times = asyncio.run(room(url, users))
        back_s, after_mb = after_users(server, idle_mb, wait_s)
        kernels_left = len(kernels(server))
        time.sleep(2)  # Voila reaps the ended kernels, whose CPU time then counts
        cpu_per_user = (server_cpu_s(server) - cpu_before) / users
    renders, interactions = sorted(t[0] for t in times), sorted(t[1] for t in times)
    return {"users": users, "render_s_median": round(statistics.median(renders), 1),
            "render_s_max": round(renders[-1], 1),
            "interaction_s_median": round(statistics.median(interactions), 1),
            "interaction_s_max": round(interactions[-1], 1),
            "memory_mb": {"never_used": round(cold_mb), "idle": round(idle_mb), "peak": round(peak.peak),
                          "after": round(after_mb)},
            "memory_back_within_10pct": after_mb <= idle_mb * (1 + RETURN_TOLERANCE),
            "seconds_until_back": round(back_s, 1),
            "peak_mb_per_user": round((peak.peak - idle_mb) / users),
            "kernels_left": kernels_left,
            "server_cpu_s_per_user": round(cpu_per_user, 1),
            "all_rendered_within_60s": renders[-1] <= RENDER_TARGET_S}


def users_mode(args):
    results = {"what": "N simultaneous Chromium users open each dashboard, change its first menu once, close it",
               "machine": machine(), "dashboards": {}}
    for case, notebook in selected(args.case).items():
        rows, per_user_mb = [], None
        for users in sorted(args.users):
            available = psutil.virtual_memory().available / 1e6
            projected = None if per_user_mb is None else users * (per_user_mb + PAGE_MB)
            if projected is not None and projected > 0.9 * available:
                rows.append({"users": users, "not_run": f"projected {projected:.0f} MB (kernel and page per user) "
                                                        f"> 90 % of {available:.0f} MB free"})
            else:
                rows.append(users_run(notebook, users, args.after))
                per_user_mb = per_user_mb or rows[-1]["peak_mb_per_user"]
            print(case, rows[-1], flush=True)
        results["dashboards"][case] = rows
    return results


def busy_loop():
    while True:
        pass


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as response:  # Voila sends a heartbeat every 10 s
        return response.read().decode()


def load_once(notebook, deadline):
    """Seconds until the whole page arrived, or None when it had not within ``deadline``."""
    with dashboard_server(notebook) as (url, server), ThreadPoolExecutor(1) as pool:
        start = time.monotonic()
        page = pool.submit(fetch, url)
        try:
            complete = "voila_finish" in page.result(timeout=deadline)
        except FutureTimeout:
            complete = False
        seconds = time.monotonic() - start
        server.terminate()  # also ends a fetch still waiting
    return seconds if complete else None


def busy_mode(args):
    busy = [multiprocessing.Process(target=busy_loop, daemon=True) for _ in range(os.cpu_count())]
    for process in busy:
        process.start()
    results = {"what": "dashboard page loads with every core kept busy by another process", "machine": machine(),
               "loads_per_dashboard": args.loads, "deadline_s": args.deadline, "dashboards": {}}
    try:
        for case, notebook in selected(args.case).items():
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
    return results


def machine():
    return {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
            "platform": platform.platform()}


def selected(case):
    dashboards = list_dashboards(ROOT / "notebooks")
    return dashboards if case is None else {case: dashboards[case]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    users = modes.add_parser("users", help="N simultaneous browser users per dashboard")
    users.add_argument("--users", type=int, nargs="+", default=[1, 5, 10, 20], help="room sizes")
    users.add_argument("--after", type=float, default=120.0, help="seconds to wait for memory to return")
    busy = modes.add_parser("busy", help="page loads with every core kept busy")
    busy.add_argument("--loads", type=int, default=8, help="page loads per dashboard")
    busy.add_argument("--deadline", type=float, default=60.0, help="seconds a load may take")
    for mode in (users, busy):
        mode.add_argument("--case", help="one dashboard only (default: all)")
    args = parser.parse_args()
    results = users_mode(args) if args.mode == "users" else busy_mode(args)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous = previous if "users" in previous or "busy" in previous else {"busy": previous}  # the old layout
    RESULTS.write_text(json.dumps({**previous, args.mode: results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
