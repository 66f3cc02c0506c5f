import pytest
import torch

from benchmark.model_figures import (STOCHASTIC_DRAWS, centre_mask, draw_model_figures, inpaint,
                                     stochastic_reconstructions)
from benchmark.models.aae import ImageAAE
from benchmark.models.ali import ALIConfig, ImageALI
from benchmark.models.hali import ImageHALI
from benchmark.models.iae import CONFIGS as IAE_CONFIGS, STOCHASTIC as IAE_STOCHASTIC, IAEConfig, ImageIAE
from benchmark.nets.celeba import CELEBA
from benchmark.nets.hali import HALI_ARCHS
from benchmark.nets.mnist import MNIST
from benchmark.nets.svhn import SVHN
from benchmark.registry import MODELS
from benchmark.rng import RunGenerators
from benchmark.runtime import Runtime
from benchmark.train import StackedBatcher, train
from gradient_check import assert_each_player_gets_only_its_own_gradient

DATA = torch.randint(0, 256, (24, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
DIGITS = torch.randint(0, 256, (24, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
IAE_STOCHASTIC_MNIST = IAEConfig(**dict(IAE_STOCHASTIC["mnist"]), posterior="gaussian")
FAMILIES = ["aae", "ali", "bigan", "gan", "hali", "iae", "vae"]


def _fit(model, steps, data=DATA, **kw):
    return train(model, StackedBatcher(data, 8, RunGenerators([5])), steps, progress=False, **kw)


def test_every_family_is_registered_for_every_image_architecture():
    for family in FAMILIES:
        assert {"mnist", "svhn", "cifar10", "celeba"} <= set(MODELS.get(family).archs), family


@pytest.mark.parametrize("arch", ["svhn", "mnist"])
@pytest.mark.parametrize("family", FAMILIES)
def test_image_families_train_with_finite_losses_and_every_player_moves(family, arch):
    model = MODELS.get(family).archs[arch](seed=1)
    firsts = {name: [p.detach().clone() for p in opt.param_groups[0]["params"][:1] + opt.param_groups[0]["params"][-1:]]
              for name, opt in model.optimizers.items()}
    result = _fit(model, 3, DATA if arch == "svhn" else DIGITS)
    assert result.finished and not result.failures
    assert all(torch.isfinite(torch.tensor(v)).all() for v in result.last_losses.values())
    for name, opt in model.optimizers.items():
        params = opt.param_groups[0]["params"]
        for before, now in zip(firsts[name], params[:1] + params[-1:]):
            assert not torch.equal(before, now), name


@pytest.mark.parametrize("family", ["ali", "gan", "hali", "iae"])
def test_each_player_gets_only_its_own_gradient(family, monkeypatch):
    model = MODELS.get(family).archs["svhn"](seed=2)
    assert_each_player_gets_only_its_own_gradient(model, DATA[:8][None], monkeypatch)


@pytest.mark.parametrize("make, data", [(lambda: ImageALI(SVHN, seed=3), DATA),
                                        (lambda: ImageAAE(MNIST, seed=3), DIGITS),
                                        (lambda: ImageHALI(HALI_ARCHS["mnist"], seed=3), DIGITS),
                                        (lambda: ImageIAE(MNIST, IAE_STOCHASTIC_MNIST, seed=3), DIGITS)])
def test_resume_gives_identical_parameters(tmp_path, make, data):
    reference = make()
    _fit(reference, 4, data)
    first = make()
    _fit(first, 4, data, checkpoint=tmp_path / "ck.pt", identity="a", stop_after=2)
    resumed = make()
    _fit(resumed, 4, data, checkpoint=tmp_path / "ck.pt", identity="a")
    for k, v in reference.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_bigan_encodes_deterministically_and_ali_samples_its_code():
    x = DATA[:4].float() / 255
    bigan = ImageALI(SVHN, ALIConfig(deterministic_encoder=True), seed=4)
    ali = ImageALI(SVHN, seed=4)
    assert torch.equal(bigan.encode(x).sample, bigan.encode(x).mean)
    assert not torch.equal(ali.encode(x).sample, ali.encode(x).sample)
    assert torch.equal(ali.encode(x).mean, ali.encode(x).mean)
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


def test_aae_phases_move_only_their_own_parameters(monkeypatch):
    """Reconstruction moves encoder and decoder; the prior discriminator moves only itself; the regularisation
    moves only the encoder.  With one optimiser's step switched off, what it owns alone must stay put."""
    model = ImageAAE(MNIST, seed=7)
    batch = DIGITS[:8][None]

    def snapshot():
        return {name: [p.detach().clone() for p in net.parameters()]
                for name, net in (("encoder", model.encoder), ("decoder", model.decoder), ("d", model.discriminator))}

    def moved(before):
        now = snapshot()
        return {name: any(not torch.equal(a, b) for a, b in zip(before[name], now[name])) for name in before}

    before = snapshot()
    model.train_step(batch)
    assert moved(before) == {"encoder": True, "decoder": True, "d": True}
    monkeypatch.setattr(model.optimizers["autoencoder"], "step", lambda: None)
    before = snapshot()
    model.train_step(batch)
    assert moved(before) == {"encoder": True, "decoder": False, "d": True}
    monkeypatch.setattr(model.optimizers["encoder"], "step", lambda: None)
    before = snapshot()
    model.train_step(batch)
    assert moved(before) == {"encoder": False, "decoder": False, "d": True}


def test_hali_reconstructs_through_each_level_and_encodes_both():
    model = ImageHALI(HALI_ARCHS["svhn"], seed=8)
    x = DATA[:3].float() / 255
    assert model.encode(x, level=1).mean.shape == (3, 16, 10, 10)
    assert model.encode(x).sample.shape == (3, 256, 1, 1)
    for level in (1, 2):
        assert model.reconstruct(x, level=level).shape == x.shape
    with pytest.raises(ValueError, match="levels"):
        model.reconstruct(x, level=3)
    assert model.sample(2).shape == (2, 3, 32, 32)
    assert model.features(x, "code").shape == (3, 5376) and model.features(x, "paper").shape == (3, 8960)


class _Identity:
    """An oracle reconstructor: inpainting with it must give back the masked input unchanged."""

    @staticmethod
    def reconstruct(x, level):
        return x


def test_inpainting_keeps_known_pixels_and_fills_the_centre():
    x = torch.rand(2, 3, 16, 16)
    mask = centre_mask(x.shape)
    assert float(mask.mean()) == 0.75
    masked, filled = inpaint(_Identity, x, torch.Generator().manual_seed(0))
    assert torch.equal(filled * mask, x * mask)
    assert torch.equal(filled, masked), "an identity reconstruction leaves the noise in the hole"
    model, real = ImageHALI(HALI_ARCHS["svhn"], seed=9), DATA[:2].float() / 255
    masked, filled = inpaint(model, real, torch.Generator().manual_seed(0))
    keep = centre_mask(real.shape)
    assert torch.equal(filled * keep, real * keep) and not torch.equal(filled, masked)


def test_bf16_autocast_and_channels_last_train_on_the_cpu_too():
    """The CUDA fast paths, exercised on the CPU: finite losses, float32 parameters, NHWC weights."""
    model = ImageALI(SVHN, seed=10, runtime=Runtime(device="cpu", bf16=True, channels_last=True))
    result = _fit(model, 2)
    assert result.finished and not result.failures
    conv = model.encoder.stack.convs[1].weight
    assert conv.dtype == torch.float32 and conv.is_contiguous(memory_format=torch.channels_last)


def test_iae_reconstructs_deterministically_without_local_noise_and_stochastically_with_it():
    x = DIGITS[:6].float() / 255
    deterministic = ImageIAE(MNIST, IAE_CONFIGS["mnist"], seed=4)
    assert torch.equal(deterministic.reconstruct(x), deterministic.reconstruct(x))
    stochastic = ImageIAE(MNIST, IAEConfig(**dict(IAE_STOCHASTIC["mnist"])), seed=4)
    first, second = stochastic.reconstruct(x), stochastic.reconstruct(x)
    assert not torch.equal(first, second), "a new draw of the local noise gives another reconstruction"
    z = stochastic.encode(x).mean
    assert torch.equal(z, stochastic.encode(x).mean), "the deterministic encoder's code does not change"
    assert stochastic.decoder.stack.convs[0].in_channels == 10 + 100


def test_stochastic_reconstruction_figure_rows_keep_the_image_and_vary_the_noise_only_with_local_noise(tmp_path):
    x = DIGITS[:3].float() / 255
    stochastic = ImageIAE(MNIST, IAEConfig(**dict(IAE_STOCHASTIC["mnist"])), seed=4)
    rows = stochastic_reconstructions(stochastic, x).view(3, 1 + STOCHASTIC_DRAWS, *x.shape[1:])
    assert torch.equal(rows[:, 0], x), "each row starts with its image"
    assert not torch.equal(rows[:, 1], rows[:, 2]), "each decoding draws new local noise"
    figures = draw_model_figures(stochastic, DIGITS[:16].float() / 255, tmp_path, "iae", seed=0)
    assert "reconstructions_stochastic" in figures
    deterministic = ImageIAE(MNIST, IAE_CONFIGS["mnist"], seed=4)
    assert "reconstructions_stochastic" not in draw_model_figures(deterministic, DIGITS[:16].float() / 255,
                                                                  tmp_path, "iae_det", seed=0)
