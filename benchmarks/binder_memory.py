"""Peak memory of every notebook in fast mode and every dashboard, against Binder's 2 GB limit.

Each notebook is executed top to bottom with ``PLANETML_FAST=1`` by nbconvert in a fresh wrapper
process; the peak resident memory of its kernel (the largest finished descendant of the wrapper,
``RUSAGE_CHILDREN``) is what Binder would count. A dashboard notebook executed this way builds
its widgets and shows its first result, as Voila does when the page opens. Prints a table and
writes ``benchmarks/results/binder_memory.json``; the baseline in the same run is a notebook
that only imports ``planetml_lib`` (the floor every kernel pays).

Run: ``.venv/bin/python benchmarks/binder_memory.py [NOTEBOOK ...]``
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "binder_memory.json"
LIMIT_MB = 2048


def child(notebook):
    """In the wrapper process: execute ``notebook`` with nbconvert; print seconds and the kernel's peak RSS."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                               "--ExecutePreprocessor.timeout=1200", "--output-dir", out,
                               str(Path(notebook).resolve())],
                              capture_output=True, text=True, cwd=Path(notebook).resolve().parent)
    if done.returncode:
        sys.exit(" | ".join(done.stderr.strip().splitlines()[-3:]) or f"nbconvert exited {done.returncode}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_rss_mb": peak_mb}))


def measure(notebook):
    """Run one notebook in a fresh wrapper process; return its figures."""
    out = subprocess.run([sys.executable, __file__, "--child", str(notebook)], capture_output=True, text=True,
                         env={**os.environ, "PLANETML_FAST": "1"})
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_notebook(folder):
    """A notebook that only imports the library: every kernel's floor."""
    path = Path(folder) / "baseline.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import planetml_lib.cases, planetml_lib.dashboards.common")]), path)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook under notebooks/")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    notebooks = args.notebooks or sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb")
                                         if ".ipynb_checkpoints" not in p.parts)
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        rows["baseline (import planetml_lib)"] = measure(baseline_notebook(folder))
        print("baseline", rows["baseline (import planetml_lib)"], flush=True)
        for notebook in notebooks:
            name = str(notebook.resolve().relative_to(ROOT))
            rows[name] = measure(notebook)
            print(name, rows[name], flush=True)
    floor = rows["baseline (import planetml_lib)"].get("peak_rss_mb")
    for figures in rows.values():
        if "peak_rss_mb" in figures and floor:
            figures["over_baseline"] = figures["peak_rss_mb"] / floor
            figures["within_binder_2GB"] = figures["peak_rss_mb"] < LIMIT_MB
    results = {"what": "peak resident memory of each notebook's kernel in fast mode (PLANETML_FAST=1); "
                       "dashboards up to their first result", "limit_mb": LIMIT_MB,
               "machine": {"platform": platform.platform(), "device": "cpu"}, "notebooks": rows}
    if not args.notebooks:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    worst = max((f["peak_rss_mb"], n) for n, f in rows.items() if "peak_rss_mb" in f)
    print(f"largest: {worst[1]} {worst[0]:.0f} MB (limit {LIMIT_MB} MB)")


if __name__ == "__main__":
    main()
