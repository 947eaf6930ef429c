"""Estimator layer: training a fitted network more (``partial_fit``, ``warm_start``).

:class:`ContinuedTraining` is the half of :class:`skae._base.BaseAutoencoder`
that trains on from a fitted network instead of building one: the first
:meth:`~ContinuedTraining.partial_fit` of an estimator is a new fit of one
epoch (:meth:`skae._base.BaseAutoencoder._fit`); every later call, and
``fit`` with ``warm_start=True``, validates the rows against the fitted
model, refuses a change of the parameters the network was built with, and
runs one more training through the same
:meth:`~skae._base.BaseAutoencoder._train`, rolling everything back where
it fails.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import metadata_routing

from ._chunked import ChunkedRows
from ._device import seeded, torch_seed
from ._net import FitInterrupted
from ._scaling import Scaling
from ._training import (
    check_unchanged_params,
    n_held_out,
    raise_if_interrupted,
    training_data,
)

__all__ = ["ContinuedTraining"]


class ContinuedTraining:
    """``partial_fit`` and the warm-started ``fit`` of a skae estimator (a mixin
    of :class:`skae._base.BaseAutoencoder`, whose ``_fit``, ``_train`` and
    fitted state it uses)."""

    # ``classes`` names the target's classes, it is not metadata to route
    # (scikit-learn marks such arguments so, as IncrementalPCA's check_input):
    # no set_partial_fit_request is generated for it.
    __metadata_request__partial_fit = {"classes": metadata_routing.UNUSED}

    def partial_fit(self, X, y=None, classes=None):
        """Train on one more batch of data: one pass (epoch) over ``X``.

        For data that does not fit in memory, or that arrives over time:
        call ``partial_fit`` once per chunk, and over all chunks as many
        times as you want passes. Each call runs one epoch over ``X`` in
        mini-batches of ``batch_size``, shuffled from ``random_state``: the
        same sequence of calls with the same integer ``random_state`` gives
        the same weights, bit for bit, on CPU. Semantics follow
        :meth:`sklearn.neural_network.MLPRegressor.partial_fit` (one
        iteration per call, optimizer state kept between calls) and
        :meth:`sklearn.decomposition.IncrementalPCA.partial_fit` (the
        first call sets up the model from its batch).

        The first call on an estimator that is not fitted validates ``X``,
        chooses ``output_activation_`` and sets the input scaling
        (``mean_``, ``scale_``) from this first batch, then builds the
        network and the optimizer. Later calls -- also after :meth:`fit` --
        continue training that network. Later batches are scaled with the
        first batch's statistics, which are never updated: pass a
        representative first batch (for example a random sample of the
        data), or fix ``output_activation``. A denoising autoencoder's
        clipping range also comes from the first batch.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame, memmap} of shape (n_samples, n_features) \
                or (n_samples, ...)
            A batch of training data, any real dtype, or images in their
            own shape, as for :meth:`fit`. Later batches must have the first
            one's features. A memmap, h5py or zarr array is read chunk by
            chunk, as in :meth:`fit`: one pass to validate it, one for the
            epoch.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Ignored, unless the estimator takes ``target_weight`` and it is
            above 0: the targets of these rows, as for :meth:`fit`. A later
            call takes the first call's classes (``classes_``) and scaling.
        classes : array-like of shape (n_classes,), default=None
            The class labels across all calls (``np.unique(y_all)``), as
            scikit-learn's incremental classifiers take them. Pass it on the
            first call with class labels and ``target_weight > 0``: a batch
            need not hold every class, and without it ``classes_`` is the
            first batch's classes (a later label outside them is a
            ``ValueError``). Later calls may omit it; where given, it must
            equal ``classes_``. Ignored where ``target_weight`` is 0.

        Returns
        -------
        self : object
            The estimator, trained one more epoch: ``n_iter_`` is one more
            and ``loss_curve_`` one entry longer.

        Raises
        ------
        ValueError
            As :meth:`fit` on the first call. On a later call: if ``X``
            holds NaN or infinity, has other features than the first
            batch (as :meth:`transform`), lies outside [0, 1] when
            ``output_activation_ == "sigmoid"`` (binary cross-entropy
            targets), if a parameter other than the training ones (see
            ``warm_start``) changed since the network was built, or if the
            loss diverges; the fitted state is then left as it was before
            the call.
        KeyboardInterrupt
            On Ctrl-C. The call's epoch is not completed, so nothing of it
            is kept: a first call leaves no fitted state (as :meth:`fit`
            interrupted in its first epoch), a later one leaves the
            estimator as it was before the call (weights, optimizer state,
            ``n_iter_``) and raises ``KeyboardInterrupt``, as :meth:`fit`
            does after an interrupt.

        Notes
        -----
        ``early_stopping``, ``validation_fraction``, ``n_iter_no_change``,
        ``tol`` and ``max_epochs`` do not apply: there is no validation
        split and exactly one epoch per call, as in MLPRegressor.
        ``validation_loss_curve_``, ``best_epoch_`` and
        ``best_validation_loss_`` are None after a ``partial_fit``.
        Each call trains at the constant ``lr`` (``"auto"``: 1e-3), which
        ``set_params(lr=...)`` may change between calls, the optimizer's
        state kept: where the number of calls is known,
        :func:`skae.learning_rates` gives each call its rate from the
        schedule :meth:`fit` would run over them (``lr_schedule``).
        :meth:`fit` starts over, unless ``warm_start=True``. A model read
        by :func:`skae.load` continues with a fresh optimizer state (model
        files hold the weights only).
        """
        if self._has_network():
            self._continue_fit(X, y, partial=True, classes=classes)
            return self
        self._forget_fit()
        try:
            self._fit(X, y, partial=True, classes=classes)
        except FitInterrupted:
            raise  # Ctrl-C after the epoch completed: it is kept, as in fit
        except BaseException:
            self._forget_fit()
            raise
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def _continue_fit(self, X, y, *, partial, classes=None):
        """Train the fitted network on ``X``: one epoch (``partial_fit``) or a
        warm-started fit. On any error, the estimator is left as it was."""
        how = "partial_fit" if partial else "fit with warm_start=True"
        X = self._check_continued_rows(X, how)
        check_unchanged_params(self, how)
        labels = self._continued_target(y, X.shape[0], classes)
        if isinstance(X, ChunkedRows):
            stats = X.scan(moments=False)  # validates every row
            x_min, x_max = stats.min.min(), stats.max.max()
        else:
            x_min, x_max = X.min(), X.max()
        Scaling.of(self).check_continued(x_min, x_max, how, self.output_activation == "auto")
        early = self.early_stopping and not partial
        n_valid = n_held_out(
            X.shape[0], early=early, select=False, validation_fraction=self.validation_fraction
        )
        seed = torch_seed(self.random_state)
        train_data, valid_data = training_data(
            X, self._network_input(X), self._normalize, n_valid=n_valid, split_seed=seed, y=labels
        )
        # A seed of its own for each continuation, drawn from random_state and
        # the epochs run so far: a sequence of calls is reproducible, and its
        # epochs do not repeat the batch order or noise of the first fit's.
        run_seed = int(np.random.SeedSequence([seed, self.n_iter_]).generate_state(1)[0])
        snapshot, attributes = self.net_.snapshot(), self._fitted_attributes()
        try:
            with seeded(run_seed, self.net_.device):
                result = self._train(X, train_data, valid_data, early=early, partial=partial)
            self._diagnose(X, getattr(self, "pca_explained_variance_ratio_", None))
            raise_if_interrupted(self, result)
        except FitInterrupted:
            raise  # completed epochs are kept, as in fit
        except BaseException as exc:
            self.net_.restore(snapshot)
            for name in self._fitted_attributes():
                delattr(self, name)
            vars(self).update(attributes)
            if isinstance(exc, KeyboardInterrupt):
                raise FitInterrupted(
                    f"{how} interrupted before an epoch completed: {type(self).__name__} is "
                    f"left as it was before the call (n_iter_={self.n_iter_})."
                ) from None
            raise

    def _check_continued_rows(self, X, how):
        """``X`` validated against the fitted model for a continued training.

        Raises
        ------
        ValueError
            As :meth:`_check_rows`; for samples of another size, the message
            says how to start over.
        """
        try:
            return self._check_rows(X)[0]
        except ValueError as exc:
            try:
                shape = np.shape(X)
                other_size = len(shape) >= 2 and math.prod(shape[1:]) != self.n_features_in_
            except (TypeError, ValueError):
                other_size = False
            if not other_size:
                raise
            fix = "call fit" if how == "partial_fit" else "set warm_start=False"
            raise ValueError(
                f"{exc} {how} continues the model fitted on samples of shape "
                f"{self._input_shape()}: pass samples of that shape, or {fix} to train a "
                "new model on X."
            ) from None
