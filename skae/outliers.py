"""Outlier detection by reconstruction error, the scikit-learn way.

An autoencoder fitted on normal data reconstructs normal rows well and odd
ones badly. :class:`AutoencoderOutlierDetector` turns any transformer with
``inverse_transform`` (every skae estimator, :class:`~sklearn.decomposition.PCA`,
a :class:`~sklearn.pipeline.Pipeline` ending in one) into an outlier
detector with the interface of scikit-learn's
(:class:`~sklearn.ensemble.IsolationForest`,
:class:`~sklearn.neighbors.LocalOutlierFactor`,
:class:`~sklearn.svm.OneClassSVM`): ``predict`` gives +1 for inliers and -1
for outliers, ``score_samples`` is higher for more normal rows, and
``decision_function = score_samples - offset_`` is negative for outliers.

:class:`skae.plotting.ReconstructionErrorDisplay` shows why a row is odd: the
row, its reconstruction, and the features (or pixels) where they differ most.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, OutlierMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from ._autoencoder import AutoencoderTransformer
from ._chunked import is_out_of_core
from .metrics import reconstruction_error

__all__ = ["AutoencoderOutlierDetector"]

# contamination="auto": rows whose score lies more than this many robust
# standard deviations (1.4826 x the median absolute deviation) beyond the
# training rows' median are outliers (Hampel's identifier), the reconstruction
# error taken to the power 1/3 first: a squared error summed over features is
# close to a scaled chi-squared variable, whose cube root is close to normal
# (Wilson and Hilferty 1931). 2.3 % of normal values lie 2 deviations above.
AUTO_THRESHOLD_SIGMAS = 2.0
# The default estimator's width: codes of this many components at most, and
# at most a quarter of the features (at least 1).
DEFAULT_MAX_COMPONENTS = 16


def default_n_components(n_features):
    """The default detector's code width for ``n_features`` input values:
    ``min(16, max(1, n_features // 4))``."""
    return min(DEFAULT_MAX_COMPONENTS, max(1, n_features // 4))


def _robust_cut(values, sigmas):
    """``median + sigmas * 1.4826 * MAD`` of ``values`` (float64)."""
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    return median + sigmas * 1.4826 * mad


def _estimator_has(name):
    """For ``available_if``: whether the (default) estimator has method ``name``."""

    def check(detector):
        estimator = getattr(detector, "estimator_", None)
        if estimator is None:
            estimator = detector._unfitted_estimator(1)
        return hasattr(estimator, name)

    return check


class AutoencoderOutlierDetector(OutlierMixin, MetaEstimatorMixin, BaseEstimator):
    """Outlier detection by an autoencoder's reconstruction error.

    Fits a clone of ``estimator`` on the training rows (normal data, or
    data with few outliers) and scores a row by how well it is
    reconstructed: ``score_samples(X)`` is minus the mean squared
    reconstruction error of each row, ``mean((x - inverse_transform(
    transform(x))) ** 2)`` (or the estimator's own ``score_samples``, such
    as a :class:`~skae.VariationalAutoencoder`'s ELBO, with
    ``anomaly_score="estimator"``). ``offset_`` is set from ``contamination`` as
    :class:`~sklearn.ensemble.IsolationForest` sets it, and ``predict``
    flags the rows whose score is below it. The reconstruction error as an
    anomaly score goes back to Japkowicz, Myers and Gluck, "A novelty
    detection approach to classification", IJCAI 1995, and Hawkins et al.,
    "Outlier detection using replicator neural networks", DaWaK 2002.

    Parameters
    ----------
    estimator : estimator with fit, transform and inverse_transform, default=None
        Any transformer that maps codes back to the input space: a skae
        estimator, :class:`~sklearn.decomposition.PCA`, a Pipeline ending
        in one. Cloned at ``fit``. None means ``AutoencoderTransformer(
        n_components=min(16, max(1, n_features // 4)),
        random_state=random_state)``, all else at its defaults (user guide,
        "Outlier detection", says how it was chosen).
    contamination : "auto" or float in (0, 0.5], default="auto"
        The share of outliers expected in the training rows: ``offset_``
        is that percentile of their scores, so ``predict`` flags that share
        of them. "auto" flags the rows whose reconstruction error lies more
        than 2 robust standard deviations (1.4826 times the median absolute
        deviation) above the training rows' median, Hampel's identifier on
        the cube root of the error (Wilson and Hilferty's transform, which
        makes a chi-squared-like error close to normal), or on the score
        itself for ``anomaly_score="estimator"``: no share is assumed, and
        about 2 % of rows are flagged where the transformed errors are
        normal, more where their tail is heavier.
    anomaly_score : {"reconstruction_error", "estimator"}, default="reconstruction_error"
        What ``score_samples`` returns. "reconstruction_error": minus each
        row's mean squared reconstruction error, in the squared units of
        ``X``, for any estimator. "estimator": the estimator's own
        ``score_samples`` -- the ELBO in nats for a
        :class:`~skae.VariationalAutoencoder`, the probabilistic PCA
        log-likelihood for :class:`~sklearn.decomposition.PCA`.
    random_state : int, RandomState instance or None, default=None
        Seeds the default estimator (``estimator=None``); an estimator you
        pass keeps its own ``random_state``.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator`` (or the default).
    offset_ : float
        The threshold on ``score_samples``: ``decision_function(X) =
        score_samples(X) - offset_``, negative for outliers.
    n_features_in_ : int
        Number of features seen during ``fit`` (values per row for images).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, where ``X`` had string
        column names.

    See Also
    --------
    skae.plotting.ReconstructionErrorDisplay : Where a row and its reconstruction differ.
    skae.metrics.reconstruction_error : The score, for any transformer.
    sklearn.ensemble.IsolationForest : A detector by random partitions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skae import AutoencoderOutlierDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 10))  # rank 4
    >>> det = AutoencoderOutlierDetector(PCA(4), contamination=0.05).fit(X)
    >>> int((det.predict(X) == -1).sum())  # 5 % of the 300 training rows
    15
    >>> odd = X[:3] + 5 * rng.normal(size=(3, 10))  # off the data's subspace
    >>> det.predict(odd)
    array([-1, -1, -1])
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "transform", "inverse_transform"]), None],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "anomaly_score": [StrOptions({"reconstruction_error", "estimator"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        # Annotated: from the default alone, type checkers infer str and
        # refuse a float (pyright: contamination=0.05 is an error).
        contamination: float | str = "auto",
        anomaly_score="reconstruction_error",
        random_state=None,
    ):
        self.estimator = estimator
        self.contamination = contamination
        self.anomaly_score = anomaly_score
        self.random_state = random_state

    # ------------------------------------------------------------- fitting
    def _unfitted_estimator(self, n_features):
        """A clone of ``estimator``, or the default for ``n_features`` values a row."""
        if self.estimator is not None:
            return clone(self.estimator)
        return AutoencoderTransformer(
            default_n_components(n_features), random_state=self.random_state
        )

    def _check_features(self, X, *, reset):
        """Number of features and feature names against the fit, with
        scikit-learn's messages, for 2-D in-memory ``X`` (images and data
        read by chunks are checked by the estimator)."""
        if is_out_of_core(X) or getattr(X, "ndim", 2) != 2:
            return
        validate_data(self, X, reset=reset, skip_check_array=True)

    def _n_values(self, X):
        """Values in one row of ``X`` (an image's pixels times channels)."""
        shape = getattr(X, "shape", None)
        return math.prod((np.asarray(X).shape if shape is None else shape)[1:])

    def _set_offset(self, X):
        scores = self.score_samples(X)
        if self.contamination != "auto":
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        elif self.anomaly_score == "reconstruction_error":
            root = np.cbrt(-scores)
            self.offset_ = -(float(_robust_cut(root, AUTO_THRESHOLD_SIGMAS)) ** 3)
        else:
            self.offset_ = -_robust_cut(-scores, AUTO_THRESHOLD_SIGMAS)

    def _after_fit(self, X):
        """Features seen, taken from the estimator where ``X`` is not a 2-D
        array, then ``offset_`` from the training rows' scores."""
        if not hasattr(self, "n_features_in_") and hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        self._set_offset(X)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the estimator on ``X`` and set ``offset_`` from its rows' scores.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
                or (n_samples, ...)
            Training rows, mostly normal; images in their own shape or data
            larger than memory where the estimator takes them.
        y : None
            Ignored.

        Returns
        -------
        self : AutoencoderOutlierDetector

        Raises
        ------
        ValueError
            If a parameter is invalid, if ``X`` has fewer than 2 rows (a
            threshold needs more than one score), or as the estimator's
            ``fit`` raises (NaN, strings, an empty ``X``).
        """
        for name in ("n_features_in_", "feature_names_in_"):
            self.__dict__.pop(name, None)
        if hasattr(X, "shape") and _num_samples(X) < 2:
            raise ValueError(
                f"n_samples={_num_samples(X)}: fit needs at least 2 rows (as PCA does); "
                "pass more samples."
            )
        self._check_features(X, reset=True)
        self.estimator_ = self._unfitted_estimator(self._n_values(X)).fit(X)
        self._after_fit(X)
        return self

    @available_if(_estimator_has("partial_fit"))
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y=None):
        """Train the estimator on one more batch; ``offset_`` from this batch's scores.

        Only where the estimator has ``partial_fit`` (every skae estimator,
        the default). The first call clones the estimator; ``offset_`` is
        set from the scores of the latest batch under the updated model.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
                or (n_samples, ...)
            One batch of training rows.
        y : None
            Ignored.

        Returns
        -------
        self : AutoencoderOutlierDetector

        Raises
        ------
        ValueError
            As :meth:`fit`, and if the batch's features differ from the
            first batch's.
        """
        first = not hasattr(self, "estimator_")
        self._check_features(X, reset=first)
        if first:
            self.estimator_ = self._unfitted_estimator(self._n_values(X))
        self.estimator_.partial_fit(X)
        self._after_fit(X)
        return self

    # ------------------------------------------------------------- scoring
    def score_samples(self, X):
        """How normal each row is (higher: more normal).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
                or (n_samples, ...)
            Rows like the training rows.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
            With ``anomaly_score="reconstruction_error"``, minus each row's mean
            squared reconstruction error, in the squared units of ``X``
            (computed a chunk of rows at a time); with
            ``anomaly_score="estimator"``, the estimator's ``score_samples``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the detector is not fitted.
        ValueError
            If ``X`` has other features than the training rows, or as the
            estimator's ``transform`` raises.
        """
        check_is_fitted(self)
        self._check_features(X, reset=False)
        if self.anomaly_score == "estimator":
            return np.asarray(self.estimator_.score_samples(X), dtype=np.float64)
        return -reconstruction_error(self.estimator_, X)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
                or (n_samples, ...)

        Returns
        -------
        decision : ndarray of shape (n_samples,), dtype float64

        Raises
        ------
        sklearn.exceptions.NotFittedError, ValueError
            As :meth:`score_samples`.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers (``decision_function(X) < 0``).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
                or (n_samples, ...)

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int

        Raises
        ------
        sklearn.exceptions.NotFittedError, ValueError
            As :meth:`score_samples`.
        """
        labels = np.ones(_num_samples(X), dtype=int)
        labels[self.decision_function(X) < 0] = -1
        return labels

    def reconstruction_error(self, X, *, per_feature=False):
        """Squared reconstruction error of each row, or of each of its values.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
                or (n_samples, ...)
        per_feature : bool, default=False
            False: the mean over each row's values. True: every value's
            squared error, to see which features make a row odd (in the
            order of the flattened row: pixels row-major, channels last).

        Returns
        -------
        errors : ndarray of shape (n_samples,) or (n_samples, n_features), dtype float64
            In the squared units of ``X``.

        Raises
        ------
        sklearn.exceptions.NotFittedError, ValueError
            As :meth:`score_samples`.
        """
        check_is_fitted(self)
        self._check_features(X, reset=False)
        return reconstruction_error(self.estimator_, X, per_feature=per_feature)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self._unfitted_estimator(1).__sklearn_tags__()
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.non_deterministic = inner.non_deterministic
        return tags
