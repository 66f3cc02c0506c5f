"""CIFAR-10 (32x32, z 64) networks of the official experiments/ali_cifar10.py: the SVHN generator layout with
LeakyReLU 0.1, and a discriminator with 2-piece maxout and no BatchNorm.  Maxout halves the channel counts, so the
joint input has 512 channels, not the appendix table's 1024.

Dropout, two named versions (the code's indices look like a slip carried over from the SVHN script):
- "code": 0.2 at the inputs of the first D(x) and D(z) convolutions; 0.5 at the inputs of the 2nd and 5th D(x)
  convolutions, between the 3rd D(x) convolution and its maxout, at the 2nd D(z) convolution and at every joint one.
- "every_layer" [ours]: 0.2 at the first D(x) and D(z) inputs, 0.5 at every other discriminator convolution input.
"""
from benchmark.nets.ali_image import ImageArch
from benchmark.nets.layers import Layer

DROPOUT_VERSIONS = ("code", "every_layer")


def cifar10(dropout: str = "code") -> ImageArch:
    if dropout not in DROPOUT_VERSIONS:
        raise ValueError(f"unknown CIFAR-10 dropout version {dropout!r}; valid: {', '.join(DROPOUT_VERSIONS)}")
    every = dropout == "every_layer"
    x_inputs = (0.2, 0.5, 0.5 if every else 0.0, 0.5 if every else 0.0, 0.5)
    x_mid = (0.0, 0.0, 0.0 if every else 0.5, 0.0, 0.0)
    d_x = tuple(Layer(out, k, s, bn=False, bias=(i == 0), maxout=2, dropout=x_inputs[i], dropout_before_act=x_mid[i])
                for i, (out, k, s) in enumerate([(32, 5, 1), (64, 4, 2), (128, 4, 1), (256, 4, 2), (512, 4, 1)]))
    return ImageArch(
        name="cifar10", image=(3, 32, 32), z_dim=64, slope=0.1,
        encoder=(Layer(32, 5), Layer(64, 4, 2), Layer(128, 4), Layer(256, 4, 2), Layer(512, 4), Layer(512, 1),
                 Layer(128, 1, bn=False, act=False)),
        decoder=(Layer(256, 4, transposed=True), Layer(128, 4, 2, transposed=True), Layer(64, 4, transposed=True),
                 Layer(32, 4, 2, transposed=True), Layer(32, 5, transposed=True), Layer(32, 1, transposed=True),
                 Layer(3, 1, bn=False, act=False, bias=False)),
        d_x=d_x,
        d_z=(Layer(512, 1, bn=False, bias=False, maxout=2, dropout=0.2),
             Layer(512, 1, bn=False, bias=False, maxout=2, dropout=0.5)),
        d_xz=(Layer(1024, 1, bn=False, maxout=2, dropout=0.5), Layer(1024, 1, bn=False, maxout=2, dropout=0.5),
              Layer(1, 1, bn=False, act=False, dropout=0.5)),
    )


CIFAR10 = cifar10()
