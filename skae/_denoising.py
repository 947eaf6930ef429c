"""The denoising autoencoder: trained to undo a corruption of its input."""

from __future__ import annotations

import numbers
from typing import Literal

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._architectures import IMAGE_ATTRIBUTES, NETWORK_CHOICE_PARAMS, ArchitectureChoice
from ._base import BaseAutoencoder
from ._common_params import (
    COMMON_ATTRIBUTES,
    COMMON_PARAMS,
    OVERCOMPLETE_N_COMPONENTS,
)
from ._corruption import NOISES
from ._ordered import EXPLAINED_VARIANCE_RATIO, ORDERED, OrderedCodes
from ._parameters import Param, declare
from ._target import TARGET_ATTRIBUTES, TARGET_WEIGHT, SupervisedBottleneck

__all__ = ["DenoisingAutoencoder"]

NOISE = Param(
    "noise",
    "gaussian",
    (StrOptions(set(NOISES)),),
    '{"gaussian", "masking", "salt_and_pepper"}',
    """How each training mini-batch is corrupted, afresh at every step
    (validation batches, :meth:`transform` and :meth:`reconstruct` see
    ``X`` as given): ``"gaussian"`` adds normal noise of standard deviation
    ``noise_level`` and clips to the training data's range; ``"masking"``
    sets a fraction ``noise_level`` of the inputs to 0; ``"salt_and_pepper"``
    sets them to their feature's smallest or largest training value. See
    :ref:`denoising`.""",
)
NOISE_LEVEL = Param(
    "noise_level",
    0.3,
    (Interval(numbers.Real, 0, None, closed="left"),),
    "float",
    """For ``noise="gaussian"``, the noise's standard deviation in the units
    of ``X`` (``0.5`` on pixels in [0, 1] is "sigma = 0.5", ``127.5`` on
    pixels in [0, 255]); for ``"masking"`` and ``"salt_and_pepper"``, the
    fraction of inputs corrupted, at most 1. ``0`` trains on clean inputs.
    See :ref:`denoising`.""",
)


@declare(
    OVERCOMPLETE_N_COMPONENTS,
    NOISE,
    NOISE_LEVEL,
    ORDERED,
    TARGET_WEIGHT,
    *NETWORK_CHOICE_PARAMS,
    *COMMON_PARAMS,
    attributes=(
        EXPLAINED_VARIANCE_RATIO,
        *IMAGE_ATTRIBUTES,
        *TARGET_ATTRIBUTES,
        *COMMON_ATTRIBUTES,
    ),
)
class DenoisingAutoencoder(SupervisedBottleneck, OrderedCodes, ArchitectureChoice, BaseAutoencoder):
    """Denoising autoencoder: trained to recover clean inputs from corrupted ones.

    Each training mini-batch is corrupted afresh (Gaussian, masking or
    salt-and-pepper noise) and the network learns to reconstruct the clean
    batch (Vincent et al., 2008). Validation batches, :meth:`transform` and
    :meth:`reconstruct` see the data as given: ``reconstruct(X_noisy)``
    returns the denoised ``X``. With ``architecture="conv"`` it is the
    standard convolutional image denoiser.

    With ``target_weight > 0``, ``fit(X, y)`` also trains a linear head on
    the code to predict ``y`` (class labels or numbers, some rows possibly
    unlabelled), so that the code keeps what predicts ``y`` as well as what
    reconstructs ``X``: the supervised autoencoder of Le et al. (2018); the
    corruption applies to ``X`` only. :meth:`predict` gives the head's
    prediction, a by-product.

    <parameters and attributes>

    See Also
    --------
    ConvolutionalAutoencoder, AutoencoderTransformer

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol,
       "Extracting and composing robust features with denoising
       autoencoders", ICML 2008.
    .. [2] O. Rippel, M. A. Gelbart and R. P. Adams, "Learning ordered
       representations with nested dropout", ICML 2014 (``ordered=True``).
    .. [3] L. Le, A. Patterson and M. White, "Supervised autoencoders:
       improving generalization performance with unsupervised regularizers",
       NeurIPS 2018 (``target_weight``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> X = load_digits().data / 16.0
    >>> dae = DenoisingAutoencoder(noise_level=0.3, max_epochs=3, random_state=0).fit(X)
    >>> noisy = np.clip(X + np.random.default_rng(0).normal(0, 0.3, X.shape), 0, 1)
    >>> dae.reconstruct(noisy).shape
    (1797, 64)
    """

    _overcomplete = "allow"

    def __init__(
        self,
        n_components=2,
        *,
        noise="gaussian",
        noise_level=0.3,
        ordered=False,
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
        self.noise = noise
        self.noise_level = noise_level
        self.ordered = ordered
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

    def _corruption(self, Xn):
        if self.noise in ("masking", "salt_and_pepper") and self.noise_level > 1:
            raise ValueError(
                f"noise_level={self.noise_level} is a fraction of inputs for "
                f"noise={self.noise!r}: choose a value in [0, 1]."
            )
        # Xn is the network's input, (X - mean_) / scale_ (float32): a
        # standard deviation of noise_level in X's units is
        # noise_level / scale_ there, whatever X's range or output_activation.
        level = self.noise_level / self.scale_ if self.noise == "gaussian" else self.noise_level
        # Each feature's training range, in the network's units.
        low, high = Xn.min(axis=0), Xn.max(axis=0)
        if self.noise == "gaussian":
            # Clip to the range of the whole training set (in X's units),
            # not of each feature: a pixel that is always 0 in training must
            # still see noise, or the network never learns to ignore it.
            low_x = float(np.min(low * self.scale_ + self.mean_))
            high_x = float(np.max(high * self.scale_ + self.mean_))
            low, high = (low_x - self.mean_) / self.scale_, (high_x - self.mean_) / self.scale_
        zero = (0.0 - self.mean_) / self.scale_
        return NOISES[self.noise](level, low, high, zero)
