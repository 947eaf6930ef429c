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
:func:`~sklearn.utils.sparsefuncs.min_max_axis`). Memory is the sparse
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
