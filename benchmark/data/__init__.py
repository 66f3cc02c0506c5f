"""Datasets: one module each, returning tensors plus a provenance record that every result stores.

Image datasets come back as `ImageSplit`: uint8 images (N, C, H, W), integer labels or 0/1 attributes, and a
provenance record (dataset, split, n, full or subset, the source files with their md5, the recipe).  They are looked
for under the data roots in order: --data-root, BENCHMARK_DATA, ./data.  The first load is converted to a tensor
file in the cache folder; later loads read that file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from benchmark.errors import UserError


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset: what it is, a probe that says where (and whether) it is found, and its loader."""

    name: str
    description: str
    locate: Callable[[str | None], dict]
    load: Callable | None = None  # (split, data_root=None, cache_dir=None, download=False, **options) -> ImageSplit
    splits: tuple[str, ...] = ()


@dataclass
class ImageSplit:
    images: torch.Tensor  # uint8, (N, C, H, W)
    labels: torch.Tensor  # int64 (N,) class labels, or uint8 (N, 40) attributes
    provenance: dict
    extras: dict = field(default_factory=dict)  # e.g. attribute names, original indices

    def __len__(self) -> int:
        return len(self.images)

    def float_images(self, device: str | torch.device = "cpu") -> torch.Tensor:
        """Images in [0, 1] as float32 on `device` (the papers' input range)."""
        return self.images.to(device).float().div_(255.0)


class DataUnavailable(UserError):
    """A split that the data present cannot provide (e.g. SVHN test images in the partial copy)."""


class DatasetMissing(UserError):
    """A dataset found under no data root.  A table of one dataset stops with this message (exit code 2); a table
    over several datasets (recon_error, sample_quality) records that dataset's cells as unavailable and goes on."""
