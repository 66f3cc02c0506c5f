import pytest
import torch

from benchmark.nets.ali_image import Decoder, Encoder, JointDiscriminator
from benchmark.nets.celeba import CELEBA
from benchmark.nets.layers import ConvStack, output_shape
from benchmark.nets.svhn import SVHN


def _sizes(table, in_shape, slope=0.1):
    return [shape[1] for shape in output_shape(ConvStack(in_shape[0], table, slope), in_shape)]


@pytest.mark.parametrize("arch, encoder, decoder, d_x", [
    (SVHN, [28, 13, 10, 4, 1, 1, 1], [4, 10, 13, 28, 32, 32, 32], [28, 13, 10, 4, 1]),
    (CELEBA, [63, 29, 13, 4, 1, 1, 1], [4, 13, 29, 63, 64, 64], [63, 29, 13, 4, 1]),
])
def test_spatial_sizes_follow_the_papers_tables(arch, encoder, decoder, d_x):
    assert _sizes(arch.encoder, arch.image) == encoder
    assert _sizes(arch.decoder, (arch.z_dim, 1, 1)) == decoder
    assert _sizes(arch.d_x, arch.image) == d_x


@pytest.mark.parametrize("arch", [SVHN, CELEBA])
def test_shapes_of_codes_images_and_logits(arch):
    x = torch.rand(4, *arch.image)
    mu, log_sigma = Encoder(arch)(x)
    assert mu.shape == log_sigma.shape == (4, arch.z_dim, 1, 1)
    out = Decoder(arch)(mu)
    assert out.shape == x.shape and out.min() > 0 and out.max() < 1
    assert JointDiscriminator(arch)(x, mu).shape == (4,)


def test_svhn_feature_sets_have_the_official_and_the_papers_sizes():
    encoder = Encoder(SVHN).eval()
    x = torch.rand(3, *SVHN.image)
    assert encoder.features(x, "code").shape == (3, 5376)
    assert encoder.features(x, "paper").shape == (3, 8960)
    assert torch.equal(encoder.features(x, "code")[:, :256], encoder(x)[0].flatten(1)), "mu comes first"
    with pytest.raises(ValueError, match="valid: code, paper"):
        encoder.features(x, "pooled")


def test_decoder_starts_at_the_mean_image_and_weights_start_at_std_001():
    decoder = Decoder(SVHN).eval()
    mean_image = torch.rand(SVHN.image) * 0.8 + 0.1
    decoder.init_pixel_bias(mean_image)
    torch.testing.assert_close(decoder(torch.zeros(2, SVHN.z_dim, 1, 1))[0], mean_image, rtol=1e-4, atol=1e-5)
    big = decoder.stack.convs[0].weight.detach()
    assert abs(float(big.std()) - 0.01) < 0.001 and abs(float(big.mean())) < 0.001


def test_batchnorm_uses_the_codes_momentum_and_eps():
    bn = Encoder(SVHN).stack.norms[0]
    assert bn.momentum == 0.05 and bn.eps == 1e-4


def test_svhn_biases_sit_where_the_official_code_puts_them():
    enc, dec, disc = Encoder(SVHN), Decoder(SVHN), JointDiscriminator(SVHN)
    has_bias = lambda stack: [conv.bias is not None for conv in stack.convs]  # noqa: E731
    assert has_bias(enc.stack) == [False] * 6 + [True]
    assert has_bias(dec.stack) == [False] * 7 and dec.pixel_bias.shape == (3, 32, 32)
    assert has_bias(disc.d_x) == [True, False, False, False, False]
    assert has_bias(disc.d_z) == [False, False]
    assert has_bias(disc.d_xz) == [True, True, True]


