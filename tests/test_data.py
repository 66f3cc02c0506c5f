"""Dataset loaders on tiny fixtures written here in the official formats, and on the real data when present."""
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from benchmark import run
from benchmark.data import DataUnavailable, celeba, cifar10, mnist, svhn
from benchmark.errors import UserError
from fixtures import write_mnist


@pytest.fixture(autouse=True)
def _no_ambient_data(monkeypatch):
    """The fixture roots alone: BENCHMARK_DATA (set by CI) must not leak into these tests."""
    monkeypatch.delenv("BENCHMARK_DATA", raising=False)


@pytest.fixture
def mnist_root(tmp_path):
    return write_mnist(tmp_path, n_train=12, n_test=5)


def test_mnist_fixture_loads_as_a_subset_and_round_trips_through_the_cache(mnist_root, tmp_path):
    cache = tmp_path / "cache"
    first = mnist.load("train", mnist_root, cache)
    assert first.images.shape == (12, 1, 28, 28) and first.images.dtype == torch.uint8
    assert first.labels.tolist() == [i % 10 for i in range(12)]
    assert first.provenance["full_or_subset"] == "subset (12 of 60000)"
    assert first.provenance["official_md5"] is False
    assert len(list((cache / "data").glob("mnist-train-*.pt"))) == 1
    second = mnist.load("train", mnist_root, cache)
    assert torch.equal(first.images, second.images) and second.provenance == first.provenance
    assert mnist.load("test", mnist_root, cache).labels.tolist() == [0, 1, 2, 3, 4]


