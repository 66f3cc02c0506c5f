"""GAN + inverse mapping (ALI Figure 7): a trained GAN's generator frozen, an encoder trained to minimise
E ||z - E(G(z))||^2 over prior draws z."""
from __future__ import annotations

import torch

from benchmark.models import ModelEntry
from benchmark.models._game import Player
from benchmark.models._stacked import NoiseEncoderModel
from benchmark.registry import MODELS


class ToyInverseMapping(NoiseEncoderModel):
    def __init__(self, sizes, hparams, seeds, device="cpu"):
        super().__init__(sizes, hparams, seeds, device, train_decoder=False)
        self.optimizers = {"encoder": self.adam(self.generating_params())}

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        z = self.noise.randn(batch.shape[1], self.sizes.z_dim)
        with torch.no_grad():
            x = self.decoder(z)
        loss = (z - self._encode(x, self.noise)).square().sum(-1).mean(1)
        return {"inverse_loss": Player(loss, self.generating_params(), self.optimizers["encoder"])}


MODELS.register("gan_inverse", ModelEntry(
    "gan_inverse", "GAN + inverse mapping: GAN generator frozen, encoder trained on ||z - E(G(z))||^2",
    {"toy": ToyInverseMapping}))
