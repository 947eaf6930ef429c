"""Supervised and semi-supervised bottlenecks: ``target_weight`` and its target.

With ``target_weight > 0``, ``fit(X, y)`` trains a linear head on the code
to predict ``y`` beside the reconstruction (the supervised autoencoder of
Le, Patterson & White, NeurIPS 2018): the head is part of the network's
construction (:func:`skae._network.build_module`), its error one more term
of the loss (:class:`skae._losses.TargetTerm`). This module holds the
estimator's side:

* :data:`TARGET_WEIGHT` and :data:`TARGET_ATTRIBUTES` -- the parameter and
  the fitted attributes, declared once;
* :func:`fit_target` / :func:`encode_target` -- ``y`` validated and encoded
  as the network's labels (class indices, ``-1`` unlabelled; standardised
  numbers, NaN unlabelled), and the trivial model's loss on it;
* :func:`reconstruction_baseline` -- the trivial model's reconstruction loss;
* :class:`SupervisedBottleneck` -- the mixin the four estimators that take
  ``target_weight`` inherit: the hooks :class:`skae._base.BaseAutoencoder`
  calls, ``predict`` and ``target_head_``.

Labels travel beside the rows through the one batching path
(:mod:`skae._batches`), so that in-memory, sparse and on-disk data, the
validation split, ``partial_fit`` and the corruption of a denoising
autoencoder (which corrupts ``X`` only) need nothing of their own.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LinearRegression
from sklearn.utils._param_validation import Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted

from ._batches import batches
from ._losses import TargetTerm
from ._parameters import Attr, Param
from ._training import training_data

__all__ = [
    "TARGET_ATTRIBUTES",
    "TARGET_WEIGHT",
    "SupervisedBottleneck",
    "TargetHooks",
    "encode_target",
    "fit_target",
    "reconstruction_baseline",
    "fit_linear_head",
]

CLASSES = ("binary", "multiclass")
NUMBERS = ("continuous", "continuous-multioutput")
# Rows a batch of the reconstruction baseline's pass.
_BASELINE_ROWS = 4096

TARGET_WEIGHT = Param(
    "target_weight",
    0.0,
    (Interval(numbers.Real, 0, None, closed="left"),),
    "float",
    """Weight of a supervised term in the loss: with ``target_weight > 0``,
    ``fit(X, y)`` also trains a linear head on the code to predict ``y``
    (Le, Patterson & White, 2018), so that the code keeps what predicts
    ``y`` as well as what reconstructs ``X``. ``0.0`` (the default) is off:
    ``y`` is ignored, as a Pipeline passes it to every step, and the fit is
    the unsupervised one. Class labels (``type_of_target`` ``"binary"`` or
    ``"multiclass"``, encoded as ``classes_``) train a cross-entropy;
    numbers (``"continuous"``, 1-D or 2-D ``y``) a squared error on ``y``
    standardised over its labelled rows. The loss is ``reconstruction +
    target_loss_weight_ * target error``, where ``target_loss_weight_ =
    target_weight * R0 / T0`` and ``R0``, ``T0`` are the losses of the
    trivial model on the rows passed to ``fit``: for the reconstruction,
    each feature predicted by its mean (in the criterion's units: ``R0 =
    1`` for the scaled squared error, the mean binary entropy of the
    feature means for ``"sigmoid"`` outputs); for classes, the entropy of
    the class frequencies of the labelled rows; for numbers, 1. So ``1.0``
    weighs the two terms equally whatever the number of features, rows or
    classes, and the loss (``loss_curve_``, ``tol``) stays in the
    reconstruction's units, now the total. Semi-supervised: rows labelled
    ``-1`` (numeric class labels, as in :mod:`sklearn.semi_supervised`)
    or NaN (a float ``y``: the whole row) train the reconstruction only
    (string labels cannot mark a row unlabelled: ``-1`` among them is a
    ``ValueError``; encode them as integers first);
    the target term is averaged over the labelled rows of each mini-batch
    (0 for a batch without one). ``transform``, ``inverse_transform`` and
    ``score`` are unchanged; ``predict`` gives the head's prediction. So
    ``score`` (the negative reconstruction error) cannot choose the weight:
    ``GridSearchCV`` over ``target_weight`` with the default scoring prefers
    the smallest. Search a Pipeline ending in a classifier (its ``score``),
    or pass ``scoring="accuracy"`` for the head's ``predict``; see
    :ref:`supervised-codes`.""",
)

TARGET_ATTRIBUTES = (
    Attr(
        "target_type_",
        "str",
        """The target's kind, as :func:`~sklearn.utils.multiclass.type_of_target`
        names it on the labelled rows: ``"binary"``, ``"multiclass"``,
        ``"continuous"`` or ``"continuous-multioutput"``. Only when fitted with
        ``target_weight > 0``, as are the attributes below.""",
    ),
    Attr(
        "classes_",
        "ndarray of shape (n_classes,)",
        """The class labels of the labelled rows, sorted (class targets only;
        ``-1`` is not a class).""",
    ),
    Attr(
        "target_mean_",
        "float or ndarray of shape (n_targets,)",
        """Mean of each numeric target over the labelled rows of ``fit``
        (numeric targets only; an array for a 2-D ``y``).""",
    ),
    Attr(
        "target_scale_",
        "float or ndarray of shape (n_targets,)",
        """Standard deviation of each numeric target over the labelled rows
        (1 where it is 0): the head predicts ``(y - target_mean_) /
        target_scale_``.""",
    ),
    Attr(
        "target_loss_weight_",
        "float",
        """The target term's weight in the loss: ``target_weight * R0 / T0``
        (see ``target_weight``).""",
    ),
    Attr(
        "target_head_",
        "torch.nn.Linear",
        """The head, ``net_.module_.target_head``: a linear map from the code
        (``n_components``) to one logit per class of ``classes_``, or to
        each standardised numeric target. Its ``weight`` and ``bias`` are
        the coefficients and intercepts of a linear model on the codes of
        :meth:`transform`.""",
    ),
)


def _check_y(y, n_samples):
    """``y`` as an array of ``n_samples`` rows, 1-D or 2-D (unvalidated values)."""
    if y is None:
        raise ValueError(
            "target_weight > 0 requires y to be passed, but the target y is None: pass "
            "y to fit (labels, -1 or NaN for unlabelled rows), or set target_weight=0 "
            "for an unsupervised fit."
        )
    y = check_array(
        y, ensure_2d=False, dtype=None, ensure_all_finite=False, ensure_min_samples=0,
        input_name="y",
    )  # fmt: skip
    if y.ndim > 2:
        raise ValueError(f"y has shape {y.shape}: pass a 1-D or 2-D y.")
    if len(y) != n_samples:
        raise ValueError(
            f"y has {len(y)} rows but X has {n_samples}: pass one target per row of X "
            "(-1 or NaN for a row without a label)."
        )
    return y


def _unlabelled_rows(y):
    """Rows marked unlabelled: all NaN (a float ``y``); -1 is checked later,
    for numeric class labels only.

    Raises
    ------
    ValueError
        For infinite values, rows partly NaN, or ``-1`` among string labels.
    """
    if y.dtype.kind in "OUS":
        flat = y.ravel()
        marked = [v for v in flat if isinstance(v, numbers.Number) or v == "-1"]
        if marked and any(isinstance(v, str) for v in flat):
            raise ValueError(
                "y mixes string class labels with numbers or '-1': -1 marks an unlabelled "
                "row only among numeric class labels. Encode the labels as integers (e.g. "
                "with sklearn.preprocessing.LabelEncoder on the labelled rows) and mark "
                "unlabelled rows -1."
            )
        return np.zeros(len(y), dtype=bool)
    if y.dtype.kind != "f":
        return np.zeros(len(y), dtype=bool)
    if np.isinf(y).any():
        raise ValueError("y holds infinity: pass finite targets (NaN marks an unlabelled row).")
    nan = np.isnan(y).reshape(len(y), -1)
    unlabelled = nan.all(axis=1)
    if (nan.any(axis=1) & ~unlabelled).any():
        raise ValueError(
            "y has rows partly NaN: a row is unlabelled (all NaN) or labelled (no NaN)."
        )
    return unlabelled


def _target_type(y_labelled):
    """``type_of_target`` of the labelled rows, refusing what skae does not fit."""
    try:
        kind = type_of_target(y_labelled, input_name="y")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y is not a target skae can fit ({exc}).") from None
    if kind not in CLASSES + NUMBERS:
        raise ValueError(
            f"Unknown label type for target_weight: y is {kind!r} "
            "(sklearn.utils.multiclass.type_of_target). target_weight supports one column "
            "of class labels or numeric targets (1-D or 2-D), not multi-output class "
            "labels: fit one label column, or set target_weight=0."
        )
    return kind


def _labelled_rows(y, unlabelled, kind):
    """``y`` as the target ``kind`` takes it (class labels: one column, 1-D)
    and the mask of its labelled rows: not NaN, and not -1 for numeric class
    labels."""
    if kind in CLASSES:
        if y.ndim == 2 and y.shape[1] != 1:
            raise ValueError(f"y has shape {y.shape}: class labels come as one column.")
        y = y.reshape(len(y))
        if y.dtype.kind in "iuf":
            unlabelled = unlabelled | (y == -1)
    return y, ~unlabelled


def fit_target(estimator, y, n_samples, classes=None):
    """Validate and encode ``y`` for a new fit; set the target's fitted attributes.

    Sets ``target_type_`` and, for class labels, ``classes_`` (``classes``
    where given: the first ``partial_fit`` call's, as scikit-learn's
    incremental classifiers take them); for numbers, ``target_mean_`` and
    ``target_scale_``.

    Returns
    -------
    labels : torch.Tensor
        See :func:`encode_target`.
    baseline : float
        The trivial model's loss on the labelled rows (``T0``): the entropy
        of the class frequencies (nats), or 1 for standardised numbers.

    Raises
    ------
    ValueError
        For a ``y`` of the wrong length or kind, without a labelled row, with
        one class (or one value) among its labelled rows.
    """
    y = _check_y(y, n_samples)
    nan_rows = _unlabelled_rows(y)
    if nan_rows.all():
        raise ValueError("y has no labelled row (all NaN): label some rows of y.")
    kind = estimator.target_type_ = _target_type(y[~nan_rows])
    y, labelled = _labelled_rows(y, nan_rows, kind)
    if not labelled.any():
        raise ValueError("y has no labelled row (all -1): label some rows of y.")
    if kind in CLASSES:
        baseline = _fit_classes(estimator, y[labelled], classes)
    elif classes is not None:
        raise ValueError(
            f"classes is given but y is a numeric target ({kind!r}): classes names the "
            "class labels of a class target; drop it."
        )
    else:
        baseline = _fit_numbers(estimator, y[labelled])
    return _encode(estimator, y, labelled), baseline


def _fit_classes(estimator, y, classes=None):
    """Set ``classes_`` from the labelled rows ``y`` (or from ``classes``,
    which must hold them); return the entropy of their frequencies."""
    present, counts = np.unique(y, return_counts=True)
    if classes is not None:
        classes = np.unique(np.asarray(classes))
        missing = present[~np.isin(present, classes)]
        if len(missing):
            raise ValueError(
                f"y has labels {missing.tolist()} that are not in classes "
                f"{classes.tolist()}: pass every class of the data to the first "
                "partial_fit call."
            )
    else:
        classes = present
    if len(classes) < 2:
        raise ValueError(
            f"y has 1 class ({classes[0]!r}) among its labelled rows: a class target "
            "needs at least two classes (-1 marks unlabelled rows, it is not a class)."
        )
    estimator.classes_ = classes.astype(object) if classes.dtype.kind in "US" else classes
    freq = counts / counts.sum()
    return float(-(freq * np.log(freq)).sum())


def _fit_numbers(estimator, y):
    """Set ``target_mean_`` / ``target_scale_`` from the labelled rows ``y``;
    return 1, the standardised target's trivial loss."""
    y = y.astype(np.float64)
    mean, std = y.mean(axis=0), y.std(axis=0)
    if np.all(std == 0):
        raise ValueError(
            "y has one value among its labelled rows: nothing to predict. Pass a varying "
            "target, or set target_weight=0."
        )
    scale = np.where(std > 0, std, 1.0)
    if y.ndim == 1:
        mean, scale = float(mean), float(scale)
    estimator.target_mean_, estimator.target_scale_ = mean, scale
    return 1.0


