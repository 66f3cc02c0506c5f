"""Improved-GAN's networks (openai/improved-gan @ 4f5d1ec, mnist_svhn_cifar10/), read in the official scripts [code].

MNIST (`train_mnist_feature_matching.py`, the "older code" of its nn.py):
  D: Gaussian noise 0.3 -> Dense 1000 -> noise 0.5 -> 500 -> 0.5 -> 250 -> 0.5 -> 250 -> 0.5 -> 250 -> 0.5 -> Dense
  10.  nn.DenseLayer: W = theta * scale / ||theta||_col, theta ~ N(0, 0.1), scale fixed at 1 except on the output
  layer (train_scale=True), a bias; ReLU.  Data-dependent initialisation: one pass over 500 training images (noise
  on) sets each layer's scale to 1/std and bias to -mean/std of its pre-activations.
  G: z ~ U[0, 1)^100 -> Dense 500 (Glorot uniform, no bias) + BatchNorm without scale (eps 1e-6 inside the square
  root) + softplus -> the same -> Dense 784 with a trainable per-unit weight scale (l2normalize, eps 1e-6) and a
  bias -> sigmoid.  Feature matching uses D's last 250-unit layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from benchmark.nets.layers import SeededGaussianNoise


@dataclass(frozen=True)
class SemiArch:
    """A semi-supervised network family's shape: the name, image size, noise size and number of classes."""

    name: str
    image: tuple[int, int, int]
    z_dim: int
    classes: int = 10


MNIST_FM = SemiArch("mnist", (1, 28, 28), 100)


class WeightNormDense(nn.Module):
    """Improved-GAN's MNIST nn.DenseLayer: x @ (theta * scale / ||theta||) + b, with data-dependent init."""

    def __init__(self, n_in: int, n_out: int, train_scale: bool, relu: bool = True, init_std: float = 0.1):
        super().__init__()
        self.theta = nn.Parameter(torch.randn(n_in, n_out) * init_std)
        self.bias = nn.Parameter(torch.zeros(n_out))
        if train_scale:
            self.scale = nn.Parameter(torch.ones(n_out))
        else:
            self.register_buffer("scale", torch.ones(n_out))  # set by the data-dependent init, never trained [code]
        self.relu = relu

    def weight(self) -> torch.Tensor:
        return self.theta * (self.scale / self.theta.norm(dim=0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.addmm(self.bias, x, self.weight())
        return F.relu(y) if self.relu else y

    @torch.no_grad()
    def initialise(self, x: torch.Tensor) -> torch.Tensor:
        """Data-dependent init [code]: normalise this batch's pre-activations to mean 0, std 1 per unit by setting
        scale /= std and bias = -mean/std; returns the layer's output on the batch after the change."""
        y = x @ self.weight()
        mean = y.mean(0)
        std = (y - mean).square().mean(0).sqrt()
        self.scale.div_(std)
        self.bias.copy_(-mean / std)
        y = (y - mean) / std
        return F.relu(y) if self.relu else y


class MnistFMDiscriminator(nn.Module):
    """The MNIST D: (N, 1, 28, 28) in [0, 1] -> 10 logits; `forward(x, features=True)` also returns the last
    250-unit layer (feature matching's layer)."""

    NOISE = (0.3, 0.5, 0.5, 0.5, 0.5, 0.5)
    WIDTHS = (1000, 500, 250, 250, 250)

    def __init__(self, classes: int = 10):
        super().__init__()
        widths = (784,) + self.WIDTHS
        self.noises = nn.ModuleList(SeededGaussianNoise(s) for s in self.NOISE)
        self.layers = nn.ModuleList(WeightNormDense(a, b, train_scale=False) for a, b in zip(widths[:-1], widths[1:]))
        self.layers.append(WeightNormDense(widths[-1], classes, train_scale=True, relu=False))

    def forward(self, x: torch.Tensor, features: bool = False):
        h = x.flatten(1)
        feature = h
        for noise, layer in zip(self.noises, self.layers):
            h = layer(noise(h))
            if layer is self.layers[-2]:
                feature = h
        return (h, feature) if features else h

    @torch.no_grad()
    def initialise(self, x: torch.Tensor) -> None:
        h = x.flatten(1)
        for noise, layer in zip(self.noises, self.layers):
            h = layer.initialise(noise(h))


class ScaleFreeBatchNorm(nn.BatchNorm1d):
    """Improved-GAN's BatchNormLayer with g=None: normalise (eps 1e-6 inside the square root), add a bias, no
    scale; running averages with decay 0.9 (used only in eval mode)."""

    def __init__(self, features: int):
        super().__init__(features, eps=1e-6, momentum=0.1, affine=False)
        self.bias_after = nn.Parameter(torch.zeros(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) + self.bias_after


class ScaledDense(nn.Linear):
    """nn.l2normalize(DenseLayer): W normalised per output unit (eps 1e-6) times a trainable scale, init 1."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__(n_in, n_out)
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)
        self.scale = nn.Parameter(torch.ones(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = (self.weight.square().sum(1, keepdim=True) + 1e-6).sqrt()
        return F.linear(x, self.weight * (self.scale[:, None] / norm), self.bias)


class MnistFMGenerator(nn.Module):
    """The MNIST G: z (N, 100) -> images (N, 1, 28, 28) in [0, 1]."""

    def __init__(self, z_dim: int = 100):
        super().__init__()
        hidden = []
        for a, b in ((z_dim, 500), (500, 500)):
            linear = nn.Linear(a, b, bias=False)
            nn.init.xavier_uniform_(linear.weight)
            hidden += [linear, ScaleFreeBatchNorm(b), nn.Softplus()]
        self.net = nn.Sequential(*hidden, ScaledDense(500, 784), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), 1, 28, 28)
