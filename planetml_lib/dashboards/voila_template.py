"""PlanetML's Voila template, for every server this package starts that renders dashboards.

It is Voila's lab template without the Font Awesome stylesheets that template fetches from a CDN:
offline, or where outgoing traffic is dropped rather than refused, the browser waits for them and
the dashboard's page never finishes loading. The template lives in this package, so an editable
install has it too; servers find it through ``JUPYTER_PATH``.
"""

import os
from pathlib import Path

TEMPLATE_NAME = "planetml"
JUPYTER_DATA_DIR = Path(__file__).with_name("jupyter")
TEMPLATE_OPTION = f"--VoilaConfiguration.template={TEMPLATE_NAME}"


def with_template_path(environ):
    """Return a copy of ``environ`` with this package's Jupyter data folder first on ``JUPYTER_PATH``."""
    existing = [path for path in environ.get("JUPYTER_PATH", "").split(os.pathsep) if path]
    return {**environ, "JUPYTER_PATH": os.pathsep.join([str(JUPYTER_DATA_DIR), *existing])}
