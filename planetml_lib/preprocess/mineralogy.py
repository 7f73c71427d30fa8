"""Mineral targets of laboratory spectra, and the physical samples that group them.

The RELAB compilation gives modal volume fractions of olivine (OL), orthopyroxene (OPX),
clinopyroxene (CPX) and plagioclase (PLG) and their chemistry (fractions 0-1: olivine Fa,
pyroxene Fs and Wo, plagioclase An). A mineral counts as present from
:data:`PRESENT_FROM` of the volume: a few percent of a mineral barely shows in a VNIR spectrum.
Chemistry is known only where the mineral is present; elsewhere the compilation writes 0, which
is no measurement, so it becomes NaN here.
"""

import re

import numpy as np
import pandas as pd
import xarray as xr
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from planetml_lib.errors import PlanetMLError

MINERALS = ("OL", "OPX", "CPX", "PLG")
VOLUMES = tuple(f"{m}_vol" for m in MINERALS)
PRESENCE = tuple(f"{m}_present" for m in MINERALS)
#: Chemistry targets and the mineral each belongs to.
CHEMISTRY = {"OL_Fa": "OL", "OPX_Fs": "OPX", "OPX_Wo": "OPX", "CPX_Fs": "CPX", "CPX_Wo": "CPX", "PLG_An": "PLG"}
#: Volume fraction from which a mineral counts as present.
PRESENT_FROM = 0.05
#: RELAB sample IDs: owner-code-number, then optional suffixes for sub-samples (-A, -P2, ...).
RELAB_BASE_ID = re.compile(r"^([A-Za-z0-9]+-[A-Za-z0-9]+-\d+)")


def mineral_targets(ds: xr.Dataset) -> pd.DataFrame:
    """Volumes (summing to 1), presence and chemistry of each spectrum: one row per sample.

    Spectra whose volumes are unknown or sum to 0 get NaN volumes (no target); chemistry is
    NaN where unknown or where the mineral is absent.
    """
    missing = [name for name in VOLUMES if name not in ds.coords]
    if missing:
        raise PlanetMLError(f"the spectra lack the label column(s) {missing}")
    volumes = pd.DataFrame({name: ds[name].values.astype(float) for name in VOLUMES})
    total = volumes.sum(axis=1, min_count=len(VOLUMES))
    volumes = volumes.div(total.where(total > 0), axis=0)
    targets = volumes.join(presence(volumes))
    for name, mineral in CHEMISTRY.items():
        values = ds[name].values.astype(float) if name in ds.coords else np.full(ds.sizes["sample"], np.nan)
        targets[name] = np.where(volumes[f"{mineral}_vol"].to_numpy() > 0, values, np.nan)
    return targets


def presence(volumes: pd.DataFrame) -> pd.DataFrame:
    """1 where a mineral's volume fraction reaches :data:`PRESENT_FROM`, else 0 (NaN where unknown):
    the :data:`PRESENCE` columns of :data:`VOLUMES` columns."""
    present = (volumes[list(VOLUMES)] >= PRESENT_FROM).astype(float).where(volumes[list(VOLUMES)].notna())
    return present.set_axis(list(PRESENCE), axis=1)


def sample_keys(ds: xr.Dataset) -> list[str]:
    """Each spectrum's physical sample: its RELAB base ID (``MB-CMP-001`` of ``MB-CMP-001-P2``), else its
    ``SampleID``, ``SpectrumID`` or ``SampleName``, else its position (a spectrum of unknown origin)."""
    for name in ("SampleID", "SpectrumID", "SampleName"):
        if name in ds.coords:
            return [(m.group(1) if (m := RELAB_BASE_ID.match(str(v))) else str(v)) for v in ds[name].values]
    return [f"#{i}" for i in range(ds.sizes["sample"])]


def physical_sample_groups(ds: xr.Dataset) -> np.ndarray:
    """A group number per spectrum: spectra of one physical sample share it.

    Two spectra are one sample when their RELAB base IDs (``MB-CMP-001`` of ``MB-CMP-001-P2``)
    or their ``SampleName`` agree; groups are the connected sets of that relation, so no
    sample is ever split between training and test.
    """
    keys = [sample_keys(ds)]
    if "SampleName" in ds.coords:
        keys.append([str(v).strip().lower() for v in ds["SampleName"].values])
    n = ds.sizes["sample"]
    # a graph of spectra and key values, a spectrum linked to each of its keys
    codes = [pd.factorize(np.array(column, dtype=object))[0] for column in keys]
    offsets = np.cumsum([n] + [c.max() + 1 for c in codes])[:-1]
    rows = np.concatenate([np.arange(n)] * len(codes)) if codes else np.array([], int)
    cols = np.concatenate([c + o for c, o in zip(codes, offsets, strict=True)]) if codes else np.array([], int)
    size = int(offsets[-1] + codes[-1].max() + 1) if codes else n
    graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(size, size))
    return pd.factorize(connected_components(graph, directed=False)[1][:n])[0]
