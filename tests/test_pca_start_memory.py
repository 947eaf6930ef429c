"""The PCA start's memory and its sparse input (issue 43): PCA's solution
from a chunk of rows at a time, sparse rows never densified, and the moments
of two sets of rows combined without a second pass.

Each test compares :func:`skae._pca_start.start_from_pca` with
:class:`sklearn.decomposition.PCA` fitted on the dense training rows in the
network's units (``(X - mean_) / scale_``), or with the start on the same
rows given another way.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.decomposition import PCA

from skae import _pca_start, _sparse_input
from skae._batches import TensorData
from skae._scaling import Scaling
from skae._sparse_input import sparse_rows

N_ROWS, N_FEATURES, K = 400, 30, 4


class Net(torch.nn.Module):
    """The smallest module the start accepts: an encoder and a decoder."""

    def __init__(self, n_features=N_FEATURES, k=K):
        super().__init__()
        self.encoder = torch.nn.Linear(n_features, k)
        self.decoder = torch.nn.Linear(k, n_features)


def sparse_data(n_rows=N_ROWS, n_features=N_FEATURES, seed=0):
    """A CSR matrix near a rank-3 subspace (zeros where |x| < 1), and a
    scaling with a shift and a scale, as an estimator's."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 3)) @ rng.normal(size=(3, n_features)) * 2
    X += 0.3 * rng.normal(size=X.shape) + 0.5
    X[np.abs(X) < 1.0] = 0.0
    scaling = Scaling("identity", X.mean(axis=0), float(X.std()))
    return sp.csr_matrix(X), scaling


def training_indices(n_rows, seed=0):
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n_rows)[: n_rows - n_rows // 5])


def start(rows, n_features=N_FEATURES, k=K):
    """The start's ``(mean, components, ratio)`` on ``rows``, as float64."""
    net = Net(n_features, k)
    ratio = _pca_start.start_from_pca(net, rows, n_features, k)
    path = net.pca_path
    return path.mean.double().numpy(), path.components.double().numpy(), ratio


def assert_is_pca(result, rows, k=K, atol=1e-6):
    """``result`` is sklearn's PCA of the dense ``rows``: the same mean, the
    same axes up to their signs, the same variance ratios."""
    mean, components, ratio = result
    pca = PCA(n_components=k).fit(rows)
    np.testing.assert_allclose(mean, pca.mean_, atol=atol)
    np.testing.assert_allclose(np.abs(components @ pca.components_.T), np.eye(k), atol=atol)
    np.testing.assert_allclose(ratio, pca.explained_variance_ratio_, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("solver", ["covariance", "arpack"])
def test_sparse_start_is_pca_of_the_training_rows_never_densified(
    densified_rows, monkeypatch, solver
):
    """The start of sparse rows is scikit-learn's PCA of the dense training
    rows in the network's units -- from their moments, or by ARPACK above
    MAX_COVARIANCE_FEATURES -- and densifies no row of the matrix."""
    X, scaling = sparse_data()
    if solver == "arpack":
        monkeypatch.setattr(_pca_start, "MAX_COVARIANCE_FEATURES", N_FEATURES - 1)
    indices = training_indices(N_ROWS)
    rows = TensorData(sparse_rows(X).network_input(scaling.transform), indices)
    result = start(rows)
    assert densified_rows == []
    dense = scaling.transform(X.toarray())[indices].astype(np.float64)
    assert_is_pca(result, dense)


@pytest.mark.parametrize("solver", ["covariance", "arpack"])
def test_sparse_start_equals_the_start_of_the_dense_copy(monkeypatch, solver):
    """Sparse rows start the network as their dense copy does: the same mean,
    the same oriented axes (PCA's sign convention), the same ratios."""
    X, scaling = sparse_data(seed=1)
    if solver == "arpack":
        monkeypatch.setattr(_pca_start, "MAX_COVARIANCE_FEATURES", N_FEATURES - 1)
        # The dense copy's PCA from one IncrementalPCA batch: exact.
        monkeypatch.setattr(_pca_start, "IPCA_BATCH_ROWS", N_ROWS)
    indices = training_indices(N_ROWS, seed=1)
    sparse = start(TensorData(sparse_rows(X).network_input(scaling.transform), indices))
    dense = start(TensorData(scaling.transform(X.toarray()), indices))
    np.testing.assert_allclose(sparse[0], dense[0], atol=1e-6)
    np.testing.assert_allclose(sparse[1], dense[1], atol=1e-6)
    np.testing.assert_allclose(sparse[2], dense[2], rtol=1e-5, atol=1e-9)


def test_network_rows_are_the_densified_batches():
    """``offset + delta`` holds the very float32 values a densified batch
    has, however many values are normalised at a time."""
    X, scaling = sparse_data()
    X[7] = 0.0  # an empty row
    X.eliminate_zeros()
    expected = scaling.transform(X.toarray())
    for packed in (2**18, N_FEATURES, 1):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_sparse_input, "_PACKED_VALUES", packed)
            offset, delta = _sparse_input.network_rows(X, scaling.transform)
        assert delta.nnz == X.nnz
        np.testing.assert_array_equal((delta.toarray() + offset).astype(np.float32), expected)


def test_dense_start_is_pca_of_the_training_rows_whatever_the_chunks(monkeypatch):
    """The start of dense rows is scikit-learn's PCA of the training rows, and
    the same to rounding however the rows are chunked."""
    X, scaling = sparse_data(seed=2)
    Xn = scaling.transform(X.toarray())
    indices = training_indices(N_ROWS, seed=2)
    results = []
    for chunk_rows in (1000, 37, 1):
        monkeypatch.setattr(_pca_start, "_CHUNK_VALUES", N_FEATURES * chunk_rows)
        results.append(start(TensorData(Xn, indices)))
    assert_is_pca(results[0], Xn[indices].astype(np.float64))
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-9)