def encode_target(estimator, y, n_samples):
    """``y`` as the network's labels, by the fitted target attributes.

    Returns
    -------
    labels : torch.Tensor
        Class targets: int64 of shape ``(n_samples,)``, the index in
        ``classes_``, ``-1`` for an unlabelled row. Numbers: float32 of shape
        ``(n_samples, n_targets)``, standardised, NaN for an unlabelled row.

    Raises
    ------
    ValueError
        As :func:`fit_target`; also for labels not in ``classes_`` or
        another number of targets than the fit's (a continued training).
    """
    y = _check_y(y, n_samples)
    y, labelled = _labelled_rows(y, _unlabelled_rows(y), estimator.target_type_)
    return _encode(estimator, y, labelled)


def _encode(estimator, y, labelled):
    """:func:`encode_target` of a validated ``y`` and its labelled rows."""
    if estimator.target_type_ in CLASSES:
        classes = estimator.classes_
        unknown = labelled & ~np.isin(y, classes)
        if unknown.any():
            raise ValueError(
                f"y has labels {np.unique(y[unknown]).tolist()} that are not in classes_ "
                f"{classes.tolist()} (the fit's): pass the fit's classes, or -1 for an "
                "unlabelled row."
            )
        codes = np.full(len(y), -1, dtype=np.int64)
        codes[labelled] = np.searchsorted(classes, y[labelled])
        return torch.from_numpy(codes)
    mean, scale = estimator.target_mean_, estimator.target_scale_
    if np.shape(y)[1:] != np.shape(mean):
        raise ValueError(
            f"y has shape {y.shape}, but the fit's numeric target had "
            f"{np.size(mean)} column(s) ({'1-D' if np.ndim(mean) == 0 else '2-D'})."
        )
    values = (np.asarray(y, dtype=np.float64) - mean) / scale
    return torch.from_numpy(values.reshape(len(y), -1).astype(np.float32))


