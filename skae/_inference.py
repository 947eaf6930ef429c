"""What a fitted autoencoder does with new data, chunk by chunk.

:class:`InferenceMixin` gives every skae estimator ``transform``,
``inverse_transform``, ``reconstruct``, ``score_samples`` and ``score``,
from its fitted state only (``net_``, the scaling ``mean_`` / ``scale_`` /
``output_activation_``, ``n_components_``, ``input_shape_``): the rows are
validated against the fit (:meth:`InferenceMixin._check_rows`), then
encoded and decoded a chunk of rows at a time (:func:`skae._chunked.map_chunks`),
so that the memory a method needs beyond its output is a few batches,
whatever the size of ``X``: an in-memory array, a sparse matrix densified
a chunk at a time, or data larger than memory read from disk.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _chunked
from ._batches import INFERENCE_BATCH_SIZE
from ._chunked import ChunkedRows, is_out_of_core, validate_chunked
from ._scaling import Scaling
from ._sparse_input import ACCEPT_SPARSE, SparseRows, sparse_rows
from ._validation import check_codes

__all__ = ["InferenceMixin"]

# With verbose >= 1, transform / inverse_transform / score_samples show a
# progress bar from this many rows on (a fraction of a second below it).
PROGRESS_MIN_ROWS = 10_000


class InferenceMixin(TransformerMixin):
    """``transform``, ``inverse_transform``, ``reconstruct``, ``score_samples``
    and ``score`` of a fitted skae estimator (see the module docstring).

    Also ``_validate_samples``, which ``fit`` uses to read its data. A
    :class:`~sklearn.base.TransformerMixin`, so that scikit-learn wraps the
    ``transform`` defined here for ``set_output``.
    """

    def _validate_samples(self, X, *, reset):
        """``X`` validated as 2-D rows (no copy of a float array), and the shape of
        one sample as given: ``(n_features,)`` for rows, ``(height, width)``...
        for images given in their own shape, flattened here in C order.

        Data larger than memory (a memmap, an h5py or zarr array: see
        :func:`skae._chunked.is_out_of_core`) comes back as a
        :class:`~skae._chunked.ChunkedRows` that validates its rows as they
        are read, chunk by chunk."""
        if is_out_of_core(X):
            return validate_chunked(self, X, reset=reset)
        if getattr(X, "ndim", 2) >= 3:
            X = np.asarray(X)
            sample_shape = tuple(int(v) for v in X.shape[1:])
            X = X.reshape(len(X), -1)
        else:
            sample_shape = None
        X = validate_data(
            self, X, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32], reset=reset
        )
        if sp.issparse(X):
            X = sparse_rows(X)
        return X, sample_shape or (X.shape[1],)

    def _check_rows(self, X):
        """Validate ``X`` against the fit: its rows, not yet normalised, and the
        shape of one of its samples (see :meth:`_validate_samples`).

        Raises
        ------
        ValueError
            If ``X`` comes as images of a shape this estimator was not fitted
            on.
        """
        check_is_fitted(self)
        X, sample_shape = self._validate_samples(X, reset=False)
        accepted = {(self.n_features_in_,), self._input_shape()}
        accepted |= self._architecture().sample_shapes(self)
        if sample_shape not in accepted:
            raise ValueError(
                f"X's samples have shape {sample_shape}, but {type(self).__name__} was "
                f"fitted on samples of shape {self._input_shape()}: pass samples of that "
                f"shape, or flat rows of n_features={self.n_features_in_} values."
            )
        return X, sample_shape

    def _input_shape(self):
        # Model files written before input_shape_ existed held flat rows.
        return getattr(self, "input_shape_", (self.n_features_in_,))

    def _network_input(self, X):
        """What :meth:`_train` trains on, from validated rows ``X``: ``X``
        normalised as one float32 array; for sparse ``X``, its rows
        densified and normalised one batch at a time
        (:class:`~skae._batches.SparseRowBatches`); None for data read by chunks
        (:func:`skae._training.training_data` reads it by blocks)."""
        if isinstance(X, ChunkedRows):
            return None
        if isinstance(X, SparseRows):
            return X.network_input(self._normalize)
        return self._normalize(X)

    def _normalize(self, X):
        """The network's input: ``(X - mean_) / scale_`` as a new C-ordered
        float32 array (computed in float32: no float64 temporaries)."""
        return Scaling.of(self).transform(X)

    def _by_chunks(self, fn, X, out, desc):
        """``out[rows] = fn(X[rows])`` for consecutive chunks of rows; returns ``out``.

        Each chunk holds a whole number of inference batches and about
        ``CHUNK_VALUES`` (2**20) values of input or output (the wider), so
        that the memory a method needs beyond its output is a few batches
        whatever the size of ``X``, and a row's result does not depend on the
        chunking. ``X`` may be a :class:`~skae._chunked.ChunkedRows`: each
        slice is then read from disk and validated. With ``verbose``
        and at least ``PROGRESS_MIN_ROWS`` rows, a tqdm bar counts the
        batches.
        """
        return _chunked.map_chunks(
            fn,
            X,
            out,
            multiple=INFERENCE_BATCH_SIZE,
            desc=f"{type(self).__name__} {desc}",
            progress=bool(self.verbose) and len(X) >= PROGRESS_MIN_ROWS,
        )

    def _encode(self, X_rows):
        """Codes of a few rows of ``X`` (user's units), a float32 host tensor."""
        return self.net_.apply_batched(
            self.net_.module_.encode, torch.from_numpy(self._normalize(X_rows))
        )

    def _decode(self, Z):
        """Decode a tensor of codes to rows in the units of ``X``, float64."""
        out = self.net_.apply_batched(self.net_.module_.decode, Z)
        return Scaling.of(self).inverse_transform(out)

    def transform(self, X):
        """Encode ``X`` into its code (latent representation).

        Rows are encoded chunk by chunk: the memory used beyond the output
        is a few batches, whatever the size of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame, memmap} of shape (n_samples, n_features) \
                or (n_samples, ...)
            Data with the same features as in ``fit``. A memmap, h5py
            ``Dataset``, zarr array or other array with ``shape``, ``dtype``
            and row slicing is read and validated chunk by chunk (about
            2**20 values at a time), never whole; a scipy.sparse matrix or
            array is densified chunk by chunk in the same way.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components), dtype float32
            The code: the bottleneck activations for each sample.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If called before ``fit``.
        ValueError
            If ``X`` holds NaN or infinity, is not 2-D, or has a number of
            features other than ``n_features_in_``.
        """
        return self._codes(self._check_rows(X)[0])

    def _codes(self, X):
        """``transform`` of validated rows."""
        Z = np.empty((len(X), self.n_components_), dtype=np.float32)
        return self._by_chunks(lambda rows: self._encode(rows).numpy(), X, Z, "encode")

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, ...), dtype float64
            The decoder's reconstruction, in the units of the training data,
            each sample in the shape ``fit`` was given (``input_shape_``):
            ``(n_samples, n_features)`` for rows.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If called before ``fit``.
        ValueError
            If ``X`` is not 2-D with ``n_components`` columns, or holds NaN
            or infinity.
        """
        Z = check_codes(self, X)
        out = np.empty((len(Z), self.n_features_in_), dtype=np.float64)

        def decode(codes):
            return self._decode(torch.from_numpy(np.array(codes, dtype=np.float32)))

        out = self._by_chunks(decode, Z, out, "decode")
        return out.reshape(len(Z), *self._input_shape())

    def reconstruct(self, X):
        """Encode and decode ``X``: ``inverse_transform(transform(X))``.

        For a denoising autoencoder this is the denoised ``X``. Computed
        chunk by chunk: the memory used beyond the output is a few batches.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame, memmap} of shape (n_samples, n_features) \
                or (n_samples, ...)
            A memmap, h5py or zarr array is read and validated chunk by
            chunk, as in :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of X's shape, dtype float64
            In the units of the training data, in the layout of ``X``: flat
            rows for rows, images for images.

        Raises
        ------
        sklearn.exceptions.NotFittedError, ValueError
            As :meth:`transform`.
        """
        X, sample_shape = self._check_rows(X)
        out = np.empty((len(X), self.n_features_in_), dtype=np.float64)
        out = self._by_chunks(lambda rows: self._decode(self._encode(rows)), X, out, "reconstruct")
        return out.reshape(len(X), *sample_shape)

    def score_samples(self, X):
        """Negative reconstruction error of each sample.

        The mean over features of the squared difference between a sample and
        its reconstruction, in the squared units of ``X``, with its sign
        flipped so that higher is better. Unusual samples reconstruct badly:
        the opposite of this is an anomaly score. Computed chunk by chunk:
        the memory used beyond the scores is a few batches.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame, memmap} of shape (n_samples, n_features) \
                or (n_samples, ...)
            As for :meth:`transform`.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
            ``-mean((X - reconstruct(X)) ** 2, axis=1)``.

        Raises
        ------
        sklearn.exceptions.NotFittedError, ValueError
            As :meth:`transform`: before ``fit``, or for an ``X`` that
            ``transform`` refuses.
        """
        X = self._check_rows(X)[0]

        def scores(rows):
            error = np.asarray(rows, dtype=np.float64) - self._decode(self._encode(rows))
            return -np.mean(error**2, axis=1)

        return self._by_chunks(scores, X, np.empty(len(X)), "score")

    def score(self, X, y=None):
        """Minus the mean squared reconstruction error of ``X`` (higher is better).

        The mean of :meth:`score_samples`, in the squared units of ``X``:
        lets :class:`~sklearn.model_selection.GridSearchCV` choose
        ``n_components`` and other parameters without labels. Equal to
        :func:`skae.metrics.neg_mean_squared_reconstruction_error`, which
        scores PCA and the variational autoencoder on the same scale.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
                or (n_samples, ...)
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``score_samples(X).mean()``, in the squared units of ``X``.
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        return self.n_components_
