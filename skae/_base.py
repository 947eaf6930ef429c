"""Estimator layer: the scikit-learn contract shared by every skae estimator.

A public estimator subclasses :class:`BaseAutoencoder`, declares its
parameters in ``__init__`` and ``_parameter_constraints``, and builds its
network in ``_build_module``. Validation, the seeded training through
:class:`skae._net.AutoencoderNet`, ``transform`` / ``inverse_transform`` /
``score`` and the fitted attributes live here, once.
"""

from __future__ import annotations

import math
import numbers
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.helper import predefined_split
from skorch.utils import noop

from ._modules import (
    AutoencoderModule,
    ConvDecoder,
    ConvEncoder,
    DenseDecoder,
    DenseEncoder,
)
from ._net import AutoencoderLoss, AutoencoderNet, TensorData

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


# Optimizer steps aimed at by ``max_epochs="auto"``: dense networks, and
# convolutional ones, whose updates cost ~10x more on a CPU (MNIST: ~11
# epochs, about 5 minutes on 2 cores; measured 0.27x PCA's test MSE at
# n_components=32).
AUTO_STEPS = 10_000
AUTO_STEPS_CONV = 5_000

# With verbose >= 1, transform / inverse_transform / score_samples show a
# progress bar from this many rows on (a fraction of a second below it).
PROGRESS_MIN_ROWS = 10_000


def resolve_device(device):
    """The torch device a fit runs on.

    ``"auto"`` -> ``"cuda"`` when PyTorch sees a GPU, else ``"cpu"``; any
    other value is returned as given.

    Raises
    ------
    ValueError
        If a CUDA device is asked for and PyTorch sees no CUDA GPU.
    """
    if str(device) == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but PyTorch sees no CUDA GPU (torch.cuda.is_available() "
            "is False; a CPU-only torch build, or no driver): use device='auto' to fall "
            "back to the CPU, or device='cpu'."
        )
    return device


def _check_layer_sizes(sizes, name="hidden_layer_sizes", min_len=0):
    values = list(sizes)
    if len(values) < min_len or not all(isinstance(v, numbers.Integral) and v >= 1 for v in values):
        at_least = f"at least {min_len} " if min_len else ""
        raise ValueError(f"{name} must hold {at_least}positive integers, got {sizes!r}.")
    return [int(v) for v in values]


def resolve_image_shape(image_shape, n_features):
    """The image geometry as ``(*spatial, channels)``.

    ``None``: a square single-channel image ``(s, s, 1)`` when ``n_features``
    is a perfect square ``s * s``, else a 1-D signal ``(n_features, 1)``.
    ``(length,)``: 1-D, one channel. ``(height, width)``: one channel.
    ``(height, width, channels)``: rows hold the image flattened in
    channels-last order, as ``image.reshape(-1)`` of a numpy image.

    Raises
    ------
    ValueError
        If the shape does not hold exactly ``n_features`` values.
    """
    if image_shape is None:
        side = math.isqrt(n_features)
        return (side, side, 1) if side * side == n_features else (n_features, 1)
    shape = tuple(image_shape)
    if (
        len(shape) not in (1, 2, 3)
        or not all(isinstance(v, numbers.Integral) for v in shape)
        or min(shape) < 1
    ):
        raise ValueError(
            f"image_shape must be (length,), (height, width) or (height, width, channels) "
            f"of positive ints, got {image_shape!r}."
        )
    if math.prod(shape) != n_features:
        raise ValueError(
            f"image_shape={image_shape!r} holds {math.prod(shape)} values but X has "
            f"n_features={n_features}: each row must be one image flattened; pass the "
            "matching image_shape, or None for a square or 1-D default."
        )
    shape = tuple(int(v) for v in shape)
    return shape + (1,) if len(shape) < 3 else shape


