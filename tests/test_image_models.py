import pytest
import torch

from benchmark.models.ali import ALIConfig, ImageALI
from benchmark.nets.celeba import CELEBA
from benchmark.nets.svhn import SVHN
from benchmark.registry import MODELS
from benchmark.rng import RunGenerators
from benchmark.train import StackedBatcher, train
from gradient_check import assert_each_player_gets_only_its_own_gradient

DATA = torch.randint(0, 256, (24, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def _fit(model, steps, **kw):
    return train(model, StackedBatcher(DATA, 8, RunGenerators([5])), steps, progress=False, **kw)


@pytest.mark.parametrize("family", ["ali", "bigan", "gan", "vae"])
def test_image_families_train_with_finite_losses_and_every_player_moves(family):
    model = MODELS.get(family).archs["svhn"](seed=1)
    firsts = {name: [p.detach().clone() for p in opt.param_groups[0]["params"][:1] + opt.param_groups[0]["params"][-1:]]
              for name, opt in model.optimizers.items()}
    result = _fit(model, 3)
    assert result.finished and not result.failures
    assert all(torch.isfinite(torch.tensor(v)).all() for v in result.last_losses.values())
    for name, opt in model.optimizers.items():
        params = opt.param_groups[0]["params"]
        for before, now in zip(firsts[name], params[:1] + params[-1:]):
            assert not torch.equal(before, now), name


@pytest.mark.parametrize("family", ["ali", "gan"])
def test_each_player_gets_only_its_own_gradient(family, monkeypatch):
    model = MODELS.get(family).archs["svhn"](seed=2)
    assert_each_player_gets_only_its_own_gradient(model, DATA[:8][None], monkeypatch)


def test_resume_gives_identical_parameters(tmp_path):
    reference = ImageALI(SVHN, seed=3)
    _fit(reference, 4)
    first = ImageALI(SVHN, seed=3)
    _fit(first, 4, checkpoint=tmp_path / "ck.pt", identity="a", stop_after=2)
    resumed = ImageALI(SVHN, seed=3)
    _fit(resumed, 4, checkpoint=tmp_path / "ck.pt", identity="a")
    for k, v in reference.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_bigan_encodes_deterministically_and_ali_samples_its_code():
    x = DATA[:4].float() / 255
    bigan = ImageALI(SVHN, ALIConfig(deterministic_encoder=True), seed=4)
    ali = ImageALI(SVHN, seed=4)
    assert torch.equal(bigan.encode(x).sample, bigan.encode(x).mean)
    assert not torch.equal(ali.encode(x).sample, ali.encode(x).sample)
    assert ali.reconstruct(x).shape == x.shape and ali.sample(3).shape == (3, 3, 32, 32)
    assert ali.discriminator_features(x).shape == (4, 512)


def test_celeba_ali_takes_a_step():
    model = MODELS.get("ali").archs["celeba"](seed=5)
    batch = torch.randint(0, 256, (1, 4, *CELEBA.image), dtype=torch.uint8)
    losses = model.train_step(batch)
    assert all(torch.isfinite(v).all() for v in losses.values())


def test_cifar10_ali_takes_a_step_and_moves_its_maxout_discriminator():
    model = MODELS.get("ali").archs["cifar10"](seed=6)
    before = model.discriminator.d_x.convs[1].weight.detach().clone()
    losses = _fit(model, 2).last_losses
    assert all(torch.isfinite(torch.tensor(v)).all() for v in losses.values())
    assert not torch.equal(before, model.discriminator.d_x.convs[1].weight)
