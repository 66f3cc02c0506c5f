"""ALI and HALI with Improved-GAN's K+1 discriminator on (x, z) pairs, no feature matching (ALI section 4.3).

The authors never released this code, so every choice here is [ours] and named in KPlusOneConfig and under the
tables.  D is the dataset's ALI (or HALI) discriminator with K logits instead of one (the fake class's logit fixed at
0).  One D pass over [labelled (x, E(x)); unlabelled (x, E(x)); (G(z), z)] gives both players' losses [ours, as the
image ALI does]: D minimises the K-logit cross-entropy of the labelled pairs plus the real-vs-fake terms of the
unlabelled and generated pairs; encoder and decoder minimise ALI's label-swapped adversarial loss on D's real/fake
logit lse(l), on the unlabelled and generated pairs (the cross-entropy moves D only).  One simultaneous update, each
player's gradient with respect to its own parameters.  At test time D classifies (x, mean of q(z|x)), with the
running average of the encoder's and D's parameters.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from benchmark.errors import UserError
from benchmark.models import ModelEntry
from benchmark.models._game import Player, update_players
from benchmark.models._image import seeded
from benchmark.models._semisup import SemiSupervisedConfig, SemiSupervisedModel
from benchmark.nets.ali_image import Decoder, Encoder, ImageArch, JointDiscriminator
from benchmark.nets.hali import HALI_ARCHS, HALIArch, HierarchicalDecoder, HierarchicalDiscriminator, \
    HierarchicalEncoder
from benchmark.nets.image_archs import IMAGE_ARCHS
from benchmark.nets.improved_gan import FM_ARCHS, JointFMDiscriminator
from benchmark.nets.layers import ConvStack
from benchmark.optim import AdamEpsInSqrt
from benchmark.protocols.semisup import k_plus_one_generator_loss, k_plus_one_losses
from benchmark.registry import MODELS
from benchmark.rng import derive_seed
from benchmark.runtime import Runtime
from benchmark.train import SemiBatch

CLASSES = 10


@dataclass(frozen=True)
class KPlusOneConfig(SemiSupervisedConfig):
    """Optimiser and schedule [ours, default]: the Improved-GAN script of the same dataset (MNIST: Adam lr 0.003,
    beta1 0.5, constant; SVHN and CIFAR-10: lr 3e-4, linear decay over the last third of the epochs), Theano's Adam
    (eps inside the square root); running average of the classifier's parameters at rate 1e-4."""


@dataclass(frozen=True)
class ALIKPlusOneConfig(KPlusOneConfig):
    """discriminator [ours, named]: 'ali' (default), the dataset's ALI discriminator with a head of K logits; or
    'improved_gan', Improved-GAN's discriminator of the same dataset with the ALI D(z) pathway and a joint head of K
    logits (nets.improved_gan.JointFMDiscriminator), its weight-normalised layers initialised from the data;
    init_images: how many training images that initialisation sees [code: 500, as Improved-GAN]."""

    discriminator: str = "ali"
    init_images: int = 500

    def __post_init__(self):
        if self.discriminator not in DISCRIMINATORS:
            raise UserError(f"ali_kplus1: unknown discriminator {self.discriminator!r}; valid: "
                            f"{', '.join(DISCRIMINATORS)} (set model.discriminator)")


DISCRIMINATORS = ("ali", "improved_gan")
_SCHEDULES = {"mnist": dict(lr=0.003, decay_fraction=0.0), "svhn": dict(lr=3e-4, decay_fraction=1 / 3),
              "cifar10": dict(lr=3e-4, decay_fraction=1 / 3)}
CONFIGS = {name: KPlusOneConfig(**schedule) for name, schedule in _SCHEDULES.items()}
ALI_CONFIGS = {name: ALIKPlusOneConfig(**schedule) for name, schedule in _SCHEDULES.items()}


def with_class_logits(arch: ImageArch, classes: int = CLASSES) -> ImageArch:
    """The architecture with a joint discriminator head of `classes` logits instead of one."""
    return replace(arch, d_xz=arch.d_xz[:-1] + (replace(arch.d_xz[-1], out=classes),))


