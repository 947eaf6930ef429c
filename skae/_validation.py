"""Checks of a fitted estimator's inputs that more than one estimator makes."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["check_code_width", "check_codes"]


def check_code_width(estimator, n_features):
    """Refuse or warn of a code wider than the input, as the estimator's class says.

    ``estimator._overcomplete`` is ``"error"`` where such a code could copy
    its input (dense, convolutional), ``"warn"`` where it is allowed but
    unusual (the VAE's), ``"allow"`` where noise or a penalty keeps it from
    copying (denoising, sparse).

    Raises
    ------
    ValueError
        If ``n_components > n_features`` and the code could copy its input.
    """
    n_components = estimator.n_components
    if n_components <= n_features or estimator._overcomplete == "allow":
        return
    if estimator._overcomplete == "error":
        raise ValueError(
            f"n_components={n_components} must be at most the number of "
            f"features, n_features={n_features}: lower n_components."
        )
    warnings.warn(
        f"n_components={n_components} is more than n_features={n_features}: "
        f"an unusual {type(estimator).__name__}, whose extra code dimensions carry "
        "nothing. Lower n_components unless you mean it.",
        UserWarning,
        stacklevel=5,
    )


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
