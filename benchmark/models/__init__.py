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
    config: Any = None  # the family's default config on the image archs, or {arch: config} (None: toy-only families)
    semi_supervised: bool = False  # trains on labelled and unlabelled streams (FitConfig.labels_per_class)
    clustering: bool = False  # trains without labels and clusters by a categorical code (the clustering table)
    #: raised when a fix changes what the family trains from the same config: part of a trained model's identity
    #: (from 1 on), so models cached before the fix are trained again, never reused
    revision: int = 0

    def default_config(self, arch: str):
        return self.config[arch] if isinstance(self.config, dict) else self.config
