"""One yardstick for every dimensionality reducer: the reconstruction error.

Each skae estimator's ``score`` is the natural quantity of its model (the
negative squared error, or the VAE's ELBO in nats), so scores of different
models are not on one scale. The functions here measure any fitted
transformer that has ``inverse_transform`` -- :class:`~sklearn.decomposition.PCA`,
:class:`~sklearn.decomposition.TruncatedSVD`, a
:class:`~sklearn.pipeline.Pipeline` of such steps, every skae estimator -- by
the same reconstruction error, so that one
:class:`~sklearn.model_selection.GridSearchCV` can compare them::

    GridSearchCV(
        Pipeline([("reduce", PCA())]),
        [{"reduce": [PCA(8)]}, {"reduce": [AutoencoderTransformer(8)]}],
        scoring=neg_mean_squared_reconstruction_error,
    )
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._batches import INFERENCE_BATCH_SIZE
from ._chunked import row_chunks

__all__ = ["neg_mean_squared_reconstruction_error", "reconstruction_error"]


def reconstruction_error(estimator, X, *, per_feature=False):
    """Mean squared reconstruction error of each sample, or of each of its values.

    ``mean((X - inverse_transform(transform(X))) ** 2)`` over each sample's
    values (or, with ``per_feature=True``, each value's squared error),
    computed chunk by chunk so that memory beyond the result stays that of a
    chunk (about 2**20 values, a whole number of a skae
    estimator's inference batches, as in its own ``score_samples``).

    Parameters
    ----------
    estimator : fitted transformer with ``transform`` and ``inverse_transform``
        PCA, a skae estimator, a Pipeline of such steps...
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
            or (n_samples, ...)
        Data in the estimator's input space (images in their own shape
        where the estimator takes them). A sparse matrix is densified one
        chunk of rows at a time.
    per_feature : bool, default=False
        False: the mean over each sample's values. True: the squared error
        of every value, to see which features make a sample odd (in the
        order of the flattened sample: pixels row-major, channels last).

    Returns
    -------
    errors : ndarray of shape (n_samples,) or (n_samples, n_values), dtype float64
        In the squared units of ``X``. For a skae estimator other than the
        variational autoencoder the mean is ``-estimator.score_samples(X)``.

    Raises
    ------
    TypeError
        If ``estimator`` has no ``inverse_transform``.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``X`` is empty, or as the estimator's ``transform`` raises.
    """
    if not hasattr(estimator, "inverse_transform"):
        raise TypeError(
            f"{type(estimator).__name__} has no inverse_transform, so its reconstruction "
            "error is not defined: use a transformer that can map codes back, such as "
            "PCA or a skae estimator."
        )
    check_is_fitted(estimator)
    if sp.issparse(X) and X.format not in ("csr", "csc"):
        X = X.tocsr()  # rows of COO, DIA, ... cannot be indexed
    elif not (sp.issparse(X) or hasattr(X, "__getitem__")):
        X = np.asarray(X)  # array-likes with __array__ only
    n_samples = _num_samples(X)
    if n_samples == 0:
        raise ValueError("X has 0 samples: the reconstruction error needs at least one.")
    shape = getattr(X, "shape", None)
    n_values = math.prod(shape[1:]) if shape is not None else np.size(X[0])
    errors = np.empty((n_samples, n_values) if per_feature else n_samples)
    for rows in row_chunks(n_samples, n_values, multiple=INFERENCE_BATCH_SIZE):
        chunk = _safe_indexing(X, rows)
        original = chunk.toarray() if sp.issparse(chunk) else chunk
        original = np.asarray(original, dtype=np.float64)
        restored = np.asarray(estimator.inverse_transform(estimator.transform(chunk)))
        difference = original.reshape(len(original), -1) - restored.reshape(len(original), -1)
        errors[rows] = difference**2 if per_feature else np.mean(difference**2, axis=1)
    return errors


def neg_mean_squared_reconstruction_error(estimator, X, y=None):
    """Scorer: minus the mean squared reconstruction error of ``X`` (higher is better).

    Usable as ``scoring=`` in :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_val_score` and the like, for any
    transformer with ``inverse_transform``: PCA and every skae estimator are
    ranked on the same scale (the variational autoencoder too, whose own
    ``score`` is an ELBO in nats).

    Parameters
    ----------
    estimator : fitted transformer with ``transform`` and ``inverse_transform``
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
            or (n_samples, ...)
    y : None
        Ignored; present for the scorer signature.

    Returns
    -------
    score : float
        ``-reconstruction_error(estimator, X).mean()``, in the squared units
        of ``X``.

    Raises
    ------
    TypeError, sklearn.exceptions.NotFittedError, ValueError
        As :func:`reconstruction_error`.
    """
    return -float(np.mean(reconstruction_error(estimator, X)))
