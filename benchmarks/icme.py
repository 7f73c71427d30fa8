"""ICME case: skill of ResUNet++, the Nguyen et al. (2019) CNN and gradient-boosted trees; speed and memory.

All three models see the same hourly inputs and splits by year (``icme.Config``): trained on OMNI
1998-2014, early stopping on 2015-2016, post-processing chosen out of fold over four blocks of
1998-2016; tested on OMNI 2017-2018 (same spacecraft family, next years, also year by year) and
on STEREO-A 2019 and STEREO-B 2013-2014 averaged to 1 h (other spacecraft, never trained on).
Also trains ResUNet++ with per-series normalisation and compares validation loss only (the
decision it informs is taken on validation). Times training per epoch (ResUNet++ over Nguyen),
inference over a year of 10-minute data (averaged to the model's 1 h inside ``predict``) in a
fresh process, and the peak memory of the training process. Prints the figures and writes
``benchmarks/results/icme.json``.

With ``--ship`` it also writes the shipped models: the two held-out models (for the evaluation
notebook and the dashboard) and the final ResUNet++ retrained on all of OMNI 1998-2018 and both
STEREO series with the held-out run's settings. ``--only resunetpp1d`` retrains ResUNet++ alone
(after its settings changed) and keeps the other models' saved figures.

Run: ``.venv/bin/python benchmarks/icme.py [--fast] [--ship] [--only resunetpp1d]``
"""

import argparse
import dataclasses
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

from planetml_lib.cases import icme
from planetml_lib.cases import solarwind_boosting as boosting
from planetml_lib.cases.solarwind_detection import load_series

RESULTS = Path(__file__).parent / "results" / "icme.json"
# The held-out model folders (trained on OMNI 1998-2016 only) that --ship writes, by model name here.
HELDOUT = {"resunetpp1d": icme.HELDOUT_MODELS["ResUNet++"],
           "nguyen2019": icme.HELDOUT_MODELS["Nguyen et al. 2019 (reduced)"]}
SAMPLE_METRICS = ["TSS", "IoU", "Dice", "precision", "recall", "base_rate"]
EVENT_METRICS = ["n_true", "n_pred", "precision", "recall", "F1", "start_error_h_mean", "end_error_h_mean"]
#: The year of 10-minute data that inference is timed on.
INFERENCE_SAMPLE = "stereoa_2019"


def headline(metrics):
    """The reported figures, from a tidy metrics table of ``icme.evaluate``."""
    table = metrics.set_index(["level", "metric"])["value"]
    out = {f"sample_{m}": float(table[("sample", m)]) for m in SAMPLE_METRICS}
    for level in ("event_lenient", "event_strict"):
        out |= {f"{level}_{m}": float(table[(level, m)]) for m in EVENT_METRICS}
    return out


def test_sets(config, data):
    """Every test series by name: the test years, each test year alone, and the other spacecraft."""
    years = range(int(config.test_period[0][:4]), int(config.test_period[1][:4]) + 1) if config.test_period else ()
    per_year = {f"test_{y}": data["test"].sel(time=slice(f"{y}-01-01", f"{y}-12-31")) for y in years}
    return {"test": data["test"], **per_year, **{k: v for k, v in data.items() if k.startswith("test_")}}


def score_all(evaluate, data, config):
    return {name: headline(evaluate(ds)) for name, ds in test_sets(config, data).items() if ds.sizes["time"]}


