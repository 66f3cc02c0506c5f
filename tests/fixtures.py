"""Tiny datasets written in the official formats, for tests that must pass without the real data."""
import gzip
import pickle
from pathlib import Path

import numpy as np


def _idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_mnist(root, n_train: int, n_test: int):
    """<root>/MNIST/raw with random digits; returns root."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _idx(raw / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _idx(raw / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return root


def write_svhn_partial(root, n: int):
    """<root>/svhn_partial as the shared data holds it: the first n train images (random) and 73,257 labels."""
    folder = root / "svhn_partial"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    labels = (np.arange(73_257) % 10).astype(np.uint8)
    images = rng.integers(0, 256, (n, 32, 32, 3)).astype(np.uint8)
    images[:, :, :, 0] = (labels[:n, None, None] * 25).astype(np.uint8)  # a class signal a probe can find
    np.save(folder / f"train_32x32_first{n}_X_NHWC_uint8.npy", images)
    np.save(folder / "train_labels_73257_uint8.npy", labels)
    return root


def write_svhn_mat(root, split: str, n: int, seed: int = 0):
    """<root>/svhn/<split>_32x32.mat in the official layout (X: 32x32x3xN, y: Nx1 with 10 for the digit 0)."""
    from scipy.io import savemat

    folder = root / "svhn"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = rng.integers(0, 256, (32, 32, 3, n)).astype(np.uint8)
    images[:, :, 0, :] = (labels * 25).astype(np.uint8)
    savemat(folder / f"{split}_32x32.mat", {"X": images, "y": np.where(labels == 0, 10, labels)[:, None]})
    return root


def write_cifar10(root, per_batch: int, n_test: int):
    """<root>/cifar-10-batches-py with random images in the official pickled batches, labels cycling 0..9."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in [(f"data_batch_{b}", per_batch) for b in range(1, 6)] + [("test_batch", n_test)]:
        entry = {"batch_label": "fixture", "labels": [i % 10 for i in range(n)],
                 "data": rng.integers(0, 256, (n, 3072)).astype(np.uint8)}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f, protocol=2)
    return root


def write_celeba(root, n_train: int, n_valid: int, n_test: int, seed: int = 0):
    """<root>/celeba in the official layout: random-coloured 178x218 JPEGs, random -1/1 attributes."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder = Path(root) / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True, exist_ok=True)
    counts = [(0, n_train), (1, n_valid), (2, n_test)]
    names, partitions = [], []
    for part, n in counts:
        for _ in range(n):
            names.append(f"{len(names) + 1:06d}.jpg")
            partitions.append(part)
    for name in names:
        pixels = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)
        pixels[50:170, 40:140] = rng.integers(0, 256, 3, dtype=np.uint8)
        Image.fromarray(pixels).save(folder / "img_align_celeba" / name, quality=90)
    attrs = rng.choice(["-1", "1"], size=(len(names), 40))
    header = " ".join(f"Attr_{i}" for i in range(40))
    rows = [name + " " + " ".join(row) for name, row in zip(names, attrs)]
    (folder / "list_attr_celeba.txt").write_text(f"{len(names)}\n{header}\n" + "\n".join(rows) + "\n")
    (folder / "list_eval_partition.txt").write_text("".join(f"{n} {p}\n" for n, p in zip(names, partitions)))
    return root
