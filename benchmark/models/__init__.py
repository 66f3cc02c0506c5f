"""Model families, one file each, registered by name in benchmark.registry.MODELS."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelEntry:
    """A registered model family and the architectures it is built for (arch name -> model class)."""

    name: str
    description: str
    archs: dict
