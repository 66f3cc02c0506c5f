"""AAE (Makhzani et al. 2015): an autoencoder whose aggregate posterior q(z) is matched to the prior N(0, I) by a
discriminator on codes.

Each update runs the paper's phases in turn, each with its own forward pass and its own optimiser: reconstruction
(encoder and decoder on the pixels' Bernoulli likelihood [ours, as our VAE]), then regularisation: the prior
discriminator (prior draws are real, codes are fake), then the encoder (to make its codes pass as prior draws).
Encoder and decoder are the architecture's ALI networks; the discriminator on z is two hidden 1x1 convolutions of
1,000 units (an MLP, as in the AAE paper's MNIST models) with the architecture's nonlinearity.  The unsupervised
AAE; the semi-supervised one (a categorical code) belongs to the semi-supervised tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from benchmark.errors import UserError
from benchmark.models import ModelEntry
from benchmark.models._game import Player, adversarial_losses, update_players
from benchmark.models._image import AdamConfig, Encoding, ImageAutoencoder, seeded
from benchmark.nets.ali_image import Decoder, Encoder, ImageArch
from benchmark.nets.image_archs import IMAGE_ARCHS
from benchmark.nets.layers import ConvStack, Layer
from benchmark.registry import MODELS
from benchmark.runtime import Runtime

POSTERIORS = ("deterministic", "gaussian")


@dataclass(frozen=True)
class AAEConfig(AdamConfig):
    """Adam as the image ALI's [ours: the AAE paper used SGD with momentum on MNIST].  `posterior`: the AAE paper's
    deterministic q(z|x) or its Gaussian option."""

    posterior: str = "deterministic"
    prior_disc_units: int = 1000


class ImageAAE(ImageAutoencoder):
    def __init__(self, arch: ImageArch, config: AAEConfig = AAEConfig(), seed: int = 0, runtime: Runtime = Runtime()):
        if config.posterior not in POSTERIORS:
            raise UserError(f"unknown AAE posterior {config.posterior!r}; valid: {', '.join(POSTERIORS)}")
        super().__init__(arch, seed, runtime)
        self.config = config
        hidden = Layer(config.prior_disc_units, 1, bn=False)
        with seeded(self.init_seed):
            self.encoder, self.decoder = Encoder(arch), Decoder(arch)
            self.discriminator = ConvStack(arch.z_dim, (hidden, hidden, Layer(1, 1, bn=False, act=False)), arch.slope)
        self.finish()
        self.optimizers = {
            "autoencoder": config.adam(list(self.encoder.parameters()) + list(self.decoder.parameters())),
            "discriminator": config.adam(self.discriminator.parameters()),
            "encoder": config.adam(self.encoder.parameters()),
        }

    def _encode(self, x: torch.Tensor) -> Encoding:
        mu, log_sigma = self.encoder(x)
        if self.config.posterior == "deterministic":
            return Encoding(mu, mu)
        return Encoding(mu, self.sample_like(mu, log_sigma))

    def _reconstruction(self, x: torch.Tensor) -> Player:
        logits = self.decoder.logits(self._encode(x).sample).float()
        loss = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()
        return Player(loss.view(1), list(self.encoder.parameters()) + list(self.decoder.parameters()),
                      self.optimizers["autoencoder"])

    def _prior_discrimination(self, x: torch.Tensor) -> Player:
        with torch.no_grad():
            codes = self._encode(x).sample
        prior = self.randn(*codes.shape).to(codes.dtype)
        d_loss, _ = adversarial_losses(self.discriminator(torch.cat([prior, codes])).view(1, -1), len(x))
        return Player(d_loss, list(self.discriminator.parameters()), self.optimizers["discriminator"])

    def _regularisation(self, x: torch.Tensor) -> Player:
        logits = self.discriminator(self._encode(x).sample).flatten().float()
        loss = nn.functional.softplus(-logits).mean()
        return Player(loss.view(1), list(self.encoder.parameters()), self.optimizers["encoder"])

    def train_step(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Reconstruction, then the prior discriminator, then the encoder: three updates in turn."""
        self.train()
        x = self.images(batch)
        losses = {}
        for name, phase in (("recon_loss", self._reconstruction), ("d_loss", self._prior_discrimination),
                            ("g_loss", self._regularisation)):
            with self.runtime.autocast():
                player = phase(x)
            update_players([player])
            losses[name] = player.loss.detach().float()
        return losses


MODELS.register("aae", ModelEntry(
    "aae", "AAE: autoencoder with an adversarial N(0, I) prior on its codes (aggregate posterior)",
    {arch.name: partial(ImageAAE, arch) for arch in IMAGE_ARCHS}, AAEConfig()))
