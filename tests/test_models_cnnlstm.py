import json

import numpy as np
import pytest
import torch
from torch import nn

from planetml_lib.errors import PlanetMLError
from planetml_lib.models import CNNLSTM, MODELS, create_model
from planetml_lib.models.artifacts import load_model, save_model
from planetml_lib.train import seeded

SMALL = {"conv_channels": (8, 8, 8), "lstm_hidden": 8, "dropout": 0.0}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_model(in_channels=3, **options):
    with seeded(0):
        return CNNLSTM(in_channels, **{**SMALL, **options}).eval()


def changed_steps(model, x, step):
    """Output steps whose logits depend on input ``step``: a non-zero gradient, one output step at a
    time (a finite change of the input would be lost in float32 rounding far from ``step``)."""
    x = x.clone().requires_grad_(True)
    out = model(x)[0]
    depends = [torch.autograd.grad(out[:, t].sum(), x, retain_graph=True)[0][0, :, step].abs().sum() > 0
               for t in range(out.shape[-1])]
    return torch.tensor(depends).nonzero().flatten()


def orbit_like_batch(n, steps, rng):
    """Sequences IMF, SK, MSh, MP, MSp, MP, MSh, SK, IMF with random lengths; inputs are noisy class codes."""
    codes = np.array([[0, 0, 0], [1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]], dtype=float)
    labels = np.empty((n, steps), dtype=np.int64)
    for row in labels:
        cuts = np.sort(rng.choice(np.arange(4, steps - 4), 8, replace=False))
        row[:] = np.repeat([0, 1, 2, 3, 4, 3, 2, 1, 0], np.diff(np.concatenate(([0], cuts, [steps]))))
    X = codes[labels].transpose(0, 2, 1) + 0.3 * rng.normal(size=(n, 3, steps))
    return torch.tensor(X, dtype=torch.float32), torch.from_numpy(labels)


@pytest.mark.parametrize("steps", [1, 7, 180])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_one_logit_per_class_and_step(steps, bidirectional):
    model = small_model(bidirectional=bidirectional)
    assert model(torch.randn(4, 3, steps)).shape == (4, 5, steps)


def test_default_architecture():
    model = CNNLSTM(12)
    convs = [block[0] for block in model.encoder]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0]) for c in convs] == [(12, 32, 5), (32, 64, 5), (64, 64, 5)]
    assert (model.lstm.num_layers, model.lstm.hidden_size, model.lstm.bidirectional) == (2, 64, True)
    assert (model.head.in_features, model.head.out_features) == (128, 5)


def test_bidirectional_sees_the_whole_window():
    changed = changed_steps(small_model(), torch.randn(1, 3, 60), step=30)
    assert changed.tolist() == list(range(60))


def test_unidirectional_sees_only_the_convolutions_lookahead():
    # three 5-tap blocks look 3 * 2 = 6 steps ahead; the LSTM carries the change forward only
    changed = changed_steps(small_model(bidirectional=False), torch.randn(1, 3, 60), step=30)
    assert changed.tolist() == list(range(24, 60))


def test_gradients_reach_first_convolution():
    model = small_model().train()
    model(torch.randn(2, 3, 20)).sum().backward()
    assert model.encoder[0][0].weight.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.parameters())


def test_learns_a_toy_region_sequence_quickly():
    rng = np.random.default_rng(0)
    X, y = orbit_like_batch(32, 60, rng)
    model = small_model().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = nn.functional.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    X_test, y_test = orbit_like_batch(8, 60, rng)
    with torch.no_grad():
        accuracy = (model.eval()(X_test).argmax(dim=1) == y_test).float().mean().item()
    assert losses[-1] < 0.3 * losses[0]
    assert accuracy > 0.9


def test_registered_and_built_from_json_options():
    options = json.loads('{"in_channels": 4, "n_classes": 5, "conv_channels": [6, 6], "lstm_hidden": 5}')
    model = create_model("cnnlstm", **options)
    assert MODELS["cnnlstm"] is CNNLSTM and isinstance(model, CNNLSTM)
    assert model.eval()(torch.zeros(1, 4, 30)).shape == (1, 5, 30)


@pytest.mark.parametrize("bad", [{"conv_channels": ()}, {"conv_channels": (8, 0)}, {"kernel_size": 4},
                                 {"lstm_layers": 0}, {"dropout": 1.0}, {"lstm_hidden": 2.5}])
def test_rejects_bad_options(bad):
    with pytest.raises(PlanetMLError, match="CNNLSTM"):
        CNNLSTM(3, **bad)


def test_model_folder_round_trip(tmp_path):
    options = {"in_channels": 3, "n_classes": 5, **SMALL}
    model = create_model("cnnlstm", **options).eval()
    save_model(model, tmp_path / "model", {"model": "cnnlstm", "model_options": options}, {})
    loaded, config, _ = load_model(tmp_path / "model", device="cpu")
    assert config["model_options"]["conv_channels"] == [8, 8, 8]  # a tuple comes back from JSON as a list
    x = torch.randn(2, 3, 25)
    torch.testing.assert_close(loaded.eval()(x), model(x))
