"""Training and inference throughput of every shipped model on CPU and, where present, CUDA.

For each shipped model (its own architecture and options, read from its folder) it times
``planetml_lib.train.fit`` and ``predict_batches`` -- the code the cases run, device choice and
bfloat16 autocast included -- on random inputs of the case's shape:

- training: samples per second over ``--epochs`` epochs of ``--samples`` samples (the first epoch,
  which pays for warm-up, is not counted), at the case's batch size and at a GPU-sized batch;
- inference: samples per second of ``predict_batches`` (batch 256), median of three runs;
- mixed precision: on CUDA, the shipped weights' outputs under bfloat16 autocast against full
  float32 on the same inputs (largest probability difference, share of changed labels).

Losses are stand-ins that match the outputs (cross-entropy for class logits, BCE with logits
otherwise): throughput depends on the network, not on the loss. CPU and CUDA run in the same
process on the same machine, so the ratios compare like with like. Prints the figures and writes
``benchmarks/results/gpu_training.json`` (``--output`` for another path).

Run: ``.venv/bin/python benchmarks/gpu_training.py [--samples N] [--epochs E]``
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from planetml_lib.device import MIXED_PRECISION_VAR, autocast
from planetml_lib.models.artifacts import load_model
from planetml_lib.train.loop import fit, predict_batches, seeded

SHIPPED = Path(__file__).parents[1] / "planetml_lib" / "data" / "models"
RESULTS = Path(__file__).parent / "results" / "gpu_training.json"
GPU_BATCH = 256
# Shipped model folder -> (input shape of one sample, the case's training batch size).
MODELS = {
    "icme_resunetpp1d": ((11, 1024), 16),
    "icme_nguyen2019_heldout": ((11, 1024), 16),
    "mercury_cnnlstm": ((14, 360), 32),
    "mars_mounds_unet_dtm": ((3, 128, 128), 16),
}


def shipped(name, device="cpu"):
    """The shipped model ``name`` (its architecture and trained weights) on ``device``."""
    model, _, _ = load_model(SHIPPED / name, device=device)
    return model


def stand_in_task(model, shape, n, rng):
    """Random inputs of ``shape`` and targets that fit the model's outputs, with a matching loss."""
    X = rng.normal(size=(n, *shape)).astype(np.float32)
    with torch.no_grad():
        out = model(torch.from_numpy(X[:2]))
    n_classes = getattr(model, "n_classes", 1)
    if n_classes > 1 and out.shape[1] == n_classes:
        y = rng.integers(0, n_classes, size=(n, *out.shape[2:]))
        return X, y, nn.CrossEntropyLoss()
    y = (rng.random(size=(n, *out.shape[1:])) < 0.2).astype(np.float32)
    return X, y, nn.BCEWithLogitsLoss()


def training_rate(name, device, batch_size, samples, epochs):
    """Training samples per second on ``device`` (epochs after the first), from the shipped weights."""
    with seeded(0):
        model = shipped(name)
    shape, _ = MODELS[name]
    X, y, loss = stand_in_task(model, shape, samples, np.random.default_rng(0))
    history = fit(model, (X, y), None, loss, epochs=epochs, batch_size=batch_size, patience=None,
                  monitor="train_loss", device=device, progress=False)
    seconds = history["seconds"].iloc[1:].sum()
    return samples * (epochs - 1) / seconds


def inference_rate(name, device, samples):
    """predict_batches samples per second on ``device``, median of three runs after a warm-up."""
    model = shipped(name)
    X = np.random.default_rng(1).normal(size=(samples, *MODELS[name][0])).astype(np.float32)
    predict_batches(model, X[:GPU_BATCH], batch_size=GPU_BATCH, device=device)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        predict_batches(model, X, batch_size=GPU_BATCH, device=device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return samples / float(np.median(times))


def mixed_precision_agreement(name, device, samples=256):
    """Shipped weights under bfloat16 autocast against float32, on the same random inputs."""
    model = shipped(name, device)
    X = torch.from_numpy(np.random.default_rng(2).normal(size=(samples, *MODELS[name][0])).astype(np.float32))
    outputs = {}
    with torch.inference_mode():
        for mixed in (False, True):
            with autocast(device, enabled=mixed):
                logits = torch.cat([model(batch.to(device)).float() for batch in X.split(64)])
            outputs[mixed] = (torch.softmax(logits, 1) if logits.shape[1] > 1 else torch.sigmoid(logits)).cpu()
    full, mixed = outputs[False], outputs[True]
    labels = (full.argmax(1), mixed.argmax(1)) if full.shape[1] > 1 else (full > 0.5, mixed > 0.5)
    return {"max_abs_probability_difference": float((full - mixed).abs().max()),
            "mean_abs_probability_difference": float((full - mixed).abs().mean()),
            "changed_label_fraction": float((labels[0] != labels[1]).float().mean())}


def measure(name, devices, samples, epochs):
    """All figures of one model on every device."""
    _, case_batch = MODELS[name]
    n_parameters = sum(p.numel() for p in shipped(name).parameters())
    row = {"parameters": n_parameters, "case_batch_size": case_batch, "devices": {}}
    for device in devices:
        figures = {f"train_samples_per_s_batch_{case_batch}": training_rate(name, device, case_batch, samples, epochs),
                   f"train_samples_per_s_batch_{GPU_BATCH}": training_rate(name, device, GPU_BATCH, samples, epochs),
                   "predict_samples_per_s": inference_rate(name, device, samples)}
        if device.type == "cuda":
            figures["bf16_autocast_vs_fp32"] = mixed_precision_agreement(name, device)
        row["devices"][device.type] = figures
        print(f"{name:26s} {device.type:4s} " + "  ".join(
            f"{key}={value:.1f}" for key, value in figures.items() if isinstance(value, float)), flush=True)
    if "cuda" in row["devices"]:
        cpu, gpu = row["devices"]["cpu"], row["devices"]["cuda"]
        row["cuda_over_cpu"] = {key: gpu[key] / cpu[key] for key in cpu}
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=512, help="training samples per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="epochs (the first is not counted)")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    results = {
        "what": "training and inference throughput of the shipped models, random inputs of each case's shape",
        "machine": {"platform": platform.platform(), "cpu_threads": torch.get_num_threads(),
                    "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
                    "torch": torch.__version__, "mixed_precision_on_cuda": "bfloat16 autocast"
                    f" (unless {MIXED_PRECISION_VAR}=0)"},
        "samples_per_epoch": args.samples, "epochs_timed": args.epochs - 1, "models": {},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    for name in args.models:  # written after each model, so a stopped run keeps what it measured
        results["models"][name] = measure(name, devices, args.samples, args.epochs)
        args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
