"""ICME case: skill of ResUNet++ and the Nguyen et al. (2019) baseline, speed and memory.

Trains both models on STEREO-B 2013-2014 (validation May-September 2014) and scores them on
STEREO-A 2019, with all inputs and with the magnetic field only. Times training per epoch and
inference over the test year (about 48,000 samples) on this machine, and measures the peak
memory of inference in a fresh process. Prints the figures and writes
``benchmarks/results/icme.json``.

With ``--ship`` it also writes the shipped models: the two held-out models (for the evaluation
notebook and the dashboard) and the final ResUNet++ retrained on all shipped series with the
held-out run's settings.

Run: ``.venv/bin/python benchmarks/icme.py [--fast] [--ship]``
"""

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

from planetml_lib.cases import icme
from planetml_lib.datasets import load_sample
from planetml_lib.preprocess import regularize

RESULTS = Path(__file__).parent / "results" / "icme.json"
# The held-out model folders (trained on STEREO-B only) that --ship writes, by model name here.
HELDOUT = {"resunetpp1d": icme.HELDOUT_MODELS["ResUNet++"],
           "nguyen2019": icme.HELDOUT_MODELS["Nguyen et al. 2019 (reduced)"]}
SAMPLE_METRICS = ["TSS", "IoU", "Dice", "precision", "recall", "base_rate"]
EVENT_METRICS = ["n_true", "n_pred", "precision", "recall", "F1", "start_error_h_mean", "end_error_h_mean"]


def headline(metrics):
    """The reported figures, from a tidy metrics table of ``icme.evaluate``."""
    table = metrics.set_index(["level", "metric"])["value"]
    out = {f"sample_{m}": float(table[("sample", m)]) for m in SAMPLE_METRICS}
    for level in ("event_lenient", "event_strict"):
        out |= {f"{level}_{m}": float(table[(level, m)]) for m in EVENT_METRICS}
    return out


def inference_figures(folder, sample):
    """Time and peak memory of predicting one year, measured in a fresh Python process."""
    code = f"""
import json, time
from planetml_lib.cases import icme
from planetml_lib.datasets import load_sample
from planetml_lib.preprocess import regularize
trained = icme.load_trained({str(folder)!r})
ds = regularize(load_sample({sample!r}), "10min")
def high_water_mb():  # this process's peak resident memory (VmHWM is reset by exec, ru_maxrss is not)
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024
icme.predict(trained, ds.isel(time=slice(0, 2048)))
before = high_water_mb()
times = []
for _ in range(3):
    start = time.perf_counter(); icme.predict(trained, ds); times.append(time.perf_counter() - start)
after = high_water_mb()
print(json.dumps({{"samples": ds.sizes["time"], "seconds_median": sorted(times)[1], "seconds_all": times,
                  "peak_rss_mb": after, "peak_rss_growth_during_inference_mb": after - before}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def train_and_score(config, data):
    start = time.perf_counter()
    trained = icme.train(config, data)
    seconds = time.perf_counter() - start
    return trained, {
        "train_seconds": seconds,
        "epochs_run": int(len(trained.history)),
        "best_epoch": trained.metadata.training["best_epoch"],
        "train_seconds_per_epoch": float(trained.history["seconds"].mean()),
        "postprocessing": trained.metadata.postprocessing,
        "postprocessing_chosen_on": trained.metadata.postprocessing_chosen_on,
        "test_all_inputs": headline(icme.evaluate(trained, data["test"])),
        "test_magnetic_field_only": headline(icme.evaluate(trained, icme.field_only(data["test"]))),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="tiny settings, to check that the script runs")
    parser.add_argument("--ship", action="store_true", help="also write the shipped model folders")
    args = parser.parse_args()
    torch.set_num_threads(min(torch.get_num_threads(), 2))
    config = icme.Config.fast() if args.fast else icme.Config(progress=False)
    data = icme.load_data(config)
    results = {"what": "ICME detection, trained on STEREO-B 2013-2014, tested on STEREO-A 2019 (real data)",
               "config": "fast" if args.fast else "default",
               "machine": {"torch_threads": torch.get_num_threads(), "platform": platform.platform(),
                           "device": "cpu"}}
    trained = {}
    for name, model_config in (("resunetpp1d", config), ("nguyen2019", config.as_baseline())):
        trained[name], results[name] = train_and_score(model_config, data)
        print(name, json.dumps(results[name], indent=2), flush=True)
    results["base_rates_resunetpp1d"] = icme.base_rate_table(
        trained["resunetpp1d"], {"stereob_validation": data["validation"], "stereoa_2019_test": data["test"]}
    ).to_dict(orient="records")
    tss = {name: results[name]["test_all_inputs"]["sample_TSS"] for name in trained}
    ratio = tss["resunetpp1d"] / tss["nguyen2019"] if tss["nguyen2019"] else float("nan")  # 0 with tiny --fast models
    results["tss_ratio_resunetpp1d_over_nguyen2019"] = ratio
    if args.ship:
        for name, model in trained.items():
            model.save(HELDOUT[name])
        every_series = {name: regularize(load_sample(name), config.freq) for name in (config.train_sample,
                                                                                       config.test_sample)}
        final = icme.train_final(trained["resunetpp1d"], every_series, results["resunetpp1d"]["test_all_inputs"])
        final.save(icme.SHIPPED_MODELS["all inputs"])
        results["inference_year"] = inference_figures(HELDOUT["resunetpp1d"], config.test_sample)
        results["inference_year_nguyen2019"] = inference_figures(HELDOUT["nguyen2019"], config.test_sample)
    results["peak_rss_mb_training_process"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    RESULTS.parent.mkdir(exist_ok=True)
    if not args.fast:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
