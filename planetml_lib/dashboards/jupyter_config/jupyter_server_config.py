"""Read by the servers PlanetML starts, from ``JUPYTER_CONFIG_PATH`` (see ``dashboards.server_settings``)."""

from planetml_lib.dashboards.server_settings import configure

configure(get_config())  # noqa: F821 (the configuration loader defines get_config)
