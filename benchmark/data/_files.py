"""What the image loaders share: data roots, md5 sums, the conversion cache and the missing-data message."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import torch

from benchmark.data import DatasetMissing, ImageSplit
from benchmark.errors import UserError

DEFAULT_CACHE = Path(".cache/benchmark")
CACHE_VERSION = 1


def data_roots(data_root: str | os.PathLike | None) -> list[Path]:
    """The folders searched, in order: the explicit root, BENCHMARK_DATA, ./data (those that exist)."""
    candidates = [data_root, os.environ.get("BENCHMARK_DATA"), "data"]
    roots: list[Path] = []
    for c in candidates:
        if c and Path(c).is_dir() and Path(c).resolve() not in [r.resolve() for r in roots]:
            roots.append(Path(c))
    return roots


def searched(data_root) -> str:
    roots = [str(data_root)] if data_root else []
    roots += [f"BENCHMARK_DATA={os.environ['BENCHMARK_DATA']}"] if os.environ.get("BENCHMARK_DATA") else []
    return ", ".join(roots + ["./data"])


def download_root(data_root) -> Path:
    """Where --download puts a dataset: the explicit root, else BENCHMARK_DATA, else ./data."""
    root = Path(data_root or os.environ.get("BENCHMARK_DATA") or "data")
    root.mkdir(parents=True, exist_ok=True)
    return root


def coverage(n: int, full_n: int, official_md5: bool | None) -> str:
    """'full' only when the count is the official one and (where known) the official md5 sums match."""
    if n < full_n:
        return f"subset ({n} of {full_n})"
    return "full" if official_md5 in (True, None) else "full count, md5 not official"


def md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def missing(dataset: str, expected: str, data_root, how: str) -> DatasetMissing:
    return DatasetMissing(f"{dataset} not found: expected {expected} under one of the data roots searched "
                     f"({searched(data_root)}). {how}")


def corrupt(dataset: str, path: Path, why: str, how: str) -> UserError:
    return UserError(f"{dataset}: {path} is corrupt or not in the expected format ({why}). {how}")


def cache_dir(cache: str | os.PathLike | None) -> Path:
    return Path(cache or os.environ.get("BENCHMARK_CACHE") or DEFAULT_CACHE) / "data"


def _fingerprint(files: list[Path], key: str) -> str:
    """Identifies the sources cheaply (path, size, mtime) so that a cached load never re-reads them."""
    h = hashlib.sha1(f"{CACHE_VERSION}/{key}".encode())
    for f in sorted(files):
        st = f.stat()
        h.update(f"{f.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def cached(name: str, key: str, files: list[Path], cache: str | os.PathLike | None,
           convert: Callable[[], ImageSplit]) -> ImageSplit:
    """Load the converted split from the cache, or convert it once and store it (atomically)."""
    path = cache_dir(cache) / f"{name}-{key}-{_fingerprint(files, key)}.pt"
    if path.exists():
        try:
            state = torch.load(path, weights_only=False)
            return ImageSplit(state["images"], state["labels"], state["provenance"], state["extras"])
        except Exception:  # a broken cache file is rebuilt from the sources, never trusted
            path.unlink(missing_ok=True)
    split = convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({"images": split.images, "labels": split.labels, "provenance": split.provenance,
                "extras": split.extras}, tmp)
    os.replace(tmp, path)
    return split
