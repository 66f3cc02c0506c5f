"""Convolutional stacks built from the layer tables of the ALI appendix (all convolutions 'valid').

A layer table is a tuple of `Layer` rows; `ConvStack` builds it and can return, besides its output, every layer's
BatchNorm output (before the nonlinearity) and every layer's activation, which the feature sets of the SVM protocol
are made of.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

BN_MOMENTUM, BN_EPS = 0.05, 1e-4  # [code] PyTorch convention (Blocks' 0.95 decay)
INIT_STD = 0.01  # [code] N(0, 0.01) weights, zero biases


@dataclass(frozen=True)
class Layer:
    """One row of a layer table: a convolution (or transposed convolution) and what follows it."""

    out: int
    kernel: int
    stride: int = 1
    transposed: bool = False
    bn: bool = True
    act: bool = True  # LeakyReLU with the stack's slope; False: a linear output
    dropout: float = 0.0  # dropout on this layer's input
    bias: bool | None = None  # None: a bias unless BatchNorm follows
    maxout: int = 1  # > 1: instead of LeakyReLU, the max over groups of this many consecutive channels
    dropout_before_act: float = 0.0  # dropout between the convolution and its nonlinearity (CIFAR-10 code)


class SeededNoise(nn.Module):
    """A layer that draws random numbers from a generator the model owns (set `generator`), so that a checkpoint of
    the model's generator is enough to resume a run exactly; with no generator it uses torch's global stream.  Only
    active in training mode."""

    def __init__(self):
        super().__init__()
        self.generator: torch.Generator | None = None

    def _rand(self, like: torch.Tensor, normal: bool) -> torch.Tensor:
        device = self.generator.device if self.generator is not None else like.device
        draw = torch.randn if normal else torch.rand
        return draw(like.shape, generator=self.generator, device=device).to(like.device)


class SeededDropout(SeededNoise):
    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = self._rand(x, normal=False) < 1 - self.p
        return x * keep * (1 / (1 - self.p))


class SeededGaussianNoise(SeededNoise):
    """x + N(0, sigma^2) noise in training mode (Improved-GAN's GaussianNoiseLayer); the identity in eval mode."""

    def __init__(self, sigma: float):
        super().__init__()
        self.sigma = sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.sigma == 0:
            return x
        return x + self.sigma * self._rand(x, normal=True).to(x.dtype)


class ConvStack(nn.Module):
    def __init__(self, in_channels: int, table: tuple[Layer, ...], slope: float):
        super().__init__()
        self.table = table
        self.convs, self.norms = nn.ModuleList(), nn.ModuleList()
        self.drops, self.mid_drops = nn.ModuleList(), nn.ModuleList()
        channels = in_channels
        for row in table:
            conv_cls = nn.ConvTranspose2d if row.transposed else nn.Conv2d
            bias = (not row.bn) if row.bias is None else row.bias
            self.convs.append(conv_cls(channels, row.out, row.kernel, row.stride, bias=bias))
            self.norms.append(nn.BatchNorm2d(row.out, momentum=BN_MOMENTUM, eps=BN_EPS) if row.bn else nn.Identity())
            self.drops.append(SeededDropout(row.dropout) if row.dropout else nn.Identity())
            self.mid_drops.append(SeededDropout(row.dropout_before_act) if row.dropout_before_act else nn.Identity())
            if row.out % row.maxout:
                raise ValueError(f"{row.out} channels do not split into maxout groups of {row.maxout}")
            channels = row.out // row.maxout
        self.act = nn.LeakyReLU(slope)
        self.out_channels = channels
        self.matmul_fast_path = True  # see apply_conv; the perf command's plain loop turns it off
        for conv in self.convs:
            nn.init.normal_(conv.weight, 0.0, INIT_STD)
            if conv.bias is not None:
                nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor, keep: bool = False):
        """The stack's output; with keep=True also (pre-activation outputs, activations) of every layer."""
        pre, post = [], []
        for row, drop, conv, norm, mid in zip(self.table, self.drops, self.convs, self.norms, self.mid_drops):
            x = norm(apply_conv(conv, drop(x)) if self.matmul_fast_path else conv(drop(x)))
            if keep:
                pre.append(x)
            x = mid(x)
            if row.maxout > 1:
                x = x.unflatten(1, (-1, row.maxout)).max(dim=2).values
            elif row.act:
                x = self.act(x)
            if keep:
                post.append(x)
        return (x, pre, post) if keep else x


def apply_conv(conv: nn.Conv2d | nn.ConvTranspose2d, x: torch.Tensor) -> torch.Tensor:
    """conv(x), as a matrix product where the convolution is a fully connected layer: a 'valid' convolution whose
    kernel covers the whole input, or a transposed one on a 1x1 input (the 1x1 layers on 1x1 maps, the MNIST MLP, the
    first decoder and last encoder layers).  Same result; the CPU's convolution kernels are 2-4x slower there."""
    k = conv.kernel_size
    if conv.padding != (0, 0) or conv.groups != 1 or conv.dilation != (1, 1):
        return conv(x)
    if isinstance(conv, nn.ConvTranspose2d):
        if x.shape[-2:] != (1, 1) or conv.output_padding != (0, 0):
            return conv(x)
        out = nn.functional.linear(x.flatten(1), conv.weight.flatten(1).t()).view(len(x), conv.out_channels, *k)
        return out if conv.bias is None else out + conv.bias.view(1, -1, 1, 1)
    if tuple(x.shape[-2:]) != tuple(k):
        return conv(x)
    return nn.functional.linear(x.flatten(1), conv.weight.flatten(1), conv.bias)[:, :, None, None]


def output_shape(stack: ConvStack, in_shape: tuple[int, int, int]) -> list[tuple[int, int, int]]:
    """The (C, H, W) after every layer of the stack, for an input of in_shape."""
    with torch.no_grad():
        was = stack.training
        stack.eval()
        _, pre, _ = stack(torch.zeros(1, *in_shape), keep=True)
        stack.train(was)
    return [tuple(t.shape[1:]) for t in pre]
