"""The 25-component Gaussian mixture of ALI section 4.5: centres on {-4,-2,0,2,4}^2, isotropic std 0.05."""
from __future__ import annotations

import torch

from benchmark.data import DatasetEntry
from benchmark.registry import DATASETS

GRID = (-4.0, -2.0, 0.0, 2.0, 4.0)


def centres(grid: tuple[float, ...] = GRID) -> torch.Tensor:
    """(K, 2) centres, row-major over the grid (component k = 5 * i + j for centre (grid[i], grid[j]))."""
    g = torch.tensor(grid, dtype=torch.float32)
    return torch.cartesian_prod(g, g)


def sample(n: int, std: float, generator: torch.Generator, grid: tuple[float, ...] = GRID):
    """n points from the equal-weight mixture; returns (x of shape (n, 2), component index of each point)."""
    mu = centres(grid)
    component = torch.randint(len(mu), (n,), generator=generator)
    x = mu[component] + std * torch.randn(n, 2, generator=generator)
    return x, component


def provenance(split: str, n: int, std: float, seed: int, grid: tuple[float, ...] = GRID) -> dict:
    return {
        "dataset": "gmm25",
        "split": split,
        "n": n,
        "full_or_subset": "full (synthetic, drawn by the suite)",
        "generator": f"torch.Generator seed {seed}",
        "std": std,
        "grid": list(grid),
    }


def _locate(_data_root: str | None) -> dict:
    return {"found": "synthetic (drawn at run time)", "status": "full", "counts": "any n"}


DATASETS.register(
    "gmm25", DatasetEntry("gmm25", "25-mode Gaussian mixture on a 5x5 grid, std 0.05 (ALI 4.5)", _locate)
)