class KPlusOneModel(SemiSupervisedModel):
    """Subclasses define the codes of real images (`real_codes`), generated pairs (`fake_pairs`), D on a batch of
    pairs (`discriminate`) and the codes D classifies with at test time (`test_codes`)."""

    @property
    def classes(self) -> int:
        return CLASSES

    def build(self, encoder: nn.Module, decoder: nn.Module, discriminator: nn.Module) -> None:
        self.encoder, self.decoder, self.discriminator = encoder, decoder, discriminator
        self.classifier_net = nn.ModuleDict({"encoder": encoder, "discriminator": discriminator})
        self.finish()
        lr, beta1 = self.config.lr, self.config.beta1
        self.optimizers = {"discriminator": AdamEpsInSqrt(self.discriminator.parameters(), lr, beta1),
                           "generator": AdamEpsInSqrt(self.generating_params(), lr, beta1)}
        self.start_average()

    def generating_params(self) -> list[nn.Parameter]:
        return list(self.encoder.parameters()) + list(self.decoder.parameters())

    def real_codes(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError

    def test_codes(self, encoder: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError

    def fake_pairs(self, n: int) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        raise NotImplementedError

    def discriminate(self, discriminator: nn.Module, x: torch.Tensor, codes: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return discriminator(x, *codes).view(len(x), -1)

    def logits(self, net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return self.discriminate(net["discriminator"], x, self.test_codes(net["encoder"], x))

    def train_step(self, batch: SemiBatch) -> dict[str, torch.Tensor]:
        self.train()
        self.set_learning_rates()
        x_real = torch.cat([self.unit(batch.x_lab), self.unit(batch.x_unl)])
        n = len(batch.x_lab)
        real_codes = self.real_codes(x_real)  # one encoder pass over labelled and unlabelled images
        x_fake, fake_codes = self.fake_pairs(len(batch.x_unl))
        codes = tuple(torch.cat([r, f.to(r.dtype)]) for r, f in zip(real_codes, fake_codes))
        logits = self.discriminate(self.discriminator, torch.cat([x_real, x_fake.to(x_real.dtype)]), codes).float()
        y = batch.y_lab.to(self.runtime.device)
        loss_lab, loss_unl = k_plus_one_losses(logits[:n], y, logits[n:len(x_real)], logits[len(x_real):])
        d_loss = loss_lab + self.config.unlabelled_weight * loss_unl
        g_loss = k_plus_one_generator_loss(logits[n:len(x_real)], logits[len(x_real):])
        update_players([Player(d_loss.view(1), list(self.discriminator.parameters()), self.optimizers["discriminator"]),
                        Player(g_loss.view(1), self.generating_params(), self.optimizers["generator"])])
        self.after_update()
        train_error = (logits[:n].argmax(1) != y).float().mean()
        return {"loss_lab": loss_lab.detach().view(1), "loss_unl": loss_unl.detach().view(1),
                "g_loss": g_loss.detach().view(1), "train_error": train_error.view(1)}


class ALIKPlusOne(KPlusOneModel):
    def __init__(self, arch: ImageArch, config: ALIKPlusOneConfig, seed: int = 0, runtime: Runtime = Runtime()):
        k_arch = with_class_logits(arch)
        super().__init__(k_arch, config, seed, runtime)
        with seeded(self.init_seed):
            encoder, decoder = Encoder(k_arch), Decoder(k_arch)
            if config.discriminator == "ali":
                discriminator = JointDiscriminator(k_arch)
            else:
                d_z = ConvStack(arch.z_dim, arch.d_z, arch.slope)
                discriminator = JointFMDiscriminator(FM_ARCHS[arch.name], d_z, d_z.out_channels)
        self.build(encoder, decoder, discriminator)

    @torch.no_grad()
    def init_from_data(self, images: torch.Tensor) -> None:
        """The decoder's pixel bias; with the Improved-GAN discriminator also its data-dependent initialisation on
        `init_images` training images drawn with the model's seed, paired with z ~ N(0, I) [ours], noise and dropout
        on as in Improved-GAN's init pass."""
        super().init_from_data(images)
        if self.config.discriminator == "improved_gan":
            generator = torch.Generator().manual_seed(derive_seed(self.seed, "init"))
            x = self.unit(images[torch.randperm(len(images), generator=generator)[: self.config.init_images]])
            self.train()
            self.discriminator.initialise(x, self.randn(len(x), self.arch.z_dim, 1, 1))

    def real_codes(self, x):
        mu, log_sigma = self.encoder(x)
        return (self.sample_like(mu, log_sigma),)

    def test_codes(self, encoder, x):
        return (encoder(x)[0],)

    def fake_pairs(self, n):
        z = self.randn(n, self.arch.z_dim, 1, 1)
        return self.decoder(z), (z,)


class HALIKPlusOne(KPlusOneModel):
    """HALI's triples (x, z1, z2): real z1 ~ q(z1|x), z2 ~ q(z2|z1); fake z2 ~ N(0, I), z1 ~ p(z1|z2), x ~ p(x|z1)."""

    def __init__(self, arch: HALIArch, config: KPlusOneConfig, seed: int = 0, runtime: Runtime = Runtime()):
        k_arch = replace(arch, base=with_class_logits(arch.base))
        super().__init__(k_arch.base, config, seed, runtime)
        with seeded(self.init_seed):
            parts = HierarchicalEncoder(k_arch), HierarchicalDecoder(k_arch), HierarchicalDiscriminator(k_arch)
        self.build(*parts)

    def real_codes(self, x):
        z1 = self.sample_like(*self.encoder.level1(x))
        return z1, self.sample_like(*self.encoder.level2(z1))

    def test_codes(self, encoder, x):
        mu1 = encoder.level1(x)[0]
        return mu1, encoder.level2(mu1)[0]

    def fake_pairs(self, n):
        z2 = self.randn(n, self.arch.z_dim, 1, 1)
        z1 = self.sample_like(*self.decoder.level2(z2))
        return self.decoder.level1(z1), (z1, z2)


def _builders(model_cls, archs: dict, configs: dict) -> dict:
    def builder(arch):
        def build(config: KPlusOneConfig = configs[arch.name], seed: int = 0, runtime: Runtime = Runtime()):
            return model_cls(arch, config, seed, runtime)
        return build
    return {name: builder(arch) for name, arch in archs.items() if name in configs}


MODELS.register("ali_kplus1", ModelEntry(
    "ali_kplus1", "ALI with Improved-GAN's K+1 discriminator on (x, z), no feature matching (ALI section 4.3) [ours]",
    _builders(ALIKPlusOne, {a.name: a for a in IMAGE_ARCHS}, ALI_CONFIGS), ALI_CONFIGS, semi_supervised=True))
MODELS.register("hali_kplus1", ModelEntry(
    "hali_kplus1", "HALI with the K+1 discriminator on (x, z1, z2), no feature matching [ours]",
    _builders(HALIKPlusOne, HALI_ARCHS, CONFIGS), CONFIGS, semi_supervised=True))
