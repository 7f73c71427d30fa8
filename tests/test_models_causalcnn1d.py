import json

import pytest
import torch

from planetml_lib.errors import PlanetMLError
from planetml_lib.models import MODELS, CausalCNN1d, create_model
from planetml_lib.train import seeded

SMALL = {"in_channels": 2, "width": 8, "depth": 3, "kernel_size": 3, "dilation_growth": 2, "dropout": 0.0}


def small_model(**options):
    with seeded(0):
        return CausalCNN1d(**{**SMALL, **options}).eval()


def changed_steps(model, x, step):
    """Output steps that change in any sample or class when input ``step`` changes."""
    before = model(x)
    x = x.clone()
    x[:, :, step] += 3.0
    return ((model(x) - before).abs() > 0).any(dim=1).any(dim=0).nonzero().flatten().tolist()


@pytest.mark.parametrize("steps", [1, 17, 300])
@pytest.mark.parametrize("n_classes", [1, 3])
def test_one_logit_per_class_and_step(steps, n_classes):
    model = small_model(n_classes=n_classes)
    assert model(torch.randn(4, 2, steps)).shape == (4, n_classes, steps)


@pytest.mark.parametrize(
    ("options", "receptive_field"),
    [({}, 15), ({"kernel_size": 5}, 29), ({"dilation_growth": 1}, 7), ({"depth": 1, "kernel_size": 1}, 1)],
)
def test_causal_with_the_documented_receptive_field(options, receptive_field):
    model = small_model(**options)
    assert model.receptive_field == receptive_field
    torch.manual_seed(1)
    x = torch.randn(16, 2, 80)  # many samples, so some path through the ReLUs carries every tap
    assert changed_steps(model, x, step=30) == list(range(30, 30 + receptive_field))


def test_future_inputs_never_change_past_outputs_in_training_mode():
    model = small_model(dropout=0.0).train()
    x = torch.randn(3, 2, 60)
    before = model(x)
    x[:, :, 40:] = torch.randn(3, 2, 20) * 10
    assert torch.equal(model(x)[:, :, :40], before[:, :, :40])


def test_default_spans_about_four_hours_at_one_minute():
    model = CausalCNN1d(in_channels=3)
    assert model.receptive_field == 255  # dilations 1, 2, ..., 64 with 3 taps: 4 h 15 min at 1-min cadence
    assert [layer.dilation[0] for layer in model.layers if isinstance(layer, torch.nn.Conv1d)] == [
        1, 2, 4, 8, 16, 32, 64]
    assert model(torch.zeros(1, 3, 10)).shape == (1, 1, 10)


def test_registered_and_built_from_json_options():
    options = json.loads('{"in_channels": 4, "n_classes": 1, "width": 6, "depth": 2}')
    model = create_model("causalcnn1d", **options)
    assert MODELS["causalcnn1d"] is CausalCNN1d and isinstance(model, CausalCNN1d)
    assert model(torch.zeros(2, 4, 12)).shape == (2, 1, 12)


def test_gradients_reach_the_first_layer():
    model = small_model()
    model(torch.randn(3, 2, 40)).sum().backward()
    assert model.layers[0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "bad",
    [{"in_channels": 0}, {"n_classes": 0}, {"width": 2.5}, {"depth": 0}, {"kernel_size": 0},
     {"dilation_growth": 0}, {"depth": True}, {"dropout": 1.0}, {"dropout": -0.1}],
)
def test_bad_options_are_refused(bad):
    with pytest.raises(PlanetMLError, match="CausalCNN1d"):
        CausalCNN1d(**{**SMALL, **bad})