def inference_figures(folder, sample):
    """Time and peak memory of predicting one year of 10-minute data, measured in a fresh Python process."""
    code = f"""
import json, time
from planetml_lib.cases import icme
from planetml_lib.datasets import load_sample
from planetml_lib.preprocess import regularize
trained = icme.load_trained({str(folder)!r})
ds = regularize(load_sample({sample!r}))
def high_water_mb():  # this process's peak resident memory (VmHWM is reset by exec, ru_maxrss is not)
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024
icme.predict(trained, ds.isel(time=slice(0, 4096)))
before = high_water_mb()
times = []
for _ in range(3):
    start = time.perf_counter(); icme.predict(trained, ds); times.append(time.perf_counter() - start)
after = high_water_mb()
print(json.dumps({{"samples": ds.sizes["time"], "cadence": ds.attrs["cadence"], "seconds_median": sorted(times)[1],
                  "seconds_all": times, "peak_rss_mb": after, "peak_rss_growth_during_inference_mb": after - before}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def train_and_score(config, data):
    start = time.perf_counter()
    trained = icme.train(config, data)
    seconds = time.perf_counter() - start
    return trained, {
        "train_seconds": seconds,
        "scaling": config.scaling,
        "epochs_run": int(len(trained.history)),
        "best_epoch": trained.metadata.training["best_epoch"],
        "train_seconds_per_epoch": float(trained.history["seconds"].mean()),
        "best_val_loss": float(trained.history["val_loss"].min()),
        "postprocessing": trained.metadata.postprocessing,
        "postprocessing_chosen_on": trained.metadata.postprocessing_chosen_on,
        "validation": headline(icme.evaluate(trained, data["validation"])),
        "tests": score_all(lambda ds: icme.evaluate(trained, ds), data, config),
        "test_magnetic_field_only": headline(icme.evaluate(trained, icme.field_only(data["test"]))),
    }


def boosting_scores(config, data):
    start = time.perf_counter()
    detector = boosting.train_boosting(config, data)
    return {"train_seconds": time.perf_counter() - start, "scaling": config.scaling,
            "postprocessing": detector.postprocessing,
            "postprocessing_chosen_on": detector.chosen_on,
            "validation": headline(boosting.evaluate_boosting(detector, data["validation"])),
            "tests": score_all(lambda ds: boosting.evaluate_boosting(detector, ds), data, config)}


def per_series_check(config, data, reference):
    """Validation loss of ResUNet++ with the other scaling than ``config``'s (``training`` or ``per_series``),
    against ``reference``, the loss of ``config``'s own run."""
    other = "per_series" if config.scaling == "training" else "training"
    _, _, history = icme.fit_network(dataclasses.replace(config, scaling=other, crossval_periods=()), data)
    losses = {config.scaling: reference, other: float(history["val_loss"].min())}
    return {"best_val_loss_per_series": losses["per_series"], "best_val_loss_training_scaler": losses["training"],
            "helps_on_validation": losses["per_series"] < losses["training"],
            "decided_on": "validation loss (2015-2016) only"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="tiny settings, to check that the script runs")
    parser.add_argument("--ship", action="store_true", help="also write the shipped model folders")
    parser.add_argument("--only", choices=["resunetpp1d"], help="retrain only this model and update its entries "
                        "in the saved results; the other models keep their saved figures and folders")
    args = parser.parse_args()
    torch.set_num_threads(min(torch.get_num_threads(), 2))
    config = icme.Config.fast() if args.fast else icme.Config(progress=False)
    data = icme.load_data(config)
    results = json.loads(RESULTS.read_text()) if args.only else {}
    results |= {"what": "ICME detection on real data: trained on OMNI 1998-2014 (validation 2015-2016), tested on "
                        "OMNI 2017-2018 and, across spacecraft, on STEREO-A 2019 and STEREO-B 2013-2014 at 1 h",
                "config": "fast" if args.fast else "default",
                "machine": {"torch_threads": torch.get_num_threads(), "platform": platform.platform(),
                            "device": "cpu"}}
    networks = {"resunetpp1d": config, "nguyen2019": config.as_baseline()}
    trained = {}
    for name in [args.only] if args.only else networks:
        trained[name], results[name] = train_and_score(networks[name], data)
        print(name, json.dumps(results[name], indent=2), flush=True)
    if not args.only:
        results["gradient_boosting"] = boosting_scores(config.as_baseline(), data)
        print("gradient_boosting", json.dumps(results["gradient_boosting"], indent=2), flush=True)
        results["per_series_normalisation"] = per_series_check(config, data, results["resunetpp1d"]["best_val_loss"])
        print(json.dumps(results["per_series_normalisation"]), flush=True)
    per_epoch = {name: results[name]["train_seconds_per_epoch"] for name in networks}
    results["train_seconds_per_epoch_ratio_resunetpp1d_over_nguyen2019"] = per_epoch["resunetpp1d"] / per_epoch[
        "nguyen2019"]
    if args.ship:
        for name, model in trained.items():
            model.save(HELDOUT[name])
        every_series = {name: load_series(name, config.freq) for name in (config.train_sample, *config.cross_tests)}
        final = icme.train_final(trained["resunetpp1d"], every_series, results["resunetpp1d"]["tests"])
        final.save(icme.SHIPPED_MODELS["all inputs"])
        for name in trained:
            suffix = "" if name == "resunetpp1d" else f"_{name}"
            results[f"inference_year_10min{suffix}"] = inference_figures(HELDOUT[name], INFERENCE_SAMPLE)
    results["peak_rss_mb_training_process"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    RESULTS.parent.mkdir(exist_ok=True)
    if not args.fast:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
