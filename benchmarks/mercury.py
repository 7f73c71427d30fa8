"""Mercury boundaries case on REAL MESSENGER orbits: three training regimes compared on validation,
the chosen model and two baselines scored once on the test orbits, active learning, and speed.

The splits are whole calendar months named in ``Config`` before any score (``case.real_splits``):
test, validation and training months spread over 2011-2015, a one-day guard between splits, and the
disturbed-conditions test orbits (boundaries much closer to the planet than usual) held out by a rule
on the Philpott crossing positions. Stages (each adds its figures to ``benchmarks/results/mercury.json``):

* ``real``, ``simulated``, ``pretrained``: trains the CNN+LSTM on real orbits only, on simulated
  orbits only, or on simulated then real orbits (pretraining, then fine-tuning the saved simulated
  model); scores it on the validation orbits; saves both under ``models-local/``. No test orbit is scored.
* ``choose``: compares the three on validation; ships the best by validation crossing F1 (``--ship``).
* ``test``: scores the shipped model once on the test and disturbed-test orbits (per crossing type:
  detection rate, precision, F1, start, end and mid-time errors; regions per sample), the rule-based
  bow-shock labeller and gradient-boosted trees on rolling-window statistics (both tuned on the
  validation orbits) on the same orbits, and times one orbit.
* ``active``: entropy against random selection of real training orbits, three seeds, each model
  scored on the test orbits (as ``04_active_learning.ipynb``; no shipped setting depends on it).

Run: ``.venv/bin/python benchmarks/mercury.py STAGE [--fast] [--ship]``, the regimes in separate processes
(``OMP_NUM_THREADS=1`` each on a busy machine), ``pretrained`` after ``simulated``.
"""

import argparse
import dataclasses
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from planetml_lib.cases import mercury_boundaries as case
from planetml_lib.models.artifacts import plain_json

RESULTS = Path(__file__).parent / "results" / "mercury.json"
MODELS = Path(__file__).parents[1] / "models-local"


def tidy_to_dict(metrics):
    """{level: {class: {metric: value}}} from a tidy metrics table."""
    out = {}
    for row in metrics.to_dict(orient="records"):
        out.setdefault(row["level"], {}).setdefault(row["class"], {})[row["metric"]] = float(row["value"])
    return out


def headline(metrics):
    """Crossing F1, detection rate, precision, median mid-time error and region macro F1 (post-processed)."""
    table = metrics.set_index(["level", "class", "metric"])["value"]
    crossing = {k: float(table[("crossing", "all", k)]) for k in
                ("F1", "detection_rate", "precision", "centre_abs_error_s_median", "start_abs_error_s_median",
                 "end_abs_error_s_median")}
    return {"crossing": crossing, "region_macro_f1": float(table[("sample_postprocessed", "macro", "F1")])}


