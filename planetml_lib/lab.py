"""Start JupyterLab on the notebooks, with Voila's ``<base URL>voila/render/<path>`` inside it.

Each setting comes from an argument, else an environment variable, else a default, so one
image runs on a laptop, a Docker host and behind a science platform's proxy:

========================  ==================================================================
``PLANETML_PORT``         port to listen on (default 8888)
``PLANETML_BASE_URL``     URL prefix the server lives under, e.g. ``/user/me/`` (default ``/``)
``PLANETML_TOKEN``        the token to accept (else ``JUPYTER_TOKEN``, else a random one)
``PLANETML_NO_TOKEN=1``   run without a token: the only way to switch it off
``JUPYTERHUB_API_TOKEN``  set by JupyterHub: run ``jupyterhub-singleuser``, the Hub logs users in
========================  ==================================================================

A token given through the environment reaches the server through the environment too, never
the command line (which every user of a shared machine can read), and is never printed.
"""

import os
import secrets
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from planetml_lib.dashboards.serve import DASHBOARD_FILE, default_notebook_dir, refuse_busy_port
from planetml_lib.dashboards.server_settings import server_environment, server_options
from planetml_lib.errors import PlanetMLError

DEFAULT_PORT = 8888
DEFAULT_IP = "127.0.0.1"
TOKEN_VARIABLES = ("PLANETML_TOKEN", "JUPYTER_TOKEN")
NO_TOKEN_VARIABLE = "PLANETML_NO_TOKEN"
HUB_TOKEN_VARIABLE = "JUPYTERHUB_API_TOKEN"
#: ``PLANETML_VO=1`` starts an EPN-TAP service beside the lab, on ``$PLANETML_VO_PORT`` (default 8080).
VO_VARIABLE, VO_PORT_VARIABLE, DEFAULT_VO_PORT = "PLANETML_VO", "PLANETML_VO_PORT", 8080
SINGLEUSER = "jupyterhub-singleuser"
#: Opens shipped notebooks unmodified whatever the platform's Python patch version (see lab_contents).
CONTENTS_MANAGER = "planetml_lib.lab_contents.NotebookContentsManager"


@dataclass(frozen=True)
class LabSettings:
    """Where and how the server listens, resolved from arguments and the environment.

    Attributes
    ----------
    port : int or None
        None only in single-user mode, where the Hub's ``JUPYTERHUB_SERVICE_URL`` decides.
    base_url : str or None
        Starts and ends with ``/``; None only in single-user mode (the Hub's prefix applies).
    token : str or None
        The token the server accepts; ``""`` when switched off with ``PLANETML_NO_TOKEN=1``;
        None in single-user mode (the Hub authenticates).
    token_source : str
        ``"generated"``, the name of the variable it came from, ``"disabled"`` or ``"jupyterhub"``.
    """

    port: int | None
    base_url: str | None
    token: str | None
    token_source: str

    @property
    def single_user(self):
        return self.token_source == "jupyterhub"


def normalize_base_url(value):
    """Return ``value`` as a URL prefix that starts and ends with ``/``.

    Examples
    --------
    >>> normalize_base_url("user/test"), normalize_base_url("/user/test/"), normalize_base_url("")
    ('/user/test/', '/user/test/', '/')
    """
    path = value.strip().strip("/")
    if any(char in path for char in "?#: \t"):
        raise PlanetMLError(f"base URL {value!r} is not a URL path like /user/me/")
    return f"/{path}/" if path else "/"