def test_incremental_pca_batches_do_not_depend_on_the_chunks(monkeypatch):
    """Above MAX_COVARIANCE_FEATURES (dense rows), IncrementalPCA sees the
    same batches of rows whatever the chunks the rows are read in: the same
    start."""
    X, scaling = sparse_data(seed=3)
    Xn = scaling.transform(X.toarray())
    monkeypatch.setattr(_pca_start, "MAX_COVARIANCE_FEATURES", N_FEATURES - 1)
    results = []
    for chunk_rows in (1000, 37, 5):
        monkeypatch.setattr(_pca_start, "_CHUNK_VALUES", N_FEATURES * chunk_rows)
        results.append(start(TensorData(Xn)))
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_moments_of_training_and_held_out_rows_combine(kind):
    """The moments of the training rows and of the held-out rows, combined,
    start the network as all the rows do (the refit, without a second pass
    over the training rows); the moments themselves are those of all rows."""
    X, scaling = sparse_data(seed=4)
    data = (
        sparse_rows(X).network_input(scaling.transform)
        if kind == "sparse"
        else scaling.transform(X.toarray())
    )
    train = training_indices(N_ROWS, seed=4)
    held_out = np.setdiff1d(np.arange(N_ROWS), train)
    moments = [
        _pca_start.row_moments(TensorData(data, rows), N_FEATURES) for rows in (train, held_out)
    ]
    both = moments[0].combine(moments[1])
    every = _pca_start.row_moments(TensorData(data), N_FEATURES)
    assert both.n == every.n == N_ROWS
    np.testing.assert_allclose(both.total, every.total, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(both.gram, every.gram, rtol=1e-12, atol=1e-9)
    combined, direct = start(both), start(TensorData(data))
    np.testing.assert_allclose(combined[0], direct[0], atol=1e-6)
    # The axes are oriented by the first rows seen: the training rows' here.
    np.testing.assert_allclose(np.abs(combined[1] @ direct[1].T), np.eye(K), atol=1e-6)
    np.testing.assert_allclose(combined[2], direct[2], rtol=1e-9)
    assert_is_pca(combined, scaling.transform(X.toarray()).astype(np.float64))


def test_moments_refuse_what_they_cannot_hold(monkeypatch):
    X, scaling = sparse_data()
    dense = _pca_start.RowMoments(N_FEATURES).update(X[:5].toarray())
    with pytest.raises(ValueError, match="another offset"):
        dense.update(X[5:10], offset=np.ones(N_FEATURES))
    with pytest.raises(ValueError, match="shape"):
        dense.update(np.ones((2, N_FEATURES + 1)))
    with pytest.raises(ValueError, match="seen none"):
        _pca_start.RowMoments(N_FEATURES).pca(K)
    monkeypatch.setattr(_pca_start, "MAX_COVARIANCE_FEATURES", N_FEATURES - 1)
    with pytest.raises(ValueError, match="MAX_COVARIANCE_FEATURES"):
        _pca_start.row_moments(TensorData(scaling.transform(X.toarray())), N_FEATURES)


def test_dense_start_holds_a_chunk_not_the_data():
    """The NumPy memory the start allocates (traced by tracemalloc) is a
    chunk or two of float64 rows, not proportional to the training rows:
    80 000 x 50 float32 rows (15 MiB; 31 MiB as float64) start within a
    quarter of their size."""
    rng = np.random.default_rng(0)
    n_rows, n_features = 80_000, 50
    Xn = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    rows = TensorData(Xn, training_indices(n_rows))
    start(rows, n_features)  # warm-up: one-off allocations
    tracemalloc.start()
    try:
        start(rows, n_features)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= min(2 * _pca_start._CHUNK_VALUES * 8, Xn.nbytes / 4)
