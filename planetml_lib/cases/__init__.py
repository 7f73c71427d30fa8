"""The science cases: one module each, all with the same surface.

Each case module provides ``TITLE``, ``Config`` (frozen dataclass with ``Config.fast()``),
``load_data(config)``, ``build_model(config)``, ``train(config, data)``,
``load_trained(folder)``, ``predict(trained, ds)``, ``evaluate(trained, ds)`` (tidy metrics
whose ``level`` column takes the values in ``METRIC_LEVELS``) and ``plot_results(trained, ds)``.
A new case is one module plus one line in ``CASES``.
"""

from planetml_lib.cases import icme, mars_mounds, mercury_boundaries, solarwind_tutorial
from planetml_lib.errors import PlanetMLError

CASES = {
    "icme": icme,
    "mars_mounds": mars_mounds,
    "mercury_boundaries": mercury_boundaries,
    "solarwind_tutorial": solarwind_tutorial,
}


#: Short names accepted on the command line.
ALIASES = {"mercury": "mercury_boundaries", "mounds": "mars_mounds"}


def get_case(name):
    """Return the case module registered as ``name`` (or an alias); a clear error lists the valid names."""
    try:
        return CASES[ALIASES.get(name, name)]
    except KeyError:
        raise PlanetMLError(f"unknown case {name!r}; choose one of: {', '.join(CASES)}") from None
