"""The sparse autoencoder: a penalty keeps few code units active."""

from __future__ import annotations

import numbers
import warnings
from typing import Literal

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from ._architectures import IMAGE_ATTRIBUTES, NETWORK_CHOICE_PARAMS, ArchitectureChoice
from ._base import BaseAutoencoder
from ._common_params import COMMON_ATTRIBUTES, COMMON_PARAMS, OVERCOMPLETE_N_COMPONENTS
from ._losses import KLSparsity, L1Activity
from ._parameters import Attr, Param, declare
from ._target import TARGET_ATTRIBUTES, TARGET_WEIGHT, SupervisedBottleneck

__all__ = ["SparseAutoencoder"]

SPARSITY_PARAMS = (
    Param(
        "sparsity",
        "kl",
        (StrOptions({"l1", "kl"}),),
        '{"kl", "l1"}',
        """The penalty: KL divergence from a target mean activation (sigmoid
        code units), or L1 activity (ReLU code units).""",
    ),
    Param(
        "sparsity_weight",
        "auto",
        (Interval(numbers.Real, 0, None, closed="left"), StrOptions({"auto"})),
        'float or "auto"',
        """Strength of the penalty, relative to the reconstruction error (a
        mean over features). ``"auto"``: 1e-2 for ``"kl"`` and 1e-4 for
        ``"l1"`` (the activity penalty of the Keras autoencoder tutorial).
        Typical: 1e-3 to 1 for ``"kl"``, 1e-6 to 1e-3 for ``"l1"``.""",
    ),
    Param(
        "sparsity_target",
        0.05,
        (Interval(numbers.Real, 0, 1, closed="neither"),),
        "float",
        'Target mean activation ``rho`` of each code unit (``"kl"`` only).',
    ),
)
SPARSITY_ATTRIBUTES = (
    Attr(
        "mean_activation_",
        "ndarray of shape (n_components,), dtype float64",
        "Mean code value of each unit on the data passed to ``fit``.",
    ),
    Attr(
        "sparsity_",
        "float",
        """Fraction of the code values of the data passed to ``fit`` that are
        inactive: at most 5 % of the largest code value (exact zeros for ReLU
        codes; for sigmoid codes, at most about 0.05, the default target).""",
    ),
)


