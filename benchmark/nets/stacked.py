"""Layers that hold R independent copies of their parameters ("runs") and apply them with one batched matmul.

Inputs and outputs have shape (R, B, features).  Every statistic (BatchNorm) and every parameter is per run, so
the runs never mix: training R runs stacked gives each run what training it alone gives (up to float rounding),
at a fraction of the per-run cost (small matmuls are far from the machine's peak; one bmm over R of them is not).
"""
from __future__ import annotations

import torch
from torch import nn

from benchmark.rng import RunGenerators


class StackedLinear(nn.Module):
    """y[r] = x[r] @ W[r] + b[r]; W[r] ~ N(0, init_std[r]), b = 0."""

    def __init__(self, gens: RunGenerators, in_features: int, out_features: int, init_std: torch.Tensor):
        super().__init__()
        runs = len(gens)
        self.weight = nn.Parameter(gens.randn(in_features, out_features) * init_std.view(runs, 1, 1))
        self.bias = nn.Parameter(torch.zeros(runs, 1, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class StackedBatchNorm(nn.Module):
    """BatchNorm over the batch dimension of each run separately (PyTorch momentum convention)."""

    def __init__(self, runs: int, features: int, momentum: float, eps: float):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(runs, 1, features))
        self.bias = nn.Parameter(torch.zeros(runs, 1, features))
        self.register_buffer("running_mean", torch.zeros(runs, 1, features))
        self.register_buffer("running_var", torch.ones(runs, 1, features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            mean = x.mean(dim=1, keepdim=True)  # torch.var_mean over a middle dim is ~40x slower on CPU
            var = (x - mean).square().mean(dim=1, keepdim=True)
            with torch.no_grad():
                n = x.shape[1]
                unbiased = var * (n / max(n - 1, 1))
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(unbiased, self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        scale = self.weight * torch.rsqrt(var + self.eps)
        return torch.addcmul(self.bias - mean * scale, x, scale)


class StackedMaxout(nn.Module):
    """A linear layer to units x pieces outputs followed by the max over the pieces of each unit."""

    def __init__(self, gens: RunGenerators, in_features: int, units: int, pieces: int, init_std: torch.Tensor):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = StackedLinear(gens, in_features, units * pieces, init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x)
        # max(dim) back-propagates through its indices; amax's tie-splitting backward costs ~3x the forward here
        return y.view(*y.shape[:-1], self.units, self.pieces).max(dim=-1).values


def stacked_mlp(
    gens: RunGenerators,
    sizes: list[int],
    init_std: torch.Tensor,
    bn_momentum: float,
    bn_eps: float,
) -> nn.Sequential:
    """Linear -> BatchNorm -> ReLU on every hidden layer, linear output: sizes = [in, hidden..., out]."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(StackedLinear(gens, a, b, init_std))
        if i < len(sizes) - 2:
            layers += [StackedBatchNorm(len(gens), b, bn_momentum, bn_eps), nn.ReLU()]
    return nn.Sequential(*layers)
