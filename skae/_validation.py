"""Checks of a fitted estimator's inputs that more than one estimator makes."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["check_codes"]


def check_codes(estimator, X):
    """Codes for ``estimator.inverse_transform``, validated.

    Parameters
    ----------
    estimator : fitted estimator with ``n_components_``
    X : array-like of shape (n_samples, n_components_)

    Returns
    -------
    Z : ndarray of shape (n_samples, n_components_), dtype float32 or float64

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``X`` is not 2-D with ``n_components_`` columns, or holds NaN or
        infinity.
    """
    check_is_fitted(estimator)
    Z = check_array(X, dtype=[np.float64, np.float32])
    if Z.shape[1] != estimator.n_components_:
        raise ValueError(
            f"X has {Z.shape[1]} columns, but inverse_transform expects codes "
            f"with n_components_={estimator.n_components_} columns (the output of "
            "transform)."
        )
    return Z
