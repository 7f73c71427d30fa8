"""Serve one case's dashboard on its own with Voila: ``planetml dashboard CASE``.

Every case with a dashboard has it at ``<notebook_dir>/<case>/dashboard.ipynb``. The notebook
folder is found from any working folder (:func:`default_notebook_dir`). Standalone Voila asks for
no token, so it listens on the loopback address unless told otherwise.
"""

import os
import socket
import sys
from pathlib import Path

from planetml_lib.dashboards.server_settings import server_environment, server_options
from planetml_lib.errors import PlanetMLError
from planetml_lib.names import full_name

DASHBOARD_FILE = "dashboard.ipynb"
LOOPBACK = "127.0.0.1"
ERROR_INSTRUCTION = "The full error is in the log of the terminal that started the dashboard."
NOTEBOOKS_VARIABLE = "PLANETML_NOTEBOOKS"
#: Threads of each dashboard kernel, unless the environment sets them: a room shares the cores, and a
#: kernel on every core slows all the others (benchmarks/dashboard_load.py, 5 simultaneous ICME users on
#: 2 cores: first render 48 s, server CPU 14.0 s a user with all threads; 39 s and 11.3 s with one).
KERNEL_THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def notebook_candidates(environ=None):
    """Where the notebooks are looked for, in order.

    ``$PLANETML_NOTEBOOKS`` when set, ``notebooks`` in the working folder, the ``notebooks``
    folder beside this package (a checkout of the repository, an editable install), then
    ``~/notebooks`` (where the image and the platforms keep them).
    """
    environ = os.environ if environ is None else environ
    candidates = [Path("notebooks"), Path(__file__).resolve().parents[2] / "notebooks",
                  Path(environ.get("HOME", "~")).expanduser() / "notebooks"]
    return [Path(environ[NOTEBOOKS_VARIABLE])] if environ.get(NOTEBOOKS_VARIABLE) else candidates


def default_notebook_dir(environ=None):
    """The first of :func:`notebook_candidates` that holds a dashboard; a one-line error otherwise."""
    candidates = notebook_candidates(environ)
    for folder in candidates:
        if folder.is_dir() and any(folder.glob(f"*/{DASHBOARD_FILE}")):
            return folder
    raise PlanetMLError(f"no PlanetML notebooks in {', '.join(map(str, candidates))}: give the folder with "
                        f"--notebook-dir or ${NOTEBOOKS_VARIABLE}")


def refuse_busy_port(ip, port):
    """A one-line error when something already listens on ``ip``:``port`` (checked before a URL is printed)."""
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: a closing port is free
        try:
            sock.bind((ip, port))
        except OSError as error:
            raise PlanetMLError(f"{ip}:{port} is not free ({error.strerror}): another server uses it? "
                                f"choose another with --port") from None


def list_dashboards(notebook_dir="notebooks"):
    """Return the dashboards found under ``notebook_dir``, as case name -> notebook path.

    Parameters
    ----------
    notebook_dir : str or Path
        Folder holding one sub-folder per case; a case has a dashboard when its folder holds
        ``dashboard.ipynb``.

    Returns
    -------
    dict of str to Path
        Sorted by case name; empty when no case has a dashboard.
    """
    folder = Path(notebook_dir)
    if not folder.is_dir():
        raise PlanetMLError(f"{folder}: notebook folder not found")
    return {path.parent.name: path for path in sorted(folder.glob(f"*/{DASHBOARD_FILE}"))}


def find_dashboard(case, notebook_dir="notebooks"):
    """Return the path of ``case``'s dashboard (by name or short name); a PlanetMLError naming the
    available ones otherwise."""
    dashboards = list_dashboards(notebook_dir)
    case = full_name(case)
    if case not in dashboards:
        available = ", ".join(dashboards) or "none"
        raise PlanetMLError(f"{Path(notebook_dir) / case / DASHBOARD_FILE}: no such dashboard "
                            f"(available: {available})")
    return dashboards[case]


def voila_command(notebook, port=8866, ip=LOOPBACK, environ=None):
    """Return the argument list that serves ``notebook`` with standalone Voila, and its environment.

    The server takes exactly ``port`` (no silent move to the next free one, so the printed
    URL is right), opens no browser, has the settings of every PlanetML server (its template, the
    kernel shut down when the tab closes, idle kernels culled: see
    :mod:`~planetml_lib.dashboards.server_settings`), and a cell that fails shows its error
    message in the page rather than Voila's hint about command-line options (that hint does not
    help a workshop participant; the traceback is in the server log either way). The environment
    is ``environ`` (default ``os.environ``) with the package's Jupyter folders on the search paths
    and one thread per kernel unless ``environ`` says otherwise (:data:`KERNEL_THREADS`).

    Examples
    --------
    >>> voila_command("notebooks/icme/dashboard.ipynb", port=8870)[0][3:5]
    ['notebooks/icme/dashboard.ipynb', '--Voila.port=8870']
    """
    if not 0 < port < 65536:
        raise PlanetMLError(f"port {port} is not between 1 and 65535")
    command = [
        sys.executable, "-m", "voila", str(notebook),
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        f"--Voila.ip={ip}",
        "--Voila.open_browser=False",
        f"--VoilaExecutor.cell_error_instruction={ERROR_INSTRUCTION}",
    ]
    environ = {**KERNEL_THREADS, **(os.environ if environ is None else environ)}
    return command + server_options(environ), server_environment(environ)


def serve_dashboard(case, notebook_dir=None, port=8866, ip=LOOPBACK):
    """Print the URL to open, then become Voila serving ``case``'s dashboard (never returns).

    ``notebook_dir`` defaults to :func:`default_notebook_dir`. A busy port is refused before
    the URL is printed. Replacing this process, rather than starting a child, lets Ctrl-C and a
    platform's stop signal reach Voila itself, which then shuts its kernels down.
    """
    notebook = find_dashboard(case, default_notebook_dir() if notebook_dir is None else notebook_dir)
    command, environ = voila_command(notebook, port=port, ip=ip)
    refuse_busy_port(ip, port)
    host = LOOPBACK if ip in ("0.0.0.0", "") else ip
    print(f"PlanetML: {full_name(case)} dashboard at http://{host}:{port}/", flush=True)
    if ip != LOOPBACK:
        print(f"PlanetML: warning: no token; anyone who can reach {ip}:{port} can use the dashboard",
              file=sys.stderr, flush=True)
    os.execve(command[0], command, environ)
