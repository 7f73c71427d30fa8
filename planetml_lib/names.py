"""Short names of the science cases, accepted by every command (``planetml predict mounds``,
``planetml dashboard mercury``). A module of its own so that commands which only need the name
(serving a dashboard) resolve it without importing the cases and their models."""

ALIASES = {"cluster": "cluster_bow_shock", "mercury": "mercury_boundaries", "mounds": "mars_mounds",
           "mascs": "mercury_surface"}


def full_name(name):
    """The registered name of the case called ``name`` (itself when it is no short name).

    Examples
    --------
    >>> full_name("mounds"), full_name("icme")
    ('mars_mounds', 'icme')
    """
    return ALIASES.get(name, name)
