"""What every image model shares: one run, a random stream of its own (noise and dropout masks), the training
state the loop checkpoints, and the decoder-side interface (decode, sample)."""
from __future__ import annotations

from contextlib import contextmanager

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
