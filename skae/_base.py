"""Estimator layer: the scikit-learn contract every skae estimator shares.

:class:`BaseAutoencoder` holds validation, the input scaling, the seeded
training through :class:`skae._net.AutoencoderNet`, ``transform`` /
``inverse_transform`` / ``reconstruct`` / ``score`` and the fitted
attributes, once. A public estimator declares its parameters with
:func:`skae._parameters.declare` (the ones every estimator takes are in
:mod:`skae._common_params`) and picks its parts through small hooks:

* ``_architecture()`` -- the built-in network (:mod:`skae._architectures`);
* ``_module_class`` and ``_n_encoder_outputs()`` -- the VAE's Gaussian head;
* ``_code_activation()`` -- bounded or rectified codes (sparse);
* ``_code_dropout()`` -- nested dropout of the code in training (ordered
  codes, :mod:`skae._ordered`);
* ``_loss_penalties()`` and ``_feature_reduction`` -- loss terms
  (:mod:`skae._losses`);
* ``_corruption()`` -- noise on training batches (:mod:`skae._corruption`);
* ``_after_fit()`` -- fitted diagnostics.

Data larger than memory (a memmap, an h5py or zarr array) is validated and
read chunk by chunk (:mod:`skae._chunked`); ``fit`` trains on it through
blocks of rows read each epoch (:class:`skae._net.BlockData`), and the
inference methods slice it as they slice an in-memory array. Sparse data
stays a CSR matrix (:mod:`skae._sparse_input`): training densifies one
mini-batch of rows at a time, inference one chunk.

Training runs through one path, :meth:`BaseAutoencoder._train`, whether it
starts a new network (``fit``, the first ``partial_fit``) or continues the
fitted one (``fit`` with ``warm_start=True``, a later ``partial_fit``):
skorch's ``NeuralNet.partial_fit`` trains an initialized net on, keeping its
weights, optimizer state and history.
"""

from __future__ import annotations

import copy
import math
import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import ProgressBar
from skorch.helper import predefined_split
from skorch.utils import noop
from tqdm.auto import tqdm

from . import _chunked, _pca_start  # [pca-start] _pca_start
from ._architectures import build_custom_module, check_custom_shapes
from ._chunked import ChunkedRows, is_out_of_core, validate_chunked
from ._common_params import RUN_PARAMS
from ._io import register_estimator_class, save
from ._losses import AutoencoderLoss
from ._net import (
    INFERENCE_BATCH_SIZE,
    AutoencoderNet,
    BlockData,
    FitInterrupted,
    LastEpochWeights,
    TensorData,
    TrainingInterrupted,
    interrupt_on_sigint,
)
from ._nn import AutoencoderModule
from ._runtime import (
    EarlyStoppingWithCooldown,
    lr_schedule_callback,
    resolve_device,
    resolve_lr,
    resolve_optimizer,
    seeded,
    torch_seed,
)
from ._sparse_input import ACCEPT_SPARSE, SparseRows, sparse_rows

# With verbose >= 1, transform / inverse_transform / score_samples show a
# progress bar from this many rows on (a fraction of a second below it).
PROGRESS_MIN_ROWS = 10_000


