"""Data larger than memory: arrays read chunk by chunk, never whole.

A NumPy memmap, an h5py ``Dataset``, a zarr array -- any object with
``shape``, ``dtype`` and row slicing that is not an in-memory ndarray -- is
*out-of-core* input (:func:`is_out_of_core`). The estimator layer wraps it
in a :class:`ChunkedRows`: a read-only 2-D view whose slices read, flatten
and validate only the rows asked for. :func:`validate_chunked` checks what
can be checked without reading the data (dtype, dimensions, number of
features, against the fit with scikit-learn's own messages, from the
first chunk); finiteness is checked on every chunk as it is read, with
:func:`~sklearn.utils.check_array`'s messages and the rows where the
offending value is. :meth:`ChunkedRows.scan` reads the array once, in
order, for validation and the scaling statistics (per-feature minimum,
maximum, mean and variance, float64 accumulators).

Training reads the rows in *blocks* of consecutive rows (see
:class:`skae._batches.BlockData`): each epoch shuffles the order of the blocks
and mixes the rows of several blocks in a buffer, so that reads stay
sequential while mini-batches draw from all over the data.

Every walk over consecutive chunks of rows, here and in the estimator and
metrics layers, goes through :func:`row_chunks` (scikit-learn's
:func:`~sklearn.utils.gen_batches` with :func:`chunk_rows` rows a chunk),
and :func:`map_chunks` applies a function chunk by chunk. The per-feature
statistics of rows read in chunks combine in :func:`column_stats`, for
in-memory and out-of-core data alike. :func:`take_rows` gives a subset of
rows (a fold of a cross-fit) that out-of-core data reads lazily, a chunk of
consecutive rows at a time (:class:`RowSubset`).

The sizes here are module constants, read at each call, so that tests can
shrink them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing, gen_batches
from sklearn.utils.validation import check_array, validate_data
from tqdm.auto import tqdm

# Values per read: a chunk holds about this many values (4 MiB of float32),
# in validation, inference and training reads alike.
CHUNK_VALUES = 2**20
# Values per training shuffle buffer: the rows of several blocks, in random
# order, are mixed into mini-batches (64 MiB of float32).
BUFFER_VALUES = 2**24
# A data set is cut into at least this many blocks (fewer only when it has
# fewer rows): the early-stopping split holds out whole blocks.
MIN_BLOCKS = 100

_DTYPES = [np.float64, np.float32]


def is_out_of_core(X):
    """Whether ``X`` is read by chunks: a ``np.memmap``, or an array-like with
    ``shape``, ``dtype`` and slicing that is not an in-memory ndarray, a
    DataFrame, a sparse matrix or a sequence (h5py ``Dataset``, zarr array).
    A torch tensor is not: its ``dtype`` is not a NumPy one."""
    if isinstance(X, np.memmap):
        return X.ndim >= 1
    if isinstance(X, (np.ndarray, list, tuple)) or sp.issparse(X) or hasattr(X, "iloc"):
        return False
    if not all(hasattr(X, name) for name in ("shape", "dtype", "__getitem__")):
        return False
    try:
        np.dtype(X.dtype)
        shape = tuple(int(v) for v in X.shape)
    except (TypeError, ValueError):
        return False
    return len(shape) >= 1


def chunk_rows(n_values, multiple=1):
    """Rows per chunk for rows of ``n_values`` values.

    Parameters
    ----------
    n_values : int
        Values per row (the wider of a function's input and output rows).
    multiple : int, default=1
        The chunk holds a whole number of ``multiple`` rows: inference
        passes ``INFERENCE_BATCH_SIZE``, so that the batches of a chunk are
        those of the whole array and a row's result does not depend on the
        chunking.

    Returns
    -------
    n_rows : int
        About ``CHUNK_VALUES`` values' worth of rows, rounded down to a
        multiple of ``multiple``; at least ``multiple``.
    """
    return max(1, CHUNK_VALUES // max(1, n_values) // multiple) * multiple


def row_chunks(n_rows, n_values, *, multiple=1):
    """Consecutive slices of ``range(n_rows)``, each of :func:`chunk_rows` rows
    (the last one shorter), by :func:`sklearn.utils.gen_batches`.

    Parameters
    ----------
    n_rows : int
        Rows in all; none gives no slice.
    n_values : int
        Values per row.
    multiple : int, default=1
        As in :func:`chunk_rows`: every slice but the last starts and stops
        at a multiple of ``multiple``.

    Returns
    -------
    slices : iterator of slice
    """
    if n_rows == 0:  # gen_batches refuses n=0
        return iter(())
    return gen_batches(n_rows, chunk_rows(n_values, multiple))


def map_chunks(fn, X, out, *, multiple=1, desc=None, progress=False):
    """``out[rows] = fn(X[rows])`` for the consecutive chunks of :func:`row_chunks`.

    Parameters
    ----------
    fn : callable
        Takes a 2-D chunk of rows of ``X``, returns its rows of ``out``.
    X : array-like with ``shape`` and row slicing
        An ndarray, :class:`ChunkedRows` (each slice is read and validated)
        or :class:`skae._sparse_input.SparseRows` (each slice densified).
    out : ndarray
        Written in place. A chunk holds about ``CHUNK_VALUES`` values of
        ``X`` or of ``out``, whichever rows are wider, so that the memory
        beyond ``out`` is a chunk, whatever the size of ``X``.
    multiple : int, default=1
        As in :func:`chunk_rows`.
    desc : str, default=None
        The progress bar's label.
    progress : bool, default=False
        Show a tqdm bar counting units of ``multiple`` rows.

    Returns
    -------
    out : ndarray
        ``out``, filled.
    """
    n_rows = len(X)
    n_values = max(1, math.prod(X.shape[1:]), math.prod(out.shape[1:]))
    with tqdm(
        total=math.ceil(n_rows / multiple),
        desc=desc,
        unit="batch",
        leave=False,
        disable=not progress,
    ) as bar:
        for rows in row_chunks(n_rows, n_values, multiple=multiple):
            out[rows] = fn(X[rows])
            bar.update(math.ceil((rows.stop - rows.start) / multiple))
    return out


def validate_chunked(estimator, X, *, reset):
    """Validate out-of-core ``X`` without reading it all; see :func:`skae._base`'s
    ``_validate_samples``.

    The dtype must be numeric (bool, integer, float). Dimensions, the number
    of samples and of features (against the fit when ``reset=False``) and
    feature names go through scikit-learn's ``validate_data`` on the first
    chunk, so that the errors are scikit-learn's. Samples of 3 or more
    dimensions are flattened (C order), as for in-memory images.

    Returns
    -------
    rows : ChunkedRows
        ``X`` as 2-D rows, validated chunk by chunk as they are read.
    sample_shape : tuple of int
        The shape of one sample as given.

    Raises
    ------
    ValueError
        If the dtype is not numeric, or as ``validate_data``.
    """
    dtype = np.dtype(X.dtype)
    if dtype.kind == "c":
        raise ValueError(f"Complex data not supported: X has dtype {dtype}.")
    if dtype.kind not in "biuf":
        raise ValueError(
            f"X has dtype {dtype}, but skae reads numbers only (bool, integer or "
            "floating-point): store X with a numeric dtype."
        )
    shape = tuple(int(v) for v in X.shape)
    n_values = math.prod(shape[1:]) if len(shape) >= 2 else 1
    first = np.asarray(X[: min(shape[0], chunk_rows(n_values))])
    if first.ndim >= 3:
        first = first.reshape(len(first), -1)
    # Finiteness is checked chunk by chunk as the rows are read.
    validate_data(estimator, first, dtype=_DTYPES, reset=reset, ensure_all_finite=False)
    return ChunkedRows(X, estimator), shape[1:]


@dataclass
class ChunkStats:
    """What one pass over the data gives: per-feature float64 statistics."""

    n_samples: int
    min: np.ndarray
    max: np.ndarray
    mean: np.ndarray | None = None
    var: np.ndarray | None = None


def column_stats(chunks, *, moments=True):
    """Per-feature statistics of rows given chunk by chunk, as :class:`ChunkStats`.

    The extremes by ``np.minimum`` / ``np.maximum`` over the chunks; the mean
    and variance by :meth:`sklearn.preprocessing.StandardScaler.partial_fit`
    (the pairwise update of Chan, Golub and LeVeque [1]_, accumulated in
    float64 for float32 rows), so that no temporary is larger than a chunk.
    For sparse rows skae uses :func:`~sklearn.utils.sparsefuncs.mean_variance_axis`
    instead (:mod:`skae._sparse_input`).

    Parameters
    ----------
    chunks : iterable of ndarray of shape (n_rows, n_features)
        The rows, in order, at least one row in all.
    moments : bool, default=True
        Compute the mean and variance too, not only the extremes.

    Returns
    -------
    stats : ChunkStats
        The minimum, maximum (and mean and population variance) of each
        feature, float64.

    References
    ----------
    .. [1] T. F. Chan, G. H. Golub and R. J. LeVeque, "Algorithms for
       computing the sample variance: analysis and recommendations", The
       American Statistician 37(3), 1983.
    """
    n, low, high = 0, None, None
    moments_of = StandardScaler() if moments else None
    for rows in chunks:
        chunk_low, chunk_high = rows.min(axis=0), rows.max(axis=0)
        low = chunk_low if low is None else np.minimum(low, chunk_low)
        high = chunk_high if high is None else np.maximum(high, chunk_high)
        if moments_of is not None:
            moments_of.partial_fit(rows)
        n += len(rows)
    stats = ChunkStats(n, low.astype(np.float64), high.astype(np.float64))
    if moments_of is not None:
        stats.mean = moments_of.mean_.astype(np.float64)
        stats.var = moments_of.var_.astype(np.float64)
    return stats


def array_stats(X):
    """:func:`column_stats` of an in-memory 2-D array, read by :func:`row_chunks`
    (``X.var`` would make a float64 temporary of ``X``'s size)."""
    return column_stats(X[rows] for rows in row_chunks(len(X), X.shape[1]))


class ChunkedRows:
    """Out-of-core data as read-only 2-D rows ``(n_samples, n_features)``.

    Slicing reads the rows asked for from the underlying array, flattens
    each sample (C order), converts them as ``check_array`` does (float32
    and float64 kept, other dtypes to float64) and, until the whole array
    has passed :meth:`scan`, checks that they are finite. Callers slice at
    most a chunk (``chunk_rows``) at a time; ``np.asarray`` of the whole
    reads it chunk by chunk into one array (for callers that need all of a
    small array).

    Parameters
    ----------
    data : array-like with ``shape``, ``dtype`` and slicing
        The user's array, never modified.
    estimator : estimator
        Named in error messages.
    """

    ndim = 2

    def __init__(self, data, estimator):
        self.data = data
        shape = tuple(int(v) for v in data.shape)
        self.shape = (shape[0], math.prod(shape[1:]))
        self.dtype = np.dtype(np.float32 if np.dtype(data.dtype) == np.float32 else np.float64)
        self.estimator = estimator
        # True once scan() has read and checked every row.
        self.validated = False

    def __len__(self):
        return self.shape[0]

    @property
    def chunk_rows(self):
        return chunk_rows(self.shape[1])

    def read(self, start, stop, *, validate=None):
        """Rows ``start:stop`` as a 2-D float ndarray (validated unless the
        whole array was, or ``validate`` says otherwise).

        Raises
        ------
        ValueError
            If a value is NaN or infinite: ``check_array``'s message, and the
            rows read.
        """
        raw = np.asarray(self.data[start:stop])
        raw = raw.reshape(len(raw), self.shape[1])
        if (not self.validated) if validate is None else validate:
            try:
                return check_array(raw, dtype=_DTYPES, estimator=self.estimator, input_name="X")
            except ValueError as exc:
                raise ValueError(
                    f"{exc}\nFound in rows {start} to {stop - 1} of X, which skae reads "
                    "chunk by chunk."
                ) from None
        return raw.astype(self.dtype, copy=False)

    def chunks(self):
        """``(start, stop, rows)`` for consecutive chunks of rows, in order."""
        for rows in row_chunks(*self.shape):
            yield rows.start, rows.stop, self.read(rows.start, rows.stop)

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                return np.asarray(self)[key]
            return self.read(start, max(start, stop))
        if isinstance(key, (int, np.integer)):
            index = range(len(self))[key]
            return self.read(index, index + 1)[0]
        return self.take(np.asarray(key))

    def take(self, indices):
        """The rows at ``indices`` (integers), read chunk by chunk."""
        indices = np.asarray(indices, dtype=np.intp).ravel()
        indices = np.where(indices < 0, indices + len(self), indices)
        out = np.empty((len(indices), self.shape[1]), dtype=self.dtype)
        order = np.argsort(indices, kind="stable")
        sorted_indices = indices[order]
        step = self.chunk_rows
        i = 0
        while i < len(sorted_indices):
            first = sorted_indices[i]
            j = np.searchsorted(sorted_indices, first + step, side="left")
            last = sorted_indices[j - 1]
            rows = self.read(first, last + 1)
            out[order[i:j]] = rows[sorted_indices[i:j] - first]
            i = j
        return out

    def __array__(self, dtype=None, copy=None):
        out = np.empty(self.shape, dtype=self.dtype)
        for start, stop, rows in self.chunks():
            out[start:stop] = rows
        return out if dtype is None else out.astype(dtype, copy=False)

    def scan(self, *, moments=True):
        """Read every row once, in order: validate them and return their
        :class:`ChunkStats` (the mean and variance only with ``moments``).

        The statistics are :func:`column_stats`'s.

        Raises
        ------
        ValueError
            As :meth:`read`, at the first chunk with a value that is not
            finite.
        """
        stats = column_stats((rows for _, _, rows in self.chunks()), moments=moments)
        self.validated = True
        return stats


def blocks(n_samples, n_features):
    """Row ranges ``[start, stop)`` cutting ``n_samples`` rows into blocks,
    an int array of shape ``(n_blocks, 2)``.

    A block holds at most a chunk of rows, and there are at least
    ``MIN_BLOCKS`` of them when there are as many rows (so that a
    validation fraction of the blocks is close to that fraction of rows).
    """
    size = max(1, min(chunk_rows(n_features), math.ceil(n_samples / MIN_BLOCKS)))
    starts = np.arange(0, n_samples, size)
    return np.stack([starts, np.minimum(starts + size, n_samples)], axis=1)


def buffer_rows(n_features):
    """Rows per training shuffle buffer: about ``BUFFER_VALUES`` values."""
    return max(1, BUFFER_VALUES // max(1, n_features))


class RowSubset:
    """Rows ``indices`` of out-of-core ``data`` (a memmap, an h5py
    ``Dataset``...), read only when sliced: itself out-of-core input, so that a
    fold model reads its rows a chunk at a time, as the whole data is read.

    Slices and integer arrays read the rows asked for in runs of at most a
    chunk of consecutive rows of ``data`` (:func:`chunk_rows`),
    in the shape and dtype of ``data``; ``np.asarray`` of the whole reads
    every row asked for into one array (for estimators that need it in
    memory, such as PCA).
    """

    def __init__(self, data, indices):
        self.data = data
        self.indices = np.sort(np.asarray(indices, dtype=np.intp))
        self.shape = (len(self.indices), *(int(v) for v in data.shape[1:]))
        self.ndim = len(self.shape)
        self.dtype = np.dtype(data.dtype)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, tuple):
            return self[key[0]][(slice(None), *key[1:])]
        wanted = self.indices[key]
        if np.ndim(wanted) == 0:
            return self._read(np.array([wanted]))[0]
        return self._read(np.asarray(wanted))

    def _read(self, wanted):
        out = np.empty((len(wanted), *self.shape[1:]), dtype=self.dtype)
        order = np.argsort(wanted, kind="stable")
        rows = wanted[order]
        step = chunk_rows(max(1, math.prod(self.shape[1:])))
        i = 0
        while i < len(rows):
            first = rows[i]
            j = int(np.searchsorted(rows, first + step, side="left"))
            block = np.asarray(self.data[first : rows[j - 1] + 1])
            out[order[i:j]] = block[rows[i:j] - first]
            i = j
        return out

    def __array__(self, dtype=None, copy=None):
        out = self[:]
        return out if dtype is None else out.astype(dtype, copy=False)


def take_rows(X, indices):
    """Rows ``indices`` of ``X``: a lazy :class:`RowSubset` of out-of-core
    data, a copy of those rows (``sklearn.utils._safe_indexing``) of arrays,
    CSR matrices, DataFrames and lists."""
    if is_out_of_core(X):
        return RowSubset(X, indices)
    return _safe_indexing(X, indices, axis=0)
