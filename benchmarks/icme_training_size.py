"""ICME case: does skill on another spacecraft grow with the amount of training data?

A diagnostic, not a selection: nothing configured or shipped is chosen from it. ResUNet++ is
trained on the last 4, 8 and 16 months of the STEREO-B training period (the same validation
months stop training and set the threshold), and on all 16 months with two more seeds, to
show the spread from the seed alone. Each run is scored per sample on the validation months
and on STEREO-A 2019: ROC AUC (no threshold) and TSS at the threshold that maximises TSS on
the validation months. Event post-processing is left out: it would need a cross-validation
per run. Prints the figures and writes ``benchmarks/results/icme_training_size.json``.

Run: ``.venv/bin/python benchmarks/icme_training_size.py [--fast]`` (about 12 minutes; STEREO settings:
``icme_stereo_settings.py``)
"""

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from icme_stereo_settings import stereo_config
from sklearn.metrics import roc_auc_score

from planetml_lib.cases import icme
from planetml_lib.cases.series_detection import VALID, catalogue_events
from planetml_lib.cases.solarwind_detection import model_probability
from planetml_lib.evaluate import choose_threshold, evaluate_binary

RESULTS = Path(__file__).parent / "results" / "icme_training_size.json"
RUNS = [(4, 0), (8, 0), (16, 0), (16, 1), (16, 2)]  # (training months before May 2014, seed)


def per_sample(ds, probability, threshold):
    """ROC AUC and TSS at ``threshold`` over the valid samples of ``ds``."""
    valid = ds[VALID].values & np.isfinite(probability.values)
    truth = ds[icme.LABEL].fillna(0).values.astype(bool)
    metrics = evaluate_binary(truth, probability.values > threshold, valid=valid).set_index("metric")["value"]
    return {"AUC": float(roc_auc_score(truth[valid], probability.values[valid])), "TSS": float(metrics["TSS"])}


def run(config, data, months, seed):
    """Train on the last ``months`` of the training period and score on validation and test."""
    end = pd.Timestamp(data["train"]["time"].values[-1]).normalize()
    start = (end + pd.Timedelta(days=1) - pd.DateOffset(months=months)).strftime("%Y-%m-%d")
    config = dataclasses.replace(config, train_period=(start, end.strftime("%Y-%m-%d")), seed=seed)
    subset = dict(data, train=data["train"].sel(time=slice(start, None)))
    model, scaler, history = icme.fit_network(config, subset)
    validation, test = (model_probability(config, model, subset[name], scaler) for name in ("validation", "test"))
    threshold, _ = choose_threshold(subset["validation"][icme.LABEL].fillna(0).values.astype(bool),
                                    validation.values, valid=subset["validation"][VALID].values)
    return {"train_from": start, "months": months, "seed": seed,
            "training_icmes": len(catalogue_events(subset["train"])), "best_epoch": int(history.attrs["best_epoch"]),
            "threshold": threshold, "validation": per_sample(subset["validation"], validation, threshold),
            "test_stereoa_2019": per_sample(subset["test"], test, threshold)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="tiny settings, to check that the script runs")
    args = parser.parse_args()
    torch.set_num_threads(min(torch.get_num_threads(), 2))
    config = stereo_config(fast=args.fast)
    data = icme.load_data(config)
    runs = [(1, 0)] if args.fast else RUNS
    results = {"what": "ResUNet++ skill against the amount of STEREO-B training data (diagnostic; real data)",
               "runs": []}
    for months, seed in runs:
        results["runs"].append(run(config, data, months, seed))
        print(json.dumps(results["runs"][-1]), flush=True)
    if not args.fast:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
