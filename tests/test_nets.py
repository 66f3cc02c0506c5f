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
