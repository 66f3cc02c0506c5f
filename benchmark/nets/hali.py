"""HALI's two-level networks, cut from an ALI architecture's layer tables [ours: the HALI paper's networks could not
be read here and no official code exists].

The encoder's first `encoder_split` convolutions, then a linear 1x1 convolution, give q(z1|x): z1 is a spatial map
of `z1_channels` channels (SVHN and CIFAR-10 10x10, CelebA 13x13; a vector on MNIST).  The rest of the encoder maps
z1 to q(z2|z1), z2 of the architecture's z_dim.  The decoder's first `decoder_split` transposed convolutions and a
linear 1x1 convolution give p(z1|z2) (Gaussian, the same shape as z1); the rest of the decoder, with its per-pixel
output bias, gives p(x|z1).  The discriminator sees (x, z1, z2): D(x) is ALI's, D(z1) is the tail of D(x) from the
same cut (z1 enters where the encoder's cut leaves the image), D(z2) is ALI's D(z), and the joint head is ALI's on
the concatenation of the three.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from benchmark.nets.ali_image import Decoder, ImageArch, named_features
from benchmark.nets.celeba import CELEBA
from benchmark.nets.cifar10 import CIFAR10
from benchmark.nets.layers import ConvStack, Layer
from benchmark.nets.mnist import MNIST
from benchmark.nets.svhn import SVHN


@dataclass(frozen=True)
class HALIArch:
    base: ImageArch
    z1_channels: int
    encoder_split: int  # encoder convolutions from x to z1; the same number of D(x) layers precede D(z1)
    decoder_split: int  # decoder convolutions from z2 to z1

    @property
    def name(self) -> str:
        return self.base.name

    def _gaussian_head(self) -> Layer:
        return Layer(2 * self.z1_channels, 1, bn=False, act=False)

    @property
    def encoder1(self) -> tuple[Layer, ...]:
        return self.base.encoder[: self.encoder_split] + (self._gaussian_head(),)

    @property
    def encoder2(self) -> tuple[Layer, ...]:
        return self.base.encoder[self.encoder_split:]

    @property
    def decoder2(self) -> tuple[Layer, ...]:
        return self.base.decoder[: self.decoder_split] + (self._gaussian_head(),)

    @property
    def decoder1(self) -> tuple[Layer, ...]:
        return self.base.decoder[self.decoder_split:]

    @property
    def d_z1(self) -> tuple[Layer, ...]:
        return self.base.d_x[self.encoder_split:]


HALI_ARCHS = {
    "mnist": HALIArch(MNIST, z1_channels=64, encoder_split=1, decoder_split=1),
    "svhn": HALIArch(SVHN, z1_channels=16, encoder_split=3, decoder_split=2),
    "cifar10": HALIArch(CIFAR10, z1_channels=16, encoder_split=3, decoder_split=2),
    "celeba": HALIArch(CELEBA, z1_channels=32, encoder_split=3, decoder_split=2),
}


class GaussianStack(nn.Module):
    """A stack whose last layer has 2c channels: (mu, log sigma) of a diagonal Gaussian with c channels."""

    def __init__(self, in_channels: int, table: tuple[Layer, ...], slope: float):
        super().__init__()
        self.stack = ConvStack(in_channels, table, slope)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.stack(x).chunk(2, dim=1)


class HierarchicalEncoder(nn.Module):
    """q(z1|x) and q(z2|z1)."""

    def __init__(self, arch: HALIArch):
        super().__init__()
        base = arch.base
        self.level1 = GaussianStack(base.image[0], arch.encoder1, base.slope)
        self.level2 = GaussianStack(arch.z1_channels, arch.encoder2, base.slope)

    def features(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """The named feature sets along the mean path x -> mu1 -> mu2: mu2 and the hidden layers of both levels in
        order (so 'code' takes the same three convolutions as ALI's on the SVHN-shaped networks)."""
        out1, pre1, post1 = self.level1.stack(x, keep=True)
        out2, pre2, post2 = self.level2.stack(out1.chunk(2, dim=1)[0], keep=True)
        return named_features(name, out2.chunk(2, dim=1)[0], pre1[:-1] + pre2[:-1], post1[:-1] + post2[:-1])


class HierarchicalDecoder(nn.Module):
    """p(z1|z2) and p(x|z1) (with the per-pixel output bias)."""

    def __init__(self, arch: HALIArch):
        super().__init__()
        base = arch.base
        self.level2 = GaussianStack(base.z_dim, arch.decoder2, base.slope)
        self.level1 = Decoder(base, arch.decoder1, arch.z1_channels)


class HierarchicalDiscriminator(nn.Module):
    """D(x, z1, z2) = joint(concat(D_x(x), D_z1(z1), D_z2(z2))): one logit per triple."""

    def __init__(self, arch: HALIArch):
        super().__init__()
        base = arch.base
        self.d_x = ConvStack(base.image[0], base.d_x, base.slope)
        self.d_z1 = ConvStack(arch.z1_channels, arch.d_z1, base.slope)
        self.d_z2 = ConvStack(base.z_dim, base.d_z, base.slope)
        joint_in = self.d_x.out_channels + self.d_z1.out_channels + self.d_z2.out_channels
        self.joint = ConvStack(joint_in, base.d_xz, base.slope)

    def forward(self, x: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        return self.joint(torch.cat([self.d_x(x), self.d_z1(z1), self.d_z2(z2)], dim=1)).flatten()
