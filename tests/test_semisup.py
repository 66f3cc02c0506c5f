"""The semi-supervised protocol and families: the K+1 loss, feature matching, the labelled draw, the parameter
average, the learning-rate schedule, the streams, and that every player moves only its own parameters."""
import math
from dataclasses import replace

import pytest
import torch

from benchmark.models.aae_semi import SemiSupervisedAAE, MNIST_AAE, SemiAAEConfig
from benchmark.models._game import update_players
from benchmark.models.iae_semi import SemiIAEConfig, SemiSupervisedIAE
from benchmark.models.gan_fm import CONFIGS as FM_CONFIGS, _builder as fm_builder
from benchmark.errors import UserError
from benchmark.models.kplus1 import ALI_CONFIGS, CONFIGS as KP_CONFIGS, ALIKPlusOne, HALIKPlusOne
from benchmark.nets.hali import HALI_ARCHS
from benchmark.nets.mnist import MNIST
from benchmark.optim import AdamEpsInSqrt, ParameterAverage
from benchmark.protocols.semisup import (feature_matching, k_plus_one_generator_loss, k_plus_one_losses,
                                         labelled_draw, count_errors)
from benchmark.train import SemiBatch, SemiSupervisedBatcher


def test_k_plus_one_losses_on_hand_computed_logits():
    lab = torch.tensor([[0.0, math.log(3.0)]])  # p(class 1 | real) = 3/4
    unl = torch.tensor([[0.0, 0.0]])  # lse = log 2: p(fake) = 1/3
    fake = torch.tensor([[math.log(0.5), math.log(0.5)]])  # lse = 0: p(fake) = 1/2
    loss_lab, loss_unl = k_plus_one_losses(lab, torch.tensor([1]), unl, fake)
    assert loss_lab.item() == pytest.approx(math.log(4 / 3))
    # -1/2 log(1 - 1/3) - 1/2 log(1/2) = -1/2 log 2 + 1/2 log 3 + 1/2 log 2
    assert loss_unl.item() == pytest.approx(0.5 * math.log(3.0))
    # the generating side: -log p_fake(real) - log(1 - p_fake(fake)) = -log(1/3) - log(1/2)
    assert k_plus_one_generator_loss(unl, fake).item() == pytest.approx(math.log(3.0) + math.log(2.0))


def test_the_fake_logit_is_fixed_at_zero():
    """Adding c to every real logit is the K+1 softmax with the fake logit at -c: p(fake) must change."""
    logits = torch.randn(8, 10)
    _, low = k_plus_one_losses(logits[:1], torch.tensor([0]), logits, logits - 5)
    _, high = k_plus_one_losses(logits[:1], torch.tensor([0]), logits, logits + 5)
    assert low.item() < high.item()


def test_feature_matching_is_zero_when_the_means_are_equal():
    real = torch.randn(50, 7)
    same_mean = real[torch.randperm(50)] * 1.0
    assert feature_matching(real, same_mean).item() == pytest.approx(0.0, abs=1e-12)
    assert feature_matching(real, same_mean, "abs").item() == pytest.approx(0.0, abs=1e-6)
    shifted = real + 2.0
    assert feature_matching(real, shifted).item() == pytest.approx(4.0)
    assert feature_matching(real, shifted, "abs").item() == pytest.approx(2.0)
    with pytest.raises(ValueError):
        feature_matching(real, shifted, "cube")


def test_labelled_draw_is_class_balanced_seeded_and_the_first_of_each_class_after_the_permutation():
    labels = torch.arange(1000) % 10
    draw = labelled_draw(labels, 7, seed=3)
    assert len(draw) == 70 and len(set(draw.tolist())) == 70
    assert torch.bincount(labels[draw], minlength=10).tolist() == [7] * 10
    assert torch.equal(draw, labelled_draw(labels, 7, seed=3))
    assert not torch.equal(draw, labelled_draw(labels, 7, seed=4))
    order = torch.randperm(1000, generator=torch.Generator().manual_seed(3))
    first_of_class_2 = order[labels[order] == 2][:7]
    assert torch.equal(draw[labels[draw] == 2], first_of_class_2)
    with pytest.raises(ValueError, match="fewer"):
        labelled_draw(labels, 101, seed=0)


