"""The ALI image networks built from an architecture's layer tables: encoder G_z, decoder G_x, and the
discriminator's three pathways D(x), D(z) and D(x, z).  Plain nn.Modules; a model family composes them."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from benchmark.nets.layers import ConvStack, Layer


@dataclass(frozen=True)
class ImageArch:
    name: str
    image: tuple[int, int, int]  # (C, H, W)
    z_dim: int
    slope: float  # LeakyReLU slope
    encoder: tuple[Layer, ...]  # ends in a linear layer of 2 * z_dim channels: (mu, log sigma)
    decoder: tuple[Layer, ...]  # ends in a linear layer of C channels with no bias (the per-pixel bias follows)
    d_x: tuple[Layer, ...]
    d_z: tuple[Layer, ...]
    d_xz: tuple[Layer, ...]  # ends in one linear channel: the logit


class Encoder(nn.Module):
    """x -> (mu, log sigma), each (N, z_dim, 1, 1); `features` gives the named feature sets of the SVM protocol."""

    FEATURE_SETS = ("code", "paper")

    def __init__(self, arch: ImageArch):
        super().__init__()
        self.arch = arch
        self.stack = ConvStack(arch.image[0], arch.encoder, arch.slope)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.stack(x).chunk(2, dim=1)

    def features(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """(N, D) features of the SVM protocol (see `named_features`); 5,376 ('code') and 8,960 ('paper') dims on
        SVHN."""
        out, pre, post = self.stack(x, keep=True)
        return named_features(name, out.chunk(2, dim=1)[0], pre[:-1], post[:-1])


def named_features(name: str, mu: torch.Tensor, hidden_pre: list, hidden_post: list) -> torch.Tensor:
    """The named encoder feature sets [code]: 'code' = mu and the BatchNorm outputs (before LeakyReLU) of the last
    three hidden convolutions, flattened; 'paper' = mu and every hidden activation max-pooled to at most 4x4 (the
    8,960 dims the paper prints for SVHN) [ours: activations after LeakyReLU].  `hidden_*` list the encoder's hidden
    layers in order, without its linear output layer."""
    if name not in Encoder.FEATURE_SETS:
        raise ValueError(f"unknown feature set {name!r}; valid: {', '.join(Encoder.FEATURE_SETS)}")
    if name == "code":
        parts = hidden_pre[-3:]
    else:
        parts = [nn.functional.adaptive_max_pool2d(h, (min(4, h.shape[2]), min(4, h.shape[3]))) for h in hidden_post]
    return torch.cat([mu.flatten(1)] + [p.flatten(1) for p in parts], dim=1)


class Decoder(nn.Module):
    """z (N, z_dim, 1, 1) -> x in [0, 1]; the last layer adds a per-pixel bias, set from the data [code].  `table`
    and `in_channels` replace the architecture's decoder (HALI's decoder from z1 is the tail of it)."""

    def __init__(self, arch: ImageArch, table: tuple[Layer, ...] | None = None, in_channels: int | None = None):
        super().__init__()
        self.stack = ConvStack(in_channels or arch.z_dim, table or arch.decoder, arch.slope)
        self.pixel_bias = nn.Parameter(torch.zeros(arch.image))

    @torch.no_grad()
    def init_pixel_bias(self, mean_image: torch.Tensor) -> None:
        """Start the output at the mean training image: bias = logit(mean pixel value)."""
        self.pixel_bias.copy_(torch.logit(mean_image.clamp(1e-3, 1 - 1e-3)))

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.stack(z) + self.pixel_bias

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(z))


class JointDiscriminator(nn.Module):
    """D(x, z) = D_xz(concat(D_x(x), D_z(z))): one logit per pair."""

    def __init__(self, arch: ImageArch):
        super().__init__()
        self.d_x = ConvStack(arch.image[0], arch.d_x, arch.slope)
        self.d_z = ConvStack(arch.z_dim, arch.d_z, arch.slope)
        self.d_xz = ConvStack(self.d_x.out_channels + self.d_z.out_channels, arch.d_xz, arch.slope)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.d_xz(torch.cat([self.d_x(x), self.d_z(z)], dim=1)).flatten()


class XDiscriminator(nn.Module):
    """A GAN's discriminator: the D(x) pathway and a 1x1 convolution to the logit (with the joint head's dropout)
    [ours: the ALI appendix gives no GAN discriminator; this is its D(x) with the smallest head]."""

    def __init__(self, arch: ImageArch):
        super().__init__()
        self.d_x = ConvStack(arch.image[0], arch.d_x, arch.slope)
        head = Layer(1, 1, bn=False, act=False, dropout=arch.d_xz[-1].dropout)
        self.head = ConvStack(self.d_x.out_channels, (head,), arch.slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.d_x(x)).flatten()
