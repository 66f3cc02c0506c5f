"""Seeded draws from a trained image model: reconstructions and samples in chunks, the model's noise streams
restarted from a given seed first, so a result never depends on what the model drew before (a resumed table gives
the numbers of an uninterrupted one).  Used by every table that evaluates a model's images."""
from __future__ import annotations

from collections.abc import Iterator

import torch

from benchmark.models._image import to_unit


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] rounded to 8 bits, like the data they stand in for."""
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


@torch.no_grad()
def reconstruction_chunks(model, images: torch.Tensor, level: int, seed: int, batch: int = 500
                          ) -> Iterator[torch.Tensor]:
    """Float reconstructions (on the model's device) of uint8 or [0, 1] images through `level`, `batch` at a time."""
    device = model.runtime.device
    model.noise.manual_seed(seed)
    for chunk in images.split(batch):
        yield model.reconstruct(to_unit(chunk.to(device)), level=level).float()


def reconstructions_uint8(model, images: torch.Tensor, level: int, seed: int, batch: int = 500) -> torch.Tensor:
    """8-bit reconstructions on the CPU (rounded chunk by chunk, so a whole training set fits in memory)."""
    return torch.cat([to_uint8(c.cpu()) for c in reconstruction_chunks(model, images, level, seed, batch)])


@torch.no_grad()
def samples_uint8(model, n: int, seed: int, batch: int) -> torch.Tensor:
    """n 8-bit samples of the model on the CPU."""
    model.noise.manual_seed(seed)
    return to_uint8(torch.cat([model.sample(min(batch, n - i)).float().cpu() for i in range(0, n, batch)]))
