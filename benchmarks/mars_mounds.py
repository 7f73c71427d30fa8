"""Mars mounds case on SIMULATED scenes: U-Net skill with and without GAN-made tiles, DTM
channels against the image alone, and inference speed and memory on a 4096 x 4096 raster.

Simulates training scenes (cut 80/20 into training and validation tiles by spatial block) and
held-out test scenes (other seeds), then for each input kind (DTM channels, image only) and
seed trains one U-Net on the real tiles and one on real plus GAN-made tiles with the same
budget (draws per epoch and epochs), and scores both on the test scenes (pixel IoU, Dice,
object F1 at IoU >= 0.5). Inference: a 4096 x 4096 simulated DTM written as a GeoTIFF is read
and predicted in a fresh process (peak memory of that process), by the streamed tiling of
``predict`` and, as the baseline, with every tile held in memory at once. Prints the figures
and writes ``benchmarks/results/mars_mounds.json``. With ``--ship`` it saves, for each input
kind, the run with the best validation IoU as the shipped model.

Run: ``.venv/bin/python benchmarks/mars_mounds.py [--fast] [--ship] [--inference-only]``
"""

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from planetml_lib.cases import mars_mounds as case
from planetml_lib.io.geotiff import write_geotiff
from planetml_lib.models.artifacts import plain_json
from planetml_lib.preprocess.images import from_tiles, to_tiles
from planetml_lib.simulate.mars_terrain import simulate_mound_field
from planetml_lib.train.loop import predict_batches

RESULTS = Path(__file__).parent / "results" / "mars_mounds.json"
BIG_SIZE, BIG_PIXEL_M, BIG_MOUNDS = 4096, 5.0, 1000


def all_tiles_at_once(trained, scene):
    """Baseline inference: cut every tile, predict them all, stitch (memory grows with the raster)."""
    config = trained.config
    channels = case.scene_channels(scene, config)
    tiles, positions = to_tiles(channels, config.tile, config.overlap)
    probability = predict_batches(trained.model, case.tile_inputs(tiles), batch_size=64, activation="sigmoid")
    return from_tiles(probability, positions, channels.shape[1:], config.tile, config.overlap)[0]


def inference_child(method, path, model):
    """In a fresh process: read the GeoTIFF, predict, report seconds and the process's peak memory."""
    trained = case.load_trained(model)
    start = time.perf_counter()
    scene = case.read_input(path)
    if method == "streamed":
        probability, mounds = case.predict(trained, scene)
        found = len(mounds)
    else:
        probability, found = all_tiles_at_once(trained, scene), None
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"method": method, "seconds": seconds, "peak_rss_mb": peak_mb, "mounds_found": found,
                      "shape": list(probability.shape)}))


def inference_benchmark(model, fast):
    """Time and peak memory of both inference methods on one big simulated DTM, each in its own process."""
    size = 512 if fast else BIG_SIZE
    scene, _ = simulate_mound_field(size, BIG_PIXEL_M, 40 if fast else BIG_MOUNDS, seed=99)
    with tempfile.TemporaryDirectory() as folder:
        path = write_geotiff(scene["dtm"].expand_dims(band=[1]), Path(folder) / "dtm.tif")
        runs = {}
        for method in ("streamed", "all_tiles"):
            out = subprocess.run([sys.executable, __file__, "--inference-child", method, str(path), str(model)],
                                 capture_output=True, text=True, check=True)
            runs[method] = json.loads(out.stdout.strip().splitlines()[-1])
            print(runs[method], flush=True)
    return {"raster": f"{size} x {size} simulated DTM at {BIG_PIXEL_M:g} m, read from GeoTIFF",
            **runs, "streamed_over_all_tiles_seconds": runs["streamed"]["seconds"] / runs["all_tiles"]["seconds"],
            "streamed_over_all_tiles_peak_rss": runs["streamed"]["peak_rss_mb"] / runs["all_tiles"]["peak_rss_mb"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="tiny settings, to check that the script runs")
    parser.add_argument("--ship", action="store_true", help="also write the shipped model folders")
    parser.add_argument("--inference-only", action="store_true",
                        help="only measure inference with the shipped DTM model and update that figure in the results")
    parser.add_argument("--inference-child", nargs=3, metavar=("METHOD", "GEOTIFF", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inference_child:
        inference_child(*args.inference_child)
        return
    if args.inference_only:
        results = json.loads(RESULTS.read_text())
        results["inference_cpu"] = inference_benchmark(case.SHIPPED_MODELS["dtm"], fast=False)
        RESULTS.write_text(json.dumps(plain_json(results), indent=2, allow_nan=False) + "\n")
        return
    config = case.Config.fast() if args.fast else case.Config(progress=False)
    seeds = (0,) if args.fast else (0, 1, 2)
    start = time.perf_counter()
    data = case.load_data(config)
    tiles = {kind: case.make_tiles(data["train"], replace(config, inputs=kind)) for kind in case.INPUTS}
    prepare_seconds = time.perf_counter() - start
    models = {}
    start = time.perf_counter()
    runs = case.gan_experiment(config, data, seeds=seeds, tiles=tiles, keep=models)
    experiment_seconds = time.perf_counter() - start
    print(runs.to_string(), flush=True)
    summary = case.summarise_experiment(runs)
    print(summary.to_string(), flush=True)
    best = runs.loc[runs.groupby("inputs")["val_IoU"].idxmax()]
    results = {
        "what": "SIMULATED Mars mound scenes (planetml_lib.simulate.mars_terrain); tiles of the training scenes "
                "split 80/20 by spatial block; test scenes are other seeds",
        "config": "fast" if args.fast else "default",
        "scenes": {split: [scene.attrs["name"] for scene in scenes] for split, scenes in data.items()},
        "tiles": {kind: {split: int(len(t[split][1])) for split in ("train", "validation")}
                  for kind, t in tiles.items()},
        "machine": {"torch_threads": torch.get_num_threads(), "platform": platform.platform(), "device": "cpu"},
        "simulate_and_tile_seconds": prepare_seconds,
        "experiment_seconds": experiment_seconds,
        "runs_test": runs.to_dict(orient="records"),
        "summary_test": {f"{kind}, {'with' if gan else 'without'} GAN tiles": {
            f"{metric}_{stat}": summary.loc[(kind, gan), (metric, stat)]
            for metric in ("IoU", "Dice", "object_F1") for stat in ("mean", "std")} for kind, gan in summary.index},
        "shipped_runs_by_validation_IoU": best[["inputs", "gan_tiles", "seed", "val_IoU", "IoU", "object_F1"]]
        .to_dict(orient="records"),
    }
    shipped = {}
    for row in best.itertuples():
        trained = models[(row.inputs, row.gan_tiles, row.seed)]
        shipped[row.inputs] = trained.metadata.to_dict()
        if args.ship:
            trained.save(case.SHIPPED_MODELS[row.inputs])
    with tempfile.TemporaryDirectory() as folder:
        model = case.SHIPPED_MODELS["dtm"] if args.ship else models[tuple(best[best["inputs"] == "dtm"].iloc[0][
            ["inputs", "gan_tiles", "seed"]])].save(Path(folder) / "model")
        results["inference_cpu"] = inference_benchmark(model, args.fast)
    results["shipped_metadata"] = shipped
    print(json.dumps(plain_json(results), indent=2), flush=True)
    if not args.fast:
        RESULTS.write_text(json.dumps(plain_json(results), indent=2, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
