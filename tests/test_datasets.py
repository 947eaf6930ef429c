"""The MNIST / Fashion-MNIST loaders of :mod:`skae.datasets`.

The real files are read from ``../shared/data/mnist`` (relative to the
repository root) where present; everything else runs on tiny IDX files
written into ``tmp_path``, and nothing touches the network: ``fetch_openml``
is replaced wherever a download could be attempted.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn.datasets

from skae.datasets import load_fashion_mnist, load_mnist

LOADERS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}
OPENML_NAMES = {"mnist": "mnist_784", "fashion_mnist": "Fashion-MNIST"}
TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def write_idx(path: Path, array: np.ndarray, *, magic: bytes | None = None) -> None:
    """Write ``array`` (uint8) as a gzipped IDX file, as the MNIST files are."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = bytes([0, 0, 0x08, array.ndim])
    header = magic + struct.pack(f">{array.ndim}i", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def synthetic_images(n, offset):
    """``n`` distinct 28x28 uint8 images holding 0 and 255 as well."""
    images = (np.arange(n * 28 * 28).reshape(n, 28, 28) * 7 + offset) % 256
    images[:, 0, 0] = 0
    images[:, 0, 1] = 255
    return images.astype(np.uint8)


@pytest.fixture
def idx_home(tmp_path):
    """A folder with the four IDX files: 3 training and 3 test images."""
    home = tmp_path / "idx"
    home.mkdir()
    parts = {
        "train": (synthetic_images(3, 0), np.array([1, 2, 3], dtype=np.uint8)),
        "test": (synthetic_images(3, 100), np.array([7, 8, 9], dtype=np.uint8)),
    }
    for (img_file, lbl_file), (images, labels) in zip(
        (TRAIN_FILES, TEST_FILES), parts.values(), strict=True
    ):
        write_idx(home / img_file, images)
        write_idx(home / lbl_file, labels)
    return home, parts


@pytest.fixture
def no_download(monkeypatch):
    """Make any attempt to download fail the test."""

    def fail(*args, **kwargs):
        raise AssertionError(f"fetch_openml must not be called, got {args} {kwargs}")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fail)


# --------------------------------------------------------------------------
# The real MNIST files
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist_train(mnist_dir):
    return load_mnist(mnist_dir, download_if_missing=False)


@pytest.mark.slow
def test_mnist_train(mnist_train, mnist_dir):
    b = mnist_train
    assert b.data.shape == (60000, 784)
    assert b.data.dtype == np.float32
    assert b.data.min() == 0.0
    assert b.data.max() == 1.0
    assert b.images.shape == (60000, 28, 28)
    assert b.images.dtype == np.float32
    np.testing.assert_array_equal(b.images.reshape(60000, -1), b.data)
    assert b.target.shape == (60000,)
    assert b.target.dtype == np.int64
    np.testing.assert_array_equal(np.unique(b.target), np.arange(10))
    # The first training labels of the original files.
    np.testing.assert_array_equal(b.target[:8], [5, 0, 4, 1, 9, 2, 1, 3])
    assert b.feature_names[:2] == ["pixel_0", "pixel_1"]
    assert b.feature_names[-1] == "pixel_783"
    assert len(b.feature_names) == 784
    assert b.target_names == list(range(10))
    assert b.frame is None
    assert str(mnist_dir) in b.DESCR


@pytest.mark.slow
def test_mnist_test_and_all(mnist_train, mnist_dir, no_download):
    test = load_mnist(mnist_dir, subset="test")
    assert test.data.shape == (10000, 784)
    assert test.images.shape == (10000, 28, 28)
    np.testing.assert_array_equal(test.target[:5], [7, 2, 1, 0, 4])

    both = load_mnist(mnist_dir, subset="all")
    assert both.data.shape == (70000, 784)
    assert both.target.shape == (70000,)
    # Training images first, then the test images.
    np.testing.assert_array_equal(both.data[:60000], mnist_train.data)
    np.testing.assert_array_equal(both.data[60000:], test.data)
    np.testing.assert_array_equal(both.target[60000:], test.target)