def reconstruction_baseline(rows, sigmoid):
    """``R0``: the reconstruction loss of the model predicting each feature's
    mean, per feature, in the criterion's units.

    Parameters
    ----------
    rows : TensorData or BlockData
        The rows of the fit, as the network sees them; read once in batches.
    sigmoid : bool
        Binary cross-entropy outputs: ``R0`` is the mean over features of
        the entropy of the feature's mean (the cross-entropy of predicting
        it). Else the mean variance of the features (1 for the scaled data).

    Returns
    -------
    baseline : float
        Positive (1 where the data holds no variation).
    """
    total = squares = None
    n = 0
    for x, _ in batches(rows, _BASELINE_ROWS):
        x = x.double()
        s, q = x.sum(dim=0), (x * x).sum(dim=0)
        total, squares = (s, q) if total is None else (total + s, squares + q)
        n += len(x)
    mean = total / n
    if sigmoid:
        p = mean.clamp(1e-7, 1 - 1e-7)
        loss = -(p * p.log() + (1 - p) * (1 - p).log())
    else:
        loss = (squares / n - mean * mean).clamp(min=0)
    baseline = float(loss.mean())
    return baseline if baseline > 0 else 1.0


def _fitted_with_target(estimator):
    """Whether ``predict`` is available: the estimator was fitted with a target."""
    return hasattr(estimator, "target_type_")


