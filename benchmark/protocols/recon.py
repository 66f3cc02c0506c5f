"""Reconstruction error: mean distances between inputs and their reconstructions, in pixel space (Euclidean) and in
a discriminator's embedding (HALI's figure: ||f_D(x) - f_D(x_hat)||, f_D the x pathway of the trained D), each beside
the random-pair baseline ||x' - x_hat|| with x' an unrelated input (BiGAN's reading aid: a reconstruction closer
than that is more than a guess)."""
from __future__ import annotations

from typing import Callable

import torch


def euclidean_error(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    """mean over samples of ||x - x_hat||_2, each sample flattened."""
    if x.shape != x_hat.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(x_hat.shape)}")
    return float((x - x_hat).flatten(1).double().norm(dim=1).mean())


def unrelated(n: int, seed: int) -> torch.Tensor:
    """A permutation of range(n) with no fixed point (a seeded shuffle, then a cyclic shift of its order), so that
    every input is paired with another one."""
    if n < 2:
        raise ValueError("the random-pair baseline needs at least 2 inputs")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    pairs = torch.empty(n, dtype=torch.long)
    pairs[order] = order.roll(1)
    return pairs


def reconstruction_distances(x: torch.Tensor, x_hat: torch.Tensor, embed: Callable | None = None,
                             seed: int = 0) -> dict[str, float]:
    """{"euclidean", "euclidean_random_pair"} and, with `embed` (a batch of inputs -> (N, D) features), also
    {"embedded", "embedded_random_pair"}: the means over the inputs of ||x - x_hat|| and of ||x' - x_hat||, x' = the
    input `unrelated(n, seed)` pairs with x."""
    other = x[unrelated(len(x), seed)]
    out = {"euclidean": euclidean_error(x, x_hat), "euclidean_random_pair": euclidean_error(other, x_hat)}
    if embed is not None:
        f_x, f_hat = embed(x), embed(x_hat)
        out["embedded"] = euclidean_error(f_x, f_hat)
        out["embedded_random_pair"] = euclidean_error(f_x[unrelated(len(x), seed)], f_hat)
    return out