@pytest.mark.slow
def test_mnist_return_X_y_and_as_frame(mnist_dir, no_download):
    X, y = load_mnist(mnist_dir, subset="test", return_X_y=True)
    assert isinstance(X, np.ndarray)
    assert X.shape == (10000, 784)
    assert X.dtype == np.float32
    assert y.shape == (10000,)
    assert y.dtype == np.int64

    df, s = load_mnist(mnist_dir, subset="test", return_X_y=True, as_frame=True)
    assert isinstance(df, pd.DataFrame)
    assert isinstance(s, pd.Series)
    assert list(df.columns) == [f"pixel_{i}" for i in range(784)]
    np.testing.assert_array_equal(df.to_numpy(), X)
    np.testing.assert_array_equal(s.to_numpy(), y)

    bunch = load_mnist(mnist_dir, subset="test", as_frame=True)
    assert isinstance(bunch.frame, pd.DataFrame)
    assert bunch.data is bunch.frame


# --------------------------------------------------------------------------
# Synthetic IDX files
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(LOADERS))
def test_reads_synthetic_idx_files(idx_home, name, no_download):
    home, parts = idx_home
    load = LOADERS[name]
    for subset in ("train", "test"):
        images, labels = parts[subset]
        b = load(home, subset=subset)
        assert b.data.shape == (3, 784)
        assert b.data.dtype == np.float32
        np.testing.assert_array_equal(b.images, images.astype(np.float32) / 255.0)
        np.testing.assert_array_equal(b.data, b.images.reshape(3, 784))
        np.testing.assert_array_equal(b.target, labels)
        assert b.target.dtype == np.int64
        assert b.data.min() == 0.0
        assert b.data.max() == 1.0
        assert name in b.DESCR

    X, y = load(str(home), subset="all", return_X_y=True)
    assert X.shape == (6, 784)
    np.testing.assert_array_equal(y, [1, 2, 3, 7, 8, 9])

    df, s = load(home, subset="all", return_X_y=True, as_frame=True)
    assert list(df.columns[:3]) == ["pixel_0", "pixel_1", "pixel_2"]
    np.testing.assert_array_equal(df.to_numpy(), X)
    assert list(s) == [1, 2, 3, 7, 8, 9]


def test_data_home_expands_user(idx_home, monkeypatch, no_download):
    home, _ = idx_home
    monkeypatch.setenv("HOME", str(home.parent))
    X, y = load_mnist(f"~/{home.name}", return_X_y=True)
    assert X.shape == (3, 784)


def test_only_needed_files_are_required(idx_home, no_download):
    home, _ = idx_home
    for name in TEST_FILES:
        (home / name).unlink()
    assert load_mnist(home, subset="train").data.shape == (3, 784)
    with pytest.raises(FileNotFoundError) as excinfo:
        load_mnist(home, subset="test", download_if_missing=False)
    message = str(excinfo.value)
    for name in TEST_FILES:
        assert name in message
    for name in TRAIN_FILES:
        assert name not in message


@pytest.mark.parametrize(
    "which, magic",
    [
        ("images", bytes([0, 0, 0x09, 3])),  # signed byte, not unsigned
        ("images", bytes([1, 2, 0x08, 3])),  # nonzero leading bytes
        ("labels", bytes([0xFF, 0xFF, 0xFF, 0xFF])),
    ],
)
def test_bad_magic_number(idx_home, which, magic):
    home, parts = idx_home
    images, labels = parts["train"]
    if which == "images":
        write_idx(home / TRAIN_FILES[0], images, magic=magic)
    else:
        write_idx(home / TRAIN_FILES[1], labels, magic=magic)
    with pytest.raises(ValueError, match="magic"):
        load_mnist(home, download_if_missing=False)


def test_wrong_number_of_dimensions(idx_home):
    home, parts = idx_home
    images, _ = parts["train"]
    # An image file where a label file should be.
    write_idx(home / TRAIN_FILES[1], images)
    with pytest.raises(ValueError, match="dimensions"):
        load_mnist(home, download_if_missing=False)