def test_mnist_errors_name_the_dataset_files_roots_and_remedy(mnist_root, tmp_path):
    with pytest.raises(UserError) as missing:
        mnist.load("train", tmp_path / "empty", tmp_path / "cache")
    text = str(missing.value)
    assert "MNIST not found" in text and "MNIST/raw/" in text and "train-images-idx3-ubyte" in text
    assert "--download" in text and "./data" in text
    (mnist_root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(UserError, match="corrupt"):
        mnist.load("train", mnist_root, tmp_path / "cache2")
    with pytest.raises(UserError, match="valid splits: train, test"):
        mnist.load("validation", mnist_root, download=True)


def _cifar_batch(path, n, first_label):
    rng = np.random.default_rng(first_label)
    entry = {"batch_label": "fixture", "labels": [(first_label + i) % 10 for i in range(n)],
             "data": rng.integers(0, 256, (n, 3072)).astype(np.uint8)}
    with open(path, "wb") as f:
        pickle.dump(entry, f, protocol=2)


@pytest.fixture
def cifar_root(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for b in range(1, 6):
        _cifar_batch(folder / f"data_batch_{b}", 3, b)
    _cifar_batch(folder / "test_batch", 4, 0)
    return tmp_path


def test_cifar_subset_keeps_original_indices_and_the_ali_split(cifar_root, tmp_path):
    train = cifar10.load("train", cifar_root, tmp_path / "cache")
    assert train.images.shape == (15, 3, 32, 32)
    assert train.labels[:3].tolist() == [1, 2, 3]
    assert train.extras["original_index"].tolist()[:4] == [0, 1, 2, 10_000]
    assert train.provenance["full_or_subset"] == "subset (15 of 50000)"
    assert cifar10.load("train_first45k", cifar_root, tmp_path / "cache").images.shape[0] == 15
    with pytest.raises(DataUnavailable, match="train_last5k"):
        cifar10.load("train_last5k", cifar_root, tmp_path / "cache")
    assert cifar10.load("test", cifar_root, tmp_path / "cache").labels.tolist() == [0, 1, 2, 3]


def test_cifar_pixels_keep_the_official_channel_layout(cifar_root, tmp_path):
    with open(cifar_root / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        raw = pickle.load(f)["data"][0]
    image = cifar10.load("train", cifar_root, tmp_path / "cache").images[0]
    assert torch.equal(image[0].flatten(), torch.from_numpy(raw[:1024]))  # the first 1024 bytes are red


def test_cifar_corrupt_batch_gives_a_clear_error(cifar_root, tmp_path):
    (cifar_root / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"\x80\x02garbage")
    with pytest.raises(UserError, match="CIFAR-10: .*data_batch_3 is corrupt"):
        cifar10.load("train", cifar_root, tmp_path / "cache")


@pytest.fixture
def svhn_mat_root(tmp_path):
    from scipy.io import savemat

    folder = tmp_path / "svhn"
    folder.mkdir()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 32, 3, 6)).astype(np.uint8)  # the official layout: (H, W, C, N)
    y = np.array([[10], [1], [2], [10], [5], [9]], dtype=np.uint8)
    savemat(folder / "train_32x32.mat", {"X": x, "y": y})
    return tmp_path, x


def test_svhn_mat_in_the_official_layout(svhn_mat_root, tmp_path):
    root, x = svhn_mat_root
    split = svhn.load("train", root, tmp_path / "cache")
    assert split.images.shape == (6, 3, 32, 32)
    assert split.labels.tolist() == [0, 1, 2, 0, 5, 9], "official label 10 is the digit 0"
    assert torch.equal(split.images[2], torch.from_numpy(x[:, :, :, 2].transpose(2, 0, 1)))
    assert split.provenance["full_or_subset"] == "subset (6 of 73257)"
    with pytest.raises(DataUnavailable, match="extra_32x32.mat is not beside the train files found"):
        svhn.load("extra", root, tmp_path / "cache")  # the dataset is here, one split is not: a cell, not exit 2
    with pytest.raises(UserError, match="SVHN not found"):
        svhn.load("extra", tmp_path / "empty", tmp_path / "cache")


def test_svhn_partial_copy_gives_train_and_says_why_test_is_unavailable(tmp_path):
    folder = tmp_path / "svhn_partial"
    folder.mkdir()
    np.save(folder / "train_32x32_first4_X_NHWC_uint8.npy", np.zeros((4, 32, 32, 3), np.uint8))
    np.save(folder / "train_labels_73257_uint8.npy", np.array([1, 9, 2, 3, 0, 0], np.uint8))
    np.save(folder / "test_labels_26032_uint8.npy", np.array([5, 2], np.uint8))
    split = svhn.load("train", tmp_path, tmp_path / "cache")
    assert split.images.shape == (4, 3, 32, 32) and split.labels.tolist() == [1, 9, 2, 3]
    with pytest.raises(DataUnavailable, match="SVHN test images are not in"):
        svhn.load("test", tmp_path, tmp_path / "cache")
    assert svhn.locate(tmp_path)["status"] == "subset"


ATTRS = ["Attr_%d" % i for i in range(40)]


@pytest.fixture
def celeba_root(tmp_path):
    folder = tmp_path / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i:06d}.jpg" for i in range(1, 6)]
    rows = []
    for i, name in enumerate(names):
        colour = (40 * i, 255 - 40 * i, 128)
        Image.new("RGB", (178, 218), colour).save(folder / "img_align_celeba" / name, quality=95)
        rows.append(name + " " + " ".join("1" if (i + j) % 3 == 0 else "-1" for j in range(40)))
    listed = names + ["000099.jpg"]  # annotated but absent: restricted away
    rows.append("000099.jpg " + " ".join(["-1"] * 40))
    (folder / "list_attr_celeba.txt").write_text(f"{len(listed)}\n" + " ".join(ATTRS) + "\n" + "\n".join(rows) + "\n")
    partitions = [0, 0, 1, 2, 2, 0]
    (folder / "list_eval_partition.txt").write_text(
        "".join(f"{n} {p}\r\n" for n, p in zip(listed, partitions)))
    return tmp_path


@pytest.mark.parametrize("recipe", ["fuel64", "center178"])
def test_celeba_fixture_splits_attributes_and_recipes(celeba_root, tmp_path, recipe):
    train = celeba.load("train", celeba_root, tmp_path / "cache", recipe=recipe)
    assert train.images.shape == (2, 3, 64, 64)
    assert train.extras["filenames"] == ["000001.jpg", "000002.jpg"]
    assert train.labels.dtype == torch.uint8 and set(train.labels.unique().tolist()) <= {0, 1}
    assert train.labels[0, :4].tolist() == [1, 0, 0, 1]
    assert train.extras["attribute_names"] == ATTRS
    assert abs(int(train.images[1, 1].float().mean()) - 215) <= 3, "a flat colour stays flat after the recipe"
    assert train.provenance["recipe"] == recipe
    test = celeba.load("test", celeba_root, tmp_path / "cache", recipe=recipe)
    assert test.extras["filenames"] == ["000004.jpg", "000005.jpg"]
    assert celeba.locate(celeba_root)["counts"] == "5 images: train 2, valid 1, test 2"