def _port(value, source):
    """Return ``value`` as a port number; a one-line error naming ``source`` otherwise."""
    try:
        port = int(value)
    except ValueError:
        raise PlanetMLError(f"{source}={value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise PlanetMLError(f"{source}: port {port} is not between 1 and 65535")
    return port


def _token(environ):
    """Return (token, source): from the environment, switched off on request, or random."""
    name = next((var for var in TOKEN_VARIABLES if environ.get(var)), None)
    switch = environ.get(NO_TOKEN_VARIABLE, "").strip().lower()
    if switch not in ("", "0", "false", "no", "1", "true", "yes"):
        raise PlanetMLError(f"{NO_TOKEN_VARIABLE}={switch!r}: set it to 1 to run without a token, or unset it")
    if switch in ("1", "true", "yes"):
        if name:
            raise PlanetMLError(f"{NO_TOKEN_VARIABLE} asks for no token but {name} sets one: unset one of them")
        return "", "disabled"
    if name:
        return environ[name], name
    return secrets.token_hex(24), "generated"


def lab_settings(port=None, base_url=None, environ=None):
    """Resolve port, base URL and token: argument, else environment variable, else default.

    With ``JUPYTERHUB_API_TOKEN`` set (a JupyterHub spawned this server) the Hub handles login,
    and the port and base URL are left to it unless given explicitly.
    """
    environ = os.environ if environ is None else environ
    if port is None and environ.get("PLANETML_PORT"):
        port = _port(environ["PLANETML_PORT"], "PLANETML_PORT")
    elif port is not None:
        port = _port(port, "--port")
    if base_url is None and environ.get("PLANETML_BASE_URL"):
        base_url = environ["PLANETML_BASE_URL"]
    base_url = None if base_url is None else normalize_base_url(base_url)
    if environ.get(HUB_TOKEN_VARIABLE):
        return LabSettings(port, base_url, None, "jupyterhub")
    token, source = _token(environ)
    return LabSettings(port or DEFAULT_PORT, base_url or "/", token, source)


def _singleuser_program(environ):
    """Return the path of ``jupyterhub-singleuser`` (this Python's first), or a one-line error."""
    beside_python = Path(sys.executable).with_name(SINGLEUSER)
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which(SINGLEUSER, path=environ.get("PATH"))
    if found is None:
        raise PlanetMLError(f"{HUB_TOKEN_VARIABLE} is set (JupyterHub single-user mode) but {SINGLEUSER} "
                            f"is not installed: install the Hub's version of jupyterhub, "
                            f"or unset {HUB_TOKEN_VARIABLE}")
    return found


def lab_command(root_dir, settings, ip=None, open_browser=False, environ=None):
    """Return the argument list that starts the server, and the environment to start it with.

    Parameters
    ----------
    root_dir : str or Path
        Folder the server shows; must exist.
    settings : LabSettings
        From :func:`lab_settings`.
    ip : str, optional
        Address to bind; default 127.0.0.1 (in single-user mode, the Hub's choice).
    environ : mapping, optional
        Environment to start from (default ``os.environ``).
    """
    environ = dict(os.environ if environ is None else environ)
    root_dir = Path(root_dir)
    if not root_dir.is_dir():
        raise PlanetMLError(f"{root_dir}: notebook folder not found")
    if settings.single_user:
        command = [_singleuser_program(environ)]
    else:
        command = [sys.executable, "-m", "jupyterlab", "--ServerApp.port_retries=0"]
        ip = ip or DEFAULT_IP
    command += [f"--ServerApp.root_dir={root_dir.resolve()}", f"--ServerApp.open_browser={open_browser}",
                f"--ServerApp.contents_manager_class={CONTENTS_MANAGER}", *server_options(environ)]
    command += [f"--ServerApp.{name}={value}" for name, value in
                (("ip", ip), ("port", settings.port), ("base_url", settings.base_url)) if value is not None]
    if settings.token == "":
        command.append("--IdentityProvider.token=")
    elif settings.token is not None:
        environ["JUPYTER_TOKEN"] = settings.token
    if os.geteuid() == 0:  # containers and CI machines often run as root; the token still guards the server
        command.append("--ServerApp.allow_root=True")
    return command, server_environment(environ)


def _dashboard_paths(root_dir):
    """Paths, relative to the served folder, of the case dashboards one or two folders below it."""
    root = Path(root_dir)
    found = [*root.glob(f"*/{DASHBOARD_FILE}"), *root.glob(f"*/*/{DASHBOARD_FILE}")]
    return sorted(path.relative_to(root).as_posix() for path in found)


def _announce(settings, ip, root_dir):
    """Print where the lab and each dashboard are, before the server's own log starts."""
    if settings.single_user:
        print("PlanetML: JupyterHub single-user server; the Hub sets its address and logs users in", flush=True)
        return
    host = DEFAULT_IP if ip in (None, "0.0.0.0", "") else ip
    root = f"http://{host}:{settings.port}{settings.base_url}"
    query, note = "", ""
    if settings.token_source == "generated":
        query = f"?token={settings.token}"
    elif settings.token_source == "disabled":
        print(f"PlanetML: warning: no token ({NO_TOKEN_VARIABLE}); anyone who can reach port "
              f"{settings.port} can run code as this user", file=sys.stderr, flush=True)
    else:
        note = f" (token: the value of ${settings.token_source})"
    print(f"PlanetML: JupyterLab at {root}lab{query}{note}", flush=True)
    for path in _dashboard_paths(root_dir):
        print(f"PlanetML: dashboard at {root}voila/render/{path}{query}", flush=True)


def start_lab(port=None, root_dir=None, ip=None, base_url=None, open_browser=False):
    """Print the URLs to open, then become the server (this process is replaced, never returns).

    ``root_dir`` defaults to the folder holding the notebook folder (see
    :func:`~planetml_lib.dashboards.serve.default_notebook_dir`), so that paths are
    ``notebooks/...`` here as in the image and on Binder. A busy port is refused before any URL
    is printed. Replacing the process, rather than starting a child, lets Ctrl-C, ``docker stop``
    (through tini) and test fixtures stop the server itself, which then shuts its kernels down; a
    child would be left running when only its parent is stopped.
    """
    settings = lab_settings(port=port, base_url=base_url)
    root_dir = default_notebook_dir().parent if root_dir is None else root_dir
    command, environ = lab_command(root_dir, settings, ip=ip, open_browser=open_browser)
    if not settings.single_user:
        refuse_busy_port(ip or DEFAULT_IP, settings.port)
    _announce(settings, ip, root_dir)
    if os.environ.get(VO_VARIABLE) == "1":
        _, environ = start_vo_service(environ, ip)
    os.execve(command[0], command, environ)


def start_vo_service(environ, ip=None):
    """Start a DaCHS EPN-TAP service beside the lab (``PLANETML_VO=1``); return it
    and the lab's environment with its ``GAVOSETTINGS``, so ``planetml publish`` and ``vo.publish``
    reach it.

    It listens on ``$PLANETML_VO_PORT`` (default 8080) at the lab's address, keeps its files in
    ``planetml-vo`` of the temporary folder, and lives as long as the container (the lab replaces
    this process, so nothing stops it before): it is meant for a container or a session's machine,
    which starts with an empty temporary folder.
    """
    from planetml_lib.vo.instance import LocalDachs

    port = int(os.environ.get(VO_PORT_VARIABLE, DEFAULT_VO_PORT))
    root = Path(tempfile.gettempdir()) / "planetml-vo"
    if root.exists():
        raise PlanetMLError(f"{root} exists: an EPN-TAP service already ran here; stop it and remove the folder, "
                            f"or unset {VO_VARIABLE}")
    root.mkdir()
    service = LocalDachs(root=root, web_port=port, bind_address=ip or DEFAULT_IP).start()
    print(f"PlanetML: EPN-TAP service (GAVO DaCHS) at {service.tap_url}; `planetml publish` reaches it from the "
          f"lab's terminals, elsewhere with GAVOSETTINGS={os.environ['GAVOSETTINGS']}", flush=True)
    return service, {**environ, "GAVOSETTINGS": os.environ["GAVOSETTINGS"]}


def health_url(environ=None):
    """Return the URL of the server's ``api`` endpoint as this environment configures it.

    In single-user mode that is the Hub's ``JUPYTERHUB_SERVICE_URL``; otherwise
    ``PLANETML_PORT`` and ``PLANETML_BASE_URL`` (so set those, not arguments, in a container).

    Examples
    --------
    >>> health_url({"PLANETML_PORT": "9000", "PLANETML_BASE_URL": "/user/test"})
    'http://127.0.0.1:9000/user/test/api'
    >>> health_url({"JUPYTERHUB_API_TOKEN": "x", "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888/user/a/"})
    'http://127.0.0.1:8888/user/a/api'
    """
    environ = os.environ if environ is None else environ
    if environ.get(HUB_TOKEN_VARIABLE) and environ.get("JUPYTERHUB_SERVICE_URL"):
        service = urllib.parse.urlsplit(environ["JUPYTERHUB_SERVICE_URL"])
        port, base_url = service.port or DEFAULT_PORT, normalize_base_url(service.path)
    else:
        port = _port(environ.get("PLANETML_PORT") or DEFAULT_PORT, "PLANETML_PORT")
        base_url = normalize_base_url(environ.get("PLANETML_BASE_URL") or "/")
    return f"http://{DEFAULT_IP}:{port}{base_url}api"


def check_health(environ=None, timeout=4):
    """Return 0 when the server's ``api`` endpoint answers, 1 otherwise (the container HEALTHCHECK)."""
    url = health_url(environ)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as err:
        print(f"PlanetML: {url} does not answer: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(check_health())
