"""VAE: Gaussian q(z|x) = N(mu(x), sigma(x)^2), standard normal prior.  On the gmm, the gmm encoder/decoder sizes
and a Gaussian p(x|z) with a fixed observation std (a named option); on images, the ALI encoder and decoder and a
Bernoulli p(x|z) on pixels in [0, 1] (the decoder's sigmoid output is its mean) [ours]."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from benchmark.models import ModelEntry
from benchmark.models._game import Player
from benchmark.models._image import AdamConfig, Encoding, ImageAutoencoder, seeded
from benchmark.models._stacked import StackedToyModel
from benchmark.nets import toy
from benchmark.nets.ali_image import Decoder, Encoder, ImageArch
from benchmark.nets.image_archs import IMAGE_ARCHS
from benchmark.registry import MODELS
from benchmark.rng import RunGenerators
from benchmark.runtime import Runtime


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
        loss = (nll + gaussian_kl(mu.flatten(0, 1), log_sigma.flatten(0, 1)).view(nll.shape)).mean(1)
        return {"neg_elbo": Player(loss, list(self.parameters()), self.optimizers["vae"])}

    @torch.no_grad()
    def encode(self, x: torch.Tensor, gens: RunGenerators) -> torch.Tensor:
        """A draw from q(z|x), as the ALI-style encoders give one."""
        self.eval()
        return self._posterior(x, gens)[0]


def gaussian_kl(mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) summed over all but the first dimension (in float32)."""
    mu, log_sigma = mu.float(), log_sigma.float()
    return 0.5 * (mu.square() + (2 * log_sigma).exp() - 1 - 2 * log_sigma).flatten(1).sum(1)


@dataclass(frozen=True)
class VAEConfig(AdamConfig):
    """The image ALI's Adam [ours: the papers give no VAE optimiser for these networks]."""


class ImageVAE(ImageAutoencoder):
    def __init__(self, arch: ImageArch, config: VAEConfig = VAEConfig(), seed: int = 0, runtime: Runtime = Runtime()):
        super().__init__(arch, seed, runtime)
        self.config = config
        with seeded(self.init_seed):
            self.encoder, self.decoder = Encoder(arch), Decoder(arch)
        self.finish()
        self.optimizers = {"vae": config.adam(self.parameters())}

    def _posterior(self, x: torch.Tensor):
        mu, log_sigma = self.encoder(x)
        return self.sample_like(mu, log_sigma), mu, log_sigma

    def _encode(self, x: torch.Tensor) -> Encoding:
        z, mu, _ = self._posterior(x)
        return Encoding(mu, z)

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        x = self.images(batch)
        z, mu, log_sigma = self._posterior(x)
        nll = nn.functional.binary_cross_entropy_with_logits(self.decoder.logits(z).float(), x, reduction="none")
        loss = (nll.flatten(1).sum(1) + gaussian_kl(mu, log_sigma)).mean().view(1)
        return {"neg_elbo": Player(loss, list(self.parameters()), self.optimizers["vae"])}


MODELS.register("vae", ModelEntry("vae", "VAE: Gaussian encoder and decoder of the same sizes", {
    "toy": ToyVAE, **{arch.name: partial(ImageVAE, arch) for arch in IMAGE_ARCHS}}, VAEConfig()))
