"""Reconstruction error: mean Euclidean distance between inputs and their reconstructions."""
from __future__ import annotations

import torch


def euclidean_error(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    """mean over samples of ||x - x_hat||_2, each sample flattened."""
    if x.shape != x_hat.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(x_hat.shape)}")
    return float((x - x_hat).flatten(1).double().norm(dim=1).mean())
