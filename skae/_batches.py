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


class TensorData(torch.utils.data.Dataset):
    """A data set held as one 2-D float32 tensor ``(n_samples, n_features)``,
    or the rows ``indices`` of it.

    The target of an autoencoder is its input, so there is no ``y``. A
    training and a validation split index into the same tensor: neither is
    a copy of the data. ``X`` may be an ndarray (used as a tensor without a
    copy) or a :class:`SparseRowBatches`, indexed as the tensor would be.
    """

    def __init__(self, X, indices=None):
        self.X = torch.from_numpy(X) if isinstance(X, np.ndarray) else X
        self.indices = None if indices is None else torch.as_tensor(indices, dtype=torch.long)

    def __len__(self):
        return len(self.X) if self.indices is None else len(self.indices)

    def __getitem__(self, i):
        row = self.X[i] if self.indices is None else self.X[self.indices[i]]
        return row, row


class PaddedTensorData(TensorData):
    """A :class:`TensorData` for inference: batches of a fixed size, the last padded."""


class IndexBatches:
    """Mini-batches of a :class:`TensorData`, cut from its tensor by index.

    Each pass draws a fresh permutation from torch's global generator when
    ``shuffle`` is true (the estimator seeds it from ``random_state``). A batch
    is ``(X_batch, X_batch)``: input and target are the same tensor. With
    ``pad=True`` the last batch is padded with zero rows to ``batch_size``.
    Batches stay on the host; skorch moves each one to ``net.device`` in
    ``infer``.
    """

    def __init__(self, dataset, batch_size, shuffle=False, pad=False):
        self.X = dataset.X
        self.indices = dataset.indices
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
            yield batch, batch


class BlockData(torch.utils.data.Dataset):
    """Rows of data too large for memory, read block by block when batched.

    ``read(start, stop)`` returns rows ``start:stop`` of the data as the
    network's input: a float32 ndarray ``(stop - start, n_features)``. The
    data set is the rows of ``blocks``, ranges ``[start, stop)`` in
    increasing order that do not overlap; a training and a validation split
    are two sets of blocks of the same data. Adjacent blocks are read
    together, up to ``read_rows`` rows a read; in training
    (:class:`BlockBatches`) ``buffer_rows`` rows are mixed at a time.
    """

    def __init__(self, read, blocks, *, read_rows, buffer_rows):
        self.read = read
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
        return row, row

    def pieces(self, blocks):
        """Tensors of the rows of ``blocks`` (in their order), one per read:
        runs of adjacent blocks, cut at ``read_rows`` rows."""
        runs = []
        for start, stop in blocks:
            if runs and runs[-1][1] == start:
                runs[-1][1] = stop
            else:
                runs.append([start, stop])
        for start, stop in runs:
            for a in range(start, stop, self.read_rows):
                yield torch.from_numpy(self.read(int(a), int(min(a + self.read_rows, stop))))

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
    the rows come in order. A batch is ``(X_batch, X_batch)``.
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
        size = self.batch_size
        left = None
        if not self.shuffle:
            for piece in self.dataset.pieces(self.dataset.blocks):
                rows = piece if left is None else torch.cat([left, piece])
                n_full = len(rows) // size * size
                for start in range(0, n_full, size):
                    yield rows[start : start + size], rows[start : start + size]
                left = rows[n_full:] if n_full < len(rows) else None
        else:
            for blocks in self._buffers():
                rows = self.dataset.read_blocks(blocks, head=left)
                order = torch.randperm(len(rows))
                n_full = len(rows) // size * size
                for start in range(0, n_full, size):
                    batch = rows[order[start : start + size]]
                    yield batch, batch
                left = rows[order[n_full:]] if n_full < len(rows) else None
        if left is not None:
            yield left, left


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
