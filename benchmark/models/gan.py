"""GAN: the generator is the decoder p(x|z); the discriminator sees x alone."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch

from benchmark.models import ModelEntry
from benchmark.models._game import Player, discriminator_game
from benchmark.models._image import AdamConfig, ImageModel, TwoPlayerGame, seeded
from benchmark.models._stacked import StackedToyModel
from benchmark.nets import toy
from benchmark.nets.ali_image import Decoder, ImageArch, XDiscriminator
from benchmark.nets.image_archs import IMAGE_ARCHS
from benchmark.registry import MODELS
from benchmark.runtime import Runtime


class ToyGAN(StackedToyModel):
    def __init__(self, sizes, hparams, seeds, device="cpu"):
        super().__init__(sizes, hparams, seeds, device)
        self.decoder = toy.decoder(self.init_gens, sizes, self.init_std)
        self.discriminator = toy.Discriminator(self.init_gens, sizes, self.init_std, sizes.x_dim)
        self.optimizers = {"discriminator": self.adam(list(self.discriminator.parameters())),
                           "generator": self.adam(list(self.decoder.parameters()))}

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        z = self.noise.randn(batch.shape[1], self.sizes.z_dim)
        logits = self.discriminator(torch.cat([batch, self.decoder(z)], dim=1))
        return discriminator_game(logits, batch.shape[1], self.discriminator, list(self.decoder.parameters()),
                                  self.optimizers)


@dataclass(frozen=True)
class GANConfig(AdamConfig):
    """The image ALI's Adam [ours for the GAN, which the ALI code does not train]."""


class ImageGAN(TwoPlayerGame, ImageModel):
    """The ALI appendix generator against the D(x) pathway; no encoder."""

    def __init__(self, arch: ImageArch, config: GANConfig = GANConfig(), seed: int = 0, runtime: Runtime = Runtime()):
        super().__init__(arch, seed, runtime)
        self.config = config
        with seeded(self.init_seed):
            self.decoder, self.discriminator = Decoder(arch), XDiscriminator(arch)
        self.finish()
        self.optimizers = {"discriminator": config.adam(self.discriminator.parameters()),
                           "generator": config.adam(self.decoder.parameters())}

    def generating_params(self) -> list:
        return list(self.decoder.parameters())

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        x = self.images(batch)
        fake = self.decoder(self.randn(len(x), self.arch.z_dim, 1, 1)).to(x.dtype)
        return self.game(self.discriminator(torch.cat([x, fake])), len(x))


MODELS.register("gan", ModelEntry("gan", "GAN: generator p(x|z) and a discriminator on x", {
    "toy": ToyGAN, **{arch.name: partial(ImageGAN, arch) for arch in IMAGE_ARCHS}}, GANConfig()))
