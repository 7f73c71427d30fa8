import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from planetml_lib.errors import PlanetMLError
from planetml_lib.train.active import (
    orbit_entropy,
    predictive_entropy,
    run_active_learning,
    select_orbits,
)

N_EASY, N_HARD, N_STEPS = 16, 4, 40


def make_orbits(seed=0):
    """Orbit id -> (features (n_steps, 2), labels (n_steps,)) of three well separated classes.

    Easy orbits sit at the class centres; the last ``N_HARD`` orbits lie between classes,
    where a model trained on easy orbits is unsure.
    """
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.5]])
    orbits = {}
    for orbit in range(N_EASY + N_HARD):
        labels = rng.integers(0, 3, N_STEPS)
        centre = centres[labels] if orbit < N_EASY else np.broadcast_to(centres.mean(axis=0), (N_STEPS, 2))
        orbits[orbit] = (centre + 0.6 * rng.normal(size=(N_STEPS, 2)), labels)
    return orbits


@pytest.fixture(scope="module")
def orbits():
    return make_orbits()


def logistic_loop(orbits, test_orbits):
    """fit_fn, predict_proba_fn and score_fn of a LogisticRegression region classifier."""
    def fit_fn(labelled):
        X = np.concatenate([orbits[o][0] for o in labelled])
        y = np.concatenate([orbits[o][1] for o in labelled])
        return LogisticRegression(max_iter=200).fit(X, y)

    def predict_proba_fn(model, candidates):
        return {o: model.predict_proba(orbits[o][0]) for o in candidates}

    def score_fn(model):
        X, y = (np.concatenate(part) for part in zip(*(test_orbits[o] for o in test_orbits), strict=True))
        return accuracy_score(y, model.predict(X))

    return fit_fn, predict_proba_fn, score_fn


def test_entropy_in_nats_with_zero_log_zero():
    p = np.array([[1.0, 0.0, 0.0, 0.0, 0.0], [0.2] * 5, [0.5, 0.5, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(predictive_entropy(p), [0.0, np.log(5), np.log(2)])


def test_entropy_along_the_class_axis_of_model_outputs():
    # as predict_batches returns them: (windows, classes, steps)
    softmax = np.random.default_rng(0).dirichlet(np.ones(5), size=(3, 7)).transpose(0, 2, 1)
    h = predictive_entropy(softmax, axis=1)
    assert h.shape == (3, 7)
    np.testing.assert_allclose(h[1, 2], -np.sum(softmax[1, :, 2] * np.log(softmax[1, :, 2])))


def test_entropy_nan_rows_and_bad_input():
    assert np.isnan(predictive_entropy([[np.nan, np.nan], [0.5, 0.5]])[0])
    with pytest.raises(PlanetMLError, match="softmax"):
        predictive_entropy([[2.0, -1.0]])


def test_orbit_entropy_is_the_mean_over_predicted_samples():
    scores = orbit_entropy({"a": [[0.5, 0.5], [np.nan, np.nan]], "b": [[1.0, 0.0], [0.5, 0.5]]})
    assert scores.index.tolist() == ["a", "b"] and scores.name == "entropy"
    np.testing.assert_allclose(scores.to_numpy(), [np.log(2), np.log(2) / 2])
    assert np.isnan(orbit_entropy({"gap": np.full((3, 5), np.nan)})["gap"])


def test_select_orbits_takes_the_most_uncertain_and_random_is_seeded():
    scores = pd.Series({10: 0.1, 11: np.nan, 12: 0.9, 13: 0.9, 14: 0.5})
    assert select_orbits(scores, 3) == [12, 13, 14]
    assert select_orbits(scores, 9) == [12, 13, 14, 10, 11]
    random = select_orbits(scores, 3, "random", random_state=5)
    assert random == select_orbits(scores, 3, "random", random_state=5) and len(set(random)) == 3
    with pytest.raises(PlanetMLError, match="strategy"):
        select_orbits(scores, 1, "margin")


def test_entropy_loop_asks_for_the_hard_orbits_first(orbits):
    fit_fn, predict_proba_fn, score_fn = logistic_loop(orbits, make_orbits(seed=1))
    history = run_active_learning(fit_fn, predict_proba_fn, score_fn, pool=list(orbits), initial=[0, 1, 2, 3],
                                  per_round=N_HARD, n_rounds=2)
    selected = history["selected"].iloc[0]
    assert sorted(selected) == list(range(N_EASY, N_EASY + N_HARD))
    model = fit_fn([0, 1, 2, 3])
    assert orbit_entropy(predict_proba_fn(model, selected)).is_monotonic_decreasing  # most uncertain first
    assert history["selected"].iloc[-1] == [] and history["n_labelled"].tolist() == [4, 8]


def test_loop_never_selects_an_orbit_twice_and_stops_when_the_pool_is_used_up(orbits):
    fit_fn, predict_proba_fn, score_fn = logistic_loop(orbits, make_orbits(seed=1))
    pool = list(orbits)
    for strategy in ("entropy", "random"):
        history = run_active_learning(fit_fn, predict_proba_fn, score_fn, pool, initial=3, per_round=6,
                                      n_rounds=10, strategy=strategy, random_state=0)
        labelled = history.attrs["labelled"]
        assert sorted(labelled) == pool  # 3 + 6 + 6 + 5: the pool is used up after round 3
        assert history["n_labelled"].tolist() == [3, 9, 15, 20]
        assert history["metric"].between(0, 1).all() and history["metric"].iloc[-1] > 0.6


def test_training_sets_grow_by_the_selected_orbits(orbits):
    seen = []
    fit_fn, predict_proba_fn, score_fn = logistic_loop(orbits, make_orbits(seed=1))
    history = run_active_learning(lambda labelled: seen.append(labelled) or fit_fn(labelled), predict_proba_fn,
                                  score_fn, list(orbits), initial=[5, 6], per_round=2, n_rounds=3)
    assert seen[0] == [5, 6] and seen[1] == [5, 6, *history["selected"][0]]
    assert seen[2] == seen[1] + history["selected"][1]


def test_random_loop_is_reproducible_and_needs_no_probabilities(orbits):
    fit_fn, _, score_fn = logistic_loop(orbits, make_orbits(seed=1))
    runs = [run_active_learning(fit_fn, None, score_fn, list(orbits), initial=4, per_round=3, n_rounds=3,
                                strategy="random", random_state=7) for _ in range(2)]
    pd.testing.assert_frame_equal(*runs)


@pytest.mark.parametrize("options, match", [
    ({"initial": [99]}, "not in the pool: \\[99\\]"), ({"initial": 0}, "initial=0"),
    ({"per_round": 0}, "per_round"), ({"strategy": "entropy", "predict_proba_fn": None}, "predict_proba_fn"),
])
def test_loop_refuses_bad_settings(options, match):
    settings = {"fit_fn": len, "predict_proba_fn": lambda model, orbits: {}, "score_fn": float, "pool": range(5),
                "initial": 2, "per_round": 1, "n_rounds": 2, **options}
    with pytest.raises(PlanetMLError, match=match):
        run_active_learning(**settings)


def test_missing_probabilities_are_an_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(PlanetMLError, match="no probabilities for orbits \\[2"):
            run_active_learning(len, lambda model, orbits: {0: [[1.0, 0.0]]}, float, range(5), initial=[0, 1],
                                per_round=1, n_rounds=2)