@contextmanager
def _seeded(seed, device):
    """Seed torch for the duration of a fit without touching the caller's RNG."""
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        devices = [torch.device(device).index or 0]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class for skae estimators. Not public: use a subclass.

    A variant is network x corruption x penalty. Subclasses choose them by
    overriding small hooks: ``_architecture`` ("dense" or "conv", read from
    an ``architecture`` parameter where the class has one), ``_module_class``
    and ``_n_encoder_outputs`` (the VAE's Gaussian head), ``_code_activation``
    (sparse codes), ``_loss_penalties`` (sparsity, KL divergence),
    ``_corruption`` (denoising), ``_feature_reduction`` (a likelihood summed
    over features for the ELBO) and ``_after_fit`` (fitted diagnostics).
    """

    _module_class = AutoencoderModule
    _feature_reduction = "mean"
    # Undercomplete by default: a code wider than the input can copy it.
    # Denoising and sparse autoencoders may be overcomplete (the noise or the
    # penalty, not the width, stops the identity map).
    _allow_overcomplete = False

    _parameter_constraints: dict = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "output_activation": [StrOptions({"auto", "sigmoid", "identity"})],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "device": [str, torch.device],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
    }

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data, any real dtype; converted to float32 for the
            network. Never modified.
        y : None
            Ignored; present for API consistency (Pipeline, GridSearchCV).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``X`` holds NaN or infinity, is empty or not 2-D, has fewer
            features than ``n_components``, or if the training loss diverges.
            On any error no fitted state is left behind.
        TypeError
            If ``X`` is sparse.
        """
        # Forget a previous fit first, so that no error (parameter validation
        # included) leaves a stale model behind.
        self._forget_fit()
        try:
            self._fit(X)
        except BaseException:
            self._forget_fit()
            raise
        return self

    def _forget_fit(self):
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X):
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        n_samples, n_features = X.shape
        if self._architecture() == "conv":
            self.image_shape_ = resolve_image_shape(getattr(self, "image_shape", None), n_features)
        if self.n_components > n_features and not self._allow_overcomplete:
            raise ValueError(
                f"n_components={self.n_components} must be at most the number of "
                f"features, n_features={n_features}: lower n_components."
            )
        min_samples = 2 if self.early_stopping else 1
        if n_samples < min_samples:
            raise ValueError(
                f"n_samples={n_samples} is too few to hold out a validation "
                "split for early_stopping=True: pass more samples or set "
                "early_stopping=False."
            )

        if self.output_activation == "auto":
            in_unit_interval = X.min() >= 0.0 and X.max() <= 1.0
            self.output_activation_ = "sigmoid" if in_unit_interval else "identity"
        else:
            self.output_activation_ = self.output_activation
        if self.output_activation_ == "sigmoid":
            if X.min() < 0.0 or X.max() > 1.0:
                raise ValueError(
                    "output_activation='sigmoid' needs X in [0, 1] (binary "
                    "cross-entropy targets): scale X, e.g. with MinMaxScaler, "
                    "or use output_activation='identity'."
                )
            self.mean_ = np.zeros(n_features)
            self.scale_ = 1.0
        else:
            # Centre each feature as PCA does and divide by one global scale
            # (the root mean variance): the network sees values of order 1
            # whatever the data's units, while the loss stays proportional to
            # the squared error in the user's units, the quantity PCA
            # minimises. Per-feature scaling is the user's choice
            # (StandardScaler in the pipeline), as with PCA.
            self.mean_ = X.mean(axis=0, dtype=np.float64)
            rms = float(np.sqrt(np.mean(X.var(axis=0, dtype=np.float64))))
            self.scale_ = rms if rms > 0 else 1.0
        Xn = self._normalize(X)
        loss_name = (
            "binary_crossentropy" if self.output_activation_ == "sigmoid" else "squared_error"
        )

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = resolve_device(self.device)
        X_all = torch.from_numpy(Xn)
        if self.early_stopping:
            train_idx, valid_idx = train_test_split(
                np.arange(n_samples), test_size=self.validation_fraction, random_state=seed
            )
            train_split = predefined_split(TensorData(X_all[np.sort(valid_idx)]))
            X_train = X_all[np.sort(train_idx)]
        else:
            train_split, X_train = None, X_all

        with _seeded(seed, device):
            net = self._make_net(
                self._build_module(n_features),
                loss_name,
                device,
                corruption=self._corruption(Xn),
                max_epochs=self._max_epochs(len(X_train)),
                train_split=train_split,
                callbacks=self._callbacks(),
            )
            net.fit(TensorData(X_train), None)

        history = net.history
        self.net_ = net
        self.n_iter_ = len(history)
        self.loss_curve_ = list(history[:, "train_loss"])
        self.validation_loss_curve_ = (
            list(history[:, "valid_loss"]) if self.early_stopping else None
        )
        self.reconstruction_loss_ = loss_name
        self._after_fit(X_all)
        return self

    def _make_net(
        self,
        module,
        loss_name,
        device,
        *,
        corruption=None,
        max_epochs=1,
        train_split=None,
        callbacks=None,
    ):
        """The skorch net that trains ``module`` (also rebuilt by :func:`skae.load`)."""
        return AutoencoderNet(
            module=module,
            criterion=AutoencoderLoss,
            criterion__reconstruction=loss_name,
            criterion__penalties=self._loss_penalties(),
            criterion__feature_reduction=self._feature_reduction,
            corruption=corruption,
            optimizer=self._optimizer_class(),
            lr=self.lr,
            max_epochs=max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks,
            device=device,
            verbose=self.verbose,
        )

    def _max_epochs(self, n_train):
        """Resolve ``max_epochs="auto"``: a budget of optimizer steps, not epochs.

        About ``AUTO_STEPS`` mini-batch updates (``AUTO_STEPS_CONV`` for a
        convolutional network), as 10 to 200 epochs: a large data set (MNIST:
        469 batches an epoch) gets ~20 epochs (~11 for conv), a small one (a
        few hundred rows) the 200 epochs it needs to see as many updates.
        """
        if self.max_epochs != "auto":
            return self.max_epochs
        steps = AUTO_STEPS_CONV if self._architecture() == "conv" else AUTO_STEPS
        n_batches = math.ceil(n_train / self.batch_size)
        return int(np.clip(math.ceil(steps / n_batches), 10, 200))

    def _optimizer_class(self):
        if isinstance(self.optimizer, str):
            return OPTIMIZERS[self.optimizer]
        return self.optimizer

    def _callbacks(self):
        monitor = "valid_loss" if self.early_stopping else "train_loss"
        stopper = EarlyStopping(
            monitor=monitor,
            patience=self.n_iter_no_change,
            threshold=self.tol,
            threshold_mode="abs",
            load_best=self.early_stopping,
            sink=print if self.verbose else noop,
        )
        progress = [("progress_bar", ProgressBar())] if self.verbose else []
        return [("early_stopping", stopper), *progress, *list(self.callbacks or [])]

    def _loss_penalties(self):
        """Per-sample penalty terms added to the reconstruction error."""
        return []

    def _corruption(self, Xn):
        """Corruption of training batches, given the network's input ``Xn``."""
        return None

    def _after_fit(self, Xt):
        """Set diagnostics of the fitted model from the training tensor."""

    def _architecture(self):
        return getattr(self, "architecture", "dense")

    def _n_encoder_outputs(self):
        return self.n_components

    def _code_activation(self):
        return "identity"

    def _build_module(self, n_features):
        """The torch module: encoder and decoder of the chosen architecture."""
        n_out = self._n_encoder_outputs()
        if self._architecture() == "dense":
            sizes = _check_layer_sizes(self.hidden_layer_sizes)
            encoder = DenseEncoder(n_features, sizes, n_out, self.activation)
            decoder = DenseDecoder(self.n_components, sizes, n_features, self.activation)
        else:
            spatial, n_channels = self.image_shape_[:-1], self.image_shape_[-1]
            channels = _check_layer_sizes(self.channels, "channels", min_len=1)
            if self.kernel_size % 2 == 0:
                raise ValueError(
                    f"kernel_size={self.kernel_size} must be odd so that 'same' padding "
                    "keeps the image size: use 3, 5, ..."
                )
            encoder = ConvEncoder(
                spatial, n_channels, channels, self.kernel_size, n_out, self.activation
            )
            decoder = ConvDecoder(
                self.n_components,
                spatial,
                n_channels,
                channels,
                self.kernel_size,
                self.activation,
                self.upsampling,
            )
        if self._module_class is AutoencoderModule:
            return AutoencoderModule(encoder, decoder, self._code_activation())
        return self._module_class(encoder, decoder)

    # ---------------------------------------------------------- model files
    def save(self, path):
        """Write the fitted estimator to a model file that is safe to open.

        The parameters go to the file's header as JSON, the network's weights
        and fitted arrays as `safetensors <https://huggingface.co/docs/safetensors>`_
        tensors, with a SHA-256 digest of the whole. :func:`skae.load` reads
        it back without unpickling, so a file from someone else cannot run
        code when opened (a pickle can). Pickle and joblib keep working for
        files you only open yourself.

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
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ValueError
            If a parameter is not a JSON value: ``callbacks``, a
            ``RandomState`` as ``random_state``, an optimizer class outside
            ``torch.optim``.

        See Also
        --------
        skae.load : Read the file back.
        """
        from ._persistence import save

        return save(self, path)

    # ------------------------------------------------------------ inference
    def _to_tensor(self, X):
        """Validate ``X`` against the fit and return the network's input tensor."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X, torch.from_numpy(self._normalize(X))

    def _normalize(self, X):
        """The network's input: ``(X - mean_) / scale_`` as a new C-ordered
        float32 array (computed in float32: no float64 temporaries)."""
        Xn = np.array(X, dtype=np.float32, order="C")
        if self.output_activation_ != "sigmoid":  # for "sigmoid": mean_ 0, scale_ 1
            Xn -= self.mean_.astype(np.float32)
            Xn /= np.float32(self.scale_)
        return Xn

    def _batched(self, fn, X, desc):
        """``net_.apply_batched`` with a progress bar for large inputs when verbose."""
        show = bool(self.verbose) and len(X) >= PROGRESS_MIN_ROWS
        return self.net_.apply_batched(fn, X, progress=show, desc=f"{type(self).__name__} {desc}")

    def _decode(self, Z):
        """Decode codes to the network's (standardised) output space, float64."""
        out = self._batched(self.net_.module_.decode, Z, "decode")
        if self.output_activation_ == "sigmoid":
            out = torch.sigmoid(out)
        return out.numpy().astype(np.float64) * self.scale_ + self.mean_

    def transform(self, X):
        """Encode ``X`` into its code (latent representation).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data with the same features as in ``fit``.

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
        _, Xt = self._to_tensor(X)
        return self._batched(self.net_.module_.encode, Xt, "encode").numpy()

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features), dtype float64
            The decoder's reconstruction, in the units of the training data.

        Raises
        ------
        ValueError
            If ``X`` is not 2-D with ``n_components`` columns, or holds NaN
            or infinity.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but inverse_transform expects codes "
                f"with n_components={self.n_components} columns (the output of "
                "transform)."
            )
        return self._decode(torch.from_numpy(np.array(Z, dtype=np.float32)))

    def reconstruct(self, X):
        """Encode and decode ``X``: ``inverse_transform(transform(X))``.

        For a denoising autoencoder this is the denoised ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features), dtype float64
        """
        _, Xt = self._to_tensor(X)
        return self._reconstruct_tensor(Xt)

    def _reconstruct_tensor(self, Xt):
        return self._decode(self._batched(self.net_.module_.encode, Xt, "encode"))

    def score_samples(self, X):
        """Negative reconstruction error of each sample.

        The mean over features of the squared difference between a sample and
        its reconstruction, in the units of ``X``, with its sign flipped so
        that higher is better. Unusual samples reconstruct badly: the opposite
        of this is an anomaly score.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
            ``-mean((X - reconstruct(X)) ** 2, axis=1)``.
        """
        X, Xt = self._to_tensor(X)
        X_rec = self._reconstruct_tensor(Xt)
        return -np.mean((np.asarray(X, dtype=np.float64) - X_rec) ** 2, axis=1)

    def score(self, X, y=None):
        """Mean negative reconstruction error (higher is better).

        Lets :class:`~sklearn.model_selection.GridSearchCV` choose
        ``n_components`` and other parameters without labels.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``score_samples(X).mean()``: minus the mean squared
            reconstruction error.
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        return tags