def test_cifar10_maxout_halves_channels_and_the_joint_input_is_512():
    from benchmark.nets.cifar10 import CIFAR10, cifar10

    disc = JointDiscriminator(CIFAR10)
    assert disc.d_x.out_channels == 256 and disc.d_z.out_channels == 256
    assert disc.d_xz.convs[0].in_channels == 512
    assert _sizes(CIFAR10.d_x, CIFAR10.image) == [28, 13, 10, 4, 1]
    x = torch.rand(2, 3, 32, 32)
    mu, _ = Encoder(CIFAR10)(x)
    assert mu.shape == (2, 64, 1, 1) and disc(x, mu).shape == (2,)
    assert Encoder(CIFAR10).features(x, "code").shape == (2, 64 + 4096 + 512 + 512)
    code, every = cifar10("code"), cifar10("every_layer")
    assert [r.dropout for r in code.d_x] == [0.2, 0.5, 0.0, 0.0, 0.5]
    assert [r.dropout_before_act for r in code.d_x] == [0.0, 0.0, 0.5, 0.0, 0.0]
    assert [r.dropout for r in every.d_x] == [0.2, 0.5, 0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match="valid: code, every_layer"):
        cifar10("none")


def test_maxout_takes_the_max_of_consecutive_channel_pairs():
    from benchmark.nets.layers import Layer

    stack = ConvStack(4, (Layer(4, 1, bn=False, bias=False, maxout=2),), slope=0.1)
    with torch.no_grad():
        stack.convs[0].weight.copy_(torch.eye(4).view(4, 4, 1, 1))
    x = torch.tensor([1.0, 5.0, -2.0, -3.0]).view(1, 4, 1, 1)
    assert stack(x).flatten().tolist() == [5.0, -2.0]


def test_mnist_mlp_is_784_1000_1000_as_full_kernel_convolutions():
    from benchmark.nets.mnist import MNIST

    assert _sizes(MNIST.encoder, MNIST.image) == [1, 1, 1]
    assert [s[0] for s in output_shape(ConvStack(1, MNIST.encoder, 0.0), MNIST.image)] == [1000, 1000, 128]
    assert output_shape(ConvStack(MNIST.z_dim, MNIST.decoder, 0.0), (MNIST.z_dim, 1, 1))[-1] == (1, 28, 28)
    assert Encoder(MNIST)(torch.rand(2, 1, 28, 28))[0].shape == (2, 64, 1, 1)


@pytest.mark.parametrize("name, z1", [("svhn", (16, 10, 10)), ("cifar10", (16, 10, 10)), ("celeba", (32, 13, 13)),
                                      ("mnist", (64, 1, 1))])
def test_hali_levels_meet_at_a_spatial_z1_in_both_directions(name, z1):
    from benchmark.nets.hali import HALI_ARCHS, HierarchicalDecoder, HierarchicalDiscriminator, HierarchicalEncoder

    arch = HALI_ARCHS[name]
    x = torch.rand(2, *arch.base.image)
    encoder, decoder = HierarchicalEncoder(arch), HierarchicalDecoder(arch)
    mu1, _ = encoder.level1(x)
    mu2, _ = encoder.level2(mu1)
    back1, _ = decoder.level2(mu2)
    assert mu1.shape[1:] == back1.shape[1:] == z1 and mu2.shape[1:] == (arch.base.z_dim, 1, 1)
    assert decoder.level1(back1).shape == x.shape
    assert HierarchicalDiscriminator(arch)(x, mu1, mu2).shape == (2,)


@pytest.mark.parametrize("conv, shape", [
    (torch.nn.Conv2d(3, 7, 4), (2, 3, 4, 4)),  # kernel covers the input: a linear layer
    (torch.nn.Conv2d(5, 6, 1, bias=False), (2, 5, 1, 1)),
    (torch.nn.ConvTranspose2d(5, 6, 4), (2, 5, 1, 1)),  # transposed on a 1x1 input
    (torch.nn.ConvTranspose2d(5, 6, 4, 2), (2, 5, 3, 3)),  # not fully connected: the convolution itself
    (torch.nn.Conv2d(3, 4, 3), (2, 3, 5, 5)),
])
def test_matrix_product_fast_path_equals_the_convolution(conv, shape):
    from benchmark.nets.layers import apply_conv

    x = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(apply_conv(conv, x), conv(x), rtol=1e-5, atol=1e-6)


def test_conv_stack_gives_the_same_output_with_and_without_the_fast_path():
    stack = ConvStack(SVHN.image[0], SVHN.encoder, SVHN.slope).eval()
    x = torch.rand(3, *SVHN.image)
    fast = stack(x)
    stack.matmul_fast_path = False
    torch.testing.assert_close(fast, stack(x), rtol=1e-4, atol=1e-6)
