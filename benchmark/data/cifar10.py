"""CIFAR-10 from the python batches (torchvision's layout): <root>/cifar-10-batches-py, or the partial copy
<root>/cifar-10-subset/cifar-10-batches-py whose batches hold only their first images (accepted as a recorded
subset; torchvision's integrity check refuses it).

Splits: train (50,000), test (10,000), and the ALI split of the train images: train_first45k (original index
< 45,000, what ALI trains on) and train_last5k.  Every image keeps its original index.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import CIFAR10
from torchvision.datasets.utils import check_integrity

from benchmark.data import DataUnavailable, DatasetEntry, ImageSplit
from benchmark.data._files import cached, corrupt, coverage, data_roots, download_root, md5, missing
from benchmark.errors import UserError
from benchmark.registry import DATASETS

FOLDER = "cifar-10-batches-py"
LAYOUTS = (Path(FOLDER), Path("cifar-10-subset") / FOLDER)
BATCHES = {"train": [f for f, _ in CIFAR10.train_list], "test": [f for f, _ in CIFAR10.test_list]}
OFFICIAL_MD5 = dict(CIFAR10.train_list + CIFAR10.test_list)
SPLITS = {"train": ("train", 0, 50_000), "test": ("test", 0, 10_000),
          "train_first45k": ("train", 0, 45_000), "train_last5k": ("train", 45_000, 50_000)}
HOW = "Get it with `--download` (torchvision), or unpack cifar-10-python.tar.gz into <root>/."


def find(data_root) -> Path | None:
    for root in data_roots(data_root):
        for layout in LAYOUTS:
            if all((root / layout / f).is_file() for f in BATCHES["train"] + BATCHES["test"]):
                return root / layout
    return None


def _read_batch(path: Path) -> tuple[np.ndarray, list[int]]:
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = list(entry.get("labels", entry.get("fine_labels")))
    except Exception as e:  # pickle raises many types on a damaged file
        raise corrupt("CIFAR-10", path, f"{type(e).__name__}: {e}", HOW) from None
    if len(labels) < len(data):
        raise corrupt("CIFAR-10", path, f"{len(data)} images but {len(labels)} labels", HOW)
    return data, labels[: len(data)]


def load(split: str, data_root=None, cache_dir=None, download: bool = False) -> ImageSplit:
    if split not in SPLITS:
        raise UserError(f"unknown CIFAR-10 split {split!r}; valid splits: {', '.join(SPLITS)}")
    folder = find(data_root)
    if folder is None and download:
        CIFAR10(str(download_root(data_root)), download=True)
        folder = find(data_root)
    if folder is None:
        raise missing("CIFAR-10", f"{FOLDER}/{{data_batch_1..5,test_batch}} (or cifar-10-subset/{FOLDER})",
                      data_root, HOW)
    part, lo, hi = SPLITS[split]
    files = [folder / f for f in BATCHES[part]]

    def convert() -> ImageSplit:
        images, labels, index = [], [], []
        for b, path in enumerate(files):
            data, lab = _read_batch(path)
            original = np.arange(len(data)) + 10_000 * b
            keep = (original >= lo) & (original < hi)
            images.append(data[keep])
            labels += [lab[i] for i in np.flatnonzero(keep)]
            index.append(original[keep])
        n = sum(len(x) for x in images)
        if n == 0:
            raise DataUnavailable(f"CIFAR-10 {split} (original train indices {lo}..{hi - 1}) is not in the copy at "
                                  f"{folder}: its batches hold only their first images")
        official = all(check_integrity(str(p), OFFICIAL_MD5[p.name]) for p in files)
        return ImageSplit(
            torch.from_numpy(np.concatenate(images)), torch.tensor(labels, dtype=torch.int64),
            {"dataset": "CIFAR-10", "split": split, "n": n, "full_or_subset": coverage(n, hi - lo, official),
             "official_md5": official, "source": str(folder), "files": {p.name: md5(p) for p in files},
             "recipe": "python batches, uint8 3x32x32"},
            {"original_index": torch.from_numpy(np.concatenate(index))})

    return cached("cifar10", split, files, cache_dir, convert)


def locate(data_root) -> dict:
    folder = find(data_root)
    if folder is None:
        return {"found": "not found", "status": "missing", "counts": "–"}
    counts = {p: sum(len(_read_batch(folder / f)[0]) for f in BATCHES[p]) for p in BATCHES}
    full = counts["train"] == 50_000 and counts["test"] == 10_000
    return {"found": str(folder), "status": "full" if full else "subset",
            "counts": f"train {counts['train']}, test {counts['test']}"}


DATASETS.register("cifar10", DatasetEntry("cifar10", "CIFAR-10, 32x32 colour (train/test; ALI 45k/5k split)",
                                          locate, load, tuple(SPLITS)))
