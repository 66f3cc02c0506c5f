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

    def default_config(self, arch: str):
        return self.config[arch] if isinstance(self.config, dict) else self.config
