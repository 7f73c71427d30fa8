import io
import random
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from planetml_lib.errors import PlanetMLError
from planetml_lib.models import create_model
from planetml_lib.train import (
    DiceBCELoss,
    fit,
    make_scheduler,
    predict_batches,
    seeded,
)

OPTIONS = {"in_channels": 2, "n_classes": 2, "width": 8, "depth": 1, "kernel_size": 3,
           "dropout": 0.1}
FIT = {"lr": 1e-2, "batch_size": 32, "progress": False, "device": "cpu"}


def toy_data(n=192, steps=24, seed=0, invert=False):
    """Per-step labels: class 1 where channel 0 is positive (or negative if ``invert``)."""
    X = np.random.default_rng(seed).normal(size=(n, 2, steps)).astype(np.float32)
    y = (X[:, 0] > 0) != invert
    return X, y.astype(np.int64)


def new_model(**options):
    with seeded(0):
        return create_model("convnet1d", **{**OPTIONS, **options})


def numbers(history):
    return history.drop(columns="seconds")


def test_fit_learns_toy_problem():
    X, y = toy_data()
    model = new_model()
    history = fit(model, (X, y), toy_data(seed=1), nn.CrossEntropyLoss(), epochs=6, **FIT)
    assert list(history.columns) == ["epoch", "train_loss", "val_loss", "lr", "seconds"]
    assert history["epoch"].tolist() == [1, 2, 3, 4, 5, 6]
    assert history["train_loss"].iloc[-1] < 0.5 * history["train_loss"].iloc[0]
    X_test, y_test = toy_data(seed=2)
    probs = predict_batches(model, X_test, batch_size=50, device="cpu", activation="softmax")
    assert probs.shape == (192, 2, 24)
    assert (probs.argmax(axis=1) == y_test).mean() > 0.9
    assert not model.training


def test_binary_segmentation_with_dice_bce_and_bool_labels():
    X, y = toy_data()
    model, target = new_model(n_classes=1).eval(), y.astype(bool)
    with torch.no_grad():
        untrained = DiceBCELoss()(model(torch.from_numpy(X)), torch.from_numpy(target)).item()
    history = fit(model, (X, target), (X, target), DiceBCELoss(), epochs=4, **FIT)
    assert history["val_loss"].iloc[-1] < 0.7 * untrained
    probs = predict_batches(model, X, device="cpu", activation="sigmoid")[:, 0]
    assert ((probs > 0.5) == target).mean() > 0.9


def test_same_seed_gives_identical_history():
    data = toy_data()
    runs = [fit(new_model(), data, toy_data(seed=1), nn.CrossEntropyLoss(), epochs=3, **FIT)
            for _ in range(2)]
    runs = [numbers(run) for run in runs]
    pd.testing.assert_frame_equal(runs[0], runs[1])
    other = fit(new_model(), data, toy_data(seed=1), nn.CrossEntropyLoss(), epochs=3, seed=5, **FIT)
    assert not np.allclose(other["train_loss"], runs[0]["train_loss"])


def test_fit_leaves_the_global_random_state_alone():
    states = (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state())
    fit(new_model(), toy_data(), toy_data(seed=1), nn.CrossEntropyLoss(), epochs=2, **FIT)
    assert random.getstate() == states[0]
    np.testing.assert_array_equal(np.random.get_state()[1], states[1])
    assert torch.equal(torch.get_rng_state(), states[2])


def test_resume_runs_only_remaining_epochs_and_matches_uninterrupted(tmp_path):
    data, val = toy_data(), toy_data(seed=1)
    first = fit(new_model(), data, val, nn.CrossEntropyLoss(), epochs=2, checkpoint_dir=tmp_path,
                **FIT)
    assert len(first) == 2 and (tmp_path / "last.pt").is_file()
    resumed_model = new_model(width=8)
    resumed = fit(resumed_model, data, val, nn.CrossEntropyLoss(), epochs=4,
                  checkpoint_dir=tmp_path, **FIT)
    assert resumed["epoch"].tolist() == [1, 2, 3, 4]
    # the first two rows come from the checkpoint, timings included: they were not rerun
    pd.testing.assert_frame_equal(resumed.iloc[:2], first)
    straight_model = new_model()
    straight = fit(straight_model, data, val, nn.CrossEntropyLoss(), epochs=4, **FIT)
    pd.testing.assert_frame_equal(numbers(resumed), numbers(straight))
    for key, value in straight_model.state_dict().items():
        torch.testing.assert_close(resumed_model.state_dict()[key], value)


