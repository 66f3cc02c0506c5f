"""Model families, one file each, registered by name in benchmark.registry.MODELS."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelEntry:
    """A registered model family and the architectures it is built for (arch name -> model class)."""

    name: str
    description: str
    archs: dict
    config: Any = None  # the family's default config on the image archs (None: toy-only families)
