import math

import torch
from PIL import Image

from benchmark.model_figures import interleave, lerp, save_grid, slerp


def test_interleave_puts_real_images_in_odd_columns():
    real, rec = torch.zeros(3, 1, 2, 2), torch.ones(3, 1, 2, 2)
    out = interleave(real, rec)
    assert [float(x.mean()) for x in out] == [0, 1, 0, 1, 0, 1]


def test_interpolations_hit_their_ends_and_slerp_keeps_the_norm_of_equal_norm_codes():
    z0, z1 = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    t = torch.linspace(0, 1, 5)
    for f in (lerp, slerp):
        path = f(z0, z1, t)
        assert path.shape == (1, 5, 2)
        torch.testing.assert_close(path[0, 0], z0[0])
        torch.testing.assert_close(path[0, -1], z1[0], atol=1e-6, rtol=0)
    assert torch.allclose(slerp(z0, z1, t).norm(dim=-1), torch.ones(1, 5))
    assert abs(float(lerp(z0, z1, t)[0, 2].norm()) - math.sqrt(0.5)) < 1e-6
    codes = slerp(torch.randn(2, 4, 1, 1), torch.randn(2, 4, 1, 1), t)
    assert codes.shape == (2, 5, 4, 1, 1)


def test_save_grid_writes_a_png_of_the_expected_size(tmp_path):
    path = save_grid(torch.rand(8, 3, 4, 4), tmp_path / "grid.png", columns=4)
    with Image.open(path) as im:
        assert im.size == (4 * 5 + 1, 2 * 5 + 1)
