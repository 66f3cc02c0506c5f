"""HALI (Belghazi et al. 2018): a two-level Markovian hierarchy trained like ALI.

Encoder q(z1|x) q(z2|z1), decoder p(z2) p(z1|z2) p(x|z1), every level Gaussian and reparameterised; one
discriminator on (x, z1, z2) triples: real = (x, z1 ~ q(z1|x), z2 ~ q(z2|z1)), fake = (x ~ p(x|z1), z1 ~ p(z1|z2),
z2 ~ N(0, I)), with ALI's losses.  Reconstructions go through either level: x -> z1 -> x, or
x -> z1 -> z2 -> z1 -> x.  The networks are ALI's, cut at a spatial z1 (see benchmark.nets.hali) [ours].
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from benchmark.models import ModelEntry
from benchmark.models._game import Player
from benchmark.models._image import AdamConfig, Encoding, ImageAutoencoder, TwoPlayerGame, seeded
from benchmark.nets.hali import (HALI_ARCHS, HALIArch, HierarchicalDecoder, HierarchicalDiscriminator,
                                 HierarchicalEncoder)
from benchmark.registry import MODELS
from benchmark.runtime import Runtime


@dataclass(frozen=True)
class HALIConfig(AdamConfig):
    """The image ALI's Adam [ours: HALI's optimiser could not be read]."""


class ImageHALI(TwoPlayerGame, ImageAutoencoder):
    levels = (1, 2)

    def __init__(self, arch: HALIArch, config: HALIConfig = HALIConfig(), seed: int = 0,
                 runtime: Runtime = Runtime()):
        super().__init__(arch.base, seed, runtime)
        self.hali_arch, self.config = arch, config
        with seeded(self.init_seed):
            self.encoder, self.decoder = HierarchicalEncoder(arch), HierarchicalDecoder(arch)
            self.discriminator = HierarchicalDiscriminator(arch)
        self.finish()
        self.optimizers = {"discriminator": config.adam(self.discriminator.parameters()),
                           "generator": config.adam(self.generating_params())}

    def generating_params(self) -> list[nn.Parameter]:
        return list(self.encoder.parameters()) + list(self.decoder.parameters())

    def _draw_codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z1 ~ q(z1|x), then z2 ~ q(z2|z1)."""
        z1 = self.sample_like(*self.encoder.level1(x))
        return z1, self.sample_like(*self.encoder.level2(z1))

    def _encode(self, x: torch.Tensor, level: int = 2) -> Encoding:
        """The mean along x -> mu1 (-> mu2) and a draw along x -> z1 (-> z2)."""
        mu1, log_sigma1 = self.encoder.level1(x)
        z1 = self.sample_like(mu1, log_sigma1)
        if level == 1:
            return Encoding(mu1, z1)
        return Encoding(self.encoder.level2(mu1)[0], self.sample_like(*self.encoder.level2(z1)))

    @torch.no_grad()
    def encode(self, x: torch.Tensor, level: int = 2) -> Encoding:
        """z2 (level 2, the default) or z1 (level 1) of images in [0, 1], in eval mode: the mean and one draw."""
        self.eval()
        return self._encode(x, level)

    def _z1_given_z2(self, z2: torch.Tensor) -> torch.Tensor:
        return self.sample_like(*self.decoder.level2(z2))

    @torch.no_grad()
    def decode(self, z: torch.Tensor, level: int = 2) -> torch.Tensor:
        """x from z2 (through a draw of p(z1|z2)) or, with level=1, from z1."""
        self.eval()
        return self.decoder.level1(self._z1_given_z2(z) if level == 2 else z)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, level: int = 2) -> torch.Tensor:
        """x -> z1 -> x (level 1) or x -> z1 -> z2 -> z1 -> x (level 2), every step a draw."""
        if level not in self.levels:
            raise ValueError(f"HALI reconstructs through levels {self.levels}, not {level}")
        return self.decode(self.encode(x, level).sample, level)

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        x = self.images(batch)
        n = len(x)
        z1_hat, z2_hat = self._draw_codes(x)
        z2 = self.randn(n, self.arch.z_dim, 1, 1).to(z2_hat.dtype)
        z1 = self._z1_given_z2(z2)
        logits = self.discriminator(torch.cat([x, self.decoder.level1(z1)]), torch.cat([z1_hat, z1]),
                                    torch.cat([z2_hat, z2]))
        return self.game(logits, n)


MODELS.register("hali", ModelEntry(
    "hali", "HALI: two-level ALI, encoder x -> z1 (a spatial map) -> z2, decoder z2 -> z1 -> x, one discriminator "
    "on (x, z1, z2)", {name: partial(ImageHALI, arch) for name, arch in HALI_ARCHS.items()}, HALIConfig()))
