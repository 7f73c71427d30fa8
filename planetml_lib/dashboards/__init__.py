"""Widget builders that the Voila dashboards (``notebooks/<case>/dashboard.ipynb``) assemble."""
