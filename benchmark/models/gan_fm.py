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
from benchmark.nets.improved_gan import MNIST_FM, MnistFMDiscriminator, MnistFMGenerator, SemiArch
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


NETWORKS = {"mnist": (MNIST_FM, MnistFMDiscriminator, MnistFMGenerator)}
CONFIGS = {"mnist": FeatureMatchingConfig(lr=0.003, decay_fraction=0.0, fm_norm="square")}  # [code] constant lr


class FeatureMatchingGAN(SemiSupervisedModel):
    def __init__(self, arch: SemiArch, discriminator_cls, generator_cls, config: FeatureMatchingConfig,
                 seed: int = 0, runtime: Runtime = Runtime()):
        super().__init__(arch, config, seed, runtime)
        with seeded(self.init_seed):
            self.discriminator = discriminator_cls(arch.classes)
            self.generator = generator_cls(arch.z_dim)
        self.classifier_net = self.discriminator
        self.finish()
        self.optimizers = {"discriminator": AdamEpsInSqrt(self.discriminator.parameters(), config.lr, config.beta1),
                           "generator": AdamEpsInSqrt(self.generator.parameters(), config.lr, config.beta1)}
        self.start_average()

    @torch.no_grad()
    def init_from_data(self, images: torch.Tensor) -> None:
        """Data-dependent initialisation of D on `init_images` training images drawn with the model's seed [code:
        the first 500 after the data permutation], noise on as in the official init pass."""
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(derive_seed(self.seed, "init")))
        self.discriminator.train()
        self.discriminator.initialise(self.unit(images[order[: self.config.init_images]]))

    def z(self, n: int) -> torch.Tensor:
        """z ~ U[0, 1)^z_dim [code]."""
        return torch.rand(n, self.arch.z_dim, generator=self.noise, device=self.noise.device)

    def train_step(self, batch: SemiBatch) -> dict[str, torch.Tensor]:
        self.train()
        self.set_learning_rates()
        x_lab, x_unl, x_unl2 = self.unit(batch.x_lab), self.unit(batch.x_unl), self.unit(batch.x_unl2)
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
        self.eval()
        return self.generator(self.z(n))


def _builder(arch_name: str):
    arch, d_cls, g_cls = NETWORKS[arch_name]

    def build(config: FeatureMatchingConfig = CONFIGS[arch_name], seed: int = 0, runtime: Runtime = Runtime()):
        return FeatureMatchingGAN(arch, d_cls, g_cls, config, seed, runtime)

    return build


MODELS.register("gan_fm", ModelEntry(
    "gan_fm", "Improved-GAN: semi-supervised K-logit D with feature matching (Salimans et al. 2016)",
    {name: _builder(name) for name in NETWORKS}, CONFIGS, semi_supervised=True))
