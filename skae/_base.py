"""Estimator layer: the scikit-learn contract every skae estimator shares.

:class:`BaseAutoencoder` holds ``fit``, the fitted attributes and the hooks
a public estimator picks its parts through; it inherits ``partial_fit`` and
the warm-started ``fit`` from :class:`skae._continued.ContinuedTraining`, and
``transform`` / ``inverse_transform`` / ``reconstruct`` / ``score_samples`` /
``score`` from :class:`skae._inference.InferenceMixin`, and the hooks of a
supervised bottleneck (``target_weight``) from :class:`skae._target.TargetHooks`.
A public estimator writes its ``__init__`` and declares its parameters with
:func:`skae._parameters.declare` (the ones every estimator takes are in
:mod:`skae._common_params`); its hooks:

* ``_architecture()`` -- the built-in network (:mod:`skae._architectures`);
* ``_module_class`` and ``_n_encoder_outputs()`` -- the VAE's Gaussian head;
* ``_code_activation()`` -- bounded or rectified codes (sparse);
* ``_prefix_widths()`` -- the code prefixes the loss also decodes (ordered
  codes, :mod:`skae._ordered`);
* ``_loss_penalties()`` and ``_feature_reduction`` -- loss terms
  (:mod:`skae._losses`);
* ``_corruption()`` -- noise on training batches (:mod:`skae._corruption`);
* ``_after_fit()`` -- fitted diagnostics.

A new fit (:meth:`BaseAutoencoder._fit`) reads as its steps: validate the
data, set the input scaling (:mod:`skae._scaling`), hold rows out
(:func:`skae._training.training_data`, the one place), build the network
(:mod:`skae._network`; the PCA start, :mod:`skae._pca_start`, and a target
head fitted on the untrained codes are part of its construction), train it and
select an epoch through one path, :meth:`BaseAutoencoder._train`, which a
continued training shares (:mod:`skae._training` plans the run from the
parameters, and :meth:`skae._net.AutoencoderNet.train_run` trains on from
the net's weights and keeps the best held-out epoch), refit what was
selected (the start kept: PCA of all rows and a head fitted on its codes,
:meth:`BaseAutoencoder._refit_start`), set the diagnostics of the model
returned (:meth:`BaseAutoencoder._diagnose`), and only then re-raise a
Ctrl-C. Each fitted attribute is written in one place. Data larger than memory (a memmap, an h5py or
zarr array) is validated and read chunk by chunk (:mod:`skae._chunked`);
sparse data stays a CSR matrix (:mod:`skae._sparse_input`).
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)

from ._architectures import check_custom_shapes
from ._chunked import ChunkedRows
from ._continued import ContinuedTraining
from ._device import resolve_device, seeded, torch_seed
from ._inference import InferenceMixin
from ._io import register_estimator_class, save
from ._net import FitInterrupted
from ._network import build_module, make_net
from ._nn import AutoencoderModule
from ._pca_start import attach, start_from_pca, start_outcome
from ._scaling import Scaling
from ._sparse_input import SparseRows
from ._target import TargetHooks
from ._training import (
    check_fit_rows,
    history_attributes,
    n_held_out,
    network_params,
    plan_run,
    raise_if_interrupted,
    training_data,
    warn_if_unconverged,
)
from ._validation import check_code_width


class BaseAutoencoder(
    ContinuedTraining,
    InferenceMixin,
    TargetHooks,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class for skae estimators. Not public: use a subclass.

    A variant is network x corruption x penalty; see the module docstring
    for the hooks a subclass overrides. Every subclass is registered for
    :func:`skae.load` by its class name.
    """

    _module_class = AutoencoderModule
    _feature_reduction = "mean"
    # Whether the estimator takes the PCA start (``pca_start``, skae._pca_start).
    _takes_pca_start = False
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
            one mini-batch of rows at a time, never more (the PCA start
            densifies none: :mod:`skae._pca_start`).
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            The target where ``target_weight > 0`` (-1 or NaN: unlabelled); else ignored.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``X`` holds NaN or infinity, is empty or 1-D, has fewer than 2 rows (as PCA),
            has fewer features than ``n_components``, if its image shape disagrees with
            ``image_shape`` / ``image_layout``, if a parameter is invalid, if your
            ``encoder`` / ``decoder`` return the wrong shapes, if the training loss
            diverges, or if ``y`` is not a target ``target_weight > 0`` can fit. On any
            error no fitted state is left behind. With ``warm_start=True`` on a fitted
            estimator, also if ``X`` has other features than the fitted model, lies outside
            [0, 1] for ``output_activation_="sigmoid"``, or if a parameter other than the
            training ones changed since the network was built (see ``warm_start``); on any
            such error the fitted model is left as it was.

        Notes
        -----
        With ``warm_start=True`` and a fitted estimator, ``fit`` continues
        training the fitted network instead of starting over (see
        ``warm_start``), as :class:`~sklearn.neural_network.MLPRegressor`
        does; a Ctrl-C then keeps the epochs completed so far, or the model
        as it was before the call if none completed.

        Data read by chunks (a memmap, an h5py or zarr array) is read once
        to validate it and set the scaling, then once per epoch in shuffled
        blocks of consecutive rows; early stopping then holds out blocks,
        not rows. See :ref:`out-of-core` in the user guide.
        """
        if self.warm_start and self._has_network():
            self._continue_fit(X, y, partial=False)
            return self
        # Forget a previous fit first, so that no error (parameter validation
        # included) leaves a stale model behind.
        self._forget_fit()
        try:
            self._fit(X, y)
        except FitInterrupted:
            raise  # Ctrl-C: the completed epochs are kept (AutoencoderNet.train_run)
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

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, y=None, *, partial=False, classes=None):
        """A new fit, in the order it happens: validate, scale, split, build,
        train and select, refit what was selected, set the diagnostics of
        the model returned, then re-raise a Ctrl-C."""
        X, sample_shape = self._validate_samples(X, reset=True)
        self._fit_shapes(X, sample_shape, partial)
        Xn, Xn_range, Xn_head = self._fit_scaling(X)
        labels = self._fit_target(y, X, Xn, classes)  # None without a target
        # partial_fit has no validation split (as MLPRegressor's).
        early = self.early_stopping and not partial
        start_is_candidate = not partial and self._starts_from_pca()
        n_valid = n_held_out(
            X.shape[0],
            early=early,
            select=start_is_candidate,
            validation_fraction=self.validation_fraction,
        )
        seed = torch_seed(self.random_state)
        train_data, valid_data = training_data(
            X, Xn, self._normalize, n_valid=n_valid, split_seed=seed, y=labels
        )
        device = resolve_device(self.device)
        with seeded(seed, device):
            self.net_, start_ratio = self._build_net(
                train_data, X.shape[1], Xn_range, Xn_head, device
            )
            result = self._train(
                X, train_data, valid_data, early=early, partial=partial,
                start_is_candidate=start_is_candidate,
            )  # fmt: skip
        if self.best_epoch_ == 0:  # the selection kept the start: refit it on all rows
            start_ratio = self._refit_start(X, Xn, labels)
        self._diagnose(X, start_ratio)
        raise_if_interrupted(self, result)
        return self

    def _refit_start(self, X, Xn, labels):
        """Refit the kept start on every row of the fit, as a search refits the
        model it chose: its PCA, fitted on the training rows to choose
        without bias, becomes PCA of ``X`` (exact and cheap), and a target
        head is fitted on its codes (:meth:`_fit_head_on_codes`). Returns the
        PCA's ``explained_variance_ratio_``."""
        rows = training_data(X, Xn, self._normalize, n_valid=0, split_seed=None, y=labels)[0]
        sigmoid = self.output_activation_ == "sigmoid"
        ratio = start_from_pca(
            self.net_.module_, rows, X.shape[1], self.n_components, logits=sigmoid
        )
        self._fit_head_on_codes(rows)
        return ratio

    def _fit_shapes(self, X, sample_shape, partial):
        """Check the data's shape against the parameters; set ``input_shape_``,
        the architecture's geometry and ``n_components_``."""
        n_samples, n_features = X.shape
        check_fit_rows(n_samples, partial)
        self.input_shape_ = sample_shape
        self._architecture().fit_geometry(self, n_features, sample_shape)
        check_code_width(self, n_features)
        self.n_components_ = self.n_components

    def _fit_scaling(self, X):
        """Choose the output activation, set ``mean_`` / ``scale_`` from ``X``
        (:meth:`skae._scaling.Scaling.fit`) and return the network's input.

        Returns
        -------
        Xn : ndarray, SparseRowBatches or None
            See :meth:`_network_input`.
        Xn_range : ndarray of shape (n, n_features)
            Rows with each feature's extremes (all the corruption may take).
        Xn_head : ndarray of shape (<= 2, n_features)
            The first rows, to check your own encoder / decoder on.
        """
        if isinstance(X, (ChunkedRows, SparseRows)):
            # Data larger than memory: one pass validates it and gives the
            # scaling statistics; training reads it again, block by block.
            # Sparse data: the statistics come from the sparse matrix, and
            # training densifies one batch of rows at a time.
            stats = X.scan()
            self.output_activation_, self.mean_, self.scale_ = Scaling.fit(
                X, self.output_activation, stats
            )
            Xn_range = self._normalize(np.stack([stats.min, stats.max]))
            return self._network_input(X), Xn_range, self._normalize(X.read(0, min(2, X.shape[0])))
        self.output_activation_, self.mean_, self.scale_ = Scaling.fit(X, self.output_activation)
        # The one float32 copy of the training data fit holds; the training
        # and validation splits index into it.
        Xn = self._normalize(X)
        return Xn, Xn, Xn[:2]

    def _starts_from_pca(self):
        """Whether this fit starts from PCA's solution: the estimator takes the
        start (``_takes_pca_start``), ``pca_start=True`` and the built-in
        network."""
        return bool(
            self._takes_pca_start
            and self.pca_start
            and self.encoder is None
            and self.decoder is None
        )

    def _build_net(self, train_data, n_features, Xn_range, Xn_head, device):
        """The network (with the PCA start where it applies, its target head a
        linear model of the untrained codes) and its skorch net, initialised;
        sets ``reconstruction_loss_``. Returns the net and the start's PCA
        ``explained_variance_ratio_`` (None without a start)."""
        module = build_module(self, n_features)
        if self.encoder is not None or self.decoder is not None:
            check_custom_shapes(
                module,
                torch.from_numpy(Xn_head),
                self._n_encoder_outputs(),
                self.n_components,
                n_features,
            )
        sigmoid = self.output_activation_ == "sigmoid"
        start_ratio = None
        if self._starts_from_pca():
            start_ratio = start_from_pca(
                module, train_data, n_features, self.n_components, logits=sigmoid
            )
        self._start_head(module, train_data)
        self.reconstruction_loss_ = "binary_crossentropy" if sigmoid else "squared_error"
        net = make_net(
            self,
            module,
            self.reconstruction_loss_,
            device,
            corruption=self._corruption(Xn_range),
        )
        self._net_params = network_params(self)
        return net.initialize(), start_ratio

    def _train(self, X, train_data, valid_data, *, early, partial, start_is_candidate=False):
        """Train ``net_`` on ``train_data`` and record the run: one epoch
        (``partial``) or up to ``max_epochs``; with a validation split
        ``valid_data``, ``net_`` ends on the epoch it selects
        (:meth:`skae._net.AutoencoderNet.train_run`; the start counted only
        where ``start_is_candidate``). ``net_`` is new or the fitted one
        continued. Sets the history's attributes (``n_iter_``, the loss
        curves, ``best_epoch_``, ``best_validation_loss_``), ``lr_`` and
        ``stopped_early_``. Run inside :func:`seeded`.

        Returns the run's :class:`~skae._net.RunResult`, for
        :func:`skae._training.raise_if_interrupted` once the fitted
        attributes are set. A Ctrl-C before an epoch of this call completed
        raises ``KeyboardInterrupt``.
        """
        run = plan_run(
            self, len(train_data), X.shape[1], early=early, partial=partial,
            start_is_candidate=start_is_candidate,
        )  # fmt: skip
        result = self.net_.train_run(train_data, valid_data, run)
        previous = {
            name: vars(self)[name]
            for name in ("n_iter_", "loss_curve_", "validation_loss_curve_")
            if name in vars(self)
        }
        vars(self).update(history_attributes(previous, result))
        self.lr_ = run.lr
        n_run = len(result.rows)
        self.stopped_early_ = not (partial or result.interrupted) and n_run < run.max_epochs
        if not (partial or result.interrupted) and n_run == run.max_epochs:
            warn_if_unconverged(type(self).__name__, run, result.rows)
        return result

    def _diagnose(self, X, start_ratio):
        """Set the diagnostics of the model returned, from the (validated)
        training data ``X``: ``pca_start_``, ``pca_explained_variance_ratio_``
        (``start_ratio``, its start's PCA) and each estimator's own
        (:meth:`_after_fit`)."""
        if self._takes_pca_start:
            self.pca_start_ = start_outcome(self.net_.module_, self.best_epoch_)
            self.pca_explained_variance_ratio_ = start_ratio
        self._after_fit(X)

    def _restore_net(self, module_state, device):
        """Rebuild ``net_`` from the fitted attributes and saved weights (for :func:`skae.load`).

        Raises
        ------
        RuntimeError, ValueError, TypeError, AttributeError
            If the weights or attributes do not fit the network the
            parameters build.
        """
        with torch.random.fork_rng():
            module = build_module(self, self.n_features_in_)
            attach(self, module, self.n_features_in_)
        net = make_net(self, module, self.reconstruction_loss_, device)
        net.initialize()
        net.module_.load_state_dict(module_state, strict=True)
        self.net_ = net
        if not hasattr(self, "n_components_"):  # a model file from before 0.3
            self.n_components_ = self.n_components
        self._net_params = network_params(self)
        return self

    # ------------------------------------------------------------- hooks
    @abstractmethod
    def _architecture(self):
        """The :class:`skae._architectures.Architecture` of the built-in network."""

    def _n_encoder_outputs(self):
        return self.n_components

    def _code_activation(self):
        return "identity"

    def _prefix_widths(self):
        """The code prefixes the loss also decodes (ordered codes), or None."""
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
            Where to write, e.g. ``"model.safetensors"``; its folder must
            exist. Returned as given.

        Returns
        -------
        path : str or path-like

        Raises
        ------
        OSError
            If ``path``'s folder is missing or a file, ``path`` is a folder,
            or it is not writable (see :func:`skae.save`), before any work.
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        tags.input_tags.sparse = True
        return tags
