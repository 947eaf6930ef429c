"""Data larger than memory: memmaps, h5py datasets and zarr arrays, read by chunks.

``fit``, ``partial_fit``, ``transform``, ``score_samples`` and ``reconstruct``
read such arrays a chunk of rows at a time, validation included, and never
write to them. The chunk and shuffle-buffer sizes are shrunk here (the
``small_chunks`` fixture) so that 600 rows make several chunks and buffers.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import load_digits

from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
    _chunked,
)
from skae._batches import BlockBatches, BlockData
from skae._chunked import ChunkedRows, is_out_of_core
from skae._training import n_held_out, training_data

FAST = {"hidden_layer_sizes": (16,), "max_epochs": 3, "random_state": 0, "device": "cpu"}
N_ROWS, N_FEATURES = 600, 64
CHUNK_ROWS = 256  # with small_chunks: rows per read, in fit and in inference


@pytest.fixture(scope="module")
def X():
    return (load_digits().data[:N_ROWS] / 16.0).astype(np.float32)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 256 rows of 64 features, shuffle buffers of 200 rows: 600 rows
    are 3 chunks (the last one short) and 3 to 4 buffers."""
    monkeypatch.setattr(_chunked, "CHUNK_VALUES", CHUNK_ROWS * N_FEATURES)
    monkeypatch.setattr(_chunked, "BUFFER_VALUES", 200 * N_FEATURES)


def _npy(tmp_path, X):
    path = tmp_path / "X.npy"
    np.save(path, X)
    return np.load(path, mmap_mode="r")


def _raw_memmap(tmp_path, X):
    path = tmp_path / "X.dat"
    out = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    out[:] = X
    out.flush()
    del out
    return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)


def _h5py(tmp_path, X):
    h5py = pytest.importorskip("h5py", reason="h5py reads HDF5 datasets by slices")
    with h5py.File(tmp_path / "X.h5", "w") as f:
        f.create_dataset("X", data=X)
    return h5py.File(tmp_path / "X.h5", "r")["X"]


def _zarr(tmp_path, X):
    zarr = pytest.importorskip("zarr", reason="zarr reads chunked arrays by slices")
    z = zarr.open_array(tmp_path / "X.zarr", mode="w", shape=X.shape, dtype=X.dtype)
    z[:] = X
    return zarr.open_array(tmp_path / "X.zarr", mode="r")


SOURCES = {"npy": _npy, "memmap": _raw_memmap, "h5py": _h5py, "zarr": _zarr}


@pytest.fixture(params=list(SOURCES))
def source(request, tmp_path):
    """A function making an on-disk copy of an array, of each kind."""
    return lambda X: SOURCES[request.param](tmp_path, X)


class Recording:
    """An on-disk array that records the most rows one read served, and
    refuses to be converted whole."""

    def __init__(self, data):
        self.data = data
        self.shape = data.shape
        self.dtype = data.dtype
        self.most_rows = 0

    def __getitem__(self, key):
        rows = self.data[key]
        self.most_rows = max(self.most_rows, len(rows))
        return rows

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole array was materialised")


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _weights(est):
    return [p.detach().clone() for p in est.net_.module_.parameters()]


# ----------------------------------------------------------------- detection
def test_is_out_of_core(tmp_path, X):
    assert is_out_of_core(_npy(tmp_path, X))
    assert is_out_of_core(Recording(X))
    assert not is_out_of_core(X)
    assert not is_out_of_core(np.asarray(_npy(tmp_path, X)))
    assert not is_out_of_core(X.tolist())
    assert not is_out_of_core(pd.DataFrame(X))
    assert not is_out_of_core(sp.csr_matrix(X))
    assert not is_out_of_core(torch.from_numpy(X))


# ----------------------------------------------------------------------- fit
@pytest.mark.usefixtures("small_chunks")
def test_fit_on_disk(source, X):
    """A model fitted on an on-disk array: its codes of the array equal those of
    the same data in memory, and it reconstructs about as well as a model
    fitted in memory."""
    data = source(X)
    est = AutoencoderTransformer(8, **{**FAST, "max_epochs": 10}).fit(data)
    reference = AutoencoderTransformer(8, **{**FAST, "max_epochs": 10}).fit(X)
    assert est.n_features_in_ == N_FEATURES and est.n_iter_ == 10
    np.testing.assert_allclose(est.mean_, reference.mean_, rtol=1e-10, atol=1e-12)
    assert est.scale_ == pytest.approx(reference.scale_, rel=1e-10)
    np.testing.assert_allclose(est.transform(data), est.transform(np.asarray(data[:])), atol=1e-6)
    assert -est.score(X) < 1.25 * -reference.score(X)


