import pytest
import torch
from torch import nn

from benchmark.models._stacked import RunHyperparams
from benchmark.models.ali import ToyALI
from benchmark.models.gan import ToyGAN
from benchmark.models.iae import ToyIAE
from benchmark.nets.stacked import StackedBatchNorm, StackedLinear
from benchmark.nets.toy import ToySizes
from benchmark.rng import RunGenerators
from gradient_check import assert_each_player_gets_only_its_own_gradient

SMALL = ToySizes(encoder_hidden=(16, 16), decoder_hidden=(16, 16), disc_units=8, disc_pieces=3, disc_layers=2)


def _hp(runs):
    return RunHyperparams(tuple([1e-3] * runs), tuple([0.5] * runs), tuple([0.1] * runs))


def test_stacked_batchnorm_matches_batchnorm1d_per_run():
    torch.manual_seed(0)
    x = torch.randn(3, 20, 5) * 2 + 1
    ours = StackedBatchNorm(3, 5, momentum=0.05, eps=1e-4)
    refs = [nn.BatchNorm1d(5, momentum=0.05, eps=1e-4) for _ in range(3)]
    for _ in range(3):
        y = ours(x)
        for r in range(3):
            torch.testing.assert_close(y[r], refs[r](x[r]), rtol=1e-5, atol=1e-5)
    ours.eval()
    for r in range(3):
        refs[r].eval()
        torch.testing.assert_close(ours(x)[r], refs[r](x[r]), rtol=1e-5, atol=1e-5)


def test_stacked_linear_is_one_matmul_per_run_with_its_own_init_std():
    gens = RunGenerators([1, 2])
    layer = StackedLinear(gens, 400, 300, torch.tensor([0.01, 0.1]))
    stds = layer.weight.detach().flatten(1).std(1)
    assert abs(stds[0] - 0.01) < 0.001 and abs(stds[1] - 0.1) < 0.01
    x = torch.randn(2, 7, 400)
    y = layer(x)
    for r in range(2):
        torch.testing.assert_close(y[r], x[r] @ layer.weight[r] + layer.bias[r], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", [ToyGAN, ToyALI, ToyIAE])
def test_each_player_gets_only_the_gradient_of_its_own_loss(cls, monkeypatch):
    torch.manual_seed(0)
    assert_each_player_gets_only_its_own_gradient(cls(SMALL, _hp(2), [3, 4]), torch.randn(2, 32, 2), monkeypatch)


def test_a_diverged_run_leaves_the_runs_beside_it_untouched():
    def train_three_steps(poison: bool):
        torch.manual_seed(0)
        model = ToyALI(SMALL, _hp(2), [5, 6])
        if poison:
            with torch.no_grad():
                model.decoder[0].weight[0].fill_(float("nan"))
        batch = torch.randn(2, 32, 2)
        for _ in range(3):
            losses = model.train_step(batch)
        return model, losses

    clean, _ = train_three_steps(False)
    poisoned, losses = train_three_steps(True)
    assert not torch.isfinite(losses["d_loss"][0]) and torch.isfinite(losses["d_loss"][1])
    for (name, a), b in zip(clean.state_dict().items(), poisoned.state_dict().values()):
        assert torch.equal(a[1], b[1]), name


def test_runs_are_initialised_from_their_own_seeds_whatever_stands_beside_them():
    alone = ToyGAN(SMALL, _hp(1), [42]).state_dict()
    stacked = ToyGAN(SMALL, _hp(3), [7, 42, 9]).state_dict()
    for k in alone:
        assert torch.equal(alone[k][0], stacked[k][1]), k
