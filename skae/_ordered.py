"""Ordered codes: one fit for every bottleneck width.

With ``ordered=True`` an autoencoder is trained on the reconstructions of
each sample from its whole code and from its prefixes of 1, 2, 4, ... units
(:func:`nested_widths`), each decoded by a decoder of its own width
(:class:`skae._nn.NestedDecoders`), so that the first ``k`` units of its
code are a code of width ``k``, as PCA's first ``k`` components are.
This module holds the ``ordered`` parameter, the fitted
``explained_variance_ratio_`` (:class:`OrderedCodes`, a mixin of the
estimators that take the parameter) and :class:`CodePrefix`, the pipeline
step that keeps the first ``k`` units, so that a grid search over ``k``
refits only that step.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ._parameters import Attr, Param
from ._validation import check_codes

__all__ = ["CodePrefix"]

# explained_variance_ratio_ decodes every prefix of the codes of at most
# MAX_ROWS training rows, and of fewer for wide codes: at most
# MAX_DECODED_ROWS decodings in all, but never fewer than MIN_ROWS rows.
MAX_ROWS = 10_000
MIN_ROWS = 1_000
MAX_DECODED_ROWS = 400_000

ORDERED = Param(
    "ordered",
    False,
    ("boolean",),
    "bool",
    """If True, train an ordered code, whose first ``k`` units are a good
    code of width ``k`` (PCA's ordering, for a nonlinear code): a decoder
    for each width 1, 2, 4, ... below ``n_components``, then
    ``n_components - 1`` and the whole code, all trained on every batch
    (the Matryoshka objective, Kusupati et al. 2022), so that a fit at 32
    units takes about as long as separate fits at 2, 4, 8, 16 and 32 units
    together. Keep the first ``k`` columns of :meth:`transform` (or put
    :class:`~skae.CodePrefix` after the estimator) and read
    ``explained_variance_ratio_``; :meth:`inverse_transform` decodes a code
    whose units after the ``k``-th are zero by the decoder of that width.
    See :ref:`ordered-codes`.""",
)

EXPLAINED_VARIANCE_RATIO = Attr(
    "explained_variance_ratio_",
    "ndarray of shape (n_components,), dtype float64",
    """Only with ``ordered=True`` (absent otherwise), as PCA names it: entry
    ``k`` is the fraction of the training data's variance that the first
    ``k + 1`` code units reconstruct minus the fraction the first ``k``
    reconstruct (the first entry: the fraction unit 1 alone reconstructs).
    The fraction reconstructed by the first ``j`` units is ``1 - SSE_j /
    SST``: ``SSE_j`` the squared error of decoding the code with units
    after ``j`` set to zero, ``SST`` the squared deviation from the mean,
    both summed over rows and features in the units of ``X``. Its
    ``cumsum()`` is the reconstruction curve, at most 1; an entry may be
    slightly negative where a unit adds nothing. Computed after ``fit``
    (after each :meth:`partial_fit`, on its batch) on at most 10 000
    training rows (fewer for codes wider than 40 units: at most 400 000
    decodings, at least 1 000 rows), a subsample drawn from
    ``random_state``.""",
)


def nested_widths(n_components):
    """The prefix widths an ordered code has a decoder for: 1, 2, 4, ...
    below ``n_components`` (the nesting of Matryoshka representations,
    Kusupati et al. 2022), then ``n_components - 1``, so that the widths
    between the last power of two and the whole code have a decoder of
    their own and the whole code's decoder sees the whole code only. The
    whole code is not among them: the loss always decodes it as well
    (:class:`skae._losses.AutoencoderLoss`).

    Returns
    -------
    widths : tuple of int
    """
    widths = []
    width = 1
    while width < n_components:
        widths.append(width)
        width *= 2
    if n_components - 1 > (widths[-1] if widths else 0):
        widths.append(n_components - 1)
    return tuple(widths)


def nested_decoder_state(state, n_components):
    """The weights of an ordered model file in the layout of a decoder per width.

    Files written before ordered codes had a decoder per width (skae 0.2)
    hold one decoder (``decoder.*``), trained by nested dropout on every
    prefix: it becomes each width's decoder, so that the model decodes every
    prefix as it did, and a later ``partial_fit`` or ``warm_start`` trains
    each width's copy on its own. Other files are returned as they are.

    Parameters
    ----------
    state : dict of str to torch.Tensor
        The network's weights, as read from the file.
    n_components : int

    Returns
    -------
    state : dict of str to torch.Tensor
    """
    if any(key.startswith("decoder.decoders.") for key in state):
        return state
    upgraded = {key: value for key, value in state.items() if not key.startswith("decoder.")}
    n_decoders = len(nested_widths(n_components)) + 1
    for key, value in state.items():
        if key.startswith("decoder."):
            rest = key[len("decoder.") :]
            for index in range(n_decoders):
                upgraded[f"decoder.decoders.{index}.{rest}"] = value.clone()
    return upgraded


class OrderedCodes:
    """Mixin of the estimators that take ``ordered``: the prefix widths their
    network decodes in training and ``explained_variance_ratio_`` after it."""

    def _prefix_widths(self):
        if not self.ordered:
            return None
        return nested_widths(self.n_components)

    def _after_fit(self, X):
        super()._after_fit(X)
        if self.ordered:
            self.explained_variance_ratio_ = self._prefix_variance_ratio(X)

    def _prefix_variance_ratio(self, X):
        """``explained_variance_ratio_`` from the validated training rows ``X``.

        Chunk by chunk: beyond the result, the memory used is a few batches
        of rows and the per-row errors of each prefix (at most
        ``MAX_DECODED_ROWS`` values).
        """
        n_units = self.n_components
        n_rows = min(len(X), MAX_ROWS, max(MIN_ROWS, MAX_DECODED_ROWS // n_units))
        if n_rows < len(X):
            rng = check_random_state(self.random_state)
            X = X[np.sort(rng.choice(len(X), n_rows, replace=False))]
        else:  # all of at most MAX_ROWS rows (read by chunks for data on disk)
            X = np.asarray(X)
        mean = X.mean(axis=0, dtype=np.float64)

        def squared_errors(rows):
            """Per row: squared deviation from the mean, then the squared
            error of each prefix of its code (1 to n_units units)."""
            rows = np.asarray(rows, dtype=np.float64)
            codes = self._encode(rows)
            errors = np.empty((len(rows), n_units + 1))
            errors[:, 0] = np.sum((rows - mean) ** 2, axis=1)
            for width in range(1, n_units + 1):
                prefix = codes.clone()
                prefix[:, width:] = 0.0
                errors[:, width] = np.sum((rows - self._decode(prefix)) ** 2, axis=1)
            return errors

        totals = self._by_chunks(
            squared_errors, X, np.empty((len(X), n_units + 1)), "explained variance"
        ).sum(axis=0)
        if totals[0] <= 0.0:  # constant data: there is no variance to explain
            return np.zeros(n_units)
        return np.diff(1.0 - totals[1:] / totals[0], prepend=0.0)


class CodePrefix(TransformerMixin, BaseEstimator):
    """Keep the first ``n_components`` units of a code; pad zeros back on the way back.

    The pipeline step that makes one ordered autoencoder serve every code
    width. An autoencoder fitted with ``ordered=True`` (a Matryoshka
    representation, Kusupati et al. 2022, with a decoder per width) has
    codes whose first ``k`` units are a code of width ``k``: put this step
    after it, and a grid search over ``n_components`` here, with the
    pipeline's ``memory=`` set, fits the autoencoder once per fold and
    only this cheap step per candidate. :meth:`transform` returns the first
    ``n_components`` columns of ``X``; :meth:`inverse_transform` appends zero
    columns up to the width seen in ``fit``, which the ordered decoder reads
    as the prefix, so that ``Pipeline.inverse_transform`` and
    :func:`skae.metrics.neg_mean_squared_reconstruction_error` measure the
    reconstruction from ``n_components`` units.

    Any 2-D numeric array works: nothing here is specific to autoencoders
    (after :class:`~sklearn.decomposition.PCA` it selects the first
    components).

    Parameters
    ----------
    n_components : int or None, default=None
        Number of leading columns kept, at most the number of columns of
        the ``X`` given to ``fit``. None keeps them all.

    Attributes
    ----------
    n_components_ : int
        Number of columns kept.
    n_features_in_ : int
        Number of columns (code units) seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in,)
        Names of the columns seen in ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    AutoencoderTransformer : With ``ordered=True``, the code to truncate.
    sklearn.pipeline.Pipeline : Its ``memory=`` caches the fitted autoencoder.

    References
    ----------
    .. [1] O. Rippel, M. A. Gelbart and R. P. Adams, "Learning ordered
       representations with nested dropout", ICML 2014.
    .. [2] A. Kusupati et al., "Matryoshka representation learning",
       NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import CodePrefix
    >>> Z = np.arange(12.0).reshape(3, 4)
    >>> prefix = CodePrefix(n_components=2).fit(Z)
    >>> prefix.transform(Z)
    array([[0., 1.],
           [4., 5.],
           [8., 9.]])
    >>> prefix.inverse_transform(prefix.transform(Z))
    array([[0., 1., 0., 0.],
           [4., 5., 0., 0.],
           [8., 9., 0., 0.]])

    A grid search over the width that fits the autoencoder once per fold:

    >>> from tempfile import mkdtemp
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.metrics import neg_mean_squared_reconstruction_error
    >>> X = load_digits().data[:300] / 16.0
    >>> pipe = Pipeline(
    ...     [
    ...         ("ae", AutoencoderTransformer(8, ordered=True, max_epochs=3, random_state=0)),
    ...         ("prefix", CodePrefix()),
    ...     ],
    ...     memory=mkdtemp(),
    ... )
    >>> search = GridSearchCV(
    ...     pipe,
    ...     {"prefix__n_components": [2, 4, 8]},
    ...     scoring=neg_mean_squared_reconstruction_error,
    ...     cv=2,
    ... ).fit(X)
    >>> search.best_params_["prefix__n_components"] in (2, 4, 8)
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def __init__(self, n_components=None):
        self.n_components = n_components

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the code width and choose the number of leading units kept.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Codes, e.g. an ordered autoencoder's ``transform``.
        y : None
            Ignored.

        Returns
        -------
        self : CodePrefix

        Raises
        ------
        ValueError
            If ``X`` is not a non-empty 2-D numeric array without NaN or
            infinity, or if ``n_components`` exceeds its number of columns.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        if self.n_components is not None and self.n_components > X.shape[1]:
            raise ValueError(
                f"n_components={self.n_components} exceeds the {X.shape[1]} columns of X "
                "(the code width): keep at most as many units as the code has."
            )
        self.n_components_ = X.shape[1] if self.n_components is None else self.n_components
        return self

    def transform(self, X):
        """The first ``n_components_`` columns of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features_in)

        Returns
        -------
        X_prefix : ndarray of shape (n_samples, n_components)
            A copy, in ``X``'s dtype (float32 stays float32, other types
            become float64).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If called before ``fit``.
        ValueError
            If ``X`` holds NaN or infinity or has a number of columns
            other than ``n_features_in_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X[:, : self.n_components_].copy()

    def inverse_transform(self, X):
        """Pad codes of ``n_components_`` units with zeros to the width seen in ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)

        Returns
        -------
        X_padded : ndarray of shape (n_samples, n_features_in)
            ``X`` in the leading columns, zeros after, in ``X``'s dtype
            (float32 or float64).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If called before ``fit``.
        ValueError
            If ``X`` holds NaN or infinity or does not have
            ``n_components_`` columns.
        """
        X = check_codes(self, X)
        padded = np.zeros((len(X), self.n_features_in_), dtype=X.dtype)
        padded[:, : self.n_components_] = X
        return padded

    def get_feature_names_out(self, input_features=None):
        """Names of the kept columns: the first ``n_components_`` input names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; None uses ``feature_names_in_`` if set,
            else ``x0``, ``x1``, ...

        Returns
        -------
        feature_names_out : ndarray of str objects, shape (n_components,)
        """
        check_is_fitted(self)
        return _check_feature_names_in(self, input_features)[: self.n_components_]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
