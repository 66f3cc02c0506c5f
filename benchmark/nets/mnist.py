"""MNIST (1x28x28) MLP networks, 784-1000-1000 as in the AAE paper's MNIST models, written as 'valid' convolutions
so that every family and protocol uses them like the convolutional tables: a 28x28 kernel is a fully connected
layer on the flattened image, and 1x1 convolutions on a 1x1 map are fully connected layers.

The widths are the AAE paper's; the rest is [ours] and named here: LeakyReLU 0.2 everywhere (BiGAN's MNIST
discriminator slope; with the AAE's ReLU and dropout 0.2, ALI's discriminator won outright within 2,000 updates and
the generator went black); z 64; BatchNorm (0.05 / 1e-4) on the encoder's and decoder's hidden layers as in the ALI
image networks; a discriminator without BatchNorm, dropout 0.5 at every input (as the CIFAR-10 code's deeper
layers), D(x) 784-1000-1000, D(z) z-1000, D(x, z) 2000-1000-1.
"""
from benchmark.nets.ali_image import ImageArch
from benchmark.nets.layers import Layer

D = 0.5
HIDDEN = 1000

MNIST = ImageArch(
    name="mnist", image=(1, 28, 28), z_dim=64, slope=0.2,
    encoder=(Layer(HIDDEN, 28), Layer(HIDDEN, 1), Layer(2 * 64, 1, bn=False, act=False)),
    decoder=(Layer(HIDDEN, 1, transposed=True), Layer(HIDDEN, 1, transposed=True),
             Layer(1, 28, transposed=True, bn=False, act=False, bias=False)),
    d_x=(Layer(HIDDEN, 28, bn=False, dropout=D), Layer(HIDDEN, 1, bn=False, dropout=D)),
    d_z=(Layer(HIDDEN, 1, bn=False, dropout=D),),
    d_xz=(Layer(HIDDEN, 1, bn=False, dropout=D), Layer(1, 1, bn=False, act=False, dropout=D)),
)
