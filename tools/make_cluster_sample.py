"""Write the shipped Cluster sample: one SIMULATED 12-hour pass of Cluster 1 as Cluster Science Archive
CEF-2.0 files (planetml_lib/data/cluster/simulated_csa_c1_2004-02-10/).

Run from the repository root: ``python tools/make_cluster_sample.py``. The pass is the case's
``EXAMPLE_PASS`` (2004-02-10, seed 11): a test year, a seed no split of the shipped model draws. The
FGM spin-resolution and CIS-HIA onboard-moment files are gzipped (``.cef.gz``); their ``.ceh``
headers stay plain, as the archive delivers them.
"""

import gzip
import shutil

from planetml_lib.cases.cluster_bow_shock import example_input
from planetml_lib.datasets import DATA_DIR

FOLDER = DATA_DIR / "cluster" / "simulated_csa_c1_2004-02-10"


def main():
    """Write the four files; print their paths."""
    shutil.rmtree(FOLDER, ignore_errors=True)
    for path in example_input(FOLDER):
        if path.suffix == ".cef":
            with path.open("rb") as plain, gzip.open(path.with_name(path.name + ".gz"), "wb", compresslevel=9) as out:
                shutil.copyfileobj(plain, out)
            path.unlink()
    for path in sorted(FOLDER.iterdir()):
        print(path, path.stat().st_size)


if __name__ == "__main__":
    main()