def fit_linear_head(estimator, module, rows, device="cpu"):
    """Set ``module``'s target head to a linear model of the target on the
    codes of ``rows``' labelled rows, the encoder fixed.

    Classes: linear discriminant analysis (scikit-learn's
    :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`,
    ``solver="lsqr"`` with Ledoit-Wolf shrinkage: closed form, a pass over
    the codes), whose decision functions are the head's logits -- the
    class posteriors of Gaussian classes with a shared covariance (Hastie,
    Tibshirani & Friedman, 2009, sec. 4.3); a class absent from the
    labelled rows gets a logit of -30. Where there are too few labelled
    rows to estimate it (not more than one per class), the trivial model:
    zero weights and the classes' log-priors. Numbers (standardised): least
    squares (:class:`~sklearn.linear_model.LinearRegression`), or the mean
    (0) with fewer than two labelled rows.

    Parameters
    ----------
    estimator : SupervisedBottleneck
        Fitted target attributes (``target_type_``, ``classes_``).
    module : skae._nn.AutoencoderModule
        The network, its ``target_head`` a ``torch.nn.Linear``.
    rows : TensorData or BlockData
        Rows in the network's units with their encoded labels, read a batch
        at a time; the codes (``n_rows x n_components`` float64) and labels
        are held in memory.
    device : str or torch.device, default="cpu"
        Where ``module`` is.
    """
    codes, labels = _codes_and_labels(module, device, rows)
    n_classes = len(getattr(estimator, "classes_", ()))
    if estimator.target_type_ in CLASSES:
        labelled = labels >= 0
        codes, labels = codes[labelled], labels[labelled]
        present, counts = np.unique(labels, return_counts=True)
        weight = np.zeros((n_classes, codes.shape[1]))
        bias = np.full(n_classes, -30.0)  # classes absent from the labelled rows
        if len(labels) > len(present) and len(present) > 1:
            model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
            model.fit(codes, labels)
            coef, intercept = model.coef_, model.intercept_
            if len(present) == 2:  # one decision function: class 1 against class 0
                coef = np.vstack([np.zeros_like(coef), coef])
                intercept = np.array([0.0, intercept[0]])
            weight[present], bias[present] = coef, intercept
        else:  # too few rows for a model of the codes: the class frequencies
            bias[present] = np.log(counts / counts.sum())
    else:
        labelled = ~np.isnan(labels).any(axis=1)
        weight = np.zeros((labels.shape[1], codes.shape[1]))
        bias = np.zeros(labels.shape[1])  # the standardised target's mean
        if labelled.sum() > 1:
            model = LinearRegression().fit(codes[labelled], labels[labelled])
            weight, bias = model.coef_, model.intercept_
    head = module.target_head
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(weight, dtype=head.weight.dtype))
        head.bias.copy_(torch.as_tensor(bias, dtype=head.bias.dtype))


