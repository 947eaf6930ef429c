"""The data of a training run and its mini-batches, cut by index.

The data is held as *one* float32 tensor and mini-batches are cut from it
by index (:class:`TensorData`, :class:`IndexBatches`), instead of skorch's
default ``DataLoader`` that collates one sample at a time;
``benchmarks/bench_fit_time.py`` times both against a plain PyTorch loop.
Sparse data stays a scipy CSR matrix (:class:`SparseRowBatches`): a batch
cut by index is densified and normalised then, one batch at a time. Data
larger than memory (:mod:`skae._chunked`) is a :class:`BlockData` instead:
blocks of rows are read, normalised, into a shuffle buffer, and batches are
cut from the buffer by index in the same way (:class:`BlockBatches`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "INFERENCE_BATCH_SIZE",
    "BlockBatches",
    "BlockData",
    "IndexBatches",
    "PaddedTensorData",
    "SparseRowBatches",
    "TensorData",
    "batches",
    "pair",
]

# Rows per inference batch. Every inference batch has exactly this many rows
# (the last one is padded), so that a row's result never depends, even in
# the last bit, on how many rows came with it.
INFERENCE_BATCH_SIZE = 256


class SparseRowBatches:
    """Rows of a scipy.sparse CSR matrix as the network's input, densified on demand.

    Indexed as the float32 tensor of a :class:`TensorData` is: ``self[rows]``
    (a tensor or array of row numbers, or a slice) densifies those rows of
    the matrix only, in that order, and returns ``normalize(dense_rows)``
    as a tensor. The memory it takes is one batch, never the dense matrix.

    Parameters
    ----------
    X : scipy.sparse CSR matrix or array of shape (n_samples, n_features)
        Never modified.
    normalize : callable
        Maps dense rows (an ndarray) to the network's input, a float32
        ndarray of the same shape (the estimator's ``_normalize``).
    """

    def __init__(self, X, normalize):
        self.X = X
        self.normalize = normalize
        self.shape = X.shape

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, rows):
        if isinstance(rows, torch.Tensor):
            rows = rows.numpy()
        if not isinstance(rows, slice):
            rows = np.asarray(rows, dtype=np.intp)
            if rows.ndim == 0:  # one row: a 1-D tensor, as a tensor's X[i]
                return self[rows.reshape(1)][0]
        return torch.from_numpy(self.normalize(self.X[rows].toarray()))


def pair(rows, labels):
    """A batch: ``(rows, rows)`` (the input is the target), or, with a
    supervised target, ``(rows, (rows, labels))``."""
    return (rows, rows) if labels is None else (rows, (rows, labels))


class TensorData(torch.utils.data.Dataset):
    """A data set held as one 2-D float32 tensor ``(n_samples, n_features)``,
    or the rows ``indices`` of it.

    The target of an autoencoder is its input; ``y`` (None, or a tensor
    with one entry per row of ``X``: the encoded labels of a supervised
    bottleneck, :mod:`skae._target`) travels beside it, a batch then being
    ``(rows, (rows, labels))`` (:func:`pair`). A training and a validation
    split index into the same tensors: neither is a copy of the data. ``X``
    may be an ndarray (used as a tensor without a copy) or a
    :class:`SparseRowBatches`, indexed as the tensor would be.
    """

    def __init__(self, X, indices=None, y=None):
        self.X = torch.from_numpy(X) if isinstance(X, np.ndarray) else X
        self.indices = None if indices is None else torch.as_tensor(indices, dtype=torch.long)
        self.y = y

    def __len__(self):
        return len(self.X) if self.indices is None else len(self.indices)

    def __getitem__(self, i):
        i = i if self.indices is None else self.indices[i]
        return pair(self.X[i], None if self.y is None else self.y[i])


class PaddedTensorData(TensorData):
    """A :class:`TensorData` for inference: batches of a fixed size, the last padded."""


class IndexBatches:
    """Mini-batches of a :class:`TensorData`, cut from its tensor by index.

    Each pass draws a fresh permutation from torch's global generator when
    ``shuffle`` is true (the estimator seeds it from ``random_state``). A batch
    is ``(X_batch, X_batch)``: input and target are the same tensor (with
    labels, ``(X_batch, (X_batch, y_batch))``, :func:`pair`). With
    ``pad=True`` the last batch is padded with zero rows to ``batch_size``.
    Batches stay on the host; skorch moves each one to ``net.device`` in
    ``infer``.
    """

    def __init__(self, dataset, batch_size, shuffle=False, pad=False):
        self.X = dataset.X
        self.indices = dataset.indices
        self.y = dataset.y
        self.n = len(dataset)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pad = pad

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        order = torch.randperm(self.n) if self.shuffle else None
        for start in range(0, self.n, self.batch_size):
            rows = slice(start, start + self.batch_size)
            if order is not None:
                rows = order[rows]
            if self.indices is not None:
                rows = self.indices[rows]
            batch = self.X[rows]
            if self.pad and len(batch) < self.batch_size:
                filler = batch.new_zeros((self.batch_size - len(batch), *batch.shape[1:]))
                batch = torch.cat([batch, filler])
            yield pair(batch, None if self.y is None else self.y[rows])


class BlockData(torch.utils.data.Dataset):
    """Rows of data too large for memory, read block by block when batched.

    ``read(start, stop)`` returns rows ``start:stop`` of the data as the
    network's input: a float32 ndarray ``(stop - start, n_features)``. The
    data set is the rows of ``blocks``, ranges ``[start, stop)`` in
    increasing order that do not overlap; a training and a validation split
    are two sets of blocks of the same data. Adjacent blocks are read
    together, up to ``read_rows`` rows a read; in training
    (:class:`BlockBatches`) ``buffer_rows`` rows are mixed at a time.
    ``y`` (None, or a tensor of labels of *all* the rows, held in memory)
    gives each row its label by its row number.
    """

    def __init__(self, read, blocks, *, read_rows, buffer_rows, y=None):
        self.read = read
        self.y = y
        self.blocks = np.asarray(blocks, dtype=np.int64).reshape(-1, 2)
        self.read_rows = read_rows
        self.buffer_rows = buffer_rows
        self._ends = np.cumsum(self.blocks[:, 1] - self.blocks[:, 0])

    def __len__(self):
        return int(self._ends[-1]) if len(self._ends) else 0

    def __getitem__(self, i):
        i = range(len(self))[i]
        b = int(np.searchsorted(self._ends, i, side="right"))
        start = self.blocks[b, 0] + i - (self._ends[b - 1] if b else 0)
        row = torch.from_numpy(self.read(int(start), int(start) + 1))[0]
        return pair(row, None if self.y is None else self.y[int(start)])

    def reads(self, blocks):
        """The ``(start, stop)`` row ranges of :meth:`pieces`, one per read."""
        runs = []
        for start, stop in blocks:
            if runs and runs[-1][1] == start:
                runs[-1][1] = stop
            else:
                runs.append([start, stop])
        for start, stop in runs:
            for a in range(start, stop, self.read_rows):
                yield int(a), int(min(a + self.read_rows, stop))

    def pieces(self, blocks):
        """Tensors of the rows of ``blocks`` (in their order), one per read:
        runs of adjacent blocks, cut at ``read_rows`` rows."""
        for start, stop in self.reads(blocks):
            yield torch.from_numpy(self.read(start, stop))

    def labels(self, blocks):
        """The labels of the rows of ``blocks``, in their order (None without ``y``)."""
        if self.y is None:
            return None
        return torch.cat([self.y[start:stop] for start, stop in self.reads(blocks)])

    def read_blocks(self, blocks, head=None):
        """One tensor: ``head`` (rows already read), then the rows of ``blocks``."""
        n_head = 0 if head is None else len(head)
        n_rows = n_head + int((blocks[:, 1] - blocks[:, 0]).sum())
        out = None
        position = n_head
        for piece in self.pieces(blocks):
            if out is None:
                out = piece.new_empty((n_rows, *piece.shape[1:]))
                if n_head:
                    out[:n_head] = head
            out[position : position + len(piece)] = piece
            position += len(piece)
        return head if out is None else out


class BlockBatches:
    """Mini-batches of a :class:`BlockData`: reads stay sequential, batches mixed.

    In training (``shuffle=True``) each pass draws, from torch's global
    generator (seeded by the estimator), an order of the blocks and cuts it
    into buffers of about ``buffer_rows`` rows. The blocks of a buffer are
    read in file order; its rows (with the few left over from the previous
    buffer) are shuffled and cut into batches of ``batch_size``; only the
    pass's last batch may be smaller. When all rows fit in one buffer, the
    blocks are read in order and the batches are those of
    :class:`IndexBatches` on the same rows. Without ``shuffle`` (validation)
    the rows come in order. A batch is ``(X_batch, X_batch)``, or with
    labels ``(X_batch, (X_batch, y_batch))`` (:func:`pair`).
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def _buffers(self):
        data = self.dataset
        if len(data) <= data.buffer_rows:
            return [data.blocks]
        order = data.blocks[torch.randperm(len(data.blocks)).numpy()]
        sizes = order[:, 1] - order[:, 0]
        buffers, first, filled = [], 0, 0
        for i, size in enumerate(sizes):
            if filled and filled + size > data.buffer_rows:
                buffers.append(order[first:i])
                first, filled = i, 0
            filled += size
        buffers.append(order[first:])
        return [b[np.argsort(b[:, 0], kind="stable")] for b in buffers]

    def __iter__(self):
        data = self.dataset
        left = None  # rows (and their labels) not yet in a batch
        if not self.shuffle:
            for start, stop in data.reads(data.blocks):
                rows = torch.from_numpy(data.read(start, stop))
                labels = None if data.y is None else data.y[start:stop]
                if left is not None:
                    rows, labels = torch.cat([left[0], rows]), _cat(left[1], labels)
                left = yield from self._cut(rows, labels, None)
        else:
            for blocks in self._buffers():
                rows = data.read_blocks(blocks, head=None if left is None else left[0])
                labels = _cat(None if left is None else left[1], data.labels(blocks))
                left = yield from self._cut(rows, labels, torch.randperm(len(rows)))
        if left is not None:
            yield pair(*left)

    def _cut(self, rows, labels, order):
        """Yield the full batches of ``rows`` (taken in ``order``, or as they
        come where it is None); return the ``(rows, labels)`` left over, or None."""
        size = self.batch_size
        n_full = len(rows) // size * size
        for start in range(0, n_full, size):
            take = slice(start, start + size) if order is None else order[start : start + size]
            yield pair(rows[take], None if labels is None else labels[take])
        if n_full == len(rows):
            return None
        rest = slice(n_full, None) if order is None else order[n_full:]
        return rows[rest], None if labels is None else labels[rest]


def _cat(a, b):
    """Two tensors of labels end to end (None where there are none)."""
    return b if a is None else a if b is None else torch.cat([a, b])


def batches(dataset, batch_size, shuffle=False):
    """The mini-batches of a training run's data, whatever it holds.

    :class:`BlockBatches` for data read from disk (:class:`BlockData`),
    :class:`IndexBatches` otherwise (a tensor or sparse rows). The net reads
    its training and validation data through it, and so does the PCA start
    (:mod:`skae._pca_start`), so both see the same rows.
    """
    if isinstance(dataset, BlockData):
        return BlockBatches(dataset, batch_size, shuffle=shuffle)
    return IndexBatches(dataset, batch_size, shuffle=shuffle)