def test_test_errors_counts_argmax_mistakes():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 0.0]])
    assert count_errors(logits, torch.tensor([0, 0, 0])) == {"errors": 1, "error_rate": 1 / 3, "n": 3}
    with pytest.raises(ValueError):
        count_errors(logits, torch.tensor([0]))


def test_the_parameter_average_after_known_updates():
    net = torch.nn.Linear(1, 1, bias=False)
    avg = ParameterAverage(net, rate=0.5)
    for value in (2.0, 4.0):
        with torch.no_grad():
            net.weight.fill_(value)
        avg.update(net)
    # starts at 0 [code]: 0 -> 0 + 0.5 (2 - 0) = 1 -> 1 + 0.5 (4 - 1) = 2.5
    assert avg.averaged_state(net)["weight"].item() == pytest.approx(2.5)
    assert net.weight.item() == 4.0, "the live parameters are untouched"


def test_theano_adam_puts_eps_inside_the_square_root():
    p = torch.nn.Parameter(torch.tensor([0.0]))
    opt = AdamEpsInSqrt([p], lr=0.1, beta1=0.5, beta2=0.999, eps=1e-2)
    p.grad = torch.tensor([1e-3])
    opt.step()
    # m_hat = g, v_hat = g^2: step = lr * g / sqrt(g^2 + eps)
    assert p.item() == pytest.approx(-0.1 * 1e-3 / math.sqrt(1e-6 + 1e-2))


def test_the_learning_rate_decays_over_the_last_third_as_the_svhn_script():
    model = ALIKPlusOne(MNIST, replace(ALI_CONFIGS["mnist"], lr=3e-4, decay_fraction=1 / 3))
    model.set_training_length(steps=900 * 10, steps_per_epoch=10)
    factors = {}
    for epoch in (0, 599, 600, 750, 899):
        model.step_count = epoch * 10
        factors[epoch] = model.lr_factor()
    # the official min(3 - epoch/300, 1)
    assert factors == pytest.approx({e: min(3 - e / 300, 1.0) for e in factors})


def test_each_optimiser_keeps_its_own_base_rate_under_the_schedule():
    """The AAE's adversarial phases run at adversarial_lr, its other phases at lr, before and after the decay (the
    schedule once set every optimiser to lr)."""
    model = SemiSupervisedAAE(MNIST_AAE, SemiAAEConfig(hidden=16, lr=1e-3, adversarial_lr=2e-4, decay_fraction=0.5))
    model.set_training_length(steps=40, steps_per_epoch=10)

    def rates():
        return {name: o.param_groups[0]["lr"] for name, o in model.optimizers.items()}

    model.train_step(_mnist_batch())
    assert rates() == {"reconstruction": 1e-3, "discriminators": 2e-4, "generator": 2e-4, "classifier": 1e-3}
    model.step_count = 30  # epoch 3 of 4: factor (4 - 3) / 2
    model.set_learning_rates()
    assert rates() == pytest.approx({"reconstruction": 5e-4, "discriminators": 1e-4, "generator": 1e-4,
                                     "classifier": 5e-4})


def test_the_streams_repeat_the_labelled_set_and_pass_over_every_image():
    images = torch.arange(60).view(60, 1, 1, 1).to(torch.uint8)
    labels = torch.arange(60) % 3
    labelled = torch.tensor([0, 1, 2])
    batcher = SemiSupervisedBatcher(images, labels, labelled, batch_size=6, seed=0)
    seen = []
    for _ in range(10):  # one epoch of the unlabelled stream
        batch = batcher.next()
        assert set(batch.x_lab.flatten().tolist()) <= {0, 1, 2}
        assert torch.equal(batch.y_lab, labels[batch.x_lab.flatten().long()])
        seen += batch.x_unl.flatten().tolist()
    assert sorted(seen) == list(range(60))
    state = batcher.state_dict()
    after = batcher.next()
    batcher.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(after, batcher.next()))