def _codes_and_labels(module, device, rows):
    """The codes of ``rows`` (float64, ``(n, n_components)``) and their labels
    (``(n,)`` class indices or ``(n, n_targets)`` numbers), a batch at a
    time, in evaluation mode (the module's mode is restored)."""
    codes, labels = [], []
    training = module.training
    module.eval()
    with torch.no_grad():
        for x, (_, y) in batches(rows, _BASELINE_ROWS):
            codes.append(module.encode(x.to(device)).double().cpu().numpy())
            labels.append(y.numpy())
    module.train(training)
    return np.concatenate(codes), np.concatenate(labels)


class TargetHooks:
    """The hooks :class:`skae._base.BaseAutoencoder` calls for a target, as an
    estimator without ``target_weight`` has them (the VAE): no target, ``y``
    ignored."""

    def _fit_target(self, y, X, Xn, classes=None):
        """The labels of a new fit (a tensor, :func:`encode_target`), or None."""
        return None

    def _continued_target(self, y, n_samples, classes=None):
        """The labels of a continued training, or None."""
        return None

    def _n_target_outputs(self):
        """Outputs of the head on the code (None: no head)."""
        return None

    def _target_term(self):
        """The loss's :class:`~skae._losses.TargetTerm`, or None."""
        return None

    def _start_head(self, module, train_data):
        """Start the module's target head (if any) where the selection needs it."""

    def _fit_head_on_codes(self, rows):
        """Fit the target head (if any) on the codes of ``rows`` (the start kept)."""


