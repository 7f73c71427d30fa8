"""Figures of reflectance spectra and of what is read from them: end-members, abundances, continua and
band centres, predicted minerals with their uncertainty, asteroid classes and their confusion matrix.

Every function returns a :class:`matplotlib.figure.Figure` made without pyplot (a notebook shows it
as the cell's value; a dashboard turns it into an image) and never calls ``show()``.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from planetml_lib.preprocess.bands import (
    BAND_I_NM,
    BAND_II_NM,
    CENTRE_HALF_WIDTH_NM,
    band_parameters,
    continuum_removed,
    spectral_angle,
    upper_hull,
)
from planetml_lib.preprocess.mineralogy import CHEMISTRY, MINERALS, PRESENT_FROM, VOLUMES, mineral_targets, sample_keys

MINERAL_NAMES = {"OL": "olivine", "OPX": "orthopyroxene", "CPX": "clinopyroxene", "PLG": "plagioclase"}
MINERAL_COLOURS = {"OL": "#4d9221", "OPX": "#d95f02", "CPX": "#1f78b4", "PLG": "#7f7f7f", "mixture": "#c7c7c7"}


def _labels(ds, label):
    """One legend label per spectrum: the coordinate ``label`` if ``ds`` has it, else the position."""
    if label in ds.coords:
        return [str(value) for value in ds[label].values]
    return [f"spectrum {i}" for i in range(ds.sizes["sample"])]


def end_members(ds, n=1, pure=0.9):
    """The ``n`` most typical spectra of each nearly pure mineral, for figures: among the spectra of
    which the mineral makes at least ``pure`` of the volume, those at the smallest spectral angle to
    their mean spectrum, one per physical sample. Concatenated along ``sample`` with an
    ``end_member`` label (``"OL 98%"``); a mineral without such a spectrum has none."""
    targets = mineral_targets(ds)
    keys = np.array(sample_keys(ds))
    picked, labels = [], []
    for mineral, volume in zip(MINERALS, VOLUMES, strict=True):
        candidates = np.flatnonzero((targets[volume] >= pure).to_numpy())
        if not candidates.size:
            continue
        values = ds["reflectance"].values[candidates]
        angles = spectral_angle(values, values.mean(axis=0, keepdims=True))[:, 0]
        ordered = candidates[np.argsort(angles, kind="stable")]
        ordered = ordered[~pd.Series(keys[ordered]).duplicated().to_numpy()][:n]
        picked += ordered.tolist()
        labels += [f"{mineral} {fraction:.0%}" for fraction in targets[volume].to_numpy()[ordered]]
    return ds.isel(sample=picked).assign_coords(end_member=("sample", labels))


def plot_spectra(ds, label="SpectrumID", title=None):
    """Reflectance of every spectrum of ``ds`` against wavelength, one line each, labelled by ``label``."""
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    wavelength = ds["wavelength"].values
    for name, values in zip(_labels(ds, label), ds["reflectance"].values, strict=True):
        ax.plot(wavelength, values, lw=1, label=name)
    ax.set(xlabel="wavelength [nm]", ylabel="reflectance" + _normalised(ds), title=title)
    if ds.sizes["sample"] <= 12:
        ax.legend(fontsize="small")
    return fig


def _normalised(ds):
    at = ds.attrs.get("normalised_at_nm")
    return f" (normalised at {at:g} nm)" if at else ""


def plot_end_members(ds, n=3, pure=0.9):
    """One panel per mineral: ``n`` typical spectra of it (:func:`end_members`), labelled by sample name."""
    members = end_members(ds, n=n, pure=pure)
    fig = Figure(figsize=(12, 6), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).ravel()
    wavelength = ds["wavelength"].values
    for ax, mineral in zip(axes, MINERALS, strict=True):
        chosen = [i for i, label in enumerate(members["end_member"].values) if label.split()[0] == mineral]
        for i in chosen:
            name = str(members["SampleName"].values[i])[:40] if "SampleName" in members.coords else ""
            ax.plot(wavelength, members["reflectance"].values[i], lw=1,
                    label=f"{members['end_member'].values[i]}: {name}")
        ax.set_title(f"{MINERAL_NAMES[mineral]} (≥ {pure:.0%} of the volume)" if chosen
                     else f"{MINERAL_NAMES[mineral]}: no spectrum ≥ {pure:.0%}")
        ax.set_ylabel("reflectance" + _normalised(ds))
        if chosen:
            ax.legend(fontsize="x-small")
    for ax in axes[2:]:
        ax.set_xlabel("wavelength [nm]")
    return fig


def plot_abundances(volumes):
    """Histograms of the volume fractions (a frame with ``OL_vol`` ... ``PLG_vol``) and of the number
    of minerals present (at least :data:`~planetml_lib.preprocess.mineralogy.PRESENT_FROM` of the volume)."""
    fig = Figure(figsize=(13, 3.2), layout="constrained")
    axes = fig.subplots(1, len(VOLUMES) + 1)
    bins = np.linspace(0, 1, 21)
    for ax, mineral, volume in zip(axes[:-1], MINERALS, VOLUMES, strict=True):
        ax.hist(volumes[volume].dropna(), bins=bins, color=MINERAL_COLOURS[mineral])
        ax.set(xlabel=f"{volume} (fraction)", title=MINERAL_NAMES[mineral])
    axes[0].set_ylabel("spectra")
    present = (volumes[list(VOLUMES)] >= PRESENT_FROM).sum(axis=1)[volumes[list(VOLUMES)].notna().all(axis=1)]
    counts = present.value_counts().reindex(range(len(VOLUMES) + 1), fill_value=0)
    axes[-1].bar(counts.index, counts.values, color="0.4")
    axes[-1].set(xlabel=f"minerals present (≥ {PRESENT_FROM:.0%})", title="minerals per spectrum")
    return fig


def has_band_II(params, min_depth=0.03):
    """Which rows of :func:`~planetml_lib.preprocess.bands.band_parameters`' frame have a band II: at
    least ``min_depth`` deep, its minimum not at an edge of the window it is sought in (where the
    wing of band I, as in olivine, or noise would put it)."""
    centre = params["band_II_centre_nm"]
    return ((params["band_II_depth"] >= min_depth) & (centre > BAND_II_NM[0] + CENTRE_HALF_WIDTH_NM)
            & (centre < BAND_II_NM[1] - CENTRE_HALF_WIDTH_NM)).to_numpy()


def plot_continuum(ds, label="end_member", title=None):
    """Each spectrum with its convex-hull continuum (top) and continuum-removed, with the band I and
    band II centres marked (bottom; band II only where :func:`has_band_II`); the windows where the
    bands are sought are shaded."""
    removed = continuum_removed(ds).values
    params = band_parameters(ds)
    band_II = has_band_II(params)
    wavelength = ds["wavelength"].values
    fig = Figure(figsize=(11, 5.6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for i, name in enumerate(_labels(ds, label)):
        values = ds["reflectance"].values[i]
        line, = top.plot(wavelength, values, lw=1, label=name)
        top.plot(wavelength, upper_hull(wavelength, values), lw=0.8, ls="--", color=line.get_color())
        bottom.plot(wavelength, removed[i], lw=1, color=line.get_color())
        for band in ("I", "II") if band_II[i] else ("I",):
            centre, depth = params[f"band_{band}_centre_nm"].iloc[i], params[f"band_{band}_depth"].iloc[i]
            bottom.plot([centre], [1 - depth], marker="v" if band == "I" else "s", color=line.get_color(), ms=6)
    for window, name in ((BAND_I_NM, "band I"), (BAND_II_NM, "band II")):
        bottom.axvspan(*window, color="0.9", zorder=0)
        bottom.text(window[0] + 10, 0.02, name, ha="left", va="bottom", fontsize="small",
                    transform=bottom.get_xaxis_transform())
    top.set(ylabel="reflectance" + _normalised(ds), title=title or "spectra (solid) and their continua (dashed)")
    bottom.set(xlabel="wavelength [nm]", ylabel="continuum-removed",
               title="continuum removed; ▼ band I centre, ■ band II centre")
    top.legend(fontsize="small")
    return fig


def mineralogy(volumes, pure=0.8):
    """The label of each row of ``volumes`` (a frame with ``OL_vol`` ... ``PLG_vol``) in the figures: its
    dominant mineral (``"OL"``, ...) where it makes at least ``pure`` of the volume, else ``"mixture"``."""
    values = volumes[list(VOLUMES)]
    dominant = values.fillna(-1.0).idxmax(axis=1).str.replace("_vol", "")
    return dominant.where(values.max(axis=1) >= pure, "mixture")


def plot_band_centres(params, volumes, pure=0.8, min_band_II_depth=0.03, title=None):
    """The classic band-parameter plots, coloured by mineralogy: band I against band II centre (left;
    Adams 1974, Cloutis & Gaffey 1991) and band I centre against the band area ratio (right; Cloutis
    et al. 1986, Gaffey et al. 1993).

    ``params`` is :func:`~planetml_lib.preprocess.bands.band_parameters`' frame, ``volumes`` a frame
    with ``OL_vol`` ... ``PLG_vol`` in the same row order (true or predicted): a spectrum is coloured
    by its dominant mineral where it makes at least ``pure`` of the volume, grey otherwise. The left
    panel leaves out spectra without a band II (:func:`has_band_II` with ``min_band_II_depth``).
    """
    kinds = mineralogy(volumes.reset_index(drop=True), pure).to_numpy()
    params = params.reset_index(drop=True)
    fig = Figure(figsize=(12, 4.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    with_band_II = has_band_II(params, min_band_II_depth)
    for kind in ("mixture", *MINERALS):
        chosen = kinds == kind
        if not chosen.any():
            continue
        style = dict(color=MINERAL_COLOURS[kind], s=14 if kind == "mixture" else 22, alpha=0.8,
                     label=f"mixture, none ≥ {pure:.0%} ({chosen.sum()})" if kind == "mixture"
                     else f"{MINERAL_NAMES[kind]} ≥ {pure:.0%} ({chosen.sum()})")
        both = chosen & with_band_II
        left.scatter(params["band_I_centre_nm"][both], params["band_II_centre_nm"][both], **style)
        right.scatter(params["band_I_centre_nm"][chosen], params["band_area_ratio"][chosen], **style)
    left.set(xlabel="band I centre [nm]", ylabel="band II centre [nm]",
             title=f"band centres ({int(with_band_II.sum())} spectra with a band II)")
    right.set(xlabel="band I centre [nm]", ylabel="band area ratio (II / I)", title="band I centre and BAR")
    right.legend(fontsize="small", title="mineralogy")
    if title:
        fig.suptitle(title)
    return fig


def plot_mineral_prediction(row, truth=None, threshold=0.5, title=None):
    """One spectrum's predicted minerals: volume fractions, presence probabilities and chemistry, the
    bars of the fractions and chemistry ± the ensemble's spread (``<name>_std``).

    ``row`` is one row (a Series) of ``minerals.predict``'s table; ``truth`` an optional row of
    :func:`~planetml_lib.preprocess.mineralogy.mineral_targets`, drawn as black diamonds.
    """
    fig = Figure(figsize=(12, 3.4), layout="constrained")
    volumes, presence, chemistry = fig.subplots(1, 3, gridspec_kw={"width_ratios": [4, 4, 6]})
    x = np.arange(len(MINERALS))
    colours = [MINERAL_COLOURS[m] for m in MINERALS]
    volumes.bar(x, [row[v] for v in VOLUMES], yerr=[row[f"{v}_std"] for v in VOLUMES], color=colours, capsize=4)
    presence.bar(x, [row[f"{m}_p"] for m in MINERALS], color=colours)
    presence.axhline(threshold, color="k", lw=0.8, ls="--")
    names = list(CHEMISTRY)
    y = np.arange(len(names))
    chemistry.bar(y, [row[c] for c in names], yerr=[row[f"{c}_std"] for c in names],
                  color=[MINERAL_COLOURS[CHEMISTRY[c]] for c in names], capsize=4)
    if truth is not None:
        volumes.scatter(x, [truth[v] for v in VOLUMES], marker="D", color="k", zorder=3, label="true")
        chemistry.scatter(y, [truth[c] for c in names], marker="D", color="k", zorder=3, label="true")
        volumes.legend(fontsize="small")
    volumes.set(xticks=x, xticklabels=MINERALS, ylim=(0, 1.05), ylabel="volume fraction",
                title="modal abundance ± spread")
    presence.set(xticks=x, xticklabels=MINERALS, ylim=(0, 1.05), ylabel="probability",
                 title=f"presence (threshold {threshold:g})")
    chemistry.set(xticks=y, ylim=(0, 1.05), ylabel="fraction", title="chemistry ± spread (if present)")
    chemistry.set_xticklabels(names, fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def plot_class_spectra(ds, by="taxonomy", columns=5, title=None):
    """One small panel per class of the coordinate ``by``: the mean spectrum with its 16-84 % range,
    titled with the class and its number of spectra; the mean of all spectra in grey for reference."""
    names = sorted(set(ds[by].values.astype(str)))
    wavelength = ds["wavelength"].values
    rows = -(-len(names) // columns)
    fig = Figure(figsize=(2.6 * columns, 2.1 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    overall = np.nanmean(ds["reflectance"].values, axis=0)
    for ax, name in zip(axes, names, strict=False):
        values = ds["reflectance"].values[ds[by].values.astype(str) == name]
        ax.plot(wavelength, overall, color="0.6", lw=0.8)
        ax.fill_between(wavelength, np.nanpercentile(values, 16, axis=0), np.nanpercentile(values, 84, axis=0),
                        color="tab:blue", alpha=0.25, lw=0)
        ax.plot(wavelength, np.nanmean(values, axis=0), color="tab:blue", lw=1.2)
        ax.set_title(f"{name} ({len(values)})", fontsize="medium")
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.supxlabel("wavelength [nm]")
    fig.supylabel("reflectance" + _normalised(ds))
    if title:
        fig.suptitle(title)
    return fig


def plot_taxonomy_confusion(predictions, title=None):
    """Confusion matrix of out-of-fold class predictions (a frame with ``true`` and ``predicted``):
    colour the fraction of each true class, text the count."""
    classes = sorted(set(predictions["true"]) | set(predictions["predicted"]))
    counts = pd.crosstab(predictions["true"], predictions["predicted"]).reindex(index=classes, columns=classes,
                                                                                fill_value=0)
    fractions = counts.to_numpy() / np.maximum(counts.to_numpy().sum(axis=1, keepdims=True), 1)
    size = 2.5 + 0.42 * len(classes)
    fig = Figure(figsize=(size + 1, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    for (row, col), count in np.ndenumerate(counts.to_numpy()):
        if count:
            ax.text(col, row, str(count), ha="center", va="center", fontsize="small",
                    color="white" if fractions[row, col] > 0.5 else "black")
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, classes, rotation=90)
    ax.set_yticks(ticks, classes)
    ax.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix (out of fold)")
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of the true class")
    return fig


def plot_mineral_estimates(rows, groups, title=None):
    """Box plots of predicted volume fractions (``rows``: ``minerals.predict``'s table) per group
    (``groups``: one label per row, e.g. the taxonomic class), one panel per mineral."""
    groups = np.asarray(groups).astype(str)
    names = sorted(set(groups))
    fig = Figure(figsize=(13, 3.6), layout="constrained")
    axes = fig.subplots(1, len(VOLUMES), sharey=True)
    for ax, mineral, volume in zip(axes, MINERALS, VOLUMES, strict=True):
        values = [rows[volume].to_numpy()[groups == name] for name in names]
        parts = ax.boxplot(values, patch_artist=True, widths=0.6, medianprops={"color": "k"})
        for box in parts["boxes"]:
            box.set(facecolor=MINERAL_COLOURS[mineral], alpha=0.6)
        ax.set_xticks(np.arange(1, len(names) + 1), [f"{n}\n({len(v)})" for n, v in zip(names, values, strict=True)],
                      fontsize="small")
        ax.set(title=f"{MINERAL_NAMES[mineral]} (predicted)", ylim=(-0.02, 1.02))
    axes[0].set_ylabel("volume fraction")
    if title:
        fig.suptitle(title)
    return fig