def test_checkpoint_holds_only_plain_data(tmp_path):
    fit(new_model(), toy_data(), toy_data(seed=1), nn.CrossEntropyLoss(), epochs=1,
        checkpoint_dir=tmp_path, **FIT)
    checkpoint = torch.load(tmp_path / "last.pt", weights_only=True)
    assert checkpoint["epoch"] == 1 and len(checkpoint["history"]) == 1
    assert set(checkpoint) >= {"model", "optimizer", "best_state", "bad_epochs", "best_value"}
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_resume_with_other_model_or_broken_file_raises(tmp_path):
    fit(new_model(), toy_data(), toy_data(seed=1), nn.CrossEntropyLoss(), epochs=1,
        checkpoint_dir=tmp_path, **FIT)
    with pytest.raises(PlanetMLError, match="last.pt: cannot resume"):
        fit(new_model(width=4), toy_data(), toy_data(seed=1), nn.CrossEntropyLoss(), epochs=2,
            checkpoint_dir=tmp_path, **FIT)
    (tmp_path / "last.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(PlanetMLError, match="last.pt: cannot resume"):
        fit(new_model(), toy_data(), toy_data(seed=1), nn.CrossEntropyLoss(), epochs=2,
            checkpoint_dir=tmp_path, **FIT)


def test_early_stopping_keeps_best_weights():
    X, y = toy_data()
    val = toy_data(seed=1, invert=True)  # learning the training rule makes val loss rise
    model = new_model()
    history = fit(model, (X, y), val, nn.CrossEntropyLoss(), epochs=20, patience=2, **FIT)
    assert len(history) == 3 and history.attrs["best_epoch"] == 1
    assert history["val_loss"].is_monotonic_increasing
    with torch.no_grad():
        restored = F.cross_entropy(model(torch.from_numpy(val[0])), torch.from_numpy(val[1]))
    assert restored.item() == pytest.approx(history["val_loss"].iloc[0], rel=1e-5)


def test_monitor_train_loss_without_validation():
    history = fit(new_model(), toy_data(), None, nn.CrossEntropyLoss(), epochs=2,
                  monitor="train_loss", **FIT)
    assert history["val_loss"].isna().all() and len(history) == 2
    with pytest.raises(PlanetMLError, match="monitor"):
        fit(new_model(), toy_data(), None, nn.CrossEntropyLoss(), epochs=2, **FIT)


def test_fit_accepts_torch_dataset():
    X, y = toy_data()
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    history = fit(new_model(), dataset, dataset, nn.CrossEntropyLoss(), epochs=1, **FIT)
    assert len(history) == 1


@pytest.mark.parametrize("bad", ["nan", "length", "shape"])
def test_fit_rejects_bad_arrays(bad):
    X, y = toy_data()
    message = {"nan": "NaN", "length": "192 samples but y has 10", "shape": "pair"}[bad]
    if bad == "nan":
        X[3, 1, 5] = np.nan
    train = {"nan": (X, y), "length": (X, y[:10]), "shape": (X, y, y)}[bad]
    with pytest.raises(PlanetMLError, match=message):
        fit(new_model(), train, (X, y), nn.CrossEntropyLoss(), epochs=1, **FIT)


def test_one_cycle_scheduler_changes_lr_per_batch(tmp_path):
    data = toy_data()
    history = fit(new_model(), data, data, nn.CrossEntropyLoss(), epochs=3, checkpoint_dir=tmp_path,
                  scheduler=make_scheduler, **FIT)
    lrs = history["lr"].tolist()  # at the start of each epoch: warm-up, peak, annealing
    assert lrs[0] == pytest.approx(1e-2 / 25) and lrs[1] > 5e-3 and lrs[2] < lrs[1]
    with pytest.raises(PlanetMLError, match="epochs=3"):
        fit(new_model(), data, data, nn.CrossEntropyLoss(), epochs=5, checkpoint_dir=tmp_path,
            scheduler=make_scheduler, **FIT)


def test_predict_batches_matches_model_and_checks_inputs():
    model = new_model().eval()
    X, _ = toy_data(n=10)
    logits = predict_batches(model, X, batch_size=3, device="cpu")
    with torch.no_grad():
        np.testing.assert_allclose(logits, model(torch.from_numpy(X)).numpy(), rtol=1e-5, atol=1e-6)
    probs = predict_batches(model, X, batch_size=4, device="cpu", activation="sigmoid")
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits)), rtol=1e-5)
    assert predict_batches(model, X[:0], device="cpu").shape == (0, 2, 24)
    with pytest.raises(PlanetMLError, match="activation"):
        predict_batches(model, X, activation="relu")
    X[0, 0, 0] = np.inf
    with pytest.raises(PlanetMLError, match="NaN or inf"):
        predict_batches(model, X)


def test_samples_per_epoch_fixes_the_number_of_draws():
    X, y = toy_data(n=40)
    seen = []

    def counting_loss(out, target):
        seen.append(len(out))
        return nn.functional.cross_entropy(out, target)

    fit(new_model(), (X, y), None, counting_loss, epochs=1, monitor="train_loss", samples_per_epoch=100,
        **{**FIT, "batch_size": 10})
    assert sum(seen) == 100


def test_val_loss_fn_is_what_validation_reports():
    X, y = toy_data()
    history = fit(new_model(), (X, y), (X, y), nn.CrossEntropyLoss(), epochs=1,
                  val_loss_fn=lambda out, target: torch.tensor(0.25), **FIT)
    assert history["val_loss"].tolist() == [0.25]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_predict_batches_shows_a_bar_over_its_batches_on_a_terminal_only(monkeypatch):
    model = create_model("convnet1d", in_channels=2, n_classes=1, width=4, depth=1)
    X = np.zeros((6, 2, 16), "float32")
    for stderr, shown in ((_Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stderr)
        predict_batches(model, X, batch_size=2, device="cpu", progress=True)
        assert ("| 0/3 [" in stderr.getvalue()) == shown  # a bar over the 3 batches
    predict_batches(model, X, batch_size=2, device="cpu")  # off by default
    assert stderr.getvalue() == ""