def _mnist_batch(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = lambda: torch.randint(0, 256, (n, 1, 28, 28), generator=g, dtype=torch.uint8)  # noqa: E731
    return SemiBatch(images(), torch.arange(n) % 10, images(), images())


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def _moved(before, module):
    return [not torch.equal(a, b) for a, b in zip(before, module.parameters())]


def _freeze(optimizer, monkeypatch):
    monkeypatch.setattr(optimizer, "step", lambda *a, **k: None)


def _generating_modules(model):
    return [getattr(model, n) for n in ("generator", "encoder", "decoder") if hasattr(model, n)]


@pytest.mark.parametrize("family", ["gan_fm", "ali_kplus1", "ali_kplus1_improved_gan_d", "hali_kplus1"])
@pytest.mark.parametrize("frozen", ["discriminator", "generator"])
def test_each_player_moves_only_its_own_parameters(family, frozen, monkeypatch):
    """With one player's optimiser switched off, a whole update leaves that player's parameters as they were."""
    model = _build(family)
    _freeze(model.optimizers[frozen], monkeypatch)
    frozen_modules = [model.discriminator] if frozen == "discriminator" else _generating_modules(model)
    moving_modules = _generating_modules(model) if frozen == "discriminator" else [model.discriminator]
    before = [_params(m) for m in frozen_modules + moving_modules]
    model.train_step(_mnist_batch())
    moved = [any(_moved(b, m)) for b, m in zip(before, frozen_modules + moving_modules)]
    assert moved == [False] * len(frozen_modules) + [True] * len(moving_modules)
    assert all(p.grad is None for p in model.parameters()), "no gradient is left behind"


def _build(family):
    if family == "gan_fm":
        model = fm_builder("mnist")(FM_CONFIGS["mnist"])
        model.init_from_data(torch.randint(0, 256, (600, 1, 28, 28), dtype=torch.uint8))
        return model
    if family == "ali_kplus1":
        return ALIKPlusOne(MNIST, ALI_CONFIGS["mnist"])
    if family == "ali_kplus1_improved_gan_d":
        model = ALIKPlusOne(MNIST, replace(ALI_CONFIGS["mnist"], discriminator="improved_gan"))
        model.init_from_data(_mnist_batch(600, seed=1).x_unl)
        return model
    return HALIKPlusOne(HALI_ARCHS["mnist"], KP_CONFIGS["mnist"])


@pytest.mark.parametrize("family", ["ali_kplus1", "ali_kplus1_improved_gan_d", "hali_kplus1"])
def test_the_labelled_cross_entropy_moves_the_discriminator_only(family, monkeypatch):
    """Labels enter only through the cross-entropy: with other labels, D's step changes, the encoder's does not."""
    after = {}
    for shift in (0, 3):
        model = _build(family)
        batch = _mnist_batch()
        model.train_step(batch._replace(y_lab=(batch.y_lab + shift) % 10))
        after[shift] = (_params(model.encoder), _params(model.discriminator))
    assert all(torch.equal(a, b) for a, b in zip(after[0][0], after[3][0]))
    assert not all(torch.equal(a, b) for a, b in zip(after[0][1], after[3][1]))


def test_an_unknown_kplus1_discriminator_is_refused_with_the_valid_names():
    with pytest.raises(UserError, match="ali, improved_gan"):
        replace(ALI_CONFIGS["mnist"], discriminator="improved")


def test_the_improved_gan_discriminator_option_on_svhn_reads_both_pathways():
    """SVHN: Improved-GAN's conv D on x in [-1, 1] (its 128 pooled features, no output layer of its own) and ALI's
    512-unit D(z) feed one head of 10 logits; z changes the logits; an update runs with finite losses."""
    from benchmark.nets.svhn import SVHN

    model = ALIKPlusOne(SVHN, replace(ALI_CONFIGS["svhn"], discriminator="improved_gan", init_images=16))
    d = model.discriminator
    assert d.d_x.head is None and d.head.layer.in_features == 128 + 512
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    model.init_from_data(images)
    model.eval()
    x, z = model.unit(images[:4]), model.randn(4, SVHN.z_dim, 1, 1)
    logits = model.discriminate(d, x, (z,))
    assert logits.shape == (4, 10)
    assert not torch.allclose(logits, model.discriminate(d, x, (z + 1,)))
    batch = SemiBatch(images[:4], torch.arange(4), images[4:8], images[8:12])
    assert all(torch.isfinite(v).all() for v in model.train_step(batch).values())


def test_the_aae_phases_move_their_own_networks():
    model = SemiSupervisedAAE(MNIST_AAE, SemiAAEConfig(hidden=32))
    before = {name: _params(getattr(model, name)) for name in ("encoder", "decoder", "d_y", "d_z")}
    losses = model.train_step(_mnist_batch())
    assert set(losses) == {"recon", "d_loss", "g_loss", "class_loss"}
    for name, params in before.items():
        assert any(_moved(params, getattr(model, name))), f"{name} did not move"
    assert all(p.grad is None for p in model.parameters())
    logits = model.classify(torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8))
    assert logits.shape == (5, 10)