def test_celeba_bad_names_and_missing_folder(celeba_root, tmp_path):
    with pytest.raises(UserError, match="valid recipes: fuel64, center178"):
        celeba.load("train", celeba_root, recipe="bicubic")
    with pytest.raises(UserError, match="CelebA not found"):
        celeba.load("train", tmp_path / "nowhere")
    (celeba_root / "celeba" / "list_attr_celeba.txt").write_text("3\nA B\n000001.jpg 1 2 3\n")
    with pytest.raises(UserError, match="CelebA: .* corrupt"):
        celeba.load("train", celeba_root, tmp_path / "cache3")


def test_data_errors_exit_2_from_the_cli(capsys, tmp_path):
    assert run.main(["--table", "gmm_modes", "--data-root", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


# --- the real data (CI points BENCHMARK_DATA at ../shared/data) ---------------------------------------------------


@pytest.fixture
def real_root(data_root):
    if data_root is None:
        pytest.skip("BENCHMARK_DATA does not point at the real data")
    return data_root


def test_real_mnist_is_complete_with_official_md5(real_root, tmp_path):
    train = mnist.load("train", real_root, tmp_path)
    test = mnist.load("test", real_root, tmp_path)
    assert (len(train), len(test)) == (60_000, 10_000)
    assert train.labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert train.provenance["full_or_subset"] == "full" and train.provenance["official_md5"] is True
    assert train.labels.min() == 0 and train.labels.max() == 9
    assert train.images.max() == 255 and train.images.min() == 0


def test_real_cifar_subset(real_root, tmp_path):
    train = cifar10.load("train", real_root, tmp_path)
    test = cifar10.load("test", real_root, tmp_path)
    assert (len(train), len(test)) == (5085, 1017)
    assert train.labels[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert train.provenance["full_or_subset"] == "subset (5085 of 50000)"
    assert torch.bincount(test.labels, minlength=10).tolist() == [105, 93, 100, 104, 92, 87, 114, 102, 110, 110]
    with pytest.raises(DataUnavailable):
        cifar10.load("train_last5k", real_root, tmp_path)


def test_real_svhn_partial(real_root, tmp_path):
    train = svhn.load("train", real_root, tmp_path)
    assert len(train) == 1083 and train.images.shape[1:] == (3, 32, 32)
    assert train.labels.min() >= 0 and train.labels.max() <= 9
    assert train.provenance["files"]["train_32x32_first1083_X_NHWC_uint8.npy"] == "5c2934d4fe0eaa5ebc5fde8e9095a94e"
    with pytest.raises(DataUnavailable, match="test images"):
        svhn.load("test", real_root, tmp_path)


def celeba_subset_counts(root) -> dict[str, int]:
    """The split counts of the CelebA images present, from the data's own manifest (its partition column)."""
    manifest = pd.read_csv(root / "celeba" / "img_align_celeba_SUBSET.tsv", sep="\t")
    counts = manifest["partition"].value_counts()
    return {name: int(counts.get(code, 0)) for code, name in enumerate(("train", "valid", "test"))}


def celeba_counts_line(counts: dict[str, int]) -> str:
    return (f"{sum(counts.values())} images: train {counts['train']}, valid {counts['valid']}, "
            f"test {counts['test']}")


def test_real_celeba_subset(real_root, tmp_path):
    counts = celeba_subset_counts(real_root)
    cached_first = celeba.load("valid", real_root, tmp_path)
    assert len(cached_first) == counts["valid"] and cached_first.images.shape[1:] == (3, 64, 64)
    assert cached_first.provenance["official_md5"] is True
    assert cached_first.provenance["full_or_subset"] == f"subset ({counts['valid']} of 19867)"
    again = celeba.load("valid", real_root, tmp_path)
    assert torch.equal(again.images, cached_first.images)
    assert celeba.locate(real_root)["counts"] == celeba_counts_line(counts)


def test_real_list_reports_each_dataset(real_root, capsys):
    assert run.main(["--list", "--data-root", str(real_root)]) == 0
    out = capsys.readouterr().out
    assert "full: " in out and "counts train 60000, test 10000" in out
    assert "counts train 5085, test 1017" in out
    assert "train 1083 images" in out
    assert celeba_counts_line(celeba_subset_counts(real_root)) in out
