"""Tiny datasets written in the official formats, for tests that must pass without the real data."""
import gzip
import pickle

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
