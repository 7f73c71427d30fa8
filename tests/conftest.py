"""Shared test settings: a non-interactive plotting backend and no notebooks collected from test data."""

import matplotlib

matplotlib.use("Agg")

collect_ignore_glob = ["data/*"]
