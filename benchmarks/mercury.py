"""Mercury boundaries case on SIMULATED MESSENGER orbits: CNN+LSTM skill, the rule baseline,
active learning against random selection, and speed (training per epoch; predicting one orbit of
one-second data).

Simulates complete orbits spread over one Mercury year from ``Config.first_orbit`` (train 120,
validation 20, test 20, dealt out in turn; real orbit times and real Philpott crossing times,
simulated fields), trains the CNN+LSTM, scores regions per sample and crossings by timing on the
test orbits, runs the rule-based bow-shock labeller on the same orbits, scores both again on two sets of thirty
fresh orbits of later Mercury years (see ``fresh_orbits``), and compares learning curves (macro F1 on the test orbits
against labelled orbits) for entropy and random selection. Prints the figures
and writes ``benchmarks/results/mercury.json``. With ``--ship`` it saves the model.

Run: ``.venv/bin/python benchmarks/mercury.py [--fast] [--ship] [--inference-only | --fresh-only]``
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from planetml_lib.cases import mercury_boundaries as case
from planetml_lib.datasets import load_catalog, load_messenger_orbits
from planetml_lib.models.artifacts import plain_json
from planetml_lib.simulate import complete_orbits, simulate_orbits

RESULTS = Path(__file__).parent / "results" / "mercury.json"


def tidy_to_dict(metrics):
    """{level: {class: {metric: value}}} from a tidy metrics table."""
    out = {}
    for row in metrics.to_dict(orient="records"):
        out.setdefault(row["level"], {}).setdefault(row["class"], {})[row["metric"]] = float(row["value"])
    return out


def rule_baseline(config, data):
    """The rule-based labeller (settings chosen on the validation orbits), scored like the network."""
    rules, _ = case.fit_rule_baseline(config, data["validation"])
    scores = case.evaluate_rule_baseline(config, rules, data["test"])
    return scores, {"window_s": rules.window_s, "z_threshold": rules.z_threshold}


def fresh_orbits(config, n, year, spread):
    """``n`` complete orbits of the ``year``-th Mercury year after the splits' year, simulated for
    this check alone: the first ``n`` of it, or ``n`` spread evenly over it (``spread``).

    Two sets. Year 1, first 30 orbits (1264-1296, ten days of one season): the crossing
    post-processing and the spread of the splits over the year were designed after earlier test
    scores had been seen (on validation orbits), and this set then scored that design; its score has
    been seen since. Year 2, 30 orbits spread over it (1528-1791): named before the number of
    training orbits was changed, and no decision has looked at it."""
    crossings = load_catalog("philpott2020")
    orbits = np.sort(complete_orbits(crossings, load_messenger_orbits()))
    first = config.first_orbit + year * config.span_orbits
    orbits = orbits[(orbits >= first) & (orbits < first + config.span_orbits)]
    chosen = orbits[np.linspace(0, len(orbits) - 1, n).round().astype(int)] if spread else orbits[:n]
    return case.simulate_prepared(chosen, config, crossings)


FRESH_SETS = {"fresh_test": dict(year=1, spread=False), "fresh_year2_test": dict(year=2, spread=True)}


def fresh_test(trained, config, data, n=30):
    """Scores of the CNN+LSTM and the rule baseline (tuned on ``data["validation"]``) on each fresh set."""
    results = {}
    for name, where in FRESH_SETS.items():
        fresh = fresh_orbits(config, n, **where)
        rule_scores, _ = rule_baseline(config, {**data, "test": fresh})
        results.update({f"{name}_orbits": sorted({int(k) for k in fresh["orbit"].values}),
                        f"cnnlstm_{name}": tidy_to_dict(case.evaluate(trained, fresh)),
                        f"rule_baseline_{name}": tidy_to_dict(rule_scores.assign(level="crossing"))})
    return results


def inference_one_orbit(trained, config):
    """Seconds to predict one held-out orbit given as one-second data (averaged to the model's cadence
    inside ``predict``), median of three runs after a warm-up."""
    orbit = int(case.split_orbits(config)["test"][0])
    raw = simulate_orbits([orbit], load_catalog("philpott2020"), "1s", config.seed).drop_vars("region")
    case.predict(trained, raw.isel(time=slice(0, 5000)))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        case.predict(trained, raw)
        times.append(time.perf_counter() - start)
    return {"orbit": orbit, "one_second_samples": int(raw.sizes["time"]), "seconds_median": sorted(times)[1],
            "seconds_all": times}


def chosen_postprocessing(metadata):
    """The post-processing chosen on the validation orbits, where it was chosen and its scores there
    (the class weights it also holds come from the training labels, not from that choice)."""
    chosen = {k: v for k, v in metadata.postprocessing.items() if k != "class_weights"}
    return {**chosen, "chosen_on": metadata.postprocessing_chosen_on["what"],
            "validation": metadata.metrics["validation"]}


def update_results(entries):
    """Replace ``entries`` in the saved results, keeping every other figure."""
    results = json.loads(RESULTS.read_text())
    results.update(entries)
    RESULTS.write_text(json.dumps(plain_json(results), indent=2, allow_nan=False) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="tiny settings, to check that the script runs")
    parser.add_argument("--ship", action="store_true", help="also write the shipped model folder")
    parser.add_argument("--inference-only", action="store_true",
                        help="only time the shipped model on one orbit and update that figure in the results")
    parser.add_argument("--fresh-only", action="store_true",
                        help="only score the shipped model on the fresh orbits and update those figures")
    args = parser.parse_args()
    if args.fresh_only:
        config = case.Config(progress=False)
        update_results(fresh_test(case.load_trained(), config, case.load_data(config)))
        return
    if args.inference_only:
        timing = inference_one_orbit(case.load_trained(), case.Config())
        update_results({"inference_one_orbit_shipped_model": timing})
        print(json.dumps(timing, indent=2))
        return
    config = case.Config.fast() if args.fast else case.Config(progress=False)
    start = time.perf_counter()
    data = case.load_data(config)
    simulate_seconds = time.perf_counter() - start
    start = time.perf_counter()
    trained = case.train(config, data)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    metrics = case.evaluate(trained, data["test"])
    evaluate_seconds = time.perf_counter() - start
    results = {
        "what": "SIMULATED MESSENGER orbits (real orbit and crossing times, simulated field); split by orbit",
        "config": "fast" if args.fast else "default",
        "orbits": {name: sorted({int(k) for k in ds["orbit"].values}) for name, ds in data.items()},
        "machine": {"torch_threads": torch.get_num_threads(), "platform": platform.platform(), "device": "cpu"},
        "simulate_and_prepare_seconds": simulate_seconds,
        "train_seconds": train_seconds,
        "epochs_run": int(len(trained.history)),
        "train_seconds_per_epoch": float(trained.history["seconds"].mean()),
        "predict_and_score_test_orbits_seconds": evaluate_seconds,
        "cnnlstm_test": tidy_to_dict(metrics),
    }
    rule_scores, results["rule_baseline_settings_from_validation"] = rule_baseline(config, data)
    results["rule_baseline_test"] = tidy_to_dict(rule_scores.assign(level="crossing"))
    results["postprocessing_chosen_on_validation"] = chosen_postprocessing(trained.metadata)
    results.update(fresh_test(trained, config, data, n=2 if args.fast else 30))
    print(json.dumps(plain_json(results), indent=2), flush=True)
    rounds = dict(initial=2, per_round=2, n_rounds=2, epochs=1) if args.fast else dict(initial=4, per_round=4,
                                                                                       n_rounds=5, epochs=6)
    for strategy in ("entropy", "random"):
        curve = case.active_learning_curve(config, data, strategy=strategy, **rounds)
        results[f"active_learning_{strategy}"] = curve[["n_labelled", "metric"]].to_dict(orient="records")
        print(strategy, curve, flush=True)
    if args.ship:
        trained.save(case.SHIPPED_MODELS["magnetometer"])
    results["inference_one_orbit_shipped_model"] = inference_one_orbit(trained, config)
    if not args.fast:
        RESULTS.write_text(json.dumps(plain_json(results), indent=2, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
