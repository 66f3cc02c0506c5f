"""The papers' figures of a trained image model: samples, reconstructions, interpolations, inpainting.

Unlike the tables' figures, these are drawn from the live model right after `benchmark.fit` trains (or resumes) it,
from a fixed set of held-out images and fixed noise, and the fit record lists them.
"""
from __future__ import annotations

from pathlib import Path

import torch

GRID_COLUMNS = 8  # 4 (real, reconstruction) pairs a row
INTERPOLATION_STEPS = 10
INPAINT_ITERATIONS = 10
STOCHASTIC_DRAWS = 7  # decodings of one code beside its image, as the IAE slides show stochastic reconstructions


def interleave(real: torch.Tensor, reconstructed: torch.Tensor) -> torch.Tensor:
    """Images ordered real, reconstruction, real, reconstruction, ...: in a grid with an even number of columns the
    odd columns (1st, 3rd, ...) are real and the even ones their reconstructions, as the papers show them."""
    if real.shape != reconstructed.shape:
        raise ValueError(f"shapes differ: {tuple(real.shape)} vs {tuple(reconstructed.shape)}")
    return torch.stack([real, reconstructed], dim=1).flatten(0, 1)


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between two batches of codes (flattened per code), at the fractions t."""
    a, b = z0.flatten(1), z1.flatten(1)
    cos = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))[:, None, None]
    t = t[None, :, None]
    out = (torch.sin((1 - t) * omega) * a[:, None] + torch.sin(t * omega) * b[:, None]) / torch.sin(omega)
    return out.reshape(len(z0), len(t[0]), *z0.shape[1:])


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation: (pairs, steps, *code shape)."""
    t = t.view(1, -1, *([1] * (z0.dim() - 1)))
    return (1 - t) * z0[:, None] + t * z1[:, None]


def save_grid(images: torch.Tensor, path: Path, columns: int) -> Path:
    """Images in [0, 1], (N, C, H, W), saved as one PNG grid with `columns` images a row."""
    from torchvision.utils import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.detach().float().cpu().clamp(0, 1), path, nrow=columns, padding=1)
    return path


def stochastic_reconstructions(model, x: torch.Tensor, draws: int = STOCHASTIC_DRAWS) -> torch.Tensor:
    """Rows of (image, `draws` decodings of its one code with fresh local noise): what the code keeps (content) and
    what the noise varies (style).  (len(x) * (1 + draws), C, H, W)."""
    z = model.encode(x).mean
    decoded = torch.stack([model.decode(z) for _ in range(draws)], dim=1)
    return torch.cat([x[:, None], decoded], dim=1).flatten(0, 1)


def centre_mask(shape: tuple[int, ...]) -> torch.Tensor:
    """1 where a pixel is kept, 0 on the centre square of half the image's side."""
    h, w = shape[-2:]
    mask = torch.ones(1, 1, h, w)
    mask[..., h // 4: h // 4 + h // 2, w // 4: w // 4 + w // 2] = 0
    return mask


@torch.no_grad()
def inpaint(model, x: torch.Tensor, noise: torch.Generator, level: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill the masked centre by iterated reconstruction, keeping the known pixels each round [ours, after HALI's
    inpainting figure: start from uniform noise in the hole, reconstruct through `level`, paste the known pixels
    back, INPAINT_ITERATIONS times].  Returns (masked input, inpainted)."""
    mask = centre_mask(x.shape).to(x.device)
    masked = x * mask + torch.rand(x.shape, generator=noise).to(x.device) * (1 - mask)
    current = masked
    for _ in range(INPAINT_ITERATIONS):
        current = x * mask + model.reconstruct(current, level=level) * (1 - mask)
    return masked, current


@torch.no_grad()
def draw_model_figures(model, held_out: torch.Tensor, out_dir: Path, stem: str, seed: int) -> dict[str, str]:
    """Every figure the model supports, from held-out images in [0, 1]; returns {figure name: path}."""
    noise = torch.Generator().manual_seed(seed)
    paths: dict[str, Path] = {}
    paths["samples"] = save_grid(model.sample(64), out_dir / f"{stem}_samples.png", GRID_COLUMNS)
    if not hasattr(model, "encode"):
        return {k: str(v) for k, v in paths.items()}
    x = held_out[:32]
    levels = getattr(model, "levels", (1,))
    for level in levels:
        name = "reconstructions" if len(levels) == 1 else f"reconstructions_z{level}"
        paths[name] = save_grid(interleave(x, model.reconstruct(x, level=level)), out_dir / f"{stem}_{name}.png",
                                GRID_COLUMNS)
    if getattr(model, "decoder_noise_dim", 0):
        paths["reconstructions_stochastic"] = save_grid(stochastic_reconstructions(model, held_out[:8]),
                                                        out_dir / f"{stem}_reconstructions_stochastic.png",
                                                        1 + STOCHASTIC_DRAWS)
    n = min(8, len(held_out) // 2)  # pairs: image i and image n + i
    a, b = model.encode(held_out[:n]).mean, model.encode(held_out[n: 2 * n]).mean
    t = torch.linspace(0, 1, INTERPOLATION_STEPS, device=a.device)
    for name, path_fn in (("lerp", lerp), ("slerp", slerp)):
        codes = path_fn(a, b, t).flatten(0, 1)
        decoded = model.decode(codes).view(n, INTERPOLATION_STEPS, *x.shape[1:])
        rows = torch.cat([held_out[:n, None], decoded, held_out[n: 2 * n, None]], dim=1).flatten(0, 1)
        paths[f"interpolation_{name}"] = save_grid(rows, out_dir / f"{stem}_interpolation_{name}.png",
                                                   INTERPOLATION_STEPS + 2)
    if len(levels) > 1:
        masked, filled = inpaint(model, held_out[:16], noise)
        rows = torch.stack([masked, filled, held_out[:16]], dim=1).flatten(0, 1)
        paths["inpainting"] = save_grid(rows, out_dir / f"{stem}_inpainting.png", 6)
    return {k: str(v) for k, v in paths.items()}