def test_truncated_file(idx_home):
    home, parts = idx_home
    images, _ = parts["train"]
    path = home / TRAIN_FILES[0]
    header = bytes([0, 0, 0x08, 3]) + struct.pack(">3i", *images.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + images.tobytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        load_mnist(home, download_if_missing=False)


def test_images_and_labels_disagree(idx_home):
    home, _ = idx_home
    write_idx(home / TRAIN_FILES[1], np.array([1, 2], dtype=np.uint8))
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        load_mnist(home, download_if_missing=False)


def test_not_gzip(idx_home):
    home, _ = idx_home
    (home / TRAIN_FILES[0]).write_bytes(b"this is not a gzip file")
    with pytest.raises(OSError):
        load_mnist(home, download_if_missing=False)


# --------------------------------------------------------------------------
# Missing files: the folder, SKAE_DATA_HOME and the download
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(LOADERS))
def test_missing_files_without_download(tmp_path, name, monkeypatch, no_download):
    monkeypatch.delenv("SKAE_DATA_HOME", raising=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError) as excinfo:
        LOADERS[name](empty, download_if_missing=False)
    message = str(excinfo.value)
    assert str(empty) in message
    assert "data_home" in message
    assert "SKAE_DATA_HOME" in message
    assert TRAIN_FILES[0] in message


def test_default_folder_is_under_scikit_learn_data(tmp_path, monkeypatch, no_download):
    monkeypatch.delenv("SKAE_DATA_HOME", raising=False)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "skl"))
    with pytest.raises(FileNotFoundError) as excinfo:
        load_fashion_mnist(download_if_missing=False)
    assert str(tmp_path / "skl" / "fashion_mnist") in str(excinfo.value)


def test_skae_data_home_env_var(idx_home, tmp_path, monkeypatch, no_download):
    home, parts = idx_home
    monkeypatch.setenv("SKAE_DATA_HOME", str(home))
    b = load_mnist(download_if_missing=False)
    np.testing.assert_array_equal(b.target, parts["train"][1])

    # An explicit data_home wins over the environment variable.
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        load_mnist(empty, download_if_missing=False)

    # The environment variable is named in the message when it points nowhere.
    monkeypatch.setenv("SKAE_DATA_HOME", str(empty))
    with pytest.raises(FileNotFoundError) as excinfo:
        load_mnist(download_if_missing=False)
    assert str(empty) in str(excinfo.value)


@pytest.mark.parametrize("name", list(LOADERS))
def test_failed_download_names_both_ways_out(tmp_path, monkeypatch, name):
    calls = []

    def offline(*args, **kwargs):
        calls.append((args, kwargs))
        raise OSError("no route to openml.org")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", offline)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(OSError) as excinfo:
        LOADERS[name](empty, download_if_missing=True)
    message = str(excinfo.value)
    # Way out 1: put the files in a folder.
    assert str(empty) in message
    assert "SKAE_DATA_HOME" in message
    assert "data_home" in message
    # Way out 2: download from a machine that can reach OpenML.
    assert "openml.org" in message
    assert "download_if_missing=True" in message
    # And why the download failed.
    assert "no route to openml.org" in message
    assert isinstance(excinfo.value.__cause__, OSError)
    # The right OpenML data set was asked for.
    assert len(calls) == 1
    args, kwargs = calls[0]
    assert OPENML_NAMES[name] in args or kwargs.get("name") == OPENML_NAMES[name]


def test_files_present_means_no_download(idx_home, no_download):
    home, _ = idx_home
    # download_if_missing=True is the default; the local files are used.
    assert load_mnist(home, subset="all").data.shape == (6, 784)


@pytest.mark.parametrize("name", list(LOADERS))
@pytest.mark.parametrize("subset", ["bogus", "Train", None])
def test_unknown_subset(idx_home, name, subset, no_download):
    home, _ = idx_home
    with pytest.raises(ValueError, match="subset"):
        LOADERS[name](home, subset=subset)


def test_photo_patches_are_seeded_grayscale_images_in_the_unit_interval():
    pytest.importorskip("skimage")
    from skae.datasets import load_photo_patches

    patches = load_photo_patches((28, 28), 40, random_state=0)
    assert patches.shape == (40, 28, 28) and patches.dtype == np.float32
    assert 0.0 <= patches.min() and patches.max() <= 1.0
    np.testing.assert_array_equal(patches, load_photo_patches((28, 28), 40, random_state=0))
    assert not np.array_equal(patches, load_photo_patches((28, 28), 40, random_state=1))
    # Natural images, not blank: every patch has some contrast on average.
    assert patches.std(axis=(1, 2)).mean() > 0.02
    with pytest.raises(ValueError, match="larger than"):
        load_photo_patches((1000, 1000), 2)
