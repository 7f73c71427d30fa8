"""Skill and speed of the tutorial case, against a per-sample baseline in the same run.

Trains the ``solarwind_tutorial`` 1-D CNN on STEREO-B 2013-2014 (validation: April-September
2014) and tests it on STEREO-A 2019. The baseline is the getting-started notebook's per-sample
gradient-boosting classifier with 6-hour rolling features, trained on the same training split,
its threshold chosen on the same validation split. Prints the figures and writes
``benchmarks/results/solarwind_tutorial.json``.

Run: ``.venv/bin/python benchmarks/solarwind_tutorial.py [--fast]``
"""

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import HistGradientBoostingClassifier

from planetml_lib import evaluate, preprocess
from planetml_lib.cases import solarwind_tutorial as case
from planetml_lib.cases.series_detection import catalogue_events

RESULTS = Path(__file__).parent / "results" / "solarwind_tutorial.json"
HEADLINE = ["TSS", "IoU", "precision", "recall"]
EVENT_HEADLINE = ["n_pred", "n_true", "F1", "precision", "recall", "start_error_h_mae", "end_error_h_mae"]


def headline(metrics):
    """The figures worth a line in a report, from a case's tidy metrics table."""
    table = metrics.set_index(["level", "metric"])["value"]
    out = {f"sample_{m}": float(table[("sample", m)]) for m in HEADLINE}
    for level in ("event_lenient", "event_strict"):
        out |= {f"{level}_{m}": float(table[(level, m)]) for m in EVENT_HEADLINE}
    return out


def baseline_metrics(config, data, postprocessing):
    """Per-sample gradient boosting with rolling features, scored like the case.

    Its events are formed with the case model's minimum duration and merging gap (``postprocessing``,
    from the trained model's metadata); its threshold is its own, chosen on the validation split.
    """
    scaler = preprocess.DatasetScaler(variables=list(config.variables), method="robust").fit(data["train"])
    tables, labels = {}, {}
    for name, ds in data.items():
        features = preprocess.add_rolling_features(scaler.transform(ds), ["bt", "bz", "vt", "tp", "beta"], "6h")
        columns = [v for v in features.data_vars if v not in ("icme_label", "valid")]
        tables[name] = features[columns].to_dataframe()
        labels[name] = ds["icme_label"].fillna(0).values.astype(bool)
    model = HistGradientBoostingClassifier(max_iter=300, class_weight="balanced", random_state=0)
    model.fit(tables["train"], labels["train"])
    threshold, _ = evaluate.choose_threshold(labels["validation"], model.predict_proba(tables["validation"])[:, 1],
                                             valid=data["validation"]["valid"].values, metric="IoU")
    test = data["test"]
    predicted = model.predict_proba(tables["test"])[:, 1] > threshold
    events = preprocess.mask_to_events(predicted, test.time.values, label="ICME", valid=test["valid"].values,
                                       min_duration=pd.Timedelta(hours=postprocessing["min_duration_h"]),
                                       max_gap=pd.Timedelta(hours=postprocessing["max_gap_h"]))
    true_events = catalogue_events(test)
    sample_scores = evaluate.evaluate_binary(labels["test"], predicted, valid=test["valid"].values)
    tables_out = [sample_scores.assign(level="sample")]
    for method in ("lenient", "strict"):
        tables_out.append(evaluate.evaluate_events(events, true_events, method=method).assign(level=f"event_{method}"))
    return pd.concat(tables_out, ignore_index=True), threshold


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="tiny settings, to check the script runs")
    args = parser.parse_args()
    config = case.Config.fast() if args.fast else case.Config(progress=False)
    data = case.load_data(config)
    trained, train_seconds = timed(case.train, config, data)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (_, _), predict_seconds = timed(case.predict, trained, data["test"])
    cnn, _ = timed(case.evaluate, trained, data["test"])
    baseline, threshold = baseline_metrics(config, data, trained.metadata.postprocessing)
    results = {
        "what": "tutorial case: convnet1d trained on STEREO-B 2013-2014, tested on STEREO-A 2019 (real data)",
        "config": "fast" if args.fast else "default",
        "machine": {"cpu_threads": torch.get_num_threads(), "platform": platform.platform()},
        "convnet1d": headline(cnn),
        "baseline_gradient_boosting": headline(baseline) | {"threshold_from_validation": threshold},
        "train_seconds": train_seconds,
        "epochs_run": int(len(trained.history)),
        "train_seconds_per_epoch": train_seconds / len(trained.history),
        "predict_seconds_test_year": predict_seconds,
        "test_samples": int(data["test"].sizes["time"]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_growth_during_predict_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024,
    }
    tss = results["convnet1d"]["sample_TSS"], results["baseline_gradient_boosting"]["sample_TSS"]
    results["tss_ratio_cnn_over_baseline"] = tss[0] / tss[1]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
