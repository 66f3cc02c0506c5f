"""Improved-GAN's networks (openai/improved-gan @ 4f5d1ec, mnist_svhn_cifar10/), read in the official scripts [code].

SVHN and CIFAR-10 (`train_svhn_feature_matching.py`, `train_cifar_feature_matching.py`): see ConvFMDiscriminator and
ConvFMGenerator; every layer weight-normalised with data-dependent init (nn.weight_norm, g trained only on D's output
layer and G's last deconvolution), LeakyReLU 0.2, dropout 0.2 on D's input and 0.5 after each stride-2 block.

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

from benchmark.nets.layers import SeededDropout, SeededGaussianNoise


@dataclass(frozen=True)
class SemiArch:
    """A semi-supervised network family's shape: the name, image size, noise size and number of classes."""

    name: str
    image: tuple[int, int, int]
    z_dim: int
    classes: int = 10
    shift: float = 0.0  # the network's input is (x_uint8 - shift) / scale: MNIST [0, 1] [code]
    scale: float = 255.0

    def to_input(self, unit: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] to the networks' input scale."""
        return unit if (self.shift, self.scale) == (0.0, 255.0) else (unit * 255.0 - self.shift) / self.scale


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
    250-unit layer (feature matching's layer).  head=False: the trunk alone, whose `head_input` another head reads
    (the K+1 ALI's D with a z pathway)."""

    NOISE = (0.3, 0.5, 0.5, 0.5, 0.5, 0.5)
    WIDTHS = (1000, 500, 250, 250, 250)

    def __init__(self, arch: SemiArch = None, head: bool = True):
        super().__init__()
        classes = arch.classes if arch is not None else 10
        widths = (784,) + self.WIDTHS
        self.noises = nn.ModuleList(SeededGaussianNoise(s) for s in self.NOISE)
        self.layers = nn.ModuleList(WeightNormDense(a, b, train_scale=False) for a, b in zip(widths[:-1], widths[1:]))
        self.head = WeightNormDense(widths[-1], classes, train_scale=True, relu=False) if head else None
        self.head_features = widths[-1]

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """The last 250-unit layer."""
        h = x.flatten(1)
        for noise, layer in zip(self.noises, self.layers):
            h = layer(noise(h))
        return h

    def head_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the output layer reads: the last 250-unit layer with its Gaussian noise."""
        return self.noises[-1](self.trunk(x))

    def forward(self, x: torch.Tensor, features: bool = False):
        feature = self.trunk(x)
        logits = self.head(self.noises[-1](feature))
        return (logits, feature) if features else logits

    @torch.no_grad()
    def initialise(self, x: torch.Tensor) -> torch.Tensor:
        """Data-dependent init of every layer; returns what the output layer read on the batch."""
        h = x.flatten(1)
        for noise, layer in zip(self.noises, self.layers):
            h = layer.initialise(noise(h))
        h = self.noises[-1](h)
        if self.head is not None:
            self.head.initialise(h)
        return h


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


@dataclass(frozen=True)
class ConvFMArch(SemiArch):
    """The SVHN / CIFAR-10 networks of Improved-GAN: D widths (w1 x3, w2 x3, w2, NIN w2 x2), input noise none,
    and the input scaling x_model = (x_uint8 - shift) / scale [code]."""

    widths: tuple[int, int] = (64, 128)


SVHN_FM = ConvFMArch("svhn", (3, 32, 32), 100, widths=(64, 128), shift=127.5, scale=127.5)  # [code] [-1, 1]
CIFAR10_FM = ConvFMArch("cifar10", (3, 32, 32), 100, widths=(96, 192), shift=127.5, scale=128.0)  # [code]


class WeightNorm(nn.Module):
    """Improved-GAN's nn.weight_norm around a convolution, transposed convolution or dense layer (created without a
    bias): W = V * g / sqrt(1e-6 + ||V||^2) per output unit, a bias, then the nonlinearity.  g is trained only where
    the code says train_g=True; the data-dependent init sets g and b so that the pre-activations of one batch have
    mean 0 and std `init_stdv` per unit [code]."""

    def __init__(self, layer: nn.Module, act: nn.Module | None, train_g: bool = False, init_stdv: float = 1.0):
        super().__init__()
        nn.init.normal_(layer.weight, 0.0, 0.05)
        self.layer, self.act, self.init_stdv = layer, act or nn.Identity(), init_stdv
        out = layer.out_channels if hasattr(layer, "out_channels") else layer.out_features
        if train_g:
            self.g = nn.Parameter(torch.ones(out))
        else:
            self.register_buffer("g", torch.ones(out))
        self.b = nn.Parameter(torch.zeros(out))
        # the axes of V summed per output unit: Conv2d (out, in, k, k), ConvTranspose2d (in, out, k, k), Linear
        self._dims = (0, 2, 3) if isinstance(layer, nn.ConvTranspose2d) else tuple(range(1, layer.weight.dim()))

    def weight(self) -> torch.Tensor:
        v = self.layer.weight
        shape = [1] * v.dim()
        shape[1 if isinstance(self.layer, nn.ConvTranspose2d) else 0] = -1
        return v * (self.g.view(shape) / (v.square().sum(self._dims, keepdim=True) + 1e-6).sqrt())

    def _linear(self, x: torch.Tensor) -> torch.Tensor:
        layer, w = self.layer, self.weight()
        if isinstance(layer, nn.Linear):
            return F.linear(x, w)
        if isinstance(layer, nn.ConvTranspose2d):
            return F.conv_transpose2d(x, w, None, layer.stride, layer.padding, layer.output_padding)
        return F.conv2d(x, w, None, layer.stride, layer.padding)

    def _bias(self, y: torch.Tensor) -> torch.Tensor:
        return self.b.view(1, -1, *([1] * (y.dim() - 2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._linear(x)
        return self.act(y + self._bias(y))

    @torch.no_grad()
    def initialise(self, x: torch.Tensor) -> torch.Tensor:
        y = self._linear(x)
        axes = (0,) + tuple(range(2, y.dim()))
        mean = y.mean(axes, keepdim=True)
        y = y - mean
        inv_std = self.init_stdv / y.square().mean(axes, keepdim=True).sqrt()
        self.b.copy_((-mean * inv_std).flatten())
        self.g.mul_(inv_std.flatten())
        return self.act(y * inv_std)


def _initialise(modules, x: torch.Tensor) -> torch.Tensor:
    """Run `x` through `modules` in order, initialising every weight-normalised layer from the batch it sees."""
    for module in modules:
        x = module.initialise(x) if isinstance(module, WeightNorm) else module(x)
    return x


class ConvFMDiscriminator(nn.Module):
    """(N, 3, 32, 32) in the model's input scale -> 10 logits; features = the globally pooled last NIN layer, which
    is also what the output layer reads (`head_input`).  head=False: the trunk alone."""

    def __init__(self, arch: ConvFMArch, head: bool = True):
        super().__init__()
        w1, w2 = arch.widths
        lrelu = nn.LeakyReLU(0.2)

        def conv(a, b, stride=1, pad=1):
            return WeightNorm(nn.Conv2d(a, b, 3, stride, pad, bias=False), lrelu)

        self.trunk = nn.Sequential(
            SeededDropout(0.2), conv(arch.image[0], w1), conv(w1, w1), conv(w1, w1, stride=2),
            SeededDropout(0.5), conv(w1, w2), conv(w2, w2), conv(w2, w2, stride=2),
            SeededDropout(0.5), conv(w2, w2, pad=0),
            WeightNorm(nn.Conv2d(w2, w2, 1, bias=False), lrelu), WeightNorm(nn.Conv2d(w2, w2, 1, bias=False), lrelu))
        self.head = WeightNorm(nn.Linear(w2, arch.classes, bias=False), None, train_g=True, init_stdv=0.1) \
            if head else None
        self.head_features = w2

    def head_input(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x).mean((2, 3))

    def forward(self, x: torch.Tensor, features: bool = False):
        feature = self.head_input(x)
        logits = self.head(feature)
        return (logits, feature) if features else logits

    @torch.no_grad()
    def initialise(self, x: torch.Tensor) -> torch.Tensor:
        """Data-dependent init of every layer; returns what the output layer read on the batch."""
        h = _initialise(self.trunk, x).mean((2, 3))
        if self.head is not None:
            self.head.initialise(h)
        return h


class ScaleFreeBatchNorm2d(nn.BatchNorm2d):
    """ScaleFreeBatchNorm for feature maps."""

    def __init__(self, channels: int):
        super().__init__(channels, eps=1e-6, momentum=0.1, affine=False)
        self.bias_after = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) + self.bias_after.view(1, -1, 1, 1)


class ConvFMGenerator(nn.Module):
    """z (N, 100) -> Dense 4x4x512 + BN + ReLU -> deconv 5x5 256@8x8 -> 128@16x16 (BN + ReLU) -> weight-normalised
    deconv 3@32x32, tanh (trainable g, data-dependent init with std 0.1) [code]; all weights N(0, 0.05)."""

    def __init__(self, z_dim: int = 100):
        super().__init__()
        dense = nn.Linear(z_dim, 4 * 4 * 512, bias=False)
        nn.init.normal_(dense.weight, 0.0, 0.05)
        self.dense = nn.Sequential(dense, ScaleFreeBatchNorm(4 * 4 * 512), nn.ReLU())
        layers: list[nn.Module] = []
        for a, b in ((512, 256), (256, 128)):
            deconv = nn.ConvTranspose2d(a, b, 5, 2, 2, output_padding=1, bias=False)
            nn.init.normal_(deconv.weight, 0.0, 0.05)
            layers += [deconv, ScaleFreeBatchNorm2d(b), nn.ReLU()]
        self.deconvs = nn.Sequential(*layers)
        self.out = WeightNorm(nn.ConvTranspose2d(128, 3, 5, 2, 2, output_padding=1, bias=False), nn.Tanh(),
                              train_g=True, init_stdv=0.1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.deconvs(self.dense(z).view(len(z), 512, 4, 4)))

    @torch.no_grad()
    def initialise(self, z: torch.Tensor) -> None:
        self.out.initialise(self.deconvs(self.dense(z).view(len(z), 512, 4, 4)))


FM_ARCHS = {"mnist": MNIST_FM, "svhn": SVHN_FM, "cifar10": CIFAR10_FM}


def fm_discriminator(arch: SemiArch, head: bool = True) -> nn.Module:
    """The Improved-GAN discriminator of `arch`: the MNIST dense one or the SVHN / CIFAR-10 convolutional one."""
    return ConvFMDiscriminator(arch, head) if isinstance(arch, ConvFMArch) else MnistFMDiscriminator(arch, head)


class JointFMDiscriminator(nn.Module):
    """Improved-GAN's discriminator with a z pathway, for ALI's K+1 discriminator on (x, z) [ours: the ALI paper
    does not say which D it used].  x (in [0, 1], mapped to the Improved-GAN input scale) goes through the
    Improved-GAN D without its output layer, z through `d_z` (the dataset's ALI D(z) pathway); a weight-normalised
    dense layer (trainable g, data-dependent init with std 0.1, as Improved-GAN's convolutional output layer) maps
    the concatenation of what Improved-GAN's output layer reads and the flattened z pathway to `arch.classes`
    logits."""

    def __init__(self, arch: SemiArch, d_z: nn.Module, z_features: int):
        super().__init__()
        self.arch = arch
        self.d_x = fm_discriminator(arch, head=False)
        self.d_z = d_z
        self.head = WeightNorm(nn.Linear(self.d_x.head_features + z_features, arch.classes, bias=False), None,
                               train_g=True, init_stdv=0.1)

    def _joint(self, hx: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return torch.cat([hx, self.d_z(z).flatten(1)], dim=1)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.head(self._joint(self.d_x.head_input(self.arch.to_input(x)), z))

    @torch.no_grad()
    def initialise(self, x: torch.Tensor, z: torch.Tensor) -> None:
        """Data-dependent init of the x trunk on images `x` and of the head on the pairs (x, z)."""
        self.head.initialise(self._joint(self.d_x.initialise(self.arch.to_input(x)), z))