IAE_PLAYERS = ("d_rec", "d_y", "d_z", "decoder", "encoder")
IAE_SETTINGS = {"style code": {}, "no style code": {"style_dim": 0, "noise_dim": 5}}  # the latter: no D_z


@pytest.mark.parametrize("setting, frozen", [(setting, frozen) for setting in IAE_SETTINGS for frozen in IAE_PLAYERS
                                             if not (frozen == "d_z" and IAE_SETTINGS[setting].get("style_dim") == 0)])
def test_each_semi_iae_player_moves_only_its_own_network(setting, frozen, monkeypatch):
    """The adversarial players of one update: with one player's optimiser off, its network stays as it was and
    every other network moves (each gradient from its own loss, none left behind)."""
    model = SemiSupervisedIAE(MNIST_AAE, SemiIAEConfig(hidden=32, **IAE_SETTINGS[setting]))
    players = [name for name in IAE_PLAYERS if getattr(model, name) is not None]
    _freeze(model.optimizers[frozen], monkeypatch)
    before = {name: _params(getattr(model, name)) for name in players}
    model.train()
    update_players(list(model.players(model.unit(_mnist_batch().x_unl)).values()))
    assert {name: any(_moved(params, getattr(model, name))) for name, params in before.items()} == \
        {name: name != frozen for name in players}
    assert all(p.grad is None for p in model.parameters())


def test_an_iae_without_style_code_codes_by_content_alone_and_its_local_noise_varies_the_reconstructions():
    """style_dim 0 (the slides' clustering setting): no style head, no D_z; D_rec reads (x, y), the decoder (y, n)."""
    model = SemiSupervisedIAE(MNIST_AAE, SemiIAEConfig(hidden=32, **IAE_SETTINGS["no style code"]))
    assert model.d_z is None and model.encoder.z_head is None and "d_z" not in model.optimizers
    assert model.d_rec[0].in_features == 28 * 28 + 10 and model.decoder[0].in_features == 10 + 5
    x = model.unit(_mnist_batch(4, seed=2).x_unl)
    assert not torch.equal(model.reconstruct(x), model.reconstruct(x))


def test_the_aae_refuses_a_style_code_of_no_dimensions():
    with pytest.raises(UserError, match="style_dim must be >= 1"):
        SemiAAEConfig(style_dim=0)
    with pytest.raises(UserError, match="style_dim and noise_dim must be >= 0"):
        SemiIAEConfig(style_dim=-1)


