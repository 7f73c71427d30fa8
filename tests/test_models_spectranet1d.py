"""The spectra CNN ensemble and its loss."""

import pytest
import torch

from planetml_lib.errors import PlanetMLError
from planetml_lib.models import create_model
from planetml_lib.models.spectranet1d import MineralLoss, SpectraNet1d


def test_members_are_independent_and_the_output_is_stacked():
    torch.manual_seed(0)
    model = create_model("spectranet1d", n_minerals=4, n_chemistry=6, channels=[4, 8], hidden=8, n_members=3).eval()
    out = model(torch.randn(5, 1, 401))
    assert out.shape == (5, 3, 14)
    assert not torch.allclose(out[:, 0], out[:, 1])  # different initial weights


@pytest.mark.parametrize("bad", [{"channels": []}, {"kernel_size": 4}, {"n_members": 0}, {"dropout": 1.0},
                                 {"n_chemistry": -1}])
def test_bad_options_are_refused(bad):
    with pytest.raises(PlanetMLError, match="SpectraNet1d"):
        SpectraNet1d(**{"n_minerals": 4, "n_chemistry": 6, **bad})


def test_a_spectrum_must_be_one_channel():
    with pytest.raises(PlanetMLError, match=r"\(batch, 1, n_wavelengths\)"):
        SpectraNet1d(4, 6, channels=[4])(torch.zeros(2, 3, 100))


def test_the_loss_ignores_unknown_chemistry_and_is_lowest_at_the_truth():
    loss = MineralLoss(n_minerals=2, n_chemistry=1)
    target = torch.tensor([[0.75, 0.25, 1.0, 1.0, float("nan")]])
    logits = torch.log(torch.tensor([0.75, 0.25]))
    right = torch.cat([logits, torch.tensor([9.0, 9.0, 0.0])]).reshape(1, 1, 5)
    wrong = torch.cat([logits.flip(0), torch.tensor([-9.0, 9.0, 0.0])]).reshape(1, 1, 5)
    assert torch.isfinite(loss(right, target)) and loss(right, target) < loss(wrong, target)
    other_chemistry = right.clone()
    other_chemistry[..., 4] = 5.0
    assert loss(other_chemistry, target) == loss(right, target)  # NaN chemistry adds nothing


def test_one_step_lowers_the_loss_of_a_batch():
    torch.manual_seed(0)
    model = SpectraNet1d(4, 6, channels=[4], hidden=8, n_members=2, dropout=0.0)
    x, loss_fn = torch.randn(8, 1, 64), MineralLoss(4, 6)
    target = torch.cat([torch.softmax(torch.randn(8, 4), -1), torch.ones(8, 4), torch.rand(8, 6)], dim=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = loss_fn(model(x), target)
    before.backward()
    optimizer.step()
    assert loss_fn(model(x), target) < before
