"""The book's results page: the headline figures of every benchmark, read from ``benchmarks/results/*.json``
when the book is built, one table per case, beside the original work's and published figures.

``docs/book/results.md`` holds the page's introduction; the tables are appended to it as Sphinx reads it
(``source-read``), so they always show the figures committed with the code. A figure the table names
that its JSON file no longer holds fails the build, naming the file and the keys.
"""

import json
from pathlib import Path

from sphinx.errors import ExtensionError

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
PAGE = "docs/book/results"

#: per case: title, what the data are, the JSON file, rows of (figure, keys into the JSON, format[, source])
#: and reference rows (figure, value, source) from the original work and the literature, as the issues quote them
TABLES = [
    {"title": "ICME detection in solar-wind data", "data": "REAL: OMNI 2017-2018 test years, STEREO-A/B",
     "file": "icme.json",
     "rows": [(f"{model}: event F1 (lenient), {where}", (key, "tests", split, "event_lenient_F1"), "{:.2f}")
              for key, model in (("resunetpp1d", "ResUNet++"), ("nguyen2019", "Nguyen et al. (2019) network"),
                                 ("gradient_boosting", "gradient-boosted trees"))
              for split, where in (("test", "OMNI 2017-2018"), ("test_stereoa_2019", "STEREO-A 2019"))],
     "references": []},
    {"title": "Mercury's bow shock and magnetopause (MESSENGER)", "data": "REAL: 64 test orbits at 10 s",
     "file": "mercury.json",
     "rows": [("CNN+LSTM: crossing F1 within 10 min", ("cnnlstm_test", "headline", "crossing", "F1"), "{:.2f}"),
              ("CNN+LSTM: median mid-time error (s)",
               ("cnnlstm_test", "headline", "crossing", "centre_abs_error_s_median"), "{:.0f}"),
              ("CNN+LSTM: region macro F1", ("cnnlstm_test", "headline", "region_macro_f1"), "{:.2f}"),
              ("gradient-boosted trees: crossing F1", ("trees_test", "headline", "crossing", "F1"), "{:.2f}"),
              ("gradient-boosted trees: region macro F1", ("trees_test", "headline", "region_macro_f1"), "{:.2f}"),
              ("rule-based labeller: bow-shock F1", ("rules_test", "crossing", "all", "F1"), "{:.2f}")],
     "references": [("original CNN+BiLSTM: region macro F1", "0.82", "real 1-s data, Julka et al. (2022)")]},
    {"title": "Earth's bow shock in Cluster data", "data": "SIMULATED passes (first draw of the test set)",
     "file": "cluster_bow_shock.json",
     "rows": [(f"{model}: crossing F1 within 3 min, {family}",
               ("test_SIMULATED_draw1", model, split, "crossing_3min", "F1"), "{:.2f}")
              for model in ("causal CNN (original)", "region classifier")
              for split, family in (("test", "training family"), ("test_heldout_family", "held-out family"))]
     + [(f"original pipeline: {what} within 3 min", ("original_pipeline", key), "{:.2f}",
         "the original's figure on REAL Cluster 1 hours") for key, what in (("precision_3min", "precision"),
                                                                             ("recall_3min", "recall"))],
     "references": []},
    {"title": "Minerals from reflectance spectra", "data": "REAL: RELAB spectra, CV grouped by physical sample",
     "file": "minerals.json",
     "rows": [(f"{name}: {what}", ("grouped_cv", model, "scores", metric, "mean"), fmt)
              for model, name in (("spectranet1d ensemble (minerals.Config)", "CNN ensemble"),
                                  ("pca_forest (original, PCA inside the folds)", "original PCA + forest"))
              for metric, what, fmt in (("RMSE_pp/mean_vol", "abundance RMSE (pp)", "{:.1f}"),
                                        ("exact_match/all", "presence exact match", "{:.2f}"))]
     + [("asteroid classes: accuracy", ("asteroid_taxonomy", "class", "scores", "accuracy/all", "mean"), "{:.2f}"),
        ("asteroid complexes: accuracy", ("asteroid_taxonomy", "complex", "scores", "accuracy/all", "mean"),
         "{:.2f}")],
     "references": [("original: exact match / abundance RMSE", "0.62 / 15 pp", "the original's pipeline re-run "
                     "without leakage"),
                    ("published 1-D CNN: abundance RMSE", "6-10 pp", "Korda et al. (2023)")]},
    {"title": "Mercury surface units (MASCS)", "data": "SIMULATED planets 120-122 and 220-222",
     "file": "mercury_surface.json",
     "rows": [(f"{name}: adjusted Rand index, {family}",
               ("units_simulated_after_choice", "summary", f"{family} / {configuration}", "adjusted_rand_mean"),
               "{:.2f}")
              for name, configuration in (
                  ("original", "original (UMAP on raw spectra, complete linkage, k = 3)"),
                  ("ours", "ours (the defaults: UMAP on raw spectra, k-means, k by stability and silhouette)"))
              for family in ("training", "noisy_low_contrast")],
     "references": []},
    {"title": "Mars mounds", "data": "SIMULATED test scenes of the simulator the models were trained on",
     "file": "mars_mounds.json",
     "rows": [(f"{inputs}, {gan}: {label}", ("summary_test", f"{inputs}, {gan}", metric), "{:.2f}")
              for inputs in ("dtm", "image") for gan in ("without GAN tiles", "with GAN tiles")
              for metric, label in (("IoU_mean", "IoU"), ("object_F1_mean", "object F1"))],
     "references": [("shipped DTM model on a DTM from another generator: object F1 at IoU >= 0.3", "under 0.2",
                     "SIMULATED by another generator; outlines only the summits (issue 17)")]},
]


def figure(document, keys, source):
    """``document[keys[0]][keys[1]]...``; a missing key fails the build, naming the file and the keys."""
    value = document
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise ExtensionError(f"results page: {source} has no {' / '.join(keys)} (stopped at {key!r})")
        value = value[key]
    return value


def table(spec):
    """One case's Markdown table: its benchmark's figures, then the reference figures."""
    document = json.loads((RESULTS / spec["file"]).read_text())
    lines = [f"## {spec['title']}", "", f"Data: {spec['data']}. Source: `benchmarks/results/{spec['file']}`.", "",
             "| Figure | Value | Source |", "| --- | --- | --- |"]
    for label, keys, fmt, *source in spec["rows"]:
        value = fmt.format(figure(document, keys, spec["file"]))
        lines.append(f"| {label} | {value} | {source[0] if source else 'this benchmark'} |")
    lines += [f"| {label} | {value} | {source} |" for label, value, source in spec["references"]]
    return "\n".join(lines) + "\n"


def append_tables(app, docname, source):
    """Append the tables to the results page as Sphinx reads it."""
    if docname == PAGE:
        source[0] += "\n" + "\n".join(table(spec) for spec in TABLES)


def setup(app):
    app.connect("source-read", append_tables)
    return {"parallel_read_safe": True}
