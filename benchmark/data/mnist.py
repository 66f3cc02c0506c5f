"""MNIST (train 60,000 / test 10,000) from the idx files in <root>/MNIST/raw (torchvision's layout), .gz or not."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from benchmark.data import DatasetEntry, ImageSplit
from benchmark.data._files import cached, corrupt, coverage, data_roots, download_root, md5, missing
from benchmark.errors import UserError
from benchmark.registry import DATASETS

FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
OFFICIAL_MD5 = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
                "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
                "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
FULL_COUNTS = {"train": 60_000, "test": 10_000}
HOW = ("Get the four files with `python -m benchmark.run ... --download` (torchvision), or copy them into "
       "<root>/MNIST/raw/.")


def _find(name: str, data_root) -> Path | None:
    for root in data_roots(data_root):
        for candidate in (root / "MNIST" / "raw" / f"{name}.gz", root / "MNIST" / "raw" / name):
            if candidate.is_file():
                return candidate
    return None


def read_idx(path: Path) -> np.ndarray:
    """An idx file (the MNIST format): big-endian magic (0, 0, dtype 0x08, ndim), dims, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise corrupt("MNIST", path, str(e), HOW) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise corrupt("MNIST", path, "bad idx magic number", HOW)
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise corrupt("MNIST", path, f"header says {dims}, file holds {data.size} values", HOW)
    return data.reshape(dims)


def _check_split(split: str) -> None:
    if split not in FILES:
        raise UserError(f"unknown MNIST split {split!r}; valid splits: {', '.join(FILES)}")


def _paths(split: str, data_root) -> tuple[Path, Path]:
    _check_split(split)
    found = [_find(name, data_root) for name in FILES[split]]
    if None in found:
        raise missing("MNIST", f"MNIST/raw/{{{','.join(FILES[split])}}}[.gz]", data_root, HOW)
    return found[0], found[1]


def load(split: str, data_root=None, cache_dir=None, download: bool = False) -> ImageSplit:
    _check_split(split)
    if download and _find(FILES[split][0], data_root) is None:
        from torchvision.datasets import MNIST

        MNIST(str(download_root(data_root)), download=True)
    images_path, labels_path = _paths(split, data_root)

    def convert() -> ImageSplit:
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise corrupt("MNIST", images_path, f"images {images.shape} do not match labels {labels.shape}", HOW)
        sums = {p.name: md5(p) for p in (images_path, labels_path)}
        official = all(OFFICIAL_MD5.get(n) == s for n, s in sums.items())
        n = len(images)
        return ImageSplit(
            torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64)),
            {"dataset": "MNIST", "split": split, "n": n,
             "full_or_subset": coverage(n, FULL_COUNTS[split], official),
             "official_md5": official, "source": str(images_path.parent), "files": sums,
             "recipe": "idx uint8, 28x28, 1 channel"})

    return cached("mnist", split, [images_path, labels_path], cache_dir, convert)


def locate(data_root) -> dict:
    try:
        found = {s: _paths(s, data_root) for s in FILES}
    except UserError:
        return {"found": "not found", "status": "missing", "counts": "–"}
    counts = {}
    for s, (images_path, _) in found.items():
        opener = gzip.open if images_path.suffix == ".gz" else open
        with opener(images_path, "rb") as f:
            counts[s] = int.from_bytes(f.read(8)[4:8], "big")
    full = all(counts[s] == FULL_COUNTS[s] for s in counts)
    return {"found": str(found["train"][0].parent), "status": "full" if full else "subset",
            "counts": ", ".join(f"{s} {n}" for s, n in counts.items())}


DATASETS.register("mnist", DatasetEntry("mnist", "MNIST digits, 28x28 grey (train/test)", locate, load,
                                        tuple(FILES)))
