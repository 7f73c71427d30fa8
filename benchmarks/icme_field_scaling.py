"""ICME case: does training with the field scaled (solar-cycle invariance) cost skill? VALIDATION ONLY.

Trains ResUNet++ on STEREO-B January 2013 - April 2014 without and with ``Config.field_scales``
and scores both on the validation months (May-September 2014) as they are, and with their
magnetic field scaled by 2/3 (plasma beta adjusted), a probe of a weaker solar-minimum field
that needs no test data. The decision to keep the scaling was made on these figures; the test
year (STEREO-A 2019) is not read. Prints the figures and writes
``benchmarks/results/icme_field_scaling.json``. The saved figures date from when ``icme.train``
chose the post-processing on the validation months alone; it now cross-validates over four
STEREO-B periods (validation months included), so a rerun gives somewhat different figures.

Run: ``.venv/bin/python benchmarks/icme_field_scaling.py`` (STEREO settings: ``icme_stereo_settings.py``)
"""

import dataclasses
import json
import time
from pathlib import Path

import torch
from icme_stereo_settings import stereo_config

from planetml_lib.cases import icme
from planetml_lib.preprocess.solarwind import scale_field

RESULTS = Path(__file__).parent / "results" / "icme_field_scaling.json"
PROBE_FACTOR = 2 / 3


def scores(trained, ds):
    """Per-sample TSS, lenient event F1 and event counts of ``trained`` on ``ds``."""
    table = icme.evaluate(trained, ds).set_index(["level", "metric"])["value"]
    return {"sample_TSS": float(table[("sample", "TSS")]), "event_lenient_F1": float(table[("event_lenient", "F1")]),
            "n_pred": int(table[("event_lenient", "n_pred")]), "n_true": int(table[("event_lenient", "n_true")])}


def main():
    torch.set_num_threads(min(torch.get_num_threads(), 2))
    config = stereo_config()
    data = icme.load_data(config)
    splits = {"train": data["train"], "validation": data["validation"]}  # the test year stays unread
    results = {"what": "ResUNet++ with and without field scaling, scored on the STEREO-B validation months",
               "probe_factor": PROBE_FACTOR}
    for name, scales in (("without_field_scaling", (1.0,)), ("with_field_scaling", config.field_scales)):
        start = time.perf_counter()
        trained = icme.train(dataclasses.replace(config, field_scales=scales), splits)
        results[name] = {"field_scales": list(scales), "train_seconds": time.perf_counter() - start,
                         "postprocessing": trained.metadata.postprocessing,
                         "validation": scores(trained, data["validation"]),
                         "validation_field_scaled": scores(trained, scale_field(data["validation"], PROBE_FACTOR))}
        print(name, json.dumps(results[name], indent=2), flush=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
