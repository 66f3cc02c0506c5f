"""Datasets: one module each, returning tensors plus a provenance record that every result stores."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset: what it is and a probe that says where (and whether) it is found."""

    name: str
    description: str
    locate: Callable[[str | None], dict]