@pytest.mark.parametrize(
    "make",
    [lambda: SparseAutoencoder(4, **FAST), lambda: VariationalAutoencoder(3, **FAST)],
    ids=["sparse", "vae"],
)
def test_one_chunk_fits_as_in_memory(tmp_path, X, make):
    """Data that fits in one chunk and one shuffle buffer trains on the same
    batches as in memory: the same model, bit for bit.

    Shown with estimators that train on every row: a fit with the PCA start
    (AutoencoderTransformer's default) holds out whole blocks of rows on disk
    but single rows in memory, so its two fits train on different rows
    (test_fit_on_disk compares those by their reconstruction error)."""
    est = make().fit(_npy(tmp_path, X))
    reference = make().fit(X)
    assert all(torch.equal(a, b) for a, b in zip(_weights(est), _weights(reference), strict=True))
    assert est.loss_curve_ == reference.loss_curve_


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize(
    "make",
    [
        lambda: DenoisingAutoencoder(4, noise="salt_and_pepper", ordered=True, **FAST),
        lambda: SparseAutoencoder(8, **FAST),
        lambda: VariationalAutoencoder(3, **FAST),
        lambda: ConvolutionalAutoencoder(4, channels=(4,), max_epochs=2, random_state=0),
    ],
    ids=["denoising-ordered", "sparse", "vae", "conv"],
)
def test_every_estimator_fits_on_disk(tmp_path, X, make):
    data = Recording(_npy(tmp_path, X))
    est = make().fit(data)
    assert data.most_rows <= CHUNK_ROWS
    np.testing.assert_array_equal(est.transform(data), est.transform(X))
    np.testing.assert_array_equal(est.score_samples(data), est.score_samples(X))


@pytest.mark.usefixtures("small_chunks")
def test_images_on_disk(tmp_path, X):
    """Images in their own shape, (n, 8, 8), read by chunks as flat rows."""
    images = X.reshape(-1, 8, 8)
    data = _npy(tmp_path, images)
    est = ConvolutionalAutoencoder(4, channels=(4,), max_epochs=1, random_state=0).fit(data)
    assert est.input_shape_ == (8, 8) and est.image_shape_ == (8, 8, 1)
    assert est.reconstruct(data).shape == images.shape
    np.testing.assert_array_equal(est.reconstruct(data), est.reconstruct(images))


