"""Improved-GAN's semi-supervised GAN with feature matching (Salimans et al. 2016), as its official code trains it.

Each update [code]: one D step on a labelled batch, an unlabelled batch and a generated batch (the K-logit loss with
the fake logit fixed at 0), the parameter average of D moved, then one G step that matches the batch mean of D's
feature layer on a second unlabelled batch and on a fresh generated batch.  Each step moves only its own player's
parameters (torch.autograd.grad with respect to them).  Test error is measured with the average of D.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from benchmark.models import ModelEntry
from benchmark.models._game import Player, update_players
from benchmark.models._image import seeded
from benchmark.models._semisup import SemiSupervisedConfig, SemiSupervisedModel
from benchmark.nets.improved_gan import (CIFAR10_FM, MNIST_FM, SVHN_FM, ConvFMDiscriminator, ConvFMGenerator,
                                         MnistFMDiscriminator, MnistFMGenerator, SemiArch)
from benchmark.optim import AdamEpsInSqrt
from benchmark.protocols.semisup import feature_matching, k_plus_one_losses
from benchmark.registry import MODELS
from benchmark.rng import derive_seed
from benchmark.runtime import Runtime
from benchmark.train import SemiBatch


@dataclass(frozen=True)
class FeatureMatchingConfig(SemiSupervisedConfig):
    """fm_norm: 'square' (MNIST) or 'abs' (SVHN, CIFAR-10) of the feature-mean difference [code]; init_images: how
    many training images the data-dependent initialisation sees [code: 500]."""

    fm_norm: str = "square"
    init_images: int = 500


NETWORKS = {"mnist": (MNIST_FM, MnistFMDiscriminator, MnistFMGenerator),
            "svhn": (SVHN_FM, ConvFMDiscriminator, ConvFMGenerator),
            "cifar10": (CIFAR10_FM, ConvFMDiscriminator, ConvFMGenerator)}
CONFIGS = {"mnist": FeatureMatchingConfig(lr=0.003, decay_fraction=0.0, fm_norm="square"),  # [code] constant lr
           # [code] lr 3e-4 * min(3 - epoch/300, 1) over 900 epochs (CIFAR-10: /400 over 1200): the last third
           "svhn": FeatureMatchingConfig(lr=3e-4, decay_fraction=1 / 3, fm_norm="abs"),
           "cifar10": FeatureMatchingConfig(lr=3e-4, decay_fraction=1 / 3, fm_norm="abs")}


class FeatureMatchingGAN(SemiSupervisedModel):
    def __init__(self, arch: SemiArch, discriminator_cls, generator_cls, config: FeatureMatchingConfig,
                 seed: int = 0, runtime: Runtime = Runtime()):
        super().__init__(arch, config, seed, runtime)
        with seeded(self.init_seed):
            self.discriminator = discriminator_cls(arch)
            self.generator = generator_cls(arch.z_dim)
        self.classifier_net = self.discriminator
        self.finish()
        self.optimizers = {"discriminator": AdamEpsInSqrt(self.discriminator.parameters(), config.lr, config.beta1),
                           "generator": AdamEpsInSqrt(self.generator.parameters(), config.lr, config.beta1)}
        self.start_average()

    @torch.no_grad()
    def init_from_data(self, images: torch.Tensor) -> None:
        """Data-dependent initialisation of D on `init_images` training images drawn with the model's seed [code:
        MNIST the first 500 after the data permutation, SVHN / CIFAR-10 the first 500 of the labelled stream; ours
        are any 500 training images], noise and dropout on as in the official init pass; and of G's weight-normalised
        output layer on one generated batch [code]."""
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(derive_seed(self.seed, "init")))
        self.train()
        self.discriminator.initialise(self.input(images[order[: self.config.init_images]]))
        if hasattr(self.generator, "initialise"):
            self.generator.initialise(self.z(100))

    def input(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images in the networks' input scale."""
        return self.arch.to_input(self.unit(images))

    def logits(self, net, x: torch.Tensor) -> torch.Tensor:
        return net(self.arch.to_input(x))

    def z(self, n: int) -> torch.Tensor:
        """z ~ U[0, 1)^z_dim [code]."""
        return torch.rand(n, self.arch.z_dim, generator=self.noise, device=self.noise.device)

    def train_step(self, batch: SemiBatch) -> dict[str, torch.Tensor]:
        self.train()
        self.set_learning_rates()
        x_lab, x_unl, x_unl2 = self.input(batch.x_lab), self.input(batch.x_unl), self.input(batch.x_unl2)
        y_lab = batch.y_lab.to(self.runtime.device)
        n = len(x_lab)
        with torch.no_grad():
            fake = self.generator(self.z(n))
        # D has no batch statistics, so one pass over [lab; unl; fake] is three passes with independent noise
        logits = self.discriminator(torch.cat([x_lab, x_unl, fake]))
        loss_lab, loss_unl = k_plus_one_losses(logits[:n], y_lab, logits[n:2 * n], logits[2 * n:])
        d_loss = loss_lab + self.config.unlabelled_weight * loss_unl
        update_players([Player(d_loss.view(1), list(self.discriminator.parameters()),
                               self.optimizers["discriminator"])])
        fake = self.generator(self.z(len(x_unl2)))
        _, features = self.discriminator(torch.cat([x_unl2, fake]), features=True)
        g_loss = feature_matching(features[: len(x_unl2)], features[len(x_unl2):], self.config.fm_norm)
        update_players([Player(g_loss.view(1), list(self.generator.parameters()), self.optimizers["generator"])])
        self.after_update()
        train_error = (logits[:n].argmax(1) != y_lab).float().mean()
        return {"loss_lab": loss_lab.detach().view(1), "loss_unl": loss_unl.detach().view(1),
                "g_loss": g_loss.detach().view(1), "train_error": train_error.view(1)}

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """Generated images in [0, 1]."""
        self.eval()
        return ((self.generator(self.z(n)) * self.arch.scale + self.arch.shift) / 255.0).clamp(0, 1)


def _builder(arch_name: str):
    arch, d_cls, g_cls = NETWORKS[arch_name]

    def build(config: FeatureMatchingConfig = CONFIGS[arch_name], seed: int = 0, runtime: Runtime = Runtime()):
        return FeatureMatchingGAN(arch, d_cls, g_cls, config, seed, runtime)

    return build


MODELS.register("gan_fm", ModelEntry(
    "gan_fm", "Improved-GAN: semi-supervised K-logit D with feature matching (Salimans et al. 2016)",
    {name: _builder(name) for name in NETWORKS}, CONFIGS, semi_supervised=True))
