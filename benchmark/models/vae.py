"""VAE with the gmm encoder/decoder sizes: Gaussian q(z|x) = N(mu(x), sigma(x)^2), Gaussian p(x|z) with a fixed
observation std (a named option), standard normal prior."""
from __future__ import annotations

import math

import torch

from benchmark.models import ModelEntry
from benchmark.models._game import Player
from benchmark.models._stacked import StackedToyModel
from benchmark.nets import toy
from benchmark.registry import MODELS
from benchmark.rng import RunGenerators


class ToyVAE(StackedToyModel):
    def __init__(self, sizes, hparams, seeds, device="cpu", obs_std: float = 0.05):
        super().__init__(sizes, hparams, seeds, device)
        self.obs_std = obs_std
        self.encoder = toy.encoder(self.init_gens, sizes, self.init_std, sizes.x_dim, 2 * sizes.z_dim)
        self.decoder = toy.decoder(self.init_gens, sizes, self.init_std)
        self.optimizers = {"vae": self.adam(list(self.parameters()))}

    def _posterior(self, x: torch.Tensor, gens: RunGenerators):
        mu, log_sigma = self.encoder(x).chunk(2, dim=-1)
        z = mu + log_sigma.exp() * gens.randn(x.shape[1], self.sizes.z_dim)
        return z, mu, log_sigma

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        z, mu, log_sigma = self._posterior(batch, self.noise)
        nll = (batch - self.decoder(z)).square().sum(-1) / (2 * self.obs_std**2)
        nll = nll + batch.shape[-1] * math.log(math.sqrt(2 * math.pi) * self.obs_std)
        kl = 0.5 * (mu.square() + (2 * log_sigma).exp() - 1 - 2 * log_sigma).sum(-1)
        loss = (nll + kl).mean(1)
        return {"neg_elbo": Player(loss, list(self.parameters()), self.optimizers["vae"])}

    @torch.no_grad()
    def encode(self, x: torch.Tensor, gens: RunGenerators) -> torch.Tensor:
        """A draw from q(z|x), as the ALI-style encoders give one."""
        self.eval()
        return self._posterior(x, gens)[0]


MODELS.register("vae", ModelEntry("vae", "VAE: Gaussian encoder and decoder of the same sizes", {"toy": ToyVAE}))
