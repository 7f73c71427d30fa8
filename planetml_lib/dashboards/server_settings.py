"""Settings of every Jupyter server this package starts: standalone Voila (``planetml dashboard``),
JupyterLab and the Hub's single-user server (``planetml lab``), and so the image and the platforms'
start scripts, which run those two commands.

* **Template.** PlanetML's Voila template is Voila's lab template without the Font Awesome
  stylesheets that template fetches from a CDN: offline, or where outgoing traffic is dropped
  rather than refused, the browser waits for them and the page never finishes loading.
* **Kernel shutdown.** When a tab closes, Voila's page asks the server to shut its kernel down
  with a POST that carries the value of the ``_xsrf`` cookie, but Voila's page handler never sets
  that cookie: the server refused the POST (403, voila-dashboards/voila#1458) and every closed
  tab left a kernel of about 1 GB running. :func:`set_xsrf_cookie`, Voila's prelaunch hook, sets
  the cookie with the page.
* **Culling.** Kernels that no browser is connected to are shut down after
  ``PLANETML_CULL_IDLE_S`` seconds without activity (default 600; 0 switches culling off),
  checked every minute: the backstop for a tab whose shutdown never arrived (a browser that
  crashed, a laptop closed). A kernel whose tab is open is never culled.

The template and the hook live in this package (an editable install has them too); servers find
them through ``JUPYTER_PATH`` and ``JUPYTER_CONFIG_PATH`` (:func:`server_environment`). Template
and culling are command-line options (:func:`server_options`), so they show in the server's command.
"""

import os
from pathlib import Path

TEMPLATE_NAME = "planetml"
JUPYTER_DATA_DIR = Path(__file__).with_name("jupyter")
JUPYTER_CONFIG_DIR = Path(__file__).with_name("jupyter_config")
CULL_VARIABLE = "PLANETML_CULL_IDLE_S"
DEFAULT_CULL_IDLE_S = 600
CULL_INTERVAL_S = 60


def cull_idle_seconds(environ):
    """Seconds an unconnected kernel may stay idle, from ``PLANETML_CULL_IDLE_S``; 0 means never culled.

    Examples
    --------
    >>> cull_idle_seconds({}), cull_idle_seconds({"PLANETML_CULL_IDLE_S": "120"})
    (600, 120)
    """
    from planetml_lib.errors import PlanetMLError

    text = environ.get(CULL_VARIABLE, "").strip() or str(DEFAULT_CULL_IDLE_S)
    if not text.isdigit():
        raise PlanetMLError(f"{CULL_VARIABLE}={text!r}: give the seconds an unused kernel may stay idle "
                            f"(a whole number; 0 never shuts kernels down)")
    return int(text)


def server_options(environ):
    """Command-line options every server gets: PlanetML's Voila template and idle-kernel culling."""
    idle = cull_idle_seconds(environ)
    options = [f"--VoilaConfiguration.template={TEMPLATE_NAME}"]
    if idle:
        options += [f"--MappingKernelManager.cull_idle_timeout={idle}",
                    f"--MappingKernelManager.cull_interval={min(CULL_INTERVAL_S, idle)}",
                    "--MappingKernelManager.cull_connected=False"]
    return options


def _prepend(environ, variable, folder):
    existing = [path for path in environ.get(variable, "").split(os.pathsep) if path]
    return os.pathsep.join([str(folder), *existing])


def server_environment(environ):
    """Return a copy of ``environ`` with this package's template folder first on ``JUPYTER_PATH``
    and its configuration folder (Voila's prelaunch hook) first on ``JUPYTER_CONFIG_PATH``."""
    return {**environ, "JUPYTER_PATH": _prepend(environ, "JUPYTER_PATH", JUPYTER_DATA_DIR),
            "JUPYTER_CONFIG_PATH": _prepend(environ, "JUPYTER_CONFIG_PATH", JUPYTER_CONFIG_DIR)}


def set_xsrf_cookie(request, notebook, cwd):
    """Voila's prelaunch hook: set the ``_xsrf`` cookie with the dashboard's page.

    Tornado sets the cookie the first time a handler reads ``xsrf_token``; the page reads it
    back when its tab closes, to have the server shut the kernel down. The notebook is unchanged.
    """
    request.xsrf_token  # noqa: B018 (reading the property is what sets the cookie)


def configure(config):
    """Fill the ``config`` of a server's configuration file (``jupyter_config/``): the prelaunch hook."""
    config.VoilaConfiguration.prelaunch_hook = set_xsrf_cookie
