"""GAN: the generator is the decoder p(x|z); the discriminator sees x alone."""
from __future__ import annotations

import torch

from benchmark.models import ModelEntry
from benchmark.models._game import Player, adversarial_losses
from benchmark.models._stacked import StackedToyModel
from benchmark.nets import toy
from benchmark.registry import MODELS


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
        d_loss, g_loss = adversarial_losses(logits, batch.shape[1])
        return {
            "d_loss": Player(d_loss, list(self.discriminator.parameters()), self.optimizers["discriminator"]),
            "g_loss": Player(g_loss, list(self.decoder.parameters()), self.optimizers["generator"]),
        }


MODELS.register("gan", ModelEntry("gan", "GAN: generator p(x|z) and a discriminator on x", {"toy": ToyGAN}))