def update_results(entries):
    """Replace ``entries`` in the saved results, keeping every other figure."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.update(entries)
    RESULTS.write_text(json.dumps(plain_json(results), indent=2, allow_nan=False) + "\n")


def orbits_of(data):
    return {name: sorted({int(k) for k in ds["orbit"].values}) for name, ds in data.items()}


def regime(config, name, fast):
    """Train one regime, save it and its validation scores under ``models-local/`` (for ``choose``).
    "pretrained" fine-tunes the saved "simulated" model when there is one (the same first stage)."""
    config = dataclasses.replace(config, training=name)
    data = case.load_data(config)
    first = MODELS / "mercury_simulated"
    start = time.perf_counter()
    if name == "pretrained" and (first / "config.json").exists():
        trained = case.fine_tune(config, data, case.load_trained(first))
    else:
        trained = case.train(config, data)
    row = {"train_seconds": time.perf_counter() - start, "training": trained.metadata.training,
           "validation": headline(case.evaluate(trained, data["validation"])),
           "postprocessing": {k: v for k, v in trained.metadata.postprocessing.items() if k != "class_weights"},
           "orbits": orbits_of(data)}
    trained.save(MODELS / f"mercury_{name}")
    (MODELS / f"mercury_{name}.json").write_text(json.dumps(plain_json(row), indent=2))
    print(name, json.dumps(plain_json({k: v for k, v in row.items() if k != "orbits"})), flush=True)


def choose(ship, fast):
    """The regime with the best validation crossing F1 (then region macro F1); ships it with ``ship``."""
    rows = {name: json.loads((MODELS / f"mercury_{name}.json").read_text()) for name in case.TRAINING}
    best = max(rows, key=lambda r: (rows[r]["validation"]["crossing"]["F1"], rows[r]["validation"]["region_macro_f1"]))
    print("best by validation:", best, flush=True)
    if ship:
        case.load_trained(MODELS / f"mercury_{best}").save(case.SHIPPED_MODELS["magnetometer"])
    if not fast:  # a new model: the figures of the last one go
        RESULTS.unlink(missing_ok=True)
        orbits = rows[best].pop("orbits")
        update_results({"what": "REAL MESSENGER orbits (10-s, digitised from plots), split by calendar month",
                        "orbits": orbits,
                        "machine": {"torch_threads": torch.get_num_threads(), "platform": platform.platform()},
                        "regimes_on_validation": {k: {f: v for f, v in row.items() if f != "orbits"}
                                                  for k, row in rows.items()},
                        "shipped_regime": best})


def test(config, fast):
    """The shipped model and both baselines, tuned on validation, scored once on the test orbits."""
    trained = case.load_trained()
    config = dataclasses.replace(trained.config, progress=False, training="real", **(
        dict(n_train=3, n_validation=1, n_test=1) if fast else {}))
    data = case.load_data(config)
    rules, _ = case.fit_rule_baseline(config, data["validation"])
    start = time.perf_counter()
    trees = case.fit_tree_baseline(config, data["train"], data["validation"])
    tree_seconds = time.perf_counter() - start
    results = {"baselines_tuned_on_validation": {
        "rules": {"window_s": rules.window_s, "z_threshold": rules.z_threshold},
        "trees": {"fit_seconds": tree_seconds, **{k: v for k, v in trees.postprocessing.items()
                                                   if k != "class_weights"}}}}
    for split in ("test", "test_disturbed"):
        metrics = case.evaluate(trained, data[split])
        results[f"cnnlstm_{split}"] = {"headline": headline(metrics), **tidy_to_dict(metrics)}
        tree_metrics = case.evaluate_tree_baseline(trees, data[split], config)
        results[f"trees_{split}"] = {"headline": headline(tree_metrics), **tidy_to_dict(tree_metrics)}
        results[f"rules_{split}"] = tidy_to_dict(case.evaluate_rule_baseline(config, rules, data[split])
                                                 .assign(level="crossing"))
        print(split, "cnnlstm", json.dumps(plain_json(results[f"cnnlstm_{split}"]["headline"])),
              "trees", json.dumps(plain_json(results[f"trees_{split}"]["headline"])), flush=True)
    results["inference_one_orbit_shipped_model"] = inference_one_orbit(trained, data["test"])
    print(json.dumps(plain_json(results["inference_one_orbit_shipped_model"])))
    if not fast:
        update_results(results)


def inference_one_orbit(trained, test_set):
    """Seconds to predict one real test orbit at 10 s (median of three runs after a warm-up)."""
    orbit = int(test_set["orbit"].values[0])
    raw = case.real_orbit(orbit)
    case.predict(trained, raw)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        case.predict(trained, raw)
        times.append(time.perf_counter() - start)
    return {"orbit": orbit, "samples": int(raw.sizes["time"]), "seconds_median": sorted(times)[1],
            "seconds_all": times}


def active(config, fast):
    """Learning curves of entropy and random selection over seeds (region macro F1 on the test orbits)."""
    config = dataclasses.replace(config, training="real")
    data = case.load_data(config)
    rounds = dict(initial=2, per_round=1, n_rounds=2, epochs=1) if fast else dict(initial=4, per_round=4,
                                                                                  n_rounds=5, epochs=6)
    curves = []
    for seed in (0, 1) if fast else (0, 1, 2):
        for strategy in ("entropy", "random"):
            curve = case.active_learning_curve(dataclasses.replace(config, seed=seed), data, strategy=strategy,
                                               **rounds)
            curves.append(curve[["n_labelled", "metric"]].assign(strategy=strategy, seed=seed))
            print(strategy, seed, curve[["n_labelled", "metric"]].to_dict(orient="records"), flush=True)
    table = pd.concat(curves).groupby(["strategy", "n_labelled"])["metric"].agg(["mean", "std", "count"])
    print(table)
    if not fast:
        update_results({"active_learning": {
            "metric": "region macro F1 (the network's own labels) on the test orbits", "rounds": rounds,
            "curves": table.reset_index().to_dict(orient="records")}})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=(*case.TRAINING, "choose", "test", "active"))
    parser.add_argument("--fast", action="store_true", help="tiny settings, to check that the script runs")
    parser.add_argument("--ship", action="store_true", help="choose: also write the shipped model folder")
    args = parser.parse_args()
    config = case.Config.fast() if args.fast else case.Config(progress=False)
    np.seterr(all="ignore")
    if args.stage in case.TRAINING:
        regime(config, args.stage, args.fast)
    else:
        {"choose": lambda: choose(args.ship, args.fast), "test": lambda: test(config, args.fast),
         "active": lambda: active(config, args.fast)}[args.stage]()


if __name__ == "__main__":
    main()
