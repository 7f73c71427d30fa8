"""Start JupyterLab on the notebooks, with Voila's ``/voila/render/<path>`` inside it."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from planetml_lib.errors import PlanetMLError


def lab_command(port, root_dir, ip="127.0.0.1", token=None, open_browser=False):
    """Return the argument list that starts JupyterLab, and the token it will accept.

    A token is always set (random unless given): the server never runs open to anyone
    who can reach the port.
    """
    root_dir = Path(root_dir)
    if not root_dir.is_dir():
        raise PlanetMLError(f"{root_dir}: notebook folder not found")
    if not 0 < port < 65536:
        raise PlanetMLError(f"port {port} is not between 1 and 65535")
    token = token or secrets.token_hex(24)
    command = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.ip={ip}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir.resolve()}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.open_browser={open_browser}",
    ]
    if os.geteuid() == 0:  # containers and CI machines often run as root; the token still guards the server
        command.append("--ServerApp.allow_root=True")
    return command, token


def start_lab(port=8888, root_dir="notebooks", ip="127.0.0.1", open_browser=False):
    """Run JupyterLab in the foreground until Ctrl-C; print the URL to open first."""
    command, token = lab_command(port, root_dir, ip=ip, open_browser=open_browser)
    host = "127.0.0.1" if ip in ("0.0.0.0", "") else ip
    print(f"PlanetML: JupyterLab at http://{host}:{port}/lab?token={token}", flush=True)
    print(f"PlanetML: dashboards at http://{host}:{port}/voila/render/<notebook>?token={token}", flush=True)
    return subprocess.call(command)
