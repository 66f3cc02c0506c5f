"""SVHN cropped digits: train (73,257), test (26,032), extra (531,131); labels 0-9 (official 10 stored as 0).

Sources, first found wins: the official .mat files (<root>/svhn/{split}_32x32.mat or <root>/{split}_32x32.mat,
torchvision's layout), or the partial copy <root>/svhn_partial/ (the first train images decoded to .npy, plus the
labels of every train and test image in official order, but no test or extra images).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import SVHN

from benchmark.data import DataUnavailable, DatasetEntry, ImageSplit
from benchmark.data._files import cached, corrupt, coverage, data_roots, download_root, md5, missing
from benchmark.errors import UserError
from benchmark.registry import DATASETS

FULL_COUNTS = {"train": 73_257, "test": 26_032, "extra": 531_131}
OFFICIAL_MD5 = {split: entry[2] for split, entry in SVHN.split_list.items()}
PARTIAL = "svhn_partial"
PARTIAL_IMAGES = "train_32x32_first{n}_X_NHWC_uint8.npy"
PARTIAL_LABELS = {"train": "train_labels_73257_uint8.npy", "test": "test_labels_26032_uint8.npy"}
HOW = ("Get the official {split}_32x32.mat with `--download` (torchvision) or from "
       "http://ufldl.stanford.edu/housenumbers/ into <root>/svhn/.")


def _find_mat(split: str, data_root) -> Path | None:
    for root in data_roots(data_root):
        for candidate in (root / "svhn" / f"{split}_32x32.mat", root / f"{split}_32x32.mat"):
            if candidate.is_file():
                return candidate
    return None


def _find_partial(data_root) -> Path | None:
    for root in data_roots(data_root):
        folder = root / PARTIAL
        if folder.is_dir() and list(folder.glob(PARTIAL_IMAGES.format(n="*"))):
            return folder
    return None


def _load_mat(split: str, path: Path) -> ImageSplit:
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
        images = np.transpose(mat["X"], (3, 2, 0, 1))  # (32, 32, 3, N) -> (N, 3, 32, 32)
        labels = mat["y"].astype(np.int64).squeeze(1)
    except Exception as e:  # scipy raises several types on a damaged file
        raise corrupt("SVHN", path, f"{type(e).__name__}: {e}", HOW.format(split=split)) from None
    if images.shape[1:] != (3, 32, 32) or len(images) != len(labels):
        raise corrupt("SVHN", path, f"X {images.shape} and y {labels.shape} do not match", HOW.format(split=split))
    labels[labels == 10] = 0
    official = md5(path) == OFFICIAL_MD5[split]
    return ImageSplit(
        torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels),
        {"dataset": "SVHN", "split": split, "n": len(labels),
         "full_or_subset": coverage(len(labels), FULL_COUNTS[split], official), "official_md5": official,
         "source": str(path), "files": {path.name: md5(path)}, "recipe": "official .mat, label 10 -> 0"})


def _load_partial(split: str, folder: Path) -> ImageSplit:
    if split != "train":
        raise DataUnavailable(f"SVHN {split} images are not in {folder}: the partial copy holds only the first train "
                              f"images (and labels for train and test). {HOW.format(split=split)}")
    images_path = sorted(folder.glob(PARTIAL_IMAGES.format(n="*")))[0]
    labels_path = folder / PARTIAL_LABELS["train"]
    try:
        images = np.load(images_path)
        all_labels = np.load(labels_path)
    except (OSError, ValueError) as e:
        raise corrupt("SVHN", images_path, str(e), HOW.format(split=split)) from None
    if images.ndim != 4 or images.shape[1:] != (32, 32, 3) or len(all_labels) < len(images):
        raise corrupt("SVHN", images_path, f"images {images.shape}, labels {all_labels.shape}", HOW.format(split=split))
    n = len(images)
    return ImageSplit(
        torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))),
        torch.from_numpy(all_labels[:n].astype(np.int64)),
        {"dataset": "SVHN", "split": "train", "n": n, "full_or_subset": coverage(n, FULL_COUNTS["train"], None),
         "official_md5": None, "source": str(folder),
         "files": {p.name: md5(p) for p in (images_path, labels_path)},
         "recipe": f"first {n} train images decoded from the official .mat prefix (NHWC -> NCHW), labels 0-9"},
        {"original_index": torch.arange(n)})


def load(split: str, data_root=None, cache_dir=None, download: bool = False) -> ImageSplit:
    if split not in FULL_COUNTS:
        raise UserError(f"unknown SVHN split {split!r}; valid splits: {', '.join(FULL_COUNTS)}")
    path = _find_mat(split, data_root)
    if path is None and download:
        SVHN(str(download_root(data_root) / "svhn"), split=split, download=True)
        path = _find_mat(split, data_root)
    if path is not None:
        return cached("svhn", split, [path], cache_dir, lambda: _load_mat(split, path))
    folder = _find_partial(data_root)
    others = [s for s in FULL_COUNTS if s != split and _find_mat(s, data_root)]
    if folder is None and others:  # the dataset is here, this split is not: a cell to mark, not a setup error
        raise DataUnavailable(f"SVHN {split}_32x32.mat is not beside the {', '.join(others)} files found. "
                              + HOW.format(split=split))
    if folder is None:
        raise missing("SVHN", f"svhn/{split}_32x32.mat (or the partial copy {PARTIAL}/)", data_root,
                      HOW.format(split=split))
    if split != "train":
        return _load_partial(split, folder)  # raises DataUnavailable
    files = [sorted(folder.glob(PARTIAL_IMAGES.format(n="*")))[0], folder / PARTIAL_LABELS["train"]]
    return cached("svhn", "train-partial", files, cache_dir, lambda: _load_partial(split, folder))


def locate(data_root) -> dict:
    mats = {s: _find_mat(s, data_root) for s in FULL_COUNTS}
    if any(mats.values()):
        found = {s: str(p) for s, p in mats.items() if p}
        return {"found": ", ".join(found.values()), "status": "full" if all(mats.values()) else "subset",
                "counts": ", ".join(f"{s} present" if p else f"{s} missing" for s, p in mats.items())}
    folder = _find_partial(data_root)
    if folder is None:
        return {"found": "not found", "status": "missing", "counts": "–"}
    n = np.load(sorted(folder.glob(PARTIAL_IMAGES.format(n="*")))[0], mmap_mode="r").shape[0]
    return {"found": str(folder), "status": "subset",
            "counts": f"train {n} images (labels for all train and test), test 0 images, extra 0 images"}


DATASETS.register("svhn", DatasetEntry("svhn", "SVHN cropped digits, 32x32 colour (train/test/extra)", locate, load,
                                       tuple(FULL_COUNTS)))
