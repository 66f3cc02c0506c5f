"""Figures drawn from stored result records only (never from live models)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

FIGURE7_COLUMNS = (("ali", "ALI"), ("gan_inverse", "GAN + inverse mapping"),
                   ("gan_posthoc", "GAN + post-hoc inference"), ("vae", "VAE"))
FIGURE7_ROWS = ("data", "latent codes", "reconstructions", "prior samples", "generated samples")


def _component_colours() -> np.ndarray:
    """25 distinguishable colours, one per mixture component."""
    return np.concatenate([plt.get_cmap("tab20").colors, plt.get_cmap("tab20b").colors[::4]])[:25]


def gmm_figure7(record: dict, best_run, out_dir: Path) -> list[Path]:
    """ALI Figure 7: rows data / latent codes / reconstructions / prior samples / generated samples; columns ALI,
    GAN + inverse mapping, GAN + post-hoc inference, VAE; points coloured by mixture component."""
    runs, colours = record["runs"], _component_colours()
    data = record["extras"].get("figure_data")
    if data is None:
        return []
    x, x_comp = np.array(data["points"]), np.array(data["component"])
    fig, axes = plt.subplots(5, 4, figsize=(10, 12.5), squeeze=False)
    for col, (row_key, title) in enumerate(FIGURE7_COLUMNS):
        run_id = best_run({k: v for k, v in runs.items() if v["row"] == row_key})
        run = runs.get(run_id) if run_id else None
        axes[0, col].set_title(f"{title}\n({run_id})" if run_id else f"{title}\n(not run)", fontsize=9)
        if run is None or "figure" not in run:
            for ax in axes[:, col]:
                ax.text(0.5, 0.5, "no result", ha="center", va="center", transform=ax.transAxes)
            continue
        f = run["figure"]
        gen_comp = np.array(f["generated_component"])
        panels = ((x, x_comp, 6), (np.array(f["codes"]), x_comp, 4), (np.array(f["recons"]), x_comp, 6),
                  (np.array(f["prior"]), gen_comp, 4), (np.array(f["generated"]), gen_comp, 6))
        for ax, (points, comp, lim) in zip(axes[:, col], panels):
            ax.scatter(points[:, 0], points[:, 1], c=colours[comp], s=2, linewidths=0)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
    for r, label in enumerate(FIGURE7_ROWS):
        axes[r, 0].set_ylabel(label)
    fig.suptitle(f"gmm_modes, profile {record['profile']}: ALI Figure 7 replica", fontsize=11)
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "gmm_modes_figure7.png"
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return [path]


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
    save_image(images.clamp(0, 1), path, nrow=columns, padding=1)
    return path
