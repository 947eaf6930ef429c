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
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MetaEstimatorMixin, OutlierMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.neighbors import LocalOutlierFactor
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _get_feature_names,
    _num_features,
    _num_samples,
    check_is_fitted,
    validate_data,
)

from ._autoencoder import AutoencoderTransformer
from ._chunked import is_out_of_core, take_rows
from ._io import register_trusted_class
from .metrics import reconstruction_error

__all__ = ["AutoencoderOutlierDetector"]

# contamination="auto": rows whose score lies more than this many robust
# standard deviations (1.4826 x the median absolute deviation) beyond the
# held-out rows' median are outliers (Hampel's identifier), the reconstruction
# error taken to the power 1/3 first: a squared error summed over features is
# close to a scaled chi-squared variable, whose cube root is close to normal
# (Wilson and Hilferty 1931). 2.3 % of normal values lie 2 deviations above.
AUTO_THRESHOLD_SIGMAS = 2.0
# The default estimator's width: codes of this many components at most, and
# at most a quarter of the features (at least 1).
DEFAULT_MAX_COMPONENTS = 16
# Cross-fitting: the rows are cut into this many folds (fewer for fewer than
# 2 * CV_FOLDS rows), each scored by a model fitted without it. Five folds fit
# each fold model on 80 % of the rows, close to the final model's data.
CV_FOLDS = 5
# Fold models are fitted only until this many rows (or all, if fewer) are
# held out, and partial_fit keeps this many of the latest held-out scores.
# offset_ is a percentile of m held-out scores; the share of new rows it flags
# has standard error sqrt(c * (1 - c) / m): 0.003 at c = 0.01 for m = 1000,
# 0.007 at c = 0.05, inside the +-0.01 to 0.02 a user notices. More rows
# would cost more fold fits for little: a 6 000-row class takes one fit (its
# one fold's model is the model: split conformal, from CV_FOLDS *
# HELD_OUT_ROWS rows on), a 300-row table 5 fold fits and the final fit (the
# detector's time against LocalOutlierFactor's: benchmarks/bench_outliers.py,
# on the benchmarks page).
HELD_OUT_ROWS = 1000


# The default estimator's training budget: about this many mini-batch updates
# (``max_epochs = DEFAULT_STEPS / batches an epoch``, 10 to 200 epochs), so
# that a detector's fits (the folds' and the final one) take seconds to a
# minute: a 6 000-image MNIST class gets 43 epochs, a table of a few hundred
# rows 200 (the cap, as AutoencoderTransformer's own "auto").
DEFAULT_STEPS = 2000
DEFAULT_EPOCHS = (10, 200)
# anomaly_score="reconstruction_and_code": neighbours of a code among the
# training rows' codes for its local outlier factor (LocalOutlierFactor's
# default).
CODE_NEIGHBORS = 20


def default_max_epochs(n_samples, batch_size=128):
    """The default estimator's ``max_epochs`` for ``n_samples`` training rows:
    ``DEFAULT_STEPS`` mini-batch updates, as 10 to 200 epochs."""
    n_batches = math.ceil(n_samples / batch_size)
    return int(np.clip(math.ceil(DEFAULT_STEPS / n_batches), *DEFAULT_EPOCHS))


