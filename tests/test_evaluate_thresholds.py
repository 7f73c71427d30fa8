import numpy as np
import pandas as pd
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.evaluate import choose_event_postprocessing, choose_threshold

TIME = pd.date_range("2020-01-01", periods=200, freq="1h")


def test_threshold_maximises_the_metric_on_the_given_data():
    y = np.r_[np.zeros(100), np.ones(100)].astype(bool)
    probability = np.r_[np.full(100, 0.3), np.full(100, 0.6)]
    best, curve = choose_threshold(y, probability, metric="IoU")
    assert 0.3 <= best < 0.6
    assert curve.loc[curve["threshold"] == best, "IoU"].item() == 1.0
    assert curve["IoU"].min() < 1.0


def test_threshold_unknown_metric():
    with pytest.raises(PlanetMLError, match="unknown metric"):
        choose_threshold([1, 0], [0.9, 0.1], metric="banana")


def test_postprocessing_grid_prefers_merging_fragments_and_dropping_blips():
    true = pd.DataFrame({"start": [TIME[50]], "end": [TIME[99]], "label": ["ICME"]})
    probability = np.zeros(200)
    probability[50:100] = 0.9
    probability[70:72] = 0.1          # a 2-hour dip splits the true event in two
    probability[150] = 0.9            # a one-hour blip far from any event
    best, scores = choose_event_postprocessing(probability, TIME, np.ones(200, bool), true, thresholds=[0.5],
                                               min_durations_h=[0, 3], max_gaps_h=[0, 3])
    assert best == {"threshold": 0.5, "min_duration_h": 3.0, "max_gap_h": 3.0}
    assert len(scores) == 4
    assert scores.set_index(["min_duration_h", "max_gap_h"]).loc[(3.0, 3.0), "n_pred"] == 1
    assert scores["F1"].max() == 1.0 and scores["F1"].min() < 1.0
