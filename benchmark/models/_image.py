"""What every image model shares: one run, a random stream of its own (noise and dropout masks), the training
state the loop checkpoints, and the decoder-side interface (decode, sample)."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from benchmark.models._game import Player, update_players
from benchmark.nets.ali_image import ImageArch
from benchmark.nets.layers import SeededDropout
from benchmark.rng import derive_seed


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


class ImageModel(nn.Module):
    """Base of the image families.  Subclasses build their networks inside `with seeded(self.init_seed):`, then
    call `self.own_dropout()`, and define `players(batch)`."""

    runs = 1

    def __init__(self, arch: ImageArch, seed: int):
        super().__init__()
        self.arch, self.seed = arch, seed
        self.init_seed = derive_seed(seed, "init")
        self.noise = torch.Generator().manual_seed(derive_seed(seed, "noise"))
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def own_dropout(self) -> None:
        for module in self.modules():
            if isinstance(module, SeededDropout):
                module.generator = self.noise

    def randn(self, *shape: int, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(*shape, generator=self.noise).to(like.device)

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        raise NotImplementedError

    def train_step(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """One update from a (1, B, C, H, W) batch; losses of shape (1,)."""
        self.train()
        players = self.players(batch)
        update_players(list(players.values()))
        return {name: pl.loss.detach() for name, pl in players.items()}

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
        return self.decode(self.randn(n, self.arch.z_dim, 1, 1, like=self.decoder.pixel_bias))


class ImageAutoencoder(ImageModel):
    """An image model with an encoder: subclasses define `_encode(x)` (a code per image, in train or eval mode)."""

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes (N, z_dim, 1, 1) of images in [0, 1], in eval mode."""
        self.eval()
        return self._encode(x)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    @torch.no_grad()
    def features(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """Named encoder feature sets for the SVM protocol ('code', 'paper'); eval mode, no sampling [code]."""
        self.eval()
        return self.encoder.features(x, name)
