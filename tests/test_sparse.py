"""Sparse input: scipy.sparse matrices and arrays, densified a batch at a time.

A sparse ``X`` must give the model the dense ``X.toarray()`` gives: the
same mini-batches of the same values go through the same arithmetic, so
the fits differ only by the last bits of ``mean_`` / ``scale_`` (computed
from the sparse matrix by scikit-learn's ``mean_variance_axis`` instead of
NumPy's sum over the dense rows); in practice the codes agree to float32
rounding. Inference on a fitted model is exact: the same dense rows reach
the network.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

from skae import (
    AutoencoderTransformer,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
    _chunked,
    _pca_start,
)
from skae.metrics import neg_mean_squared_reconstruction_error, reconstruction_error

N_ROWS, N_FEATURES = 400, 36
# Codes of a sparse fit against the dense fit of the same values: float32
# rounding of a 2-epoch training from statistics that may differ in their
# last bits.
FIT_TOL = dict(rtol=1e-5, atol=1e-6)


def _sparse(kind="signed", n_rows=N_ROWS, seed=0):
    """A CSR matrix of density 0.15: ``"signed"`` values (centred and scaled by
    the estimator), ``"unit"`` values in [0, 1] (sigmoid output), or
    ``"integer"`` counts 1..9."""
    rng = np.random.default_rng(seed)
    rvs = {
        "signed": lambda n: rng.normal(1.0, 2.0, n),
        "unit": lambda n: rng.uniform(0.0, 1.0, n),
        "integer": lambda n: rng.integers(1, 10, n).astype(np.float64),
    }[kind]
    return sp.random(
        n_rows, N_FEATURES, density=0.15, format="csr", random_state=seed, data_rvs=rvs
    )


def _ae(**params):
    defaults = dict(
        n_components=4,
        hidden_layer_sizes=(16,),
        max_epochs=2,
        batch_size=32,
        random_state=0,
    )
    return AutoencoderTransformer(**{**defaults, **params})


def _assert_same_fit(sparse_fit, dense_fit, X_dense):
    np.testing.assert_allclose(sparse_fit.mean_, dense_fit.mean_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sparse_fit.scale_, dense_fit.scale_, rtol=1e-12)
    assert sparse_fit.output_activation_ == dense_fit.output_activation_
    assert sparse_fit.n_iter_ == dense_fit.n_iter_
    np.testing.assert_allclose(sparse_fit.loss_curve_, dense_fit.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(
        sparse_fit.transform(X_dense), dense_fit.transform(X_dense), **FIT_TOL
    )


@pytest.mark.parametrize("early_stopping", [False, True], ids=["default", "early_stopping"])
@pytest.mark.parametrize(
    "kind, params, activation",
    [
        ("signed", {}, "identity"),
        # Values in [0, 1]: each output, centred (identity) or not (sigmoid).
        ("unit", {"output_activation": "identity"}, "identity"),
        ("unit", {"output_activation": "sigmoid"}, "sigmoid"),
    ],
    ids=["signed", "unit-identity", "unit-sigmoid"],
)
def test_sparse_fit_gives_the_dense_fit(kind, params, activation, early_stopping):
    X = _sparse(kind)
    sparse_fit = _ae(early_stopping=early_stopping, **params).fit(X)
    dense_fit = _ae(early_stopping=early_stopping, **params).fit(X.toarray())
    assert sparse_fit.output_activation_ == activation
    assert sparse_fit.pca_start_ == dense_fit.pca_start_
    assert sparse_fit.best_epoch_ == dense_fit.best_epoch_
    _assert_same_fit(sparse_fit, dense_fit, X.toarray())
    if early_stopping:
        np.testing.assert_allclose(
            sparse_fit.validation_loss_curve_, dense_fit.validation_loss_curve_, rtol=1e-5
        )


def _with_int64_indices(X):
    """A copy of CSR ``X`` with int64 indices (scipy's constructor would take
    int32 where the values fit: set them after it, as scikit-learn's checks do)."""
    X = X.copy()
    X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    assert X.indices.dtype == X.indptr.dtype == np.int64
    return X


@pytest.mark.parametrize(
    "convert",
    [
        sp.csc_matrix,
        sp.coo_matrix,
        sp.csr_array,
        sp.csc_array,
        sp.coo_array,
        sp.lil_matrix,
        lambda X: X.astype(np.int32),
        lambda X: X.astype(np.float32),
        _with_int64_indices,
    ],
    ids=["csc", "coo", "csr_array", "csc_array", "coo_array", "lil", "int32", "float32", "int64"],
)
def test_other_formats_give_the_csr_fit(convert):
    # Integer values, so that every dtype holds them exactly.
    X = _sparse("integer")
    X_other = convert(X)
    reference = _ae().fit(X)
    fitted = _ae().fit(X_other)
    if X_other.dtype == np.float32:
        # float32 data: the dense fit of the same float32 values.
        _assert_same_fit(fitted, _ae().fit(X_other.toarray()), X.toarray())
    else:
        # The same CSR matrix once converted: the same model, bit for bit.
        np.testing.assert_array_equal(fitted.transform(X_other), reference.transform(X))
    np.testing.assert_array_equal(fitted.score_samples(X_other), fitted.score_samples(X))


def test_partial_fit_and_warm_start_on_sparse_give_the_dense_ones():
    X = _sparse("signed")
    first, second = X[:200], X[200:]
    sparse_fit = _ae().partial_fit(first).partial_fit(second)
    dense_fit = _ae().partial_fit(first.toarray()).partial_fit(second.toarray())
    assert sparse_fit.n_iter_ == 2
    _assert_same_fit(sparse_fit, dense_fit, X.toarray())
    sparse_fit.set_params(warm_start=True).fit(X)
    dense_fit.set_params(warm_start=True).fit(X.toarray())
    assert sparse_fit.n_iter_ == 4
    _assert_same_fit(sparse_fit, dense_fit, X.toarray())


def test_inference_on_sparse_equals_inference_on_dense(monkeypatch):
    X = _sparse("signed", n_rows=700)
    X_dense = X.toarray()
    ae = _ae().fit(X_dense)
    # Several inference chunks (of 256 rows, the least there is).
    monkeypatch.setattr(_chunked, "CHUNK_VALUES", N_FEATURES * 256)
    np.testing.assert_array_equal(ae.transform(X), ae.transform(X_dense))
    np.testing.assert_array_equal(ae.score_samples(X), ae.score_samples(X_dense))
    np.testing.assert_array_equal(ae.reconstruct(X), ae.reconstruct(X_dense))
    assert ae.score(X) == ae.score(X_dense)
    assert ae.transform(X).dtype == np.float32


FAMILY = [
    lambda: AutoencoderTransformer(ordered=True),
    lambda: DenoisingAutoencoder(noise="gaussian", noise_level=0.2),
    lambda: DenoisingAutoencoder(noise="masking"),
    lambda: SparseAutoencoder(),
    lambda: VariationalAutoencoder(),
    lambda: ConvolutionalAutoencoder(channels=(4,)),
    lambda: ConvolutionalAutoencoder(channels=(4,), image_shape=(6, 6, 1)),
]
FAMILY_IDS = ["ordered", "denoising-gaussian", "denoising-masking", "sparse", "vae", "conv-1d"]
FAMILY_IDS += ["conv-image"]


@pytest.mark.parametrize("make", FAMILY, ids=FAMILY_IDS)
def test_family_fits_sparse_as_dense(make):
    X = _sparse("signed")
    X_dense = X.toarray()
    params = dict(n_components=3, max_epochs=2, batch_size=32, random_state=0)
    sparse_fit = make().set_params(**params).fit(X)
    dense_fit = make().set_params(**params).fit(X_dense)
    _assert_same_fit(sparse_fit, dense_fit, X_dense)
    np.testing.assert_allclose(
        sparse_fit.score_samples(X), dense_fit.score_samples(X_dense), **FIT_TOL
    )
    # The reconstruction has the flat rows of X, not images.
    assert sparse_fit.reconstruct(X).shape == X.shape
    for name in ("explained_variance_ratio_", "mean_activation_", "sparsity_"):
        if hasattr(dense_fit, name):
            np.testing.assert_allclose(
                getattr(sparse_fit, name), getattr(dense_fit, name), rtol=1e-5, atol=1e-6
            )


def _frozen_copy(X):
    """The arrays of ``X`` (read-only, so that a write fails) and copies of them."""
    arrays = [getattr(X, name, None) for name in ("data", "indices", "indptr", "row", "col")]
    arrays = [a for a in arrays if isinstance(a, np.ndarray)]
    for a in arrays:
        a.setflags(write=False)
    return arrays, [a.copy() for a in arrays]


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_the_users_matrix_is_not_modified(fmt):
    X = _sparse("signed").asformat(fmt)
    arrays, copies = _frozen_copy(X)
    ae = _ae(early_stopping=True).fit(X)
    ae.partial_fit(X)
    ae.set_params(warm_start=True).fit(X)
    ae.transform(X)
    ae.score_samples(X)
    ae.reconstruct(X)
    for a, copy in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(a, copy)


def test_non_canonical_csr_is_fitted_as_its_canonical_form():
    # Duplicate entries and unsorted indices: a valid CSR matrix, whose
    # duplicates add up. The statistics must see the sums, and the user's
    # matrix must keep its own layout.
    X = _sparse("signed")
    coo = X.tocoo()
    half = coo.data / 2
    order = np.random.default_rng(0).permutation(2 * coo.nnz)
    rows = np.concatenate([coo.row, coo.row])[order]
    cols = np.concatenate([coo.col, coo.col])[order]
    data = np.concatenate([half, half])[order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=X.shape[0]))])
    by_row = np.argsort(rows, kind="stable")
    duplicated = sp.csr_matrix((data[by_row], cols[by_row], indptr), shape=X.shape)
    assert not duplicated.has_canonical_format
    arrays, copies = _frozen_copy(duplicated)
    fitted = _ae().fit(duplicated)
    _assert_same_fit(fitted, _ae().fit(X.toarray()), X.toarray())
    for a, copy in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(a, copy)


