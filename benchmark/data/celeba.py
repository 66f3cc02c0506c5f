"""CelebA aligned faces at 64x64 with the 40 attributes (0/1) and the official train/valid/test partitions.

Read from <root>/celeba/: list_attr_celeba.txt, list_eval_partition.txt and img_align_celeba/*.jpg, restricted to
the images present (torchvision's CelebA refuses to load without the bbox and landmark files, which the
attribute protocols never use, so the three files are read directly in the same whitespace format).

Recipes (named, recorded in the provenance):
- fuel64 [code]: what the ALI code trained on (Fuel's celeba_64 converter): resize the 178x218 image to 64x78 with
  PIL's Lanczos filter (the old ANTIALIAS), then keep rows 7..70, the centred 64x64 crop.
- center178 [ours]: centre-crop 178x178, then resize to 64x64 with Lanczos.

`celeba32` is the same data at 32x32 [ours, the small profile's size change]: the fuel64 images, each 2x2 block of
pixels averaged (rounded to the nearest integer), so that the SVHN-shaped networks can train on CelebA on a CPU.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from benchmark.data import DataUnavailable, DatasetEntry, ImageSplit
from benchmark.data._files import cached, corrupt, coverage, data_roots, md5, missing
from benchmark.errors import UserError
from benchmark.registry import DATASETS

ATTR_FILE, PARTITION_FILE, IMAGE_DIR = "list_attr_celeba.txt", "list_eval_partition.txt", "img_align_celeba"
OFFICIAL_MD5 = {ATTR_FILE: "75e246fa4810816ffd6ee81facbd244c", PARTITION_FILE: "d32c9cbf5e040fd4025c592c306e6668"}
SPLITS = {"train": 0, "valid": 1, "test": 2, "all": None}
FULL_COUNTS = {"train": 162_770, "valid": 19_867, "test": 19_962, "all": 202_599}
RECIPES = ("fuel64", "center178")
HOW = ("Download the aligned-and-cropped CelebA (img_align_celeba.zip, list_attr_celeba.txt, "
       "list_eval_partition.txt) from the CelebA site into <root>/celeba/.")


def find(data_root) -> Path | None:
    for root in data_roots(data_root):
        folder = root / "celeba"
        if (folder / ATTR_FILE).is_file() and (folder / PARTITION_FILE).is_file() and (folder / IMAGE_DIR).is_dir():
            return folder
    return None


def read_annotations(folder: Path) -> tuple[pd.DataFrame, pd.Series]:
    """(attributes as 0/1 indexed by filename, partition indexed by filename)."""
    try:
        attrs = pd.read_csv(folder / ATTR_FILE, sep=r"\s+", header=1)
        partition = pd.read_csv(folder / PARTITION_FILE, sep=r"\s+", header=None, index_col=0).iloc[:, 0]
    except Exception as e:  # pandas raises several types on a damaged file
        raise corrupt("CelebA", folder, f"annotation files: {type(e).__name__}: {e}", HOW) from None
    if attrs.shape[1] != 40 or not attrs.isin([-1, 1]).all().all():
        raise corrupt("CelebA", folder / ATTR_FILE, f"expected 40 columns of -1/1, got {attrs.shape[1]}", HOW)
    return (attrs + 1) // 2, partition


def to_64(path: Path, recipe: str) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert("RGB")
        if recipe == "fuel64":
            im = im.resize((64, 78), Image.LANCZOS).crop((0, 7, 64, 71))
        else:
            w, h = im.size
            side = min(w, h)
            left, top = (w - side) // 2, (h - side) // 2
            im = im.crop((left, top, left + side, top + side)).resize((64, 64), Image.LANCZOS)
        return np.asarray(im).transpose(2, 0, 1)


def load(split: str, data_root=None, cache_dir=None, download: bool = False, recipe: str = "fuel64") -> ImageSplit:
    if split not in SPLITS:
        raise UserError(f"unknown CelebA split {split!r}; valid splits: {', '.join(SPLITS)}")
    if recipe not in RECIPES:
        raise UserError(f"unknown CelebA recipe {recipe!r}; valid recipes: {', '.join(RECIPES)}")
    folder = find(data_root)
    if folder is None:
        raise missing("CelebA", f"celeba/{{{ATTR_FILE},{PARTITION_FILE},{IMAGE_DIR}/}}", data_root,
                      HOW + (" (torchvision cannot download CelebA reliably: its Google Drive links are "
                             "rate-limited)" if download else ""))
    sources = [folder / ATTR_FILE, folder / PARTITION_FILE, folder / IMAGE_DIR]

    def convert() -> ImageSplit:
        attrs, partition = read_annotations(folder)
        present = sorted(p.name for p in (folder / IMAGE_DIR).glob("*.jpg"))
        names = [n for n in present if n in partition.index and n in attrs.index
                 and (SPLITS[split] is None or partition[n] == SPLITS[split])]
        if not names:
            raise DataUnavailable(f"no CelebA {split} images in {folder / IMAGE_DIR} ({len(present)} images present)")
        images = []
        for n in names:
            try:
                images.append(to_64(folder / IMAGE_DIR / n, recipe))
            except OSError as e:
                raise corrupt("CelebA", folder / IMAGE_DIR / n, str(e), HOW) from None
        image_md5 = hashlib.md5("".join(md5(folder / IMAGE_DIR / n) for n in names).encode()).hexdigest()
        annotation_md5 = {f: md5(folder / f) for f in (ATTR_FILE, PARTITION_FILE)}
        official = all(OFFICIAL_MD5[f] == s for f, s in annotation_md5.items())
        return ImageSplit(
            torch.from_numpy(np.stack(images)), torch.from_numpy(attrs.loc[names].to_numpy(np.uint8)),
            {"dataset": "CelebA", "split": split, "n": len(names),
             "full_or_subset": coverage(len(names), FULL_COUNTS[split], official), "official_md5": official,
             "source": str(folder), "files": {**annotation_md5, "images (md5 of the per-image md5s)": image_md5},
             "recipe": recipe},
            {"attribute_names": list(attrs.columns), "filenames": names,
             "partition": torch.tensor(partition.loc[names].to_numpy(np.int64))})

    return cached("celeba", f"{split}-{recipe}", sources, cache_dir, convert)


def locate(data_root) -> dict:
    folder = find(data_root)
    if folder is None:
        return {"found": "not found", "status": "missing", "counts": "–"}
    partition = pd.read_csv(folder / PARTITION_FILE, sep=r"\s+", header=None, index_col=0).iloc[:, 0]
    present = [p.name for p in (folder / IMAGE_DIR).glob("*.jpg")]
    counts = partition.reindex(present).value_counts()
    n = {s: int(counts.get(v, 0)) for s, v in SPLITS.items() if v is not None}
    return {"found": str(folder), "status": "full" if len(present) == FULL_COUNTS["all"] else "subset",
            "counts": f"{len(present)} images: train {n['train']}, valid {n['valid']}, test {n['test']}"}


DATASETS.register("celeba", DatasetEntry("celeba", "CelebA aligned faces at 64x64, 40 attributes (train/valid/test)",
                                         locate, load, tuple(SPLITS)))


def load32(split: str, data_root=None, cache_dir=None, download: bool = False) -> ImageSplit:
    """CelebA at 32x32: the fuel64 images with each 2x2 block averaged [ours]."""
    full = load(split, data_root=data_root, cache_dir=cache_dir, download=download, recipe="fuel64")
    images = torch.nn.functional.avg_pool2d(full.images.float(), 2).round().to(torch.uint8)
    provenance = {**full.provenance, "recipe": "fuel64, then the mean of each 2x2 block (32x32)"}
    return ImageSplit(images, full.labels, provenance, full.extras)


DATASETS.register("celeba32", DatasetEntry(
    "celeba32", "CelebA at 32x32 (the fuel64 images, 2x2 blocks averaged) [ours: the small profile's size]",
    locate, load32, tuple(SPLITS)))
