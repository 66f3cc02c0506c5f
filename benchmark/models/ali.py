"""ALI: encoder q(z|x) and decoder p(x|z) against one discriminator on (x, z) pairs.

The gmm encoder is the official code's noise-concatenating one.  The "GAN + post-hoc learned inference" variant of
ALI Figure 7 is the same game with a trained GAN's generator frozen: only the encoder and a fresh discriminator learn.
"""
from __future__ import annotations

import torch

from benchmark.models import ModelEntry
from benchmark.models._stacked import NoiseEncoderModel, Player, adversarial_losses
from benchmark.nets import toy
from benchmark.registry import MODELS


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
        d_loss, g_loss = adversarial_losses(self.discriminator(pairs), n)
        return {
            "d_loss": Player(d_loss, list(self.discriminator.parameters()), self.optimizers["discriminator"]),
            "g_loss": Player(g_loss, self.generating_params(), self.optimizers["generator"]),
        }


class ToyPosthocInference(ToyALI):
    """GAN + post-hoc learned inference: load a GAN run's decoder, then train encoder and discriminator."""

    def __init__(self, sizes, hparams, seeds, device="cpu"):
        super().__init__(sizes, hparams, seeds, device, train_decoder=False)


MODELS.register("ali", ModelEntry("ali", "ALI: encoder and decoder against a discriminator on (x, z)", {"toy": ToyALI}))
MODELS.register("gan_posthoc", ModelEntry(
    "gan_posthoc", "GAN + post-hoc learned inference: GAN generator frozen, encoder and a fresh ALI discriminator "
    "trained on (x, z)", {"toy": ToyPosthocInference}))