@pytest.mark.parametrize("value, match", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_nan_or_infinity_in_sparse_data_is_refused(value, match):
    X = _sparse("signed")
    bad = X.copy()
    bad.data[5] = value
    with pytest.raises(ValueError, match=match):
        _ae().fit(bad)
    with pytest.raises(ValueError, match=match):
        _ae().partial_fit(bad.tocsc())
    ae = _ae().fit(X)
    for method in (ae.transform, ae.score_samples, ae.reconstruct, ae.partial_fit):
        with pytest.raises(ValueError, match=match):
            method(bad)


def test_continued_sigmoid_fit_refuses_sparse_values_above_one():
    X = _sparse("unit")
    ae = _ae(output_activation="sigmoid").fit(X)
    assert ae.output_activation_ == "sigmoid"
    # The range, implicit zeros included, read from the sparse matrix.
    with pytest.raises(ValueError, match=re.escape(f"values in [0, {3.0 * X.max():g}]")):
        ae.partial_fit(X * 3.0)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_data_is_never_densified_whole(densified_rows, monkeypatch, fmt):
    n_rows, batch_size, chunk = 1000, 32, 256
    X = _sparse("signed", n_rows=n_rows).asformat(fmt)
    monkeypatch.setattr(_chunked, "CHUNK_VALUES", N_FEATURES * chunk)
    monkeypatch.setattr(_pca_start, "_CHUNK_VALUES", N_FEATURES * chunk)
    ae = _ae(batch_size=batch_size, early_stopping=True, validation_fraction=0.2)
    ae.fit(X)
    # Two epochs of training and validation batches, and the first rows
    # (the network's shape check)...
    n_batches = 2 * (np.ceil(800 / batch_size) + np.ceil(200 / batch_size))
    assert len(densified_rows) >= n_batches
    # ... and the PCA start's pass over the 800 training rows by chunks (and
    # over all 1000 rows where the fit keeps its start, refit on them): the
    # only reads of more than a batch.
    assert max(densified_rows) <= chunk
    n_pca_chunks = np.ceil(800 / chunk) + np.ceil(n_rows / chunk)
    assert sum(rows > batch_size for rows in densified_rows) <= n_pca_chunks
    del densified_rows[:]
    ae.partial_fit(X)
    assert len(densified_rows) >= np.ceil(n_rows / batch_size)
    assert max(densified_rows) <= batch_size
    for method in (ae.transform, ae.score_samples, ae.reconstruct):
        del densified_rows[:]
        method(X)
        assert len(densified_rows) == np.ceil(n_rows / chunk)
        assert max(densified_rows) == chunk


def test_tfidf_pipeline():
    rng = np.random.default_rng(0)
    topics = [["goal", "match", "team", "score"], ["vote", "party", "law", "court"]]
    corpus = [" ".join(rng.choice(topics[i % 2], size=8)) for i in range(60)]
    pipe = make_pipeline(TfidfVectorizer(), _ae(n_components=2, hidden_layer_sizes=(8,)))
    codes = pipe.fit_transform(corpus)
    assert codes.shape == (60, 2)
    assert pipe[-1].pca_start_ in ("pca", "network")  # started from PCA of the TF-IDF rows
    assert np.isfinite(pipe.score(corpus))


def test_reconstruction_error_of_sparse_data(monkeypatch):
    X = _sparse("signed", n_rows=300)
    ae = _ae().fit(X)
    monkeypatch.setattr(_chunked, "CHUNK_VALUES", N_FEATURES * 256)  # several chunks
    np.testing.assert_allclose(reconstruction_error(ae, X), -ae.score_samples(X), rtol=1e-12)
    assert neg_mean_squared_reconstruction_error(ae, X) == pytest.approx(ae.score(X), rel=1e-12)
    # Any transformer that takes sparse input, on the same scale.
    svd = TruncatedSVD(n_components=4, random_state=0).fit(X)
    dense_error = reconstruction_error(svd, X.toarray())
    np.testing.assert_allclose(reconstruction_error(svd, X), dense_error, rtol=1e-12)