def default_n_components(n_features):
    """The default detector's code width for ``n_features`` input values:
    ``min(16, max(1, n_features // 4))``."""
    return min(DEFAULT_MAX_COMPONENTS, max(1, n_features // 4))


def _robust_cut(values, sigmas):
    """``median + sigmas * 1.4826 * MAD`` of ``values`` (float64)."""
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    return median + sigmas * 1.4826 * mad


def n_folds(n_samples):
    """Folds for cross-fitting ``n_samples`` rows: ``CV_FOLDS`` from
    ``2 * CV_FOLDS`` rows on; ``n_samples // 2`` (at least 2 rows a fold)
    for 4 to 9 rows; 3 (one row a fold, each model fitted on 2) for 3 rows;
    0 (nothing held out: the rows' in-sample scores) for 2 rows."""
    if n_samples >= 2 * CV_FOLDS:
        return CV_FOLDS
    if n_samples >= 4:
        return n_samples // 2
    return 3 if n_samples == 3 else 0


class CodeDensity:
    """The code's part of ``anomaly_score="reconstruction_and_code"``, fitted
    with one model on its training rows.

    A row's anomaly is the sum of two robust z-scores over the training rows:
    the cube root of its reconstruction error (how far it lies off the
    surface the decoder spans) and the local outlier factor of its code
    among the training rows' codes (how sparse its neighbourhood on that
    surface is; Breunig et al. 2000). Each part is centred on the training
    rows' median and scaled by 1.4826 times their median absolute deviation.
    A reconstruction error alone misses rows that the model reconstructs
    well but that lie where no training row does; the two parts are the
    off-surface and on-surface terms of a density model on the code, as in
    probabilistic PCA's likelihood (Tipping and Bishop 1999).

    Parameters
    ----------
    estimator : fitted transformer with transform and inverse_transform
    X : the rows ``estimator`` was fitted on

    Attributes
    ----------
    lof : LocalOutlierFactor
        Fitted with ``novelty=True`` on the training rows' codes.
    centre, scale : ndarray of shape (2,), dtype float64
        Median and robust scale of the training rows' two parts (cube-root
        error, local outlier factor).
    """

    def __init__(self, estimator, X):
        codes = _codes(estimator, X)
        n_neighbors = max(1, min(CODE_NEIGHBORS, len(codes) - 1))
        # Brute force: nothing but the codes is kept (a model file holds no
        # tree, which skops would not trust), at a cost of n_samples**2
        # distances, computed by scikit-learn a chunk at a time.
        lof = LocalOutlierFactor(n_neighbors=n_neighbors, algorithm="brute", novelty=True)
        self.lof = lof.fit(codes)
        parts = np.column_stack(
            [np.cbrt(reconstruction_error(estimator, X)), -self.lof.negative_outlier_factor_]
        )
        self.centre = np.median(parts, axis=0)
        spread = 1.4826 * np.median(np.abs(parts - self.centre), axis=0)
        # A part constant over the training rows (a perfect fit) counts in
        # its own units rather than dividing by zero.
        self.scale = np.where(spread > 0, spread, 1.0)

    def scores(self, estimator, X):
        """Minus the sum of the two z-scores of each row of ``X`` (higher:
        more normal), as an ndarray of shape (n_samples,), dtype float64."""
        parts = np.column_stack(
            [
                np.cbrt(reconstruction_error(estimator, X)),
                -self.lof.score_samples(_codes(estimator, X)),
            ]
        )
        return -np.sum((parts - self.centre) / self.scale, axis=1)


def _codes(estimator, X):
    """``estimator.transform(X)`` as a 2-D float64 array."""
    codes = np.asarray(estimator.transform(X), dtype=np.float64)
    return codes.reshape(len(codes), -1)


def _estimator_has(name):
    """For ``available_if``: whether the (default) estimator has method ``name``."""

    def check(detector):
        estimator = getattr(detector, "estimator_", None)
        if estimator is None:
            estimator = detector.estimator
        if estimator is None:
            return hasattr(AutoencoderTransformer, name)
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
    ``anomaly_score="estimator"``). The reconstruction error as an anomaly
    score goes back to Japkowicz, Myers and Gluck [1]_ and Hawkins et al.
    [2]_.

    The threshold ``offset_`` is set from rows the model did not fit, so
    that ``contamination=c`` flags about ``c`` of *new* normal rows: a
    model reconstructs its own training rows better than new ones, and a
    percentile of their in-sample scores flags far more than ``c`` of new
    rows (27 % instead of 5 % on the digits). ``fit`` cross-fits [3]_ [4]_:
    the rows are cut into 5 folds (``KFold(shuffle=True)``, seeded by
    ``random_state``), each fold is scored by a clone of ``estimator``
    fitted without it, and ``offset_`` is the ``contamination`` percentile
    of these held-out scores; ``estimator_``, the model that scores new
    rows, is then fitted on all the rows. Fold models are fitted only until
    1 000 rows (or all rows, if fewer) are held out, since a percentile of
    1 000 scores is already precise (standard error 0.003 at ``c=0.01``).
    From 5 000 rows on, one fold holds out that many: its model, fitted on
    the other 80 % of the rows, is ``estimator_`` (split conformal [4]_),
    so the held-out rows are scored exactly as new rows are, for one fit.

    Parameters
    ----------
    estimator : estimator with fit, transform and inverse_transform, default=None
        Any transformer that maps codes back to the input space: a skae
        estimator, :class:`~sklearn.decomposition.PCA`, a Pipeline ending
        in one. Cloned at ``fit`` (once for the final model, once for each
        fold). None means ``AutoencoderTransformer(
        n_components=min(16, max(1, n_features // 4)), max_epochs=...)``
        with ``max_epochs`` about 2 000 mini-batch updates (10 to 200
        epochs: 43 for a 6 000-row MNIST class, 200 for a few hundred rows),
        seeded by ``random_state``, all else at its defaults (user guide,
        "Outlier detection", says how it was chosen).
    contamination : "auto" or float in (0, 0.5], default="auto"
        The share of outliers expected: ``offset_`` is that percentile of
        the held-out scores, so ``predict`` flags about that share of new
        rows drawn as the training rows were (and ``fit_predict`` that share
        of the training rows). "auto" flags the rows whose reconstruction
        error lies more than 2 robust standard deviations (1.4826 times the
        median absolute deviation) above the held-out rows' median,
        Hampel's identifier on the cube root of the error (Wilson and
        Hilferty's transform, which makes a chi-squared-like error close to
        normal), or on the score itself for the other ``anomaly_score``:
        no share is assumed; about 2 % of new normal rows are flagged where
        the transformed errors are normal, more where their tail is heavier.
    anomaly_score : {"reconstruction_error", "reconstruction_and_code", "estimator"}, \
            default="reconstruction_error"
        What ``score_samples`` returns. "reconstruction_error": minus each
        row's mean squared reconstruction error, in the squared units of
        ``X``, for any estimator. "reconstruction_and_code": minus the sum
        of two robust z-scores, the cube root of the reconstruction error
        and the local outlier factor of the row's code among the training
        rows' codes (:class:`CodeDensity`; not with ``partial_fit``): it
        also flags rows the model reconstructs well but whose code lies
        where no training row's does; on MNIST's one-class protocol it
        ranks outliers better than the error alone, on a small table (wine)
        worse (user guide, "Outlier detection"). "estimator": the estimator's own
        ``score_samples`` -- the ELBO in nats for a
        :class:`~skae.VariationalAutoencoder`, the probabilistic PCA
        log-likelihood for :class:`~sklearn.decomposition.PCA`; an estimator
        without ``score_samples`` is a ``ValueError`` at ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds' shuffle and every parameter named ``random_state``
        (or ending in ``__random_state``, in a Pipeline) of the estimator's
        clones that is None -- the default estimator's, or one you pass
        without a seed; a seed you set is kept. An int is passed on as it
        is; a RandomState instance gives one int drawn at each ``fit``.

    Attributes
    ----------
    estimator_ : estimator
        The clone of ``estimator`` (or the default) fitted on all the rows
        (from 5 000 rows on, and for ``fit`` only: on the 80 % of them the
        first fold did not hold out): the model behind ``score_samples``, ``decision_function`` and
        ``predict``.
    offset_ : float
        The threshold on ``score_samples``: ``decision_function(X) =
        score_samples(X) - offset_``, negative for outliers. After ``fit``,
        computed from ``held_out_scores_`` (its values that are not NaN).
    held_out_scores_ : ndarray of shape (n_samples,) or (n_held_out,), dtype float64
        After ``fit``: each training row's score under the fold model
        fitted without it, in the rows' order, as
        :class:`~sklearn.neighbors.LocalOutlierFactor` keeps
        ``negative_outlier_factor_``; NaN for the rows no fold held out
        (beyond 1 000 held out, ``fit`` fits no more folds; ``fit_predict``
        holds out every row). After ``partial_fit``: the scores of the
        latest rows (at most 1 000) under the model before it was trained
        on them, from which ``offset_`` is set.
    code_density_ : CodeDensity or None
        With ``anomaly_score="reconstruction_and_code"``, the code's part of
        the score, fitted with ``estimator_`` on the training rows; None
        otherwise.
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
    sklearn.neighbors.LocalOutlierFactor : A detector by local density
        (``novelty=True`` for new rows).
    sklearn.svm.OneClassSVM : A detector by a kernel's support of the data.

    Notes
    -----
    **Cost.** ``fit`` fits the estimator ``min(5, ceil(1000 / (n / 5)))``
    times on about 80 % of the ``n`` rows (the fold models) and, below
    5 000 rows, once on all of them: 6 fits in all up to 1 000 rows, 4 for
    2 000, 1 from 5 000 on.
    ``fit_predict`` fits all 5 folds, so 6 fits at any size. Rows of arrays,
    sparse matrices and DataFrames are copied for each fold fit; rows of
    data larger than memory (a memmap, an h5py ``Dataset``) are read a chunk
    at a time, as for the final fit (the folds' indices and
    ``held_out_scores_`` take 8 bytes a row). With fewer than 10 rows there are
    fewer folds (``n // 2``, at least 2 rows each; 3 rows: one each); 2
    rows are too few to hold any out, and ``offset_`` is set from their
    in-sample scores.

    The held-out scores come from models fitted on 80 % of the rows, a
    little less accurate than ``estimator_``; the share flagged on new rows
    is therefore, if anything, a little below ``contamination``. This is
    cross-conformal calibration [3]_, the threshold a conformal p-value at
    level ``contamination`` [4]_ would set.

    References
    ----------
    .. [1] N. Japkowicz, C. Myers and M. Gluck, "A novelty detection
       approach to classification", IJCAI 1995.
    .. [2] S. Hawkins, H. He, G. Williams and R. Baxter, "Outlier detection
       using replicator neural networks", DaWaK 2002.
    .. [3] V. Vovk, "Cross-conformal predictors", Annals of Mathematics and
       Artificial Intelligence 74, 9-28, 2015.
    .. [4] S. Bates, E. Candes, L. Lei, Y. Romano and M. Sesia, "Testing for
       outliers with conformal p-values", Annals of Statistics 51(1),
       149-178, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skae import AutoencoderOutlierDetector
    >>> rng = np.random.default_rng(0)
    >>> basis = rng.normal(size=(4, 10))
    >>> def draw(n):  # rows near a 4-dimensional subspace
    ...     return rng.normal(size=(n, 4)) @ basis + 0.1 * rng.normal(size=(n, 10))
    >>> X = draw(300)
    >>> det = AutoencoderOutlierDetector(PCA(4), contamination=0.05, random_state=0)
    >>> int((det.fit_predict(X) == -1).sum())  # 5 % of the 300 training rows
    15
    >>> round(float(np.mean(det.predict(draw(10_000)) == -1)), 2)  # new normal rows
    0.06
    >>> odd = X[:3] + 5 * rng.normal(size=(3, 10))  # off the data's subspace
    >>> det.predict(odd)
    array([-1, -1, -1])
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "transform", "inverse_transform"]), None],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "anomaly_score": [
            StrOptions({"reconstruction_error", "reconstruction_and_code", "estimator"})
        ],
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

    def __init_subclass__(cls, **kwargs):
        # skae.load builds the detector (and a subclass of it defined in the
        # running program) inside a model file's skops skeleton.
        super().__init_subclass__(**kwargs)
        register_trusted_class(cls)

    # ------------------------------------------------------------- fitting
    def _seed(self):
        """The seed passed on at this fit: the int given, one int drawn from
        a RandomState given, or None."""
        if self.random_state is None or isinstance(self.random_state, Integral):
            return self.random_state
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _unfitted_estimator(self, n_values, seed, n_samples=None):
        """A clone of ``estimator`` (or the default for ``n_samples`` rows of
        ``n_values`` values) whose ``random_state`` parameters that are None
        are ``seed``.

        Only parameters that are None are set (BaggingClassifier's
        ``_set_random_states`` sets them all): a seed the user chose stays.
        """
        if self.estimator is None:
            estimator = AutoencoderTransformer(default_n_components(n_values))
            if n_samples is not None:
                estimator.set_params(max_epochs=default_max_epochs(n_samples))
        else:
            estimator = clone(self.estimator)
        if seed is not None:
            estimator.set_params(
                **{
                    name: seed
                    for name, value in estimator.get_params(deep=True).items()
                    if value is None and (name == "random_state" or name.endswith("__random_state"))
                }
            )
        if self.anomaly_score == "estimator" and not hasattr(estimator, "score_samples"):
            raise ValueError(
                "anomaly_score='estimator' scores rows by the estimator's score_samples, "
                f"which {type(estimator).__name__} does not have: pass "
                "anomaly_score='reconstruction_error' (the default, for any estimator "
                "with inverse_transform), or an estimator with score_samples (a skae "
                "estimator, PCA)."
            )
        return estimator

    def _fit_clone(self, template, X):
        """A clone of ``template`` fitted on ``X``. The default estimator stops
        at the budget the detector chose for it (``default_max_epochs``), by
        design: its "reached max_epochs" ConvergenceWarning is not shown; an
        estimator you pass warns as it does on its own."""
        with warnings.catch_warnings():
            if self.estimator is None:
                warnings.filterwarnings(
                    "ignore", message=".*reached max_epochs", category=ConvergenceWarning
                )
            return clone(template).fit(X)

    def _check_features(self, X, *, reset):
        """Number of features and feature names against the fit, with
        scikit-learn's messages, for 2-D in-memory ``X`` (images and data
        read by chunks are checked by the estimator)."""
        if is_out_of_core(X) or getattr(X, "ndim", 2) != 2:
            return
        validate_data(self, X, reset=reset, skip_check_array=True)

    @staticmethod
    def _features(X):
        """``(n_features_in_, feature_names_in_)`` of 2-D in-memory ``X``, as
        ``validate_data(reset=True)`` would set them, without setting them:
        None for what ``X`` does not give (images, data read by chunks: the
        estimator's ``n_features_in_`` is taken after its fit)."""
        if is_out_of_core(X) or getattr(X, "ndim", 2) != 2:
            return None, None
        names = _get_feature_names(X)
        try:
            return _num_features(X), names
        except TypeError:
            return None, names

    @staticmethod
    def _n_values(X):
        """Values in one row of ``X`` (an image's pixels times channels)."""
        shape = getattr(X, "shape", None)
        return math.prod((np.asarray(X).shape if shape is None else shape)[1:])

    def _offset(self, scores):
        """``offset_`` from held-out ``scores``: their ``contamination``
        percentile, or for "auto" Hampel's identifier."""
        if self.contamination != "auto":
            return float(np.percentile(scores, 100.0 * self.contamination))
        if self.anomaly_score == "reconstruction_error":
            # The other scores are already sums of robust z-scores (the code's)
            # or log-likelihoods (the estimator's): Hampel's rule on them.
            root = np.cbrt(-scores)
            return -(float(_robust_cut(root, AUTO_THRESHOLD_SIGMAS)) ** 3)
        return -_robust_cut(-scores, AUTO_THRESHOLD_SIGMAS)

    def _cross_fit(self, template, X, n_samples, seed, *, every_row):
        """Held-out scores of the rows of ``X`` and the first fold's model.

        Each fold is scored by a clone of ``template`` fitted on the other
        folds; folds are fitted until ``HELD_OUT_ROWS`` rows (or all of them)
        are held out, every fold with ``every_row``.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
            NaN where no fold held the row out.
        first : tuple (estimator, CodeDensity or None) or None
            The first fold's fitted model and its code density; None where
            no fold was fitted (2 rows).
        """
        scores = np.full(n_samples, np.nan)
        k = n_folds(n_samples)
        first = None
        if k < 2:
            return scores, first
        wanted = n_samples if every_row else min(n_samples, HELD_OUT_ROWS)
        held = 0
        folds = KFold(n_splits=k, shuffle=True, random_state=seed)
        for train, test in folds.split(np.empty((n_samples, 0))):
            test = np.sort(test)
            rows = take_rows(X, train)
            model = self._fit_clone(template, rows)
            density = self._density(model, rows)
            scores[test] = self._scores(model, take_rows(X, test), density)
            first = first or (model, density)
            held += len(test)
            if held >= wanted:
                break
        return scores, first

    def _fit(self, X, *, every_row):
        """Fit ``estimator_`` and set ``offset_`` from cross-fitted scores.

        Everything is computed into locals and assigned at the end, so that
        a fit that raises leaves the previous fitted state whole.
        """
        n_features, names = self._features(X)
        seed = self._seed()
        if hasattr(X, "shape") and _num_samples(X) < 2:
            raise ValueError(
                f"n_samples={_num_samples(X)}: fit needs at least 2 rows (as PCA does); "
                "pass more samples."
            )
        if sp.issparse(X):
            X = X.tocsr()  # rows by index; no copy of a CSR matrix
        elif not hasattr(X, "__getitem__"):
            X = np.asarray(X)  # an array-like known only by __array__
        n_samples = _num_samples(X)
        template = self._unfitted_estimator(self._n_values(X), seed, n_samples)
        if not every_row and n_samples >= CV_FOLDS * HELD_OUT_ROWS:
            # One fold holds out enough rows: its model is the model, and
            # offset_ comes from rows it never saw, exactly as new rows would
            # be scored (split conformal), for one fit.
            held_out, (estimator, density) = self._cross_fit(
                template, X, n_samples, seed, every_row=False
            )
        else:
            # The final model first: its fit validates X, so bad data fails
            # before any fold is fitted.
            estimator = self._fit_clone(template, X)
            density = self._density(estimator, X)
            held_out = self._cross_fit(template, X, n_samples, seed, every_row=every_row)[0]
        finite = held_out[~np.isnan(held_out)]
        offset = self._offset(finite if len(finite) else self._scores(estimator, X, density))

        if n_features is None:
            n_features = getattr(estimator, "n_features_in_", None)
        for name, value in (("n_features_in_", n_features), ("feature_names_in_", names)):
            if value is None:
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, value)
        self.estimator_ = estimator
        self.code_density_ = density
        self.held_out_scores_ = held_out
        self.offset_ = offset
        return X

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the estimator on ``X``; ``offset_`` from cross-fitted scores.

        ``estimator_`` is fitted on all the rows (from 5 000 rows on, on the
        80 % the one fold fitted did not hold out); ``offset_`` from the
        scores of rows held out of fold models (class docstring). Costs
        ``1 + min(5, ceil(1000 / (n_samples / 5)))`` fits of the estimator
        below 5 000 rows (6 up to 1 000 rows), 1 from 5 000 on.

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
            If a parameter is invalid, if ``anomaly_score="estimator"`` and
            the estimator has no ``score_samples`` (before any training), if
            ``X`` has fewer than 2 rows (a threshold needs more than one
            score), or as the estimator's ``fit`` raises (NaN, strings, an
            empty ``X``). A fit that raises leaves a fitted detector as it
            was.
        """
        self._fit(X, every_row=False)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_predict(self, X, y=None):
        """Fit on ``X`` and label its rows by their held-out scores.

        Every row of ``X`` is held out of one of the 5 fold models (6 fits
        at any size, where ``fit`` stops at 1 000 held-out rows) and labelled
        by its score under that model: -1 where
        ``held_out_scores_ - offset_ < 0``. ``offset_`` is the
        ``contamination`` percentile of these same scores, so the labels
        flag that share of ``X`` (ties aside), as they flag that share of
        new rows. ``fit(X).predict(X)`` instead scores the training rows
        under ``estimator_``, which fitted them, and flags fewer. With 2
        rows, nothing is held out: they are labelled by their in-sample
        scores.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
                or (n_samples, ...)
            Training rows.
        y : None
            Ignored.

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int
            +1 for inliers, -1 for outliers.

        Raises
        ------
        ValueError
            As :meth:`fit`.
        """
        X = self._fit(X, every_row=True)
        scores = self.held_out_scores_
        if np.isnan(scores).any():
            in_sample = self._scores(self.estimator_, X, self.code_density_)
            scores = np.where(np.isnan(scores), in_sample, scores)
        return np.where(scores - self.offset_ < 0, -1, 1)

    @available_if(_estimator_has("partial_fit"))
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y=None):
        """Train the estimator on one more batch; ``offset_`` from held-out scores.

        Only where the estimator has ``partial_fit`` (every skae estimator,
        the default). Each batch is scored by the model *before* it is
        trained on it (test, then train: the rows are new to the model), and
        ``offset_`` is set from the latest 1 000 such scores
        (``held_out_scores_``; after a ``fit``, its held-out scores start
        them). The first call, with no model yet, sets ``offset_`` from the
        batch's scores under the model just trained on it, which flag more
        than ``contamination`` of new rows until the next batch. One
        ``partial_fit`` of the estimator a call.

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
        if self.anomaly_score == "reconstruction_and_code":
            raise ValueError(
                "anomaly_score='reconstruction_and_code' compares a row's code with the "
                "training rows' codes, which partial_fit does not keep: use fit, or "
                "anomaly_score='reconstruction_error' to train batch by batch."
            )
        if not hasattr(self, "estimator_"):
            n_features, names = self._features(X)
            estimator = self._unfitted_estimator(self._n_values(X), self._seed())
            estimator.partial_fit(X)
            held_out = np.empty(0)
            offset = self._offset(self._scores(estimator, X))
            if n_features is None:
                n_features = getattr(estimator, "n_features_in_", None)
            for name, value in (("n_features_in_", n_features), ("feature_names_in_", names)):
                if value is not None:
                    setattr(self, name, value)
        else:
            self._check_features(X, reset=False)
            estimator = self.estimator_
            scores = self._scores(estimator, X)
            estimator.partial_fit(X)
            # A detector saved before skae kept held-out scores has none.
            earlier = getattr(self, "held_out_scores_", np.empty(0))
            earlier = earlier[~np.isnan(earlier)]
            held_out = np.concatenate([earlier, scores])[-HELD_OUT_ROWS:]
            offset = self._offset(held_out)
        self.estimator_ = estimator
        self.code_density_ = None
        self.held_out_scores_ = held_out
        self.offset_ = offset
        return self

    # ------------------------------------------------------------- scoring
    def _density(self, estimator, X):
        """The code's part of the score for ``estimator`` fitted on ``X``
        (:class:`CodeDensity`), or None where ``anomaly_score`` has none."""
        if self.anomaly_score != "reconstruction_and_code":
            return None
        return CodeDensity(estimator, X)

    def _scores(self, estimator, X, density=None):
        """The score of each row of ``X`` under the fitted ``estimator`` (and
        its :class:`CodeDensity` ``density``, for that score).

        The one place the score is defined: ``score_samples`` (under
        ``estimator_``), the held-out scores of ``fit`` (under each fold
        model) and ``partial_fit``'s scores all come from here, so that a
        new score is a change to this method alone.
        """
        if self.anomaly_score == "estimator":
            return np.asarray(estimator.score_samples(X), dtype=np.float64)
        if self.anomaly_score == "reconstruction_and_code":
            return density.scores(estimator, X)
        return -reconstruction_error(estimator, X)

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
            squared reconstruction error under ``estimator_``, in the squared
            units of ``X`` (computed a chunk of rows at a time); with
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
        # A detector saved before code_density_ existed scores by its error.
        return self._scores(self.estimator_, X, getattr(self, "code_density_", None))

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

        On new rows, flags about ``contamination`` of those drawn as the
        training rows were. On the training rows themselves it flags fewer
        (``estimator_`` fitted them): :meth:`fit_predict` labels them by
        their held-out scores.

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
        return np.where(self.decision_function(X) < 0, -1, 1)

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
        # The estimator's tags through get_tags, as scikit-learn's
        # meta-estimators read them; the default's from a plain instance
        # (its tags do not depend on its width), nothing cloned.
        inner = get_tags(AutoencoderTransformer() if self.estimator is None else self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.non_deterministic = inner.non_deterministic
        return tags


register_trusted_class(AutoencoderOutlierDetector)
register_trusted_class(CodeDensity)
