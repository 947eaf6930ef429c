"""Sparse input: scipy.sparse rows, densified one batch or chunk at a time.

``validate_data`` accepts scipy.sparse matrices and arrays (of any format:
CSC, COO... are converted to CSR, a copy of the sparse matrix) and checks
them as dense data (finite values, the number of features). The
estimator layer then wraps the CSR matrix in a :class:`SparseRows`: a
read-only 2-D view whose slices are dense rows, as those of
:class:`skae._chunked.ChunkedRows` are, so that inference (``_by_chunks``)
and the fitted diagnostics read a chunk of rows at a time. Training
densifies one mini-batch at a time (:class:`skae._batches.SparseRowBatches`).
The scaling statistics come from the sparse matrix itself
(:func:`~sklearn.utils.sparsefuncs.mean_variance_axis`,
:func:`~sklearn.utils.sparsefuncs.min_max_axis`), and so does the PCA start
(:mod:`skae._pca_start`), from the rows in the network's units as an offset
row plus a sparse matrix (:func:`network_rows`). Memory is the sparse
matrix plus a batch or chunk of dense rows, never the dense matrix.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis

from ._batches import SparseRowBatches
from ._chunked import ChunkStats

# What validate_data accepts as is; any other sparse format becomes CSR.
ACCEPT_SPARSE = "csr"
# Values normalised at a time by network_rows (1 MiB of float32).
_PACKED_VALUES = 2**18


def sparse_rows(X):
    """The validated CSR matrix ``X`` as :class:`SparseRows`.

    A matrix with duplicate entries or unsorted indices is copied and
    brought to canonical form (the statistics read each stored value as
    one entry); the user's matrix is never modified.
    """
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return SparseRows(X)


class SparseRows:
    """A CSR matrix as read-only dense rows ``(n_samples, n_features)``.

    Slicing densifies only the rows asked for (callers slice a chunk or a
    batch at a time); ``np.asarray`` of the whole densifies it all, for
    callers that need all of a small sample. :meth:`scan` gives the scaling
    statistics without densifying.

    Parameters
    ----------
    matrix : scipy.sparse CSR matrix or array, float32 or float64
        Validated (finite values), in canonical format; never modified.
    """

    ndim = 2

    def __init__(self, matrix):
        self.matrix = matrix
        self.shape = matrix.shape
        self.dtype = matrix.dtype

    def __len__(self):
        return self.shape[0]

    def read(self, start, stop):
        """Rows ``start:stop`` as a dense 2-D ndarray of ``dtype``."""
        return self.matrix[start:stop].toarray()

    def take(self, indices):
        """The rows at ``indices`` (integers), in that order, as a dense ndarray."""
        return self.matrix[np.asarray(indices, dtype=np.intp).reshape(-1)].toarray()

    def __getitem__(self, key):
        if isinstance(key, slice):
            return self.matrix[key].toarray()
        if isinstance(key, (int, np.integer)):
            index = range(len(self))[key]
            return self.read(index, index + 1)[0]
        return self.take(key)

    def __array__(self, dtype=None, copy=None):
        out = self.matrix.toarray()
        return out if dtype is None else out.astype(dtype, copy=False)

    def min(self):
        """The smallest value, implicit zeros included."""
        return self.matrix.min()

    def max(self):
        """The largest value, implicit zeros included."""
        return self.matrix.max()

    def scan(self):
        """Per-feature minimum, maximum, mean and variance, as
        :class:`~skae._chunked.ChunkStats` (float64), from the sparse matrix.

        The moments are computed from float64 values, as for dense data:
        float32 data is converted, a temporary copy the size of the stored
        values (and of the indices, where scipy narrows int64 ones), not of
        the dense matrix.
        """
        X = self.matrix
        low, high = min_max_axis(X, axis=0)
        if X.dtype != np.float64:
            X = sp.csr_matrix((X.data.astype(np.float64), X.indices, X.indptr), shape=X.shape)
        mean, var = mean_variance_axis(X, axis=0)
        return ChunkStats(len(self), low.astype(np.float64), high.astype(np.float64), mean, var)

    def network_input(self, normalize):
        """The rows as the network's input, densified and normalised one batch
        at a time: a :class:`~skae._batches.SparseRowBatches`."""
        return SparseRowBatches(self.matrix, normalize)


def network_rows(matrix, normalize, dtype=np.float64):
    """Sparse rows in the network's units, not densified: ``offset + delta``.

    The network's input of a sparse row is dense (``normalize`` shifts its
    zeros, ``(0 - mean_) / scale_``), but it is a constant row, ``offset =
    normalize(0)``, plus a sparse row with the stored values' pattern:
    ``delta = normalize(x) - offset`` at the stored values. ``normalize``
    maps each feature on its own, as ``(x - mean_) / scale_`` does, so the
    stored values are normalised packed column by column -- the ``p``-th
    stored value of each column of a chunk of rows in row ``p`` of a small
    dense array of about ``_PACKED_VALUES`` values -- which gives the very
    float32 values a densified batch has
    (:class:`~skae._batches.SparseRowBatches`). Beyond ``delta``, the
    memory taken is a chunk of about ``_PACKED_VALUES`` stored values.

    Parameters
    ----------
    matrix : scipy.sparse CSR matrix or array of shape (n_rows, n_features)
        The rows in the user's units, in canonical format (each entry
        stored once, as :func:`sparse_rows` leaves it). Never modified.
    normalize : callable
        Maps dense rows to the network's input (float32, same shape), each
        feature on its own (the estimator's ``_normalize``).
    dtype : {np.float64, np.float32}, default=np.float64
        The dtype of ``delta``'s values: float64 holds ``normalize(x) -
        offset`` exactly.

    Returns
    -------
    offset : ndarray of shape (n_features,), dtype float64
        The network's input of a zero row.
    delta : scipy.sparse CSR matrix of shape (n_rows, n_features)
        The network's input of the rows minus ``offset``, stored where
        ``matrix`` stores values: new values of ``dtype``, ``matrix``'s
        index arrays (shared, not copied).
    """
    matrix = sp.csr_matrix(matrix)
    n_rows, n_features = matrix.shape
    offset = np.asarray(normalize(np.zeros((1, n_features), dtype=matrix.dtype)), np.float64)[0]
    values = np.empty(matrix.nnz, dtype=dtype)
    # Rows of about _PACKED_VALUES stored values a chunk (at least one row).
    ends = np.searchsorted(
        matrix.indptr, np.arange(1, matrix.nnz // _PACKED_VALUES + 2) * _PACKED_VALUES
    )
    start = 0
    for stop in np.unique(np.clip(ends, 1, n_rows)):
        lo, hi = matrix.indptr[start], matrix.indptr[stop]
        part = matrix[start:stop]
        values[lo:hi] = _normalized_values(part, normalize) - offset[part.indices]
        start = stop
    delta = sp.csr_matrix((values, matrix.indices, matrix.indptr), shape=matrix.shape)
    return offset, delta


def _normalized_values(part, normalize):
    """``normalize`` of the stored values of the CSR rows ``part``, in their
    order (float64 of the float32 results): each value's rank among its
    column's values gives its row in a packed dense array."""
    n_features = part.shape[1]
    by_column = np.argsort(part.indices, kind="stable")  # rows in order within a column
    columns = part.indices[by_column]
    rank = np.empty(part.nnz, dtype=np.intp)
    rank[by_column] = np.arange(part.nnz) - np.searchsorted(columns, columns)
    by_rank = np.argsort(rank, kind="stable")
    out = np.empty(part.nnz)
    step = max(1, _PACKED_VALUES // max(1, n_features))
    for first in range(0, int(rank.max(initial=-1)) + 1, step):
        lo, hi = np.searchsorted(rank[by_rank], [first, first + step])
        take = by_rank[lo:hi]
        at = (rank[take] - first, part.indices[take])
        packed = np.zeros((int(rank[take].max()) - first + 1, n_features), dtype=part.dtype)
        packed[at] = part.data[take]
        out[take] = normalize(packed)[at]
    return out
