"""Skill of mineral predictions from spectra: presence, modal abundances, chemistry.

Presence (multi-label, one column ``<mineral>_present`` each): exact-match accuracy (every
mineral of a spectrum right), micro- and macro-averaged F1. Abundances and chemistry: RMSE in
percentage points (pp) per target, over the spectra where the truth is known. Returns the
package's tidy metrics frame (``metric``, ``class``, ``value``).
"""

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from planetml_lib.evaluate.classes import to_metrics_frame
from planetml_lib.preprocess.mineralogy import CHEMISTRY, PRESENCE, VOLUMES


def rmse_pp(true: pd.Series, predicted: pd.Series) -> float:
    """Root-mean-square error in percentage points over the rows where ``true`` is known (NaN if none)."""
    known = true.notna().to_numpy()
    if not known.any():
        return float("nan")
    return float(np.sqrt(np.mean((100.0 * (true.to_numpy()[known] - predicted.to_numpy()[known])) ** 2)))


def mineral_scores(true: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """Tidy scores of ``predicted`` against ``true``, both in the columns of
    :func:`~planetml_lib.preprocess.mineralogy.mineral_targets`."""
    true, predicted = true.reset_index(drop=True), predicted.reset_index(drop=True)
    labelled = true[list(PRESENCE)].notna().all(axis=1).to_numpy()
    y_true = true.loc[labelled, list(PRESENCE)].to_numpy(dtype=int)
    y_pred = predicted.loc[labelled, list(PRESENCE)].to_numpy(dtype=int)
    presence = {"exact_match": float((y_true == y_pred).all(axis=1).mean()) if labelled.any() else float("nan"),
                "F1_micro": float(f1_score(y_true, y_pred, average="micro", zero_division=np.nan)),
                "F1_macro": float(f1_score(y_true, y_pred, average="macro", zero_division=np.nan)),
                "n_spectra": float(labelled.sum())}
    frames = [to_metrics_frame(presence, "all")]
    volumes = {name: rmse_pp(true[name], predicted[name]) for name in VOLUMES}
    frames += [to_metrics_frame({"RMSE_pp": value}, name) for name, value in volumes.items()]
    frames.append(to_metrics_frame({"RMSE_pp": float(np.mean(list(volumes.values())))}, "mean_vol"))
    frames += [to_metrics_frame({"RMSE_pp": rmse_pp(true[name], predicted[name]),
                                 "n_known": float(true[name].notna().sum())}, name) for name in CHEMISTRY]
    return pd.concat(frames, ignore_index=True)
