"""CelebA (64x64, z 256) layer tables of ALI appendix A.  The table does not say where the discriminator uses
BatchNorm, biases and dropout, and the stored official ali_celeba.py is an early copy of the SVHN script; so, as in
ali_svhn.py: BatchNorm on every D(x) layer but the first, no D(z) biases, dropout 0.2 at every discriminator conv
input [ours, to be named in the tables that use it]."""
from benchmark.nets.ali_image import ImageArch
from benchmark.nets.layers import Layer

D = 0.2

CELEBA = ImageArch(
    name="celeba", image=(3, 64, 64), z_dim=256, slope=0.02,
    encoder=(Layer(64, 2), Layer(128, 7, 2), Layer(256, 5, 2), Layer(256, 7, 2), Layer(512, 4), Layer(512, 1),
             Layer(512, 1, bn=False, act=False)),
    decoder=(Layer(512, 4, transposed=True), Layer(256, 7, 2, transposed=True), Layer(256, 5, 2, transposed=True),
             Layer(128, 7, 2, transposed=True), Layer(64, 2, transposed=True),
             Layer(3, 1, bn=False, act=False, bias=False)),
    d_x=(Layer(64, 2, bn=False, dropout=D), Layer(128, 7, 2, dropout=D), Layer(256, 5, 2, dropout=D),
         Layer(256, 7, 2, dropout=D), Layer(512, 4, dropout=D)),
    d_z=(Layer(1024, 1, bn=False, dropout=D, bias=False), Layer(1024, 1, bn=False, dropout=D, bias=False)),
    d_xz=(Layer(2048, 1, bn=False, dropout=D), Layer(2048, 1, bn=False, dropout=D),
          Layer(1, 1, bn=False, act=False, dropout=D)),
)