def _same_param(a, b):
    """Whether two values of a parameter are the same (sequences by their items)."""
    if a is b:
        return True
    if isinstance(a, (list, tuple, np.ndarray)) and isinstance(b, (list, tuple, np.ndarray)):
        return len(a) == len(b) and all(_same_param(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except Exception:  # an object without a boolean ==
        return False


class BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta
):
    """Base class for skae estimators. Not public: use a subclass.

    A variant is network x corruption x penalty; see the module docstring
    for the hooks a subclass overrides. Every subclass is registered for
    :func:`skae.load` by its class name.
    """

    _module_class = AutoencoderModule
    _feature_reduction = "mean"
    # A code wider than the input: "error" where it could copy its input,
    # "warn" where it is allowed but unusual (the VAE's), "allow" where the
    # noise or the penalty keeps it from copying (denoising, sparse).
    _overcomplete = "error"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        register_estimator_class(cls)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame, memmap} of shape (n_samples, n_features) \
                or (n_samples, ...)
            Training data, any real dtype; converted to float32 for the
            network. Never modified. Images may come in their own shape,
            ``(n_samples, height, width)`` or ``(n_samples, height, width,
            channels)`` (see ``image_layout`` for other orders): each sample
            is flattened (C order), ``input_shape_`` records its shape, and
            ``reconstruct`` / ``inverse_transform`` give images back. Data
            larger than memory -- a ``np.memmap`` (``np.load(path,
            mmap_mode="r")``), an h5py ``Dataset``, a zarr array, any
            array with ``shape``, ``dtype`` and row slicing -- is read
            chunk by chunk, never whole: see Notes. A scipy.sparse matrix
            or array (TF-IDF, one-hot) stays sparse: CSR is used as is,
            other formats are converted to CSR once, and training densifies
            one mini-batch of rows at a time, never the whole of ``X``.
        y : None
            Ignored; present for API consistency (Pipeline, GridSearchCV).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``X`` holds NaN or infinity, is empty or 1-D, has fewer
            features than ``n_components``, if its image shape disagrees
            with ``image_shape`` / ``image_layout``, if a parameter is invalid, if
            your ``encoder`` / ``decoder`` return the wrong shapes, or if
            the training loss diverges. On any error no fitted state is
            left behind. With ``warm_start=True`` on a fitted estimator,
            also if ``X`` has other features than the fitted model, lies
            outside [0, 1] for ``output_activation_="sigmoid"``, or if a
            parameter other than the training ones changed since the
            network was built (see ``warm_start``); on any such error the
            fitted model is left as it was.

        Notes
        -----
        With ``warm_start=True`` and a fitted estimator, ``fit`` continues
        training the fitted network instead of starting over (see
        ``warm_start``), as :class:`~sklearn.neural_network.MLPRegressor`
        does; a Ctrl-C then keeps the epochs completed so far, or the model
        as it was before the call if none completed.

        Data read by chunks (a memmap, an h5py or zarr array) is read once
        in order to validate it (numeric dtype, finite values, the number
        of features) and to set the scaling, then once per epoch: blocks of
        consecutive rows in a random order (from ``random_state``), the
        rows of several blocks (about 2**24 values) shuffled together into
        mini-batches, so that reads stay sequential. Memory holds one such
        buffer (64 MiB), not ``X``. With ``early_stopping=True`` the
        validation split is ``validation_fraction`` of the blocks (of at
        most 2**20 values each, and at least 100 of them), not of single
        rows: store the rows in random order if they come sorted (by class,
        by time). Without early stopping, such data of at most 2**20 values
        gives the same model as the in-memory array, bit for bit; larger
        data gives as good a model, not the same one (``np.asarray(X)``
        trains on an in-memory copy instead).
        """
        if self.warm_start and self._has_network():
            self._continue_fit(X, partial=False)
            return self
        # Forget a previous fit first, so that no error (parameter validation
        # included) leaves a stale model behind.
        self._forget_fit()
        try:
            self._fit(X)
        except FitInterrupted:
            raise  # Ctrl-C: the completed epochs are kept (see _record_history)
        except BaseException:
            self._forget_fit()
            raise
        return self

    def partial_fit(self, X, y=None):
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
        y : None
            Ignored; present for API consistency.

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
            self._continue_fit(X, partial=True)
            return self
        self._forget_fit()
        try:
            self._fit(X, partial=True)
        except FitInterrupted:
            raise  # Ctrl-C after the epoch completed: it is kept, as in fit
        except BaseException:
            self._forget_fit()
            raise
        return self

    def _has_network(self):
        return hasattr(self, "net_")

    def _fitted_attributes(self):
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def _forget_fit(self):
        for name in self._fitted_attributes():
            delattr(self, name)
        self.__dict__.pop("_net_params", None)
        _pca_start.forget(self)  # [pca-start]

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, *, partial=False):
        X, sample_shape = self._validate_samples(X, reset=True)
        n_samples, n_features = X.shape
        self.input_shape_ = sample_shape
        self._architecture().fit_geometry(self, n_features, sample_shape)
        self._check_code_width(n_features)
        self.n_components_ = self.n_components
        # partial_fit has no validation split (as MLPRegressor's).
        early = self.early_stopping and not partial
        if n_samples < (2 if early else 1):
            raise ValueError(
                f"n_samples={n_samples} is too few to hold out a validation "
                "split for early_stopping=True: pass more samples or set "
                "early_stopping=False."
            )
        if isinstance(X, (ChunkedRows, SparseRows)):
            # Data larger than memory: one pass validates it and gives the
            # scaling statistics; training reads it again, block by block.
            # Sparse data: the statistics come from the sparse matrix, and
            # training densifies one batch of rows at a time.
            stats = X.scan()
            self._fit_scaling(X, stats)
            Xn = self._network_input(X)
            # Rows with each feature's extremes, as the corruption needs.
            Xn_range = self._normalize(np.stack([stats.min, stats.max]))
            Xn_head = self._normalize(X.read(0, min(2, n_samples)))
        else:
            self._fit_scaling(X)
            # The one float32 copy of the training data fit holds; the training
            # and validation splits index into it.
            Xn = Xn_range = self._normalize(X)
            Xn_head = Xn[:2]
        loss_name = (
            "binary_crossentropy" if self.output_activation_ == "sigmoid" else "squared_error"
        )

        seed = torch_seed(self.random_state)
        device = resolve_device(self.device)
        with seeded(seed, device):
            module = self._build_module(n_features)
            if self.encoder is not None or self.decoder is not None:
                check_custom_shapes(
                    module,
                    torch.from_numpy(Xn_head),
                    self._n_encoder_outputs(),
                    self.n_components,
                    n_features,
                )
            _pca_start.start(self, module, X, Xn, partial=partial)  # [pca-start]
            net = self._make_net(module, loss_name, device, corruption=self._corruption(Xn_range))
            self.net_ = net.initialize()
            self.reconstruction_loss_ = loss_name
            self._net_params = self._network_params()
            self._train(X, Xn, seed, early=early, partial=partial)
        return self

    def _check_code_width(self, n_features):
        """Refuse (``_overcomplete == "error"``) or warn of (``"warn"``) a code
        wider than the input.

        Raises
        ------
        ValueError
            If ``n_components > n_features`` and the code could copy its input.
        """
        if self.n_components <= n_features or self._overcomplete == "allow":
            return
        if self._overcomplete == "error":
            raise ValueError(
                f"n_components={self.n_components} must be at most the number of "
                f"features, n_features={n_features}: lower n_components."
            )
        warnings.warn(
            f"n_components={self.n_components} is more than n_features={n_features}: "
            f"an unusual {type(self).__name__}, whose extra code dimensions carry "
            "nothing. Lower n_components unless you mean it.",
            UserWarning,
            stacklevel=5,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def _continue_fit(self, X, *, partial):
        """Train the fitted network on ``X``: one epoch (``partial_fit``) or a
        warm-started fit. On any error, the estimator is left as it was."""
        how = "partial_fit" if partial else "fit with warm_start=True"
        X = self._check_continued_rows(X, how)
        self._check_unchanged_params(how)
        chunked = isinstance(X, ChunkedRows)
        if chunked:
            stats = X.scan(moments=False)  # validates every row
            x_min, x_max = stats.min.min, stats.max.max
        else:
            x_min, x_max = X.min, X.max
        if self.output_activation_ == "sigmoid" and (x_min() < 0.0 or x_max() > 1.0):
            chosen = (
                " (chosen by output_activation='auto' because the first X lay in [0, 1])"
                if self.output_activation == "auto"
                else ""
            )
            raise ValueError(
                f"{how} got X with values in [{x_min():g}, {x_max():g}], but this "
                f"{type(self).__name__} was fitted with output_activation_='sigmoid'"
                f"{chosen}: its binary cross-entropy needs targets in [0, 1]. Scale X to "
                "[0, 1] as the first data was, or start over (fit with warm_start=False) "
                "with output_activation='identity'."
            )
        early = self.early_stopping and not partial
        if early and len(X) < 2:
            raise ValueError(
                f"n_samples={len(X)} is too few to hold out a validation split for "
                "early_stopping=True: pass more samples or set early_stopping=False."
            )
        Xn = self._network_input(X)
        seed = torch_seed(self.random_state)
        # A seed of its own for each continuation, drawn from random_state and
        # the epochs run so far: a sequence of calls is reproducible, and its
        # epochs do not repeat the batch order or noise of the first fit's.
        run_seed = int(np.random.SeedSequence([seed, self.n_iter_]).generate_state(1)[0])
        before = self._training_state()
        try:
            with seeded(run_seed, self.net_.device):
                self._train(X, Xn, seed, early=early, partial=partial)
        except FitInterrupted:
            raise  # completed epochs are kept, as in fit
        except KeyboardInterrupt:
            self._restore_training_state(before)
            raise FitInterrupted(
                f"{how} interrupted before an epoch completed: {type(self).__name__} is left "
                f"as it was before the call (n_iter_={self.n_iter_})."
            ) from None
        except BaseException:
            self._restore_training_state(before)
            raise

    def _train(self, X, Xn, split_seed, *, early, partial):
        """Train ``net_`` on the network's input ``Xn`` (``X`` normalised: see
        :meth:`_network_input`) and record the result: one epoch
        (``partial``) or up to ``max_epochs``. For data read by chunks (``X``
        a :class:`~skae._chunked.ChunkedRows`), ``Xn`` is None: see
        :meth:`_block_data`.

        ``net_`` is initialized: new, or the fitted one continued. Its
        training settings (epochs, batch size, learning rate, split,
        callbacks) are set from the current parameters; skorch's
        ``NeuralNet.partial_fit`` then trains on from its current weights,
        optimizer state and history. Run inside :func:`seeded`.

        Raises
        ------
        FitInterrupted
            On Ctrl-C after at least one epoch of this call completed: the
            completed epochs are recorded and kept (a ConvergenceWarning
            says so).
        KeyboardInterrupt
            On Ctrl-C before an epoch of this call completed.
        """
        net = self.net_
        n_samples, n_features = X.shape
        if Xn is None:
            train_data, valid_data = self._block_data(X, split_seed, early=early)
        elif early:
            train_idx, valid_idx = train_test_split(
                np.arange(n_samples), test_size=self.validation_fraction, random_state=split_seed
            )
            valid_data = TensorData(Xn, np.sort(valid_idx))
            train_data = TensorData(Xn, np.sort(train_idx))
        else:
            train_data, valid_data = TensorData(Xn), None
        train_data, valid_data = _pca_start.held_out(  # [pca-start] rows for its choice
            self, X, Xn, train_data, valid_data, split_seed, partial=partial
        )
        train_split = None if valid_data is None else predefined_split(valid_data)
        max_epochs = 1 if partial else self._max_epochs(len(train_data))
        lr = resolve_lr(self.lr, None if partial else len(train_data))
        net.set_params(
            max_epochs=max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            verbose=self.verbose,
            lr=lr,
        )
        # partial_fit knows no horizon: it trains at the constant lr (which
        # set_params(lr=...) may change between calls: skae.learning_rates).
        schedule = "constant" if partial else self.lr_schedule
        n_steps = max_epochs * math.ceil(len(train_data) / self.batch_size)
        # New callbacks when their parameters changed; otherwise the net's own
        # carry on (each resets itself at on_train_begin), so that a run of
        # partial_fit calls logs as one training (verbose) rather than many,
        # also when each call has its own lr.
        settings = (n_features, early, self.tol, self.n_iter_no_change, bool(self.verbose))
        settings += (schedule,) if schedule == "constant" else (schedule, lr, n_steps)
        settings += tuple(id(cb) for cb in self.callbacks or ())
        if getattr(net, "_skae_callback_settings", None) != settings:
            scheduler = lr_schedule_callback(schedule, lr, n_steps)
            net.callbacks = self._callbacks(n_features, early, scheduler)
            net.initialize_callbacks()
            net._skae_callback_settings = settings
        n_before = len(net.history)
        interrupted = False
        with interrupt_on_sigint():
            try:
                net.partial_fit(train_data)
            except TrainingInterrupted:
                interrupted = True
            finally:
                # The fitted estimator must not keep the training data alive.
                net.train_split = None
        del train_data, valid_data, train_split
        n_epochs = self._record_history(net, n_before, interrupted, early)
        _pca_start.after_train(self, early=early, interrupted=interrupted)  # [pca-start]
        self.lr_ = lr
        self.stopped_early_ = not (partial or interrupted) and n_epochs < max_epochs
        if not (partial or interrupted) and n_epochs == max_epochs:
            self._warn_if_still_improving(net.history[n_before:], early, n_features)
        self._after_fit(X)
        if interrupted:
            kept = self.best_epoch_ if early else self.n_iter_
            warnings.warn(
                f"Training was interrupted (KeyboardInterrupt) after {n_epochs} completed "
                f"epoch(s): {type(self).__name__} keeps the weights of epoch {kept} "
                f"(n_iter_={self.n_iter_}). Call fit again to train it fully.",
                ConvergenceWarning,
                stacklevel=5,
            )
            raise FitInterrupted(
                f"fit interrupted after {n_epochs} completed epoch(s); the estimator keeps "
                "their weights."
            )

    def _warn_if_still_improving(self, rows, early, n_features):
        """Warn (``ConvergenceWarning``) when a fit that ran all of ``max_epochs``
        ended while its monitored loss still fell by more than ``tol`` an epoch.

        The fall is the best loss of the last ``n_iter_no_change`` epochs
        against the best before them, per epoch: a slope, so that one noisy
        epoch neither raises nor hides the warning, and a schedule that has
        annealed its rate to 0 (where each epoch gains little) does not
        warn. As :class:`~sklearn.neural_network.MLPRegressor` warns when
        ``max_iter`` ends its fit before ``tol`` says it converged.

        Parameters
        ----------
        rows : skorch history rows
            The epochs of this fit.
        early : bool
            Whether the validation loss was monitored (``early_stopping``).
        n_features : int
        """
        monitor = "valid_loss" if early else "train_loss"
        curve = [row[monitor] for row in rows]
        window = min(self.n_iter_no_change, len(curve) - 1)
        if window < 1:
            return
        fall = (min(curve[:-window]) - min(curve[-window:])) / window
        threshold = self.tol * (n_features if self._feature_reduction == "sum" else 1)
        if fall > threshold:
            loss = "validation" if early else "training"
            warnings.warn(
                f"{type(self).__name__} reached max_epochs={len(curve)} while its {loss} "
                f"loss still fell by {fall:.2g} an epoch over the last {window} epochs, "
                f"more than tol ({threshold:.2g} for this loss): raise max_epochs to train "
                "it fully.",
                ConvergenceWarning,
                stacklevel=6,
            )

    def _block_data(self, X, split_seed, *, early):
        """Training (and validation) data read block by block from ``X``, a
        :class:`~skae._chunked.ChunkedRows`: two :class:`~skae._net.BlockData`,
        the second None without ``early``.

        ``X`` is cut into blocks of consecutive rows (:func:`skae._chunked.blocks`:
        at most a chunk each, and at least ``MIN_BLOCKS`` of them). Early
        stopping holds out ``validation_fraction`` of the *blocks*, chosen
        as :func:`~sklearn.model_selection.train_test_split` chooses rows for
        in-memory data, so that validation reads are sequential too.
        """
        blocks = _chunked.blocks(*X.shape)

        def read(start, stop):
            return self._normalize(X.read(start, stop))

        sizes = {"read_rows": X.chunk_rows, "buffer_rows": _chunked.buffer_rows(X.shape[1])}
        if not early:
            return BlockData(read, blocks, **sizes), None
        train_idx, valid_idx = train_test_split(
            np.arange(len(blocks)), test_size=self.validation_fraction, random_state=split_seed
        )
        return (
            BlockData(read, blocks[np.sort(train_idx)], **sizes),
            BlockData(read, blocks[np.sort(valid_idx)], **sizes),
        )

    def _record_history(self, net, n_before, interrupted, early):
        """Add this call's epochs (``net.history`` after row ``n_before``) to
        ``n_iter_`` and the loss curves, and set ``best_epoch_``.

        After an interrupt, only the completed epochs count, and the weights
        go back to the last of them (or, with early stopping, to the best of
        them, as an uninterrupted fit would end). ``validation_loss_curve_``
        holds NaN for earlier epochs trained without a validation split.
        Returns the number of epochs this call completed.

        Raises
        ------
        KeyboardInterrupt
            If the interrupt came before an epoch of this call completed:
            there is nothing of it to keep.
        """
        callbacks = dict(net.callbacks_)
        stopper = callbacks["early_stopping"]
        if interrupted:
            checkpoint = callbacks["last_epoch_weights"].checkpoint_
            if checkpoint is None:
                raise KeyboardInterrupt("fit interrupted in its first epoch: nothing was kept.")
            n_history, weights = checkpoint
            if early and stopper.best_model_weights_ is not None:
                weights = stopper.best_model_weights_
            net.module_.load_state_dict(weights)
            del net.history[n_history:]  # the interrupted epoch's partial row
        n_epochs = len(net.history) - n_before
        rows = net.history[n_before:]
        n_previous = getattr(self, "n_iter_", 0)
        self.n_iter_ = n_previous + n_epochs
        self.loss_curve_ = [*getattr(self, "loss_curve_", []), *(r["train_loss"] for r in rows)]
        if early:
            previous = getattr(self, "validation_loss_curve_", None) or [math.nan] * n_previous
            self.validation_loss_curve_ = [*previous, *(r["valid_loss"] for r in rows)]
            # skorch numbers epochs by their row in net.history.
            self.best_epoch_ = n_previous + int(stopper.best_epoch_) - n_before
            self.best_validation_loss_ = self.validation_loss_curve_[self.best_epoch_ - 1]
        else:
            self.validation_loss_curve_ = None
            self.best_epoch_ = self.best_validation_loss_ = None
        return n_epochs

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

    def _network_params(self):
        """The parameters the fitted network depends on (all but ``RUN_PARAMS``),
        as they are now: the values a continued training must still have."""
        return {
            name: copy.copy(value) if isinstance(value, (dict, list)) else value
            for name, value in self.get_params(deep=False).items()
            if name not in RUN_PARAMS
        }

    def _check_unchanged_params(self, how):
        """Refuse to continue training after a change of a parameter the network
        depends on (``n_components``, the architecture's, ``noise``...).

        Raises
        ------
        ValueError
            Naming each changed parameter, its fitted and its current value.
        """
        built = getattr(self, "_net_params", None)
        if built is None:  # a pickle from before partial_fit existed
            return
        now = self._network_params()
        changed = [
            f"{name}={now[name]!r} (fitted with {built[name]!r})"
            for name in built
            if name in now and not _same_param(built[name], now[name])
        ]
        if changed:
            fix = "call fit" if how == "partial_fit" else "set warm_start=False"
            raise ValueError(
                f"{how} continues the fitted network, but parameters changed since it was "
                f"built: {', '.join(changed)}. Only {', '.join(sorted(RUN_PARAMS))} may "
                f"change between trainings of one network: set the others back, or {fix} to "
                "train a new one."
            )

    def _training_state(self):
        """What a continued training changes: weights, optimizer state, the
        length of the history and the fitted attributes (to undo a failed call)."""
        net = self.net_
        return {
            "module": copy.deepcopy(net.module_.state_dict()),
            "optimizer": copy.deepcopy(net.optimizer_.state_dict()),
            "n_history": len(net.history),
            "attributes": self._fitted_attributes(),
        }

    def _restore_training_state(self, state):
        net = self.net_
        net.train_split = None
        net.module_.load_state_dict(state["module"])
        net.optimizer_.load_state_dict(state["optimizer"])
        del net.history[state["n_history"] :]
        for name in self._fitted_attributes():
            delattr(self, name)
        vars(self).update(state["attributes"])

    def _fit_scaling(self, X, stats=None):
        """Choose the output activation and set ``mean_`` / ``scale_`` from ``X``,
        or, for data read by chunks, from its :class:`~skae._chunked.ChunkStats`."""
        if stats is None:
            x_min, x_max = X.min, X.max
        else:
            x_min, x_max = stats.min.min, stats.max.max
        if self.output_activation == "auto":
            in_unit_interval = x_min() >= 0.0 and x_max() <= 1.0
            self.output_activation_ = "sigmoid" if in_unit_interval else "identity"
        else:
            self.output_activation_ = self.output_activation
        if self.output_activation_ == "sigmoid":
            if x_min() < 0.0 or x_max() > 1.0:
                raise ValueError(
                    "output_activation='sigmoid' needs X in [0, 1] (binary "
                    "cross-entropy targets): scale X, e.g. with MinMaxScaler, "
                    "or use output_activation='identity'."
                )
            self.mean_ = np.zeros(X.shape[1])
            self.scale_ = 1.0
        else:
            # Centre each feature as PCA does and divide by one global scale
            # (the root mean variance): the network sees values of order 1
            # whatever the data's units, while the loss stays proportional to
            # the squared error in the user's units, the quantity PCA
            # minimises. Per-feature scaling is the user's choice
            # (StandardScaler in the pipeline), as with PCA.
            if stats is None:
                self.mean_ = X.mean(axis=0, dtype=np.float64)
                variances = self._column_variances(X)
            else:
                self.mean_, variances = stats.mean, stats.var
            rms = float(np.sqrt(np.mean(variances)))
            self.scale_ = rms if rms > 0 else 1.0

    def _column_variances(self, X):
        """Per-feature variance of ``X`` about ``mean_``, float64, computed chunk by
        chunk (``X.var`` would make a float64 temporary of ``X``'s size)."""
        squares = np.zeros(X.shape[1])
        step = max(1, 2**20 // X.shape[1])
        for start in range(0, len(X), step):
            deviation = X[start : start + step] - self.mean_
            squares += np.einsum("ij,ij->j", deviation, deviation)
        return squares / len(X)

    def _build_module(self, n_features):
        """The torch module: the built-in encoder and decoder, or the user's."""
        architecture = self._architecture()
        n_outputs = self._n_encoder_outputs()
        for what in ("encoder", "decoder"):
            if getattr(self, what) is None and getattr(self, f"{what}_params"):
                raise ValueError(
                    f"{what}_params is given but {what} is None: the built-in {what} "
                    f"takes no {what}_params. Pass your module class as {what}=, or drop "
                    f"{what}_params."
                )
        if self.encoder is None:
            encoder = architecture.build_encoder(self, n_features, n_outputs)
        else:
            encoder = build_custom_module(
                self.encoder, self.encoder_params, (n_features, n_outputs), "encoder"
            )
        if self.decoder is None:
            decoder = architecture.build_decoder(self, self.n_components, n_features)
        else:
            decoder = build_custom_module(
                self.decoder, self.decoder_params, (self.n_components, n_features), "decoder"
            )
        return self._module_class(
            encoder, decoder, self._code_activation(), code_dropout=self._code_dropout()
        )

    def _make_net(
        self,
        module,
        loss_name,
        device,
        *,
        corruption=None,
    ):
        """The skorch net that trains ``module`` (also rebuilt by :func:`skae.load`).

        Its training settings (epochs, split, callbacks) are set by
        :meth:`_train` before each training call."""
        optimizer, optimizer_kwargs = resolve_optimizer(
            self.optimizer, self.optimizer_params, device
        )
        return AutoencoderNet(
            module=module,
            criterion=AutoencoderLoss,
            criterion__reconstruction=loss_name,
            criterion__penalties=self._loss_penalties(),
            criterion__feature_reduction=self._feature_reduction,
            corruption=corruption,
            optimizer=optimizer,
            lr=resolve_lr(self.lr),  # _train sets each run's rate
            batch_size=self.batch_size,
            train_split=None,
            device=device,
            verbose=self.verbose,
            **optimizer_kwargs,
        )

    def _restore_net(self, module_state, device):
        """Rebuild ``net_`` from the fitted attributes and saved weights (for :func:`skae.load`).

        Raises
        ------
        RuntimeError, ValueError, TypeError, AttributeError
            If the weights or attributes do not fit the network the
            parameters build.
        """
        with torch.random.fork_rng():
            module = self._build_module(self.n_features_in_)
            _pca_start.attach(self, module, self.n_features_in_)  # [pca-start]
        net = self._make_net(module, self.reconstruction_loss_, device)
        net.initialize()
        net.module_.load_state_dict(module_state, strict=True)
        self.net_ = net
        if not hasattr(self, "n_components_"):  # a model file from before 0.3
            self.n_components_ = self.n_components
        self._net_params = self._network_params()
        return self

    def _max_epochs(self, n_train):
        """Resolve ``max_epochs="auto"``: a budget of optimizer steps, not epochs.

        About ``auto_steps`` mini-batch updates of the architecture, as 10 to
        ``auto_max_epochs`` epochs (200 dense, 400 conv): a large data set
        (MNIST: 469 batches an epoch) gets ~20 epochs (~11 for conv), a small
        one (a few hundred rows) the most epochs, fewer updates than the
        budget.
        """
        if self.max_epochs != "auto":
            return self.max_epochs
        n_batches = math.ceil(n_train / self.batch_size)
        architecture = self._architecture()
        epochs = math.ceil(architecture.auto_steps / n_batches)
        return int(np.clip(epochs, 10, architecture.auto_max_epochs))

    def _callbacks(self, n_features, early_stopping, scheduler=None):
        # tol is per feature: a loss summed over features (the VAE's) is
        # compared with tol * n_features.
        threshold = self.tol * (n_features if self._feature_reduction == "sum" else 1)
        stopper = EarlyStoppingWithCooldown(
            monitor="valid_loss" if early_stopping else "train_loss",
            patience=self.n_iter_no_change,
            threshold=threshold,
            threshold_mode="abs",
            load_best=early_stopping,
            sink=print if self.verbose else noop,
        )
        progress = [("progress_bar", ProgressBar())] if self.verbose else []
        schedule = [] if scheduler is None else [("lr_schedule", scheduler)]
        return [
            # First: it must see every completed epoch, also the one
            # EarlyStopping ends training after.
            ("last_epoch_weights", LastEpochWeights()),
            ("early_stopping", stopper),
            *_pca_start.callbacks(self, early_stopping),  # [pca-start]
            *schedule,
            *progress,
            *list(self.callbacks or []),
        ]

    # ------------------------------------------------------------- hooks
    @abstractmethod
    def _architecture(self):
        """The :class:`skae._architectures.Architecture` of the built-in network."""

    def _n_encoder_outputs(self):
        return self.n_components

    def _code_activation(self):
        return "identity"

    def _code_dropout(self):
        """A module applied to the code the decoder sees in training (ordered codes)."""
        return None

    def _loss_penalties(self):
        """Per-sample penalty terms added to the reconstruction error."""
        return []

    def _corruption(self, Xn):
        """Corruption of training batches, given the network's input ``Xn``: for
        data read by chunks, two rows holding each feature's minimum and
        maximum (all that a corruption may take from ``Xn``)."""
        return None

    def _after_fit(self, X):
        """Set diagnostics of the fitted model from the (validated) training data."""

    # ---------------------------------------------------------- model files
    def save(self, path):
        """Write the fitted estimator to a model file that is safe to open.

        The parameters go to the file's header as JSON, the network's weights
        and fitted arrays as `safetensors <https://huggingface.co/docs/safetensors>`_
        tensors, with a SHA-256 digest of the whole. :func:`skae.load` reads
        it back without unpickling, so a file from someone else cannot run
        code when opened (a pickle can). Pickle and joblib keep working for
        files you only open yourself. Your own ``encoder`` / ``decoder`` are
        stored as their weights and class name; :func:`skae.load` rebuilds
        them from the classes you name in its ``modules``.

        Parameters
        ----------
        path : str or path-like
            Where to write, e.g. ``"model.safetensors"``.

        Returns
        -------
        path : str or path-like
            ``path``, as given.

        Raises
        ------
        FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError
            If ``path``'s folder does not exist or is a file, ``path`` is a
            folder, or this user may not write there: checked before any
            work, the message names the folder.
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ValueError
            If a parameter is not a JSON value: ``callbacks``, a
            ``RandomState`` as ``random_state``, an optimizer class outside
            ``torch.optim``.

        See Also
        --------
        skae.save : The same for a whole Pipeline, ColumnTransformer or
            FeatureUnion holding skae estimators.
        skae.load : Read the file back.
        """
        return save(self, path)

    # ------------------------------------------------------------ inference
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
        (:class:`~skae._net.SparseRowBatches`); None for data read by chunks
        (:meth:`_block_data` reads it)."""
        if isinstance(X, ChunkedRows):
            return None
        if isinstance(X, SparseRows):
            return X.network_input(self._normalize)
        return self._normalize(X)

    def _normalize(self, X):
        """The network's input: ``(X - mean_) / scale_`` as a new C-ordered
        float32 array (computed in float32: no float64 temporaries)."""
        Xn = np.array(X, dtype=np.float32, order="C")
        if self.output_activation_ != "sigmoid":  # for "sigmoid": mean_ 0, scale_ 1
            Xn -= self.mean_.astype(np.float32)
            Xn /= np.float32(self.scale_)
        return Xn

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
        n_rows = len(X)
        n_values = max(1, math.prod(X.shape[1:]), math.prod(out.shape[1:]))
        step = max(1, (_chunked.CHUNK_VALUES // n_values) // INFERENCE_BATCH_SIZE)
        step *= INFERENCE_BATCH_SIZE
        with tqdm(
            total=math.ceil(n_rows / INFERENCE_BATCH_SIZE),
            desc=f"{type(self).__name__} {desc}",
            unit="batch",
            leave=False,
            disable=not (self.verbose and n_rows >= PROGRESS_MIN_ROWS),
        ) as bar:
            for start in range(0, n_rows, step):
                rows = slice(start, min(start + step, n_rows))
                out[rows] = fn(X[rows])
                bar.update(math.ceil((rows.stop - rows.start) / INFERENCE_BATCH_SIZE))
        return out

    def _encode(self, X_rows):
        """Codes of a few rows of ``X`` (user's units), a float32 host tensor."""
        return self.net_.apply_batched(
            self.net_.module_.encode, torch.from_numpy(self._normalize(X_rows))
        )

    def _decode(self, Z):
        """Decode a tensor of codes to rows in the units of ``X``, float64."""
        out = self.net_.apply_batched(self.net_.module_.decode, Z)
        if self.output_activation_ == "sigmoid":
            out = torch.sigmoid(out)
        out = out.numpy().astype(np.float64)
        out *= self.scale_
        out += self.mean_
        return out

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
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but inverse_transform expects codes "
                f"with n_components_={self.n_components_} columns (the output of "
                "transform)."
            )
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
            A memmap, h5py or zarr array is read and validated chunk by
            chunk, as in :meth:`transform`.

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        tags.input_tags.sparse = True
        return tags
