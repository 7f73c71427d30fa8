"""Pool-based active learning over groups of samples (orbits).

Labelling MESSENGER data means marking crossings orbit by orbit, so the unit
that an expert labels is a whole orbit. Active learning trains on the
labelled orbits, scores every unlabelled orbit by how unsure the model is
about it (mean predictive entropy of its per-sample class probabilities) and
asks for the most uncertain ones next (Julka et al. 2022, "Deep active
learning for detection of Mercury's bow shock and magnetopause crossings").
Random selection is the baseline it must beat.

The loop knows nothing about models: it calls functions that the science
case supplies, so it runs as well with a scikit-learn classifier as with a
network trained by :func:`~planetml_lib.train.loop.fit`.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import entr

from planetml_lib.errors import PlanetMLError

STRATEGIES = ("entropy", "random")


def predictive_entropy(probabilities, axis=-1):
    """Shannon entropy of class probabilities, in nats (natural log).

    Parameters
    ----------
    probabilities : array-like of float
        Softmax outputs, summing to 1 along ``axis``; e.g. ``(n_steps,
        n_classes)`` from :func:`~planetml_lib.preprocess.windows.from_windows`
        or ``(n_windows, n_classes, n_steps)`` from
        ``predict_batches(..., activation="softmax")`` with ``axis=1``.
    axis : int, default -1
        Class axis.

    Returns
    -------
    np.ndarray of float
        ``-sum(p * log p)`` over ``axis`` (``0 log 0 = 0``): 0 for a certain
        prediction, ``log(n_classes)`` for a uniform one (1.609 for 5
        regions); NaN where any probability is NaN (not predicted).

    Examples
    --------
    >>> predictive_entropy([[1.0, 0.0], [0.5, 0.5]]).round(4).tolist()
    [0.0, 0.6931]
    """
    p = np.asarray(probabilities, dtype=float)
    if np.nanmin(p, initial=0.0) < 0 or np.nanmax(p, initial=0.0) > 1:
        raise PlanetMLError("predictive_entropy: probabilities must lie in [0, 1] (apply softmax first)")
    return entr(p).sum(axis=axis)


def orbit_entropy(prob_by_orbit, axis=-1):
    """Mean predictive entropy of each orbit, the uncertainty score used for selection.

    Parameters
    ----------
    prob_by_orbit : mapping
        Orbit id -> class probabilities of that orbit's samples (see
        :func:`predictive_entropy`); NaN samples are skipped.
    axis : int, default -1
        Class axis of every array.

    Returns
    -------
    pd.Series
        Mean entropy (nats) indexed by orbit id, in the mapping's order,
        named ``"entropy"``.

    Examples
    --------
    >>> orbit_entropy({7: [[1.0, 0.0]], 8: [[0.5, 0.5], [1.0, 0.0]]}).round(4).to_dict()
    {7: 0.0, 8: 0.3466}
    """
    if not isinstance(prob_by_orbit, Mapping):
        raise PlanetMLError("orbit_entropy: expected a mapping orbit -> probabilities")
    scores = {orbit: pd.Series(np.ravel(predictive_entropy(p, axis))).mean()  # skips NaN, all-NaN -> NaN
              for orbit, p in prob_by_orbit.items()}
    return pd.Series(scores, name="entropy", dtype=float)


def select_orbits(scores, n, strategy="entropy", random_state=None):
    """Pick ``n`` orbits to label next.

    Parameters
    ----------
    scores : pd.Series
        Uncertainty per candidate orbit (index = orbit id), e.g. from
        :func:`orbit_entropy`. With ``strategy="random"`` only the index is used.
    n : int
        Number of orbits wanted; fewer are returned when fewer are left.
    strategy : {"entropy", "random"}, default "entropy"
        ``"entropy"``: the highest scores (ties keep the index order; NaN
        scores come last). ``"random"``: a uniform draw without replacement.
    random_state : None, int or numpy.random.Generator
        Seed of the random draw.

    Returns
    -------
    list
        Selected orbit ids, most uncertain first for ``"entropy"``.

    Examples
    --------
    >>> select_orbits(pd.Series({1: 0.2, 2: 0.9, 3: 0.5}), n=2)
    [2, 3]
    """
    if strategy not in STRATEGIES:
        raise PlanetMLError(f"select_orbits: unknown strategy {strategy!r}; choose from {STRATEGIES}")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise PlanetMLError(f"select_orbits: n must be a non-negative integer, got {n!r}")
    if strategy == "random":
        picked = np.random.default_rng(random_state).permutation(len(scores))[:n]
        return scores.index[np.sort(picked)].tolist()
    return scores.sort_values(ascending=False, kind="stable", na_position="last").index[:n].tolist()


def _initial_orbits(pool, initial, rng):
    """Starting labelled set: the given orbits, or ``initial`` orbits drawn from the pool."""
    if isinstance(initial, (int, np.integer)):
        if not 0 < initial <= len(pool):
            raise PlanetMLError(f"active learning: initial={initial} must be in 1..{len(pool)} (the pool size)")
        return [pool[i] for i in np.sort(rng.permutation(len(pool))[:initial])]
    labelled = list(dict.fromkeys(initial))
    unknown = [orbit for orbit in labelled if orbit not in pool]
    if not labelled or unknown:
        raise PlanetMLError(f"active learning: initial orbits must be a non-empty subset of the pool; "
                            f"not in the pool: {unknown[:5]}")
    return labelled


def _next_orbits(model, predict_proba_fn, candidates, per_round, strategy, rng):
    """The ``per_round`` candidates to label next under ``strategy``."""
    if strategy == "random":
        return select_orbits(pd.Series(np.nan, index=candidates), per_round, "random", rng)
    scores = orbit_entropy(predict_proba_fn(model, list(candidates)))
    missing = [orbit for orbit in candidates if orbit not in scores.index]
    if missing:
        raise PlanetMLError(f"active learning: predict_proba_fn returned no probabilities for orbits {missing[:5]}")
    return select_orbits(scores[candidates], per_round, "entropy")


def run_active_learning(fit_fn, predict_proba_fn, score_fn, pool, initial, per_round, n_rounds,
                        strategy="entropy", random_state=None):
    """Grow a labelled set of orbits round by round and record the model's skill.

    Round ``r`` trains on the labelled orbits, scores the model, then adds
    ``per_round`` orbits of the pool chosen by ``strategy``; the last round
    (or the one that has labelled the whole pool) only trains and scores.

    Parameters
    ----------
    fit_fn : callable
        ``fit_fn(labelled_orbits: list) -> model``; trains a fresh model on
        those orbits (the labels are the oracle: the catalogue).
    predict_proba_fn : callable or None
        ``predict_proba_fn(model, orbits: list) -> {orbit: probabilities}``,
        per-sample class probabilities ``(n_steps, n_classes)`` of each
        orbit. Unused (may be None) with ``strategy="random"``.
    score_fn : callable
        ``score_fn(model) -> float``, skill on a fixed held-out set (e.g.
        macro F1 or a crossing detection rate).
    pool : sequence
        Ids of all orbits that may be labelled (duplicates are dropped).
    initial : int or sequence
        Starting labelled orbits, or how many to draw at random from ``pool``.
    per_round : int
        Orbits added after each round.
    n_rounds : int
        Number of train-and-score rounds.
    strategy : {"entropy", "random"}, default "entropy"
        See :func:`select_orbits`.
    random_state : None, int or numpy.random.Generator
        Seeds the initial draw and random selection.

    Returns
    -------
    pd.DataFrame
        One row per round: ``round`` (from 0), ``n_labelled`` (orbits the
        model was trained on), ``metric`` (``score_fn``'s value) and
        ``selected`` (list of the orbits added after the round; empty for the
        last); ``attrs["labelled"]`` lists every labelled orbit in order.

    Examples
    --------
    A fake "model" that is just the number of orbits it was trained on:

    >>> history = run_active_learning(len, None, float, pool=range(10), initial=2, per_round=3,
    ...                               n_rounds=3, strategy="random", random_state=0)
    >>> history["n_labelled"].tolist(), history["metric"].tolist()
    ([2, 5, 8], [2.0, 5.0, 8.0])
    """
    if strategy not in STRATEGIES or (strategy == "entropy" and predict_proba_fn is None):
        raise PlanetMLError(f"active learning: strategy must be one of {STRATEGIES} (entropy needs predict_proba_fn)")
    for name, value in (("per_round", per_round), ("n_rounds", n_rounds)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise PlanetMLError(f"active learning: {name} must be a positive integer, got {value!r}")
    rng = np.random.default_rng(random_state)
    pool = list(dict.fromkeys(pool))
    labelled, rows = _initial_orbits(pool, initial, rng), []
    for round_index in range(n_rounds):
        model = fit_fn(list(labelled))
        rows.append({"round": round_index, "n_labelled": len(labelled), "metric": float(score_fn(model)),
                     "selected": []})
        candidates = [orbit for orbit in pool if orbit not in set(labelled)]
        if round_index == n_rounds - 1 or not candidates:
            break
        rows[-1]["selected"] = _next_orbits(model, predict_proba_fn, candidates, per_round, strategy, rng)
        labelled += rows[-1]["selected"]
    history = pd.DataFrame(rows, columns=["round", "n_labelled", "metric", "selected"])
    history.attrs["labelled"] = labelled
    return history
