"""The 25-Gaussian-mixture networks of the official ALI code (experiments/gmm), stacked over runs."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from benchmark.nets.stacked import StackedLinear, StackedMaxout, stacked_mlp
from benchmark.rng import RunGenerators


@dataclass(frozen=True)
class ToySizes:
    """Layer widths; the paper's are the defaults, the smoke profile shrinks them."""

    x_dim: int = 2
    z_dim: int = 2
    encoder_hidden: tuple[int, ...] = (400, 400)
    decoder_hidden: tuple[int, ...] = (400, 400, 400, 400)
    disc_units: int = 200
    disc_pieces: int = 5
    disc_layers: int = 3
    bn_momentum: float = 0.05
    bn_eps: float = 1e-4


def encoder(gens: RunGenerators, sizes: ToySizes, init_std: torch.Tensor, in_dim: int, out_dim: int) -> nn.Module:
    """in_dim -> hidden (BN + ReLU) -> out_dim linear.  ALI feeds [x, eps]; the VAE feeds x and reads (mu, log sigma)."""
    return stacked_mlp(gens, [in_dim, *sizes.encoder_hidden, out_dim], init_std, sizes.bn_momentum, sizes.bn_eps)


def decoder(gens: RunGenerators, sizes: ToySizes, init_std: torch.Tensor) -> nn.Module:
    """z -> 4 x 400 (BN + ReLU) -> x linear: the GAN generator and ALI decoder."""
    dims = [sizes.z_dim, *sizes.decoder_hidden, sizes.x_dim]
    return stacked_mlp(gens, dims, init_std, sizes.bn_momentum, sizes.bn_eps)


class Discriminator(nn.Module):
    """Maxout layers (no BN, no dropout) then a linear logit; input x (GAN) or concat(x, z) (ALI)."""

    def __init__(self, gens: RunGenerators, sizes: ToySizes, init_std: torch.Tensor, in_dim: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(sizes.disc_layers):
            layers.append(StackedMaxout(gens, width, sizes.disc_units, sizes.disc_pieces, init_std))
            width = sizes.disc_units
        layers.append(StackedLinear(gens, width, 1, init_std))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)
