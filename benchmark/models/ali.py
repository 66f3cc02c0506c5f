"""ALI: encoder q(z|x) and decoder p(x|z) against one discriminator on (x, z) pairs.

The gmm encoder is the official code's noise-concatenating one.  The "GAN + post-hoc learned inference" variant of
ALI Figure 7 is the same game with a trained GAN's generator frozen: only the encoder and a fresh discriminator learn.
On images (the SVHN, CIFAR-10 and CelebA networks) the encoder is Gaussian, reparameterised; BiGAN is the same model with
a deterministic encoder.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from benchmark.models import ModelEntry
from benchmark.models._game import Player, discriminator_game
from benchmark.models._image import AdamConfig, Encoding, ImageAutoencoder, TwoPlayerGame, seeded
from benchmark.models._stacked import NoiseEncoderModel
from benchmark.nets import toy
from benchmark.nets.ali_image import Decoder, Encoder, ImageArch, JointDiscriminator
from benchmark.nets.image_archs import IMAGE_ARCHS
from benchmark.registry import MODELS
from benchmark.runtime import Runtime


class ToyALI(NoiseEncoderModel):
    def __init__(self, sizes, hparams, seeds, device="cpu", train_decoder: bool = True):
        super().__init__(sizes, hparams, seeds, device, train_decoder)
        self.discriminator = toy.Discriminator(self.init_gens, sizes, self.init_std, sizes.x_dim + sizes.z_dim)
        self.optimizers = {"discriminator": self.adam(list(self.discriminator.parameters())),
                           "generator": self.adam(self.generating_params())}

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        n = batch.shape[1]
        z_hat = self._encode(batch, self.noise)
        z = self.noise.randn(n, self.sizes.z_dim)
        pairs = torch.cat([torch.cat([batch, z_hat], -1), torch.cat([self.decoder(z), z], -1)], dim=1)
        return discriminator_game(self.discriminator(pairs), n, self.discriminator, self.generating_params(),
                                  self.optimizers)


class ToyPosthocInference(ToyALI):
    """GAN + post-hoc learned inference: load a GAN run's decoder, then train encoder and discriminator."""

    def __init__(self, sizes, hparams, seeds, device="cpu"):
        super().__init__(sizes, hparams, seeds, device, train_decoder=False)


@dataclass(frozen=True)
class ALIConfig(AdamConfig):
    deterministic_encoder: bool = False  # True: BiGAN's E(x) = mu(x)


class ImageALI(TwoPlayerGame, ImageAutoencoder):
    """ALI (or BiGAN) on images: one run, trained by benchmark.train.train like the stacked toy models.

    Images are used in [0, 1] [code]; the discriminator runs once on the concatenated real and fake pairs [code].
    """

    def __init__(self, arch: ImageArch, config: ALIConfig = ALIConfig(), seed: int = 0, runtime: Runtime = Runtime()):
        super().__init__(arch, seed, runtime)
        self.config = config
        with seeded(self.init_seed):
            self.encoder, self.decoder = Encoder(arch), Decoder(arch)
            self.discriminator = JointDiscriminator(arch)
        self.finish()
        self.optimizers = {"discriminator": config.adam(self.discriminator.parameters()),
                           "generator": config.adam(self.generating_params())}

    def generating_params(self) -> list[nn.Parameter]:
        return list(self.encoder.parameters()) + list(self.decoder.parameters())

    def _encode(self, x: torch.Tensor) -> Encoding:
        """The mean of q(z|x) and a draw of it (the mean again for BiGAN)."""
        mu, log_sigma = self.encoder(x)
        if self.config.deterministic_encoder:
            return Encoding(mu, mu)
        return Encoding(mu, self.sample_like(mu, log_sigma))

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        x = self.images(batch)
        n = len(x)
        z_hat = self._encode(x).sample
        z = self.randn(n, self.arch.z_dim, 1, 1).to(z_hat.dtype)
        logits = self.discriminator(torch.cat([x, self.decoder(z)]), torch.cat([z_hat, z]))
        return self.game(logits, n)


BIGAN_CONFIG = ALIConfig(deterministic_encoder=True)


def _image_archs(config: ALIConfig) -> dict:
    return {arch.name: partial(ImageALI, arch, config=config) for arch in IMAGE_ARCHS}


MODELS.register("ali", ModelEntry("ali", "ALI: encoder and decoder against a discriminator on (x, z)",
                                  {"toy": ToyALI, **_image_archs(ALIConfig())}, ALIConfig()))
MODELS.register("bigan", ModelEntry("bigan", "BiGAN: ALI with a deterministic encoder E(x) = mu(x)",
                                    _image_archs(BIGAN_CONFIG), BIGAN_CONFIG))
MODELS.register("gan_posthoc", ModelEntry(
    "gan_posthoc", "GAN + post-hoc learned inference: GAN generator frozen, encoder and a fresh ALI discriminator "
    "trained on (x, z)", {"toy": ToyPosthocInference}))
