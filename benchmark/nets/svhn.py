"""SVHN (32x32, z 256) layer tables of ALI appendix A, with what only the official experiments/ali_svhn.py says:
biases only where no BatchNorm follows, except D(z) (none) and the decoder's output (a per-pixel bias instead);
dropout 0.2 at the input of every discriminator convolution."""
from benchmark.nets.ali_image import ImageArch
from benchmark.nets.layers import Layer

D = 0.2  # dropout at every discriminator conv input

SVHN = ImageArch(
    name="svhn", image=(3, 32, 32), z_dim=256, slope=0.01,
    encoder=(Layer(32, 5), Layer(64, 4, 2), Layer(128, 4), Layer(256, 4, 2), Layer(512, 4), Layer(512, 1),
             Layer(512, 1, bn=False, act=False)),
    decoder=(Layer(256, 4, transposed=True), Layer(128, 4, 2, transposed=True), Layer(64, 4, transposed=True),
             Layer(32, 4, 2, transposed=True), Layer(32, 5, transposed=True), Layer(32, 1),
             Layer(3, 1, bn=False, act=False, bias=False)),
    d_x=(Layer(32, 5, bn=False, dropout=D), Layer(64, 4, 2, dropout=D), Layer(128, 4, dropout=D),
         Layer(256, 4, 2, dropout=D), Layer(512, 4, dropout=D)),
    d_z=(Layer(512, 1, bn=False, dropout=D, bias=False), Layer(512, 1, bn=False, dropout=D, bias=False)),
    d_xz=(Layer(1024, 1, bn=False, dropout=D), Layer(1024, 1, bn=False, dropout=D),
          Layer(1, 1, bn=False, act=False, dropout=D)),
)