class SupervisedBottleneck(TargetHooks):
    """The estimator's side of ``target_weight``: a mixin of the four estimators
    that take it, before :class:`skae._base.BaseAutoencoder`, whose
    :class:`TargetHooks` it fills."""

    def _fit_target(self, y, X, Xn, classes=None):
        """Encoded labels for a new fit (None where ``target_weight`` is 0:
        ``y`` is then not even read); sets the target's fitted attributes.

        ``classes`` (a first ``partial_fit`` call's) sets ``classes_``; without
        it, the classes are those of ``y``'s labelled rows.

        Raises
        ------
        ValueError
            As :func:`fit_target`.
        """
        if self.target_weight == 0:
            return None
        labels, target_baseline = fit_target(self, y, X.shape[0], classes)
        rows = training_data(X, Xn, self._normalize, n_valid=0, split_seed=None)[0]
        recon = reconstruction_baseline(rows, self.output_activation_ == "sigmoid")
        self.target_loss_weight_ = float(self.target_weight * recon / target_baseline)
        return labels

    def _continued_target(self, y, n_samples, classes=None):
        """Encoded labels for a continued training of a network fitted with a
        target (None for one fitted without).

        Raises
        ------
        ValueError
            As :func:`encode_target`; also where ``classes`` is given and is
            not the fit's ``classes_``.
        """
        if not _fitted_with_target(self):
            return None
        if classes is not None and not (
            self.target_type_ in CLASSES
            and np.array_equal(np.unique(np.asarray(classes)), np.asarray(self.classes_))
        ):
            raise ValueError(
                f"classes={np.asarray(classes).tolist()!r} is not the fitted classes_ "
                f"{getattr(self, 'classes_', np.array([])).tolist()!r}: classes is fixed by "
                "the first call to partial_fit (or by fit)."
            )
        return encode_target(self, y, n_samples)

    def _n_target_outputs(self):
        if not _fitted_with_target(self):
            return None
        if self.target_type_ in CLASSES:
            return len(self.classes_)
        return int(np.size(self.target_mean_))

    def _target_term(self):
        if not _fitted_with_target(self):
            return None
        kind = "classes" if self.target_type_ in CLASSES else "numbers"
        return TargetTerm(kind, self.target_loss_weight_)

    def _start_head(self, module, train_data):
        """Start the head as a linear model of ``y`` on the untrained
        network's codes of the training rows (:func:`fit_linear_head`).
        Under the PCA start, epoch 0 (a candidate of the selection) is then
        PCA with its linear model of ``y``, a model someone would choose;
        without it, the encoder gets the target's gradient from the first
        step (``benchmarks/bench_head_start.py`` measures this start against
        the trivial model and PyTorch's initialisation)."""
        if module.target_head is not None:
            fit_linear_head(self, module, train_data, device="cpu")

    def _fit_head_on_codes(self, rows):
        """Where the fit keeps its start (``best_epoch_ == 0``), refit the head
        with the start on all ``rows`` (:func:`fit_linear_head`), so that the
        model returned is PCA of ``X`` with the best linear head on its codes."""
        if _fitted_with_target(self):
            fit_linear_head(self, self.net_.module_, rows, device=self.net_.device)

    @property
    def target_head_(self):
        check_is_fitted(self)
        head = self.net_.module_.target_head
        if head is None:
            raise AttributeError(
                f"{type(self).__name__} was fitted without a target (target_weight=0): "
                "it has no target_head_."
            )
        return head

    @available_if(_fitted_with_target)
    def predict(self, X):
        """The head's prediction of the target from the code of ``X``.

        A by-product of the supervised bottleneck (``target_weight > 0``),
        which trains the head to shape the code: the linear model on the
        code that the fit learned beside the autoencoder. It is not meant
        to rival a classifier or regressor fitted on :meth:`transform`'s
        codes in a Pipeline. Available only on an estimator fitted with a
        target.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame, memmap} of shape (n_samples, n_features) \
                or (n_samples, ...)
            As for :meth:`transform`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The class of ``classes_`` of the largest logit (class targets),
            or the numbers in ``y``'s units (float64), 2-D where ``y`` was.

        Raises
        ------
        ValueError
            As :meth:`transform`.

        Notes
        -----
        The head starts as a linear model of ``y`` on the untrained
        network's codes (linear discriminant analysis, or least squares for
        numbers): under the PCA start, PCA's codes. Where that start is kept (``best_epoch_ == 0``,
        ``pca_start_ == "pca"``), it is refitted with the start on all rows:
        the model is then PCA with the best linear head on its codes.
        """
        X = self._check_rows(X)[0]

        def head(rows):
            x = torch.from_numpy(self._normalize(rows))
            return self.net_.apply_batched(self.net_.module_.predict_target, x).numpy()

        n_outputs = self._n_target_outputs()
        raw = self._by_chunks(head, X, np.empty((len(X), n_outputs), np.float32), "predict")
        if self.target_type_ in CLASSES:
            return self.classes_[raw.argmax(axis=1)]
        pred = raw.astype(np.float64) * self.target_scale_ + self.target_mean_
        return pred if np.ndim(self.target_mean_) else pred[:, 0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self.target_weight > 0
        return tags
