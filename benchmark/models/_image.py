"""What every image model shares: one run, a random stream of its own (noise and dropout masks), the runtime (device,
bf16, channels_last, compile), the training state the loop checkpoints, and the interface every protocol uses:
`encode` (mean and a sample), `decode`, `reconstruct`, `sample`, `features(name)`, `discriminator_features`."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from benchmark.models._game import Player, discriminator_game, update_players
from benchmark.nets.ali_image import Decoder, ImageArch
from benchmark.nets.layers import SeededNoise
from benchmark.rng import derive_seed
from benchmark.runtime import Runtime


@contextmanager
def seeded(seed: int):
    """Seed torch's global stream (which nn.Module initialisers draw from) inside the block, restore it after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 images to float in [0, 1] (the papers' input range); float images pass through."""
    return images.float().div_(255.0) if images.dtype == torch.uint8 else images


@dataclass(frozen=True)
class AdamConfig:
    """The optimiser of the official image ALI: Adam lr 1e-4, betas (0.5, 0.999) (the tables' "beta2 = 1e-3" is the
    old Blocks convention for 0.999, not a PyTorch beta2).  Families without an official optimiser use it too."""

    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999

    def adam(self, params) -> torch.optim.Adam:
        return torch.optim.Adam(params, lr=self.lr, betas=(self.beta1, self.beta2))


class Encoding(NamedTuple):
    """A code per image: the posterior mean (the deterministic path) and one draw of q(z|x)."""

    mean: torch.Tensor
    sample: torch.Tensor


class ImageModel(nn.Module):
    """Base of the image families.  Subclasses build their networks inside `with seeded(self.init_seed):`, then
    call `self.finish()` (before making their optimisers), and define `players(batch)`."""

    runs = 1

    def __init__(self, arch: ImageArch, seed: int, runtime: Runtime = Runtime()):
        super().__init__()
        self.arch, self.seed, self.runtime = arch, seed, runtime
        self.init_seed = derive_seed(seed, "init")
        self.noise = torch.Generator()
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def finish(self) -> None:
        """Move the networks to the runtime's device and memory format, seed the model's random stream there (noise
        and every dropout mask), and compile the networks if asked."""
        self.to(self.runtime.device, memory_format=self.runtime.memory_format())
        self.noise = torch.Generator(device=self.runtime.device).manual_seed(derive_seed(self.seed, "noise"))
        for module in self.modules():
            if isinstance(module, SeededNoise):
                module.generator = self.noise
        if self.runtime.compile:
            for network in self.children():
                network.compile()

    @torch.no_grad()
    def init_from_data(self, images: torch.Tensor) -> None:
        """Set-up from the training images, before the first update: every decoder's per-pixel output bias starts at
        the logit of the mean training image [code]."""
        total = torch.zeros(images.shape[1:], dtype=torch.float64)
        for chunk in images.split(4096):
            total += to_unit(chunk).double().sum(0)
        mean_image = (total / len(images)).float().to(self.runtime.device)
        for module in self.modules():
            if isinstance(module, Decoder):
                module.init_pixel_bias(mean_image)

    def randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self.noise, device=self.noise.device)

    def sample_like(self, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
        """A reparameterised draw of N(mu, sigma^2)."""
        return mu + log_sigma.exp() * self.randn(*mu.shape).to(mu.dtype)

    def images(self, batch: torch.Tensor) -> torch.Tensor:
        """The run's images of a (1, B, C, H, W) batch, in [0, 1], on the device in the runtime's memory format."""
        x = to_unit(batch[0].to(self.runtime.device, non_blocking=True))
        return x.contiguous(memory_format=self.runtime.memory_format())

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        raise NotImplementedError

    def train_step(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """One update from a (1, B, C, H, W) batch; losses of shape (1,)."""
        self.train()
        with self.runtime.autocast():
            players = self.players(batch)
        update_players(list(players.values()))
        return {name: pl.loss.detach().float() for name, pl in players.items()}

    def training_state(self) -> dict:
        return {"model": self.state_dict(), "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                "noise": self.noise.get_state()}

    def load_training_state(self, state: dict) -> None:
        self.load_state_dict(state["model"])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        self.noise.set_state(state["noise"])

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        self.eval()
        return self.decoder(z)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        return self.decode(self.randn(n, self.arch.z_dim, 1, 1))


class ImageAutoencoder(ImageModel):
    """An image model with an encoder: subclasses define `_encode(x) -> Encoding` (in train or eval mode)."""

    levels: tuple[int, ...] = (1,)  # the latent levels a reconstruction can go through (HALI has two)

    def _encode(self, x: torch.Tensor) -> Encoding:
        raise NotImplementedError

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> Encoding:
        """Codes (N, z_dim, 1, 1) of images in [0, 1], in eval mode: the mean and one draw."""
        self.eval()
        return self._encode(x)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, level: int = 1) -> torch.Tensor:
        """decode(a draw of q(z|x)), as the papers show reconstructions."""
        if level not in self.levels:
            raise ValueError(f"{type(self).__name__} reconstructs through levels {self.levels}, not {level}")
        return self.decode(self.encode(x).sample)

    @torch.no_grad()
    def features(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """Named encoder feature sets for the SVM protocol ('code', 'paper'); eval mode, no sampling [code]."""
        self.eval()
        return self.encoder.features(x, name)


class TwoPlayerGame:
    """Mixin of the families where a discriminator with an x pathway `d_x` plays against everything else (GAN, ALI,
    BiGAN, HALI): the two players from one pass of D over [real; fake], and D's x pathway as an embedding."""

    def generating_params(self) -> list[nn.Parameter]:
        raise NotImplementedError

    def game(self, logits: torch.Tensor, n_real: int) -> dict[str, Player]:
        return discriminator_game(logits.view(1, -1), n_real, self.discriminator, self.generating_params(),
                                  self.optimizers)

    @torch.no_grad()
    def discriminator_features(self, x: torch.Tensor) -> torch.Tensor:
        """The x pathway of D, flattened: the embedding of the reconstruction-error protocol (and of the
        DCGAN + L2-SVM row for a GAN)."""
        self.eval()
        return self.discriminator.d_x(x).flatten(1)
