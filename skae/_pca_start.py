"""The PCA start: PCA's solution as the untrained network.

With ``pca_start=True`` (:data:`skae._common_params.PCA_START`), an
estimator that declares the start (``_takes_pca_start``: the plain and
convolutional autoencoders) builds its network as PCA plus a residual:
:func:`start_from_pca`

1. computes PCA's solution on the training rows (not the rows held out for
   the validation loss, so that epoch 0 is scored on them without bias), in
   the network's units (``(X - mean_) / scale_``), holding a chunk of rows
   at a time (about ``_CHUNK_VALUES`` values), never a copy of the data:

   * up to ``MAX_COVARIANCE_FEATURES`` features, from the rows' count, sum
     and Gram matrix (:class:`RowMoments`), accumulated chunk by chunk --
     exact, one pass, and the moments of two sets of rows (the training and
     the held-out rows) add up to those of both;
   * beyond, for dense rows (in memory or read from disk), from
     :class:`~sklearn.decomposition.IncrementalPCA` over batches of a fixed
     number of rows, in one pass; for sparse rows, from scikit-learn's
     :class:`~sklearn.decomposition.PCA` with ``svd_solver="arpack"``, which
     centres the CSR matrix implicitly (ARPACK's Lanczos iterations on the
     training rows, Lehoucq et al. 1998): the matrix is never densified.

   Sparse rows (:class:`skae._batches.SparseRowBatches`) are never
   densified: in the network's units they are a constant row plus a sparse
   matrix with the CSR matrix's pattern
   (:func:`skae._sparse_input.network_rows`), whose moments, or centred
   products, need only the sparse part; the moments are those of the
   densified rows to rounding, so a sparse fit starts as the dense fit of
   the same rows does;
2. puts it in the network as a fixed path beside the encoder and the
   decoder (:class:`skae._nn.PCAPath`) and zeroes the last layer of both, so
   that the untrained network (epoch 0) encodes and reconstructs exactly as
   PCA does, and training learns what PCA misses. For sigmoid outputs (data
   in [0, 1], trained with binary cross-entropy) the path decodes to the
   logit of PCA's reconstruction clipped to the unit interval: epoch 0 is
   PCA kept in [0, 1].

Nothing here chooses between models: the fit's one selection rule, the
epoch of lowest validation loss with epoch 0 counted
(:class:`skae._callbacks.BestValidationEpoch`), keeps PCA's solution where
no trained epoch does better on the held-out rows; the fit then refits that
start on all its rows (:meth:`skae._base.BaseAutoencoder._refit_start`), so
that the model is PCA of ``X``. Up to ``MAX_COVARIANCE_FEATURES`` features
that refit needs no second pass over the training rows: the moments of the
held-out rows combine with those of the training rows
(:func:`row_moments`, :meth:`RowMoments.combine`, and ``start_from_pca``
given the combined moments).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.decomposition import PCA, IncrementalPCA
from threadpoolctl import threadpool_limits

from ._batches import SparseRowBatches, TensorData, batches
from ._nn import PCAPath
from ._parameters import Attr
from ._sparse_input import network_rows

__all__ = [
    "PCA_START_ATTRIBUTES",
    "RowMoments",
    "attach",
    "fit_pca",
    "row_moments",
    "start_from_pca",
]

# Up to this many features PCA comes from the Gram matrix (float64, 32 MiB
# at 2 048 features); beyond, from IncrementalPCA (dense rows) or ARPACK
# (sparse rows).
MAX_COVARIANCE_FEATURES = 2_048
# PCA's axes are oriented by the codes of the first this many training rows.
ORIENT_ROWS = 256
# Rows an IncrementalPCA batch holds, at least (and 2 * n_components): its
# cost grows with the batch, the overhead of a call with their number.
IPCA_BATCH_ROWS = 32
# Values read at a time: a chunk of rows of the network's input (1 MiB of
# float32, 2 MiB as float64), the start's memory. Larger chunks make no
# product faster, and the allocator may keep what each one leaves behind.
_CHUNK_VALUES = 2**18

PCA_START_ATTRIBUTES = (
    Attr(
        "pca_start_",
        '{"pca", "network", "start"} or None',
        """What the PCA start (``pca_start``) gave: ``"pca"``, no trained
        epoch had a lower validation loss than the untrained network
        (``best_epoch_ == 0``), which reconstructs as
        :class:`~sklearn.decomposition.PCA` fitted on ``X`` does (clipped to
        [0, 1] for ``output_activation_ == "sigmoid"``);
        ``"network"``, a trained epoch did (``best_epoch_ >= 1``);
        ``"start"``, the network started from PCA and no rows were held out
        (:meth:`partial_fit`). None without a start: ``pca_start=False``,
        your own ``encoder`` / ``decoder``, a model file from before 0.3.""",
    ),
    Attr(
        "pca_explained_variance_ratio_",
        "ndarray of shape (n_components,) or None",
        """PCA's ``explained_variance_ratio_`` on ``X``, in the
        network's units (0 beyond their rank), from the PCA start; None
        without one.""",
    ),
)


def _single_blas_thread():
    """A context in which BLAS computes on one thread.

    The start's dense algebra is a chunk's Gram matrix, ARPACK's Lanczos
    vectors, IncrementalPCA's batches of a few dozen rows: calls too small
    for threads to pay for their synchronisation, and where other processes
    share the cores, each call waits on the slowest thread -- many times
    the work itself.
    """
    return threadpool_limits(limits=1, user_api="blas")


def _orient(components, codes):
    """Flip the rows of ``components`` in place to PCA's sign convention.

    Each axis is oriented so that ``codes`` (the first rows' codes on it)
    have a positive third moment, or, where that is 0 (a symmetric
    distribution, a null axis), so that the axis's largest entry is
    positive: neither the order of the features nor the chunking of the rows
    changes the signs.

    Parameters
    ----------
    components : ndarray of shape (n_components, n_features)
    codes : ndarray of shape (n_rows, n_components)
    """
    skew = np.sum(codes**3, axis=0)
    rows = np.arange(len(components))
    largest = components[rows, np.abs(components).argmax(axis=1)]
    tied = np.abs(skew) <= 1e-9 * np.sum(np.abs(codes) ** 3, axis=0)
    components *= np.where(np.where(tied, largest, skew) < 0, -1.0, 1.0)[:, None]


def _first_rows(kept, rows):
    """``kept`` (the first rows seen, or None) with the head of ``rows`` added,
    up to ``ORIENT_ROWS`` rows, as float64: a copy, never a view of ``rows``
    (sparse rows stay sparse)."""
    n_kept = 0 if kept is None else kept.shape[0]
    if n_kept >= ORIENT_ROWS or rows.shape[0] == 0:
        return kept
    head = rows[: ORIENT_ROWS - n_kept]
    if sp.issparse(head):
        head = sp.csr_matrix(head, dtype=np.float64)
        return head if kept is None else sp.vstack([kept, head], format="csr")
    head = np.array(head, dtype=np.float64)
    return head if kept is None else np.concatenate([kept, head])


def _codes(rows, mean, components):
    """``(rows - mean) @ components.T`` for dense or sparse ``rows``,
    without densifying them: ``(n_rows, n_components)``."""
    return np.asarray(rows @ components.T) - mean @ components.T


class RowMoments:
    """The count, sum and Gram matrix of rows: what PCA's solution needs of them.

    Accumulated a chunk of rows at a time (:meth:`update`), in float64, so
    that PCA (:meth:`pca`) holds ``n_features ** 2`` values and a chunk, not
    the rows; the moments of two sets of rows combine (:meth:`combine`)
    into those of both, without a pass over either. PCA's mean is ``sum /
    n``, its axes and variances those of the covariance matrix ``gram / n -
    outer(mean, mean)``: the covariance-matrix method of scikit-learn's
    ``PCA(svd_solver="covariance_eigh")``.

    Parameters
    ----------
    n_features : int
        The rows' width.

    Attributes
    ----------
    n : int
        Rows seen.
    offset : ndarray of shape (n_features,) or None
        The row added to every sparse row given (:meth:`update`); None
        where the rows were dense.
    total : ndarray of shape (n_features,)
        The sum of the rows given (without ``offset``).
    gram : ndarray of shape (n_features, n_features)
        The sum of ``outer(row, row)`` over them (without ``offset``).
    first : ndarray or CSR matrix of shape (<= ORIENT_ROWS, n_features), or None
        The first ``ORIENT_ROWS`` rows given (without ``offset``), which
        orient PCA's axes (see :func:`fit_pca`).
    """

    def __init__(self, n_features):
        self.n_features = n_features
        self.n = 0
        self.offset = None
        self.total = np.zeros(n_features)
        self.gram = np.zeros((n_features, n_features))
        self.first = None

    def update(self, rows, offset=None):
        """Add ``rows`` (or ``offset + rows``) to the moments; returns ``self``.

        Parameters
        ----------
        rows : ndarray or scipy.sparse matrix of shape (n_rows, n_features)
            Any real dtype, computed in float64; sparse rows are never
            densified.
        offset : ndarray of shape (n_features,), default=None
            A row added to each of ``rows``: the rows are ``offset + rows``
            (sparse rows in the network's units,
            :func:`skae._sparse_input.network_rows`). The same for every
            update.

        Raises
        ------
        ValueError
            If the rows are not ``n_features`` wide, or ``offset`` is not
            that of the rows given before.
        """
        if rows.ndim != 2 or rows.shape[1] != self.n_features:
            raise ValueError(
                f"rows of shape {rows.shape} given to the moments of {self.n_features} features."
            )
        self._check_offset(offset)
        self.offset = None if offset is None else np.asarray(offset, dtype=np.float64)
        self.first = _first_rows(self.first, rows)
        self.n += rows.shape[0]
        if sp.issparse(rows):
            rows = sp.csr_matrix(rows, dtype=np.float64)
            self.total += np.asarray(rows.sum(axis=0)).ravel()
            product = (rows.T @ rows).tocoo()
            product.sum_duplicates()  # each entry once, for the indexed +=
            self.gram[product.row, product.col] += product.data
        else:
            rows = np.asarray(rows, dtype=np.float64)
            self.total += rows.sum(axis=0)
            self.gram += rows.T @ rows
        return self

    def _check_offset(self, offset):
        """Refuse rows given with another offset than the rows before."""
        if not self.n:
            return
        if (offset is None) != (self.offset is None) or (
            offset is not None and not np.array_equal(offset, self.offset)
        ):
            raise ValueError("RowMoments: rows given with another offset than the rows before.")

    def combine(self, other):
        """The moments of ``self``'s rows followed by ``other``'s (a new object).

        Raises
        ------
        ValueError
            If the two have other widths or other offsets.
        """
        if other.n_features != self.n_features:
            raise ValueError("RowMoments.combine needs the moments of rows of the same width.")
        both = RowMoments(self.n_features)
        for part in (self, other):
            if part.n:
                both._check_offset(part.offset)
                both.offset = part.offset
                both.n += part.n
                both.total += part.total
                both.gram += part.gram
                both.first = _first_rows(both.first, part.first)
        return both

    def pca(self, n_components):
        """PCA's solution on the rows seen: see :func:`fit_pca`.

        Returns
        -------
        mean : ndarray of shape (n_features,)
        components : ndarray of shape (n_components, n_features)
        explained_variance_ratio : ndarray of shape (n_components,)

        Raises
        ------
        ValueError
            If no row was seen.
        """
        if self.n == 0:
            raise ValueError("PCA needs at least one row; these moments have seen none.")
        k = min(n_components, self.n_features)
        mean = self.total / self.n  # of the rows without offset
        covariance = self.gram / self.n - np.outer(mean, mean)
        variances, axes = np.linalg.eigh((covariance + covariance.T) / 2)
        variances, axes = np.clip(variances[::-1], 0.0, None), axes[:, ::-1]
        components = np.zeros((n_components, self.n_features))
        components[:k] = axes[:, :k].T
        _orient(components, _codes(self.first, mean, components))
        ratio = np.zeros(n_components)
        total_variance = float(variances.sum())
        if total_variance > 0:
            ratio[:k] = variances[:k] / total_variance
        if self.offset is not None:
            mean = mean + self.offset
        return mean, components, ratio


def _network_rows(data, n_features):
    """The rows of ``data`` in the network's units, a chunk of about
    ``_CHUNK_VALUES`` values at a time (float32 ndarrays, as the network
    reads them)."""
    step = max(1, _CHUNK_VALUES // max(1, n_features))
    for rows, _ in batches(data, step):
        yield rows.numpy()


def _batches_of(chunks, size):
    """The rows of ``chunks`` in float64 batches of ``size`` rows, the last
    holding the rest (``size`` to ``2 * size - 1`` rows, or all the rows
    where there are fewer): the same batches however the rows are chunked."""
    pending, n_pending = [], 0
    for rows in chunks:
        pending.append(rows)
        n_pending += len(rows)
        while n_pending >= 2 * size:
            block = np.concatenate(pending, dtype=np.float64)
            yield block[:size]
            pending, n_pending = [block[size:]], n_pending - size
    if n_pending:
        yield np.concatenate(pending, dtype=np.float64)


def fit_pca(chunks, n_samples, n_features, n_components):
    """PCA of the rows in ``chunks``: their mean, principal axes and variances.

    One pass over the rows, holding a chunk at a time: up to
    ``MAX_COVARIANCE_FEATURES`` features, exact, from their moments
    (:class:`RowMoments`); beyond, :class:`~sklearn.decomposition.IncrementalPCA`
    (Ross et al. 2008) over batches of ``max(2 * n_components,
    IPCA_BATCH_ROWS)`` rows, which approximates PCA's axes.

    Parameters
    ----------
    chunks : iterable of ndarray of shape (n_rows, n_features)
        ``n_samples`` rows in all, in the network's units, any real dtype.
    n_samples, n_features, n_components : int

    Returns
    -------
    mean : ndarray of shape (n_features,)
    components : ndarray of shape (n_components, n_features)
        Orthonormal rows, by decreasing variance; rows beyond
        ``n_features`` (or the rank) are 0. PCA's signs are arbitrary: each
        axis is oriented so that the codes of the first ``ORIENT_ROWS`` rows
        have a positive third moment (its largest entry positive where that
        is 0), so that neither the order of the features nor the chunking of
        the rows changes them.
    explained_variance_ratio : ndarray of shape (n_components,)
    """
    if n_features <= MAX_COVARIANCE_FEATURES:
        moments = RowMoments(n_features)
        with _single_blas_thread():
            for rows in chunks:
                moments.update(rows)
            return moments.pca(n_components)
    k = min(n_components, n_features, n_samples)
    ipca = IncrementalPCA(n_components=k)
    first = None
    with _single_blas_thread():
        for rows in _batches_of(chunks, max(2 * k, IPCA_BATCH_ROWS)):
            first = _first_rows(first, rows)
            ipca.partial_fit(rows)
    components = np.zeros((n_components, n_features))
    components[:k] = ipca.components_
    _orient(components, _codes(first, ipca.mean_, components))
    ratio = np.zeros(n_components)
    if float(ipca.var_.sum()) > 0:
        ratio[:k] = ipca.explained_variance_ratio_
    return ipca.mean_, components, ratio


def _is_sparse(rows):
    """Whether ``rows`` are rows of sparse data: a
    :class:`~skae._batches.TensorData` over a
    :class:`~skae._batches.SparseRowBatches` (the training or the held-out
    rows)."""
    return isinstance(rows, TensorData) and isinstance(rows.X, SparseRowBatches)


def _sparse_rows(rows, exact=True):
    """Rows of sparse data (:func:`_is_sparse`) in the network's units, never
    densified: ``offset, delta`` (:func:`skae._sparse_input.network_rows`),
    ``delta`` a new CSR matrix holding the stored values of those rows, in
    float64 where ``exact``, else in the data's dtype."""
    matrix = rows.X.X
    if rows.indices is not None:
        matrix = matrix[rows.indices.numpy()]
    return network_rows(matrix, rows.X.normalize, np.float64 if exact else matrix.dtype)


def _sparse_pca(offset, delta, n_components):
    """PCA of the rows ``offset + delta`` (``delta`` sparse, ``(n_rows,
    n_features)``) by scikit-learn's ``PCA(svd_solver="arpack")``, which
    centres ``delta`` implicitly: never densified, computed in ``delta``'s
    dtype (float32 values: float32 Lanczos vectors, as scikit-learn computes
    float32 data). The same results as :func:`fit_pca`, to ARPACK's
    tolerance."""
    n_rows, n_features = delta.shape
    mean = np.asarray(delta.sum(axis=0, dtype=np.float64)).ravel() / n_rows
    components = np.zeros((n_components, n_features))
    ratio = np.zeros(n_components)
    # ARPACK finds fewer axes than the matrix's smaller side; PCA of n rows
    # has at most n - 1 axes of non-zero variance.
    k = min(n_components, n_rows - 1, n_features - 1)
    if k >= 1:
        with _single_blas_thread():
            pca = PCA(n_components=k, svd_solver="arpack", random_state=0).fit(delta)
        components[:k] = pca.components_
        ratio[:k] = pca.explained_variance_ratio_
    _orient(components, _codes(delta[:ORIENT_ROWS], mean, components))
    return mean + offset, components, ratio


def row_moments(rows, n_features):
    """The :class:`RowMoments` of the rows of a training run's data, in one pass.

    Parameters
    ----------
    rows : TensorData or BlockData
        The rows in the network's units (the training or the held-out rows),
        read a chunk at a time; sparse rows from their CSR matrix, never
        densified.
    n_features : int
        At most ``MAX_COVARIANCE_FEATURES``: beyond, PCA does not come from
        moments.

    Returns
    -------
    moments : RowMoments

    Raises
    ------
    ValueError
        If ``n_features`` exceeds ``MAX_COVARIANCE_FEATURES``.
    """
    if n_features > MAX_COVARIANCE_FEATURES:
        raise ValueError(
            f"n_features={n_features}: PCA's moments are kept up to "
            f"MAX_COVARIANCE_FEATURES={MAX_COVARIANCE_FEATURES} features; pass the rows "
            "to start_from_pca instead."
        )
    moments = RowMoments(n_features)
    with _single_blas_thread():
        if _is_sparse(rows):
            offset, delta = _sparse_rows(rows)
            return moments.update(delta, offset)
        for chunk in _network_rows(rows, n_features):
            moments.update(chunk)
    return moments


def _last_layer(part):
    """The last submodule of ``part`` holding a weight (its output layer)."""
    last = None
    for layer in part.modules():
        if isinstance(getattr(layer, "weight", None), torch.nn.Parameter):
            last = layer
    return last


def start_from_pca(module, rows, n_features, n_components, *, logits=False):
    """Make ``module`` start as PCA of ``rows``.

    Adds a :class:`~skae._nn.PCAPath` holding PCA's axes and zeroes the last
    layer of the module's encoder and decoder (each of an ordered code's
    :class:`~skae._nn.NestedDecoders`): until training changes them,
    ``module.encode`` gives PCA's scores and ``module.decode`` PCA's
    reconstruction (for ``logits``, the logit of it clipped to the unit
    interval: a sigmoid output then reconstructs as PCA does, kept in [0,
    1]). Draws no random numbers: the network's other weights are those it
    would have without the start.

    Parameters
    ----------
    module : skae._nn.AutoencoderModule
        A built-in network (its encoder and decoder end in a layer with a
        weight).
    rows : TensorData, BlockData or RowMoments
        The rows in the network's units, read a chunk at a time (sparse rows
        from their CSR matrix, never densified); or their moments
        (:func:`row_moments`, combined with :meth:`RowMoments.combine`),
        where PCA needs no pass over the rows.
    n_features, n_components : int
    logits : bool, default=False
        The module's output goes through a sigmoid (``output_activation_ ==
        "sigmoid"``): the path decodes to logits.

    Returns
    -------
    explained_variance_ratio : ndarray of shape (n_components,)
    """
    if isinstance(rows, RowMoments):
        with _single_blas_thread():
            mean, components, ratio = rows.pca(n_components)
    elif _is_sparse(rows) and n_features <= MAX_COVARIANCE_FEATURES:
        mean, components, ratio = row_moments(rows, n_features).pca(n_components)
    elif _is_sparse(rows):
        mean, components, ratio = _sparse_pca(*_sparse_rows(rows, exact=False), n_components)
    else:
        mean, components, ratio = fit_pca(
            _network_rows(rows, n_features), len(rows), n_features, n_components
        )
    module.pca_path = PCAPath(n_features, n_components, logits=logits)
    with torch.no_grad():
        module.pca_path.components.copy_(torch.from_numpy(components))
        module.pca_path.mean.copy_(torch.from_numpy(mean))
        decoders = getattr(module.decoder, "decoders", [module.decoder])  # ordered: several
        for part in (module.encoder, *decoders):
            layer = _last_layer(part)
            layer.weight.zero_()
            if layer.bias is not None:
                layer.bias.zero_()
    return ratio


def attach(estimator, module, n_features):
    """Give a rebuilt module the PCA path its fitted estimator had (a model file).

    Files from before the PCA start lack ``pca_start_``: their network is
    rebuilt without the path, as it was.
    """
    if getattr(estimator, "pca_start_", None) is not None:
        logits = estimator.output_activation_ == "sigmoid"
        module.pca_path = PCAPath(n_features, estimator.n_components_, logits=logits)


def start_outcome(module, best_epoch):
    """``pca_start_`` of a fitted network: what its PCA start gave.

    Parameters
    ----------
    module : skae._nn.AutoencoderModule
        The fitted network (its ``pca_path`` is None without a start).
    best_epoch : int or None
        The estimator's ``best_epoch_`` (None: no rows were held out).

    Returns
    -------
    outcome : {"pca", "network", "start"} or None
        See :data:`PCA_START_ATTRIBUTES`.
    """
    if getattr(module, "pca_path", None) is None:
        return None
    if best_epoch is None:
        return "start"
    return "pca" if best_epoch == 0 else "network"
