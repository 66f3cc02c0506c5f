"""One validated registry for models, tables, datasets and profiles.

Every name the CLI accepts comes from here; nothing keeps its own list of names.  Entries register themselves
when their module is imported; `load_all()` imports the packages that hold them.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Generic, Iterator, TypeVar

from benchmark.errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> entry mapping that refuses duplicates and answers unknown names with the valid choices."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"{self.kind} name {name!r} must be letters, digits, '_' or '-'")
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        load_all()
        if name not in self._entries:
            choices = ", ".join(sorted(self._entries)) or "(none)"
            raise UserError(f"unknown {self.kind} {name!r}; valid {self.kind}s: {choices}")
        return self._entries[name]

    def names(self) -> list[str]:
        load_all()
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        load_all()
        return iter(sorted(self._entries.items()))

    def __contains__(self, name: str) -> bool:
        load_all()
        return name in self._entries


MODELS: Registry = Registry("model")
TABLES: Registry = Registry("table")
DATASETS: Registry = Registry("dataset")
PROFILES: Registry = Registry("profile")

PROFILES.register("smoke", "every table end to end in seconds on a CPU, tiny nets and data; pinned in results/smoke")
PROFILES.register("small", "the real protocol, shortened to fit a 2-core CPU (up to about two hours a table)")
PROFILES.register("paper", "the papers' hyperparameters and data; meant for a GPU")

_ENTRY_PACKAGES = ("benchmark.data", "benchmark.models", "benchmark.tables")
_loaded = False


def load_all() -> None:
    """Import every module of the packages that register entries (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for package_name in _ENTRY_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{package_name}.{info.name}")
