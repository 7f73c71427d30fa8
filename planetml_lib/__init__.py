"""PlanetML: machine-learning pipelines for planetary and space-plasma science."""

__version__ = "0.1.0"
