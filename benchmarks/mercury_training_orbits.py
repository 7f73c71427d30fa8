"""Mercury boundaries case: does the CNN+LSTM gain from more training orbits? VALIDATION ONLY. SIMULATED.

Trains on every third orbit of ``Config``'s training split (40 orbits) and on all of it (120),
both with the same 20 validation orbits for early stopping and post-processing, and reports each
model's validation crossing-centre error, detection rate and macro F1 (the network's own labels).
The choice of 120 training orbits was made on these figures; no test orbit is simulated.
Prints the figures and writes ``benchmarks/results/mercury_training_orbits.json``.

Run: ``.venv/bin/python benchmarks/mercury_training_orbits.py``
"""

import json
import time
from pathlib import Path

from planetml_lib.cases import mercury_boundaries as case
from planetml_lib.datasets import load_catalog
from planetml_lib.models.artifacts import plain_json

RESULTS = Path(__file__).parent / "results" / "mercury_training_orbits.json"


def validation_scores(trained, validation):
    """Crossing-centre error, detection rate and macro F1 of ``trained`` on the validation orbits."""
    table = case.evaluate(trained, validation).set_index(["level", "class", "metric"])["value"]
    return {"centre_error_s_median": table[("crossing", "all", "centre_abs_error_s_median")],
            "detection_rate": table[("crossing", "all", "detection_rate")],
            "macro_f1": table[("sample", "macro", "F1")]}


def main():
    config = case.Config(progress=False)
    splits = case.split_orbits(config)
    crossings = load_catalog("philpott2020")
    validation = case.simulate_prepared(splits["validation"], config, crossings)
    results = {"what": "CNN+LSTM on SIMULATED orbits, scored on the validation orbits",
               "validation_orbits": splits["validation"].tolist()}
    for name, orbits in (("every_third_training_orbit", splits["train"][::3]), ("all_training_orbits",
                                                                                splits["train"])):
        start = time.perf_counter()
        trained = case.fit_model(config, [case.simulate_prepared(orbits, config, crossings)], validation)
        results[name] = {"n_orbits": len(orbits), "train_seconds": time.perf_counter() - start,
                         "epochs_run": len(trained.history), **validation_scores(trained, validation)}
        print(name, json.dumps(plain_json(results[name])), flush=True)
    RESULTS.write_text(json.dumps(plain_json(results), indent=2, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