def test_semi_iae_labels_reach_only_the_classifier_and_its_reconstructions_follow_the_local_noise():
    after = {}
    for shift in (0, 3):
        model = SemiSupervisedIAE(MNIST_AAE, SemiIAEConfig(hidden=32))
        batch = _mnist_batch()
        losses = model.train_step(batch._replace(y_lab=(batch.y_lab + shift) % 10))
        assert set(losses) == {*IAE_PLAYERS, "class_loss"}
        after[shift] = {name: _params(getattr(model, name)) for name in IAE_PLAYERS}
    for name in IAE_PLAYERS:
        same = all(torch.equal(a, b) for a, b in zip(after[0][name], after[3][name]))
        assert same == (name != "encoder"), name
    x = model.unit(_mnist_batch(4, seed=2).x_unl)
    assert torch.equal(model.reconstruct(x), model.reconstruct(x)), "no local noise: deterministic"
    noisy = SemiSupervisedIAE(MNIST_AAE, SemiIAEConfig(hidden=32, noise_dim=5))
    assert noisy.reconstruct(x).shape == (4, 1, 28, 28)
    assert not torch.equal(noisy.reconstruct(x), noisy.reconstruct(x)), "local noise: a fresh draw each call"
    with pytest.raises(UserError, match="noise_dim"):
        SemiIAEConfig(noise_dim=-1)


@pytest.mark.parametrize("family, overrides", [("aae_cluster", {}), ("iae_cluster", {}),
                                               ("iae_cluster", {"style_dim": 0, "noise_dim": 5})])
def test_the_clustering_families_train_from_images_alone(family, overrides):
    """No label enters: a plain (1, B, C, H, W) batch, no classification phase, and the whole code moves."""
    from benchmark.registry import MODELS

    entry = MODELS.get(family)
    assert entry.clustering and not entry.semi_supervised
    model = entry.archs["mnist"](replace(entry.config, hidden=32, **overrides))
    before = _params(model.encoder)
    losses = model.train_step(_mnist_batch().x_unl.unsqueeze(0))
    assert "class_loss" not in losses and all(torch.isfinite(v).all() for v in losses.values())
    assert any(_moved(before, model.encoder))
    assert model.classify(_mnist_batch(5).x_unl).shape == (5, 10)


def test_classify_uses_the_average_and_puts_the_live_parameters_back():
    model = _build("gan_fm")
    model.train_step(_mnist_batch())
    live = _params(model.discriminator)
    images = torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8)
    averaged, current = model.classify(images), model.classify(images, state={})
    assert not torch.allclose(averaged, current)
    assert all(torch.equal(a, b) for a, b in zip(live, model.discriminator.parameters()))
    assert model.training, "classify leaves the model in the mode it found"


def test_perf_counts_an_update_and_refuses_bad_seed_counts():
    from benchmark.errors import UserError
    from benchmark.perf import _seed_counts
    from benchmark.perf_semi import update_flops

    assert _seed_counts("1,2") == [1, 2]
    for bad in ("0", "a", ""):
        with pytest.raises(UserError):
            _seed_counts(bad)
    assert update_flops("aae_semi", "mnist", 4) > 0


@pytest.mark.parametrize("layer, shape", [
    (lambda: torch.nn.Conv2d(3, 8, 3, padding=1, bias=False), (16, 3, 8, 8)),
    (lambda: torch.nn.ConvTranspose2d(3, 8, 5, 2, 2, output_padding=1, bias=False), (16, 3, 4, 4)),
    (lambda: torch.nn.Linear(20, 8, bias=False), (64, 20)),
])
def test_data_dependent_init_gives_each_unit_mean_0_and_the_asked_std(layer, shape):
    from benchmark.nets.improved_gan import WeightNorm

    wn = WeightNorm(layer(), None, train_g=True, init_stdv=0.1)
    x = torch.randn(*shape)
    wn.initialise(x)
    y = wn(x)
    axes = (0,) + tuple(range(2, y.dim()))
    assert torch.allclose(y.mean(axes), torch.zeros(8), atol=1e-5)
    assert torch.allclose(y.std(axes, unbiased=False), torch.full((8,), 0.1), atol=1e-4)


def test_mnist_dense_init_normalises_the_pre_activations():
    from benchmark.nets.improved_gan import WeightNormDense

    layer = WeightNormDense(30, 5, train_scale=False, relu=False)
    x = torch.randn(200, 30) * 3 + 1
    layer.initialise(x)
    y = layer(x)
    assert torch.allclose(y.mean(0), torch.zeros(5), atol=1e-5)
    assert torch.allclose(y.std(0, unbiased=False), torch.ones(5), atol=1e-4)