@declare(
    OVERCOMPLETE_N_COMPONENTS,
    *SPARSITY_PARAMS,
    TARGET_WEIGHT,
    *NETWORK_CHOICE_PARAMS,
    *COMMON_PARAMS,
    attributes=(*SPARSITY_ATTRIBUTES, *IMAGE_ATTRIBUTES, *TARGET_ATTRIBUTES, *COMMON_ATTRIBUTES),
)
class SparseAutoencoder(SupervisedBottleneck, ArchitectureChoice, BaseAutoencoder):
    """Sparse autoencoder: a penalty keeps few code units active.

    ``sparsity="kl"`` (default): sigmoid code units and the penalty
    ``sparsity_weight * sum_j KL(rho || rho_hat_j)`` between a target mean
    activation ``rho = sparsity_target`` and each unit's mean activation in
    the mini-batch, as in Ng's notes. ``sparsity="l1"``: ReLU code units and
    an L1 penalty ``sparsity_weight * sum_j |code_j|`` on each sample's code
    (an activity regularizer), which gives exact zeros. The measured sparsity
    of the training codes is reported after fitting.

    The KL penalty is the default because sigmoid units cannot die: with
    ReLU code units a unit whose input is negative for every sample gets no
    gradient and stays silent for good, and with few code units this loses
    much of the code (on MNIST with 8 code units, half of them were dead
    even without a penalty). When that happens ``fit`` warns.

    With ``target_weight > 0``, ``fit(X, y)`` also trains a linear head on
    the code to predict ``y`` (class labels or numbers, some rows possibly
    unlabelled), so that the code keeps what predicts ``y`` as well as what
    reconstructs ``X``: the supervised autoencoder of Le et al. (2018).
    :meth:`predict` gives the head's prediction, a by-product.

    <parameters and attributes>

    See Also
    --------
    AutoencoderTransformer, DenoisingAutoencoder

    References
    ----------
    .. [1] A. Ng, "Sparse autoencoder", CS294A lecture notes, Stanford
       University, 2011.
    .. [2] A. Makhzani and B. Frey, "k-Sparse autoencoders", ICLR 2014
       (on L1 activity penalties as a baseline).
    .. [3] F. Chollet, "Building autoencoders in Keras", The Keras Blog,
       2016 (the L1 activity penalty of 1e-4 per sample).
    .. [4] L. Le, A. Patterson and M. White, "Supervised autoencoders:
       improving generalization performance with unsupervised regularizers",
       NeurIPS 2018 (``target_weight``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAutoencoder
    >>> X = load_digits().data / 16.0
    >>> sae = SparseAutoencoder(n_components=32, max_epochs=3, random_state=0).fit(X)
    >>> 0.0 <= sae.sparsity_ <= 1.0
    True
    """

    _overcomplete = "allow"

    def __init__(
        self,
        n_components=2,
        *,
        sparsity="kl",
        sparsity_weight: float | Literal["auto"] = "auto",
        sparsity_target=0.05,
        target_weight=0.0,
        architecture="dense",
        hidden_layer_sizes=(256, 128),
        image_shape=None,
        image_layout="auto",
        channels=(16, 32),
        kernel_size=3,
        upsampling="nearest",
        activation="relu",
        encoder=None,
        encoder_params=None,
        decoder=None,
        decoder_params=None,
        output_activation="auto",
        max_epochs: int | Literal["auto"] = "auto",
        batch_size=128,
        lr: float | Literal["auto"] = "auto",
        lr_schedule="cooldown",
        optimizer: str | type = "adam",
        optimizer_params=None,
        device: str | torch.device = "auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        verbose=0,
        callbacks=None,
        warm_start=False,
    ):
        self.n_components = n_components
        self.sparsity = sparsity
        self.sparsity_weight = sparsity_weight
        self.sparsity_target = sparsity_target
        self.target_weight = target_weight
        self.architecture = architecture
        self.hidden_layer_sizes = hidden_layer_sizes
        self.image_shape = image_shape
        self.image_layout = image_layout
        self.channels = channels
        self.kernel_size = kernel_size
        self.upsampling = upsampling
        self.activation = activation
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.decoder = decoder
        self.decoder_params = decoder_params
        self.output_activation = output_activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.device = device
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start

    def _code_activation(self):
        return "relu" if self.sparsity == "l1" else "logistic"

    def _sparsity_weight(self):
        if self.sparsity_weight == "auto":
            return 1e-4 if self.sparsity == "l1" else 1e-2
        return self.sparsity_weight

    def _loss_penalties(self):
        if self.sparsity == "l1":
            return [L1Activity(self._sparsity_weight())]
        return [KLSparsity(self._sparsity_weight(), self.sparsity_target)]

    def _after_fit(self, X):
        codes = self._codes(X).astype(np.float64)
        self.mean_activation_ = codes.mean(axis=0)
        peak = np.abs(codes).max() if codes.size else 0.0
        self.sparsity_ = float(np.mean(np.abs(codes) <= 0.05 * peak)) if peak > 0 else 1.0
        if self.sparsity == "l1":
            n_dead = int(np.sum(codes.max(axis=0) <= 0.0))
            if n_dead:
                warnings.warn(
                    f"{n_dead} of {self.n_components} ReLU code units are zero for every "
                    "training sample (dead units): the code has only "
                    f"{self.n_components - n_dead} informative dimensions. Use "
                    "sparsity='kl' (sigmoid code units do not die), a smaller "
                    "sparsity_weight, or more n_components.",
                    ConvergenceWarning,
                    stacklevel=5,
                )
