"""User-facing errors.

Every problem with a user's input (a missing file, a wrong column, an empty
selection) raises :class:`PlanetMLError` with a one-line message that names the
file and the problem. The CLI prints that line and exits with code 2; notebooks
show it without a long traceback.
"""


class PlanetMLError(ValueError):
    """A problem with user input or data, explained in one line."""


class DataFormatError(PlanetMLError):
    """A file exists but does not follow the format the reader expects."""