@pytest.mark.usefixtures("small_chunks")
def test_integer_data_on_disk(tmp_path):
    pixels = load_digits().data[:N_ROWS].astype(np.uint8)
    est = AutoencoderTransformer(4, **FAST).fit(_npy(tmp_path, pixels))
    assert est.output_activation_ == "identity"
    np.testing.assert_allclose(est.mean_, pixels.mean(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(est.transform(_npy(tmp_path, pixels)), est.transform(pixels))


# ---------------------------------------------------- reading: chunks, no writes
@pytest.mark.usefixtures("small_chunks")
def test_reads_by_chunks_and_never_whole(tmp_path, X):
    """No read serves more than a chunk of rows, and nothing converts the
    whole array (Recording refuses __array__)."""
    data = Recording(_npy(tmp_path, X))
    est = AutoencoderTransformer(4, **FAST).fit(data)
    est.partial_fit(data)
    est.transform(data)
    est.score_samples(data)
    est.reconstruct(data)
    AutoencoderTransformer(4, early_stopping=True, **FAST).fit(data)
    VariationalAutoencoder(3, **FAST).fit(data).score_samples(data)
    assert 0 < data.most_rows <= CHUNK_ROWS


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("mode", ["r", "r+"])
def test_memmap_never_written(tmp_path, X, mode):
    path = tmp_path / "X.dat"
    X.tofile(path)
    before = _digest(path)
    data = np.memmap(path, dtype=X.dtype, mode=mode, shape=X.shape)
    est = DenoisingAutoencoder(4, **FAST).fit(data)
    est.partial_fit(data)
    est.transform(data), est.reconstruct(data), est.score_samples(data)
    data.flush()
    del data
    assert _digest(path) == before


# ----------------------------------------------------------------- inference
@pytest.mark.usefixtures("small_chunks")
def test_inference_on_disk_equals_in_memory(source, X):
    est = AutoencoderTransformer(4, **FAST).fit(X)
    data = source(X)
    np.testing.assert_array_equal(est.transform(data), est.transform(X))
    np.testing.assert_array_equal(est.score_samples(data), est.score_samples(X))
    np.testing.assert_array_equal(est.reconstruct(data), est.reconstruct(X))
    assert est.score(data) == est.score(X)
    vae = VariationalAutoencoder(3, **FAST).fit(X)
    np.testing.assert_array_equal(vae.score_samples(data), vae.score_samples(X))


# ---------------------------------------------------------------- validation
@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize(
    "value, message", [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity")]
)
def test_non_finite_value_in_third_chunk(tmp_path, X, value, message):
    """Found when its chunk is read, with check_array's message and the rows."""
    bad = X.copy()
    bad[2 * CHUNK_ROWS + 10, 3] = value  # in the third chunk: rows 512 to 599
    data = _npy(tmp_path, bad)
    match = f"(?s){message}.*rows 512 to 599 of X"
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(4, **FAST).fit(data)
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(4, **FAST).partial_fit(data)
    est = AutoencoderTransformer(4, **FAST).fit(X)
    for method in ("transform", "score_samples", "reconstruct", "partial_fit"):
        with pytest.raises(ValueError, match=match):
            getattr(est, method)(data)
    assert est.n_iter_ == FAST["max_epochs"]  # the failed partial_fit left it as it was


@pytest.mark.usefixtures("small_chunks")
def test_non_finite_value_leaves_no_fit(tmp_path, X):
    bad = X.copy()
    bad[-1, 0] = np.nan
    est = AutoencoderTransformer(4, **FAST)
    with pytest.raises(ValueError, match="NaN"):
        est.fit(_npy(tmp_path, bad))
    assert not hasattr(est, "n_features_in_") and not hasattr(est, "net_")


@pytest.mark.usefixtures("small_chunks")
def test_wrong_feature_count(tmp_path, X):
    est = AutoencoderTransformer(4, **FAST).fit(_npy(tmp_path, X))
    narrow = _npy(tmp_path, X[:, :63])
    for method in ("transform", "score_samples", "reconstruct", "partial_fit"):
        with pytest.raises(ValueError, match="X has 63 features, but AutoencoderTransformer"):
            getattr(est, method)(narrow)


def test_shape_and_dtype_errors(tmp_path, X):
    est = AutoencoderTransformer(4, **FAST)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        est.fit(_npy(tmp_path, X[:, 0]))
    with pytest.raises(ValueError, match="0 sample"):
        est.fit(_npy(tmp_path, X[:0]))
    with pytest.raises(ValueError, match="Complex data not supported"):
        est.fit(_npy(tmp_path, X.astype(np.complex64)))
    with pytest.raises(ValueError, match="numbers only"):
        est.fit(_npy(tmp_path, X.astype(str)))


# --------------------------------------------------- partial_fit, early stopping
@pytest.mark.usefixtures("small_chunks")
def test_partial_fit_on_disk(source, X):
    data = source(X)
    est = AutoencoderTransformer(4, **FAST).partial_fit(data)
    assert est.n_iter_ == 1 and est.n_features_in_ == N_FEATURES
    first = est.score(X)
    for _ in range(3):
        est.partial_fit(data)
    assert est.n_iter_ == 4 and len(est.loss_curve_) == 4
    assert est.score(X) > first
    # Continued training of a model fitted in memory, on disk, and back.
    est = AutoencoderTransformer(4, **FAST).fit(X).partial_fit(data).partial_fit(X)
    assert est.n_iter_ == FAST["max_epochs"] + 2


def test_partial_fit_one_chunk_as_in_memory(tmp_path, X):
    a = AutoencoderTransformer(4, **FAST).partial_fit(_npy(tmp_path, X)).partial_fit(X[:300])
    b = AutoencoderTransformer(4, **FAST).partial_fit(X).partial_fit(X[:300])
    assert all(torch.equal(p, q) for p, q in zip(_weights(a), _weights(b), strict=True))


@pytest.mark.usefixtures("small_chunks")
def test_partial_fit_sigmoid_range_on_disk(tmp_path, X):
    # An estimator without the PCA start: "auto" chooses the sigmoid output
    # for data on disk in [0, 1], and a later batch outside it is refused.
    est = DenoisingAutoencoder(4, **FAST).fit(_npy(tmp_path, X))
    assert est.output_activation_ == "sigmoid"
    with pytest.raises(ValueError, match=r"values in \[0, 2\].*output_activation='auto'"):
        est.partial_fit(_npy(tmp_path, 2 * X))


@pytest.mark.usefixtures("small_chunks")
def test_warm_start_on_disk(tmp_path, X):
    data = _npy(tmp_path, X)
    est = AutoencoderTransformer(4, warm_start=True, **FAST).fit(data).fit(data)
    assert est.n_iter_ == 2 * FAST["max_epochs"]


@pytest.mark.usefixtures("small_chunks")
def test_early_stopping_on_disk(source, X):
    est = AutoencoderTransformer(
        4,
        early_stopping=True,
        n_iter_no_change=2,
        **{**FAST, "max_epochs": 6},
    ).fit(source(X))
    assert len(est.validation_loss_curve_) == est.n_iter_ + 1
    assert np.all(np.isfinite(est.validation_loss_curve_))
    # The epoch kept: the start (epoch 0, PCA) or a trained one.
    assert 0 <= est.best_epoch_ <= est.n_iter_
    assert est.pca_start_ == ("pca" if est.best_epoch_ == 0 else "network")
    assert est.best_validation_loss_ == est.validation_loss_curve_[est.best_epoch_]


@pytest.mark.usefixtures("small_chunks")
def test_early_stopping_holds_out_whole_blocks(tmp_path, X):
    """The validation split is validation_fraction of the blocks, chosen by the
    seed; the training split is the others."""
    est = AutoencoderTransformer(4, validation_fraction=0.2, **FAST)
    rows = ChunkedRows(_npy(tmp_path, X), est)
    n_valid = n_held_out(N_ROWS, early=True, select=True, validation_fraction=0.2)
    assert n_valid == 120
    split = {"n_valid": n_valid, "split_seed": 0}
    train, valid = training_data(rows, None, np.asarray, **split)
    blocks = _chunked.blocks(N_ROWS, N_FEATURES)
    assert len(blocks) == 100  # 6 rows each
    held = {tuple(b) for b in valid.blocks}
    assert len(held) == 20 and held.isdisjoint(tuple(b) for b in train.blocks)
    assert len(train) + len(valid) == N_ROWS and len(valid) == 120
    again, _ = training_data(rows, None, np.asarray, **split)
    np.testing.assert_array_equal(again.blocks, train.blocks)
    # The PCA start without early stopping holds out a quarter of the rows
    # (fewer than 250): 150 rows, 25 whole blocks.
    n_valid = n_held_out(N_ROWS, early=False, select=True, validation_fraction=0.1)
    train, valid = training_data(rows, None, np.asarray, n_valid=n_valid, split_seed=0)
    assert n_valid == 150 and len(valid.blocks) == 25 and len(valid) == 150
    assert len(train) + len(valid) == N_ROWS


# ------------------------------------------------------------ training batches
def test_block_batches_cover_every_row_once():
    """Each training pass yields every row once, in batches of batch_size but
    the last, reading at most read_rows rows a read."""
    data = np.arange(1000, dtype=np.float32).reshape(-1, 1)
    reads = []

    def read(start, stop):
        reads.append(stop - start)
        return data[start:stop]

    blocks = _chunked.blocks(1000, 1)
    dataset = BlockData(read, blocks, read_rows=25, buffer_rows=100)
    torch.manual_seed(0)
    epochs = []
    for training in (True, True, False):
        batches = [x for x, _ in BlockBatches(dataset, 32, shuffle=training)]
        assert all(len(b) == 32 for b in batches[:-1]) and len(batches) == 32
        epochs.append(torch.cat(batches).flatten().numpy())
    assert max(reads) <= 25
    for values in epochs:
        np.testing.assert_array_equal(np.sort(values), data.ravel())
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled each pass
    np.testing.assert_array_equal(epochs[2], data.ravel())  # validation: in order
