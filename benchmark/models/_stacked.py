"""What every stacked toy model shares: per-run hyperparameters and random streams, and the training state the loop
checkpoints."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from benchmark.models._game import Player, update_players
from benchmark.nets import toy
from benchmark.nets.toy import ToySizes
from benchmark.optim import StackedAdam
from benchmark.rng import RunGenerators, derive_seed


@dataclass(frozen=True)
class RunHyperparams:
    """One value per stacked run for what the gmm protocol draws at random; beta2 is shared."""

    lr: tuple[float, ...]
    beta1: tuple[float, ...]
    init_std: tuple[float, ...]
    beta2: float = 0.999

    def __post_init__(self):
        if not (len(self.lr) == len(self.beta1) == len(self.init_std)):
            raise ValueError("lr, beta1 and init_std need one value per run")


class StackedToyModel(nn.Module):
    """Base of the gmm models: R runs stacked along dim 0 of every parameter (R = len(seeds))."""

    def __init__(self, sizes: ToySizes, hparams: RunHyperparams, seeds: list[int], device: str = "cpu"):
        """Parameters are drawn on the CPU (the same numbers on every device); move the model with .to(device)."""
        super().__init__()
        self.sizes, self.hparams, self.seeds = sizes, hparams, list(seeds)
        self.runs = len(seeds)
        if len(hparams.lr) != self.runs:
            raise ValueError("one hyperparameter set per seed is needed")
        self.init_gens = RunGenerators([derive_seed(s, "init") for s in seeds])
        self.noise = RunGenerators([derive_seed(s, "noise") for s in seeds], device)
        self.init_std = torch.tensor(hparams.init_std, dtype=torch.float32)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def adam(self, params: list[nn.Parameter]) -> StackedAdam:
        return StackedAdam(params, lr=torch.tensor(self.hparams.lr), beta1=torch.tensor(self.hparams.beta1),
                           beta2=self.hparams.beta2)

    def train_step(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """One update from a batch of shape (R, B, x_dim); returns each loss per run, shape (R,)."""
        self.train()
        players = self.players(batch)
        update_players(list(players.values()))
        return {name: pl.loss.detach() for name, pl in players.items()}

    def players(self, batch: torch.Tensor) -> dict[str, Player]:
        raise NotImplementedError

    def training_state(self) -> dict:
        return {
            "model": self.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "noise": self.noise.state_dict(),
        }

    def load_training_state(self, state: dict) -> None:
        self.load_state_dict(state["model"])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        self.noise.load_state_dict(state["noise"])

    @torch.no_grad()
    def prior(self, n: int, gens: RunGenerators) -> torch.Tensor:
        return gens.randn(n, self.sizes.z_dim)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        self.eval()
        return self.decoder(z)

    @torch.no_grad()
    def sample(self, n: int, gens: RunGenerators) -> torch.Tensor:
        return self.decode(self.prior(n, gens))


class NoiseEncoderModel(StackedToyModel):
    """A model with the official gmm encoder z = f([x, eps]), eps ~ N(0, I), and the gmm decoder.

    With `train_decoder=False` the decoder is frozen (eval mode, no gradient): the inference-only variants that are
    built on a trained GAN's generator.
    """

    def __init__(self, sizes: ToySizes, hparams: RunHyperparams, seeds: list[int], device: str = "cpu",
                 train_decoder: bool = True):
        super().__init__(sizes, hparams, seeds, device)
        self.train_decoder = train_decoder
        self.encoder = toy.encoder(self.init_gens, sizes, self.init_std, sizes.x_dim + sizes.z_dim, sizes.z_dim)
        self.decoder = toy.decoder(self.init_gens, sizes, self.init_std)
        if not train_decoder:
            self.decoder.requires_grad_(False)

    def generating_params(self) -> list[nn.Parameter]:
        params = list(self.encoder.parameters())
        return params + list(self.decoder.parameters()) if self.train_decoder else params

    def train(self, mode: bool = True):
        super().train(mode)
        self.decoder.train(mode and self.train_decoder)
        return self

    def _encode(self, x: torch.Tensor, gens: RunGenerators) -> torch.Tensor:
        eps = gens.randn(x.shape[1], self.sizes.z_dim)
        return self.encoder(torch.cat([x, eps], dim=-1))

    @torch.no_grad()
    def encode(self, x: torch.Tensor, gens: RunGenerators) -> torch.Tensor:
        self.eval()
        return self._encode(x, gens)


def run_slice(state_dict: dict, index: int) -> dict:
    """The parameters and buffers of stacked run `index` as a one-run state dict."""
    return {k: v[index : index + 1].clone() for k, v in state_dict.items()}
